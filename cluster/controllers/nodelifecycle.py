"""Nodes that fail: kube-controller-manager's node lifecycle controller, taint eviction
controller and pod garbage collector, as Kubernetes 1.32 runs them.

One pass:
1. Node health (node-lifecycle-controller, monitorNodeHealth). A node whose kubelet's Lease was
   last renewed more than --node-monitor-grace-period (50 s since 1.32) ago has its Ready,
   MemoryPressure, DiskPressure and PIDPressure conditions set Unknown ("Kubelet stopped posting
   node status.", NodeStatusUnknown); one that never posted a status gets them after
   --node-startup-grace-period (60 s; "Kubelet never posted node status."). The Lease is implicit
   (see controllers/nodes.py): a running kubelet is always renewing it, a stopped one left its
   last renewal in the annotation kubelab.io/lease-renew-time. Going not Ready records
   NodeNotReady on the node, and every pod on it gets Ready False with a NodeNotReady event
   (MarkPodsNotReady).
2. Taints. NoSchedule taints follow the conditions and spec.unschedulable at once
   (doNoScheduleTaintingPass: not-ready, unreachable, memory/disk/pid-pressure,
   network-unavailable, unschedulable). The NoExecute not-ready/unreachable taint is added
   through a rate limiter per zone (--node-eviction-rate 0.1: one node per 10 s; in a zone
   where more than 2 nodes and at least 55 % are not Ready, 0.01 if it has more than 50 nodes,
   else none; when no zone has a Ready node at all, none, and existing ones are removed: the
   controller suspects itself rather than every node). A node Ready again loses them at once.
   Every taint the controller adds carries timeAdded (SwapNodeControllerTaint).
3. Taint eviction (taint-eviction-controller). A pod on a node with NoExecute taints it does not
   all tolerate is deleted now; one that tolerates them for a while (tolerationSeconds: 300 for
   not-ready and unreachable, from the DefaultTolerationSeconds admission plugin) is deleted
   that long after it came under them; forever-tolerating pods stay. Deletion: event
   TaintManagerEviction "Marking for deletion Pod ns/name", condition DisruptionTarget
   (DeletionByTaintManager), then a graceful delete. On a dead node no kubelet confirms it, so
   the pod stays Terminating until the node returns or is deleted, as in Kubernetes (or until
   an administrator taints the node node.kubernetes.io/out-of-service, below). The real
   controller keeps the moment it first saw a taint in memory; kubelab, keeping none between
   ticks, uses the taint's timeAdded and writes one on a NoExecute taint added without it.
4. Pod garbage collection (pod-garbage-collector). Pods bound to a node that no longer exists
   are marked Failed with DisruptionTarget (DeletionByPodGC, "PodGC: node no longer exists") and
   force-deleted. The collector looks for them every 20 s (gcCheckPeriod), and at once when a
   node goes; Kubernetes then waits a 40 s quarantine against a stale informer cache, which
   kubelab does not have, so it acts at once. Terminating pods on a node that is not Ready and
   tainted node.kubernetes.io/out-of-service are force-deleted (non-graceful node shutdown).

Decisions are pure (`monitor`, `no_schedule_diff`, `zone_state`, `eviction_time`, `plan`); the
rest applies them through the store. A pass that plans nothing also says until when it would
keep planning nothing over the same node bodies (a lease's grace running out, the eviction rate
limiter's next token); until then, or until a node changes, the next passes skip the planning.
That, and when the pod GC last looked, is kept in memory only: a restarted worker plans at once.
An idle pass is one query (the node bodies' text) and no writes.
"""

import datetime as dt
from dataclasses import dataclass, field

from cluster import kinds, runtime, store
from cluster.controllers.nodes import NEVER, cluster_key, node_bodies
from cluster.controllers.scheduler import tolerates
from cluster.errors import Conflict, NotFound
from cluster.kinds import node as node_kind
from cluster.models import ApiObject

COMPONENT = "node-controller"
TAINT_EVICTION_COMPONENT = "taint-eviction-controller"

