"""Server-side Tables: what `kubectl get` prints, kind by kind, cell by cell, as Kubernetes
1.32's printers (pkg/printers/internalversion/printers.go) word it, read against the
cluster's simulated clock."""

import datetime as dt

import pytest

from cluster import kinds, printing, store
from cluster.api import tables
from tests.builders import make_pod

BASE = "/clusters/test"
PODS = f"{BASE}/api/v1/namespaces/default/pods"
TABLE_ACCEPT = ("application/json;as=Table;v=v1;g=meta.k8s.io,"
                "application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json")
NOW = dt.datetime(2026, 1, 1, 12, 0, 0, tzinfo=dt.timezone.utc)


def kind(name, group=""):
    return kinds.get(name, group)


def cells(kind_name, obj, now=NOW, group=""):
    """The row's cells by column name."""
    k = kind(kind_name, group)
    return dict(zip([c.name for c in k.columns], k.printer_row(obj, now)))


def created(minutes_ago=0, **meta):
    stamp = store.timestamp(NOW - dt.timedelta(minutes=minutes_ago))
    return {"name": "x", "namespace": "default", "creationTimestamp": stamp, **meta}


def get_table(client, url, **params):
    response = client.get(url, params, HTTP_ACCEPT=TABLE_ACCEPT)
    assert response.status_code == 200, response.content
    return response.json()


# ---------------------------------------------------------------------------------------------
# Formatting shared by every printer


@pytest.mark.parametrize("seconds, shown", [
    (-1, "0s"), (-5, "<invalid>"), (0, "0s"), (119, "119s"), (120, "2m"), (330, "5m30s"),
    (600, "10m"), (179 * 60, "179m"), (3 * 3600, "3h"), (3 * 3600 + 600, "3h10m"),
    (8 * 3600, "8h"), (47 * 3600, "47h"), (52 * 3600, "2d4h"), (7 * 86400, "7d"),
    (300 * 86400, "300d"), (730 * 86400, "2y"), (760 * 86400, "2y30d"), (3000 * 86400, "8y"),
])
def test_human_duration_matches_apimachinery(seconds, shown):
    assert printing.human_duration(dt.timedelta(seconds=seconds)) == shown


def test_labels_and_selectors_print_sorted_or_none():
    assert printing.format_labels({"tier": "web", "app": "kubia"}) == "app=kubia,tier=web"
    assert printing.format_labels({}) == "<none>"
    selector = {"matchLabels": {"app": "kubia"},
                "matchExpressions": [{"key": "env", "operator": "In",
                                      "values": ["prod", "devel"]}]}
    assert printing.format_label_selector(selector) == "app=kubia,env in (devel,prod)"
    assert printing.format_label_selector({}) == "<none>"
    assert printing.format_label_selector(None) == "<none>"


def test_accept_negotiation_takes_the_first_range_the_server_serves():
    assert tables.table_version(TABLE_ACCEPT) == "v1"
    assert tables.table_version("application/json;as=Table;v=v1beta1;g=meta.k8s.io") == "v1beta1"
    assert tables.table_version("application/json") is None
    assert tables.table_version("application/json, application/json;as=Table;v=v1;"
                                "g=meta.k8s.io") is None
    assert tables.table_version("") is None


# ---------------------------------------------------------------------------------------------
# Pods: READY, STATUS, RESTARTS, AGE (and -o wide's IP, NODE, NOMINATED NODE, READINESS GATES)


def busybox(name, script, restart="Always", **spec):
    pod = make_pod(name, image="busybox:1.37", restartPolicy=restart, **spec)
    pod["spec"]["containers"][0].update({"name": "main", "command": ["sh", "-c", script]})
    return pod


def pod_cells(cluster, name):
    pod = store.get(cluster, kind("Pod"), "default", name)
    cluster.clock.refresh_from_db()
    return cells("Pod", pod, cluster.clock.now)


