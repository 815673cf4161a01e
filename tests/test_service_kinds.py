"""Service, Endpoints and Ingress: defaults, validation, allocation and old apiVersions as the
Kubernetes 1.32 API server has them, worded as it words them. Each rule's source is named in
its kind's module (cluster/kinds/service.py, endpoints.py, ingress.py)."""

import ipaddress

import pytest

from cluster import apply, kinds, store
from cluster.errors import Invalid
from tests.builders import seed_manifest

SVC = kinds.get("Service")
EP = kinds.get("Endpoints")
ING = kinds.get("Ingress", "networking.k8s.io")
CIDR = ipaddress.ip_network("10.96.0.0/12")
EXTENSIONS_WARNING = ("extensions/v1beta1 Ingress is deprecated in v1.14+, unavailable in "
                      "v1.22+; use networking.k8s.io/v1 Ingress")
NETWORKING_WARNING = ("networking.k8s.io/v1beta1 Ingress is deprecated in v1.19+, unavailable "
                      "in v1.22+; use networking.k8s.io/v1 Ingress")


# --- builders ----------------------------------------------------------------------------------

def make_svc(name="kubia", *, ports=None, selector=None, **spec):
    spec = {"ports": [{"port": 80, "targetPort": 8080}] if ports is None else ports,
            "selector": {"app": "kubia"} if selector is None else selector, **spec}
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name}, "spec": spec}


def make_ep(name="external", subsets=None):
    subsets = subsets if subsets is not None else [
        {"addresses": [{"ip": "10.244.1.5"}], "ports": [{"port": 8080}]}]
    return {"apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": name},
            "subsets": subsets}


def make_ing(name="kubia", *, api_version="networking.k8s.io/v1", spec=None):
    spec = spec if spec is not None else {"rules": [{"host": "kubia.example.com", "http": {
        "paths": [{"path": "/", "pathType": "Prefix", "backend": {
            "service": {"name": "kubia", "port": {"number": 80}}}}]}}]}
    return {"apiVersion": api_version, "kind": "Ingress", "metadata": {"name": name},
            "spec": spec}


def create(cluster, manifest, **kw):
    return store.create(cluster, manifest, **kw).object


def refusal(cluster, manifest):
    with pytest.raises(Invalid) as caught:
        store.create(cluster, manifest)
    return caught.value.message


def causes(cluster, manifest):
    """(field, message) of each cause of the Invalid a create is answered with."""
    with pytest.raises(Invalid) as caught:
        store.create(cluster, manifest)
    return [(c["field"], c["message"]) for c in caught.value.details["causes"]]


def cluster_ip(obj):
    return ipaddress.ip_address(obj["spec"]["clusterIP"])


# --- the kinds as discovery shows them ---------------------------------------------------------

def test_names_short_names_and_categories_are_kubectls():
    assert (SVC.api_version, SVC.plural, SVC.short_names, SVC.categories) == (
        "v1", "services", ("svc",), ("all",))
    assert (EP.api_version, EP.plural, EP.singular, EP.short_names, EP.categories) == (
        "v1", "endpoints", "endpoints", ("ep",), ())
    # `kubectl get all` leaves Endpoints and Ingresses out: they are in no category.
    assert (ING.api_version, ING.plural, ING.short_names, ING.categories) == (
        "networking.k8s.io/v1", "ingresses", ("ing",), ())
    assert kinds.resolve("extensions/v1beta1", "Ingress") == (ING, EXTENSIONS_WARNING)
    assert kinds.resolve("networking.k8s.io/v1beta1", "Ingress") == (ING, NETWORKING_WARNING)


# --- the seed's Service ------------------------------------------------------------------------

def test_the_seeds_service_is_refused_on_the_targetport_line_with_the_comment_explained(cluster):
    # `targetPort: 8080# ...` has no space before '#', so YAML reads one string, and a string
    # targetPort is a port name: IsValidPortName finds three things wrong with it.
    report = apply.apply_text(cluster, seed_manifest("Service"))
    assert not report.ok and report.applied == []
    value = '"8080# 서비스가 포워드할 컨테이너 포트"'
    assert [(p.line, p.field, p.message) for p in report.problems] == [
        (8, "spec.ports[0].targetPort",
         f'Service "kubia" is invalid: spec.ports[0].targetPort: Invalid value: {value}: '
         "must be no more than 15 characters"),
        (8, "spec.ports[0].targetPort",
         f'Service "kubia" is invalid: spec.ports[0].targetPort: Invalid value: {value}: '
         "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)"),
        (8, "spec.ports[0].targetPort",
         f'Service "kubia" is invalid: spec.ports[0].targetPort: Invalid value: {value}: '
         "must contain at least one letter (a-z)"),
    ]
    assert {p.hint for p in report.problems} == {
        "YAML reads `8080# ...` as one string: a comment needs a space before #, write "
        "`8080 # ...`"}
    assert list(store.list_objects(cluster, SVC)[0]) == []


