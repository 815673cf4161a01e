"""The scheduler: which node a pod lands on, and why the others were refused, worded as
kube-scheduler 1.32 words it. `plan` is pure and tested without the database; the rest through
ticks."""

import pytest

from cluster import kinds, store
from cluster.controllers.scheduler import NodeUsage, plan
from cluster.models import ApiObject
from tests.builders import make_node, make_pod

POD = kinds.get("Pod")
NODE = kinds.get("Node")


def ready_node(name, *, allocatable=None, taints=None, unschedulable=False, labels=None,
               ready=True):
    """A registered node body as the scheduler reads it."""
    node = make_node(name, labels=labels, unschedulable=unschedulable)
    node["status"] = {
        "allocatable": {"cpu": "4", "memory": "16Gi", "pods": "110", **(allocatable or {})},
        "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
    }
    if taints:
        node["spec"]["taints"] = taints
    return node


def three_nodes(**overrides):
    """node-1..node-3; `overrides` maps a node name to ready_node keyword arguments."""
    return [ready_node(f"node-{i}", **overrides.get(f"node-{i}", {})) for i in (1, 2, 3)]


def defaulted(pod):
    """The pod as the API server stores it (default tolerations included)."""
    POD.default(pod, None)
    return pod


def busy(**pods_per_node):
    """Usage where each named node already runs that many pods."""
    return {name.replace("_", "-"): NodeUsage(pods=n) for name, n in pods_per_node.items()}


def with_host_port(pod, port):
    pod["spec"]["containers"][0]["ports"] = [{"containerPort": port, "hostPort": port,
                                              "protocol": "TCP"}]
    return pod


