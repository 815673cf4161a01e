"""The loop around engine ticks, and the leases that split clusters between workers.

`Reconciler.step(wall_elapsed)` is one unit of work: renew leases, then tick each held cluster
by the simulated time that has passed. The commands (`serve`, `reconcile`) only loop around it.
"""

import datetime as dt
import logging
import math
import os
import socket

from django.db import close_old_connections
from django.db.models import Q

from cluster import activity, engine
from cluster.models import Cluster, Worker

log = logging.getLogger(__name__)

LEASE_SECONDS = 10
# How often a worker looks for clusters that nobody has looked at for long (cluster.activity).
IDLE_CHECK_SECONDS = 10


def wall_now():
    return dt.datetime.now(dt.timezone.utc)


def default_holder():
    return f"{socket.gethostname()}:{os.getpid()}"


class Reconciler:
    """Ticks the clusters this process holds a lease on.

    With `exclusive=False` (the in-process reconciler of `make run`) it ticks every cluster;
    several `manage.py reconcile` workers share clusters fairly: each claims free or expired
    leases up to its share and gives back what exceeds it.
    """

    def __init__(self, holder=None, exclusive=True, lease_seconds=LEASE_SECONDS):
        self.holder = holder or default_holder()
        self.exclusive = exclusive
        self.lease = dt.timedelta(seconds=lease_seconds)
        self.idle_checked = None

    def claim(self):
        """Renew and take leases; return the clusters this holder now ticks."""
        now = wall_now()
        if not self.exclusive:
            return list(Cluster.objects.select_related("clock"))
        total = Cluster.objects.count()
        # Announce ourselves first, so a worker holding nothing yet still counts in the share.
        Worker.objects.update_or_create(holder=self.holder,
                                        defaults={"seen_until": now + self.lease})
        workers = Worker.objects.filter(seen_until__gt=now).count()
        share = math.ceil(total / workers) if total else 0
        mine = Cluster.objects.filter(lease_holder=self.holder, lease_until__gt=now)
        mine.update(lease_until=now + self.lease)
        held = list(mine.order_by("name").values_list("pk", flat=True))
        if len(held) > share:
            Cluster.objects.filter(pk__in=held[share:]).update(lease_holder="", lease_until=None)
            held = held[:share]
        free = (Cluster.objects.filter(Q(lease_holder="") | Q(lease_until__isnull=True) |
                                       Q(lease_until__lte=now))
                .order_by("name").values_list("pk", flat=True))
        for pk in free:
            if len(held) >= share:
                break
            # Conditional update: if another worker took it first, this changes no row.
            taken = (Cluster.objects.filter(pk=pk)
                     .filter(Q(lease_holder="") | Q(lease_until__isnull=True) |
                             Q(lease_until__lte=now))
                     .update(lease_holder=self.holder, lease_until=now + self.lease))
            if taken:
                held.append(pk)
        return list(Cluster.objects.filter(pk__in=held).select_related("clock"))

    def step(self, wall_elapsed):
        """Tick every held cluster once; return how many were ticked."""
        now = wall_now()
        if self.idle_checked is None or \
                (now - self.idle_checked).total_seconds() >= IDLE_CHECK_SECONDS:
            self.idle_checked = now
            activity.pause_idle(now)
        clusters = self.claim()
        for cluster in clusters:
            try:
                engine.run_due(cluster, wall_elapsed)
            except Exception:
                log.exception("tick failed for cluster %s", cluster.name)
        return len(clusters)

    def react(self, names):
        """Reconcile the named clusters now, without moving their clocks: a write from outside
        the reconciler landed in them (cluster.publish.on_outside_write). A paused clock
        stays still: nothing moves in its cluster until it is stepped or resumed."""
        close_old_connections()
        try:
            for cluster in Cluster.objects.filter(name__in=names, clock__paused=False,
                                                  **self._mine()).select_related("clock"):
                try:
                    engine.tick(cluster, 0)
                except Exception:
                    log.exception("reaction failed for cluster %s", cluster.name)
        finally:
            close_old_connections()

    def _mine(self):
        return {} if not self.exclusive else {"lease_holder": self.holder}

    def step_in_loop(self, wall_elapsed):
        """`step` for long-running loops: drop a database connection that has gone bad."""
        close_old_connections()
        try:
            return self.step(wall_elapsed)
        finally:
            close_old_connections()

    def release(self):
        Cluster.objects.filter(lease_holder=self.holder).update(lease_holder="", lease_until=None)
        Worker.objects.filter(holder=self.holder).delete()
