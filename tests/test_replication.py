"""The replication controller: ReplicationControllers and ReplicaSets keep their pods, as
Kubernetes 1.32's pkg/controller/replicaset does (claim, manage, status), on a manual clock."""

import datetime as dt
import re
from pathlib import Path

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from cluster import apply, kinds, nodes_admin, store
from cluster.controllers import replication
from cluster.controllers.owned import owner_reference
from cluster.errors import FieldError, Forbidden, Invalid
from cluster.models import ApiObject, Change
from tests.builders import make_namespace, make_pod
from tests.conftest import START

POD = kinds.get("Pod")
RC = kinds.get("ReplicationController")
RS = kinds.get("ReplicaSet", "apps")
NAMESPACE = kinds.get("Namespace")
SEED_FILE = "/work/shared/seed/000_3812b945b6df1cdf.txt"

# The seed's manifests as its notes write them (section 4, lines 60-77; section 5, lines 84-103).
SEED_RC = """apiVersion: v1
kind: ReplicationController # RC의 manifest 정의
metadata:
  name: kubia
spec:
  replicas: 3
  selector:
    app: kubia # 관리하는 pod 선택
  template: # 새 pod 에 사용할 pod template
    metadata:
      labels:
        app: kubia
    spec:
      containers:
      - name: kubia
        image: luksa/kubia
        ports:
        - containerPort: 8080
"""
SEED_RS = """apiVersion: apps/v1beta2
kind: ReplicaSet
metadata:
  name: kubia
spec:
  replicas: 3
  selector:
    matchExpressions:
      - key: app # pod 의 키는 app 이다.
        operator: In # 이외에도 NotIn, Exists, DoesNotExist 등의 표현식이 있다.
        values:
         - kubia
  template:
    metadata:
      labels:
        app: kubia
    spec:
      containers:
      - name: kubia
        image: luksa/kubia
"""
# utilrand's alphabet, which generateName draws the 5 characters from.
GENERATED = re.compile(r"kubia-[bcdfghjklmnpqrstvwxz2456789]{5}\Z")


# --- helpers -----------------------------------------------------------------------------------

@pytest.fixture
def clock(committed_clock):
    return committed_clock


def applied(cluster, text):
    report = apply.apply_text(cluster, text)
    assert report.ok, report.as_dict()
    return report


def owner(cluster, kind=RC, name="kubia", namespace="default"):
    return store.get(cluster, kind, namespace, name)


def pods(cluster, namespace="default"):
    """Every pod of the namespace, oldest first."""
    return [r.body for r in ApiObject.objects.filter(cluster=cluster, kind="Pod",
                                                     namespace=namespace).order_by("id")]


def active(cluster, obj):
    """Names of the pods `obj` controls that are not terminating, oldest first."""
    return [p["metadata"]["name"] for p in pods(cluster, obj["metadata"]["namespace"])
            if p["metadata"].get("deletionTimestamp") is None
            and any(r.get("controller") and r["uid"] == obj["metadata"]["uid"]
                    for r in p["metadata"].get("ownerReferences") or [])]


def pod(cluster, name, namespace="default"):
    return store.get(cluster, POD, namespace, name)


def events(cluster, obj, reason=None):
    rows = ApiObject.objects.filter(cluster=cluster, kind="Event",
                                    owner_uid=obj["metadata"]["uid"]).order_by("resource_version")
    return [(r.body["type"], r.body["reason"], r.body["message"], r.body["source"]["component"])
            for r in rows if reason is None or r.body["reason"] == reason]


def scale(cluster, kind, replicas, name="kubia"):
    store.patch(cluster, kind, "default", name, {"spec": {"replicas": replicas}},
                store.MERGE_PATCH)


def relabel(cluster, name, labels):
    store.patch(cluster, POD, "default", name, {"metadata": {"labels": labels}},
                store.MERGE_PATCH)


def running_rc(cluster, clock, text=SEED_RC, kind=RC):
    """The manifest applied, its pods Running and Ready, its status caught up."""
    applied(cluster, text)
    clock.run(5)
    rc = owner(cluster, kind)
    assert rc["status"].get("readyReplicas") == rc["spec"]["replicas"]
    return rc


