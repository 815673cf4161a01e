"""Live push: after a write commits, tell the cluster's listeners that its change log grew.

The message carries no objects: listeners read what they missed from the change log, so a
notice lost or coalesced costs nothing, and rolled-back writes are never seen. Group names and
message types live here and nowhere else.
"""

import asyncio
import contextlib
import functools
import logging
import os
import threading

from asgiref.sync import SyncToAsync, async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

log = logging.getLogger(__name__)

CHANGES = "cluster.changes"   # {"type": CHANGES, "cluster": name}
CLOCK = "cluster.clock"       # {"type": CLOCK, "cluster": name, "clock": Clock object}


def group_name(cluster_name):
    return f"cluster.{cluster_name}"


def _send(cluster_name, message):
    layer = get_channel_layer()
    if layer is None:
        return
    loop = _server_loop()
    if loop is None:
        # No event loop behind this thread (a `manage.py reconcile` worker, a test, a shell):
        # the send runs to its end here.
        async_to_sync(layer.group_send)(group_name(cluster_name), message)
        return
    # A thread the server's loop handed work to (a request, a tick): the listeners' queues
    # live on that loop, so the send runs there, and this thread does not wait for it. Waiting
    # gained nothing (a notice carries no data) and hung shutdown: once the loop had stopped,
    # a tick's last notice waited for it forever and the process could not exit.
    try:
        loop.call_soon_threadsafe(_spawn_send, layer, group_name(cluster_name), message)
    except RuntimeError:
        pass            # the loop is closed: the server is going, and its listeners with it


def _server_loop():
    """The event loop this thread works for, or None: its own running loop, or the one
    asgiref's sync_to_async recorded for its worker threads (async_to_sync reads the same)."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        pass
    local = SyncToAsync.threadlocal
    loop = getattr(local, "main_event_loop", None)
    if loop is None or getattr(local, "main_event_loop_pid", None) != os.getpid():
        return None     # none recorded, or recorded before a fork
    return None if loop.is_closed() else loop


# Sends under way on the loop: asyncio keeps only weak references to tasks.
_sending = set()


def _spawn_send(layer, group, message):
    task = asyncio.ensure_future(layer.group_send(group, message))
    _sending.add(task)
    task.add_done_callback(_sent)


def _sent(task):
    _sending.discard(task)
    if not task.cancelled() and task.exception() is not None:
        log.error("change notice not sent", exc_info=task.exception())


# Who wants to hear, in this process, of writes the reconciler did not make itself: the
# in-process reconciler, which then runs at once (as Kubernetes' controllers react to a watch
# event within milliseconds) instead of at its next tick.
_write_listeners = []
_local = threading.local()


def on_outside_write(callback):
    """Call `callback(cluster_name)` after each commit of a write the reconciler did not make
    (from the committing thread: it must only hand the news on). Returns its remover."""
    _write_listeners.append(callback)
    return lambda: _write_listeners.remove(callback)


@contextlib.contextmanager
def reconciling():
    """The writes committed inside are the reconciler's own (cluster.engine.tick)."""
    _local.reconciling = True
    try:
        yield
    finally:
        _local.reconciling = False


def _committed(cluster_name):
    _send(cluster_name, {"type": CHANGES, "cluster": cluster_name})
    if not getattr(_local, "reconciling", False):
        for listener in list(_write_listeners):
            listener(cluster_name)


def changes_committed(cluster_name):
    """Notify once per transaction and cluster, after commit; never from inside a transaction."""
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        _committed(cluster_name)
        return
    # One notice per cluster per transaction: a tick writing thousands of objects sends one.
    # Django drops callbacks registered inside a savepoint that rolls back, so looking at the
    # pending list (not a flag of our own) stays right when a write is undone.
    for entry in connection.run_on_commit:
        if getattr(entry[1], "kubelab_cluster", None) == cluster_name:
            return
    callback = functools.partial(_committed, cluster_name)
    callback.kubelab_cluster = cluster_name
    transaction.on_commit(callback)


def clock_changed(cluster_name, clock_object):
    transaction.on_commit(
        functools.partial(_send, cluster_name, {"type": CLOCK, "cluster": cluster_name,
                                                "clock": clock_object})
    )
