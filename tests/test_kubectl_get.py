"""Real kubectl 1.32 against a live kubelab: `kubectl get` prints what it prints against a
1.32 cluster (server-side Tables), with its flags, and `kubectl describe` shows kubelab's
events.

The module works in a cluster of its own (`get-lab`, 3 nodes) whose clock runs at x10, so a
pod runs within a wall second or so; objects are created through the REST API, then each test
reads them back with kubectl and checks the printed columns and cells.
"""

import re

import pytest
import yaml

from tests import live
from tests.live import until
from tests.kubectl import Kubectl
from tests.live import create_cluster

LAB = "get-lab"
BASE = f"/clusters/{LAB}"
AGE = r"\d+(s|m\d*s?|h\d*m?|d\d*h?|y\d*d?)"


def api(server, method, path, body=None, content_type="application/json"):
    return live.api(server, method, BASE + path, body, content_type)


def create(server, path, obj):
    status, body = api(server, "POST", path, obj)
    assert status == 201, body
    return body


def pod(name, labels=None, image="luksa/kubia", namespace="default", **spec):
    container = {"name": "main", "image": image}
    container.update(spec.pop("container", {}))
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": namespace, "labels": labels or {}},
            "spec": {"containers": [container], **spec}}


def pod_status(server, name, namespace="default"):
    status, body = api(server, "GET", f"/api/v1/namespaces/{namespace}/pods/{name}")
    assert status == 200, body
    return body["status"]


WORKLOADS = [
    ("/api/v1/namespaces/default/replicationcontrollers", {
        "apiVersion": "v1", "kind": "ReplicationController", "metadata": {"name": "kubia"},
        "spec": {"replicas": 2, "selector": {"app": "kubia"},
                 "template": {"metadata": {"labels": {"app": "kubia", "env": "devel"}},
                              "spec": {"containers": [{"name": "kubia",
                                                       "image": "luksa/kubia"}]}}}}),
    ("/apis/apps/v1/namespaces/default/replicasets", {
        "apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "front"},
        "spec": {"replicas": 1,
                 "selector": {"matchLabels": {"app": "front"},
                              "matchExpressions": [{"key": "env", "operator": "In",
                                                    "values": ["prod"]}]},
                 "template": {"metadata": {"labels": {"app": "front", "env": "prod"}},
                              "spec": {"containers": [{"name": "nginx", "image": "nginx"}]}}}}),
    ("/api/v1/namespaces/default/services", {
        "apiVersion": "v1", "kind": "Service", "metadata": {"name": "kubia"},
        "spec": {"type": "NodePort", "selector": {"app": "kubia"},
                 "ports": [{"port": 80, "targetPort": 8080, "nodePort": 30080}]}}),
    ("/api/v1/namespaces/default/services", {
        "apiVersion": "v1", "kind": "Service", "metadata": {"name": "edge"},
        "spec": {"type": "LoadBalancer", "selector": {"app": "front"},
                 "ports": [{"port": 443, "targetPort": 8443, "nodePort": 30443}]}}),
    ("/apis/batch/v1/namespaces/default/jobs", {
        "apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "batch"},
        "spec": {"template": {"spec": {"restartPolicy": "OnFailure", "containers": [
            {"name": "main", "image": "luksa/batch-job"}]}}}}),
    ("/apis/batch/v1/namespaces/default/cronjobs", {
        "apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "every"},
        "spec": {"schedule": "*/15 * * * *", "jobTemplate": {"spec": {"template": {"spec": {
            "restartPolicy": "OnFailure",
            "containers": [{"name": "main", "image": "luksa/batch-job"}]}}}}}}),
]


