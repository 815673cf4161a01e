"""The namespace controller: empties a Terminating namespace, then lets it go."""

import logging

from cluster import kinds, store
from cluster.errors import ApiError, Conflict, NotFound
from cluster.models import ApiObject

log = logging.getLogger(__name__)


def reconcile(cluster, now):
    """For each namespace being deleted: delete what is inside; when empty, remove it."""
    doomed = ApiObject.objects.filter(cluster=cluster).of_kind("Namespace").filter(deleting__in=[True])
    for ns in doomed:
        inside = ApiObject.objects.filter(cluster=cluster, namespace=ns.name)
        remaining = 0
        for row in inside:
            remaining += 1
            if row.deleting:
                continue
            try:
                store.delete(cluster, kinds.get(row.kind, row.group), row.namespace, row.name,
                             now=now)
            except (Conflict, NotFound):
                continue
            except ApiError as exc:
                log.warning("%s: %s", row.name, exc.message)
                continue
        if remaining == 0 or not inside.exists():
            body = dict(ns.body)
            spec = dict(body.get("spec") or {})
            spec["finalizers"] = []
            body["spec"] = spec
            body["metadata"] = {**body["metadata"], "finalizers": []}
            try:
                store.update(cluster, body, now=now)
            except (Conflict, NotFound):
                continue