def test_an_unscheduled_pod_is_pending_with_none_for_ip_and_node(cluster):
    store.create(cluster, make_pod("web"))
    row = pod_cells(cluster, "web")
    assert row == {"Name": "web", "Ready": "0/1", "Status": "Pending", "Restarts": "0",
                   "Age": "0s", "IP": "<none>", "Node": "<none>", "Nominated Node": "<none>",
                   "Readiness Gates": "<none>"}


def test_a_pod_pulling_its_image_is_container_creating(cluster, clock):
    store.create(cluster, make_pod("web"))
    clock.tick(1)
    row = pod_cells(cluster, "web")
    assert (row["Ready"], row["Status"]) == ("0/1", "ContainerCreating")
    assert row["Node"].startswith("node-")


def test_a_running_pod_is_ready_with_its_ip_and_node(cluster, clock):
    store.create(cluster, make_pod("web"))
    clock.run(4)
    pod = store.get(cluster, kind("Pod"), "default", "web")
    row = pod_cells(cluster, "web")
    assert (row["Ready"], row["Status"], row["Restarts"]) == ("1/1", "Running", "0")
    assert row["IP"] == pod["status"]["podIP"] and row["Node"] == pod["spec"]["nodeName"]
    assert row["Age"] == "4s"


def test_age_reads_the_simulated_clock(cluster, clock):
    store.create(cluster, make_pod("web"))
    clock.tick(3 * 3600 + 600)
    assert pod_cells(cluster, "web")["Age"] == "3h10m"


def test_a_crashing_container_shows_crash_loop_back_off_and_restarts_ago(cluster, clock):
    store.create(cluster, busybox("crash", "exit 1"))
    clock.run(60)
    row = pod_cells(cluster, "crash")
    pod = store.get(cluster, kind("Pod"), "default", "crash")
    status = pod["status"]["containerStatuses"][0]
    restarts = status["restartCount"]
    finished = printing.parse_time(status["lastState"]["terminated"]["finishedAt"])
    ago = printing.human_duration(cluster.clock.now - finished)
    assert restarts >= 2
    assert row["Restarts"] == f"{restarts} ({ago} ago)"
    assert row["Status"] in ("CrashLoopBackOff", "Error")
    assert row["Ready"] == "0/1"


def test_a_finished_pod_is_completed_with_a_completed_row_condition(cluster, clock):
    store.create(cluster, busybox("once", "echo hi", restart="Never"))
    clock.run(6)
    pod = store.get(cluster, kind("Pod"), "default", "once")
    assert pod["status"]["phase"] == "Succeeded"
    assert pod_cells(cluster, "once")["Status"] == "Completed"
    assert kind("Pod").row_conditions(pod) == [
        {"type": "Completed", "status": "True", "reason": "Succeeded",
         "message": "The pod has completed successfully."}]


def test_a_failed_program_shows_its_terminated_reason(cluster, clock):
    store.create(cluster, busybox("broken", "exit 3", restart="Never"))
    clock.run(6)
    assert pod_cells(cluster, "broken")["Status"] == "Error"


def pod_with(status, spec=None, **meta):
    return {"metadata": created(5, **meta),
            "spec": spec or {"containers": [{"name": "main", "image": "nginx"}]},
            "status": status}


def test_a_deleted_pod_is_terminating_and_one_on_a_lost_node_unknown():
    running = {"phase": "Running", "containerStatuses": [
        {"name": "main", "ready": True, "restartCount": 0, "state": {"running": {}}}]}
    deleting = pod_with(running, deletionTimestamp="2026-01-01T12:00:00Z")
    assert cells("Pod", deleting)["Status"] == "Terminating"
    lost = pod_with({**running, "reason": "NodeLost"}, deletionTimestamp="2026-01-01T12:00:00Z")
    assert cells("Pod", lost)["Status"] == "Unknown"
    done = pod_with({"phase": "Succeeded"}, deletionTimestamp="2026-01-01T12:00:00Z")
    assert cells("Pod", done)["Status"] == "Succeeded"