@pytest.fixture(scope="module")
def lab(live_kubelab):
    create_cluster(live_kubelab, LAB, 3)
    status, body = api(live_kubelab, "PATCH", "/apis/kubelab.io/v1/clocks/cluster",
                       {"spec": {"paused": False, "speed": 10}}, "application/merge-patch+json")
    assert status == 200, body
    create(live_kubelab, "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace",
                                                "metadata": {"name": "other"}})
    create(live_kubelab, "/api/v1/namespaces/default/pods",
           pod("web", {"app": "web", "env": "prod"}))
    create(live_kubelab, "/api/v1/namespaces/default/pods",
           pod("api", {"app": "api", "env": "devel"}, image="nginx"))
    create(live_kubelab, "/api/v1/namespaces/default/pods", pod("db", {"app": "db", "env": "test"}))
    # Never placed: no node carries this label, so it stays Pending.
    create(live_kubelab, "/api/v1/namespaces/default/pods",
           pod("stuck", {"app": "stuck"}, nodeSelector={"disk": "none-such"}))
    create(live_kubelab, "/api/v1/namespaces/default/pods",
           pod("crash", {"app": "crash"}, image="busybox",
               container={"command": ["sh", "-c", "exit 1"]}))
    create(live_kubelab, "/api/v1/namespaces/other/pods",
           pod("elsewhere", {"app": "web"}, namespace="other"))
    for path, obj in WORKLOADS:
        create(live_kubelab, path, obj)
    for name in ("web", "api", "db"):
        until(f"{name} to run", lambda n=name: pod_status(live_kubelab, n).get("phase")
              == "Running" and all(c.get("ready") for c in
                                   pod_status(live_kubelab, n).get("containerStatuses") or []))
    until("crash to restart", lambda: any(
        c.get("restartCount", 0) >= 1 and c.get("lastState", {}).get("terminated")
        for c in pod_status(live_kubelab, "crash").get("containerStatuses") or []))
    return live_kubelab


@pytest.fixture(scope="module")
def k(lab, tmp_path_factory):
    return Kubectl(lab, LAB, tmp_path_factory.mktemp("kubectl-get"))


def table(output):
    """kubectl's aligned table as (header names, [{header: cell}]); columns are cut where the
    header's names start, as kubectl's tabwriter aligns every cell under its header."""
    lines = [line for line in output.splitlines() if line.strip()]
    header = lines[0]
    starts = [m.start() for m in re.finditer(r"(?:^|(?<=\s{2}))\S", header)]
    names = [header[a:b].strip() for a, b in zip(starts, starts[1:] + [None])]
    rows = []
    for line in lines[1:]:
        cells = [line[a:b].strip() for a, b in zip(starts, starts[1:] + [None])]
        rows.append(dict(zip(names, cells)))
    return names, rows


def by_name(rows, column="NAME"):
    return {row[column]: row for row in rows}


# ---------------------------------------------------------------------------------------------
# kubectl get pods and its flags


def test_get_pods_prints_ready_status_restarts_age(k):
    names, rows = table(k("get", "pods"))
    assert names == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    pods = by_name(rows)
    assert {"web", "api", "db", "stuck", "crash"} <= set(pods)
    assert "elsewhere" not in pods              # another namespace
    web = pods["web"]
    assert (web["READY"], web["STATUS"], web["RESTARTS"]) == ("1/1", "Running", "0")
    assert re.fullmatch(AGE, web["AGE"])
    assert (pods["stuck"]["READY"], pods["stuck"]["STATUS"]) == ("0/1", "Pending")


def test_a_crashing_pod_shows_its_restarts_and_how_long_ago(k):
    crash = by_name(table(k("get", "pod", "crash"))[1])["crash"]
    assert crash["STATUS"] in ("CrashLoopBackOff", "Error", "Running")
    assert re.fullmatch(rf"[1-9]\d* \({AGE} ago\)", crash["RESTARTS"]), crash


def test_get_pods_wide_adds_ip_node_nominated_node_and_readiness_gates(k, lab):
    names, rows = table(k("get", "pods", "-o", "wide"))
    assert names == ["NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE",
                     "NOMINATED NODE", "READINESS GATES"]
    web, stuck = by_name(rows)["web"], by_name(rows)["stuck"]
    status = pod_status(lab, "web")
    assert web["IP"] == status["podIP"] and re.fullmatch(r"node-\d", web["NODE"])
    assert (web["NOMINATED NODE"], web["READINESS GATES"]) == ("<none>", "<none>")
    assert (stuck["IP"], stuck["NODE"]) == ("<none>", "<none>")


