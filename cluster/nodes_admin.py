"""What an administrator does to nodes: add, remove, cordon, uncordon, drain, power off and on.

Each is orchestration over store calls, making the API requests kubectl makes (or, for power,
the one annotation kubelab reads), and returning what kubectl would print. The consequences
(heartbeats stopping, taints, evictions, pod garbage collection) belong to the controllers.
"""

from dataclasses import dataclass, field

from django.db import transaction

from cluster import kinds, store
from cluster.errors import Conflict, NotFound
from cluster.kinds import node as node_kind
from cluster.models import ApiObject

MIRROR_POD_ANNOTATION = "kubernetes.io/config.mirror"
# kubectl drain's words (k8s.io/kubectl/pkg/drain/filters.go).
DAEMONSET_FATAL = "DaemonSet-managed Pods (use --ignore-daemonsets to ignore)"
DAEMONSET_WARNING = "ignoring DaemonSet-managed Pods"
LOCAL_STORAGE_FATAL = "Pods with local storage (use --delete-emptydir-data to override)"
LOCAL_STORAGE_WARNING = "deleting Pods with local storage"
UNMANAGED_FATAL = "cannot delete Pods that declare no controller (use --force to override)"
UNMANAGED_WARNING = "deleting Pods that declare no controller"


@dataclass
class Outcome:
    """What an operation did, as kubectl prints it, and for drain which pods went and why
    others stayed."""

    lines: list = field(default_factory=list)
    evicted: list = field(default_factory=list)      # "namespace/name"
    skipped: list = field(default_factory=list)      # ("namespace/name", why)
    errors: list = field(default_factory=list)

    @property
    def text(self):
        return "\n".join(self.lines)


def _node_kind():
    return kinds.get("Node")


def add_node(cluster, name, labels=None, *, capacity=None):
    """Create a Node, as a machine joining the cluster does; its kubelet registers next tick."""
    from cluster.bootstrap import node_manifest

    manifest = node_manifest(name)
    manifest["metadata"]["labels"].update(labels or {})
    if capacity:
        manifest["status"] = {"capacity": capacity}
    store.create(cluster, manifest)
    return Outcome([f"node/{name} created"])


def remove_node(cluster, name):
    """Delete the Node (`kubectl delete node`). Its pods are left to the pod garbage collector."""
    store.delete(cluster, _node_kind(), None, name)
    return Outcome([f'node "{name}" deleted'])


def cordon(cluster, name):
    """Mark the node unschedulable, as `kubectl cordon` patches spec.unschedulable."""
    return _set_unschedulable(cluster, name, True)


def uncordon(cluster, name):
    return _set_unschedulable(cluster, name, False)


def _set_unschedulable(cluster, name, desired):
    verb = "cordon" if desired else "uncordon"
    node = store.get(cluster, _node_kind(), None, name)
    if bool((node.get("spec") or {}).get("unschedulable")) == desired:
        return Outcome([f"node/{name} already {verb}ed"])
    # kubectl's two-way merge patch: `false` is omitted from the Node, so it is removed.
    store.patch(cluster, _node_kind(), None, name, {"spec": {"unschedulable": desired or None}},
                store.STRATEGIC_PATCH)
    return Outcome([f"node/{name} {verb}ed"])


def power_off(cluster, name):
    """Switch the machine off: its kubelet stops, so do its heartbeats. The last Lease renewal
    is recorded with it, so the node controller's grace period counts from this moment."""
    now = store.now_of(cluster)
    store.patch(cluster, _node_kind(), None, name, {"metadata": {"annotations": {
        node_kind.POWER_ANNOTATION: "off",
        node_kind.LEASE_RENEW_ANNOTATION: store.timestamp(now)}}}, store.MERGE_PATCH)
    return Outcome([f"node/{name} powered off"])


def power_on(cluster, name):
    """Switch the machine on: its kubelet boots and posts Ready on the next tick."""
    store.patch(cluster, _node_kind(), None, name,
                {"metadata": {"annotations": {node_kind.POWER_ANNOTATION: None}}},
                store.MERGE_PATCH)
    return Outcome([f"node/{name} powered on"])


