"""EndpointSlices: the kind's rules (discovery.k8s.io/v1) and the EndpointSlice controller of
Kubernetes 1.32 (pkg/controller/endpointslice, staging/src/k8s.io/endpointslice), on a manual
clock."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cluster import kinds, store
from cluster.controllers import endpointslice as controller
from cluster.controllers.kubelet import exec_command
from cluster.errors import Invalid
from cluster.models import ApiObject, Change
from tests.builders import (KUBIA_READINESS, KUBIA_SERVICE, apply_ok,
                            kubia_behind_a_service, make_pod)

POD = kinds.get("Pod")
NODE = kinds.get("Node")
RC = kinds.get("ReplicationController")
SERVICE = kinds.get("Service")
SLICE = kinds.get("EndpointSlice", "discovery.k8s.io")


@pytest.fixture
def clock(committed_clock):
    return committed_clock


def slices(cluster, service="kubia"):
    return [row.body for row in ApiObject.objects.filter(
        cluster=cluster, kind="EndpointSlice").order_by("pk")
        if row.labels.get(controller.SERVICE_NAME) == service]


def only_slice(cluster, service="kubia"):
    found = slices(cluster, service)
    assert len(found) == 1, found
    return found[0]


def pods(cluster):
    return sorted((row.body for row in ApiObject.objects.filter(cluster=cluster, kind="Pod")),
                  key=lambda pod: pod["metadata"]["name"])


def by_pod(endpoints):
    return {e["targetRef"]["name"]: e for e in endpoints or []}


def cells(obj, now):
    return dict(zip([c.name for c in SLICE.columns], SLICE.printer_row(obj, now)))


# --- the controller ----------------------------------------------------------------------------

def test_a_service_gets_a_slice_of_its_pods_owned_and_labelled(cluster, clock):
    kubia_behind_a_service(cluster, clock)
    piece = only_slice(cluster)
    service = store.get(cluster, SERVICE, "default", "kubia")
    meta = piece["metadata"]
    assert re.fullmatch(r"kubia-[a-z0-9]{5}", meta["name"]) and meta["generateName"] == "kubia-"
    assert meta["labels"] == {"tier": "web", "kubernetes.io/service-name": "kubia",
                              "endpointslice.kubernetes.io/managed-by":
                                  "endpointslice-controller.k8s.io"}
    assert meta["ownerReferences"] == [{"apiVersion": "v1", "kind": "Service", "name": "kubia",
                                        "uid": service["metadata"]["uid"], "controller": True,
                                        "blockOwnerDeletion": True}]
    assert piece["addressType"] == "IPv4"
    assert piece["ports"] == [{"name": "", "port": 8080, "protocol": "TCP"}]
    running = pods(cluster)
    assert len(running) == 3
    endpoints = by_pod(piece["endpoints"])
    for pod in running:
        endpoint = endpoints[pod["metadata"]["name"]]
        assert endpoint == {
            "addresses": [pod["status"]["podIP"]],
            "conditions": {"ready": True, "serving": True, "terminating": False},
            "targetRef": {"kind": "Pod", "namespace": "default", "name": pod["metadata"]["name"],
                          "uid": pod["metadata"]["uid"]},
            "nodeName": pod["spec"]["nodeName"]}
    assert meta["generation"] >= 1
    # kubectl get endpointslices: NAME ADDRESSTYPE PORTS ENDPOINTS AGE.
    row = cells(piece, clock.now)
    assert (row["AddressType"], row["Ports"]) == ("IPv4", "8080")
    assert row["Endpoints"] == ",".join(e["addresses"][0] for e in piece["endpoints"])


def test_an_endpoint_carries_its_nodes_zone(cluster, clock):
    node = store.get(cluster, NODE, "", "node-1")
    node["metadata"].setdefault("labels", {})["topology.kubernetes.io/zone"] = "zone-a"
    store.update(cluster, node)
    kubia_behind_a_service(cluster, clock)
    endpoints = only_slice(cluster)["endpoints"]
    assert "node-1" in {e["nodeName"] for e in endpoints}
    for endpoint in endpoints:
        assert endpoint.get("zone") == ("zone-a" if endpoint["nodeName"] == "node-1" else None)


def test_conditions_follow_the_readiness_probe(cluster, clock):
    kubia_behind_a_service(cluster, clock, replicas=2, probe=KUBIA_READINESS)
    not_ready = {"ready": False, "serving": False, "terminating": False}
    endpoints = only_slice(cluster)["endpoints"]
    assert [e["conditions"] for e in endpoints] == [not_ready, not_ready]
    first, second = pods(cluster)
    exec_command(cluster, "default", first["metadata"]["name"], "kubia", ["touch", "/var/ready"])
    clock.run(3)
    endpoints = by_pod(only_slice(cluster)["endpoints"])
    assert endpoints[first["metadata"]["name"]]["conditions"] == {
        "ready": True, "serving": True, "terminating": False}
    assert endpoints[second["metadata"]["name"]]["conditions"] == not_ready
    exec_command(cluster, "default", first["metadata"]["name"], "kubia", ["rm", "/var/ready"])
    clock.run(5)
    assert [e["conditions"] for e in only_slice(cluster)["endpoints"]] == [not_ready, not_ready]


def test_publish_not_ready_addresses_makes_every_endpoint_ready(cluster, clock):
    kubia_behind_a_service(cluster, clock, replicas=1, probe=KUBIA_READINESS)
    service = store.get(cluster, SERVICE, "default", "kubia")
    service["spec"]["publishNotReadyAddresses"] = True
    store.update(cluster, service)
    clock.tick(1)
    [endpoint] = only_slice(cluster)["endpoints"]
    assert endpoint["conditions"] == {"ready": True, "serving": False, "terminating": False}


def test_a_deleted_pod_is_terminating_then_leaves_the_slice(cluster, clock):
    store.create(cluster, make_pod("web", labels={"app": "kubia"}, ports=[8080]))
    apply_ok(cluster, KUBIA_SERVICE.format(target=8080))
    clock.run(6)
    name = only_slice(cluster)["metadata"]["name"]
    store.delete(cluster, POD, "default", "web")
    clock.tick(1)
    [endpoint] = only_slice(cluster)["endpoints"]
    # A terminating pod stays, never ready (serving as its readiness says).
    assert endpoint["conditions"]["terminating"] is True
    assert endpoint["conditions"]["ready"] is False
    clock.run(40)
    assert not ApiObject.objects.filter(cluster=cluster, kind="Pod").exists()
    # No endpoints left: the same slice stays as the Service's placeholder.
    piece = only_slice(cluster)
    assert piece["metadata"]["name"] == name
    assert piece["endpoints"] is None and piece["ports"] is None
    assert (cells(piece, clock.now)["Ports"], cells(piece, clock.now)["Endpoints"]) == \
        ("<unset>", "<unset>")


def test_scaling_fills_and_empties_the_slice(cluster, clock):
    kubia_behind_a_service(cluster, clock, replicas=2)
    assert len(only_slice(cluster)["endpoints"]) == 2
    rc = store.get(cluster, RC, "default", "kubia")
    rc["spec"]["replicas"] = 4
    store.update(cluster, rc)
    clock.run(10)
    assert len(only_slice(cluster)["endpoints"]) == 4
    rc = store.get(cluster, RC, "default", "kubia")
    rc["spec"]["replicas"] = 0
    store.update(cluster, rc)
    clock.run(40)
    assert only_slice(cluster)["endpoints"] is None


def test_a_service_selecting_nothing_has_one_placeholder_slice(cluster, clock):
    apply_ok(cluster, KUBIA_SERVICE.format(target=8080))
    clock.run(3)
    piece = only_slice(cluster)
    assert piece["endpoints"] is None and piece["ports"] is None
    assert piece["addressType"] == "IPv4"


def test_deleting_the_service_deletes_its_slices(cluster, clock):
    kubia_behind_a_service(cluster, clock, replicas=1)
    assert slices(cluster)
    store.delete(cluster, SERVICE, "default", "kubia")
    clock.run(2)
    assert not ApiObject.objects.filter(cluster=cluster, kind="EndpointSlice").exists()


def test_an_idle_pass_writes_nothing(cluster, clock):
    kubia_behind_a_service(cluster, clock)
    clock.tick(1)
    piece = only_slice(cluster)
    latest = Change.objects.filter(cluster=cluster).order_by("-id").first().id
    now = clock.now
    with CaptureQueriesContext(connection) as queries:
        controller.reconcile(cluster, now)
    assert not [q for q in queries if q["sql"].startswith(("INSERT", "UPDATE", "DELETE"))]
    clock.run(3)
    assert only_slice(cluster)["metadata"]["resourceVersion"] == \
        piece["metadata"]["resourceVersion"]
    assert not Change.objects.filter(cluster=cluster, kind="EndpointSlice",
                                     id__gt=latest).exists()


def named_pod(name, port=None):
    pod = make_pod(name, labels={"app": "kubia"})
    if port:
        pod["spec"]["containers"][0]["ports"] = [{"name": "http", "containerPort": port}]
    return pod


def test_a_named_target_port_groups_pods_by_the_port_they_resolve_to(cluster, clock):
    # Bare pods (an RC would adopt the odd ones and scale them away).
    for name, port in (("a", 8080), ("b", 8080), ("c", 9090), ("portless", None)):
        store.create(cluster, named_pod(name, port))
    apply_ok(cluster, KUBIA_SERVICE.format(target="http"))
    clock.run(5)
    found = {tuple(p["port"] for p in s["ports"] or []): s for s in slices(cluster)}
    assert set(found) == {(8080,), (9090,), ()}
    assert sorted(by_pod(found[(8080,)]["endpoints"])) == ["a", "b"]
    assert sorted(by_pod(found[(9090,)]["endpoints"])) == ["c"]
    # A pod without the named port is still an endpoint, in a slice with no ports.
    assert sorted(by_pod(found[()]["endpoints"])) == ["portless"]


def test_the_slice_labels_follow_the_services(cluster, clock):
    kubia_behind_a_service(cluster, clock, replicas=1)
    service = store.get(cluster, SERVICE, "default", "kubia")
    service["metadata"]["labels"] = {"tier": "front"}
    store.update(cluster, service)
    clock.tick(1)
    assert only_slice(cluster)["metadata"]["labels"]["tier"] == "front"


def test_an_external_name_service_gets_no_slices(cluster, clock):
    apply_ok(cluster, """apiVersion: v1
