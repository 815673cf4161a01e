"""The proxy subresources of Services and pods over HTTP (Django's test client), answered
as Kubernetes 1.32's API server answers them."""

import json
import random
import urllib.error
import urllib.request

import pytest
import yaml

from cluster import store, traffic
from tests.builders import KUBIA_READINESS, KUBIA_RC, apply_ok
from tests.kubectl import Kubectl
from tests.live import create_cluster, until

BASE = "/clusters/test/api/v1/namespaces/default"

SERVICE_TEXT = """apiVersion: v1
kind: Service
metadata:
  name: kubia
spec:
  ports:
  - name: web
    port: 80
    targetPort: http
  selector:
    app: kubia
"""


@pytest.fixture
def clock(committed_clock):
    return committed_clock


@pytest.fixture(autouse=True)
def seeded():
    random.seed(3)
    traffic.reset_affinity()


def start(cluster, clock, probe=""):
    for text in (KUBIA_RC.format(replicas=2, probe=probe), SERVICE_TEXT):
        apply_ok(cluster, text)
    clock.run(10)


def pod_names(cluster):
    return sorted(p["metadata"]["name"]
                  for p in store.list_objects(cluster, store.kinds.get("Pod"), "default")[0])


def status_of(response):
    assert response["Content-Type"] == "application/json", response.content
    return json.loads(response.content)


@pytest.mark.parametrize("ident", ["kubia:80", "kubia:web", "http:kubia:80"])
def test_service_proxy_answers_with_a_ready_pods_reply(client, cluster, clock, ident):
    start(cluster, clock)
    response = client.get(f"{BASE}/services/{ident}/proxy/")
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain")
    body = response.content.decode()
    assert body.startswith("You've hit kubia-")
    assert body.strip().removeprefix("You've hit ") in pod_names(cluster)


def test_any_method_and_a_deeper_path_reach_the_pod(client, cluster, clock):
    start(cluster, clock)
    response = client.post(f"{BASE}/services/kubia:80/proxy/some/path", data="x",
                           content_type="text/plain")
    assert response.status_code == 200 and b"You've hit" in response.content


def test_no_ready_endpoint_is_a_503_in_the_api_servers_words(client, cluster, clock):
    start(cluster, clock, probe=KUBIA_READINESS)
    response = client.get(f"{BASE}/services/kubia:80/proxy/")
    assert response.status_code == 503
    status = status_of(response)
    assert status["reason"] == "ServiceUnavailable"
    assert status["message"] == 'no endpoints available for service "kubia:80"'


def test_no_port_means_the_unnamed_port_as_the_api_server_reads_it(client, cluster, clock):
    # The Service's only port is named `web`: without a port in the URL the API server looks
    # for an unnamed one, and finds no endpoint.
    start(cluster, clock)
    response = client.get(f"{BASE}/services/kubia/proxy/")
    assert response.status_code == 503
    assert status_of(response)["message"] == 'no endpoints available for service "kubia"'


def test_an_unknown_service_port_is_named(client, cluster, clock):
    start(cluster, clock)
    response = client.get(f"{BASE}/services/kubia:81/proxy/")
    assert response.status_code == 503
    assert status_of(response)["message"] == 'no service port 81 found for service "kubia"'


def test_a_missing_service_is_a_404_and_a_bad_name_a_400(client, cluster, clock):
    response = client.get(f"{BASE}/services/nothing/proxy/")
    assert response.status_code == 404
    assert status_of(response)["message"] == 'services "nothing" not found'
    response = client.get(f"{BASE}/services/a:b:c:d/proxy/")
    assert response.status_code == 400
    assert status_of(response)["message"] == 'invalid service request "a:b:c:d"'
    response = client.get(f"{BASE}/services/https:kubia:443/proxy/")
    assert response.status_code == 503
    assert "plain HTTP" in status_of(response)["message"]


def test_pod_proxy_uses_the_first_declared_port_or_the_given_one(client, cluster, clock):
    start(cluster, clock)
    name = pod_names(cluster)[0]
    for ident in (name, f"{name}:8080", f"{name}:http"):
        response = client.get(f"{BASE}/pods/{ident}/proxy/")
        assert response.status_code == 200, response.content
        assert response.content.decode() == f"You've hit {name}\n"
    # Nothing listens on 9999: the dial is refused.
    response = client.get(f"{BASE}/pods/{name}:9999/proxy/")
    assert response.status_code == 503
    assert status_of(response)["message"].endswith(":9999: connect: connection refused")


# --- real kubectl against a live kubelab ------------------------------------------------------

LIVE = "proxy-lab"


def live_api(server, method, path, body=None, content_type="application/json"):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"{server.url}/clusters/{LIVE}{path}", data=data,
                                     method=method, headers={"Content-Type": content_type})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


@pytest.fixture(scope="module")
def live(live_kubelab):
    create_cluster(live_kubelab, LIVE, 2)
    status, body = live_api(live_kubelab, "PATCH", "/apis/kubelab.io/v1/clocks/cluster",
                            {"spec": {"paused": False, "speed": 10}},
                            "application/merge-patch+json")
    assert status == 200, body
    for text in (KUBIA_RC.format(replicas=2, probe=""), SERVICE_TEXT):
        obj = yaml.safe_load(text)
        plural = "replicationcontrollers" if obj["kind"] == "ReplicationController" \
            else "services"
        status, body = live_api(live_kubelab, "POST", f"/api/v1/namespaces/default/{plural}",
                                obj)
        assert status == 201, body
    until("the endpoints", lambda: live_api(
        live_kubelab, "GET", "/api/v1/namespaces/default/services/kubia:80/proxy/")[0] == 200)
    return live_kubelab


def test_proxy_over_http_on_the_live_server(live):
    status, body = live_api(live, "GET", "/api/v1/namespaces/default/services/kubia:80/proxy/")
    assert status == 200 and body.startswith("You've hit kubia-")


def test_kubectl_get_raw_reaches_a_pod_through_the_service_proxy(live, tmp_path_factory):
    # `get --raw` replaces the kubeconfig server's path (/clusters/{c}): the bare /api path
    # reaches the cluster its bearer token names, and the prefixed one works too.
    k = Kubectl(live, LIVE, tmp_path_factory.mktemp("k"))
    base = "/api/v1/namespaces/default/services"
    out = k("get", "--raw", f"{base}/kubia:80/proxy/")
    assert out.startswith("You've hit kubia-")
    out = k("get", "--raw", f"/clusters/{LIVE}{base}/kubia:80/proxy/")
    assert out.startswith("You've hit kubia-")
    result = k.run("get", "--raw", f"{base}/kubia:81/proxy/")
    assert not result.ok
    assert "no service port 81 found for service" in result.stderr, result.stderr
