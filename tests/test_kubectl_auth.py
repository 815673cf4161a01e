"""Real kubectl against a live kubelab over HTTPS: the kubeconfig `manage.py kubeconfig` prints
(kubelab's CA, the cluster's token) works as a kind cluster's does; no token, a wrong one or
another cluster's is `error: You must be logged in to the server (...)`; plain HTTP
without a token works from loopback in local mode only.

Works in clusters of its own (`auth-a`, `auth-b`) on the shared live server, and starts one
server of its own with local mode off.
"""

import base64
import copy
import json
import ssl
import urllib.error
import urllib.request

import pytest
import yaml

from tests.kubectl import Kubectl
from tests.live import LiveServer
from tests.live import create_cluster

# What kubectl 1.32 prints on a 401. The parenthesis depends on which request met it: on
# discovery (a cold cache, as here) client-go words it "(the server has asked for the client
# to provide credentials)", as against a real cluster with a bad token; on a resource request
# after cached discovery, "(Unauthorized)" from the Status message.
UNAUTHORIZED = "error: You must be logged in to the server ("


@pytest.fixture(scope="module")
def lab(live_kubelab):
    create_cluster(live_kubelab, "auth-a", 1)
    create_cluster(live_kubelab, "auth-b", 1)
    return live_kubelab


@pytest.fixture(scope="module")
def k(lab, tmp_path_factory):
    return Kubectl(lab, "auth-a", tmp_path_factory.mktemp("kubectl-auth"))


def with_config(k, tmp_path, config):
    """A Kubectl of its own HOME (so no discovery cache is shared) reading `config`."""
    other = copy.copy(k)
    other.home = tmp_path / "home"
    other.home.mkdir()
    other.kubeconfig = other.home / "kubeconfig"
    other.kubeconfig.write_text(yaml.safe_dump(config))
    return other


def test_kubeconfig_command_prints_a_kubeconfig_for_https_with_ca_and_token(lab):
    config = yaml.safe_load(lab.manage("kubeconfig", "--cluster", "auth-a"))
    assert config["current-context"] == "kubelab-auth-a"
    cluster = config["clusters"][0]["cluster"]
    assert cluster["server"] == f"{lab.https_url}/clusters/auth-a"
    ca = base64.b64decode(cluster["certificate-authority-data"]).decode()
    assert ca.startswith("-----BEGIN CERTIFICATE-----")
    assert config["users"][0]["user"]["token"]
    # The CA verifies the server's certificate, for Python as for kubectl.
    context = ssl.create_default_context(cadata=ca)
    request = urllib.request.Request(
        cluster["server"] + "/api/v1/nodes",
        headers={"Authorization": f"Bearer {config['users'][0]['user']['token']}"})
    with urllib.request.urlopen(request, context=context, timeout=10) as response:
        assert response.status == 200


def test_kubectl_over_https_reaches_a_1_32_server(k):
    out = k("version")
    assert "Server Version: v1.32.0" in out
    assert k("get", "nodes", "-o", "name") == "node/node-1\n"


def test_kubectl_verifies_the_server_with_the_kubeconfigs_ca(k, tmp_path):
    config = k.config("default")
    from cluster import tls
    stranger = tls.ensure(tmp_path / "other-ca")        # another CA, not the server's
    config["clusters"][0]["cluster"]["certificate-authority-data"] = \
        base64.b64encode(stranger.ca_pem()).decode()
    result = with_config(k, tmp_path, config).run("get", "nodes")
    assert not result.ok
    assert "certificate signed by unknown authority" in result.stderr


def test_https_without_a_token_is_401_unauthorized_status(k, lab):
    config = k.config("default")
    ca = base64.b64decode(config["clusters"][0]["cluster"]["certificate-authority-data"])
    context = ssl.create_default_context(cadata=ca.decode())
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{lab.https_url}/clusters/auth-a/api/v1/pods", context=context,
                               timeout=10)
    assert refused.value.code == 401
    assert yaml.safe_load(refused.value.read()) == {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": "Unauthorized", "reason": "Unauthorized", "code": 401}


def test_kubectl_without_a_token_asks_for_credentials(k, tmp_path):
    # A kubeconfig user with nothing in it: on the 401, kubectl prompts for a username (as
    # against any cluster), and with no terminal to answer it gives up.
    config = k.config("default")
    config["users"][0]["user"] = {}
    result = with_config(k, tmp_path, config).run("get", "pods", input="")
    assert not result.ok
    assert "Please enter Username" in result.stdout


def test_kubectl_with_a_wrong_token_is_unauthorized(k, tmp_path):
    config = k.config("default")
    config["users"][0]["user"]["token"] = "not-the-token"
    result = with_config(k, tmp_path, config).run("get", "pods")
    assert UNAUTHORIZED in result.stderr


def test_a_token_of_one_cluster_does_not_reach_another(k, tmp_path):
    config = k.config("default")            # auth-a's token ...
    cluster = config["clusters"][0]["cluster"]
    cluster["server"] = cluster["server"].replace("/clusters/auth-a", "/clusters/auth-b")
    result = with_config(k, tmp_path, config).run("get", "pods")    # ... on auth-b
    assert UNAUTHORIZED in result.stderr


def plain_http_config(server, cluster):
    return {"apiVersion": "v1", "kind": "Config",
            "clusters": [{"name": "plain", "cluster": {
                "server": f"{server.url}/clusters/{cluster}"}}],
            "users": [{"name": "plain", "user": {}}],
            "contexts": [{"name": "plain", "context": {"cluster": "plain", "user": "plain"}}],
            "current-context": "plain"}


def test_plain_http_from_loopback_needs_no_token_in_local_mode(k, lab, tmp_path):
    out = with_config(k, tmp_path, plain_http_config(lab, "auth-a"))("get", "nodes")
    assert "node-1" in out


@pytest.fixture(scope="module")
def strict_server(tmp_path_factory):
    """A server of its own with local mode off, as a multi-user deployment runs."""
    server = LiveServer(tmp_path_factory.mktemp("strict"),
                        API_ANONYMOUS_LOOPBACK="false").start()
    yield server
    server.stop()


def test_without_local_mode_plain_http_needs_the_token(strict_server, tmp_path_factory):
    k = Kubectl(strict_server, "demo", tmp_path_factory.mktemp("strict-k"))
    # kubectl sends no token over http, so it is refused ...
    plain = with_config(k, tmp_path_factory.mktemp("strict-plain"),
                        plain_http_config(strict_server, "demo"))
    assert UNAUTHORIZED in plain.run("get", "nodes").stderr
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{strict_server.url}/clusters/demo/api/v1/nodes", timeout=10)
    assert refused.value.code == 401
    # ... while the kubeconfig's HTTPS and token work.
    assert "node-1" in k("get", "nodes")


def test_the_python_client_reads_the_kubeconfig(k):
    from kubernetes import client, config

    api = client.CoreV1Api(config.new_client_from_config(config_file=str(k.kubeconfig)))
    assert [n.metadata.name for n in api.list_node().items] == ["node-1"]


async def test_the_boards_websocket_works_over_https_too(k, lab):
    from websockets.asyncio.client import connect

    config = k.config("default")
    ca = base64.b64decode(config["clusters"][0]["cluster"]["certificate-authority-data"])
    context = ssl.create_default_context(cadata=ca.decode())
    url = lab.https_url.replace("https://", "wss://") + "/ws/clusters/auth-a/"
    async with connect(url, ssl=context) as ws:
        snapshot = json.loads(await ws.recv())
    assert snapshot["type"] == "snapshot"