def test_the_seeds_service_with_the_space_gets_every_default(cluster):
    report = apply.apply_text(cluster, seed_manifest("Service").replace("8080#", "8080 #"))
    assert report.ok, report.problems
    assert report.applied[0].action == "created"
    svc = store.get(cluster, SVC, "default", "kubia")
    spec = svc["spec"]
    assert spec["ports"] == [{"port": 80, "targetPort": 8080, "protocol": "TCP"}]
    assert spec["type"] == "ClusterIP"
    assert spec["sessionAffinity"] == "ClientIP"
    # SetDefaults_Service: ClientIP affinity lasts 10800 s (3 hours) unless told otherwise.
    assert spec["sessionAffinityConfig"] == {"clientIP": {"timeoutSeconds": 10800}}
    assert spec["internalTrafficPolicy"] == "Cluster"
    assert "externalTrafficPolicy" not in spec          # only externally accessible services
    assert spec["ipFamilies"] == ["IPv4"] and spec["ipFamilyPolicy"] == "SingleStack"
    assert spec["clusterIPs"] == [spec["clusterIP"]]
    assert cluster_ip(svc) in CIDR
    # Dynamic allocation takes the upper band: the first 256 addresses stay for requests.
    assert cluster_ip(svc) >= ipaddress.ip_address("10.96.1.1")
    assert svc["status"] == {"loadBalancer": {}}
    assert "generation" not in svc["metadata"]


def test_target_port_defaults_to_port_and_affinity_to_none(cluster):
    spec = create(cluster, make_svc(ports=[{"port": 8080}]))["spec"]
    assert spec["ports"] == [{"port": 8080, "targetPort": 8080, "protocol": "TCP"}]
    assert spec["sessionAffinity"] == "None"
    assert "sessionAffinityConfig" not in spec


def test_a_config_without_client_ip_affinity_is_dropped_by_defaulting(cluster):
    spec = create(cluster, make_svc(sessionAffinityConfig={"clientIP": {"timeoutSeconds": 60}})
                  )["spec"]
    assert spec["sessionAffinity"] == "None" and "sessionAffinityConfig" not in spec


def test_a_named_target_port_is_kept_as_a_name(cluster):
    spec = create(cluster, make_svc(ports=[{"port": 80, "targetPort": "http"}]))["spec"]
    assert spec["ports"][0]["targetPort"] == "http"


def test_a_quoted_number_as_target_port_is_a_name_and_refused_with_a_hint(cluster):
    with pytest.raises(Invalid) as caught:
        store.create(cluster, make_svc(ports=[{"port": 80, "targetPort": "8080"}]))
    [error] = caught.value.errors
    assert str(error) == ('spec.ports[0].targetPort: Invalid value: "8080": must contain at '
                          "least one letter (a-z)")
    assert "write 8080 without quotes" in error.hint


# --- cluster IPs -------------------------------------------------------------------------------

def test_three_services_get_three_distinct_ips_from_the_service_range(cluster):
    ips = [cluster_ip(create(cluster, make_svc(f"svc-{i}"))) for i in range(3)]
    assert len(set(ips)) == 3
    assert all(ip in CIDR for ip in ips)


def test_services_applied_together_get_distinct_ips(cluster):
    text = "---\n".join(seed_manifest("Service").replace("8080#", "8080 #")
                        .replace("name: kubia", f"name: kubia-{i}") for i in range(3))
    report = apply.apply_text(cluster, text)
    assert report.ok, report.problems
    items, _ = store.list_objects(cluster, SVC)
    assert len({s["spec"]["clusterIP"] for s in items}) == 3


def test_a_requested_cluster_ip_is_kept_and_a_second_request_for_it_is_refused(cluster):
    first = create(cluster, make_svc("kube-dns", clusterIP="10.96.0.10"))
    assert first["spec"]["clusterIP"] == "10.96.0.10"
    assert first["spec"]["clusterIPs"] == ["10.96.0.10"]
    assert causes(cluster, make_svc("other", clusterIP="10.96.0.10")) == [
        ("spec.clusterIPs", 'Invalid value: []string{"10.96.0.10"}: failed to allocate IP '
                            "10.96.0.10: provided IP is already allocated")]
    # Namespaces do not matter: the service range is the cluster's.
    create(cluster, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "other"}})
    manifest = make_svc("kube-dns", clusterIP="10.96.0.10")
    manifest["metadata"]["namespace"] = "other"
    assert "provided IP is already allocated" in refusal(cluster, manifest)


def test_a_requested_ip_outside_the_range_is_refused_with_the_range(cluster):
    # ipallocator/interfaces.go ErrNotInRange, as 1.27 to 1.32 word it.
    assert refusal(cluster, make_svc(clusterIP="192.168.1.10")) == (
        'Service "kubia" is invalid: spec.clusterIPs: Invalid value: []string{"192.168.1.10"}: '
        "failed to allocate IP 192.168.1.10: the provided IP (192.168.1.10) is not in the valid "
        "range. The range of valid IPs is 10.96.0.0/12")
    # The network and broadcast addresses are never given out.
    assert "not in the valid range" in refusal(cluster, make_svc(clusterIP="10.96.0.0"))
    assert "not in the valid range" in refusal(cluster, make_svc(clusterIP="10.111.255.255"))