def make_rs(name="kubia", replicas=3, labels=None, template_labels=None, **spec):
    labels = labels or {"app": "kubia"}
    return {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": name},
            "spec": {"replicas": replicas, "selector": {"matchLabels": labels}, **spec,
                     "template": {"metadata": {"labels": template_labels or labels},
                                  "spec": {"containers": [{"name": "kubia",
                                                           "image": "luksa/kubia"}]}}}}


# --- the seed's manifests ----------------------------------------------------------------------

@pytest.mark.skipif(not Path(SEED_FILE).exists(), reason="the seed file is not on this machine")
def test_the_manifests_here_are_the_seeds_verbatim():
    seed = Path(SEED_FILE).read_text(encoding="utf-8")
    assert SEED_RC in seed and SEED_RS in seed


def test_the_seeds_rc_creates_three_pods_from_its_template_in_one_tick(cluster, clock):
    applied(cluster, SEED_RC)
    clock.tick(1)
    rc = owner(cluster)
    made = pods(cluster)
    assert len(made) == 3
    for p in made:
        meta = p["metadata"]
        assert GENERATED.match(meta["name"]) and meta["generateName"] == "kubia-"
        assert meta["labels"] == {"app": "kubia"}
        assert meta["ownerReferences"] == [{
            "apiVersion": "v1", "kind": "ReplicationController", "name": "kubia",
            "uid": rc["metadata"]["uid"], "controller": True, "blockOwnerDeletion": True}]
        container = p["spec"]["containers"][0]
        assert (container["image"], container["ports"][0]["containerPort"]) == (
            "luksa/kubia", 8080)
    # Created before the scheduler and the kubelet ran in the same tick: placed and starting.
    assert sorted(p["spec"]["nodeName"] for p in made) == ["node-1", "node-2", "node-3"]
    assert events(cluster, rc) == [
        ("Normal", "SuccessfulCreate", f"Created pod: {p['metadata']['name']}",
         "replication-controller") for p in made]


def test_the_seeds_replicaset_selects_with_match_expressions(cluster, clock):
    report = applied(cluster, SEED_RS)
    assert "apps/v1beta2 ReplicaSet is deprecated" in report.applied[0].warnings[0]
    clock.tick(1)
    rs = owner(cluster, RS)
    assert len(active(cluster, rs)) == 3
    ref = pods(cluster)[0]["metadata"]["ownerReferences"][0]
    assert (ref["apiVersion"], ref["kind"]) == ("apps/v1", "ReplicaSet")
    assert {e[3] for e in events(cluster, rs)} == {"replicaset-controller"}


# --- status --------------------------------------------------------------------------------------

def test_status_follows_the_pods_and_leaves_out_zero_counts(cluster, clock):
    applied(cluster, SEED_RC)
    assert owner(cluster)["status"] == {"replicas": 0}
    clock.tick(1)
    # Counted from the pods the sync found, before it created any (calculateStatus).
    assert owner(cluster)["status"] == {"replicas": 0, "observedGeneration": 1}
    clock.tick(1)
    assert owner(cluster)["status"] == {"replicas": 3, "fullyLabeledReplicas": 3,
                                        "observedGeneration": 1}
    clock.run(3)
    assert owner(cluster)["status"] == {"replicas": 3, "fullyLabeledReplicas": 3,
                                        "readyReplicas": 3, "availableReplicas": 3,
                                        "observedGeneration": 1}


def test_available_replicas_wait_for_min_ready_seconds(cluster, clock):
    store.create(cluster, make_rs(minReadySeconds=30))
    clock.run(5)
    status = owner(cluster, RS)["status"]
    assert status["readyReplicas"] == 3 and "availableReplicas" not in status
    clock.run(20, step=5)
    assert "availableReplicas" not in owner(cluster, RS)["status"]
    clock.run(15, step=5)
    assert owner(cluster, RS)["status"]["availableReplicas"] == 3


