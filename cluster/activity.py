"""Clusters sleep while nobody looks at them, and wake when someone does.

Every cluster's reconciler ticks cost the server the same whether anyone watches or not (about
8 ms a tick for a small idle one), so a class's abandoned sandboxes and finished lessons would
keep a core busy. A cluster nobody has looked at for settings.IDLE_PAUSE_SECONDS (its board,
its websocket, any API request, a watch) has its clock paused by the reconciler, marked as
paused for idleness; the next look resumes it, so to its user simulated time simply did not
pass while they were away. A clock the user paused stays paused. IDLE_PAUSE_SECONDS = 0 turns
this off.

`seen(name)` records a look in the database at most every touch_seconds() per process (`due(name)`
answers in memory whether it would, so async callers only leave the event loop when it does).
"""

import datetime as dt
import math
import time

from django.conf import settings
from django.db.models import F

from cluster.models import Cluster, SimClock

_touched: dict[str, float] = {}


def touch_seconds():
    """How often a look is written down: a tenth of the idle time, at most 30 s, so a cluster
    in use is never taken for idle."""
    return min(30.0, settings.IDLE_PAUSE_SECONDS / 10)


def due(name):
    return time.monotonic() - _touched.get(name, -math.inf) >= touch_seconds()


def seen(name):
    """Someone looks at cluster `name`: note when, and wake its clock if it fell asleep."""
    if not due(name):
        return
    if not Cluster.objects.filter(name=name).update(last_seen=_wall_now()):
        return          # no such cluster: nothing to remember (names in URLs are anyone's)
    _touched[name] = time.monotonic()
    SimClock.objects.filter(cluster__name=name, idle_paused=True).update(
        paused=False, idle_paused=False, resource_version=F("resource_version") + 1)


def pause_idle(now=None):
    """Pause the clocks of running clusters nobody has looked at for IDLE_PAUSE_SECONDS;
    returns how many fell asleep."""
    idle = settings.IDLE_PAUSE_SECONDS
    if not idle:
        return 0
    cutoff = (now or _wall_now()) - dt.timedelta(seconds=idle)
    return SimClock.objects.filter(paused=False, cluster__last_seen__lt=cutoff).update(
        paused=True, idle_paused=True, resource_version=F("resource_version") + 1)


def forget():
    """Drop the in-memory throttle (tests, and a process that must re-record every look)."""
    _touched.clear()


def _wall_now():
    return dt.datetime.now(dt.timezone.utc)
