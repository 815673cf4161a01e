"""Nodes that fail, ticked on a manual clock with Kubernetes 1.32's defaults.

Facts (kubernetes.io docs "Nodes" and "Taints and Tolerations", and the sources of
pkg/controller/{nodelifecycle,tainteviction,podgc} and kubectl's pkg/drain):
- the kubelet renews its Lease every 10 s and posts node status when it changes or every 5 min;
- --node-monitor-grace-period is 50 s since 1.32 (kubernetes PR #126287); after it, the node
  lifecycle controller sets the node's conditions Unknown, taints it
  node.kubernetes.io/unreachable NoSchedule and NoExecute, and marks its pods not Ready;
- pods tolerate unreachable:NoExecute for 300 s (DefaultTolerationSeconds), then the taint
  eviction controller deletes them; NoExecute tainting is rate-limited to one node per 10 s per
  zone, and stops when every node is down (or most of a small zone);
- pods on a node that no longer exists are force-deleted by the pod GC.
"""

import datetime as dt
import time

import pytest

from cluster import bootstrap, engine, kinds, nodes_admin, store
from cluster.controllers import nodelifecycle, scheduler
from cluster.controllers.owned import owner_reference
from cluster.errors import Invalid, NotFound
from cluster.models import ApiObject, Change
from tests.builders import make_pod
from tests.conftest import START

POD = kinds.get("Pod")
NODE = kinds.get("Node")
UNREACHABLE = "node.kubernetes.io/unreachable"


def get_node(cluster, name="node-1"):
    return store.get(cluster, NODE, None, name)


def get_pod(cluster, name="kubia"):
    return store.get(cluster, POD, "default", name)


def pod_exists(cluster, name="kubia"):
    return ApiObject.objects.filter(cluster=cluster, kind="Pod", name=name).exists()


def condition(obj, type_):
    return next((c for c in obj["status"].get("conditions") or [] if c["type"] == type_), None)


def taints(node):
    return [(t["key"], t["effect"]) for t in node["spec"].get("taints") or []]


def stamp(moment):
    return store.timestamp(moment)


def at(seconds):
    return START + dt.timedelta(seconds=seconds)


def events_of(cluster, obj):
    rows = ApiObject.objects.filter(cluster=cluster, kind="Event",
                                    owner_uid=obj["metadata"]["uid"]).order_by("resource_version")
    return [(r.body["reason"], r.body["message"]) for r in rows]


def running_on(cluster, clock, name, node="node-1", **spec):
    """A pod bound to `node` and running (the container start takes 2 s)."""
    store.create(cluster, make_pod(name, node_name=node, **spec))
    clock.tick(0)
    clock.tick(2)
    pod = get_pod(cluster, name)
    assert pod["status"]["phase"] == "Running"
    return pod


def until_unknown(cluster, clock, node="node-1"):
    """Tick until the node goes Unknown, one second at a time near the 50 s grace period;
    return that moment."""
    clock.tick(45)
    for _ in range(120):
        clock.tick(1)
        if condition(get_node(cluster, node), "Ready")["status"] == "Unknown":
            return clock.now
    raise AssertionError(f"{node} never went Unknown")


# --- heartbeats ------------------------------------------------------------------------------


def test_a_running_kubelet_posts_node_status_every_5_minutes(cluster, clock):
    clock.run(299, step=1)
    assert condition(get_node(cluster), "Ready")["lastHeartbeatTime"] == stamp(START)
    clock.tick(1)
    ready = condition(get_node(cluster), "Ready")
    assert ready["lastHeartbeatTime"] == stamp(at(300))   # nodeStatusReportFrequency
    assert ready["lastTransitionTime"] == stamp(START)    # no transition: still True


def test_heartbeats_cost_twelve_node_writes_an_hour_per_node_not_one_per_tick(cluster, clock):
    before = Change.objects.filter(cluster=cluster, kind="Node").count()
    clock.run(3600, step=10)   # the kubelet's nodeStatusUpdateFrequency
    writes = Change.objects.filter(cluster=cluster, kind="Node").count() - before
    assert writes == 3 * 12