def test_fully_labeled_counts_pods_carrying_all_the_templates_labels(cluster, clock):
    store.create(cluster, make_rs(template_labels={"app": "kubia", "release": "beta"}))
    clock.run(5)
    assert owner(cluster, RS)["status"]["fullyLabeledReplicas"] == 3
    name = active(cluster, owner(cluster, RS))[0]
    relabel(cluster, name, {"release": None})     # still selected, no longer fully labeled
    clock.tick(1)
    status = owner(cluster, RS)["status"]
    assert (status["replicas"], status["fullyLabeledReplicas"]) == (3, 2)


# --- keeping the count -------------------------------------------------------------------------

def test_a_deleted_pod_is_replaced(cluster, clock):
    rc = running_rc(cluster, clock)
    victim = active(cluster, rc)[0]
    store.delete(cluster, POD, "default", victim)
    assert "deletionTimestamp" in pod(cluster, victim)["metadata"]   # Terminating: not counted
    clock.tick(1)
    now = active(cluster, rc)
    assert len(now) == 3 and victim not in now
    assert events(cluster, rc, "SuccessfulCreate")[-1][2] == f"Created pod: {now[-1]}"


def test_a_failed_pod_no_longer_counts_and_is_left_where_it_is(cluster, clock):
    rc = running_rc(cluster, clock)
    name = active(cluster, rc)[0]
    failed = pod(cluster, name)
    failed["status"]["phase"] = "Failed"       # as the kubelet reports an evicted pod
    store.update(cluster, failed, subresource="status")
    clock.tick(1)
    assert pod(cluster, name)["status"]["phase"] == "Failed"
    now = [n for n in active(cluster, rc) if pod(cluster, n)["status"]["phase"] != "Failed"]
    assert len(now) == 3 and name not in now
    assert owner(cluster)["status"]["replicas"] == 2   # counted before the replacement
    clock.tick(1)
    assert owner(cluster)["status"]["replicas"] == 3


def test_scaling_up_and_down_edits_replicas_and_the_pods_not_yet_ready_go_first(cluster, clock):
    rc = running_rc(cluster, clock)
    first = active(cluster, rc)
    scale(cluster, RC, 5)
    clock.tick(1)
    added = [n for n in active(cluster, rc) if n not in first]
    assert len(added) == 2
    assert {pod(cluster, n)["status"]["phase"] for n in added} == {"Pending"}
    scale(cluster, RC, 3)
    clock.tick(0)
    # Pending before Running, not ready before ready (ActivePodsWithRanks).
    assert active(cluster, rc) == first
    assert sorted(events(cluster, rc, "SuccessfulDelete")) == sorted(
        ("Normal", "SuccessfulDelete", f"Deleted pod: {n}", "replication-controller")
        for n in added)
    rc = owner(cluster)
    assert (rc["metadata"]["generation"], rc["status"]["observedGeneration"]) == (3, 3)


def test_scaling_down_deletes_an_unscheduled_pod_before_a_running_one(cluster, clock):
    rc = running_rc(cluster, clock)
    first = active(cluster, rc)
    for node in ("node-1", "node-2", "node-3"):
        nodes_admin.cordon(cluster, node)
    scale(cluster, RC, 4)
    clock.tick(1)
    extra = [n for n in active(cluster, rc) if n not in first]
    assert pod(cluster, extra[0])["spec"].get("nodeName") is None
    scale(cluster, RC, 3)
    clock.tick(0)
    assert active(cluster, rc) == first
    # Unscheduled, it had nothing to stop: gone at once.
    assert not ApiObject.objects.filter(cluster=cluster, kind="Pod", name=extra[0]).exists()


def test_among_ready_pods_the_one_ready_most_recently_goes_first(cluster, clock):
    rc = running_rc(cluster, clock)
    first = active(cluster, rc)
    clock.tick(95)
    scale(cluster, RC, 4)
    clock.run(5)
    newest = [n for n in active(cluster, rc) if n not in first][0]
    clock.tick(100)
    # Ready ~98 s ago against ~198 s ago: different powers of two of nanoseconds.
    scale(cluster, RC, 3)
    clock.tick(0)
    assert active(cluster, rc) == first
    assert "deletionTimestamp" in pod(cluster, newest)["metadata"]


