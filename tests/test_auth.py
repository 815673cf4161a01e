"""Who may use a cluster's API (cluster.api.auth), kubelab's certificates (cluster.tls), the
kubeconfig (manage.py kubeconfig and the board's button), and the scale and eviction
subresources, through Django's test client against clusters on a manual clock."""

import base64
import io
import json

import pytest
import yaml
from cryptography import x509
from django.core.management import call_command
from django.test import AsyncClient, Client

from cluster import bootstrap, tls
from cluster.api import auth
from cluster.errors import Unauthorized
from tests.builders import make_pod

JSON = "application/json"
MERGE = "application/merge-patch+json"
PODS = "/clusters/test/api/v1/namespaces/default/pods"
RCS = "/clusters/test/api/v1/namespaces/default/replicationcontrollers"
RSS = "/clusters/test/apis/apps/v1/namespaces/default/replicasets"


@pytest.fixture(autouse=True)
def tls_dir(settings, tmp_path):
    settings.TLS_DIR = tmp_path / "tls"
    settings.API_ANONYMOUS_LOOPBACK = True
    return settings.TLS_DIR


@pytest.fixture
def other(db):
    return bootstrap.create_cluster("other", nodes=1)


def bearer(token):
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def call(client, method, url, body=None, content_type=JSON, **extra):
    data = json.dumps(body) if body is not None else ""
    return client.generic(method, url, data, content_type=content_type, **extra)


# ---------------------------------------------------------------------------------------------
# authenticate()


def test_each_cluster_gets_its_own_random_token(cluster, other):
    assert len(cluster.token) >= 40 and len(other.token) >= 40
    assert cluster.token != other.token


def test_a_cluster_token_is_let_in_by_token(cluster):
    headers = {"Authorization": f"Bearer {cluster.token}"}
    assert auth.authenticate("test", headers, "203.0.113.9", "https") == auth.BY_TOKEN


def test_a_token_reaches_only_its_own_cluster(cluster, other):
    with pytest.raises(Unauthorized):
        auth.authenticate("test", {"Authorization": f"Bearer {other.token}"}, "127.0.0.1",
                          "https")


def test_a_wrong_token_is_refused_even_on_loopback_http(cluster):
    with pytest.raises(Unauthorized):
        auth.authenticate("test", {"Authorization": "Bearer nope"}, "127.0.0.1", "http")


def test_an_authorization_that_is_no_bearer_token_is_refused(cluster):
    with pytest.raises(Unauthorized):
        auth.authenticate("test", {"Authorization": f"Basic {cluster.token}"}, "127.0.0.1",
                          "http")


def test_asgi_scope_headers_are_read_too(cluster):
    headers = [(b"authorization", f"Bearer {cluster.token}".encode())]
    assert auth.authenticate("test", headers, "10.0.0.1", "wss") == auth.BY_TOKEN


@pytest.mark.parametrize("host", ["127.0.0.1", "127.8.9.1", "::1", "::ffff:127.0.0.1"])
def test_local_mode_lets_plain_http_from_loopback_in_without_a_token(cluster, host):
    assert auth.authenticate("test", {}, host, "http") == auth.BY_LOOPBACK
    assert auth.authenticate("test", {}, host, "ws") == auth.BY_LOOPBACK


def test_local_mode_does_not_cover_https_or_other_hosts(cluster):
    for host, scheme in (("127.0.0.1", "https"), ("192.168.1.5", "http"), ("", "http")):
        with pytest.raises(Unauthorized):
            auth.authenticate("test", {}, host, scheme)


def test_without_local_mode_loopback_needs_a_token_too(cluster, settings):
    settings.API_ANONYMOUS_LOOPBACK = False
    with pytest.raises(Unauthorized):
        auth.authenticate("test", {}, "127.0.0.1", "http")


# ---------------------------------------------------------------------------------------------
# The middleware on the API's URLs


