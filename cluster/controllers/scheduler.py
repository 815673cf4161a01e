"""The scheduler: binds each unscheduled pod to a node, saying why.

`plan(pod, nodes)` is pure: it filters every node (Ready, schedulable, taints, nodeSelector,
resources, host ports), scores those that fit by fewest pods (ties by name) and returns the
decision with each node's reasons. `reconcile` applies the decisions through the store and
records them as Events, worded as kube-scheduler words them.
"""

from collections import Counter
from dataclasses import dataclass, field

import heapq
import json
import logging

from cluster import quantity, store
from cluster.errors import ApiError, Conflict
from cluster.kinds import node as node_kind
from cluster.kinds.pod import requests_of
from cluster.models import ApiObject

log = logging.getLogger(__name__)

COMPONENT = "default-scheduler"
# Failures that evicting lower-priority pods could cure (the filters return Unschedulable,
# not UnschedulableAndUnresolvable); preemption is not helpful for the rest.
PREEMPTION_MAY_HELP = ("Insufficient cpu", "Insufficient memory", "Too many pods",
                       "node(s) didn't have free ports for the requested pod ports")


@dataclass
class NodeUsage:
    """What is already committed on one node: summed requests and taken host ports."""

    pods: int = 0
    cpu_milli: int = 0
    memory: int = 0
    host_ports: set = field(default_factory=set)

    def add(self, pod):
        self.pods += 1
        cpu, memory = pod_requests(pod)
        self.cpu_milli += cpu
        self.memory += memory
        self.host_ports |= host_ports(pod)


@dataclass
class Decision:
    node: str | None
    # node name -> list of reasons it was filtered out (empty for nodes that fit)
    reasons: dict
    feasible: int
    message: str


def pod_requests(pod):
    cpu = memory = 0
    for container in (pod.get("spec") or {}).get("containers") or []:
        requests = requests_of(container)
        if "cpu" in requests:
            cpu += quantity.milli(requests["cpu"])
        if "memory" in requests:
            memory += int(quantity.parse(requests["memory"]))
    return cpu, memory


def host_ports(pod):
    return {(p.get("hostPort"), p.get("protocol", "TCP"))
            for c in (pod.get("spec") or {}).get("containers") or []
            for p in c.get("ports") or [] if p.get("hostPort")}


def tolerates(tolerations, taint):
    for t in tolerations or []:
        if t.get("effect") and t["effect"] != taint.get("effect"):
            continue
        if t.get("operator") == "Exists":
            if not t.get("key") or t["key"] == taint.get("key"):
                return True
        elif t.get("key") == taint.get("key") and (t.get("value") or "") == (taint.get("value") or ""):
            return True
    return False


def taint_text(taint):
    return f"{{{taint.get('key')}: {taint.get('value') or ''}}}"


@dataclass
class NodeFacts:
    """What the filters need of one node, read once per pass rather than once per pod."""

    name: str
    unschedulable: bool
    taints: list
    labels: dict
    max_pods: int
    cpu_milli: int
    memory: int

    @classmethod
    def of(cls, node):
        spec = node.get("spec") or {}
        taints = list(spec.get("taints") or [])
        if not node_kind.is_ready(node) and not any(
                t.get("key", "").startswith("node.kubernetes.io/") for t in taints):
            # The node lifecycle controller taints a node that is not Ready; until it has,
            # the scheduler still refuses it for the same reason.
            taints.append({"key": "node.kubernetes.io/not-ready", "effect": "NoSchedule"})
        allocatable = node_kind.allocatable(node)
        return cls(
            name=node["metadata"]["name"],
            unschedulable=bool(spec.get("unschedulable")),
            taints=[t for t in taints if t.get("effect") in ("NoSchedule", "NoExecute")],
            labels=(node.get("metadata") or {}).get("labels") or {},
            max_pods=int(quantity.parse(allocatable.get("pods", "110"))),
            cpu_milli=quantity.milli(allocatable.get("cpu", "0")),
            memory=int(quantity.parse(allocatable.get("memory", "0"))),
        )