# kube-controller-manager 1.32 defaults.
NODE_MONITOR_GRACE_PERIOD = 50      # --node-monitor-grace-period (40 s before 1.32, PR #126287)
NODE_STARTUP_GRACE_PERIOD = 60      # --node-startup-grace-period
NODE_EVICTION_RATE = 0.1            # --node-eviction-rate: nodes tainted per second per zone
SECONDARY_NODE_EVICTION_RATE = 0.01  # --secondary-node-eviction-rate
LARGE_CLUSTER_SIZE_THRESHOLD = 50   # --large-cluster-size-threshold
UNHEALTHY_ZONE_THRESHOLD = 0.55     # --unhealthy-zone-threshold
GC_CHECK_PERIOD = 20                # pod-garbage-collector's gcCheckPeriod (seconds)

# The conditions the controller sets Unknown (it leaves NetworkUnavailable to the network).
MONITORED_CONDITIONS = ("Ready", "MemoryPressure", "DiskPressure", "PIDPressure")
# nodeConditionToTaintKeyStatusMap: which condition in which status gives which NoSchedule taint.
CONDITION_TAINTS = {
    "Ready": {"False": node_kind.TAINT_NOT_READY, "Unknown": node_kind.TAINT_UNREACHABLE},
    "MemoryPressure": {"True": node_kind.TAINT_MEMORY_PRESSURE},
    "DiskPressure": {"True": node_kind.TAINT_DISK_PRESSURE},
    "NetworkUnavailable": {"True": node_kind.TAINT_NETWORK_UNAVAILABLE},
    "PIDPressure": {"True": node_kind.TAINT_PID_PRESSURE},
}
NO_SCHEDULE_KEYS = {key for by_status in CONDITION_TAINTS.values() for key in by_status.values()}
NO_SCHEDULE_KEYS.add(node_kind.TAINT_UNSCHEDULABLE)
# The NoExecute taints of Ready False and Unknown, mutually exclusive as the condition is.
NO_EXECUTE_FOR = {"False": node_kind.TAINT_NOT_READY, "Unknown": node_kind.TAINT_UNREACHABLE}
EXCLUDE_DISRUPTION_LABEL = "node.kubernetes.io/exclude-disruption"

NORMAL, PARTIAL, FULL = "Normal", "PartialDisruption", "FullDisruption"


def seconds_between(earlier, later):
    return (later - earlier).total_seconds()


def parse(stamp):
    try:
        return store.parse_timestamp(stamp) if stamp else None
    except ValueError:
        return None


# ---------------------------------------------------------------------------------------------
# Pure decisions


def monitor(node, now):
    """(status to post or None, Ready status after it) for one node (tryUpdateNodeHealth).

    The health signal is the kubelet's Lease: renewed now if it runs, else at the time it left
    in kubelab.io/lease-renew-time. A node with no Ready condition has never posted a status:
    it is given the startup grace period from its creation.
    """
    ready = node_kind.condition(node, "Ready")
    if ready is None:
        probe = parse(node["metadata"].get("creationTimestamp")) or now
        grace, observed = NODE_STARTUP_GRACE_PERIOD, None
    else:
        probe = parse(node_kind.lease_renew_time(node)) or now
        grace, observed = NODE_MONITOR_GRACE_PERIOD, ready.get("status", "Unknown")
    if not seconds_between(probe, now) > grace:   # nc.now().After(probeTimestamp + grace)
        return None, observed
    stamp = store.timestamp(now)
    status = store.clone(node.get("status") or {})
    conditions = status.setdefault("conditions", [])
    for type_ in MONITORED_CONDITIONS:
        current = next((c for c in conditions if c.get("type") == type_), None)
        if current is None:
            conditions.append({
                "type": type_, "status": "Unknown", "reason": "NodeStatusNeverUpdated",
                "message": "Kubelet never posted node status.",
                "lastHeartbeatTime": node["metadata"].get("creationTimestamp"),
                "lastTransitionTime": stamp})
        elif current.get("status") != "Unknown":
            current.update({"status": "Unknown", "reason": "NodeStatusUnknown",
                            "message": "Kubelet stopped posting node status.",
                            "lastTransitionTime": stamp})
    if ready is not None and ready.get("status") == "Unknown":
        return None, "Unknown"   # already marked: nothing to post
    return status, "Unknown"


