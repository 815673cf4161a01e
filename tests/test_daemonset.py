"""The DaemonSet controller: one pod on every node that should run one, as Kubernetes 1.32's
pkg/controller/daemon does it (kubelab binds the pods itself instead of the scheduler).

The seed's DaemonSet section (6) is prose only; the manifest is the book's ssd-monitor
(Kubernetes in Action, ch. 4.4), in the apps/v1beta2 a learner pastes from it.
"""

import datetime as dt

from django.db import connection
from django.test.utils import CaptureQueriesContext

from cluster import apply, kinds, nodes_admin, store
from cluster.controllers import daemonset
from cluster.models import ApiObject
from tests.builders import make_pod

POD, NODE, DS = kinds.get("Pod"), kinds.get("Node"), kinds.get("DaemonSet", "apps")

SSD_MONITOR = """\
apiVersion: apps/v1beta2
kind: DaemonSet
metadata:
  name: ssd-monitor
spec:
  selector:
    matchLabels:
      app: ssd-monitor
  template:
    metadata:
      labels:
        app: ssd-monitor
    spec:
      nodeSelector:
        disk: ssd
      containers:
      - name: main
        image: luksa/ssd-monitor
"""


def label(cluster, node, **labels):
    """`kubectl label node`; a None value removes the label."""
    store.patch(cluster, NODE, None, node, {"metadata": {"labels": labels}}, store.MERGE_PATCH)


def ssd_monitor(cluster, clock, *ssd_nodes):
    for node in ssd_nodes:
        label(cluster, node, disk="ssd")
    report = apply.apply_text(cluster, SSD_MONITOR)
    assert report.ok, report.as_dict()
    clock.tick(1)
    return report


def pods(cluster):
    return [row.body for row in ApiObject.objects.filter(cluster=cluster).pods()
            .filter(labels__app="ssd-monitor").order_by("node_name", "name")]


def nodes_with_pods(cluster, alive_only=True):
    return sorted(p["spec"]["nodeName"] for p in pods(cluster)
                  if not (alive_only and p["metadata"].get("deletionTimestamp")))


def the_ds(cluster):
    return store.get(cluster, DS, "default", "ssd-monitor")


def events(cluster, reason=None, component=None):
    rows = ApiObject.objects.filter(cluster=cluster, kind="Event").order_by("id")
    return [e.body for e in rows if (reason is None or e.body["reason"] == reason)
            and (component is None or e.body["source"]["component"] == component)]


# --- placing pods ------------------------------------------------------------------------------


def test_the_books_old_apiversion_is_accepted_with_a_warning(cluster, clock):
    report = ssd_monitor(cluster, clock, "node-1")
    assert "apps/v1beta2 DaemonSet is deprecated" in report.applied[0].warnings[0]
    assert the_ds(cluster)["apiVersion"] == "apps/v1"


def test_pods_appear_only_on_nodes_matching_the_node_selector(cluster, clock):
    ssd_monitor(cluster, clock, "node-1", "node-3")
    assert nodes_with_pods(cluster) == ["node-1", "node-3"]


def test_each_pod_is_named_by_the_set_owned_by_it_and_bound_at_creation(cluster, clock):
    ssd_monitor(cluster, clock, "node-1")
    [pod] = pods(cluster)
    ds = the_ds(cluster)
    assert pod["metadata"]["name"].startswith("ssd-monitor-")
    assert len(pod["metadata"]["name"]) == len("ssd-monitor-") + 5
    [ref] = pod["metadata"]["ownerReferences"]
    assert (ref["kind"], ref["name"], ref["uid"], ref["controller"]) == \
        ("DaemonSet", "ssd-monitor", ds["metadata"]["uid"], True)
    assert pod["spec"]["nodeName"] == "node-1"
    # ReplaceDaemonSetPodNodeNameNodeAffinity, as 1.32 sets it.
    affinity = pod["spec"]["affinity"]["nodeAffinity"]
    assert affinity["requiredDuringSchedulingIgnoredDuringExecution"] == {"nodeSelectorTerms": [{
        "matchFields": [
            {"key": "metadata.name", "operator": "In", "values": ["node-1"]}]}]}
    assert pod["metadata"]["labels"]["controller-revision-hash"] == daemonset.revision_hash(ds)


def test_the_scheduler_is_not_involved(cluster, clock):
    ssd_monitor(cluster, clock, "node-1", "node-2", "node-3")
    clock.tick(5)
    assert events(cluster, reason="Scheduled") == []
    assert events(cluster, component="default-scheduler") == []
    assert {p["status"]["phase"] for p in pods(cluster)} == {"Running"}


