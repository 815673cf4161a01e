"""ReplicationControllers and ReplicaSets: keep `replicas` pods matching a selector running.

Kubernetes serves both kinds with one implementation (pkg/controller/replicaset/replica_set.go;
pkg/controller/replication only adapts RCs to it), and so does this module. The sync of one
owner (syncReplicaSet):

1. Claim (controller_ref_manager.go ClaimPods) among the namespace's active pods
   (controller.FilterActivePods: not Succeeded, Failed or terminating): keep the pods whose
   controller reference names the owner and that its selector still matches; release the
   others (their ownerReference goes, they live on unmanaged); adopt orphans the selector
   matches. An owner being deleted neither adopts nor releases, and manages nothing.
2. Manage (manageReplicas): create the missing pods from the template, at most BurstReplicas
   a sync, in slow-start batches; or delete the surplus, first as ActivePodsWithRanks ranks.
3. Status (replica_set_utils.go calculateStatus, updateReplicaSetStatus): counted from the pods
   claimed in step 1, written only when it changed.

Cost. A sync reads all the owner's pods, so a pass does not sync every owner every tick.
Kubernetes syncs an owner when its informers see it or one of its pods change; here a pass
reads the owners and the change log since the last pass (an indexed range, empty when idle),
and syncs an owner only if it changed, a pod it counted changed or went, a pod came to name
it, or an orphan it could adopt appeared. What a pass saw (how far it read the change log,
the owners it found nothing to do for and their pods) is kept once its tick commits. That is
a cache, never a source of decisions: without it (a new worker, or a change log compacted
past it) a pass syncs every owner and decides the same.
"""

import datetime as dt
import functools
import math
from collections import Counter
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q

from cluster import selectors, store
from cluster.controllers.owned import (controller_of, create_dependent, delete_dependent,
                                       is_available, is_ready, owner_reference,
                                       pod_from_template)
from cluster.errors import ApiError, Conflict, Forbidden, NotFound
from cluster.models import ApiObject, Change, Cluster

COMPONENTS = {("ReplicationController", ""): "replication-controller",
              ("ReplicaSet", "apps"): "replicaset-controller"}
FINISHED = ("Succeeded", "Failed")
ACTIVE = Q(deleting=False) & ~Q(phase__in=FINISHED)
BURST_REPLICAS = 500             # replica_set.go BurstReplicas
SLOW_START_INITIAL_BATCH = 1     # controller_utils.go SlowStartInitialBatchSize
DELETION_COST = "controller.kubernetes.io/pod-deletion-cost"   # PodDeletionCost: beta, on
PHASE_ORDINAL = {"Pending": 0, "Unknown": 1, "Running": 2}     # podPhaseToOrdinal


@dataclass
class Seen:
    """What a committed pass saw: the change log up to `cursor`, and the owners it found
    nothing to do for, uid -> (their resourceVersion, the uids of the pods they counted)."""

    cursor: int
    settled: dict

    @functools.cached_property
    def counted(self):
        return {pod: uid for uid, (_, pods) in self.settled.items() for pod in pods}


_seen = {}   # cluster pk -> Seen


def reconcile(cluster, now):
    owners = sorted((row for row in ApiObject.objects.filter(
        cluster=cluster, kind__in=[kind for kind, _ in COMPONENTS])
        if (row.kind, row.group) in COMPONENTS), key=lambda row: row.pk)
    if not owners:
        _seen.pop(cluster.pk, None)
        return
    cursor = store.current_rv(cluster)
    seen = _seen.get(cluster.pk)
    if seen is not None and seen.cursor < Cluster.objects.filter(pk=cluster.pk).values_list(
            "compacted_rv", flat=True).get():
        seen = None   # changes it has not read were compacted away: look at every owner
    select = functools.cache(lambda row: selector_of(row.body))
    touched = changed_since(cluster, seen, owners, select) if seen else set()
    settled, dirty = {}, []
    for row in owners:
        known = seen.settled.get(str(row.uid)) if seen else None
        if known and known[0] == row.resource_version and str(row.uid) not in touched:
            settled[str(row.uid)] = known          # nothing it was synced on has changed
        elif select(row) is not None:   # an unparsable selector: syncReplicaSet gives up
            dirty.append(row)
    if dirty:
        owned = {}
        for pod in ApiObject.objects.filter(ACTIVE, cluster=cluster, kind="Pod", group="",
                                            owner_uid__in=[str(row.uid) for row in dirty]):
            owned.setdefault(pod.owner_uid, []).append(pod)
        orphans = adoptable(cluster, dirty, select)
        for row in dirty:
            uid = str(row.uid)
            claimed = sync(cluster, row, select(row),
                           sorted(owned.get(uid, []), key=lambda pod: pod.pk),
                           orphans.get(row.namespace, []), owners, now)
            if claimed is not None:
                settled[uid] = (row.resource_version,
                                frozenset(pod["metadata"]["uid"] for pod in claimed))
    # Kept once the tick commits: a tick rolled back leaves the last committed view.
    transaction.on_commit(functools.partial(_seen.__setitem__, cluster.pk,
                                            Seen(cursor, settled)))


