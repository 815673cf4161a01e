"""The cluster network: DNS names, kube-proxy's routing to ready endpoints, ClientIP affinity,
curl in an exec console, and readiness end to end, on a manual clock with a seeded random."""

import json
import random

import pytest

from cluster import kinds, store, traffic
from cluster.controllers.kubelet import exec_command
from cluster.models import ApiObject, ContainerLog
from tests.builders import KUBIA_READINESS, KUBIA_RC, apply_ok

SERVICE = kinds.get("Service")

SERVICE_TEXT = """apiVersion: v1
kind: Service
metadata:
  name: kubia
spec:
{extra}  ports:
  - name: web
    port: 80
    targetPort: http
  selector:
    app: kubia
"""

CLIENT_TEXT = """apiVersion: v1
kind: Pod
metadata:
  name: client
spec:
  containers:
  - name: main
    image: busybox
    command: ["sleep", "9999999"]
"""


@pytest.fixture
def clock(committed_clock):
    return committed_clock


@pytest.fixture(autouse=True)
def seeded():
    random.seed(7)
    traffic.reset_affinity()
    yield
    traffic.reset_affinity()


def start(cluster, clock, *, replicas=3, probe="", extra=""):
    apply_ok(cluster, KUBIA_RC.format(replicas=replicas, probe=probe))
    apply_ok(cluster, SERVICE_TEXT.format(extra=extra))
    clock.run(10)


def kubia_pods(cluster):
    return sorted(row.name for row in ApiObject.objects.filter(
        cluster=cluster, kind="Pod", labels__app="kubia"))


def cluster_ip(cluster):
    return store.get(cluster, SERVICE, "default", "kubia")["spec"]["clusterIP"]


def hits(cluster, count, client_ip="10.0.0.7", host="kubia", clock=None):
    network = traffic.Network(cluster)
    seen = {}
    for _ in range(count):
        reply = network.send(host, 80, "/", client_ip)
        seen[reply.pod] = seen.get(reply.pod, 0) + 1
        if clock is not None:
            network.flush()
            clock.tick(1)
            network = traffic.Network(cluster)
    network.flush()
    return seen


@pytest.mark.parametrize("name", ["kubia", "kubia.default", "kubia.default.svc",
                                  "kubia.default.svc.cluster.local",
                                  "kubia.default.svc.cluster.local.", "KUBIA"])
def test_service_names_resolve_to_the_cluster_ip(cluster, clock, name):
    start(cluster, clock, replicas=1)
    assert traffic.Network(cluster).resolve(name, "default") == cluster_ip(cluster)


def test_a_relative_name_is_looked_up_in_the_clients_namespace(cluster, clock):
    start(cluster, clock, replicas=1)
    network = traffic.Network(cluster)
    with pytest.raises(LookupError):
        network.resolve("kubia", "kube-system")
    assert network.resolve("kubia.default", "kube-system") == cluster_ip(cluster)
    with pytest.raises(LookupError):
        network.resolve("nothing.default.svc.cluster.local")


def test_requests_spread_over_the_ready_pods_and_the_pod_answers(cluster, clock):
    start(cluster, clock)
    seen = hits(cluster, 60)
    assert sorted(seen) == kubia_pods(cluster)
    reply = traffic.Network(cluster).send(cluster_ip(cluster), 80, "/", "10.0.0.7")
    assert reply.status == 200 and reply.body == f"You've hit {reply.pod}\n"
    # targetPort `http` resolved to the pod's 8080.
    assert reply.endpoint.endswith(":8080") and reply.service == "default/kubia"


def test_the_pod_logs_the_request_it_received(cluster, clock):
    start(cluster, clock, replicas=1)
    network = traffic.Network(cluster)
    network.send("kubia", 80, "/", "10.0.0.7")
    network.flush()
    lines = list(ContainerLog.objects.filter(cluster=cluster).values_list("line", flat=True))
    assert "Received request from ::ffff:10.0.0.7" in lines