def test_init_containers_show_progress_then_their_failure():
    spec = {"initContainers": [{"name": "a"}, {"name": "b"}],
            "containers": [{"name": "main"}]}
    first_done = pod_with({"phase": "Pending", "initContainerStatuses": [
        {"name": "a", "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}},
        {"name": "b", "state": {"running": {}}}]}, spec)
    assert cells("Pod", first_done)["Status"] == "Init:1/2"
    failing = pod_with({"phase": "Pending", "initContainerStatuses": [
        {"name": "a", "restartCount": 2, "state": {"waiting": {"reason": "CrashLoopBackOff"}},
         "lastState": {"terminated": {"exitCode": 1, "finishedAt": "2026-01-01T11:58:00Z"}}}]},
        spec)
    row = cells("Pod", failing)
    assert (row["Status"], row["Restarts"]) == ("Init:CrashLoopBackOff", "2 (2m ago)")
    exited = pod_with({"phase": "Pending", "initContainerStatuses": [
        {"name": "a", "state": {"terminated": {"exitCode": 7}}}]}, spec)
    assert cells("Pod", exited)["Status"] == "Init:ExitCode:7"


def test_a_sidecar_counts_as_a_container():
    spec = {"initContainers": [{"name": "proxy", "restartPolicy": "Always"}],
            "containers": [{"name": "main"}]}
    status = {"phase": "Running", "conditions": [{"type": "Initialized", "status": "True"}],
              "initContainerStatuses": [{"name": "proxy", "started": True, "ready": True,
                                         "state": {"running": {}}}],
              "containerStatuses": [{"name": "main", "ready": True, "state": {"running": {}}}]}
    row = cells("Pod", pod_with(status, spec))
    assert (row["Ready"], row["Status"]) == ("2/2", "Running")


def test_a_completed_container_beside_a_running_one_reads_running_or_not_ready():
    spec = {"containers": [{"name": "a"}, {"name": "b"}]}
    statuses = [{"name": "a", "ready": True, "state": {"running": {}}},
                {"name": "b", "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}]
    ready = {"phase": "Running", "containerStatuses": statuses,
             "conditions": [{"type": "Ready", "status": "True"}]}
    assert cells("Pod", pod_with(ready, spec))["Status"] == "Running"
    not_ready = {"phase": "Running", "containerStatuses": statuses}
    assert cells("Pod", pod_with(not_ready, spec))["Status"] == "NotReady"


def test_readiness_gates_count_their_true_conditions():
    spec = {"containers": [{"name": "main"}],
            "readinessGates": [{"conditionType": "example.com/lb"},
                               {"conditionType": "example.com/dns"}]}
    status = {"phase": "Running", "conditions": [{"type": "example.com/lb", "status": "True"}]}
    assert cells("Pod", pod_with(status, spec))["Readiness Gates"] == "1/2"


# ---------------------------------------------------------------------------------------------
# The Table over the API


def test_list_pods_as_a_table(client, cluster, clock):
    store.create(cluster, make_pod("web", labels={"app": "web"}))
    clock.run(4)
    body = get_table(client, PODS)
    assert (body["kind"], body["apiVersion"]) == ("Table", "meta.k8s.io/v1")
    assert body["metadata"]["resourceVersion"] == str(store.current_rv(cluster))
    names = [(c["name"], c["priority"]) for c in body["columnDefinitions"]]
    assert names == [("Name", 0), ("Ready", 0), ("Status", 0), ("Restarts", 0), ("Age", 0),
                     ("IP", 1), ("Node", 1), ("Nominated Node", 1), ("Readiness Gates", 1)]
    name_column = body["columnDefinitions"][0]
    assert name_column["format"] == "name" and name_column["type"] == "string"
    assert name_column["description"].startswith("Name must be unique within a namespace")
    [row] = body["rows"]
    assert row["cells"][:5] == ["web", "1/1", "Running", "0", "4s"]
    obj = row["object"]
    assert (obj["kind"], obj["apiVersion"]) == ("PartialObjectMetadata", "meta.k8s.io/v1")
    assert obj["metadata"]["labels"] == {"app": "web"}      # --show-labels and -L read these
    assert "spec" not in obj


def test_include_object_object_carries_the_whole_object_for_sort_by(client, cluster):
    store.create(cluster, make_pod("web"))
    row = get_table(client, PODS, includeObject="Object")["rows"][0]
    assert row["object"]["kind"] == "Pod" and row["object"]["spec"]["containers"]
    assert get_table(client, PODS, includeObject="None")["rows"][0]["object"] is None


def test_a_bad_include_object_is_a_400_naming_it(client, cluster):
    response = client.get(PODS, {"includeObject": "Everything"}, HTTP_ACCEPT=TABLE_ACCEPT)
    assert response.status_code == 400
    assert "includeObject" in response.json()["message"]


def test_get_one_pod_as_a_one_row_table_at_its_resource_version(client, cluster):
    pod = store.create(cluster, make_pod("web")).object
    body = get_table(client, f"{PODS}/web")
    assert body["metadata"]["resourceVersion"] == pod["metadata"]["resourceVersion"]
    assert [row["cells"][0] for row in body["rows"]] == ["web"]


def test_v1beta1_tables_are_served_when_asked_for(client, cluster):
    store.create(cluster, make_pod("web"))
    response = client.get(PODS, HTTP_ACCEPT="application/json;as=Table;v=v1beta1;g=meta.k8s.io")
    body = response.json()
    assert body["apiVersion"] == "meta.k8s.io/v1beta1"
    assert body["rows"][0]["object"]["apiVersion"] == "meta.k8s.io/v1beta1"


def test_plain_json_still_answers_a_list(client, cluster):
    store.create(cluster, make_pod("web"))
    body = client.get(PODS, HTTP_ACCEPT="application/json").json()
    assert body["kind"] == "PodList"


def test_watch_object_is_a_one_row_table_with_columns_only_first(rf, cluster):
    pod = store.create(cluster, make_pod("web")).object
    request = rf.get(PODS, HTTP_ACCEPT=TABLE_ACCEPT)
    first = tables.watch_object(request, kind("Pod"), pod, NOW, first=True)
    later = tables.watch_object(request, kind("Pod"), pod, NOW, first=False)
    assert first["columnDefinitions"] and "columnDefinitions" not in later
    assert first["metadata"]["resourceVersion"] == pod["metadata"]["resourceVersion"]
    assert [r["cells"][0] for r in later["rows"]] == ["web"]
    plain = rf.get(PODS, HTTP_ACCEPT="application/json")
    assert tables.watch_object(plain, kind("Pod"), pod, NOW, first=True) is pod


# ---------------------------------------------------------------------------------------------
# Workloads: rc, rs, ds, jobs, cronjobs


def template(app, image="luksa/kubia", **spec):
    return {"metadata": {"labels": {"app": app}},
            "spec": {"containers": [{"name": app, "image": image}], **spec}}


def rc(name="kubia", replicas=3):
    return {"apiVersion": "v1", "kind": "ReplicationController", "metadata": {"name": name},
            "spec": {"replicas": replicas, "selector": {"app": name},
                     "template": template(name)}}


def rs(name="kubia", replicas=2):
    return {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": name},
            "spec": {"replicas": replicas,
                     "selector": {"matchLabels": {"app": name},
                                  "matchExpressions": [{"key": "env", "operator": "NotIn",
                                                        "values": ["test"]}]},
                     "template": template(name)}}


def test_a_replication_controller_counts_desired_current_ready(cluster, clock):
    store.create(cluster, rc())
    assert cells("ReplicationController", store.get(
        cluster, kind("ReplicationController"), "default", "kubia"))["Current"] == 0
    clock.run(6)
    obj = store.get(cluster, kind("ReplicationController"), "default", "kubia")
    row = cells("ReplicationController", obj, clock.now)
    assert row == {"Name": "kubia", "Desired": 3, "Current": 3, "Ready": 3, "Age": "6s",
                   "Containers": "kubia", "Images": "luksa/kubia", "Selector": "app=kubia"}


def test_a_replica_set_prints_its_label_selector_canonically(cluster, clock):
    store.create(cluster, rs())
    clock.run(6)
    obj = store.get(cluster, kind("ReplicaSet", "apps"), "default", "kubia")
    row = cells("ReplicaSet", obj, clock.now, "apps")
    assert (row["Desired"], row["Current"], row["Ready"]) == (2, 2, 2)
    assert row["Selector"] == "app=kubia,env notin (test)"


def test_a_daemon_set_counts_nodes_and_prints_its_node_selector(cluster, clock):
    ds = {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "mon"},
          "spec": {"selector": {"matchLabels": {"app": "mon"}},
                   "template": template("mon", nodeSelector={"disk": "ssd"})}}
    store.create(cluster, ds)
    clock.run(3)
    row = cells("DaemonSet", store.get(cluster, kind("DaemonSet", "apps"), "default", "mon"),
                clock.now, "apps")
    assert (row["Desired"], row["Current"], row["Node Selector"]) == (0, 0, "disk=ssd")
    assert list(row) == ["Name", "Desired", "Current", "Ready", "Up-to-date", "Available",
                         "Node Selector", "Age", "Containers", "Images", "Selector"]


def job(name="batch", **spec):
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name},
            "spec": {"template": template(name, image="luksa/batch-job", restartPolicy="OnFailure"),
                     **spec}}