def monitor_quiet_until(node):
    """Until when (exclusive) `monitor` posts nothing for this very body: the moment now is
    *after* the last renewal plus the grace period, or NEVER. Pure."""
    ready = node_kind.condition(node, "Ready")
    if ready is None:
        probe, grace = parse(node["metadata"].get("creationTimestamp")), NODE_STARTUP_GRACE_PERIOD
    elif ready.get("status") == "Unknown":
        return NEVER   # already marked: monitor posts nothing, before or after the grace
    else:
        probe, grace = parse(node_kind.lease_renew_time(node)), NODE_MONITOR_GRACE_PERIOD
    if probe is None:
        return NEVER   # a running kubelet: its Lease is renewed now, always
    # Datetimes count microseconds: "after probe + grace" is from probe + grace + 1 us.
    return probe + dt.timedelta(seconds=grace, microseconds=1)


def no_schedule_diff(node, conditions):
    """(keys to add, keys to remove) of the controller's NoSchedule taints. Pure."""
    wanted = set()
    for cond in conditions or []:
        key = CONDITION_TAINTS.get(cond.get("type"), {}).get(cond.get("status"))
        if key:
            wanted.add(key)
    if (node.get("spec") or {}).get("unschedulable"):
        wanted.add(node_kind.TAINT_UNSCHEDULABLE)
    have = {t.get("key") for t in node_kind.taints(node)
            if t.get("effect") == "NoSchedule" and t.get("key") in NO_SCHEDULE_KEYS}
    return sorted(wanted - have), sorted(have - wanted)


def zone_state(ready_statuses):
    """ComputeZoneState: FullDisruption with no Ready node, PartialDisruption with more than
    2 not Ready making at least 55 % of the zone, else Normal. Pure."""
    ready = sum(1 for s in ready_statuses if s == "True")
    not_ready = len(ready_statuses) - ready
    if ready == 0 and not_ready > 0:
        return FULL
    if not_ready > 2 and not_ready / (not_ready + ready) >= UNHEALTHY_ZONE_THRESHOLD:
        return PARTIAL
    return NORMAL


def tainting_rate(state, zone_size, all_fully_disrupted):
    """Nodes per second the zone's NoExecute tainter may take (setLimiterInZone). Pure."""
    if all_fully_disrupted:
        return 0.0    # master disruption mode: all evictions stop
    if state == PARTIAL:
        return SECONDARY_NODE_EVICTION_RATE if zone_size > LARGE_CLUSTER_SIZE_THRESHOLD else 0.0
    return NODE_EVICTION_RATE   # Normal, and a fully disrupted zone among healthy ones


@dataclass
class NodePlan:
    """What the controller writes to one node this pass."""

    node: dict
    status: dict | None = None       # conditions set Unknown
    ready: str | None = None         # the Ready status once written
    went_not_ready: bool = False     # Ready True -> not: NodeNotReady event
    add: list = field(default_factory=list)       # taints to add, timeAdded set
    remove: list = field(default_factory=list)    # (key, effect) to remove

    @property
    def name(self):
        return self.node["metadata"]["name"]

    @property
    def idle(self):
        """Nothing to write (apply_node's common case)."""
        return self.status is None and not self.add and not self.remove and all(
            t.get("timeAdded") or t.get("effect") != "NoExecute"
            for t in node_kind.taints(self.node))


def plan(nodes, now):
    """The node lifecycle controller's pass over all nodes: one NodePlan per node. Pure."""
    return plan_and_wake(nodes, now)[0]