def pinned_rs(name, replicas, node, controller=None):
    rs = make_rs(name, replicas=replicas, labels={"app": name})
    rs["spec"]["template"]["spec"]["nodeSelector"] = {"kubernetes.io/hostname": node}
    if controller is not None:
        rs["metadata"]["ownerReferences"] = [owner_reference(controller)]
    return rs


def pin(cluster, name, node):
    store.patch(cluster, RS, "default", name, {"spec": {"template": {"spec": {
        "nodeSelector": {"kubernetes.io/hostname": node}}}}}, store.MERGE_PATCH)


@pytest.mark.parametrize("controlled", [True, False])
def test_replicasets_of_one_controller_delete_first_where_their_pods_double_up(
        cluster, clock, controlled):
    """getPodsRankedByRelatedPodsOnSameNode: a Deployment's ReplicaSets count each other's
    pods on a node; a ReplicaSet without a controller has no related pods."""
    controller = store.create(cluster, make_pod("stand-in-for-a-deployment")).object \
        if controlled else None
    store.create(cluster, pinned_rs("a", 1, "node-1", controller))
    store.create(cluster, pinned_rs("b", 2, "node-1", controller))
    clock.run(5)
    older = active(cluster, owner(cluster, RS, "a"))[0]
    clock.tick(95)
    pin(cluster, "a", "node-2")      # only the new pod lands on node-2
    scale(cluster, RS, 2, "a")
    clock.run(5)
    newer = [n for n in active(cluster, owner(cluster, RS, "a")) if n != older][0]
    assert pod(cluster, newer)["spec"]["nodeName"] == "node-2"
    clock.tick(100)
    scale(cluster, RS, 1, "a")
    clock.tick(0)
    # Controlled: the node-1 pod shares its node with b's two, so it goes despite being older.
    assert active(cluster, owner(cluster, RS, "a")) == [newer if controlled else older]


def test_at_most_burst_replicas_are_created_in_one_sync(cluster, clock, monkeypatch):
    monkeypatch.setattr(replication, "BURST_REPLICAS", 2)
    store.create(cluster, make_rs(replicas=5))
    rs = owner(cluster, RS)
    counts = []
    for _ in range(3):
        clock.tick(1)
        counts.append(len(active(cluster, rs)))
    assert counts == [2, 4, 5]


# --- adopting and releasing --------------------------------------------------------------------

def test_orphans_the_selector_matches_are_adopted(cluster, clock):
    for name in ("kubia-manual-1", "kubia-manual-2"):
        store.create(cluster, make_pod(name, labels={"app": "kubia"}))
    store.create(cluster, make_pod("other", labels={"app": "other"}))
    store.create(cluster, make_pod("elsewhere", namespace="kube-system", labels={"app": "kubia"}))
    applied(cluster, SEED_RC)
    clock.tick(1)
    rc = owner(cluster)
    names = active(cluster, rc)
    assert len(names) == 3 and {"kubia-manual-1", "kubia-manual-2"} <= set(names)
    ref = pod(cluster, "kubia-manual-1")["metadata"]["ownerReferences"][0]
    assert (ref["uid"], ref["controller"], ref["blockOwnerDeletion"]) == (
        rc["metadata"]["uid"], True, True)
    assert "ownerReferences" not in pod(cluster, "other")["metadata"]
    assert "ownerReferences" not in pod(cluster, "elsewhere", "kube-system")["metadata"]
    assert len(events(cluster, rc, "SuccessfulCreate")) == 1   # adoption records no event


def test_an_extra_matching_pod_is_adopted_then_deleted_as_the_surplus(cluster, clock):
    rc = running_rc(cluster, clock)
    first = active(cluster, rc)
    store.create(cluster, make_pod("kubia-manual", labels={"app": "kubia"}))
    clock.tick(1)
    # Adopted (4 pods), then the surplus goes: the unscheduled newcomer ranks first.
    assert active(cluster, rc) == first
    assert events(cluster, rc, "SuccessfulDelete")[-1][2] == "Deleted pod: kubia-manual"