def test_daemon_pods_get_the_daemon_tolerations_without_a_time_limit(cluster, clock):
    ssd_monitor(cluster, clock, "node-1")
    tolerations = {(t["key"], t["effect"]): t for t in pods(cluster)[0]["spec"]["tolerations"]}
    assert set(tolerations) == {
        ("node.kubernetes.io/not-ready", "NoExecute"),
        ("node.kubernetes.io/unreachable", "NoExecute"),
        ("node.kubernetes.io/disk-pressure", "NoSchedule"),
        ("node.kubernetes.io/memory-pressure", "NoSchedule"),
        ("node.kubernetes.io/pid-pressure", "NoSchedule"),
        ("node.kubernetes.io/unschedulable", "NoSchedule")}
    assert all("tolerationSeconds" not in t for t in tolerations.values())


def test_labelling_a_node_adds_its_pod_in_the_next_tick(cluster, clock):
    ssd_monitor(cluster, clock, "node-1")
    label(cluster, "node-2", disk="ssd")
    clock.tick(1)
    assert nodes_with_pods(cluster) == ["node-1", "node-2"]


def test_removing_the_label_deletes_the_pod(cluster, clock):
    ssd_monitor(cluster, clock, "node-1", "node-2")
    [on_2] = [p for p in pods(cluster) if p["spec"]["nodeName"] == "node-2"]
    label(cluster, "node-2", disk=None)
    clock.tick(1)
    assert nodes_with_pods(cluster) == ["node-1"]
    assert events(cluster, "SuccessfulDelete")[-1]["message"] == \
        f"Deleted pod: {on_2['metadata']['name']}"
    # Terminating, it still counts, as misscheduled, until its kubelet has stopped it.
    assert the_ds(cluster)["status"]["numberMisscheduled"] == 1
    clock.run(40)
    assert nodes_with_pods(cluster, alive_only=False) == ["node-1"]
    assert the_ds(cluster)["status"]["numberMisscheduled"] == 0


def test_a_node_added_gets_its_pod_in_the_first_tick(cluster, clock):
    ssd_monitor(cluster, clock, "node-1")
    nodes_admin.add_node(cluster, "node-4", labels={"disk": "ssd"})
    clock.tick(1)
    assert nodes_with_pods(cluster) == ["node-1", "node-4"]


def test_a_node_removed_takes_its_pod_with_it(cluster, clock):
    ssd_monitor(cluster, clock, "node-1", "node-2")
    nodes_admin.remove_node(cluster, "node-2")
    clock.tick(1)
    # The pod garbage collector removes pods of a vanished node; the set only recounts.
    assert nodes_with_pods(cluster, alive_only=False) == ["node-1"]
    assert the_ds(cluster)["status"]["desiredNumberScheduled"] == 1


def test_a_cordoned_node_keeps_its_pod_and_a_new_set_still_lands_there(cluster, clock):
    nodes_admin.cordon(cluster, "node-2")
    ssd_monitor(cluster, clock, "node-1", "node-2")
    clock.tick(5)
    assert nodes_with_pods(cluster) == ["node-1", "node-2"]
    assert the_ds(cluster)["status"]["desiredNumberScheduled"] == 2


def test_a_drained_node_keeps_its_daemon_pod(cluster, clock):
    ssd_monitor(cluster, clock, "node-1")
    outcome = nodes_admin.drain(cluster, "node-1")
    clock.tick(1)
    assert outcome.evicted == []
    assert nodes_with_pods(cluster) == ["node-1"]


def test_a_powered_off_node_keeps_its_pod_past_the_eviction_timeout(cluster, clock):
    ssd_monitor(cluster, clock, "node-1", "node-2")
    clock.tick(5)
    nodes_admin.power_off(cluster, "node-2")
    clock.run(50 + 300 + 30, step=5)
    node = store.get(cluster, NODE, None, "node-2")
    assert {"key": "node.kubernetes.io/unreachable", "effect": "NoExecute"}.items() <= \
        next(t for t in node["spec"]["taints"] if t["effect"] == "NoExecute").items()
    assert nodes_with_pods(cluster) == ["node-1", "node-2"]
    assert events(cluster, "TaintManagerEviction") == []
    # Tainted unreachable:NoSchedule, the node should no longer start a daemon pod, so the
    # one it keeps counts as misscheduled (Kubernetes issue #132459).
    status = the_ds(cluster)["status"]
    assert (status["desiredNumberScheduled"], status["numberMisscheduled"]) == (1, 1)