def test_an_api_request_without_a_token_over_https_is_401_status(cluster):
    response = Client().get(PODS, secure=True)
    assert response.status_code == 401
    assert response.json() == {"kind": "Status", "apiVersion": "v1", "metadata": {},
                               "status": "Failure", "message": "Unauthorized",
                               "reason": "Unauthorized", "code": 401}


@pytest.mark.parametrize("path", ["/api/v1/nodes", "/apis", "/openapi/v3",
                                  "/api", "/apis/apps/v1/namespaces/default/replicasets"])
def test_every_api_url_asks_for_the_token(cluster, path):
    client = Client()
    assert client.get(f"/clusters/test{path}", secure=True).status_code == 401
    assert client.get(f"/clusters/test{path}", secure=True,
                      **bearer(cluster.token)).status_code == 200


def test_the_version_is_public_but_a_bad_token_is_still_refused(cluster):
    # system:public-info-viewer lets anonymous requests read /version; a wrong token is
    # refused before authorization is asked.
    client = Client(REMOTE_ADDR="192.0.2.7")
    assert client.get("/clusters/test/version", secure=True).json()["minor"] == "32"
    assert client.get("/clusters/test/version", secure=True, **bearer("nope")).status_code == 401
    assert client.post("/clusters/test/version", secure=True).status_code == 401


def test_a_token_of_another_cluster_is_refused_by_the_api(cluster, other):
    response = Client().get(PODS, secure=True, **bearer(other.token))
    assert response.status_code == 401


def test_local_mode_plain_http_on_loopback_needs_no_token(cluster):
    assert Client().get(PODS).status_code == 200


def test_plain_http_from_another_host_needs_the_token(cluster):
    client = Client(REMOTE_ADDR="192.0.2.7")
    assert client.get(PODS).status_code == 401
    assert client.get(PODS, **bearer(cluster.token)).status_code == 200


def test_pages_outside_the_api_ask_for_no_token(cluster, settings):
    settings.API_ANONYMOUS_LOOPBACK = False
    assert Client().get("/clusters/test/").status_code == 200


@pytest.mark.django_db(transaction=True)     # the async path reads from another thread
async def test_the_async_middleware_refuses_and_admits_as_the_sync_one(cluster):
    client = AsyncClient()
    assert (await client.get(PODS, secure=True)).status_code == 401
    token = {"Authorization": f"Bearer {cluster.token}"}
    assert (await client.get(PODS, secure=True, headers=token)).status_code == 200
    assert (await client.get(PODS)).status_code == 200       # local mode, loopback http


# ---------------------------------------------------------------------------------------------
# The board's own API calls: its session, from its own origin


def test_a_session_that_opened_the_board_may_use_that_clusters_api(cluster, other,
                                                                   settings):
    settings.API_ANONYMOUS_LOOPBACK = False
    client = Client(REMOTE_ADDR="192.0.2.7")
    assert client.get(PODS).status_code == 401
    assert client.get("/clusters/test/").status_code == 200
    assert client.get(PODS).status_code == 200
    # Only the cluster whose board it opened.
    assert client.get("/clusters/other/api/v1/nodes").status_code == 401


def test_the_board_session_is_refused_from_another_sites_page(cluster, settings):
    settings.API_ANONYMOUS_LOOPBACK = False
    client = Client(REMOTE_ADDR="192.0.2.7")
    client.get("/clusters/test/")
    url = f"{PODS}/x"
    assert call(client, "DELETE", url, {}, HTTP_ORIGIN="https://evil.example",
                HTTP_SEC_FETCH_SITE="cross-site").status_code == 401
    # The same request from the board's own page goes through (404: there is no pod x).
    assert call(client, "DELETE", url, {}, HTTP_ORIGIN="http://testserver", HTTP_HOST="testserver",
                HTTP_SEC_FETCH_SITE="same-origin").status_code == 404


# ---------------------------------------------------------------------------------------------
# Certificates and the kubeconfig