def test_pods_owned_by_another_controller_or_terminating_are_not_adopted(cluster, clock):
    other = store.create(cluster, make_pod("owner-pod")).object
    taken = make_pod("taken", labels={"app": "kubia"})
    taken["metadata"]["ownerReferences"] = [{
        "apiVersion": "v1", "kind": "Pod", "name": "owner-pod",
        "uid": other["metadata"]["uid"], "controller": True}]
    store.create(cluster, taken)
    store.create(cluster, make_pod("leaving", labels={"app": "kubia"}, node_name="node-1"))
    clock.run(3)
    store.delete(cluster, POD, "default", "leaving")     # Terminating for 30 s
    applied(cluster, SEED_RC)
    clock.tick(1)
    assert len(active(cluster, owner(cluster))) == 3
    assert pod(cluster, "taken")["metadata"]["ownerReferences"][0]["name"] == "owner-pod"
    assert "ownerReferences" not in pod(cluster, "leaving")["metadata"]


def test_a_pod_relabelled_out_of_the_selector_is_released_and_replaced(cluster, clock):
    rc = running_rc(cluster, clock)
    name = active(cluster, rc)[0]
    relabel(cluster, name, {"app": "foo"})
    clock.tick(1)
    released = pod(cluster, name)
    assert "ownerReferences" not in released["metadata"]       # lives on, unmanaged
    assert released["status"]["phase"] == "Running"
    assert "deletionTimestamp" not in released["metadata"]
    now = active(cluster, rc)
    assert len(now) == 3 and name not in now
    # Relabelled back, it is adopted again and the surplus goes.
    relabel(cluster, name, {"app": "kubia"})
    clock.run(5)
    assert len(active(cluster, rc)) == 3


def test_editing_the_template_leaves_existing_pods_alone(cluster, clock):
    rc = running_rc(cluster, clock)
    before = active(cluster, rc)
    store.patch(cluster, RC, "default", "kubia", {"spec": {"template": {"spec": {
        "containers": [{"name": "kubia", "image": "luksa/kubia:v2"}]}}}}, store.MERGE_PATCH)
    clock.tick(1)
    assert active(cluster, rc) == before
    assert {pod(cluster, n)["spec"]["containers"][0]["image"] for n in before} == {"luksa/kubia"}
    assert owner(cluster)["status"]["observedGeneration"] == 2
    store.delete(cluster, POD, "default", before[0])
    clock.tick(1)
    replacement = active(cluster, rc)[-1]
    assert pod(cluster, replacement)["spec"]["containers"][0]["image"] == "luksa/kubia:v2"


def test_changing_an_rcs_selector_lets_its_pods_go_and_makes_new_ones(cluster, clock):
    rc = running_rc(cluster, clock)
    before = active(cluster, rc)
    store.patch(cluster, RC, "default", "kubia", {"spec": {
        "selector": {"app": "kubia", "env": "prod"},
        "template": {"metadata": {"labels": {"app": "kubia", "env": "prod"}}}}},
        store.MERGE_PATCH)
    clock.tick(1)
    after = active(cluster, rc)
    assert len(after) == 3 and not set(after) & set(before)
    for name in before:    # out of the selector: released, still running
        assert "ownerReferences" not in pod(cluster, name)["metadata"]


# --- events and failures -----------------------------------------------------------------------

def failing_create(monkeypatch, error, calls=None):
    """store.create refusing pods with `error` on the given calls (all when None)."""
    real, seen = store.create, []

    def create(cluster, obj, **kwargs):
        if obj.get("kind") == "Pod":
            seen.append(1)
            if calls is None or len(seen) in calls:
                raise error
        return real(cluster, obj, **kwargs)

    monkeypatch.setattr(store, "create", create)
    return seen


def test_a_refused_create_sets_replica_failure_and_a_failed_create_event(cluster, clock,
                                                                        monkeypatch):
    applied(cluster, SEED_RC)
    refusal = Invalid("Pod", "kubia-x7k2p", [FieldError.required(
        "spec.containers[0].image")])
    attempts = failing_create(monkeypatch, refusal)
    clock.tick(1)
    rc = owner(cluster)
    assert len(attempts) == 1     # slow start: a first batch of one failed, no more tried
    failure = rc["status"]["conditions"]
    assert failure == [{"type": "ReplicaFailure", "status": "True",
                        "lastTransitionTime": store.timestamp(START + dt.timedelta(seconds=1)),
                        "reason": "FailedCreate", "message": refusal.message}]
    assert events(cluster, rc, "FailedCreate") == [
        ("Warning", "FailedCreate", f"Error creating: {refusal.message}",
         "replication-controller")]
    monkeypatch.undo()
    clock.tick(1)
    assert len(active(cluster, rc)) == 3
    assert "conditions" not in owner(cluster)["status"]