def changed_since(cluster, seen, owners, select):
    """The owners whose sync a pod change since `seen.cursor` may change, from the change
    log (deleted pods included)."""
    namespaces = {str(row.uid): row.namespace for row in owners}
    touched = set()
    # Strings as SQL text; the maps and lists as JSON text, decoded here.
    for type_, namespace, uid, labels, refs, deleting, phase in Change.objects.filter(
            cluster=cluster, id__gt=seen.cursor, kind="Pod", group="").values_list(
            "type", "namespace", store.json_path("object__metadata__uid", text=True),
            store.json_path("object__metadata__labels", raw=True),
            store.json_path("object__metadata__ownerReferences", raw=True),
            store.json_path("object__metadata__deletionTimestamp", text=True),
            store.json_path("object__status__phase", text=True)):
        labels, refs = store.decode_json(labels), store.decode_json(refs)
        if uid in seen.counted:
            touched.add(seen.counted[uid])        # a pod an owner counted changed or went
        controller = next((r.get("uid") for r in refs or [] if r.get("controller")), None)
        if controller in namespaces:
            touched.add(controller)               # a pod names an owner
        elif controller is None and type_ != Change.DELETED and not deleting \
                and phase not in FINISHED:        # an orphan an owner may adopt
            touched.update(str(row.uid) for row in owners if row.namespace == namespace
                           and select(row) is not None and select(row).matches(labels))
    return touched


def adoptable(cluster, owners, select):
    """The active orphan pods one of the owners' selectors matches, by namespace: a walk of
    the (cluster, kind, owner_uid) index."""
    namespaces = {row.namespace for row in owners if not row.deleting}
    wanted = [pk for pk, kind, group, namespace, labels, deleting, phase in
              ApiObject.objects.filter(cluster=cluster, kind="Pod", owner_uid="").values_list(
                  "pk", "kind", "group", "namespace", "labels", "deleting", "phase")
              if (kind, group) == ("Pod", "") and namespace in namespaces and not deleting
              and phase not in FINISHED and any(
                  row.namespace == namespace and select(row).matches(labels) for row in owners)]
    found = {}
    for pod in ApiObject.objects.filter(pk__in=wanted).order_by("pk"):
        found.setdefault(pod.namespace, []).append(pod)
    return found


def selector_of(owner):
    """An RC's plain map selector, an RS's LabelSelector; None if it cannot be parsed."""
    spec = owner.get("spec") or {}
    if owner["kind"] == "ReplicationController":
        return selectors.from_map(spec.get("selector"))
    try:
        return selectors.from_label_selector(spec.get("selector"))
    except selectors.SelectorError:
        return None


def sync(cluster, row, selector, owned, orphans, owners, now):
    """syncReplicaSet for one owner. Returns the pods it counted when it had nothing to do
    (a verdict worth keeping), else None."""
    owner, claimed, quiet = row.body, [], True
    try:
        for pod in owned:
            if selector.matches(pod.labels):
                claimed.append(pod.body)
            elif not row.deleting:
                release(cluster, owner, pod, now)
                quiet = False
        for pod in [] if row.deleting else orphans:
            # (An owner synced before may have taken it, or it matches another owner.)
            if controller_of(pod.body) is None and selector.matches(pod.labels):
                claimed.append(adopt(cluster, owner, pod, now))
                quiet = False
    except (Conflict, NotFound):
        return None   # ClaimPods failed: the sync stops there, to be tried again
    replicas = (owner.get("spec") or {}).get("replicas", 1)
    error = None
    if not row.deleting and len(claimed) != replicas:
        quiet = False
        error = manage(cluster, row, claimed, replicas, owners, now)
    status = calculate_status(owner, claimed, error, now)
    if status != owner.get("status"):
        quiet = False
        try:
            store.update(cluster, {**owner, "status": status}, subresource="status",
                         current=row, now=now)
        except (Conflict, NotFound):
            pass   # changed meanwhile: the next pass computes it again
    # Ready pods that are not available yet become available with time alone.
    pending = status.get("availableReplicas", 0) != status.get("readyReplicas", 0)
    return claimed if quiet and not pending else None