def test_an_orphan_pod_on_an_eligible_node_is_adopted(cluster, clock):
    label(cluster, "node-1", disk="ssd")
    store.create(cluster, make_pod("stray", labels={"app": "ssd-monitor"}, node_name="node-1"))
    ssd_monitor(cluster, clock)
    [pod] = pods(cluster)
    assert pod["metadata"]["name"] == "stray"
    assert pod["metadata"]["ownerReferences"][0]["name"] == "ssd-monitor"


def test_an_orphan_on_a_node_that_should_not_run_it_is_adopted_then_deleted(cluster, clock):
    # ClaimPods adopts whatever the selector matches; podsShouldBeOnNode then removes it.
    store.create(cluster, make_pod("stray", labels={"app": "ssd-monitor"}, node_name="node-2"))
    ssd_monitor(cluster, clock, "node-1")
    assert events(cluster, "SuccessfulDelete")[-1]["message"] == "Deleted pod: stray"
    assert nodes_with_pods(cluster) == ["node-1"]


def test_deleting_the_set_deletes_its_pods(cluster, clock):
    ssd_monitor(cluster, clock, "node-1", "node-2")
    store.delete(cluster, DS, "default", "ssd-monitor")
    clock.tick(1)    # the garbage collector, in the background
    assert nodes_with_pods(cluster) == []


def test_a_pod_relabelled_out_of_the_selector_is_released_and_replaced(cluster, clock):
    ssd_monitor(cluster, clock, "node-1")
    [pod] = pods(cluster)
    store.patch(cluster, POD, "default", pod["metadata"]["name"],
                {"metadata": {"labels": {"app": "debug"}}}, store.MERGE_PATCH)
    clock.tick(1)
    released = store.get(cluster, POD, "default", pod["metadata"]["name"])
    assert "ownerReferences" not in released["metadata"]
    assert nodes_with_pods(cluster) == ["node-1"]   # a new one


def test_two_pods_on_one_node_keep_the_oldest(cluster, clock):
    ssd_monitor(cluster, clock, "node-1")
    [first] = pods(cluster)
    clock.tick(1)
    store.create(cluster, make_pod("extra", labels={"app": "ssd-monitor"}, node_name="node-1"))
    clock.tick(1)
    assert [p["metadata"]["name"] for p in pods(cluster)
            if not p["metadata"].get("deletionTimestamp")] == [first["metadata"]["name"]]
    assert events(cluster, "SuccessfulDelete")[-1]["message"] == "Deleted pod: extra"


def fail(cluster, name):
    pod = store.get(cluster, POD, "default", name)
    store.update(cluster, {**pod, "status": {**pod["status"], "phase": "Failed"}},
                 subresource="status")


def test_a_failed_daemon_pod_is_deleted_and_replaced(cluster, clock):
    ssd_monitor(cluster, clock, "node-1")
    [pod] = pods(cluster)
    fail(cluster, pod["metadata"]["name"])
    clock.tick(1)
    [warning] = events(cluster, "FailedDaemonPod")
    assert (warning["type"], warning["message"]) == ("Warning", (
        f"Found failed daemon pod default/{pod['metadata']['name']} on node node-1, "
        "will try to kill it"))
    assert not any(p["metadata"]["name"] == pod["metadata"]["name"] for p in pods(cluster))
    clock.tick(1)
    assert nodes_with_pods(cluster) == ["node-1"]


def test_failed_pods_are_killed_with_a_doubling_back_off():
    start = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    at = [start + dt.timedelta(seconds=s) for s in (0, 1, 3, 7)]
    assert daemonset.backoff_end(at[:1]) == at[0] + dt.timedelta(seconds=1)
    assert daemonset.backoff_end(at) == at[3] + dt.timedelta(seconds=8)
    # After 30 minutes quiet (2 x the 15 min maximum) it starts again at 1 s.
    later = at[3] + dt.timedelta(minutes=31)
    assert daemonset.backoff_end(at + [later]) == later + dt.timedelta(seconds=1)


def test_a_pod_failing_again_at_once_waits_out_the_back_off(cluster, clock):
    ssd_monitor(cluster, clock, "node-1")              # t=1
    for _ in range(2):
        fail(cluster, pods(cluster)[0]["metadata"]["name"])
        clock.tick(1)     # killed: back-off 1 s, then 2 s (the second kill at t=4)
        clock.tick(0.5)   # replaced
    fail(cluster, pods(cluster)[0]["metadata"]["name"])
    clock.tick(0.5)       # t=5, 1 s after the last kill: held back
    assert len(events(cluster, "FailedDaemonPod")) == 2
    assert pods(cluster)[0]["status"]["phase"] == "Failed"
    clock.tick(1)         # t=6: the 2 s are over
    assert len(events(cluster, "FailedDaemonPod")) == 3


