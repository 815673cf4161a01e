"""The Django admin: a page per kind, writes through the store, status read-only."""

import pytest
import yaml

from cluster import kinds, store
from cluster.models import Pod
from tests.builders import make_pod


@pytest.fixture
def admin_client(client, django_user_model):
    user = django_user_model.objects.create_superuser("admin", "admin@example.com", "pw")
    client.force_login(user)
    return client


def test_each_kind_has_its_own_page(admin_client, cluster):
    store.create(cluster, make_pod("kubia"))
    pods = admin_client.get("/admin/cluster/pod/")
    nodes = admin_client.get("/admin/cluster/node/")
    assert pods.status_code == nodes.status_code == 200
    assert b"kubia" in pods.content and b"node-1" not in pods.content
    assert b"node-1" in nodes.content and b"kubia" not in nodes.content


def test_a_pod_added_in_the_admin_goes_through_the_store(admin_client, cluster):
    manifest = yaml.safe_dump(make_pod("from-admin"))
    response = admin_client.post("/admin/cluster/pod/add/", {"cluster": cluster.pk,
                                                             "manifest": manifest})
    assert response.status_code == 302
    pod = store.get(cluster, kinds.get("Pod"), "default", "from-admin")
    assert pod["spec"]["restartPolicy"] == "Always"   # defaulted by the store
    assert pod["status"]["phase"] == "Pending"


def test_an_invalid_manifest_is_refused_with_the_field_path(admin_client, cluster):
    bad = make_pod("bad")
    del bad["spec"]["containers"][0]["image"]
    response = admin_client.post("/admin/cluster/pod/add/", {"cluster": cluster.pk,
                                                             "manifest": yaml.safe_dump(bad)})
    assert response.status_code == 200
    assert b"spec.containers[0].image: Required value" in response.content
    assert not Pod.objects.filter(name="bad").exists()


def test_editing_labels_saves_and_status_cannot_be_changed(admin_client, cluster, clock):
    store.create(cluster, make_pod("kubia"))
    clock.run(4)   # scheduled, then Running after the 2 s start
    row = Pod.objects.get(name="kubia")
    page = admin_client.get(f"/admin/cluster/pod/{row.pk}/change/")
    assert b"Status (read-only)" in page.content and b"Running" in page.content
    body = {k: v for k, v in row.body.items() if k != "status"}
    body["metadata"]["labels"] = {"env": "prod"}
    body["status"] = {"phase": "Failed"}   # ignored: the main resource keeps its status
    response = admin_client.post(f"/admin/cluster/pod/{row.pk}/change/",
                                 {"manifest": yaml.safe_dump(body)})
    assert response.status_code == 302
    pod = store.get(cluster, kinds.get("Pod"), "default", "kubia")
    assert pod["metadata"]["labels"] == {"env": "prod"}
    assert pod["status"]["phase"] == "Running"


def test_deleting_in_the_admin_is_a_graceful_delete(admin_client, cluster, clock):
    store.create(cluster, make_pod("kubia"))
    clock.run(4)
    row = Pod.objects.get(name="kubia")
    response = admin_client.post(f"/admin/cluster/pod/{row.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    pod = store.get(cluster, kinds.get("Pod"), "default", "kubia")
    assert pod["metadata"]["deletionTimestamp"]