def test_an_idle_tick_stays_cheap_with_50_nodes(db):
    big = bootstrap.create_cluster("big", nodes=50, start=START)
    engine.tick(big, 1)
    started = time.perf_counter()
    for _ in range(20):
        engine.tick(big, 1)
    elapsed = time.perf_counter() - started
    print(f"\n20 idle ticks with 50 nodes: {elapsed * 1000:.1f} ms "
          f"({elapsed * 50:.2f} ms a tick)")


# --- power off: Unknown after the grace period ----------------------------------------------


def test_a_powered_off_node_stays_ready_through_the_50s_grace_period(cluster, clock):
    nodes_admin.power_off(cluster, "node-1")
    clock.run(50, step=5)   # --node-monitor-period
    assert condition(get_node(cluster), "Ready")["status"] == "True"
    clock.tick(1)   # the controller acts once now is *after* last renewal + 50 s
    node = get_node(cluster)
    ready = condition(node, "Ready")
    assert ready["status"] == "Unknown"
    assert ready["reason"] == "NodeStatusUnknown"
    assert ready["message"] == "Kubelet stopped posting node status."
    assert ready["lastHeartbeatTime"] == stamp(START)   # the last status the kubelet posted
    assert ready["lastTransitionTime"] == stamp(at(51))
    for type_ in ("MemoryPressure", "DiskPressure", "PIDPressure"):
        assert condition(node, type_)["status"] == "Unknown"
    assert ("NodeNotReady", "Node node-1 status is now: NodeNotReady") in events_of(cluster, node)


def test_a_powered_off_node_posts_no_status(cluster, clock):
    nodes_admin.power_off(cluster, "node-1")
    clock.run(600, step=10)
    assert condition(get_node(cluster), "Ready")["lastHeartbeatTime"] == stamp(START)


def test_power_can_be_switched_off_through_the_api_annotation(cluster, clock):
    store.patch(cluster, NODE, None, "node-1",
                {"metadata": {"annotations": {"kubelab.io/power": "off"}}}, store.MERGE_PATCH)
    clock.tick(1)   # the tick that sees the kubelet stopped records its last lease renewal
    node = get_node(cluster)
    assert node["metadata"]["annotations"]["kubelab.io/lease-renew-time"] == stamp(at(1))
    assert until_unknown(cluster, clock) == at(52)


def test_the_power_annotation_is_on_or_off(cluster):
    with pytest.raises(Invalid) as err:
        store.patch(cluster, NODE, None, "node-1",
                    {"metadata": {"annotations": {"kubelab.io/power": "of"}}}, store.MERGE_PATCH)
    assert 'Unsupported value: "of": supported values: "off", "on"' in err.value.message


def test_a_node_whose_kubelet_never_started_goes_unknown_after_the_60s_startup_grace(
        cluster, clock):
    manifest = bootstrap.node_manifest("node-4")
    manifest["metadata"]["annotations"] = {"kubelab.io/power": "off"}
    store.create(cluster, manifest)
    clock.run(60, step=5)   # --node-startup-grace-period
    node = get_node(cluster, "node-4")
    assert condition(node, "Ready") is None
    assert node["spec"]["podCIDR"]   # the IPAM controller does not need the kubelet
    clock.tick(1)
    ready = condition(get_node(cluster, "node-4"), "Ready")
    assert (ready["status"], ready["reason"], ready["message"]) == (
        "Unknown", "NodeStatusNeverUpdated", "Kubelet never posted node status.")


def test_an_unreachable_node_is_tainted_unreachable_noschedule_and_noexecute(cluster, clock):
    nodes_admin.power_off(cluster, "node-1")
    went = until_unknown(cluster, clock)
    node = get_node(cluster)
    assert taints(node) == [(UNREACHABLE, "NoSchedule"), (UNREACHABLE, "NoExecute")]
    assert all(t["timeAdded"] == stamp(went) for t in node["spec"]["taints"])