def test_a_cluster_ip_that_is_no_ip_is_refused_by_validation(cluster):
    assert causes(cluster, make_svc(clusterIP="10.96.0.300")) == [
        ("spec.clusterIPs[0]", 'Invalid value: "10.96.0.300": must be a valid IP address, '
                               "(e.g. 10.9.8.7 or 2001:db8::ffff)")]


def test_cluster_ip_and_cluster_ips_must_agree(cluster):
    assert causes(cluster, make_svc(clusterIP="10.96.0.20", clusterIPs=["10.96.0.21"])) == [
        ("spec.clusterIPs", 'Invalid value: []string{"10.96.0.21"}: first value must match '
                            "`clusterIP`")]
    assert causes(cluster, make_svc(clusterIPs=["10.96.0.21"])) == [
        ("spec.clusterIPs", 'Invalid value: []string{"10.96.0.21"}: must be empty when '
                            "`clusterIP` is not specified")]


def test_an_ipv6_cluster_ip_is_refused_on_this_ipv4_cluster(cluster):
    assert causes(cluster, make_svc(clusterIP="fd00::10")) == [
        ("spec.clusterIPs[0]", 'Invalid value: []string{"fd00::10"}: IPv6 is not configured on '
                               "this cluster")]
    assert causes(cluster, make_svc(ipFamilies=["IPv6"])) == [
        ("spec.ipFamilies[0]", 'Invalid value: "IPv6": not configured on this cluster')]
    assert causes(cluster, make_svc(ipFamilyPolicy="RequireDualStack")) == [
        ("spec.ipFamilyPolicy", 'Invalid value: "RequireDualStack": this cluster is not '
                                "configured for dual-stack services")]


def test_prefer_dual_stack_stays_single_on_a_single_stack_cluster(cluster):
    spec = create(cluster, make_svc(ipFamilyPolicy="PreferDualStack"))["spec"]
    assert spec["ipFamilyPolicy"] == "PreferDualStack" and spec["ipFamilies"] == ["IPv4"]


def test_a_deleted_services_ip_can_be_requested_again(cluster):
    ip = create(cluster, make_svc("first"))["spec"]["clusterIP"]
    store.delete(cluster, SVC, "default", "first")
    assert create(cluster, make_svc("second", clusterIP=ip))["spec"]["clusterIP"] == ip


def test_a_dry_run_shows_an_ip_but_keeps_none(cluster):
    shown = create(cluster, make_svc(clusterIP="10.96.0.50"), dry_run=True)
    assert shown["spec"]["clusterIPs"] == ["10.96.0.50"]
    assert create(cluster, make_svc(clusterIP="10.96.0.50"))["spec"]["clusterIP"] == "10.96.0.50"


# --- headless ----------------------------------------------------------------------------------

def test_a_headless_service_gets_no_ip(cluster):
    spec = create(cluster, make_svc(clusterIP="None"))["spec"]
    assert (spec["clusterIP"], spec["clusterIPs"]) == ("None", ["None"])
    # initIPFamilyFields: headless with a selector is single-stack.
    assert (spec["ipFamilyPolicy"], spec["ipFamilies"]) == ("SingleStack", ["IPv4"])
    # Two headless services: "None" is no address, so nothing collides.
    create(cluster, make_svc("other", clusterIP="None"))


def test_a_headless_service_without_selector_requires_dual_stack_even_here(cluster):
    manifest = make_svc(clusterIP="None")
    del manifest["spec"]["selector"]
    spec = create(cluster, manifest)["spec"]
    assert (spec["ipFamilyPolicy"], spec["ipFamilies"]) == ("RequireDualStack",
                                                            ["IPv4", "IPv6"])


def test_a_headless_service_needs_no_ports(cluster):
    assert "ports" not in create(cluster, make_svc(ports=[], clusterIP="None"))["spec"]
    assert causes(cluster, make_svc("no-ports", ports=[])) == [
        ("spec.ports", "Required value")]


def test_a_headless_node_port_service_is_refused(cluster):
    assert causes(cluster, make_svc(type="NodePort", clusterIP="None")) == [
        ("spec.clusterIPs[0]", "Invalid value: \"None\": may not be set to 'None' for NodePort "
                               "services")]


# --- node ports --------------------------------------------------------------------------------