@dataclass
class PodFacts:
    """What the filters need of the pod being placed."""

    tolerations: list
    node_selector: dict
    host_ports: set
    cpu_milli: int
    memory: int

    @classmethod
    def of(cls, pod):
        spec = pod.get("spec") or {}
        cpu, memory = pod_requests(pod)
        return cls(spec.get("tolerations") or [], spec.get("nodeSelector") or {},
                   host_ports(pod), cpu, memory)

    def key(self):
        """Equal for pods every filter treats alike."""
        return (json.dumps(self.tolerations, sort_keys=True),
                json.dumps(self.node_selector, sort_keys=True),
                tuple(sorted(self.host_ports, key=repr)), self.cpu_milli, self.memory)


def filter_node(pod, node, usage):
    """Why `node` (NodeFacts) cannot take `pod` (PodFacts): an empty list when it can."""
    if node.unschedulable:
        return ["node(s) were unschedulable"]
    for taint in node.taints:
        if not tolerates(pod.tolerations, taint):
            return [f"node(s) had untolerated taint {taint_text(taint)}"]
    if any(node.labels.get(k) != v for k, v in pod.node_selector.items()):
        return ["node(s) didn't match Pod's node affinity/selector"]
    if pod.host_ports & usage.host_ports:
        return ["node(s) didn't have free ports for the requested pod ports"]
    reasons = []
    if usage.pods + 1 > node.max_pods:
        reasons.append("Too many pods")
    if pod.cpu_milli and usage.cpu_milli + pod.cpu_milli > node.cpu_milli:
        reasons.append("Insufficient cpu")
    if pod.memory and usage.memory + pod.memory > node.memory:
        reasons.append("Insufficient memory")
    return reasons


def unschedulable_message(total, reasons):
    """kube-scheduler's FitError text: '0/3 nodes are available: 3 Insufficient cpu. ...'"""
    counts = Counter(r for node_reasons in reasons.values() for r in node_reasons)
    # FitError sorts the whole "<count> <reason>" strings, so counts order before reasons.
    histogram = ", ".join(sorted(f"{n} {r}" for r, n in counts.items()))
    message = f"0/{total} nodes are available: {histogram}." if histogram else \
        f"0/{total} nodes are available."
    if total == 0:
        return "no nodes available to schedule pods"
    helpful = sum(1 for rs in reasons.values() if rs and all(r in PREEMPTION_MAY_HELP for r in rs))
    parts = []
    if helpful:
        parts.append(f"{helpful} No preemption victims found for incoming pod")
    if total - helpful:
        parts.append(f"{total - helpful} Preemption is not helpful for scheduling")
    return f"{message} preemption: 0/{total} nodes are available: {', '.join(sorted(parts))}."


def plan(pod, nodes, usage):
    """Choose a node for `pod` among `nodes` (node objects or NodeFacts) given `usage`
    (node name -> NodeUsage). Pure."""
    reasons = {}
    fitting = []
    facts = PodFacts.of(pod)
    for node in nodes:
        if not isinstance(node, NodeFacts):
            node = NodeFacts.of(node)
        name = node.name
        reasons[name] = filter_node(facts, node, usage.setdefault(name, NodeUsage()))
        if not reasons[name]:
            fitting.append(name)
    if not fitting:
        return Decision(None, reasons, 0, unschedulable_message(len(nodes), reasons))
    chosen = min(fitting, key=lambda n: (usage[n].pods, n))
    why = "the only node that fits" if len(fitting) == 1 else \
        f"fewest pods among {len(fitting)} nodes that fit"
    return Decision(chosen, reasons, len(fitting), why)


class _Candidates:
    """The nodes that fit pods with the same facts, kept as `usage` grows during one pass.

    Only the node a pod is bound to changes its usage, so only it is filtered again: the
    choice is `plan`'s (fewest pods, ties by name) without filtering every node per pod."""

    def __init__(self, facts, nodes, usage):
        self.facts, self.usage = facts, usage
        self.fitting = set()
        self.heap = []
        for node in nodes:
            self.changed(node)

    def changed(self, node):
        name = node.name
        if filter_node(self.facts, node, self.usage[name]):
            self.fitting.discard(name)
        else:
            self.fitting.add(name)
            heapq.heappush(self.heap, (self.usage[name].pods, name))

    def decide(self):
        """plan()'s Decision when some node fits (reasons left empty), else None."""
        if not self.fitting:
            return None
        heap, usage = self.heap, self.usage
        while True:
            pods, name = heap[0]
            if name in self.fitting and usage[name].pods == pods:
                break
            heapq.heappop(heap)   # stale: the node filled up or took a pod since
        count = len(self.fitting)
        why = "the only node that fits" if count == 1 else \
            f"fewest pods among {count} nodes that fit"
        return Decision(name, {}, count, why)