def test_a_job_runs_then_completes_with_its_duration(cluster, clock):
    store.create(cluster, job())
    clock.run(10)
    row = cells("Job", store.get(cluster, kind("Job", "batch"), "default", "batch"),
                clock.now, "batch")
    assert (row["Status"], row["Completions"]) == ("Running", "0/1")
    assert row["Duration"].endswith("s")
    clock.run(130, step=5)
    obj = store.get(cluster, kind("Job", "batch"), "default", "batch")
    row = cells("Job", obj, clock.now, "batch")
    assert (row["Status"], row["Completions"]) == ("Complete", "1/1")
    started = printing.parse_time(obj["status"]["startTime"])
    finished = printing.parse_time(obj["status"]["completionTime"])
    assert row["Duration"] == printing.human_duration(finished - started)
    assert row["Selector"].startswith("batch.kubernetes.io/controller-uid=")


def test_job_status_precedence_and_completions_forms():
    base = {"metadata": created(1, name="j"), "spec": {"parallelism": 3}, "status": {}}
    assert cells("Job", base, group="batch")["Completions"] == "0/1 of 3"
    assert cells("Job", base, group="batch")["Duration"] == ""
    failed = {**base, "status": {"conditions": [{"type": "Failed", "status": "True"}]}}
    assert cells("Job", failed, group="batch")["Status"] == "Failed"
    suspended = {**base, "status": {"conditions": [{"type": "Suspended", "status": "True"}]}}
    assert cells("Job", suspended, group="batch")["Status"] == "Suspended"
    deleting = {**suspended, "metadata": created(1, name="j", deletionTimestamp="x")}
    assert cells("Job", deleting, group="batch")["Status"] == "Terminating"


