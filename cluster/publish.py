"""Live push: after a write commits, tell the cluster's listeners that its change log grew.

The message carries no objects: listeners read what they missed from the change log, so a
notice lost or coalesced costs nothing, and rolled-back writes are never seen. Group names and
message types live here and nowhere else.
"""

import functools

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

CHANGES = "cluster.changes"   # {"type": CHANGES, "cluster": name}
CLOCK = "cluster.clock"       # {"type": CLOCK, "cluster": name, "clock": Clock object}


def group_name(cluster_name):
    return f"cluster.{cluster_name}"


def _send(cluster_name, message):
    layer = get_channel_layer()
    if layer is not None:
        async_to_sync(layer.group_send)(group_name(cluster_name), message)


def changes_committed(cluster_name):
    """Notify once per transaction and cluster, after commit; never from inside a transaction."""
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        _send(cluster_name, {"type": CHANGES, "cluster": cluster_name})
        return
    # One notice per cluster per transaction: a tick writing thousands of objects sends one.
    # Django drops callbacks registered inside a savepoint that rolls back, so looking at the
    # pending list (not a flag of our own) stays right when a write is undone.
    for entry in connection.run_on_commit:
        if getattr(entry[1], "kubelab_cluster", None) == cluster_name:
            return
    callback = functools.partial(_send, cluster_name, {"type": CHANGES, "cluster": cluster_name})
    callback.kubelab_cluster = cluster_name
    transaction.on_commit(callback)


def clock_changed(cluster_name, clock_object):
    transaction.on_commit(
        functools.partial(_send, cluster_name, {"type": CLOCK, "cluster": cluster_name,
                                                "clock": clock_object})
    )
