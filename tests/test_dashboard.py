"""The board's form endpoints: apply, step, describe, selector, cluster create/reset."""

import pytest

from cluster import store
from cluster.models import ApiObject, Cluster, SimClock
from tests.builders import make_pod

POD_YAML = """apiVersion: v1
kind: Pod
metadata:
  name: kubia
spec:
  containers:
  - name: kubia
    image: luksa/kubia
"""


def test_the_form_applies_and_reports_each_object(client, cluster):
    response = client.post("/clusters/test/apply", {"manifest": POD_YAML})
    assert response.status_code == 200
    assert response.json()["applied"][0] == {
        "document": 1, "kind": "Pod", "name": "kubia", "namespace": "default",
        "action": "created", "warnings": []}


def test_an_uploaded_file_is_applied(client, cluster):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("pod.yaml", POD_YAML.encode(), content_type="application/yaml")
    response = client.post("/clusters/test/apply", {"file": upload})
    assert response.json()["ok"] is True


def test_an_invalid_manifest_answers_422_with_lines_and_applies_nothing(client, cluster):
    response = client.post("/clusters/test/apply",
                           {"manifest": POD_YAML.replace("image: luksa/kubia", "imag: luksa/kubia")})
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert error["line"] == 8 and error["field"] == "spec.containers[0].imag"
    assert not ApiObject.objects.filter(kind="Pod").exists()


def test_text_over_a_mebibyte_is_refused(client, cluster):
    response = client.post("/clusters/test/apply", {"manifest": "#" * (1024 * 1024 + 1)})
    assert response.status_code == 413
    assert "limit is 1 MiB" in response.json()["errors"][0]["message"]


def test_step_asks_the_reconciler_to_advance_a_paused_clock(client, cluster):
    response = client.post("/clusters/test/clock/step", {"seconds": "10"})
    assert response.status_code == 200
    assert SimClock.objects.get(cluster=cluster).pending_step == 10


def test_describe_returns_yaml_and_events(client, cluster, clock):
    store.create(cluster, make_pod("kubia"))
    clock.tick(1)
    body = client.get("/clusters/test/describe/Pod/default/kubia").json()
    assert "nodeName: node-" in body["yaml"]
    assert [e["reason"] for e in body["events"]][:2] == ["Scheduled", "Pulling"]
    node = client.get("/clusters/test/describe/Node/node-1").json()
    assert node["object"]["metadata"]["name"] == "node-1"


def test_describe_of_a_missing_object_is_a_404_status(client, cluster):
    response = client.get("/clusters/test/describe/Pod/default/nope")
    assert response.status_code == 404
    assert response.json()["message"] == 'pods "nope" not found'


@pytest.mark.parametrize("text,ok", [("env in (prod,devel)", True), ("env in (prod", False),
                                     ("", True)])
def test_the_selector_box_is_parsed_by_the_server(client, cluster, text, ok):
    body = client.get("/clusters/test/selector", {"q": text}).json()
    assert body["ok"] is ok
    if ok:
        assert isinstance(body["requirements"], list)
    else:
        assert body["error"]


def test_creating_a_cluster_from_the_home_page(client, db):
    response = client.post("/clusters/new", {"name": "class-a", "nodes": "2"})
    assert response.status_code == 302 and response["Location"] == "/clusters/class-a/"
    created = Cluster.objects.get(name="class-a")
    assert created.api_objects.filter(kind="Node").count() == 2


@pytest.mark.parametrize("name,nodes,message", [
    ("Class_A", "2", "RFC 1123 label"), ("ok", "0", "between 1 and"), ("", "2", "name is required")])
def test_a_bad_cluster_form_is_refused_with_the_reason(client, db, name, nodes, message):
    response = client.post("/clusters/new", {"name": name, "nodes": nodes})
    assert response.status_code == 400
    assert message in response.content.decode()


def test_reset_brings_a_cluster_back_to_its_first_state(client, cluster):
    store.create(cluster, make_pod("kubia"))
    response = client.post("/clusters/test/reset")
    assert response.status_code == 302
    assert not ApiObject.objects.filter(cluster=cluster, kind="Pod").exists()
    assert ApiObject.objects.filter(cluster=cluster, kind="Node").count() == 3


def test_the_board_has_a_workloads_tab_beside_labels_and_events(client, cluster):
    page = client.get("/clusters/test/").content.decode()
    tabs = [page.index(f'id="tab-{name}"') for name in ("board", "labels", "workloads", "events")]
    assert tabs == sorted(tabs)
    assert 'id="view-workloads"' in page and 'id="delete-dialog"' in page
    for cascade in ("background", "foreground", "orphan"):
        assert f'name="cascade" value="{cascade}"' in page


def test_describe_finds_a_kind_by_its_name_alone(client, cluster):
    template = {"metadata": {"labels": {"app": "kubia"}},
                "spec": {"containers": [{"name": "kubia", "image": "luksa/kubia"}]}}
    store.create(cluster, {
        "apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "kubia"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "kubia"}},
                 "template": template}})
    body = client.get("/clusters/test/describe/ReplicaSet/default/kubia").json()
    assert body["object"]["kind"] == "ReplicaSet" and "selector:" in body["yaml"]
    # A group given is a group meant: ReplicaSets are not in the core group.
    assert client.get("/clusters/test/describe/ReplicaSet/default/kubia?group=").status_code == 404