def test_the_scheduler_places_no_pods_on_an_unreachable_node(cluster, clock):
    nodes_admin.power_off(cluster, "node-1")
    until_unknown(cluster, clock)
    for i in range(6):
        store.create(cluster, make_pod(f"web-{i}"))
    clock.tick(1)
    placed = {get_pod(cluster, f"web-{i}")["spec"]["nodeName"] for i in range(6)}
    assert placed == {"node-2", "node-3"}
    decision = scheduler.plan(make_pod(), [get_node(cluster)], {})
    assert decision.reasons["node-1"] == [
        "node(s) had untolerated taint {node.kubernetes.io/unreachable: }"]


def test_pods_on_an_unreachable_node_are_marked_not_ready(cluster, clock):
    running_on(cluster, clock, "kubia")
    nodes_admin.power_off(cluster, "node-1")
    went = until_unknown(cluster, clock)
    pod = get_pod(cluster)
    assert condition(pod, "Ready")["status"] == "False"          # MarkPodsNotReady
    assert condition(pod, "Ready")["lastTransitionTime"] == stamp(went)
    assert condition(pod, "ContainersReady")["status"] == "True"  # only Ready is touched
    assert pod["status"]["phase"] == "Running"
    assert ("NodeNotReady", "Node is not ready") in events_of(cluster, pod)


# --- taint-based eviction --------------------------------------------------------------------


def test_pods_are_evicted_300s_after_the_unreachable_taint(cluster, clock):
    running_on(cluster, clock, "kubia")
    nodes_admin.power_off(cluster, "node-1")
    tainted = until_unknown(cluster, clock)
    clock.run(290, step=10)
    clock.run(9, step=1)
    assert clock.now == tainted + dt.timedelta(seconds=299)
    assert "deletionTimestamp" not in get_pod(cluster)["metadata"]
    clock.tick(1)   # tolerationSeconds: 300 (DefaultTolerationSeconds)
    pod = get_pod(cluster)
    assert pod["metadata"]["deletionTimestamp"] == stamp(tainted + dt.timedelta(seconds=330))
    target = condition(pod, "DisruptionTarget")
    assert (target["status"], target["reason"], target["message"]) == (
        "True", "DeletionByTaintManager", "Taint manager: deleting due to NoExecute taint")
    assert ("TaintManagerEviction", "Marking for deletion Pod default/kubia") in \
        events_of(cluster, pod)


def test_a_pod_tolerating_unreachable_for_60s_is_evicted_after_60s(cluster, clock):
    running_on(cluster, clock, "kubia", tolerations=[
        {"key": UNREACHABLE, "operator": "Exists", "effect": "NoExecute",
         "tolerationSeconds": 60}])
    nodes_admin.power_off(cluster, "node-1")
    tainted = until_unknown(cluster, clock)
    clock.run(59, step=1)
    assert "deletionTimestamp" not in get_pod(cluster)["metadata"]
    clock.tick(1)
    assert clock.now == tainted + dt.timedelta(seconds=60)
    assert "deletionTimestamp" in get_pod(cluster)["metadata"]


def test_a_pod_tolerating_unreachable_forever_is_never_evicted(cluster, clock):
    running_on(cluster, clock, "kubia", tolerations=[
        {"key": UNREACHABLE, "operator": "Exists", "effect": "NoExecute"}])
    nodes_admin.power_off(cluster, "node-1")
    until_unknown(cluster, clock)
    clock.run(900, step=30)
    assert "deletionTimestamp" not in get_pod(cluster)["metadata"]


def test_a_noexecute_taint_the_pod_does_not_tolerate_evicts_it_at_once(cluster, clock):
    running_on(cluster, clock, "kubia")
    store.patch(cluster, NODE, None, "node-1", {"spec": {"taints": [
        {"key": "maintenance", "value": "now", "effect": "NoExecute"}]}}, store.MERGE_PATCH)
    clock.tick(1)
    pod = get_pod(cluster)
    assert "deletionTimestamp" in pod["metadata"]
    # The moment the controller first saw the taint is kept on it.
    assert get_node(cluster)["spec"]["taints"][0]["timeAdded"] == stamp(clock.now)