kind: Service
metadata:
  name: ext
spec:
  type: ExternalName
  externalName: example.com
""")
    clock.run(2)
    assert not ApiObject.objects.filter(cluster=cluster, kind="EndpointSlice").exists()


def fake_pod(i):
    return {"metadata": {"name": f"p{i}", "namespace": "default", "uid": f"uid-{i}"},
            "spec": {"nodeName": "node-1", "containers": [{"name": "c"}]},
            "status": {"phase": "Running", "podIP": f"10.244.{i // 250}.{i % 250 + 1}",
                       "conditions": [{"type": "Ready", "status": "True"}]}}


def test_a_slice_holds_at_most_100_endpoints():
    service = {"metadata": {"name": "big", "namespace": "default", "uid": "svc"},
               "spec": {"clusterIP": "10.96.0.10", "ipFamilies": ["IPv4"],
                        "ports": [{"port": 80, "targetPort": 8080, "protocol": "TCP"}]}}
    create, update, delete = controller.by_address_type(
        service, [fake_pod(i) for i in range(250)], [], {"node-1": {}}, "IPv4")
    assert [len(s["endpoints"]) for s in create] == [100, 100, 50]
    assert (update, delete) == ([], [])
    # 30 more: they fill the slice they fit in best (the one with 50), not a new one.
    existing = [dict(s, metadata=dict(s["metadata"], name=f"big-{n}"))
                for n, s in enumerate(create)]
    create, update, delete = controller.by_address_type(
        service, [fake_pod(i) for i in range(280)], existing, {"node-1": {}}, "IPv4")
    assert create == [] and delete == []
    assert [(s["metadata"]["name"], len(s["endpoints"])) for s in update] == [("big-2", 80)]


# --- the kind ----------------------------------------------------------------------------------

def manifest(**fields):
    return {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": {"name": "manual"}, **fields}


def invalid(cluster, obj):
    with pytest.raises(Invalid) as caught:
        store.create(cluster, obj)
    return [str(e) for e in caught.value.errors]


def test_ports_default_to_an_empty_name_and_tcp(cluster):
    created = store.create(cluster, manifest(addressType="IPv4", ports=[{"port": 80}],
                                             endpoints=[{"addresses": ["10.1.2.3"]}])).object
    assert created["ports"] == [{"port": 80, "name": "", "protocol": "TCP"}]
    assert created["metadata"]["generation"] == 1


def test_the_address_type_is_required_supported_and_immutable(cluster):
    assert invalid(cluster, manifest()) == ["addressType: Required value"]
    assert invalid(cluster, manifest(addressType="IP")) == [
        'addressType: Unsupported value: "IP": supported values: "FQDN", "IPv4", "IPv6"']
    created = store.create(cluster, manifest(addressType="IPv4")).object
    created["addressType"] = "IPv6"
    with pytest.raises(Invalid) as caught:
        store.update(cluster, created)
    assert [str(e) for e in caught.value.errors] == [
        'addressType: Invalid value: "IPv6": field is immutable']


def test_addresses_are_checked_against_the_address_type(cluster):
    errors = invalid(cluster, manifest(addressType="IPv4", endpoints=[
        {"addresses": []}, {"addresses": ["fd00::1"]}, {"addresses": ["127.0.0.1"]},
        {"addresses": [f"10.0.0.{i}" for i in range(1, 102)]}]))
    assert errors == [
        "endpoints[0].addresses: Required value: must contain at least 1 address",
        'endpoints[1].addresses[0]: Invalid value: "fd00::1": must be a valid IPv4 address',
        'endpoints[2].addresses[0]: Invalid value: "127.0.0.1": may not be in the loopback '
        "range (127.0.0.0/8, ::1/128)",
        "endpoints[3].addresses: Too many: 101: must have at most 100 items"]
    assert invalid(cluster, manifest(addressType="FQDN", endpoints=[
        {"addresses": ["db"]}, {"addresses": ["db.example.com."]}])) == [
        'endpoints[0].addresses[0]: Invalid value: "db": should be a domain with at least two '
        "segments separated by dots"]


def test_port_names_are_unique_labels_with_a_known_protocol(cluster):
    errors = invalid(cluster, manifest(addressType="IPv4", ports=[
        {"name": "http", "port": 80}, {"name": "http", "port": 81},
        {"name": "Web", "port": 82, "protocol": "HTTP"}]))
    assert errors[0] == 'ports[1].name: Duplicate value: "http"'
    assert errors[1].startswith('ports[2].name: Invalid value: "Web": a lowercase RFC 1123 label')
    assert errors[2] == ('ports[2].protocol: Unsupported value: "HTTP": supported values: '
                         '"SCTP", "TCP", "UDP"')


def test_a_v1_write_drops_the_deprecated_topology(cluster):
    created = store.create(cluster, manifest(addressType="IPv4", endpoints=[
        {"addresses": ["10.1.2.3"], "deprecatedTopology": {"rack": "r1"}}])).object
    assert created["endpoints"] == [{"addresses": ["10.1.2.3"]}]