def reconcile(cluster, now):
    """Bind every unscheduled pod, oldest first; record Scheduled or FailedScheduling."""
    pending = list(ApiObject.objects.filter(cluster=cluster).pods().unscheduled()
                   .filter(phase="Pending").order_by("id"))
    if not pending:
        return
    nodes = [NodeFacts.of(row.body)
             for row in ApiObject.objects.filter(cluster=cluster).nodes().order_by("name")]
    usage = {}
    for node_name, containers in placed_containers(cluster):
        usage.setdefault(node_name, NodeUsage()).add({"spec": {"containers": containers}})
    for node in nodes:
        usage.setdefault(node.name, NodeUsage())
    by_name = {node.name: node for node in nodes}
    candidates = {}   # pod facts key -> _Candidates, kept current as pods are bound
    for row in pending:
        pod = row.body
        if (pod.get("spec") or {}).get("schedulerName", "default-scheduler") != COMPONENT:
            continue
        facts = PodFacts.of(pod)
        key = facts.key()
        if key not in candidates:
            candidates[key] = _Candidates(facts, nodes, usage)
        decision = candidates[key].decide()
        if decision is None:
            decision = plan(pod, nodes, usage)   # nothing fits: every node's reasons
        try:
            if decision.node:
                bind(cluster, pod, decision, now, current=row)
                usage[decision.node].add(pod)
                node = by_name[decision.node]
                for each in candidates.values():
                    each.changed(node)
            else:
                mark_unschedulable(cluster, pod, decision, now)
        except Conflict:
            continue  # the pod changed under us; it is looked at again next tick
        except ApiError as exc:
            log.warning("%s: %s", row.name, exc.message)
            continue


def placed_containers(cluster):
    """(node, spec.containers) of each pod bound to a node and not finished: all NodeUsage
    counts of a pod. Only the containers are read, as JSON text decoded by orjson: decoding
    10,000 whole bodies was most of a pass that places a few pods."""
    containers = store.json_path("body__spec__containers", raw=True)
    for node_name, text in (ApiObject.objects.filter(cluster=cluster).pods()
                            .exclude(node_name="").exclude(phase__in=("Succeeded", "Failed"))
                            .values_list("node_name", containers)):
        yield node_name, store.decode_json(text)


def bind(cluster, pod, decision, now, current=None):
    """Bind through the binding subresource, which also sets PodScheduled, and say why."""
    meta = pod["metadata"]
    bound = {**pod, "spec": {**pod["spec"], "nodeName": decision.node}}
    bound = store.update(cluster, bound, subresource="binding", now=now, current=current).object
    store.record_event(
        cluster, bound, "Normal", "Scheduled",
        f"Successfully assigned {meta['namespace']}/{meta['name']} to {decision.node} "
        f"({decision.message})", component=COMPONENT, now=now)


def mark_unschedulable(cluster, pod, decision, now):
    status = dict(pod.get("status") or {})
    current = next((c for c in status.get("conditions") or [] if c["type"] == "PodScheduled"), {})
    if current.get("message") != decision.message:
        status["conditions"] = _set_condition(status.get("conditions"), {
            "type": "PodScheduled", "status": "False", "lastProbeTime": None,
            "lastTransitionTime": store.timestamp(now), "reason": "Unschedulable",
            "message": decision.message})
        pod = store.update(cluster, {**pod, "status": status}, subresource="status",
                           now=now).object
        store.record_event(cluster, pod, "Warning", "FailedScheduling", decision.message,
                           component=COMPONENT, aggregate=True, now=now)


def _set_condition(conditions, new):
    result = [c for c in conditions or [] if c.get("type") != new["type"]]
    result.append(new)
    return result