def test_a_node_port_service_gets_a_node_port_per_port_from_the_range(cluster):
    manifest = make_svc(type="NodePort", ports=[{"name": "http", "port": 80, "targetPort": 8080},
                                                {"name": "https", "port": 443,
                                                 "targetPort": 8443}])
    spec = create(cluster, manifest)["spec"]
    node_ports = [p["nodePort"] for p in spec["ports"]]
    assert len(set(node_ports)) == 2
    # Dynamic node ports come from the upper band: 30000-30085 stay for requests.
    assert all(30086 <= p <= 32767 for p in node_ports)
    assert spec["externalTrafficPolicy"] == "Cluster"
    assert spec["internalTrafficPolicy"] == "Cluster"
    assert cluster_ip({"spec": spec}) in CIDR


def test_node_ports_are_unique_across_services(cluster):
    taken = set()
    for i in range(5):
        spec = create(cluster, make_svc(f"np-{i}", type="NodePort"))["spec"]
        taken.add(spec["ports"][0]["nodePort"])
    assert len(taken) == 5


def test_a_requested_node_port_is_kept_and_refused_to_the_next_service(cluster):
    requested = [{"port": 80, "targetPort": 8080, "nodePort": 30123}]
    spec = create(cluster, make_svc("kubia-nodeport", type="NodePort", ports=requested))["spec"]
    assert spec["ports"][0]["nodePort"] == 30123
    assert refusal(cluster, make_svc("second", type="NodePort", ports=requested)) == (
        'Service "second" is invalid: spec.ports[0].nodePort: Invalid value: 30123: provided '
        "port is already allocated")


def test_a_node_port_outside_the_range_is_refused_with_the_range(cluster):
    assert causes(cluster, make_svc(type="NodePort", ports=[{"port": 80, "nodePort": 8080}])) == [
        ("spec.ports[0].nodePort", "Invalid value: 8080: provided port is not in the valid range. "
                                   "The range of valid ports is 30000-32767")]


def test_a_node_port_on_a_cluster_ip_service_is_forbidden(cluster):
    assert causes(cluster, make_svc(ports=[{"port": 80, "nodePort": 30080}])) == [
        ("spec.ports[0].nodePort", "Forbidden: may not be used when `type` is 'ClusterIP'")]


def test_ports_with_one_number_share_one_node_port(cluster):
    ports = [{"name": "dns", "port": 53, "protocol": "UDP"},
             {"name": "dns-tcp", "port": 53, "protocol": "TCP"}]
    spec = create(cluster, make_svc(type="NodePort", ports=ports))["spec"]
    assert spec["ports"][0]["nodePort"] == spec["ports"][1]["nodePort"]


# --- load balancers ----------------------------------------------------------------------------

def test_a_load_balancer_gets_node_ports_and_a_pending_external_ip(cluster):
    svc = create(cluster, make_svc(type="LoadBalancer"))
    spec = svc["spec"]
    assert spec["allocateLoadBalancerNodePorts"] is True
    assert 30000 <= spec["ports"][0]["nodePort"] <= 32767
    assert spec["externalTrafficPolicy"] == "Cluster"
    # No cloud provider: nobody fills in an ingress IP (kubectl shows EXTERNAL-IP <pending>).
    assert svc["status"] == {"loadBalancer": {}}


def test_a_load_balancer_without_node_ports_gets_none(cluster):
    spec = create(cluster, make_svc(type="LoadBalancer", allocateLoadBalancerNodePorts=False)
                  )["spec"]
    assert "nodePort" not in spec["ports"][0]


def test_a_local_load_balancer_gets_a_health_check_node_port(cluster):
    spec = create(cluster, make_svc(type="LoadBalancer", externalTrafficPolicy="Local"))["spec"]
    assert 30000 <= spec["healthCheckNodePort"] <= 32767
    assert spec["healthCheckNodePort"] != spec["ports"][0]["nodePort"]


def test_load_balancer_only_fields_are_forbidden_elsewhere(cluster):
    assert causes(cluster, make_svc(allocateLoadBalancerNodePorts=True,
                                    loadBalancerSourceRanges=["10.0.0.0/8"])) == [
        ("spec.LoadBalancerSourceRanges", "Forbidden: may only be used when `type` is "
                                          "'LoadBalancer'"),
        ("spec.allocateLoadBalancerNodePorts", "Forbidden: may only be used when `type` is "
                                               "'LoadBalancer'")]


def test_an_external_traffic_policy_needs_an_externally_accessible_service(cluster):
    assert causes(cluster, make_svc(externalTrafficPolicy="Local")) == [
        ("spec.externalTrafficPolicy", 'Invalid value: "Local": may only be set for '
                                       "externally-accessible services")]
    assert causes(cluster, make_svc(type="NodePort", externalTrafficPolicy="Nearest")) == [
        ("spec.externalTrafficPolicy", 'Unsupported value: "Nearest": supported values: '
                                       '"Cluster", "Local"')]


# --- ExternalName ------------------------------------------------------------------------------

def test_an_external_name_service_gets_no_ip_and_no_families(cluster):
    spec = create(cluster, make_svc("db", type="ExternalName", externalName="db.example.com.",
                                    ports=[]))["spec"]
    assert spec["externalName"] == "db.example.com."
    for absent in ("clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy",
                   "internalTrafficPolicy", "externalTrafficPolicy"):
        assert absent not in spec, absent