def test_a_cron_job_prints_schedule_no_timezone_and_last_schedule():
    cj = {"metadata": created(30, name="every"),
          "spec": {"schedule": "*/15 * * * *", "suspend": False,
                   "jobTemplate": {"spec": {"template": template("every")}}},
          "status": {}}
    row = cells("CronJob", cj, group="batch")
    assert row == {"Name": "every", "Schedule": "*/15 * * * *", "Timezone": "<none>",
                   "Suspend": "False", "Active": 0, "Last Schedule": "<none>", "Age": "30m",
                   "Containers": "every", "Images": "luksa/kubia", "Selector": "<none>"}
    cj["spec"]["timeZone"] = "Europe/Ljubljana"
    cj["status"] = {"lastScheduleTime": store.timestamp(NOW - dt.timedelta(minutes=15)),
                    "active": [{"name": "every-1"}]}
    row = cells("CronJob", cj, group="batch")
    assert (row["Timezone"], row["Active"], row["Last Schedule"]) == \
        ("Europe/Ljubljana", 1, "15m")


# ---------------------------------------------------------------------------------------------
# Services, endpoints, ingresses


def service(name="kubia", type_="ClusterIP", ports=None, **spec):
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
            "spec": {"type": type_, "selector": {"app": name},
                     "ports": ports or [{"port": 80, "targetPort": 8080}], **spec}}