def test_an_evicted_pod_stays_terminating_while_its_node_is_down(cluster, clock):
    running_on(cluster, clock, "kubia")
    nodes_admin.power_off(cluster, "node-1")
    until_unknown(cluster, clock)
    clock.run(300, step=10)
    assert "deletionTimestamp" in get_pod(cluster)["metadata"]
    clock.run(600, step=10)   # no kubelet confirms the deletion: stuck Terminating
    assert "deletionTimestamp" in get_pod(cluster)["metadata"]
    nodes_admin.power_on(cluster, "node-1")
    clock.tick(1)   # back, its kubelet finishes it: the grace period is long past
    clock.tick(1)
    assert not pod_exists(cluster)


def test_the_out_of_service_taint_frees_pods_stuck_terminating_on_a_dead_node(cluster, clock):
    running_on(cluster, clock, "kubia")
    nodes_admin.power_off(cluster, "node-1")
    until_unknown(cluster, clock)
    clock.run(300, step=10)
    assert "deletionTimestamp" in get_pod(cluster)["metadata"]
    node = get_node(cluster)
    store.patch(cluster, NODE, None, "node-1", {"spec": {"taints": node["spec"]["taints"] + [
        {"key": "node.kubernetes.io/out-of-service", "value": "nodeshutdown",
         "effect": "NoExecute"}]}}, store.MERGE_PATCH)
    clock.tick(1)   # pod GC: non-graceful node shutdown
    assert not pod_exists(cluster)
    last = Change.objects.filter(cluster=cluster, kind="Pod", name="kubia",
                                 type="MODIFIED").order_by("-id").first()
    assert last.object["status"]["phase"] == "Failed"


# --- eviction rate and disruption ------------------------------------------------------------


def test_a_second_node_is_tainted_noexecute_10s_after_the_first(cluster, clock):
    nodes_admin.power_off(cluster, "node-1")
    nodes_admin.power_off(cluster, "node-2")
    went = until_unknown(cluster, clock)
    assert taints(get_node(cluster, "node-1")) == [(UNREACHABLE, "NoSchedule"),
                                                   (UNREACHABLE, "NoExecute")]
    assert taints(get_node(cluster, "node-2")) == [(UNREACHABLE, "NoSchedule")]
    clock.run(9, step=1)
    assert taints(get_node(cluster, "node-2")) == [(UNREACHABLE, "NoSchedule")]
    clock.tick(1)   # --node-eviction-rate 0.1: one node every 10 s in a zone
    assert clock.now == went + dt.timedelta(seconds=10)
    assert (UNREACHABLE, "NoExecute") in taints(get_node(cluster, "node-2"))


def test_when_every_node_is_down_no_pod_is_evicted(cluster, clock):
    running_on(cluster, clock, "kubia")
    for name in ("node-1", "node-2", "node-3"):
        nodes_admin.power_off(cluster, name)
    until_unknown(cluster, clock)
    clock.run(400, step=10)
    # Master disruption mode: the controller suspects itself, not every node.
    for name in ("node-1", "node-2", "node-3"):
        assert taints(get_node(cluster, name)) == [(UNREACHABLE, "NoSchedule")]
    assert "deletionTimestamp" not in get_pod(cluster)["metadata"]


def test_a_small_zone_mostly_down_stops_evictions(cluster, clock):
    for name in ("node-4", "node-5"):
        nodes_admin.add_node(cluster, name)
    clock.tick(0)
    for name in ("node-1", "node-2", "node-3"):   # 3 of 5 (60 % >= 55 %): PartialDisruption
        nodes_admin.power_off(cluster, name)
    until_unknown(cluster, clock)
    clock.run(60, step=10)
    for name in ("node-1", "node-2", "node-3"):
        assert taints(get_node(cluster, name)) == [(UNREACHABLE, "NoSchedule")]


def test_zone_states_follow_compute_zone_state():
    assert nodelifecycle.zone_state(["True", "True", "Unknown"]) == nodelifecycle.NORMAL
    assert nodelifecycle.zone_state(["Unknown", "False"]) == nodelifecycle.FULL
    assert nodelifecycle.zone_state(["Unknown"] * 3 + ["True"] * 2) == nodelifecycle.PARTIAL
    assert nodelifecycle.zone_state(["Unknown"] * 3 + ["True"] * 3) == nodelifecycle.NORMAL