def test_slow_start_batches_double_until_one_fails(cluster, clock, monkeypatch):
    store.create(cluster, make_rs(replicas=10))
    failing_create(monkeypatch, Forbidden('pods "x" is forbidden: exceeded quota'), calls={4})
    clock.tick(1)
    rs = owner(cluster, RS)
    # Batches of 1, 2, then 4 of which one failed: 6 made, the remaining 3 wait.
    assert len(active(cluster, rs)) == 6
    assert len(events(cluster, rs, "FailedCreate")) == 1
    assert rs["status"]["conditions"][0]["reason"] == "FailedCreate"


def test_a_terminating_namespace_refuses_creates_without_an_event_or_condition(cluster, clock):
    store.create(cluster, make_namespace("demo"))
    store.create(cluster, {**make_rs(replicas=2), "metadata": {"name": "kubia",
                                                                 "namespace": "demo"}})
    store.delete(cluster, NAMESPACE, None, "demo")
    # Only this controller, before the namespace controller empties the namespace.
    with transaction.atomic():
        replication.reconcile(cluster, clock.now)
    rs = owner(cluster, RS, namespace="demo")
    assert active(cluster, rs) == []
    assert "conditions" not in rs["status"]
    assert events(cluster, rs) == []


def test_a_tick_cut_short_mid_scale_up_leaves_nothing_and_the_next_makes_exactly_replicas(
        cluster, clock, monkeypatch):
    applied(cluster, SEED_RC)
    failing_create(monkeypatch, RuntimeError("worker killed"), calls={3})
    clock.tick(1)      # the controller's savepoint is rolled back: no pod, no event, no status
    rc = owner(cluster)
    assert pods(cluster) == [] and events(cluster, rc) == []
    assert rc["status"] == {"replicas": 0}
    monkeypatch.undo()
    clock.tick(1)
    assert len(active(cluster, rc)) == 3 and len(pods(cluster)) == 3
    clock.run(5)
    assert len(pods(cluster)) == 3


# --- nodes that fail ---------------------------------------------------------------------------

def test_pods_evicted_from_a_powered_off_node_are_replaced_on_live_nodes(cluster, clock):
    rc = running_rc(cluster, clock)
    victim = next(n for n in active(cluster, rc) if pod(cluster, n)["spec"]["nodeName"] == "node-1")
    nodes_admin.power_off(cluster, "node-1")
    clock.run(60, step=5)      # 50 s: node Unknown, its pods marked not ready
    status = owner(cluster)["status"]
    assert (status["replicas"], status["readyReplicas"]) == (3, 2)
    for _ in range(100):
        clock.tick(5)
        if "deletionTimestamp" in pod(cluster, victim)["metadata"]:
            break
    # 300 s later (DefaultTolerationSeconds) evicted; the same tick made its replacement.
    assert clock.now > START + dt.timedelta(seconds=350)
    names = active(cluster, rc)
    assert len(names) == 3 and victim not in names
    assert {pod(cluster, n)["spec"]["nodeName"] for n in names} <= {"node-2", "node-3"}
    clock.run(5)
    assert owner(cluster)["status"]["readyReplicas"] == 3
    assert "deletionTimestamp" in pod(cluster, victim)["metadata"]   # Terminating on node-1


def test_power_off_through_the_node_annotation_has_the_same_outcome(cluster, clock):
    rc = running_rc(cluster, clock)
    store.patch(cluster, kinds.get("Node"), None, "node-2", {"metadata": {"annotations": {
        "kubelab.io/power": "off"}}}, store.MERGE_PATCH)
    clock.run(420, step=10)
    names = active(cluster, rc)
    assert len(names) == 3
    assert "node-2" not in {pod(cluster, n)["spec"]["nodeName"] for n in names}