def test_services_print_type_ips_and_ports(cluster):
    plain = store.create(cluster, service()).object
    row = cells("Service", plain)
    assert row == {"Name": "kubia", "Type": "ClusterIP",
                   "Cluster-IP": plain["spec"]["clusterIP"], "External-IP": "<none>",
                   "Port(s)": "80/TCP", "Age": "0s", "Selector": "app=kubia"}
    lb = store.create(cluster, service("lb", "LoadBalancer", [
        {"name": "http", "port": 80, "targetPort": 8080},
        {"name": "https", "port": 443, "targetPort": 8443, "nodePort": 30443}])).object
    row = cells("Service", lb)
    http_node_port = lb["spec"]["ports"][0]["nodePort"]
    assert row["Port(s)"] == f"80:{http_node_port}/TCP,443:30443/TCP"
    assert row["External-IP"] == "<pending>"
    headless = store.create(cluster, service("db", clusterIP="None")).object
    assert cells("Service", headless)["Cluster-IP"] == "None"
    external = store.create(cluster, {"apiVersion": "v1", "kind": "Service",
                                      "metadata": {"name": "ext"},
                                      "spec": {"type": "ExternalName",
                                               "externalName": "db.example.com"}}).object
    row = cells("Service", external)
    assert (row["Cluster-IP"], row["External-IP"], row["Port(s)"], row["Selector"]) == \
        ("<none>", "db.example.com", "<none>", "<none>")


def test_a_load_balancer_with_ingress_ips_lists_them_sorted_before_external_ips():
    lb = {"metadata": created(), "spec": {"type": "LoadBalancer", "externalIPs": ["9.9.9.9"]},
          "status": {"loadBalancer": {"ingress": [{"ip": "5.6.7.8"}, {"hostname": "lb.x"}]}}}
    assert cells("Service", lb)["External-IP"] == "5.6.7.8,lb.x,9.9.9.9"


def test_endpoints_show_three_addresses_then_how_many_more():
    ep = {"metadata": created(), "subsets": [
        {"addresses": [{"ip": f"10.244.1.{i}"} for i in range(1, 4)],
         "notReadyAddresses": [{"ip": "10.244.9.9"}],
         "ports": [{"port": 8080}, {"port": 8443}]}]}
    assert cells("Endpoints", ep)["Endpoints"] == \
        "10.244.1.1:8080,10.244.1.2:8080,10.244.1.3:8080 + 3 more..."
    assert cells("Endpoints", {"metadata": created(), "subsets": []})["Endpoints"] == "<none>"
    headless = {"metadata": created(), "subsets": [{"addresses": [{"ip": "10.244.1.1"}]}]}
    assert cells("Endpoints", headless)["Endpoints"] == "10.244.1.1"