def test_an_external_name_service_needs_a_name_and_no_cluster_ip(cluster):
    assert causes(cluster, make_svc("db", type="ExternalName", ports=[])) == [
        ("spec.externalName", "Required value")]
    assert causes(cluster, make_svc("db", type="ExternalName", externalName="db.example.com",
                                    clusterIP="10.96.0.30")) == [
        ("spec.clusterIPs", "Forbidden: may not be set for ExternalName services")]
    assert causes(cluster, make_svc("db", type="ExternalName", externalName="DB_HOST")) == [
        ("spec.externalName", 'Invalid value: "DB_HOST": a lowercase RFC 1123 subdomain must '
                              "consist of lower case alphanumeric characters, '-' or '.', and "
                              "must start and end with an alphanumeric character (e.g. "
                              "'example.com', regex used for validation is "
                              "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")]


# --- what ValidateService refuses --------------------------------------------------------------

def test_several_ports_need_names_and_names_are_unique(cluster):
    ports = [{"port": 80}, {"port": 443}]
    assert causes(cluster, make_svc(ports=ports)) == [("spec.ports[0].name", "Required value"),
                                                      ("spec.ports[1].name", "Required value")]
    ports = [{"name": "web", "port": 80}, {"name": "web", "port": 443}]
    assert causes(cluster, make_svc(ports=ports)) == [
        ("spec.ports[1].name", 'Duplicate value: "web"')]
    ports = [{"name": "Web", "port": 80}]
    [(field, message)] = causes(cluster, make_svc(ports=ports))
    assert field == "spec.ports[0].name"
    assert message.startswith('Invalid value: "Web": a lowercase RFC 1123 label must consist')


def test_a_port_and_protocol_pair_may_appear_once(cluster):
    ports = [{"name": "a", "port": 80}, {"name": "b", "port": 80}]
    assert causes(cluster, make_svc(ports=ports)) == [
        ("spec.ports[1]", 'Duplicate value: core.ServicePort{Name:"", Protocol:"TCP", '
                          "AppProtocol:(*string)(nil), Port:80, TargetPort:intstr.IntOrString"
                          '{Type:0, IntVal:0, StrVal:""}, NodePort:0}')]
    # The same number over two protocols is two ports (DNS: 53/UDP and 53/TCP).
    create(cluster, make_svc("dns", ports=[{"name": "a", "port": 53, "protocol": "UDP"},
                                           {"name": "b", "port": 53, "protocol": "TCP"}]))


def test_port_numbers_and_protocols_are_checked(cluster):
    assert causes(cluster, make_svc(ports=[{"targetPort": 8080}])) == [
        ("spec.ports[0].port", "Invalid value: 0: must be between 1 and 65535, inclusive")]
    assert causes(cluster, make_svc(ports=[{"port": 70000, "targetPort": 8080}])) == [
        ("spec.ports[0].port", "Invalid value: 70000: must be between 1 and 65535, inclusive")]
    assert causes(cluster, make_svc(ports=[{"port": 80, "protocol": "HTTP"}])) == [
        ("spec.ports[0].protocol", 'Unsupported value: "HTTP": supported values: "SCTP", "TCP", '
                                   '"UDP"')]


def test_session_affinity_and_its_timeout_are_checked(cluster):
    assert causes(cluster, make_svc(sessionAffinity="Cookie")) == [
        ("spec.sessionAffinity", 'Unsupported value: "Cookie": supported values: "ClientIP", '
                                 '"None"')]
    for timeout in (0, 86401):
        config = {"clientIP": {"timeoutSeconds": timeout}}
        assert causes(cluster, make_svc(sessionAffinity="ClientIP",
                                        sessionAffinityConfig=config)) == [
            ("spec.sessionAffinityConfig.clientIP.timeoutSeconds",
             f"Invalid value: {timeout}: must be greater than 0 and less than 86400")]
    config = {"clientIP": {"timeoutSeconds": 86400}}
    spec = create(cluster, make_svc(sessionAffinity="ClientIP", sessionAffinityConfig=config)
                  )["spec"]
    assert spec["sessionAffinityConfig"] == config


def test_an_unknown_type_is_refused(cluster):
    assert causes(cluster, make_svc(type="Internal")) == [
        ("spec.type", 'Unsupported value: "Internal": supported values: "ClusterIP", '
                      '"ExternalName", "LoadBalancer", "NodePort"')]


def test_selector_labels_are_checked(cluster):
    [(field, message)] = causes(cluster, make_svc(selector={"app": "kubia web"}))
    assert field == "spec.selector"
    assert message.startswith('Invalid value: "kubia web": a valid label must be')