def adopt(cluster, owner, pod, now):
    """AdoptPod: add the controller reference (blockOwnerDeletion too), keep other refs."""
    body = store.clone(pod.body)
    refs = [r for r in body["metadata"].get("ownerReferences") or []
            if r.get("uid") != owner["metadata"]["uid"]]
    body["metadata"]["ownerReferences"] = refs + [owner_reference(owner)]
    return store.update(cluster, body, current=pod, now=now).object


def release(cluster, owner, pod, now):
    """ReleasePod: remove the owner's reference; the pod stays, unmanaged."""
    body = store.clone(pod.body)
    meta = body["metadata"]
    meta["ownerReferences"] = [r for r in meta.get("ownerReferences") or []
                               if r.get("uid") != owner["metadata"]["uid"]]
    if not meta["ownerReferences"]:
        del meta["ownerReferences"]
    store.update(cluster, body, current=pod, now=now)


def manage(cluster, row, claimed, replicas, owners, now):
    """manageReplicas: create or delete at most BurstReplicas pods. Returns the error."""
    owner, component = row.body, COMPONENTS[(row.kind, row.group)]
    diff = len(claimed) - replicas
    if diff < 0:
        return create_pods(cluster, owner, min(-diff, BURST_REPLICAS), component, now)
    error = None
    for pod in pods_to_delete(claimed, min(diff, BURST_REPLICAS), now,
                              pods_per_node(cluster, row, owners)):
        try:
            delete_dependent(cluster, owner, pod, component=component, now=now)
        except NotFound:
            continue   # gone already, as wanted
        except ApiError as exc:   # controller_utils.go DeletePod
            store.record_event(cluster, owner, "Warning", "FailedDelete",
                               f"Error deleting: {exc.message}", component=component, now=now)
            error = error or f"unable to delete pods: {exc.message}"
    return error


def create_pods(cluster, owner, count, component, now):
    """slowStartBatch: batches of 1, 2, 4... creates; a batch with a failure ends the sync.
    A namespace being terminated is no failure: every create would meet it (manageReplicas),
    and createPods records no event for it."""
    template = (owner.get("spec") or {}).get("template")
    error, done, batch = None, 0, SLOW_START_INITIAL_BATCH
    while done < count and error is None:
        batch = min(batch, count - done)
        for _ in range(batch):
            try:
                create_dependent(cluster, owner, pod_from_template(owner, template),
                                 component=component, now=now)
            except ApiError as exc:
                if namespace_terminating(exc):
                    continue
                store.record_event(cluster, owner, "Warning", "FailedCreate",
                                   f"Error creating: {exc.message}", component=component, now=now)
                error = error or exc.message
        done, batch = done + batch, batch * 2
    return error


def namespace_terminating(exc):
    """The API server's NamespaceTerminating cause (the store says it in the message)."""
    causes = (exc.details or {}).get("causes") or []
    return isinstance(exc, Forbidden) and (
        any(c.get("reason") == "NamespaceTerminating" for c in causes)
        or "because it is being terminated" in exc.message)


def calculate_status(owner, pods, error, now):
    """calculateStatus, with updateReplicaSetStatus's observedGeneration. Zero counts are left
    out as the API serializes them (omitempty), all but `replicas`. Pure."""
    spec, old = owner.get("spec") or {}, owner.get("status") or {}
    template_labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
    ready = [p for p in pods if is_ready(p)]
    counts = {
        "fullyLabeledReplicas": sum(1 for p in pods if all(
            (p["metadata"].get("labels") or {}).get(k) == v for k, v in template_labels.items())),
        "readyReplicas": len(ready),
        "availableReplicas": sum(
            1 for p in ready if is_available(p, spec.get("minReadySeconds") or 0, now)),
        "observedGeneration": owner["metadata"].get("generation"),
    }
    status = {"replicas": len(pods), **{k: v for k, v in counts.items() if v}}
    # The ReplicaFailure condition: set on a failed manage, left as it is while failures go
    # on, removed by the first sync without one.
    conditions = list(old.get("conditions") or [])
    failure = next((c for c in conditions if c.get("type") == "ReplicaFailure"), None)
    if error and failure is None:
        diff = len(pods) - spec.get("replicas", 1)
        conditions.append({"type": "ReplicaFailure", "status": "True",
                           "lastTransitionTime": store.timestamp(now),
                           "reason": "FailedCreate" if diff < 0 else "FailedDelete" if diff > 0
                           else "", "message": error})
    elif not error and failure is not None:
        conditions.remove(failure)
    if conditions:
        status["conditions"] = conditions
    return status


# --- which pods go first: controller_utils.go ActivePodsWithRanks, as in 1.32 -----------------