def test_show_labels_and_label_columns_come_from_the_rows_metadata(k):
    labels = by_name(table(k("get", "pods", "--show-labels"))[1])
    assert labels["web"]["LABELS"] == "app=web,env=prod"
    names, rows = table(k("get", "pods", "-L", "app", "-L", "env"))
    assert names[-2:] == ["APP", "ENV"]
    assert (by_name(rows)["api"]["APP"], by_name(rows)["api"]["ENV"]) == ("api", "devel")


def test_a_set_based_label_selector_picks_the_pods(k):
    rows = table(k("get", "po", "-l", "env in (prod,devel)"))[1]
    names = {row["NAME"] for row in rows}
    assert {"web", "api"} <= names and "db" not in names and "stuck" not in names
    assert all(n in ("web", "api") or n.startswith(("kubia-", "front-")) for n in names)


def test_a_field_selector_on_the_phase(k):
    names = {row["NAME"] for row in table(
        k("get", "pods", "--field-selector", "status.phase=Running"))[1]}
    assert {"web", "api", "db"} <= names and "stuck" not in names


def test_all_namespaces_adds_the_namespace_column(k):
    names, rows = table(k("get", "pods", "-A", "-l", "app=web"))
    assert names[:2] == ["NAMESPACE", "NAME"]
    assert {(row["NAMESPACE"], row["NAME"]) for row in rows} == \
        {("default", "web"), ("other", "elsewhere")}


def test_sort_by_a_spec_field_needs_the_whole_object_in_each_row(k):
    rows = table(k("get", "pods", "-l", "app in (web,api,db)",
                   "--sort-by=.spec.containers[0].image"))[1]
    # luksa/kubia (web, db) sorts before nginx (api).
    assert [row["NAME"] for row in rows][-1] == "api"
    names = [row["NAME"] for row in table(k("get", "pods", "--sort-by=.metadata.name"))[1]]
    assert names == sorted(names)


def test_output_name_jsonpath_and_yaml_read_the_plain_list(k):
    assert "pod/web" in k("get", "pods", "-o", "name").split()
    names = k("get", "pods", "-o", "jsonpath={.items[*].metadata.name}").split()
    assert {"web", "api", "db", "stuck"} <= set(names)
    listed = yaml.safe_load(k("get", "pods", "-l", "app=web", "-o", "yaml"))
    assert listed["kind"] == "List"
    assert [item["metadata"]["name"] for item in listed["items"]] == ["web"]
    assert listed["items"][0]["kind"] == "Pod"


def test_get_one_pod_by_name(k):
    names, rows = table(k("get", "pod", "web"))
    assert names == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert [row["NAME"] for row in rows] == ["web"]


# ---------------------------------------------------------------------------------------------
# Other kinds


def test_get_nodes(k, lab):
    names, rows = table(k("get", "nodes"))
    assert names == ["NAME", "STATUS", "ROLES", "AGE", "VERSION"]
    status, node = api(lab, "GET", "/api/v1/nodes/node-1")
    assert [row["NAME"] for row in rows] == ["node-1", "node-2", "node-3"]
    assert by_name(rows)["node-1"] == {
        "NAME": "node-1", "STATUS": "Ready", "ROLES": "<none>",
        "AGE": by_name(rows)["node-1"]["AGE"],
        "VERSION": node["status"]["nodeInfo"]["kubeletVersion"]}
    wide = table(k("get", "nodes", "-o", "wide"))[0]
    assert wide[5:] == ["INTERNAL-IP", "EXTERNAL-IP", "OS-IMAGE", "KERNEL-VERSION",
                        "CONTAINER-RUNTIME"]