def test_a_service_name_is_a_dns_1035_label(cluster):
    assert causes(cluster, make_svc("1kubia")) == [
        ("metadata.name", 'Invalid value: "1kubia": a DNS-1035 label must consist of lower case '
                          "alphanumeric characters or '-', start with an alphabetic character, "
                          "and end with an alphanumeric character (e.g. 'my-name',  or "
                          "'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')")]
    assert causes(cluster, make_svc("kubia.web"))[0][0] == "metadata.name"


def test_external_ips_must_be_plain_addresses(cluster):
    assert causes(cluster, make_svc(externalIPs=["127.0.0.1"])) == [
        ("spec.externalIPs[0]", 'Invalid value: "127.0.0.1": may not be in the loopback range '
                                "(127.0.0.0/8, ::1/128)")]
    # A ClusterIP service with external IPs is externally accessible.
    spec = create(cluster, make_svc(externalIPs=["192.168.10.5"]))["spec"]
    assert spec["externalTrafficPolicy"] == "Cluster"


# --- updates -----------------------------------------------------------------------------------

def seed_fixed():
    return seed_manifest("Service").replace("8080#", "8080 #")


def test_applying_the_same_service_again_changes_nothing(cluster):
    apply.apply_text(cluster, seed_fixed())
    before = store.get(cluster, SVC, "default", "kubia")
    report = apply.apply_text(cluster, seed_fixed())
    assert [a.action for a in report.applied] == ["unchanged"]
    assert store.get(cluster, SVC, "default", "kubia")["spec"] == before["spec"]


def test_a_replace_without_cluster_ip_keeps_the_allocated_one(cluster):
    # patchAllocatedValues: the same manifest may be sent again in a PUT.
    ip = create(cluster, make_svc(type="NodePort"))["spec"]
    written = store.update(cluster, make_svc(type="NodePort")).object
    assert written["spec"]["clusterIP"] == ip["clusterIP"]
    assert written["spec"]["clusterIPs"] == ip["clusterIPs"]
    assert written["spec"]["ports"][0]["nodePort"] == ip["ports"][0]["nodePort"]


def test_the_cluster_ip_may_not_change(cluster):
    svc = create(cluster, make_svc(clusterIP="10.96.0.40"))
    svc["spec"]["clusterIP"] = "10.96.0.41"
    with pytest.raises(Invalid) as caught:
        store.update(cluster, svc)
    assert caught.value.message == (
        'Service "kubia" is invalid: spec.clusterIPs[0]: Invalid value: []string{"10.96.0.41"}: '
        "may not change once set")


def test_turning_a_service_into_a_node_port_allocates_and_back_releases(cluster):
    apply.apply_text(cluster, seed_fixed())
    ip = store.get(cluster, SVC, "default", "kubia")["spec"]["clusterIP"]
    report = apply.apply_text(cluster, seed_fixed().replace("spec:\n", "spec:\n  type: NodePort\n"))
    assert report.ok, report.problems
    spec = store.get(cluster, SVC, "default", "kubia")["spec"]
    node_port = spec["ports"][0]["nodePort"]
    assert 30000 <= node_port <= 32767
    assert spec["clusterIP"] == ip and spec["externalTrafficPolicy"] == "Cluster"
    report = apply.apply_text(cluster, seed_fixed())
    assert report.ok, report.problems
    spec = store.get(cluster, SVC, "default", "kubia")["spec"]
    assert (spec["type"], spec["clusterIP"]) == ("ClusterIP", ip)
    assert "nodePort" not in spec["ports"][0] and "externalTrafficPolicy" not in spec
    # The released node port is free for another service.
    create(cluster, make_svc("other", type="NodePort",
                             ports=[{"port": 80, "nodePort": node_port}]))


def test_an_update_asking_for_a_taken_node_port_is_refused(cluster):
    create(cluster, make_svc("first", type="NodePort", ports=[{"port": 80, "nodePort": 30200}]))
    second = create(cluster, make_svc("second"))
    second["spec"]["type"] = "NodePort"
    second["spec"]["ports"][0]["nodePort"] = 30200
    with pytest.raises(Invalid) as caught:
        store.update(cluster, second)
    assert caught.value.message == ('Service "second" is invalid: spec.ports[0].nodePort: '
                                    "Invalid value: 30200: provided port is already allocated")


def test_an_external_name_service_gives_back_its_ip_and_gets_one_when_it_returns(cluster):
    old_ip = create(cluster, make_svc(clusterIP="10.96.0.60"))["spec"]["clusterIP"]
    svc = store.get(cluster, SVC, "default", "kubia")
    svc["spec"].update(type="ExternalName", externalName="example.com")
    spec = store.update(cluster, svc).object["spec"]
    assert "clusterIP" not in spec and "ipFamilies" not in spec
    assert create(cluster, make_svc("taker", clusterIP=old_ip))["spec"]["clusterIP"] == old_ip
    svc = store.get(cluster, SVC, "default", "kubia")
    svc["spec"]["type"] = "ClusterIP"
    spec = store.update(cluster, svc).object["spec"]
    assert cluster_ip({"spec": spec}) in CIDR and spec["clusterIP"] != old_ip
    assert spec["ipFamilies"] == ["IPv4"]