def plan_and_wake(nodes, now):
    """(plan(nodes, now), wake): when every plan is idle, a pass over the same bodies stays
    idle while now < wake (a lease's grace running out, the rate limiter's next token). Pure."""
    stamp = store.timestamp(now)
    wake = NEVER
    plans = []
    for node in nodes:
        status, ready = monitor(node, now)
        if status is None:
            wake = min(wake, monitor_quiet_until(node))
        before = node_kind.condition(node, "Ready")
        plans.append(NodePlan(
            node, status, ready,
            went_not_ready=bool(before and before.get("status") == "True" and ready != "True")))
    zones = {}
    for p in plans:
        if EXCLUDE_DISRUPTION_LABEL not in (p.node["metadata"].get("labels") or {}):
            zones.setdefault(node_kind.zone_key(p.node), []).append(p.ready)
    states = {z: zone_state(readies) for z, readies in zones.items()}
    all_full = bool(states) and all(s == FULL for s in states.values())
    queued = {}
    for p in plans:
        conditions = (p.status or p.node.get("status") or {}).get("conditions")
        add, remove = no_schedule_diff(p.node, conditions)
        p.add += [{"key": k, "effect": "NoSchedule", "timeAdded": stamp} for k in add]
        p.remove += [(k, "NoSchedule") for k in remove]
        have = {t.get("key") for t in node_kind.taints(p.node) if t.get("effect") == "NoExecute"}
        wanted = NO_EXECUTE_FOR.get(p.ready) if not all_full else None
        stale = [k for k in NO_EXECUTE_FOR.values() if k in have and k != wanted]
        if wanted and wanted not in have and stale:
            # processTaintBaseEviction: not-ready <-> unreachable swaps at once.
            p.add.append({"key": wanted, "effect": "NoExecute", "timeAdded": stamp})
        elif wanted and wanted not in have:
            queued.setdefault(node_kind.zone_key(p.node), []).append(p)
        p.remove += [(k, "NoExecute") for k in stale]
    for zone, waiting in queued.items():
        rate = tainting_rate(states.get(zone, NORMAL), len(zones.get(zone, [])), all_full)
        if rate <= 0:
            continue
        last = max((parse(t.get("timeAdded")) for p in plans
                    if node_kind.zone_key(p.node) == zone for t in node_kind.taints(p.node)
                    if t.get("effect") == "NoExecute" and t.get("key") in NO_EXECUTE_FOR.values()
                    and parse(t.get("timeAdded"))), default=None)
        # A token bucket of burst 1: one node now if the last was tainted 1/rate ago.
        if last is not None and seconds_between(last, now) < 1 / rate:
            wake = min(wake, last + dt.timedelta(seconds=1 / rate))
            continue
        first = min(waiting, key=lambda p: (_ready_since(p), p.name))
        first.add.append({"key": NO_EXECUTE_FOR[first.ready], "effect": "NoExecute",
                          "timeAdded": stamp})
    return plans, wake


def _ready_since(p):
    ready = node_kind.condition({"status": p.status or p.node.get("status")}, "Ready") or {}
    return ready.get("lastTransitionTime") or ""


def matching_tolerations(taints, tolerations):
    """(all tolerated, the first toleration matching each taint): GetMatchingTolerations."""
    used = []
    for taint in taints:
        match = next((t for t in tolerations or [] if tolerates([t], taint)), None)
        if match is None:
            return False, []
        used.append(match)
    return True, used


def eviction_time(pod, taints, now):
    """When the taint eviction controller deletes `pod` given its node's taints: a datetime
    (now when a NoExecute taint is not tolerated), or None when it may stay. Pure."""
    no_execute = [t for t in taints if t.get("effect") == "NoExecute"]
    if not no_execute:
        return None
    tolerated, used = matching_tolerations(no_execute, (pod.get("spec") or {}).get("tolerations"))
    if not tolerated:
        return now
    limits = [t["tolerationSeconds"] for t in used if t.get("tolerationSeconds") is not None]
    if not limits:
        return None   # tolerated forever
    seconds = max(0, min(limits))
    # The countdown starts when the pod first stood under a NoExecute taint: the oldest
    # taint's timeAdded, or the pod's arrival on an already tainted node.
    start = min((parse(t.get("timeAdded")) or now for t in no_execute))
    arrived = _arrival(pod)
    if arrived and arrived > start:
        start = arrived
    return start + dt.timedelta(seconds=seconds)


def _arrival(pod):
    for cond in (pod.get("status") or {}).get("conditions") or []:
        if cond.get("type") == "PodScheduled" and cond.get("status") == "True":
            return parse(cond.get("lastTransitionTime"))
    return parse(pod["metadata"].get("creationTimestamp"))


def disruption_condition(reason, message, stamp):
    return {"type": "DisruptionTarget", "status": "True", "lastProbeTime": None,
            "lastTransitionTime": stamp, "reason": reason, "message": message}


def with_condition(status, condition):
    """UpdatePodCondition: replace the condition of that type, keep the transition time if
    its status did not change. Pure."""
    status = dict(status or {})
    conditions = list(status.get("conditions") or [])
    for i, cond in enumerate(conditions):
        if cond.get("type") == condition["type"]:
            if cond.get("status") == condition["status"]:
                condition = {**condition, "lastTransitionTime": cond.get("lastTransitionTime")}
            conditions[i] = condition
            break
    else:
        conditions.append(condition)
    status["conditions"] = conditions
    return status


