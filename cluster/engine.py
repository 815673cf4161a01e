"""The reconciler: one tick advances a cluster's clock and runs each controller once.

`tick(cluster, seconds)` is the unit of work; tests call it with a manual step. `run_due(...)`
turns wall time into simulated time (pause, speed, the board's step button) for the loops in
`cluster.worker`. Controllers are level-triggered: each reads the store and closes the gap, so
a tick cut short is simply finished by the next.
"""

import logging

from django.conf import settings
from django.db import transaction

from cluster import publish, store
from cluster.controllers import (cronjob, daemonset, endpoints, endpointslice, garbagecollector,
                                 job, kubelet, namespaces, nodelifecycle, nodes, replication,
                                 scheduler)
from cluster.kinds import get as get_kind
from cluster.models import SimClock

log = logging.getLogger(__name__)

# Order matters only for latency: a pod created, scheduled and started in one tick.
CONTROLLERS = (
    ("nodes", nodes.reconcile),
    ("nodelifecycle", nodelifecycle.reconcile),
    ("namespaces", namespaces.reconcile),
    ("garbagecollector", garbagecollector.reconcile),
    ("cronjob", cronjob.reconcile),
    ("job", job.reconcile),
    ("replication", replication.reconcile),
    ("daemonset", daemonset.reconcile),
    ("scheduler", scheduler.reconcile),
    ("kubelet", kubelet.reconcile),
    ("endpoints", endpoints.reconcile),
    ("endpointslice", endpointslice.reconcile),
)


def tick(cluster, seconds=0.0):
    """Advance the cluster's clock by `seconds` of simulated time and reconcile once.

    1. Lock the clock row and move `now` forward.
    2. Run each controller in its own savepoint: one that fails is rolled back and logged,
       the others still run.
    3. Commit; listeners hear of the changes and of the new time after the commit.
    Returns the new simulated time.
    """
    with publish.reconciling(), transaction.atomic():
        clock = SimClock.objects.select_for_update().get(cluster=cluster)
        if seconds:
            clock.advance(seconds)
            SimClock.objects.filter(pk=clock.pk).update(now=clock.now)
        cluster.clock = clock
        for name, reconcile in CONTROLLERS:
            try:
                with transaction.atomic(), store.batched_events():
                    reconcile(cluster, clock.now)
            except Exception:
                log.exception("controller %s failed on cluster %s", name, cluster.name)
        store.compact(cluster, settings.CHANGE_LOG_KEEP)
        publish.clock_changed(cluster.name, get_kind("Clock", "kubelab.io").to_object(cluster, clock))
    return clock.now


def due_seconds(clock, wall_elapsed):
    """Simulated seconds to advance after `wall_elapsed` wall seconds. Pure."""
    if clock.paused:
        return clock.pending_step
    return wall_elapsed * clock.speed


def run_due(cluster, wall_elapsed):
    """One worker step for one cluster: advance by what the wall clock and the board ask."""
    clock = SimClock.objects.get(cluster=cluster)
    seconds = due_seconds(clock, wall_elapsed)
    if clock.paused and not seconds:
        return None
    if clock.pending_step:
        SimClock.objects.filter(pk=clock.pk).update(pending_step=0)
    return tick(cluster, seconds)