def test_tls_makes_a_ca_and_a_server_certificate_once_and_reuses_them(tls_dir):
    files = tls.ensure(tls_dir, hosts=("lab.example.com",))
    first = files.server_cert.read_bytes(), files.ca_cert.read_bytes()
    again = tls.ensure(tls_dir, hosts=("lab.example.com",))
    assert (again.server_cert.read_bytes(), again.ca_cert.read_bytes()) == first
    cert = x509.load_pem_x509_certificate(first[0])
    cert.verify_directly_issued_by(x509.load_pem_x509_certificate(first[1]))
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert set(sans.get_values_for_type(x509.DNSName)) == {"localhost", "lab.example.com"}
    assert {str(a) for a in sans.get_values_for_type(x509.IPAddress)} == {"127.0.0.1", "::1"}
    assert (files.server_key.stat().st_mode & 0o077) == 0      # the key is the owner's only


def test_a_new_host_gets_a_new_server_certificate_from_the_same_ca(tls_dir):
    first = tls.ensure(tls_dir)
    ca, server = first.ca_cert.read_bytes(), first.server_cert.read_bytes()
    second = tls.ensure(tls_dir, hosts=("10.1.2.3",))
    assert second.ca_cert.read_bytes() == ca
    assert second.server_cert.read_bytes() != server
    cert = x509.load_pem_x509_certificate(second.server_cert.read_bytes())
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "10.1.2.3" in {str(a) for a in sans.get_values_for_type(x509.IPAddress)}


def kubeconfig_of(name):
    out = io.StringIO()
    call_command("kubeconfig", "--cluster", name, stdout=out)
    return yaml.safe_load(out.getvalue())


def test_kubeconfig_command_prints_a_kind_style_kubeconfig(cluster, settings, tls_dir):
    settings.API_HOST, settings.HTTPS_PORT = "127.0.0.1", 6443
    config = kubeconfig_of("test")
    assert config["current-context"] == "kubelab-test"
    assert config["clusters"][0]["name"] == "kubelab-test"
    server = config["clusters"][0]["cluster"]
    assert server["server"] == "https://127.0.0.1:6443/clusters/test"
    ca_pem = base64.b64decode(server["certificate-authority-data"])
    assert ca_pem == (tls_dir / "ca.crt").read_bytes()
    assert config["users"] == [{"name": "kubelab-test", "user": {"token": cluster.token}}]
    assert config["contexts"] == [{"name": "kubelab-test", "context": {
        "cluster": "kubelab-test", "user": "kubelab-test", "namespace": "default"}}]


def test_kubeconfig_of_an_ipv6_host_brackets_it(cluster, settings):
    settings.API_HOST = "::1"
    assert kubeconfig_of("test")["clusters"][0]["cluster"]["server"].startswith(
        "https://[::1]:")


def test_kubeconfig_of_a_missing_cluster_names_the_clusters_there_are(cluster):
    from django.core.management import CommandError
    with pytest.raises(CommandError, match='no cluster named "nope" \\(clusters: test\\)'):
        call_command("kubeconfig", "--cluster", "nope", stdout=io.StringIO())


def test_the_board_downloads_the_same_kubeconfig(cluster):
    response = Client().get("/clusters/test/kubeconfig")
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="kubelab-test.yaml"'
    assert response["Cache-Control"] == "no-store"
    assert yaml.safe_load(response.content) == kubeconfig_of("test")
    assert b'href="/clusters/test/kubeconfig"' in Client().get("/clusters/test/").content


def test_a_reset_keeps_the_clusters_token(cluster):
    token = cluster.token
    bootstrap.reset_cluster(cluster)
    cluster.refresh_from_db()
    assert cluster.token == token


# ---------------------------------------------------------------------------------------------
# The scale subresource


def make_rc(client, replicas=2):
    rc = {"apiVersion": "v1", "kind": "ReplicationController", "metadata": {"name": "kubia"},
          "spec": {"replicas": replicas, "selector": {"app": "kubia", "tier": "web"},
                   "template": {"metadata": {"labels": {"app": "kubia", "tier": "web"}},
                                "spec": {"containers": [{"name": "c",
                                                         "image": "luksa/kubia"}]}}}}
    response = call(client, "POST", RCS, rc)
    assert response.status_code == 201, response.content
    return response.json()