# --- Endpoints ---------------------------------------------------------------------------------

def test_endpoints_default_their_port_protocol_and_have_no_status(cluster):
    ep = create(cluster, make_ep(subsets=[{
        "addresses": [{"ip": "10.244.1.5", "nodeName": "node-1",
                       "targetRef": {"kind": "Pod", "name": "kubia-abcde",
                                     "namespace": "default"}}],
        "notReadyAddresses": [{"ip": "10.244.2.7"}],
        "ports": [{"port": 8080}]}]))
    assert ep["subsets"][0]["ports"] == [{"port": 8080, "protocol": "TCP"}]
    assert "status" not in ep and "spec" not in ep


def test_endpoint_addresses_are_checked_as_kubernetes_checks_them(cluster):
    assert causes(cluster, make_ep(subsets=[{"addresses": [{"ip": "abc"}]}])) == [
        ("subsets[0].addresses[0].ip", 'Invalid value: "abc": must be a valid IP address, (e.g. '
                                       "10.9.8.7 or 2001:db8::ffff)"),
        ("subsets[0].addresses[0].ip", 'Invalid value: "abc": must be a valid IP address')]
    assert causes(cluster, make_ep(subsets=[{"notReadyAddresses": [{"ip": "169.254.1.1"}]}])) == [
        ("subsets[0].notReadyAddresses[0].ip", 'Invalid value: "169.254.1.1": may not be in the '
                                               "link-local range (169.254.0.0/16, fe80::/10)")]
    assert causes(cluster, make_ep(subsets=[{"addresses": [{"ip": "0.0.0.0"}]}])) == [
        ("subsets[0].addresses[0].ip", 'Invalid value: "0.0.0.0": may not be unspecified '
                                       "(0.0.0.0)")]
    assert causes(cluster, make_ep(subsets=[{"ports": [{"port": 80}]}])) == [
        ("subsets[0]", "Required value: must specify `addresses` or `notReadyAddresses`")]
    [(field, _)] = causes(cluster, make_ep(subsets=[{"addresses": [
        {"ip": "10.244.1.5", "nodeName": "Node_1"}]}]))
    assert field == "subsets[0].addresses[0].nodeName"


def test_endpoint_ports_are_checked(cluster):
    subset = {"addresses": [{"ip": "10.244.1.5"}], "ports": [{"port": 80}, {"port": 0,
                                                                          "name": "b"}]}
    assert causes(cluster, make_ep(subsets=[subset])) == [
        ("subsets[0].ports[0].name", "Required value"),
        ("subsets[0].ports[1].port", "Invalid value: 0: must be between 1 and 65535, inclusive")]


# --- Ingress -----------------------------------------------------------------------------------

def test_the_seeds_extensions_v1beta1_ingress_is_converted_with_the_warning(cluster):
    report = apply.apply_text(cluster, seed_manifest("Ingress"))
    assert report.ok, report.problems
    assert report.applied[0].warnings == [EXTENSIONS_WARNING]
    ing = store.get(cluster, ING, "default", "kubia")
    assert ing["apiVersion"] == "networking.k8s.io/v1"
    assert ing["spec"] == {"rules": [{"host": "kubia.example.com", "http": {"paths": [
        {"path": "/", "pathType": "ImplementationSpecific", "backend": {
            "service": {"name": "kubia-nodeport", "port": {"number": 80}}}}]}}]}
    assert ing["status"] == {"loadBalancer": {}}
    assert ing["metadata"]["generation"] == 1
    again = apply.apply_text(cluster, seed_manifest("Ingress"))
    assert [a.action for a in again.applied] == ["unchanged"]


def test_a_networking_v1beta1_ingress_converts_backend_and_named_ports(cluster):
    spec = {"backend": {"serviceName": "default-http", "servicePort": 80},
            "rules": [{"host": "*.example.com", "http": {"paths": [
                {"path": "/api", "pathType": "Prefix",
                 "backend": {"serviceName": "api", "servicePort": "http"}}]}}]}
    written = store.create(cluster, make_ing(api_version="networking.k8s.io/v1beta1",
                                             spec=spec))
    assert written.warnings == [NETWORKING_WARNING]
    spec = written.object["spec"]
    assert spec["defaultBackend"] == {"service": {"name": "default-http",
                                                  "port": {"number": 80}}}
    assert "backend" not in spec
    path_ = spec["rules"][0]["http"]["paths"][0]
    assert path_ == {"path": "/api", "pathType": "Prefix",
                     "backend": {"service": {"name": "api", "port": {"name": "http"}}}}


def test_a_v1beta1_backend_without_a_port_is_refused_as_v1_refuses_it(cluster):
    spec = {"backend": {"serviceName": "kubia"}}
    assert causes(cluster, make_ing(api_version="extensions/v1beta1", spec=spec)) == [
        ("spec.defaultBackend", "Required value: port name or number is required")]