def test_the_endpoints_controller_output_prints_ready_pods(cluster, clock):
    store.create(cluster, make_pod("kubia-1", labels={"app": "kubia"}, ports=[8080]))
    store.create(cluster, service())
    clock.run(6)
    pod = store.get(cluster, kind("Pod"), "default", "kubia-1")
    ep = store.get(cluster, kind("Endpoints"), "default", "kubia")
    assert cells("Endpoints", ep, clock.now)["Endpoints"] == f"{pod['status']['podIP']}:8080"


def test_endpointslices_print_ports_and_addresses_three_then_how_many_more():
    piece = {"metadata": created(), "addressType": "IPv4",
             "ports": [{"name": "", "port": 8080}, {"name": "admin"}, {}, {"port": 9}],
             "endpoints": [{"addresses": [f"10.244.1.{i}"]} for i in range(1, 6)]}
    row = cells("EndpointSlice", piece, group="discovery.k8s.io")
    # formatDiscoveryPorts: a port without a number shows its name, or "*".
    assert row == {"Name": "x", "AddressType": "IPv4", "Ports": "8080,admin,* + 1 more...",
                   "Endpoints": "10.244.1.1,10.244.1.2,10.244.1.3 + 2 more...", "Age": "0s"}
    empty = {"metadata": created(), "addressType": "IPv4", "ports": None, "endpoints": None}
    row = cells("EndpointSlice", empty, group="discovery.k8s.io")
    assert (row["Ports"], row["Endpoints"]) == ("<unset>", "<unset>")


def test_ingresses_print_class_hosts_address_and_ports():
    ing = {"metadata": created(), "spec": {
        "rules": [{"host": f"h{i}.example.com"} for i in range(5)] + [{}],
        "tls": [{"hosts": ["h0.example.com"]}]}, "status": {"loadBalancer": {}}}
    row = cells("Ingress", ing, group="networking.k8s.io")
    assert row == {"Name": "x", "Class": "<none>",
                   "Hosts": "h0.example.com,h1.example.com,h2.example.com + 3 more...",
                   "Address": "", "Ports": "80, 443", "Age": "0s"}
    bare = {"metadata": created(), "spec": {"ingressClassName": "nginx",
                                            "defaultBackend": {}}, "status": {}}
    row = cells("Ingress", bare, group="networking.k8s.io")
    assert (row["Class"], row["Hosts"], row["Ports"]) == ("nginx", "*", "80")


# ---------------------------------------------------------------------------------------------
# Nodes, namespaces, events, the clock


def test_nodes_print_status_roles_version_and_wide_info(cluster, clock):
    clock.tick(1)
    node = store.get(cluster, kind("Node"), "", "node-1")
    row = cells("Node", node, clock.now)
    info = node["status"]["nodeInfo"]
    internal = next(a["address"] for a in node["status"]["addresses"]
                    if a["type"] == "InternalIP")
    assert row["Name"] == "node-1" and row["Status"] == "Ready" and row["Roles"] == "<none>"
    assert row["Version"] == info["kubeletVersion"]
    assert (row["Internal-IP"], row["External-IP"]) == (internal, "<none>")
    assert (row["OS-Image"], row["Kernel-Version"], row["Container-Runtime"]) == \
        (info["osImage"], info["kernelVersion"], info["containerRuntimeVersion"])


def test_node_status_and_roles_forms():
    node = {"metadata": created(labels={"node-role.kubernetes.io/control-plane": "",
                                        "kubernetes.io/role": "edge"}),
            "spec": {"unschedulable": True},
            "status": {"conditions": [{"type": "Ready", "status": "Unknown"}]}}
    row = cells("Node", node)
    assert (row["Status"], row["Roles"]) == ("NotReady,SchedulingDisabled", "control-plane,edge")
    assert cells("Node", {"metadata": created(), "status": {}})["Status"] == "Unknown"


def test_namespaces_print_their_phase(cluster):
    ns = store.get(cluster, kind("Namespace"), "", "default")
    assert cells("Namespace", ns)["Status"] == "Active"


