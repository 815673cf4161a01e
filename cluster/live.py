"""What the board sees: a snapshot stamped with a resourceVersion, then the changes after it.

Read-only. The websocket consumer calls these; a reconnecting client passes the last
resourceVersion it saw and gets exactly what it missed, or a fresh snapshot when the change log
has been compacted past that point.
"""

from django.db import transaction

from cluster import store
from cluster.kinds import get as get_kind
from cluster.models import ApiObject, Change, Cluster

# The board shows the latest events, not a cluster's whole history.
SNAPSHOT_EVENTS = 200
# Changes sent in one message at most; a client further behind gets a snapshot instead.
MAX_REPLAY = 20000


def board_object(obj):
    """The object without what only clients of the API need (it can be large)."""
    meta = obj.get("metadata") or {}
    annotations = meta.get("annotations")
    if not meta.get("managedFields") and not (annotations and store.LAST_APPLIED in annotations):
        return obj
    meta = {k: v for k, v in meta.items() if k != "managedFields"}
    if annotations and store.LAST_APPLIED in annotations:
        meta["annotations"] = {k: v for k, v in annotations.items() if k != store.LAST_APPLIED}
    return {**obj, "metadata": meta}


def find_cluster(name):
    return Cluster.objects.select_related("clock").filter(name=name).first()


def clock_object(cluster):
    cluster.clock.refresh_from_db()
    return get_kind("Clock", "kubelab.io").to_object(cluster, cluster.clock)


def snapshot(cluster):
    """{"resourceVersion", "objects", "clock"}: every object but old events, in one read."""
    with transaction.atomic():
        rv = store.current_rv(cluster)
        rows = ApiObject.objects.filter(cluster=cluster).exclude(kind="Event")
        objects = [board_object(body) for body in rows.order_by("id").values_list("body", flat=True)]
        events = (ApiObject.objects.filter(cluster=cluster, kind="Event")
                  .order_by("-resource_version").values_list("body", flat=True)[:SNAPSHOT_EVENTS])
        objects += [board_object(e) for e in reversed(list(events))]
    return {"resourceVersion": str(rv), "objects": objects, "clock": clock_object(cluster)}


def changes_since(cluster, rv):
    """(events, resourceVersion) for changes after `rv`, or None if the log no longer reaches.

    Several changes to one object collapse into the last, which is what a client holding
    objects by uid needs.
    """
    cluster.refresh_from_db(fields=["compacted_rv"])
    if rv < cluster.compacted_rv:
        return None
    changes = list(Change.objects.filter(cluster=cluster, id__gt=rv).order_by("id")[:MAX_REPLAY + 1])
    if len(changes) > MAX_REPLAY:
        return None
    latest = {}
    for change in changes:
        event = change.as_event()
        event["object"] = board_object(event["object"])
        uid = event["object"]["metadata"].get("uid")
        latest.pop(uid, None)      # re-insert so the order follows each object's last change
        latest[uid] = event
    new_rv = changes[-1].id if changes else rv
    return list(latest.values()), str(new_rv)
