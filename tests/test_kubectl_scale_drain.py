"""Real kubectl against a live kubelab: `scale` (the scale subresource of rc and rs, with
`--current-replicas`), `cordon`, `uncordon` and `drain` (evictions, then waiting for the pods
to be gone), printing what kubectl 1.32 prints against a 1.32 cluster.

The module works in a cluster of its own (`ops-lab`, 2 nodes) whose clock runs at x50, so a
pod's 30 s grace period passes in about a wall second.
"""


import pytest

from tests import live
from tests.live import until
from tests.kubectl import Kubectl
from tests.live import create_cluster

LAB = "ops-lab"


def api(server, method, path, body=None, content_type="application/json"):
    return live.api(server, method, f"/clusters/{LAB}" + path, body, content_type)


def template(labels):
    return {"metadata": {"labels": labels},
            "spec": {"containers": [{"name": "main", "image": "luksa/kubia"}]}}


@pytest.fixture(scope="module")
def lab(live_kubelab):
    create_cluster(live_kubelab, LAB, 2)
    status, body = api(live_kubelab, "PATCH", "/apis/kubelab.io/v1/clocks/cluster",
                       {"spec": {"speed": 50}}, "application/merge-patch+json")
    assert status == 200, body
    return live_kubelab


@pytest.fixture(scope="module")
def k(lab, tmp_path_factory):
    return Kubectl(lab, LAB, tmp_path_factory.mktemp("kubectl-ops"))


def rc_status(server, name):
    status, body = api(server, "GET", f"/api/v1/namespaces/default/replicationcontrollers/{name}")
    assert status == 200, body
    return body


def pods_of(server, labels):
    selector = ",".join(f"{k}={v}" for k, v in labels.items())
    _status, body = api(server, "GET", f"/api/v1/namespaces/default/pods?labelSelector={selector}")
    return [p for p in body["items"] if not p["metadata"].get("deletionTimestamp")]


def test_scale_rc_sets_replicas_through_the_scale_subresource(k, lab):
    status, body = api(lab, "POST", "/api/v1/namespaces/default/replicationcontrollers", {
        "apiVersion": "v1", "kind": "ReplicationController", "metadata": {"name": "kubia"},
        "spec": {"replicas": 2, "selector": {"app": "kubia"},
                 "template": template({"app": "kubia"})}})
    assert status == 201, body
    assert k("scale", "rc", "kubia", "--replicas=5") == "replicationcontroller/kubia scaled\n"
    until("5 kubia pods", lambda: rc_status(lab, "kubia")["status"].get("replicas") == 5)
    assert rc_status(lab, "kubia")["spec"]["replicas"] == 5
    assert len(pods_of(lab, {"app": "kubia"})) == 5


def test_scale_with_current_replicas_checks_them_first(k, lab):
    until("kubia at 5", lambda: rc_status(lab, "kubia")["spec"]["replicas"] == 5)
    assert k("scale", "rc", "kubia", "--current-replicas=5", "--replicas=3") == \
        "replicationcontroller/kubia scaled\n"
    assert rc_status(lab, "kubia")["spec"]["replicas"] == 3
    refused = k.run("scale", "rc", "kubia", "--current-replicas=4", "--replicas=1")
    assert not refused.ok
    assert "Expected replicas to be 4, was 3" in refused.stderr
    assert rc_status(lab, "kubia")["spec"]["replicas"] == 3


def test_scale_rs(k, lab):
    status, body = api(lab, "POST", "/apis/apps/v1/namespaces/default/replicasets", {
        "apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "front"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "front"}},
                 "template": template({"app": "front"})}})
    assert status == 201, body
    assert k("scale", "rs", "front", "--replicas=2") == "replicaset.apps/front scaled\n"
    status, body = api(lab, "GET", "/apis/apps/v1/namespaces/default/replicasets/front/scale")
    assert body["spec"]["replicas"] == 2 and body["status"]["selector"] == "app=front"


def node(server, name):
    status, body = api(server, "GET", f"/api/v1/nodes/{name}")
    assert status == 200, body
    return body


def test_cordon_and_uncordon_a_node(k, lab):
    assert k("cordon", "node-2") == "node/node-2 cordoned\n"
    assert node(lab, "node-2")["spec"]["unschedulable"] is True
    assert "Ready,SchedulingDisabled" in k("get", "node", "node-2")
    assert k("cordon", "node-2") == "node/node-2 already cordoned\n"
    assert k("uncordon", "node-2") == "node/node-2 uncordoned\n"
    assert not node(lab, "node-2")["spec"].get("unschedulable")


def test_drain_evicts_the_nodes_pods_and_they_come_back_elsewhere(k, lab):
    until("kubia pods running", lambda: len(
        [p for p in pods_of(lab, {"app": "kubia"}) if p["status"].get("phase") == "Running"]) == 3)
    # A pod no controller owns, on node-1: only --force lets drain delete it.
    status, body = api(lab, "POST", "/api/v1/namespaces/default/pods", {
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "loner"},
        "spec": {"nodeName": "node-1", "containers": [{"name": "main", "image": "luksa/kubia"}]}})
    assert status == 201, body
    on_node_1 = sorted(p["metadata"]["name"] for p in pods_of(lab, {"app": "kubia"})
                       if p["spec"].get("nodeName") == "node-1")

    result = k.run("drain", "node-1", "--ignore-daemonsets", "--force", timeout=90)
    output = result.stdout + result.stderr
    assert result.ok, output
    assert "node/node-1 cordoned" in output
    assert "deleting Pods that declare no controller: default/loner" in output
    for name in on_node_1 + ["loner"]:
        assert f"evicting pod default/{name}" in output
        assert f"pod/{name} evicted" in output
    assert result.stdout.rstrip().endswith("node/node-1 drained")

    assert node(lab, "node-1")["spec"]["unschedulable"] is True
    status, body = api(lab, "GET", "/api/v1/pods?fieldSelector=spec.nodeName%3Dnode-1")
    assert body["items"] == []
    # The RC replaces what was evicted, on the node still schedulable.
    until("3 kubia pods on node-2", lambda: sorted(
        p["spec"].get("nodeName") for p in pods_of(lab, {"app": "kubia"})) == ["node-2"] * 3)
