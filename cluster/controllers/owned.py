"""What every controller that owns objects shares: owner references, objects made from a
template, and the pod facts controllers count by (active, ready, available).

Kubernetes' controllers find their pods by label selector and claim them by ownerReference
(pkg/controller/controller_ref_manager.go): a pod is theirs when its controller reference
names them. Here the store's `owner_uid` column indexes that reference, so "my pods" is one
indexed query.
"""

import datetime as dt

from cluster import store
from cluster.kinds import get as get_kind
from cluster.models import ApiObject


def owner_reference(owner):
    """The controller reference a dependent carries: controller and blockOwnerDeletion true."""
    return {
        "apiVersion": owner["apiVersion"],
        "kind": owner["kind"],
        "name": owner["metadata"]["name"],
        "uid": owner["metadata"]["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }


def controller_of(obj):
    """The ownerReference marked controller, or None."""
    for ref in (obj.get("metadata") or {}).get("ownerReferences") or []:
        if ref.get("controller"):
            return ref
    return None


def owned_rows(cluster, owner, kind="Pod", group=""):
    """Rows whose controller reference is `owner` (a dict), in one indexed query."""
    return ApiObject.objects.filter(cluster=cluster, kind=kind, group=group,
                                    owner_uid=owner["metadata"]["uid"])


def pod_from_template(owner, template, *, name=None):
    """A Pod manifest from a pod template: the template's labels, annotations and spec, the
    owner's namespace, `<owner>-<5 random characters>` by generateName, and the owner reference.
    (pkg/controller/controller_utils.go GetPodFromTemplate.)"""
    template = store.clone(template or {})
    template_meta = template.get("metadata") or {}
    metadata = {
        "namespace": owner["metadata"].get("namespace") or "default",
        "labels": dict(template_meta.get("labels") or {}),
        "ownerReferences": [owner_reference(owner)],
    }
    if template_meta.get("annotations"):
        metadata["annotations"] = dict(template_meta["annotations"])
    if template_meta.get("finalizers"):
        metadata["finalizers"] = list(template_meta["finalizers"])
    if name:
        metadata["name"] = name
    else:
        metadata["generateName"] = owner["metadata"]["name"] + "-"
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata,
            "spec": template.get("spec") or {}}


def create_dependent(cluster, owner, manifest, *, component, now, message="Created pod: {name}"):
    """Create a pod (or job) the owner asked for and record SuccessfulCreate on the owner,
    worded as the pod-creating controllers word it (controller_utils.go: "Created pod: %v";
    the CronJob controller passes its own "Created job {name}"). Returns the created object."""
    created = store.create(cluster, manifest, now=now).object
    store.record_event(cluster, owner, "Normal", "SuccessfulCreate",
                       message.format(name=created["metadata"]["name"]), component=component,
                       now=now)
    return created


def delete_dependent(cluster, owner, obj, *, component, now, message="Deleted pod: {name}"):
    """Delete a dependent (its own dependents in the background) and record SuccessfulDelete
    on the owner."""
    group = obj["apiVersion"].split("/")[0] if "/" in obj["apiVersion"] else ""
    meta = obj["metadata"]
    store.delete(cluster, get_kind(obj["kind"], group), meta.get("namespace", ""), meta["name"],
                 now=now, propagation="Background")
    store.record_event(cluster, owner, "Normal", "SuccessfulDelete",
                       message.format(name=meta["name"]), component=component, now=now)


# --- pod facts --------------------------------------------------------------------------------


def is_active(pod):
    """Counted by controllers: not finished and not being deleted (controller.IsPodActive)."""
    phase = (pod.get("status") or {}).get("phase")
    return phase not in ("Succeeded", "Failed") and not pod["metadata"].get("deletionTimestamp")


def ready_condition(pod):
    for condition in (pod.get("status") or {}).get("conditions") or []:
        if condition.get("type") == "Ready":
            return condition
    return None


def is_ready(pod):
    condition = ready_condition(pod)
    return condition is not None and condition.get("status") == "True"


def is_available(pod, min_ready_seconds, now):
    """Ready for longer than minReadySeconds (podutil.IsPodAvailable: a ready pod without a
    transition time is not available once minReadySeconds is set)."""
    if not is_ready(pod):
        return False
    if not min_ready_seconds:
        return True
    stamp = ready_condition(pod).get("lastTransitionTime")
    return bool(stamp) and \
        store.parse_timestamp(stamp) + dt.timedelta(seconds=min_ready_seconds) < now


def restarts(pod):
    return sum(s.get("restartCount", 0)
               for s in (pod.get("status") or {}).get("containerStatuses") or [])