def test_eviction_time_is_the_shortest_toleration_of_the_taints():
    now = START
    taint = {"key": UNREACHABLE, "effect": "NoExecute", "timeAdded": stamp(START)}
    pod = make_pod(tolerations=[
        {"key": UNREACHABLE, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 30},
        {"operator": "Exists", "tolerationSeconds": 10}])
    pod["metadata"]["creationTimestamp"] = stamp(START - dt.timedelta(hours=1))
    # The first toleration matching each taint is the one used (GetMatchingTolerations).
    assert nodelifecycle.eviction_time(pod, [taint], now) == at(30)
    assert nodelifecycle.eviction_time(make_pod(), [taint], now) == now


# --- power on --------------------------------------------------------------------------------


def test_a_node_powered_on_is_ready_again_without_its_taints(cluster, clock):
    running_on(cluster, clock, "kubia")
    boot_id = get_node(cluster)["status"]["nodeInfo"]["bootID"]
    nodes_admin.power_off(cluster, "node-1")
    until_unknown(cluster, clock)
    clock.run(60, step=10)
    nodes_admin.power_on(cluster, "node-1")
    clock.tick(1)
    node = get_node(cluster)
    ready = condition(node, "Ready")
    assert (ready["status"], ready["reason"]) == ("True", "KubeletReady")
    assert ready["lastHeartbeatTime"] == ready["lastTransitionTime"] == stamp(clock.now)
    assert taints(node) == []
    assert node["status"]["nodeInfo"]["bootID"] != boot_id
    # Only the kubelet's own bookkeeping remains: which boot it has synced its pods for.
    assert node["metadata"].get("annotations") == {
        "kubelab.io/kubelet-synced-boot-id": node["status"]["nodeInfo"]["bootID"]}
    reasons = [reason for reason, _ in events_of(cluster, node)]
    assert reasons[-3:] == ["Starting", "Rebooted", "NodeReady"]
    assert ("TaintManagerEviction", "Cancelling deletion of Pod default/kubia") in \
        events_of(cluster, get_pod(cluster))
    clock.run(400, step=10)
    assert "deletionTimestamp" not in get_pod(cluster)["metadata"]


def test_pods_are_ready_again_once_their_node_is_back(cluster, clock):
    running_on(cluster, clock, "kubia")
    nodes_admin.power_off(cluster, "node-1")
    until_unknown(cluster, clock)
    nodes_admin.power_on(cluster, "node-1")
    clock.run(15, step=1)
    assert condition(get_pod(cluster), "Ready")["status"] == "True"


# --- cordon, drain, add, remove --------------------------------------------------------------


def test_cordon_marks_the_node_unschedulable_and_the_controller_taints_it(cluster, clock):
    assert nodes_admin.cordon(cluster, "node-1").lines == ["node/node-1 cordoned"]
    assert get_node(cluster)["spec"]["unschedulable"] is True
    assert nodes_admin.cordon(cluster, "node-1").lines == ["node/node-1 already cordoned"]
    clock.tick(1)
    node = get_node(cluster)
    assert taints(node) == [("node.kubernetes.io/unschedulable", "NoSchedule")]
    for i in range(4):
        store.create(cluster, make_pod(f"web-{i}"))
    clock.tick(1)
    assert "node-1" not in {get_pod(cluster, f"web-{i}")["spec"]["nodeName"] for i in range(4)}


def test_uncordon_removes_unschedulable_and_its_taint(cluster, clock):
    nodes_admin.cordon(cluster, "node-1")
    clock.tick(1)
    assert nodes_admin.uncordon(cluster, "node-1").lines == ["node/node-1 uncordoned"]
    assert "unschedulable" not in get_node(cluster)["spec"]
    clock.tick(1)
    assert taints(get_node(cluster)) == []
    assert nodes_admin.uncordon(cluster, "node-1").lines == ["node/node-1 already uncordoned"]