GPU_TAINT = {"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}


# --- plan: scoring ---------------------------------------------------------------------------


def test_the_node_with_fewest_pods_wins():
    decision = plan(defaulted(make_pod()), three_nodes(), busy(node_1=2, node_2=0, node_3=1))
    assert decision.node == "node-2"
    assert decision.message == "fewest pods among 3 nodes that fit"


def test_a_tie_on_pod_count_goes_to_the_first_name():
    decision = plan(defaulted(make_pod()), three_nodes(), busy(node_1=3, node_2=1, node_3=1))
    assert decision.node == "node-2"


def test_with_one_fitting_node_the_reason_says_so():
    nodes = three_nodes(**{"node-1": {"unschedulable": True}, "node-2": {"ready": False}})
    decision = plan(defaulted(make_pod()), nodes, {})
    assert (decision.node, decision.message) == ("node-3", "the only node that fits")


# --- plan: filters ---------------------------------------------------------------------------


def reasons_for(pod, node, usage=None):
    return plan(defaulted(pod), [node], {node["metadata"]["name"]: usage or NodeUsage()}) \
        .reasons[node["metadata"]["name"]]


def test_a_node_that_is_not_ready_has_the_not_ready_taint_no_pod_tolerates_for_scheduling():
    # The node lifecycle controller taints it node.kubernetes.io/not-ready:NoSchedule; the
    # default tolerations only cover the NoExecute taint.
    assert reasons_for(make_pod(), ready_node("node-1", ready=False)) == [
        "node(s) had untolerated taint {node.kubernetes.io/not-ready: }"]


def test_a_cordoned_node_is_unschedulable():
    assert reasons_for(make_pod(), ready_node("node-1", unschedulable=True)) == [
        "node(s) were unschedulable"]


def test_a_no_schedule_taint_keeps_off_pods_that_do_not_tolerate_it():
    assert reasons_for(make_pod(), ready_node("node-1", taints=[GPU_TAINT])) == [
        "node(s) had untolerated taint {dedicated: gpu}"]


def test_a_pod_that_tolerates_the_taint_fits():
    pod = make_pod(tolerations=[{"key": "dedicated", "operator": "Equal", "value": "gpu",
                                 "effect": "NoSchedule"}])
    assert reasons_for(pod, ready_node("node-1", taints=[GPU_TAINT])) == []


def test_a_prefer_no_schedule_taint_does_not_filter():
    taint = {**GPU_TAINT, "effect": "PreferNoSchedule"}
    assert reasons_for(make_pod(), ready_node("node-1", taints=[taint])) == []


def test_a_node_selector_that_does_not_match_filters_the_node():
    pod = make_pod(node_selector={"disk": "ssd"})
    assert reasons_for(pod, ready_node("node-1", labels={"disk": "hdd"})) == [
        "node(s) didn't match Pod's node affinity/selector"]


def test_a_node_selector_that_matches_fits():
    pod = make_pod(node_selector={"disk": "ssd"})
    assert reasons_for(pod, ready_node("node-1", labels={"disk": "ssd"})) == []


def test_a_cpu_request_above_what_is_left_is_insufficient_cpu():
    used = NodeUsage(pods=1, cpu_milli=3500)
    assert reasons_for(make_pod(requests={"cpu": "600m"}), ready_node("node-1"), used) == [
        "Insufficient cpu"]


def test_a_cpu_request_that_fills_the_node_exactly_fits():
    used = NodeUsage(pods=1, cpu_milli=3500)
    assert reasons_for(make_pod(requests={"cpu": "500m"}), ready_node("node-1"), used) == []


def test_a_memory_request_above_allocatable_is_insufficient_memory():
    node = ready_node("node-1", allocatable={"memory": "1Gi"})
    assert reasons_for(make_pod(requests={"memory": "2Gi"}), node) == ["Insufficient memory"]


def test_every_insufficient_resource_is_a_reason_of_its_own():
    node = ready_node("node-1", allocatable={"cpu": "1", "memory": "1Gi"})
    assert reasons_for(make_pod(requests={"cpu": "2", "memory": "2Gi"}), node) == [
        "Insufficient cpu", "Insufficient memory"]


def test_a_limit_stands_in_for_a_missing_request():
    # The API server defaults requests to limits when only limits are given.
    pod = make_pod()
    pod["spec"]["containers"][0]["resources"] = {"limits": {"cpu": "2"}}
    assert reasons_for(pod, ready_node("node-1", allocatable={"cpu": "1"})) == [
        "Insufficient cpu"]


def test_a_node_full_of_pods_has_too_many_pods():
    node = ready_node("node-1", allocatable={"pods": "2"})
    assert reasons_for(make_pod(), node, NodeUsage(pods=2)) == ["Too many pods"]


def test_a_taken_host_port_filters_the_node():
    used = NodeUsage(pods=1, host_ports={(8080, "TCP")})
    assert reasons_for(with_host_port(make_pod(), 8080), ready_node("node-1"), used) == [
        "node(s) didn't have free ports for the requested pod ports"]


def test_a_host_port_taken_for_another_protocol_is_free():
    used = NodeUsage(pods=1, host_ports={(8080, "UDP")})
    assert reasons_for(with_host_port(make_pod(), 8080), ready_node("node-1"), used) == []


# --- plan: the FailedScheduling message ------------------------------------------------------


def test_no_room_anywhere_is_worded_as_kube_scheduler_words_it():
    nodes = three_nodes(**{f"node-{i}": {"allocatable": {"cpu": "1"}} for i in (1, 2, 3)})
    decision = plan(defaulted(make_pod(requests={"cpu": "2"})), nodes, {})
    assert decision.node is None
    assert decision.message == (
        "0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: "
        "3 No preemption victims found for incoming pod.")


def test_mixed_reasons_are_listed_sorted_with_preemption_told_apart():
    nodes = three_nodes(**{"node-1": {"unschedulable": True},
                           "node-2": {"taints": [GPU_TAINT]},
                           "node-3": {"allocatable": {"cpu": "1"}}})
    decision = plan(defaulted(make_pod(requests={"cpu": "2"})), nodes, {})
    assert decision.message == (
        "0/3 nodes are available: 1 Insufficient cpu, 1 node(s) had untolerated taint "
        "{dedicated: gpu}, 1 node(s) were unschedulable. preemption: 0/3 nodes are available: "
        "1 No preemption victims found for incoming pod, "
        "2 Preemption is not helpful for scheduling.")


def test_the_reason_histogram_is_sorted_as_strings_count_first():
    # FitError.Error sorts "<count> <reason>" strings with sort.Strings, so a smaller count
    # comes first whatever its reason; the preemption histogram is sorted the same way.
    nodes = three_nodes(**{"node-1": {"allocatable": {"cpu": "1"}},
                           "node-2": {"allocatable": {"cpu": "1"}},
                           "node-3": {"unschedulable": True}})
    decision = plan(defaulted(make_pod(requests={"cpu": "2"})), nodes, {})
    assert decision.message == (
        "0/3 nodes are available: 1 node(s) were unschedulable, 2 Insufficient cpu. "
        "preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, "
        "2 No preemption victims found for incoming pod.")


def test_a_host_port_conflict_is_one_preemption_could_cure():
    # NodePorts.Filter returns Unschedulable (not UnschedulableAndUnresolvable), so the
    # preemption dry run visits those nodes and finds no lower-priority victims.
    usage = {f"node-{i}": NodeUsage(pods=1, host_ports={(8080, "TCP")}) for i in (1, 2, 3)}
    decision = plan(defaulted(with_host_port(make_pod(), 8080)), three_nodes(), usage)
    assert decision.message == (
        "0/3 nodes are available: 3 node(s) didn't have free ports for the requested pod "
        "ports. preemption: 0/3 nodes are available: "
        "3 No preemption victims found for incoming pod.")


def test_with_no_nodes_at_all_there_are_no_nodes_available():
    decision = plan(defaulted(make_pod()), [], {})
    assert (decision.node, decision.message) == (None, "no nodes available to schedule pods")


# --- through ticks ---------------------------------------------------------------------------


def get_pod(cluster, name="kubia"):
    return store.get(cluster, POD, "default", name)


def pod_events(cluster, pod, reason=None):
    rows = ApiObject.objects.filter(cluster=cluster, kind="Event",
                                    owner_uid=pod["metadata"]["uid"]).order_by("resource_version")
    return [r.body for r in rows if reason is None or r.body["reason"] == reason]


def condition(pod, type_):
    return next(c for c in pod["status"].get("conditions") or [] if c["type"] == type_)


def test_a_created_pod_is_bound_to_the_emptiest_node(cluster, clock):
    store.create(cluster, make_pod("first", node_name="node-1"))
    store.create(cluster, make_pod("second", node_name="node-2"))
    store.create(cluster, make_pod())
    clock.tick(1)
    assert get_pod(cluster)["spec"]["nodeName"] == "node-3"


def test_the_scheduled_event_names_the_node(cluster, clock):
    store.create(cluster, make_pod())
    clock.tick(1)
    pod = get_pod(cluster)
    [event] = pod_events(cluster, pod, "Scheduled")
    assert event["type"] == "Normal"
    assert event["source"]["component"] == "default-scheduler"
    assert event["message"].startswith("Successfully assigned default/kubia to node-1")


def test_a_bound_pod_is_pod_scheduled_true(cluster, clock):
    store.create(cluster, make_pod())
    clock.tick(1)
    assert condition(get_pod(cluster), "PodScheduled")["status"] == "True"


def test_a_pod_that_fits_nowhere_is_pod_scheduled_false_unschedulable(cluster, clock):
    store.create(cluster, make_pod(requests={"cpu": "8"}))
    clock.tick(1)
    pod = get_pod(cluster)
    scheduled = condition(pod, "PodScheduled")
    assert (scheduled["status"], scheduled["reason"]) == ("False", "Unschedulable")
    assert scheduled["message"] == (
        "0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: "
        "3 No preemption victims found for incoming pod.")
    assert "nodeName" not in pod["spec"]
    assert pod["status"]["phase"] == "Pending"


def test_a_pod_that_fits_nowhere_gets_a_failed_scheduling_warning(cluster, clock):
    store.create(cluster, make_pod(requests={"cpu": "8"}))
    clock.tick(1)
    [event] = pod_events(cluster, get_pod(cluster), "FailedScheduling")
    assert event["type"] == "Warning"
    assert event["message"].startswith("0/3 nodes are available: 3 Insufficient cpu.")


def test_an_unschedulable_pod_binds_once_a_node_with_room_joins(cluster, clock):
    store.create(cluster, make_pod(requests={"cpu": "8"}))
    clock.tick(1)
    store.create(cluster, make_node("node-4", capacity={"cpu": "16"}))
    clock.tick(1)
    pod = get_pod(cluster)
    assert pod["spec"]["nodeName"] == "node-4"
    assert condition(pod, "PodScheduled")["status"] == "True"


def test_pods_created_together_spread_over_the_nodes(cluster, clock):
    for i in range(6):
        store.create(cluster, make_pod(f"web-{i}"))
    clock.tick(1)
    placed = ApiObject.objects.filter(cluster=cluster, kind="Pod").values_list("node_name",
                                                                               flat=True)
    assert sorted(placed) == ["node-1", "node-1", "node-2", "node-2", "node-3", "node-3"]


def test_a_pod_for_another_scheduler_is_left_alone(cluster, clock):
    store.create(cluster, make_pod(schedulerName="my-scheduler"))
    clock.tick(1)
    pod = get_pod(cluster)
    assert "nodeName" not in pod["spec"]
    assert pod_events(cluster, pod) == []


@pytest.mark.parametrize("phase", ["Succeeded", "Failed"])
def test_a_finished_pod_no_longer_counts_against_its_nodes_resources(cluster, clock, phase):
    done = store.create(cluster, make_pod("done", node_name="node-1",
                                          requests={"cpu": "4"})).object
    store.update(cluster, {**done, "status": {"phase": phase}}, subresource="status")
    for name in ("node-2", "node-3"):
        store.patch(cluster, NODE, None, name, {"spec": {"unschedulable": True}},
                    store.MERGE_PATCH)
    store.create(cluster, make_pod(requests={"cpu": "1"}))
    clock.tick(1)
    assert get_pod(cluster)["spec"].get("nodeName") == "node-1"


def test_a_node_offers_110_pods_unless_its_capacity_says_otherwise(cluster):
    node = store.get(cluster, NODE, None, "node-1")
    assert node["status"]["allocatable"]["pods"] == "110"   # the kubelet's maxPods default


def test_a_node_with_room_for_two_pods_refuses_the_third(cluster, clock):
    for name in ("node-1", "node-2", "node-3"):
        store.patch(cluster, NODE, None, name, {"spec": {"unschedulable": True}},
                    store.MERGE_PATCH)
    store.create(cluster, make_node("small", capacity={"pods": "2"}))
    for i in range(3):
        store.create(cluster, make_pod(f"web-{i}"))
    clock.tick(1)
    third = get_pod(cluster, "web-2")
    assert "nodeName" not in third["spec"]
    assert condition(third, "PodScheduled")["message"] == (
        "0/4 nodes are available: 1 Too many pods, 3 node(s) were unschedulable. "
        "preemption: 0/4 nodes are available: 1 No preemption victims found for incoming pod, "
        "3 Preemption is not helpful for scheduling.")


def test_incremental_candidates_decide_as_plan_does():
    """reconcile's per-pass candidate sets choose exactly what plan() chooses pod by pod."""
    import random

    from cluster.controllers.scheduler import NodeFacts, PodFacts, _Candidates

    rng = random.Random(7)
    for _round in range(20):
        nodes = []
        for i in range(rng.randint(0, 12)):
            node = make_node(f"n{i:02d}", labels={"zone": rng.choice("ab")},
                             capacity={"pods": str(rng.randint(1, 6)),
                                       "cpu": rng.choice(["1", "2", "500m"]), "memory": "1Gi"},
                             unschedulable=rng.random() < 0.1)
            node["status"]["conditions"] = [{"type": "Ready", "status": "True"}]
            nodes.append(node)
        facts = [NodeFacts.of(n) for n in nodes]
        by_name = {n.name: n for n in facts}
        slow_usage = {n.name: NodeUsage() for n in facts}
        fast_usage = {n.name: NodeUsage() for n in facts}
        candidates = {}
        for j in range(40):
            pod = make_pod(f"p{j}", requests=rng.choice([None, {"cpu": "250m"}, {"cpu": "1"}]),
                           node_selector=rng.choice([None, {"zone": "a"}]),
                           ports=rng.choice([None, [{"containerPort": 80, "hostPort": 8080}]]))
            expected = plan(pod, facts, slow_usage)
            pod_facts = PodFacts.of(pod)
            key = pod_facts.key()
            if key not in candidates:
                candidates[key] = _Candidates(pod_facts, facts, fast_usage)
            got = candidates[key].decide() or plan(pod, facts, fast_usage)
            assert (got.node, got.feasible, got.message) == \
                (expected.node, expected.feasible, expected.message)
            if expected.node:
                slow_usage[expected.node].add(pod)
                fast_usage[got.node].add(pod)
                for each in candidates.values():
                    each.changed(by_name[got.node])