def test_client_ip_affinity_keeps_a_client_on_one_pod_until_the_timeout(cluster, clock):
    start(cluster, clock, extra="""  sessionAffinity: ClientIP
  sessionAffinityConfig:
    clientIP:
      timeoutSeconds: 5
""")
    # A request every second: the same pod every time.
    assert len(hits(cluster, 8, clock=clock)) == 1
    # Another client may land elsewhere, but also sticks.
    assert len(hits(cluster, 5, client_ip="10.0.0.9")) == 1
    # After 5 s of silence the client's entry expired: over several clients' idle periods
    # the choice is made again and, with three pods, reaches another one.
    pods = set()
    for _ in range(10):
        pods |= set(hits(cluster, 1))
        clock.tick(6)
    assert len(pods) > 1


def test_no_ready_endpoint_refuses_the_connection(cluster, clock):
    start(cluster, clock, replicas=2, probe=KUBIA_READINESS)
    with pytest.raises(ConnectionRefusedError):
        traffic.Network(cluster).send("kubia", 80)


def test_an_unknown_port_on_a_cluster_ip_times_out(cluster, clock):
    start(cluster, clock, replicas=1)
    with pytest.raises(TimeoutError):
        traffic.Network(cluster).send("kubia", 81)


def test_node_ip_and_node_port_reach_the_service(cluster, clock):
    start(cluster, clock, replicas=1, extra="  type: NodePort\n")
    service = store.get(cluster, SERVICE, "default", "kubia")
    node_port = service["spec"]["ports"][0]["nodePort"]
    network = traffic.Network(cluster)
    node_ip = next(iter(network.node_ips))
    assert network.send(node_ip, node_port).body.startswith("You've hit kubia-")
    with pytest.raises(ConnectionRefusedError):
        network.send(node_ip, 1234)


def test_a_headless_service_resolves_to_a_ready_pod_ip(cluster, clock):
    start(cluster, clock, replicas=2, extra="  clusterIP: None\n")
    network = traffic.Network(cluster)
    ip = network.resolve("kubia")
    assert ip in network.pods_by_ip
    assert network.send("kubia", 8080).status == 200


def test_curl_in_an_exec_console_reaches_services_and_pods(cluster, clock):
    start(cluster, clock, replicas=2)
    apply_ok(cluster, CLIENT_TEXT)
    clock.run(5)
    code, out, _ = exec_command(cluster, "default", "client", None,
                                ["sh", "-c", "wget -qO- http://kubia"])
    assert code == 0 and "".join(out).startswith("You've hit kubia-")
    ip = cluster_ip(cluster)
    code, out, _ = exec_command(cluster, "default", "client", None,
                                ["wget", "-qO-", "kubia.default.svc.cluster.local:80"])
    assert code == 0 and "You've hit" in "".join(out)
    code, out, _ = exec_command(cluster, "default", "client", None,
                                ["wget", "-qO-", f"http://{ip}/"])
    assert code == 0 and "You've hit" in "".join(out)


def test_curl_names_an_unresolvable_host_and_a_refused_connection(cluster, clock):
    start(cluster, clock, replicas=1, probe=KUBIA_READINESS)
    pod = kubia_pods(cluster)[0]
    code, _, err = exec_command(cluster, "default", pod, "kubia",
                                ["curl", "-s", "-S", "http://nosuchservice"])
    assert code == 6 and "curl: (6) Could not resolve host: nosuchservice" in "".join(err)
    code, _, err = exec_command(cluster, "default", pod, "kubia",
                                ["curl", "-s", "-S", "http://kubia"])
    assert code == 7 and "Failed to connect to kubia port 80" in "".join(err)


def test_readiness_end_to_end_touch_makes_the_pod_join_and_get_traffic(cluster, clock):
    start(cluster, clock, replicas=2, probe=KUBIA_READINESS)
    first, second = kubia_pods(cluster)
    with pytest.raises(ConnectionRefusedError):
        traffic.Network(cluster).send("kubia", 80)
    exec_command(cluster, "default", first, "kubia", ["touch", "/var/ready"])
    clock.run(3)
    assert hits(cluster, 20) == {first: 20}
    # It fails readiness again: it leaves the endpoints without a restart.
    exec_command(cluster, "default", first, "kubia", ["rm", "/var/ready"])
    exec_command(cluster, "default", second, "kubia", ["touch", "/var/ready"])
    clock.run(5)
    assert hits(cluster, 20) == {second: 20}
    pod = store.get(cluster, kinds.get("Pod"), "default", first)
    assert pod["status"]["containerStatuses"][0]["restartCount"] == 0