def owned(cluster, pod, kind, name, labels):
    """The pod, owned by a real controller of `kind` that selects it (the garbage collector
    deletes pods whose owner does not exist)."""
    template = {"metadata": {"labels": labels},
                "spec": {"containers": [{"name": "main", "image": "luksa/kubia"}]}}
    spec = {"selector": {"matchLabels": labels}, "template": template}
    if kind == "ReplicaSet":
        spec["replicas"] = 1
    else:
        template["spec"]["nodeSelector"] = {"kubernetes.io/hostname": "node-1"}
    owner = store.create(cluster, {"apiVersion": "apps/v1", "kind": kind,
                                   "metadata": {"name": name}, "spec": spec}).object
    pod["metadata"]["labels"] = labels
    pod["metadata"]["ownerReferences"] = [owner_reference(owner)]
    return pod


def drain_scene(cluster, clock):
    store.create(cluster, make_pod("kubia", node_name="node-1"))
    store.create(cluster, owned(cluster, make_pod("web-x7k2p", node_name="node-1"),
                                "ReplicaSet", "web", {"app": "web"}))
    store.create(cluster, owned(cluster, make_pod("mon-4kq", node_name="node-1"),
                                "DaemonSet", "mon", {"app": "mon"}))
    mirror = make_pod("etcd-node-1", node_name="node-1")
    mirror["metadata"]["annotations"] = {"kubernetes.io/config.mirror": "abc"}
    store.create(cluster, mirror)
    store.create(cluster, make_pod("elsewhere", node_name="node-2"))
    clock.tick(0)
    clock.tick(2)


def test_drain_cordons_then_evicts_all_but_daemonset_and_mirror_pods(cluster, clock):
    drain_scene(cluster, clock)
    outcome = nodes_admin.drain(cluster, "node-1")
    assert outcome.lines == [
        "node/node-1 cordoned",
        "Warning: deleting Pods that declare no controller: default/kubia; "
        "ignoring DaemonSet-managed Pods: default/mon-4kq",
        "evicting pod default/kubia",
        "evicting pod default/web-x7k2p",
    ]
    assert outcome.evicted == ["default/kubia", "default/web-x7k2p"]
    assert outcome.skipped == [("default/etcd-node-1", "mirror pod"),
                               ("default/mon-4kq", "ignoring DaemonSet-managed Pods")]
    evicted = get_pod(cluster, "web-x7k2p")
    assert "deletionTimestamp" in evicted["metadata"]
    assert condition(evicted, "DisruptionTarget")["reason"] == "EvictionByEvictionAPI"
    for name in ("mon-4kq", "etcd-node-1", "elsewhere"):
        assert "deletionTimestamp" not in get_pod(cluster, name)["metadata"]
    assert get_node(cluster)["spec"]["unschedulable"] is True
    clock.run(31, step=1)   # the kubelet stops them within their 30 s grace period
    assert not pod_exists(cluster, "kubia") and not pod_exists(cluster, "web-x7k2p")


def test_drain_without_force_refuses_unmanaged_pods_and_evicts_nothing(cluster, clock):
    drain_scene(cluster, clock)
    outcome = nodes_admin.drain(cluster, "node-1", force=False, ignore_daemonsets=False)
    assert outcome.lines[0] == "node/node-1 cordoned"
    assert outcome.errors == [
        "cannot delete Pods that declare no controller (use --force to override): default/kubia",
        "cannot delete DaemonSet-managed Pods (use --ignore-daemonsets to ignore): "
        "default/mon-4kq"]
    assert outcome.lines[1].startswith('error: unable to drain node "node-1" due to error: [')
    assert outcome.evicted == []
    assert "deletionTimestamp" not in get_pod(cluster, "kubia")["metadata"]


def test_an_added_node_registers_and_takes_pods(cluster, clock):
    assert nodes_admin.add_node(cluster, "node-4", {"disktype": "ssd"}).lines == [
        "node/node-4 created"]
    store.create(cluster, make_pod("ssd-app", node_selector={"disktype": "ssd"}))
    clock.tick(1)
    node = get_node(cluster, "node-4")
    assert condition(node, "Ready")["status"] == "True"
    assert node["spec"]["podCIDR"]
    assert get_pod(cluster, "ssd-app")["spec"]["nodeName"] == "node-4"