# --- deleting the owner ------------------------------------------------------------------------

def test_background_deletion_lets_the_garbage_collector_delete_the_pods(cluster, clock):
    rs = running_rc(cluster, clock, SEED_RS, RS)
    names = active(cluster, rs)
    store.delete(cluster, RS, "default", "kubia", propagation="Background")
    clock.tick(1)
    assert all("deletionTimestamp" in pod(cluster, n)["metadata"] for n in names)
    clock.run(35, step=5)
    assert pods(cluster) == []
    assert len(events(cluster, rs, "SuccessfulCreate")) == 3    # nothing was replaced


def test_orphan_deletion_leaves_the_pods_running_without_owner_references(cluster, clock):
    rs = running_rc(cluster, clock, SEED_RS, RS)
    names = active(cluster, rs)
    store.delete(cluster, RS, "default", "kubia", propagation="Orphan")
    clock.run(5)
    assert not ApiObject.objects.filter(cluster=cluster, kind="ReplicaSet").exists()
    assert [p["metadata"]["name"] for p in pods(cluster)] == names
    for p in pods(cluster):
        assert "ownerReferences" not in p["metadata"]
        assert p["status"]["phase"] == "Running"


def test_an_owner_being_deleted_in_the_foreground_makes_no_replacements(cluster, clock):
    rs = running_rc(cluster, clock, SEED_RS, RS)
    store.delete(cluster, RS, "default", "kubia", propagation="Foreground")
    clock.run(40, step=5)
    assert pods(cluster) == []
    assert len(events(cluster, rs, "SuccessfulCreate")) == 3
    assert not ApiObject.objects.filter(cluster=cluster, kind="ReplicaSet").exists()


# --- cost ----------------------------------------------------------------------------------------

def test_an_idle_pass_reads_the_owners_and_the_change_log_not_the_pods(cluster, clock):
    running_rc(cluster, clock)
    store.create(cluster, make_rs("other", labels={"app": "other"}))
    clock.run(5)
    now = clock.now
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        replication.reconcile(cluster, now)
    sql = [q["sql"] for q in queries.captured_queries]
    assert len(sql) == 4     # owners, change log head, compaction mark, pod changes since
    assert not any("cluster_apiobject" in q and "'Pod'" in q for q in sql)


def test_a_restarted_worker_syncs_every_owner_once_and_changes_nothing(
        cluster, clock, django_capture_on_commit_callbacks):
    running_rc(cluster, clock)
    replication._seen.clear()
    before = Change.objects.filter(cluster=cluster).count()
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        replication.reconcile(cluster, clock.now)
    assert Change.objects.filter(cluster=cluster).count() == before
    assert len(replication._seen[cluster.pk].settled) == 1


def test_a_pod_removed_at_once_is_seen_in_the_change_log(cluster, clock):
    rc = running_rc(cluster, clock)
    victim = active(cluster, rc)[0]
    store.delete(cluster, POD, "default", victim, grace_period=0)   # --force: no Terminating
    clock.tick(1)
    assert len(active(cluster, rc)) == 3 and victim not in active(cluster, rc)


def test_a_pod_taken_from_its_owner_by_hand_is_replaced(cluster, clock):
    rc = running_rc(cluster, clock)
    name = active(cluster, rc)[0]
    taken = pod(cluster, name)
    del taken["metadata"]["ownerReferences"]
    taken["metadata"]["labels"] = {"app": "mine"}     # kubectl edit: both in one write
    store.update(cluster, taken)
    clock.tick(1)
    assert len(active(cluster, rc)) == 3 and name not in active(cluster, rc)


def test_when_the_change_log_was_compacted_past_the_pass_every_owner_is_synced(cluster, clock):
    rc = running_rc(cluster, clock)
    victim = active(cluster, rc)[0]
    store.delete(cluster, POD, "default", victim, grace_period=0)
    # Compaction drops the changes the controller has not read, the deletion among them.
    Change.objects.filter(cluster=cluster).delete()
    cluster.__class__.objects.filter(pk=cluster.pk).update(compacted_rv=10 ** 9)
    clock.tick(1)
    assert len(active(cluster, rc)) == 3 and victim not in active(cluster, rc)