def test_get_scale_of_an_rc_is_an_autoscaling_v1_scale(cluster):
    client = Client()
    rc = make_rc(client)
    scale = client.get(f"{RCS}/kubia/scale").json()
    meta = rc["metadata"]
    assert scale == {
        "kind": "Scale", "apiVersion": "autoscaling/v1",
        "metadata": {"name": "kubia", "namespace": "default", "uid": meta["uid"],
                     "resourceVersion": meta["resourceVersion"],
                     "creationTimestamp": meta["creationTimestamp"]},
        "spec": {"replicas": 2}, "status": {"replicas": 0, "selector": "app=kubia,tier=web"}}


def test_merge_patch_of_scale_sets_the_rcs_replicas(cluster, committed_clock):
    client = Client()
    make_rc(client)
    response = call(client, "PATCH", f"{RCS}/kubia/scale", {"spec": {"replicas": 5}}, MERGE)
    assert response.status_code == 200, response.content
    assert response.json()["spec"]["replicas"] == 5
    rc = client.get(f"{RCS}/kubia").json()
    assert rc["spec"]["replicas"] == 5 and rc["metadata"]["generation"] == 2
    committed_clock.run(3)
    assert client.get(f"{RCS}/kubia/scale").json()["status"]["replicas"] == 5


def test_put_scale_with_a_stale_resource_version_is_a_conflict(cluster):
    client = Client()
    make_rc(client)
    scale = client.get(f"{RCS}/kubia/scale").json()
    call(client, "PATCH", f"{RCS}/kubia/scale", {"spec": {"replicas": 3}}, MERGE)
    scale["spec"]["replicas"] = 4
    response = call(client, "PUT", f"{RCS}/kubia/scale", scale)
    assert response.status_code == 409
    assert response.json()["message"].startswith(
        'Operation cannot be fulfilled on replicationcontrollers "kubia"')
    fresh = client.get(f"{RCS}/kubia/scale").json()
    fresh["spec"]["replicas"] = 4
    assert call(client, "PUT", f"{RCS}/kubia/scale", fresh).json()["spec"]["replicas"] == 4


def test_negative_replicas_are_invalid_as_the_api_server_says(cluster):
    client = Client()
    make_rc(client)
    response = call(client, "PATCH", f"{RCS}/kubia/scale", {"spec": {"replicas": -1}}, MERGE)
    assert response.status_code == 422
    assert response.json()["message"] == ('Scale.autoscaling "kubia" is invalid: '
                                          "spec.replicas: Invalid value: -1: must be greater "
                                          "than or equal to 0")


def test_replicas_that_are_no_number_are_a_bad_request(cluster):
    client = Client()
    make_rc(client)
    response = call(client, "PATCH", f"{RCS}/kubia/scale", {"spec": {"replicas": "5"}}, MERGE)
    assert response.status_code == 400
    assert "ScaleSpec.spec.replicas of type int32" in response.json()["message"]


def test_scale_of_a_missing_rc_is_not_found_as_the_scale_rest_says(cluster):
    response = Client().get(f"{RCS}/nope/scale")
    assert response.status_code == 404
    assert response.json()["message"] == \
        'replicationcontrollers/scale.autoscaling "nope" not found'