def drain(cluster, name, *, ignore_daemonsets=True, delete_emptydir_data=True, force=True,
          grace_period=None):
    """`kubectl drain`: cordon the node, then evict its pods.

    The defaults are the board's drain (`--ignore-daemonsets --delete-emptydir-data --force`);
    with any of them False, the pods kubectl would refuse make the whole drain stop after the
    cordon, as kubectl does. DaemonSet pods stay (their controller would put them back) and
    mirror pods stay silently (the kubelet owns them). Each eviction is the Eviction API's:
    condition DisruptionTarget (EvictionByEvictionAPI), then a graceful delete.
    """
    outcome = Outcome()
    with transaction.atomic():
        outcome.lines += cordon(cluster, name).lines
        # kubectl lists them with the field selector spec.nodeName=<node>.
        pods = [row.body for row in ApiObject.objects.filter(cluster=cluster).pods()
                .on_node(name).order_by("namespace", "name")]
        verdicts = [(pod, drain_filter(pod, ignore_daemonsets, delete_emptydir_data, force))
                    for pod in pods]
        warnings, errors = {}, {}
        for pod, (delete, kind, message) in verdicts:
            key = f"{pod['metadata']['namespace']}/{pod['metadata']['name']}"
            if kind == "Warning":
                warnings.setdefault(message, []).append(key)
            elif kind == "Error":
                errors.setdefault(message, []).append(key)
            if not delete:
                outcome.skipped.append((key, message or "mirror pod"))
        outcome.errors = [f"{m}: {', '.join(keys)}" if m.lower().startswith("cannot delete")
                          else f"cannot delete {m}: {', '.join(keys)}" for m, keys in errors.items()]
        if outcome.errors:
            joined = outcome.errors[0] if len(outcome.errors) == 1 else \
                "[" + ", ".join(outcome.errors) + "]"
            outcome.lines.append(f'error: unable to drain node "{name}" due to error: {joined}, '
                                 "continuing command...")
            return outcome
        if warnings:
            outcome.lines.append("Warning: " + "; ".join(
                f"{m}: {', '.join(keys)}" for m, keys in warnings.items()))
        for pod, (delete, _, _) in verdicts:
            if delete and evict(cluster, pod, grace_period):
                key = f"{pod['metadata']['namespace']}/{pod['metadata']['name']}"
                outcome.evicted.append(key)
                outcome.lines.append(f"evicting pod {key}")
    return outcome


def drain_filter(pod, ignore_daemonsets, delete_emptydir_data, force):
    """(delete?, "Okay"/"Skip"/"Warning"/"Error", message): kubectl drain's filters in order,
    the last one run deciding, as GetPodsForDeletion keeps it. Pure."""
    status = (True, "Okay", "")
    for check in (_daemonset_filter, _mirror_filter, _local_storage_filter, _unmanaged_filter):
        status = check(pod, ignore_daemonsets, delete_emptydir_data, force)
        if not status[0]:
            break
    return status


def _finished(pod):
    return (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed")


def _controller(pod):
    return next((ref for ref in pod["metadata"].get("ownerReferences") or []
                 if ref.get("controller")), None)


def _daemonset_filter(pod, ignore_daemonsets, _local, _force):
    ref = _controller(pod)
    if ref is None or ref.get("kind") != "DaemonSet" or _finished(pod):
        return True, "Okay", ""
    if not ignore_daemonsets:
        return False, "Error", DAEMONSET_FATAL
    return False, "Warning", DAEMONSET_WARNING


def _mirror_filter(pod, *_flags):
    if MIRROR_POD_ANNOTATION in (pod["metadata"].get("annotations") or {}):
        return False, "Skip", ""
    return True, "Okay", ""


def _local_storage_filter(pod, _ds, delete_emptydir_data, _force):
    if not any("emptyDir" in (v or {}) for v in pod["spec"].get("volumes") or []) or \
            _finished(pod):
        return True, "Okay", ""
    if not delete_emptydir_data:
        return False, "Error", LOCAL_STORAGE_FATAL
    return True, "Warning", LOCAL_STORAGE_WARNING


def _unmanaged_filter(pod, _ds, _local, force):
    if _finished(pod) or _controller(pod) is not None:
        return True, "Okay", ""
    if force:
        return True, "Warning", UNMANAGED_WARNING
    return False, "Error", UNMANAGED_FATAL


def evict(cluster, pod, grace_period=None):
    """POST pods/eviction: the DisruptionTarget condition, then a graceful delete. False when
    the pod has gone meanwhile."""
    from cluster.controllers.nodelifecycle import disruption_condition, with_condition

    meta = pod["metadata"]
    stamp = store.timestamp(store.now_of(cluster))
    condition = disruption_condition("EvictionByEvictionAPI", "Eviction API: evicting", stamp)
    try:
        for _attempt in range(3):   # the API server retries a conflicting status write
            status = with_condition(pod.get("status"), condition)
            if status == pod.get("status"):
                break
            try:
                store.update(cluster, {**pod, "status": status}, subresource="status")
                break
            except Conflict:
                pod = store.get(cluster, kinds.get("Pod"), meta["namespace"], meta["name"])
        store.delete(cluster, kinds.get("Pod"), meta["namespace"], meta["name"],
                     grace_period=grace_period)
    except NotFound:
        return False
    return True