def test_get_services(k):
    names, rows = table(k("get", "svc"))
    assert names == ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"]
    services = by_name(rows)
    assert (services["kubia"]["TYPE"], services["kubia"]["EXTERNAL-IP"],
            services["kubia"]["PORT(S)"]) == ("NodePort", "<none>", "80:30080/TCP")
    assert (services["edge"]["EXTERNAL-IP"], services["edge"]["PORT(S)"]) == \
        ("<pending>", "443:30443/TCP")
    assert re.fullmatch(r"10\.\d+\.\d+\.\d+", services["kubia"]["CLUSTER-IP"])


def test_get_endpoints_lists_the_ready_pods(k, lab):
    until("endpoints for kubia", lambda: "10." in k("get", "ep", "kubia"))
    row = by_name(table(k("get", "ep", "kubia"))[1])["kubia"]
    assert re.fullmatch(r"10\.244\.\d+\.\d+:8080,10\.244\.\d+\.\d+:8080", row["ENDPOINTS"])


def test_get_rc_and_rs_together(k):
    output = k("get", "rc,rs", "-o", "wide")
    rc_part, rs_part = output.split("\n\n")
    names, rows = table(rc_part)
    assert names == ["NAME", "DESIRED", "CURRENT", "READY", "AGE", "CONTAINERS", "IMAGES",
                     "SELECTOR"]
    kubia = by_name(rows)["replicationcontroller/kubia"]
    assert (kubia["DESIRED"], kubia["CONTAINERS"], kubia["IMAGES"], kubia["SELECTOR"]) == \
        ("2", "kubia", "luksa/kubia", "app=kubia")
    front = by_name(table(rs_part)[1])["replicaset.apps/front"]
    assert (front["DESIRED"], front["SELECTOR"]) == ("1", "app=front,env in (prod)")


def test_get_jobs_and_cronjobs_with_status_and_timezone(k):
    output = k("get", "jobs,cronjobs")
    job_part, cron_part = output.split("\n\n")
    names, rows = table(job_part)
    assert names == ["NAME", "STATUS", "COMPLETIONS", "DURATION", "AGE"]
    job = by_name(rows)["job.batch/batch"]
    assert job["STATUS"] in ("Running", "Complete") and job["COMPLETIONS"] in ("0/1", "1/1")
    names, rows = table(cron_part)
    assert names == ["NAME", "SCHEDULE", "TIMEZONE", "SUSPEND", "ACTIVE", "LAST SCHEDULE",
                     "AGE"]
    every = by_name(rows)["cronjob.batch/every"]
    assert (every["SCHEDULE"], every["TIMEZONE"], every["SUSPEND"]) == \
        ("*/15 * * * *", "<none>", "False")


def test_get_namespaces(k):
    rows = by_name(table(k("get", "ns"))[1])
    assert rows["other"]["STATUS"] == "Active" and "kube-system" in rows


def test_get_events_prints_kubelabs_decisions(k):
    names, rows = table(k("get", "events", "--field-selector", "involvedObject.name=web"))
    assert names == ["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]
    scheduled = next(row for row in rows if row["REASON"] == "Scheduled")
    assert (scheduled["TYPE"], scheduled["OBJECT"]) == ("Normal", "pod/web")
    assert scheduled["MESSAGE"].startswith("Successfully assigned default/web to node-")


def test_describe_pod_shows_its_events(k):
    output = k("describe", "pod", "web")
    assert re.search(r"^Name:\s+web$", output, re.M)
    events = output.split("Events:")[1]
    assert re.search(r"Normal\s+Scheduled\s+\S+\s+default-scheduler\s+Successfully assigned "
                     r"default/web to node-\d", events)
    assert re.search(r"Normal\s+Started\s+\S+\s+kubelet\s+Started container main", events)


def test_describe_rc_and_node_show_their_controllers_events(k):
    rc_events = k("describe", "rc", "kubia").split("Events:")[1]
    assert len(re.findall(r"Normal\s+SuccessfulCreate\s+\S+\s+replication-controller\s+"
                          r"Created pod: kubia-\w{5}", rc_events)) == 2
    node_events = k("describe", "node", "node-1").split("Events:")[1]
    assert re.search(r"Normal\s+NodeReady\s+\S+\s+kubelet\s+Node node-1 status is now: "
                     r"NodeReady", node_events)