def test_the_pods_of_a_removed_node_are_garbage_collected(cluster, clock):
    running_on(cluster, clock, "kubia", node="node-3")
    assert nodes_admin.remove_node(cluster, "node-3").lines == ['node "node-3" deleted']
    with pytest.raises(NotFound):
        get_node(cluster, "node-3")
    clock.tick(1)
    assert not pod_exists(cluster)
    last = Change.objects.filter(cluster=cluster, kind="Pod", name="kubia",
                                 type="MODIFIED").order_by("-id").first()
    assert last.object["status"]["phase"] == "Failed"
    target = condition(last.object, "DisruptionTarget")
    assert (target["reason"], target["message"]) == ("DeletionByPodGC",
                                                     "PodGC: node no longer exists")


def test_a_pod_bound_to_a_node_that_does_not_exist_goes_at_the_pod_gcs_next_check(cluster,
                                                                                   clock):
    # The pod GC looks for orphans every 20 s (gcCheckPeriod; it last looked at 0 s, when the
    # cluster was made), and at once when a node goes (the test above).
    store.create(cluster, make_pod("lost", node_name="node-9"))
    clock.run(19)
    assert pod_exists(cluster, "lost")
    clock.tick(1)
    assert not pod_exists(cluster, "lost")


# --- what the controllers remember between ticks is an optimisation only ------------------------


def node_scenario(cluster):
    """Nodes going down and coming back, cordoned, removed, with pods tolerating their
    taints for 60 s, 300 s (the default) or for ever: what it looks like every 5 s."""
    from tests.conftest import ManualClock

    clock = ManualClock(cluster)
    forever = [{"key": UNREACHABLE, "operator": "Exists", "effect": "NoExecute"}]
    brief = [{**forever[0], "tolerationSeconds": 60}]
    running_on(cluster, clock, "plain")
    running_on(cluster, clock, "brief", tolerations=brief)
    running_on(cluster, clock, "forever", node="node-2", tolerations=forever)
    running_on(cluster, clock, "other", node="node-3")
    events = {0: lambda: nodes_admin.power_off(cluster, "node-1"),
              5: lambda: nodes_admin.power_off(cluster, "node-2"),
              30: lambda: nodes_admin.cordon(cluster, "node-3"),
              90: lambda: nodes_admin.uncordon(cluster, "node-3"),
              150: lambda: nodes_admin.power_on(cluster, "node-2"),
              400: lambda: nodes_admin.power_on(cluster, "node-1"),
              450: lambda: nodes_admin.remove_node(cluster, "node-2")}
    seen = []
    for second in range(500):
        if second in events:
            events[second]()
        clock.run(1, step=0.5 if 45 <= second < 75 else 1)
        if second % 5 == 4:
            seen.append(snapshot(cluster))
    return seen


def snapshot(cluster):
    """Every object as a learner sees it, without what differs between two runs (uids, boot
    ids, resourceVersions, event names)."""
    import json
    import re

    found = []
    for row in ApiObject.objects.filter(cluster=cluster):
        body = {**row.body, "metadata": {k: v for k, v in row.body["metadata"].items()
                                         if row.kind != "Event" or k not in ("name", "uid")}}
        text = json.dumps(body, sort_keys=True)
        text = re.sub(r"[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}",
                      "<random>", text)    # uids, boot and machine ids
        found.append(re.sub(r'"resourceVersion": "\d+"', '"resourceVersion": ""', text))
    return sorted(found)


def test_the_node_controllers_memory_changes_nothing_they_do(cluster, monkeypatch):
    # The kubelets' heartbeat planning skips nodes seen quiet, and the node lifecycle
    # controller skips planning while a pass over the same nodes would plan nothing: both
    # optimisations only. Run with and without them, the same story leaves the same objects.
    from cluster.controllers import nodes

    remembered = node_scenario(cluster)
    monkeypatch.setattr(nodes, "REMEMBER_QUIET", False)
    monkeypatch.setattr(nodelifecycle, "REMEMBER_IDLE", False)
    forgetful = node_scenario(bootstrap.create_cluster("forgetful", nodes=3, start=START))
    for moment, (seen, expected) in enumerate(zip(remembered, forgetful)):
        assert seen == expected, f"differs at {5 * moment + 5} s"