def test_scale_of_a_replicaset_prints_its_set_based_selector(cluster):
    client = Client()
    rs = {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "front"},
          "spec": {"replicas": 1,
                   "selector": {"matchLabels": {"app": "front"},
                                "matchExpressions": [{"key": "env", "operator": "In",
                                                      "values": ["prod", "devel"]}]},
                   "template": {"metadata": {"labels": {"app": "front", "env": "prod"}},
                                "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}}
    assert call(client, "POST", RSS, rs).status_code == 201
    scale = call(client, "PATCH", f"{RSS}/front/scale", {"spec": {"replicas": 3}},
                 "application/strategic-merge-patch+json").json()
    assert scale["spec"]["replicas"] == 3
    assert scale["status"]["selector"] == "app=front,env in (devel,prod)"
    assert client.get(f"{RSS}/front").json()["spec"]["replicas"] == 3


def test_scale_dry_run_changes_nothing(cluster):
    client = Client()
    make_rc(client)
    response = call(client, "PATCH", f"{RCS}/kubia/scale?dryRun=All",
                    {"spec": {"replicas": 7}}, MERGE)
    assert response.json()["spec"]["replicas"] == 7
    assert client.get(f"{RCS}/kubia").json()["spec"]["replicas"] == 2


def test_pods_have_no_scale_subresource(cluster):
    assert Client().get(f"{PODS}/web/scale").status_code == 404


# ---------------------------------------------------------------------------------------------
# Eviction


def eviction(name, **delete_options):
    body = {"apiVersion": "policy/v1", "kind": "Eviction",
            "metadata": {"name": name, "namespace": "default"}}
    if delete_options:
        body["deleteOptions"] = delete_options
    return body


def running_pod(client, clock, name="web"):
    assert call(client, "POST", PODS, make_pod(name)).status_code == 201
    clock.run(5)
    pod = client.get(f"{PODS}/{name}").json()
    assert pod["status"]["phase"] == "Running"
    return pod


def test_an_eviction_deletes_the_pod_with_its_grace_period(cluster, clock):
    client = Client()
    running_pod(client, clock)
    response = call(client, "POST", f"{PODS}/web/eviction", eviction("web"))
    assert response.status_code == 201
    assert response.json() == {"kind": "Status", "apiVersion": "v1", "metadata": {},
                               "status": "Success"}
    pod = client.get(f"{PODS}/web").json()
    assert pod["metadata"]["deletionGracePeriodSeconds"] == 30
    clock.run(35)
    assert client.get(f"{PODS}/web").status_code == 404


def test_an_eviction_carries_its_delete_options(cluster, clock):
    client = Client()
    running_pod(client, clock)
    call(client, "POST", f"{PODS}/web/eviction", eviction("web", gracePeriodSeconds=3))
    assert client.get(f"{PODS}/web").json()["metadata"]["deletionGracePeriodSeconds"] == 3


def test_an_eviction_naming_another_pod_is_a_bad_request(cluster, clock):
    client = Client()
    running_pod(client, clock)
    response = call(client, "POST", f"{PODS}/web/eviction", eviction("other"))
    assert response.status_code == 400
    assert response.json()["message"] == "name in URL does not match name in Eviction object"


def test_evicting_a_missing_pod_is_not_found(cluster):
    response = call(Client(), "POST", f"{PODS}/gone/eviction", eviction("gone"))
    assert response.status_code == 404
    assert response.json()["message"] == 'pods "gone" not found'


def test_an_eviction_dry_run_keeps_the_pod(cluster, clock):
    client = Client()
    running_pod(client, clock)
    call(client, "POST", f"{PODS}/web/eviction?dryRun=All", eviction("web"))
    assert "deletionTimestamp" not in client.get(f"{PODS}/web").json()["metadata"]


def test_a_root_api_path_is_served_as_the_cluster_its_token_names(client, cluster, other):
    # kubectl get --raw /api/... drops the kubeconfig's /clusters/{c}: the token says which.
    answer = client.get("/api/v1/nodes", **bearer(other.token))
    assert answer.status_code == 200, answer.content
    assert len(answer.json()["items"]) == 1            # other's one node, not test's three
    assert client.get("/version", **bearer(cluster.token)).json()["minor"] == "32"
    refused = client.get("/api/v1/nodes", **bearer("nope"))
    assert refused.status_code == 401 and refused.json()["reason"] == "Unauthorized"
    assert client.get("/api").status_code == 401