# ---------------------------------------------------------------------------------------------
# Applying


# In-memory optimisations, safe to lose (see the module's docstring).
REMEMBER_IDLE = True   # off: every pass plans (tests compare the two)
_idle = {}        # cluster key -> (node bodies, idle until, troubled node names)
_gc_checked = {}  # cluster key -> (simulated seconds, node names) of the pod GC's last look
KEEP_CLUSTERS = 64


def reconcile(cluster, now):
    """One pass of the node lifecycle controller, taint eviction and pod GC."""
    nodes = node_bodies(cluster)
    key = cluster_key(cluster)
    idle = _idle.get(key) if REMEMBER_IDLE else None
    if idle is not None and now < idle[1] and len(idle[0]) == len(nodes) and \
            all(a is b for a, b in zip(idle[0], nodes)):
        by_name = {node["metadata"]["name"]: node for node in nodes}
        troubled = {name: by_name[name] for name in idle[2]}
    else:
        _idle.pop(key, None)
        plans, wake = plan_and_wake(nodes, now)
        by_name = {}
        for p in plans:
            try:
                by_name[p.name] = apply_node(cluster, p, now)
            except (Conflict, NotFound):
                by_name[p.name] = p.node   # written meanwhile: looked at again next tick
        troubled = {name: node for name, node in by_name.items()
                    if not node_kind.is_ready(node) or
                    any(t.get("effect") == "NoExecute" for t in node_kind.taints(node))}
        if all(p.idle for p in plans):
            _remember(_idle, key, (nodes, wake, list(troubled)))
    # Taint eviction runs every pass: a pod goes at exactly its tolerationSeconds.
    pods = (ApiObject.objects.filter(cluster=cluster).pods()
            .filter(node_name__in=list(troubled)).order_by("id")) if troubled else []
    for row in pods:
        try:
            sync_pod(cluster, row.body, troubled[row.node_name], now)
        except (Conflict, NotFound):
            continue
    t = runtime.seconds(now)
    checked = _gc_checked.get(key)
    if checked is None or not checked[0] <= t < checked[0] + GC_CHECK_PERIOD or \
            not checked[1] <= by_name.keys():
        # Every gcCheckPeriod, and at once when a node went (its pods are orphans now).
        collect_orphans(cluster, list(by_name), now)
        _remember(_gc_checked, key, (t, set(by_name)))


def _remember(cache, key, value):
    cache.pop(key, None)
    cache[key] = value
    while len(cache) > KEEP_CLUSTERS:
        cache.pop(next(iter(cache)))


def apply_node(cluster, p, now):
    node = p.node
    if p.idle:
        return node   # the common case: a healthy node, nothing to write
    name = p.name
    if p.status is not None:
        node = store.update(cluster, {**node, "status": p.status}, subresource="status",
                            now=now).object
        if p.went_not_ready:
            store.record_event(cluster, node, "Normal", "NodeNotReady",
                               f"Node {name} status is now: NodeNotReady", component=COMPONENT,
                               now=now)
    taints = node_kind.taints(node)   # as written, if the status write changed it
    removing = set(p.remove)
    kept = [t for t in taints if (t.get("key"), t.get("effect")) not in removing]
    present = {(t.get("key"), t.get("effect")) for t in kept}
    added = [t for t in p.add if (t["key"], t["effect"]) not in present]
    # A NoExecute taint added by someone else without timeAdded: record when it was first
    # seen, the moment the real taint manager keeps in memory.
    stamp = store.timestamp(now)
    kept = [{**t, "timeAdded": stamp} if t.get("effect") == "NoExecute" and not t.get("timeAdded")
            else t for t in kept]
    new_taints = kept + added
    if new_taints != taints:
        spec = {k: v for k, v in node["spec"].items() if k != "taints"}
        if new_taints:
            spec["taints"] = new_taints
        node = store.update(cluster, {**node, "spec": spec}, now=now).object
    removed = [t for t in taints if t.get("effect") == "NoExecute" and
               (t.get("key"), t.get("effect")) in removing]
    if removed and not any(t.get("effect") == "NoExecute" for t in new_taints):
        cancel_evictions(cluster, node, removed, now)
    return node