def test_events_print_last_seen_object_and_message():
    event = {"metadata": created(10, name="kubia.1"), "type": "Warning", "reason": "BackOff",
             "involvedObject": {"kind": "Pod", "name": "kubia", "fieldPath": "spec.containers{m}"},
             "source": {"component": "kubelet", "host": "node-1"},
             "firstTimestamp": store.timestamp(NOW - dt.timedelta(minutes=10)),
             "lastTimestamp": store.timestamp(NOW - dt.timedelta(minutes=5)),
             "count": 3, "message": "Back-off restarting failed container \n"}
    assert kind("Event").printer_row(event, NOW) == [
        "5m", "Warning", "BackOff", "pod/kubia", "spec.containers{m}", "kubelet, node-1",
        "Back-off restarting failed container", "10m", 3, "kubia.1"]
    singleton = {"metadata": created(name="e"), "involvedObject": {"kind": "Node"},
                 "eventTime": "2026-01-01T11:59:00.000000Z", "reportingComponent": "sched"}
    row = cells("Event", singleton)
    assert (row["Last Seen"], row["Object"], row["Source"], row["Count"]) == \
        ("60s", "node", "sched", 1)


def test_a_pods_events_are_listed_as_a_table(client, cluster, clock):
    store.create(cluster, make_pod("web"))
    clock.run(4)
    body = get_table(client, f"{BASE}/api/v1/namespaces/default/events")
    reasons = [row["cells"][2] for row in body["rows"]]
    assert "Scheduled" in reasons and "Started" in reasons
    assert {row["cells"][3] for row in body["rows"]} >= {"pod/web"}


def test_the_clock_prints_time_speed_and_paused(client, cluster):
    body = get_table(client, f"{BASE}/apis/kubelab.io/v1/clocks")
    assert [c["name"] for c in body["columnDefinitions"]] == ["Name", "Time", "Speed", "Paused"]
    [row] = body["rows"]
    assert row["cells"][0] == "cluster" and row["cells"][1] == "2026-01-01T12:00:00Z"


def test_every_kind_prints_one_cell_per_column(cluster):
    for k in kinds.all_kinds():
        obj = {"metadata": created(), "spec": {}, "status": {}}
        assert len(k.printer_row(obj, NOW)) == len(k.columns), k.kind
        assert all(column.definition()["description"] for column in k.columns), k.kind


# ---------------------------------------------------------------------------------------------
# Field selectors describe and `get --field-selector` rely on


def test_events_of_one_object_by_its_involved_object_fields(client, cluster, clock):
    pod = store.create(cluster, make_pod("web")).object
    store.create(cluster, make_pod("other"))
    clock.run(4)
    selector = (f"involvedObject.name=web,involvedObject.namespace=default,"
                f"involvedObject.uid={pod['metadata']['uid']},involvedObject.kind=Pod")
    body = client.get(f"{BASE}/api/v1/namespaces/default/events",
                      {"fieldSelector": selector}).json()
    assert body["items"] and {e["involvedObject"]["name"] for e in body["items"]} == {"web"}


def test_workload_status_field_labels(client, cluster, clock):
    store.create(cluster, rc(replicas=2))
    store.create(cluster, job())
    clock.run(6)
    rcs = client.get(f"{BASE}/api/v1/namespaces/default/replicationcontrollers",
                     {"fieldSelector": "status.replicas=2"}).json()
    assert [i["metadata"]["name"] for i in rcs["items"]] == ["kubia"]
    jobs = client.get(f"{BASE}/apis/batch/v1/namespaces/default/jobs",
                      {"fieldSelector": "status.successful=0"}).json()
    assert [i["metadata"]["name"] for i in jobs["items"]] == ["batch"]
    response = client.get(f"{BASE}/apis/batch/v1/namespaces/default/jobs",
                          {"fieldSelector": "status.replicas=1"})
    assert response.status_code == 400
    assert response.json()["message"] == "field label not supported: status.replicas"