def pods_per_node(cluster, row, owners):
    """getIndirectlyRelatedPods counted per node (getPodsRankedByRelatedPodsOnSameNode): the
    active pods picked by any owner sharing this owner's controller (a Deployment's
    ReplicaSets). An owner without a controller has none (getReplicaSetsWithSameController),
    so every rank is 0."""
    ref = controller_of(row.body)
    if ref is None:
        return Counter()
    siblings = [selector_of(o.body) for o in owners if (o.kind, o.namespace, o.owner_uid) ==
                (row.kind, row.namespace, ref.get("uid"))]
    rows = ApiObject.objects.filter(ACTIVE, cluster=cluster, kind="Pod", group="",
                                    namespace=row.namespace).values_list("labels", "node_name")
    return Counter(node for labels, node in rows
                   if any(s is not None and s.matches(labels) for s in siblings))


def pods_to_delete(pods, count, now, on_node=None):
    """getPodsToDelete: the `count` pods to delete first, each ranked by the related active
    pods on its node (`on_node`). Pure."""
    if count >= len(pods):
        return list(pods)
    ranked = [(p, (on_node or {}).get((p.get("spec") or {}).get("nodeName") or "", 0))
              for p in pods]
    order = functools.cmp_to_key(lambda a, b: -1 if first(a, b, now) else
                                 1 if first(b, a, now) else 0)
    return [p for p, _ in sorted(ranked, key=order)[:count]]


def first(a, b, now):
    """ActivePodsWithRanks.Less: whether pod `a` (with its rank) goes before pod `b`."""
    (pa, rank_a), (pb, rank_b) = a, b
    node_a, node_b = ((p.get("spec") or {}).get("nodeName") or "" for p in (pa, pb))
    if node_a != node_b and not (node_a and node_b):
        return not node_a                                       # 1. unscheduled
    phase_a, phase_b = (PHASE_ORDINAL.get((p.get("status") or {}).get("phase"), 0)
                        for p in (pa, pb))
    if phase_a != phase_b:
        return phase_a < phase_b                                # 2. Pending, Unknown, Running
    if is_ready(pa) != is_ready(pb):
        return not is_ready(pa)                                 # 3. not ready
    if deletion_cost(pa) != deletion_cost(pb):
        return deletion_cost(pa) < deletion_cost(pb)            # 4. lower deletion cost
    if rank_a != rank_b:
        return rank_a > rank_b                                  # 5. doubled up
    if is_ready(pa) and is_ready(pb) and ready_time(pa) != ready_time(pb):
        return newer(pa, pb, ready_time(pa), ready_time(pb), now)   # 6. ready more recently
    if restarts(pa) != restarts(pb):
        return restarts(pa) > restarts(pb)                      # 7. more restarts
    created_a, created_b = (p["metadata"].get("creationTimestamp") for p in (pa, pb))
    if created_a != created_b:
        return newer(pa, pb, created_a, created_b, now)         # 8. created more recently
    return False


def newer(pa, pb, stamp_a, stamp_b, now):
    """LogarithmicScaleDown (GA since 1.31): times compare by the power of two of nanoseconds
    they lie in the past, the UID deciding within one; a missing time counts as newest."""
    if not stamp_a or not stamp_b:
        return not stamp_a
    ages = [(now - store.parse_timestamp(s)) // dt.timedelta(microseconds=1) * 1000
            for s in (stamp_a, stamp_b)]
    rank_a, rank_b = (int(math.log2(age)) if age > 0 else -1 for age in ages)
    if rank_a == rank_b:
        return pa["metadata"].get("uid", "") < pb["metadata"].get("uid", "")
    return rank_a < rank_b


def ready_time(pod):
    return next((c.get("lastTransitionTime") for c in (pod.get("status") or {}).get(
        "conditions") or [] if c.get("type") == "Ready" and c.get("status") == "True"), None)


def deletion_cost(pod):
    """GetDeletionCostFromPodAnnotations: an int32 written without '+' or a leading zero,
    else 0."""
    value = (pod["metadata"].get("annotations") or {}).get(DELETION_COST) or "0"
    digits = value[1:] if value[0] == "-" else value
    if not (value[0] == "-" or value == "0" or value[0] in "123456789") \
            or not (digits.isascii() and digits.isdigit()):
        return 0
    number = int(value)
    return number if -2 ** 31 <= number < 2 ** 31 else 0


def restarts(pod):
    """compareMaxContainerRestarts (1.32): the most restarts of one container, then of one
    sidecar (an init container with restartPolicy Always)."""
    status, spec = pod.get("status") or {}, pod.get("spec") or {}
    sidecars = {c.get("name") for c in spec.get("initContainers") or []
                if c.get("restartPolicy") == "Always"}
    return (max((c.get("restartCount", 0) for c in status.get("containerStatuses") or []),
                default=0),
            max((c.get("restartCount", 0) for c in status.get("initContainerStatuses") or []
                 if c.get("name") in sidecars), default=0))