# --- the board's traffic panel (POST /clusters/{c}/traffic) ---------------------------------

def post_traffic(client, body):
    return client.post("/clusters/test/traffic", json.dumps(body),
                       content_type="application/json")


def test_the_traffic_panel_gets_each_request_and_the_hits_per_pod(client, cluster, clock):
    start(cluster, clock)
    response = post_traffic(client, {"namespace": "default", "service": "kubia", "port": 80,
                                     "clientIP": "10.0.0.7", "count": 30})
    assert response.status_code == 200, response.content
    answer = response.json()
    assert [r["n"] for r in answer["requests"]] == list(range(1, 31))
    first = answer["requests"][0]
    assert set(first) == {"n", "client", "endpoint", "pod", "namespace", "node", "status",
                          "body"}
    assert first["client"] == "10.0.0.7" and first["body"] == f"You've hit {first['pod']}\n"
    assert sorted(answer["hits"]) == kubia_pods(cluster)
    assert sum(answer["hits"].values()) == 30
    # Port by name, or the first port when none is given.
    for port in ("web", None):
        body = {"service": "kubia", "clientIP": "10.0.0.7", "count": 1}
        if port:
            body["port"] = port
        assert post_traffic(client, body).json()["hits"]


def test_the_traffic_panel_shows_refused_requests(client, cluster, clock):
    start(cluster, clock, replicas=1, probe=KUBIA_READINESS)
    answer = post_traffic(client, {"service": "kubia", "clientIP": "10.0.0.7",
                                   "count": 2}).json()
    assert answer == {"requests": [{"n": 1, "client": "10.0.0.7", "error": "connection refused"},
                                   {"n": 2, "client": "10.0.0.7", "error": "connection refused"}],
                      "hits": {}}


@pytest.mark.parametrize("body,field", [
    ({"service": "kubia", "count": 0}, "count"),
    ({"service": "kubia", "count": 1001}, "count"),
    ({"service": "kubia", "count": "3"}, "count"),
    ({"service": "kubia", "clientIP": "not-an-ip"}, "clientIP"),
    ({"count": 1}, "service"),
    ({"service": "kubia", "port": 81}, "port"),
])
def test_bad_traffic_input_is_a_400_naming_the_field(client, cluster, clock, body, field):
    start(cluster, clock, replicas=1)
    response = post_traffic(client, body)
    assert response.status_code == 400, response.content
    assert field in response.json()["message"]


def test_an_unknown_service_is_a_404(client, cluster):
    response = post_traffic(client, {"service": "nothing"})
    assert response.status_code == 404
    assert response.json()["message"] == 'services "nothing" not found'


def test_a_pod_reaching_itself_through_its_service_answers_from_its_own_runtime(cluster,
                                                                                 clock):
    start(cluster, clock, replicas=1)
    (pod,) = kubia_pods(cluster)
    for _ in range(2):   # the second exec reads what the first saved: no stale write
        code, out, err = exec_command(cluster, "default", pod, "kubia",
                                      ["curl", "-s", "http://kubia.default"])
        assert code == 0, err
        assert "".join(out).strip() == f"You've hit {pod}"
    lines = list(ContainerLog.objects.filter(cluster=cluster).values_list("line", flat=True))
    assert lines.count(f"Received request from ::ffff:{pod_ip(cluster, pod)}") == 2


def pod_ip(cluster, name):
    return store.get(cluster, kinds.get("Pod"), "default", name)["status"]["podIP"]


def test_the_traffic_panel_shows_a_pod_joining_once_it_is_ready(client, cluster, clock):
    start(cluster, clock, replicas=2, probe=KUBIA_READINESS)
    body = {"service": "kubia", "clientIP": "10.0.0.7", "count": 10}
    assert post_traffic(client, body).json()["hits"] == {}
    first, _ = kubia_pods(cluster)
    exec_command(cluster, "default", first, "kubia", ["touch", "/var/ready"])
    clock.run(3)
    assert post_traffic(client, body).json()["hits"] == {first: 10}