def test_a_v1_path_needs_a_path_type(cluster):
    manifest = make_ing()
    del manifest["spec"]["rules"][0]["http"]["paths"][0]["pathType"]
    assert causes(cluster, manifest) == [
        ("spec.rules[0].http.paths[0].pathType", "Required value: pathType must be specified")]
    manifest["spec"]["rules"][0]["http"]["paths"][0]["pathType"] = "Glob"
    assert causes(cluster, manifest) == [
        ("spec.rules[0].http.paths[0].pathType", 'Unsupported value: "Glob": supported values: '
                                                 '"Exact", "ImplementationSpecific", "Prefix"')]


def test_exact_and_prefix_paths_are_absolute_and_clean(cluster):
    manifest = make_ing()
    paths = manifest["spec"]["rules"][0]["http"]["paths"]
    paths[0]["path"] = "api"
    assert causes(cluster, manifest) == [
        ("spec.rules[0].http.paths[0].path", 'Invalid value: "api": must be an absolute path')]
    paths[0]["path"] = "/a//b/.."
    assert causes(cluster, manifest) == [
        ("spec.rules[0].http.paths[0].path", "Invalid value: \"/a//b/..\": must not contain '//'"),
        ("spec.rules[0].http.paths[0].path", "Invalid value: \"/a//b/..\": cannot end with '/..'")]


def test_hosts_are_names_and_wildcards_stand_for_one_label(cluster):
    create(cluster, make_ing("wild", spec={"rules": [{"host": "*.example.com", "http": {
        "paths": [{"path": "/", "pathType": "Prefix",
                   "backend": {"service": {"name": "kubia", "port": {"number": 80}}}}]}}]}))
    manifest = make_ing()
    manifest["spec"]["rules"][0]["host"] = "foo.*.example.com"
    assert causes(cluster, manifest) == [
        ("spec.rules[0].host", 'Invalid value: "foo.*.example.com": a wildcard DNS-1123 subdomain '
                               "must start with '*.', followed by a valid DNS subdomain, which "
                               "must consist of lower case alphanumeric characters, '-' or '.' and "
                               "end with an alphanumeric character (e.g. '*.example.com', regex "
                               "used for validation is '\\*\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-"
                               "z0-9]([-a-z0-9]*[a-z0-9])?)*')")]
    manifest["spec"]["rules"][0]["host"] = "10.0.0.1"
    assert causes(cluster, manifest) == [
        ("spec.rules[0].host", 'Invalid value: "10.0.0.1": must be a DNS name, not an IP '
                               "address")]


def test_backends_name_a_service_and_one_port(cluster):
    manifest = make_ing()
    backend = manifest["spec"]["rules"][0]["http"]["paths"][0]["backend"]
    backend["service"]["port"] = {"number": 80, "name": "http"}
    assert causes(cluster, manifest) == [
        ("spec.rules[0].http.paths[0].backend", 'Invalid value: "": cannot set both port name & '
                                                "port number")]
    backend["service"] = {"name": "kubia.web", "port": {"number": 80}}
    [(field, message)] = causes(cluster, manifest)
    assert field == "spec.rules[0].http.paths[0].backend.service.name"
    assert message.startswith('Invalid value: "kubia.web": a DNS-1035 label')
    del backend["service"]
    assert causes(cluster, manifest) == [
        ("spec.rules[0].http.paths[0].backend", 'Invalid value: "": resource or service backend '
                                                "is required")]


def test_an_ingress_needs_rules_or_a_default_backend(cluster):
    assert causes(cluster, make_ing(spec={})) == [
        ("spec", "Invalid value: []networking.IngressRule(nil): either `defaultBackend` or "
                 "`rules` must be specified")]
    created = create(cluster, make_ing("fallback", spec={"defaultBackend": {
        "service": {"name": "kubia", "port": {"number": 80}}}, "ingressClassName": "nginx"}))
    assert created["spec"]["ingressClassName"] == "nginx"


def test_the_ingress_class_annotation_must_agree_with_the_field(cluster):
    manifest = make_ing()
    manifest["spec"]["ingressClassName"] = "nginx"
    manifest["metadata"]["annotations"] = {"kubernetes.io/ingress.class": "traefik"}
    assert causes(cluster, manifest) == [
        ("annotations.kubernetes.io/ingress.class", 'Invalid value: "traefik": must match '
                                                    "`ingressClassName` when both are specified")]


def test_an_ingress_spec_change_bumps_its_generation(cluster):
    ing = create(cluster, make_ing())
    ing["spec"]["rules"][0]["host"] = "kubia2.example.com"
    assert store.update(cluster, ing).object["metadata"]["generation"] == 2


def test_dynamic_allocation_falls_back_to_the_lower_band_when_the_upper_is_full():
    # randomScanStrategyWithOffset: upper band first, then the band kept for requests.
    from cluster.kinds import service

    assert service._pick(3, 1, {1, 2}) == 0
    assert service._pick(3, 1, {0, 1, 2}) is None