def cancel_evictions(cluster, node, removed, now):
    """The node has no NoExecute taint left (Ready again, or master disruption): the pods whose
    eviction was counting down hear it is off."""
    rows = ApiObject.objects.filter(cluster=cluster).pods().on_node(node["metadata"]["name"]) \
        .filter(deleting=False)
    for row in rows:
        pod = row.body
        tolerated, used = matching_tolerations(removed, pod["spec"].get("tolerations"))
        if tolerated and any(t.get("tolerationSeconds") is not None for t in used):
            meta = pod["metadata"]
            store.record_event(cluster, pod, "Normal", "TaintManagerEviction",
                               f"Cancelling deletion of Pod {meta['namespace']}/{meta['name']}",
                               component=TAINT_EVICTION_COMPONENT, now=now)


def sync_pod(cluster, pod, node, now):
    """One pod on a node that is not Ready or has NoExecute taints."""
    meta = pod["metadata"]
    stamp = store.timestamp(now)
    if meta.get("deletionTimestamp"):
        if not node_kind.is_ready(node) and any(
                t.get("key") == node_kind.TAINT_OUT_OF_SERVICE for t in node_kind.taints(node)):
            force_delete(cluster, pod, None, now)   # gcTerminating: non-graceful node shutdown
        elif not node_kind.is_ready(node):
            mark_not_ready(cluster, pod, stamp, now)
        return
    if not node_kind.is_ready(node):
        pod = mark_not_ready(cluster, pod, stamp, now)
    due = eviction_time(pod, node_kind.taints(node), now)
    if due is None or due > now:
        return
    name = f"{meta['namespace']}/{meta['name']}"
    store.record_event(cluster, pod, "Normal", "TaintManagerEviction",
                       f"Marking for deletion Pod {name}", component=TAINT_EVICTION_COMPONENT,
                       now=now)
    status = with_condition(pod.get("status"), disruption_condition(
        "DeletionByTaintManager", "Taint manager: deleting due to NoExecute taint", stamp))
    if status != pod.get("status"):
        pod = store.update(cluster, {**pod, "status": status}, subresource="status",
                           now=now).object
    store.delete(cluster, kinds.get("Pod"), meta["namespace"], meta["name"], now=now)


def mark_not_ready(cluster, pod, stamp, now):
    """MarkPodsNotReady: the pod's Ready condition False (nothing else), and say why."""
    ready = next((c for c in (pod.get("status") or {}).get("conditions") or []
                  if c.get("type") == "Ready"), None)
    if ready is None or ready.get("status") == "False":
        return pod
    status = with_condition(pod["status"], {**ready, "status": "False",
                                            "lastTransitionTime": stamp})
    pod = store.update(cluster, {**pod, "status": status}, subresource="status", now=now).object
    store.record_event(cluster, pod, "Warning", "NodeNotReady", "Node is not ready",
                       component=COMPONENT, now=now)
    return pod


def force_delete(cluster, pod, condition, now):
    """markFailedAndDeletePodWithCondition: phase Failed (and the condition), then grace 0."""
    status = dict(pod.get("status") or {})
    if status.get("phase") not in ("Succeeded", "Failed"):
        status["phase"] = "Failed"
        if condition is not None:
            status = with_condition(status, condition)
        pod = store.update(cluster, {**pod, "status": status}, subresource="status",
                           now=now).object
    meta = pod["metadata"]
    store.delete(cluster, kinds.get("Pod"), meta["namespace"], meta["name"], grace_period=0, now=now)


def collect_orphans(cluster, node_names, now):
    """gcOrphaned: pods bound to a node that no longer exists are failed and force-deleted."""
    pods = ApiObject.objects.filter(cluster=cluster).pods()
    # The distinct node names of bound pods come from the (cluster, kind, node_name) index.
    gone = set(pods.exclude(node_name="").values_list("node_name", flat=True).distinct())
    gone -= set(node_names)
    if not gone:
        return
    orphans = pods.filter(node_name__in=gone).order_by("id")
    stamp = store.timestamp(now)
    for row in orphans:
        try:
            force_delete(cluster, row.body, disruption_condition(
                "DeletionByPodGC", "PodGC: node no longer exists", stamp), now)
        except (Conflict, NotFound):
            continue