# --- status and events -------------------------------------------------------------------------


def test_status_counts_nodes_as_the_api_serializes_them(cluster, clock):
    ssd_monitor(cluster, clock, "node-1", "node-2")
    status = the_ds(cluster)["status"]
    # Pods just created are not ready: numberAvailable (omitempty) is absent.
    assert status == {"desiredNumberScheduled": 2, "currentNumberScheduled": 2,
                      "numberReady": 0, "numberMisscheduled": 0, "numberUnavailable": 2,
                      "updatedNumberScheduled": 2, "observedGeneration": 1}
    clock.run(5)
    assert the_ds(cluster)["status"] == {
        "desiredNumberScheduled": 2, "currentNumberScheduled": 2, "numberReady": 2,
        "numberAvailable": 2, "numberMisscheduled": 0, "updatedNumberScheduled": 2,
        "observedGeneration": 1}


def test_a_set_matching_no_node_shows_its_zero_counters(cluster, clock):
    ssd_monitor(cluster, clock)
    assert the_ds(cluster)["status"] == {"desiredNumberScheduled": 0, "currentNumberScheduled": 0,
                                         "numberReady": 0, "numberMisscheduled": 0,
                                         "observedGeneration": 1}


def test_status_is_written_only_when_it_changes(cluster, clock):
    ssd_monitor(cluster, clock, "node-1")
    clock.run(5)
    version = the_ds(cluster)["metadata"]["resourceVersion"]
    clock.run(10)
    assert the_ds(cluster)["metadata"]["resourceVersion"] == version


def test_creations_are_recorded_as_events_on_the_set(cluster, clock):
    ssd_monitor(cluster, clock, "node-1", "node-2")
    created = events(cluster, "SuccessfulCreate", component="daemonset-controller")
    names = sorted(p["metadata"]["name"] for p in pods(cluster))
    assert sorted(e["message"] for e in created) == [f"Created pod: {n}" for n in names]
    assert {e["involvedObject"]["kind"] for e in created} == {"DaemonSet"}


def test_an_idle_pass_costs_three_queries(cluster, clock):
    ssd_monitor(cluster, clock, "node-1", "node-2", "node-3")
    clock.run(5)
    now = clock.now
    with CaptureQueriesContext(connection) as queries:
        daemonset.reconcile(cluster, now)
    reads = [q["sql"] for q in queries if q["sql"].startswith("SELECT")]
    assert len(reads) == 3, reads   # sets, nodes, pods
    assert not [q for q in queries if q["sql"].startswith(("INSERT", "UPDATE", "DELETE"))]


# --- node selection, pure ----------------------------------------------------------------------


def node(name="node-1", labels=None, taints=None):
    return {"metadata": {"name": name, "labels": labels or {}}, "spec": {"taints": taints or []}}


def spec(**fields):
    return daemonset.daemon_pod_spec(fields)


def test_a_not_ready_tainted_node_keeps_its_pod_but_gets_no_new_one():
    tainted = node(taints=[{"key": "node.kubernetes.io/not-ready", "effect": "NoSchedule"},
                           {"key": "node.kubernetes.io/not-ready", "effect": "NoExecute"}])
    assert daemonset.should_run(spec(), tainted) == (False, True)


def test_an_untolerated_noexecute_taint_removes_the_pod():
    tainted = node(taints=[{"key": "dedicated", "value": "db", "effect": "NoExecute"}])
    assert daemonset.should_run(spec(), tainted) == (False, False)
    tolerating = spec(tolerations=[{"key": "dedicated", "operator": "Exists"}])
    assert daemonset.should_run(tolerating, tainted) == (True, True)


def test_required_node_affinity_is_honoured():
    affinity = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
        "nodeSelectorTerms": [{"matchExpressions": [
            {"key": "cpu", "operator": "Gt", "values": ["4"]}]}]}}}
    assert daemonset.should_run(spec(affinity=affinity), node(labels={"cpu": "8"}))[0]
    assert not daemonset.should_run(spec(affinity=affinity), node(labels={"cpu": "2"}))[0]


def test_host_network_pods_also_tolerate_network_unavailable():
    keys = {t["key"] for t in spec(hostNetwork=True)["tolerations"]}
    assert "node.kubernetes.io/network-unavailable" in keys
    assert "node.kubernetes.io/network-unavailable" not in {t["key"] for t in spec()["tolerations"]}


def test_a_template_toleration_with_a_time_limit_is_replaced():
    mine = {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute",
            "tolerationSeconds": 60}
    tolerations = spec(tolerations=[mine])["tolerations"]
    assert [t for t in tolerations if t["key"] == mine["key"]] == [
        {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute"}]