# --- the deletion ranking, as a pure function (controller_utils.go ActivePodsWithRanks) ----------

NOW = START + dt.timedelta(seconds=1000)


def ranked_pod(name, node="node-1", phase="Running", ready_at=None, created=0, restarts=0,
               sidecar_restarts=None, cost=None, uid=None):
    stamp = lambda s: store.timestamp(START + dt.timedelta(seconds=s))  # noqa: E731
    meta = {"name": name, "uid": uid or name, "creationTimestamp": stamp(created)}
    if cost is not None:
        meta["annotations"] = {replication.DELETION_COST: cost}
    status = {"phase": phase, "containerStatuses": [{"name": "main", "restartCount": restarts}]}
    spec = {"containers": [{"name": "main"}]}
    if node:
        spec["nodeName"] = node
    if ready_at is not None:
        status["conditions"] = [{"type": "Ready", "status": "True",
                                 "lastTransitionTime": stamp(ready_at)}]
    if sidecar_restarts is not None:
        spec["initContainers"] = [{"name": "proxy", "restartPolicy": "Always"}]
        status["initContainerStatuses"] = [{"name": "proxy", "restartCount": sidecar_restarts}]
    return {"metadata": meta, "spec": spec, "status": status}


def order(*candidates, on_node=None):
    chosen = replication.pods_to_delete(list(candidates), len(candidates) - 1, NOW, on_node)
    rest = [p for p in candidates if p not in chosen]
    return [p["metadata"]["name"] for p in chosen + rest]


def test_ranking_unscheduled_then_pending_unknown_running():
    assert order(ranked_pod("running", ready_at=10), ranked_pod("unknown", phase="Unknown"),
                 ranked_pod("pending", phase="Pending"),
                 ranked_pod("unscheduled", node=None, phase="Pending")) == [
        "unscheduled", "pending", "unknown", "running"]


def test_ranking_not_ready_before_ready():
    assert order(ranked_pod("ready", ready_at=10), ranked_pod("not-ready")) == [
        "not-ready", "ready"]


def test_ranking_lower_deletion_cost_first_and_malformed_costs_count_as_zero():
    assert order(ranked_pod("zero"), ranked_pod("high", cost="10"),
                 ranked_pod("low", cost="-5"), ranked_pod("plus", cost="+1", created=1),
                 ranked_pod("padded", cost="007", created=2)) == [
        "low", "padded", "plus", "zero", "high"]


def test_ranking_doubled_up_pods_first():
    assert order(ranked_pod("alone", node="node-2"), ranked_pod("crowded", node="node-1"),
                 on_node={"node-1": 3, "node-2": 1}) == ["crowded", "alone"]


def test_ranking_ready_more_recently_first_by_powers_of_two():
    # Ready 900 s and 100 s ago: different buckets, the recent one goes first.
    assert order(ranked_pod("old", ready_at=100), ranked_pod("recent", ready_at=900)) == [
        "recent", "old"]
    # 600 s and 560 s ago lie in one bucket (2^39 ns): the UID decides, not the time.
    assert order(ranked_pod("b-later", ready_at=440, uid="b"),
                 ranked_pod("a-earlier", ready_at=400, uid="a")) == ["a-earlier", "b-later"]


def test_ranking_more_restarts_first_then_sidecar_restarts():
    assert order(ranked_pod("calm"), ranked_pod("crashy", restarts=4)) == ["crashy", "calm"]
    assert order(ranked_pod("calm", sidecar_restarts=0),
                 ranked_pod("sidecar", sidecar_restarts=2)) == ["sidecar", "calm"]


def test_ranking_newer_first_by_powers_of_two_then_uid():
    assert order(ranked_pod("old", created=10), ranked_pod("new", created=800)) == [
        "new", "old"]
    assert order(ranked_pod("z", created=500, uid="z"), ranked_pod("y", created=520,
                                                                   uid="y")) == ["y", "z"]


def test_all_pods_go_when_the_surplus_is_all_of_them():
    both = [ranked_pod("a"), ranked_pod("b")]
    assert replication.pods_to_delete(both, 2, NOW) == both

