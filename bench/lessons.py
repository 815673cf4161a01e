"""Lesson clusters at rest: what idle lesson clusters cost the reconciler.

    .venv/bin/python bench/lessons.py [N]      (default: 30)

Starts N lesson runs (cycling through the ten lessons), performs each one's first step (so
pods run), then reports the wall time of one reconciler pass over all of them (one tick each,
as the in-process reconciler does every TICK_INTERVAL), the same pass once they all sleep
(nobody looked at them for IDLE_PAUSE_SECONDS: cluster.activity), and one progress check.
Figures are printed, never asserted.
"""

import statistics
import sys
import time

from _setup import django_on_temp_db

django_on_temp_db()

import datetime as dt  # noqa: E402

from cluster import activity, apply, engine  # noqa: E402
from cluster.worker import Reconciler  # noqa: E402
from cluster.models import ApiObject  # noqa: E402
from lessons import catalog, progress  # noqa: E402


def main(n):
    lessons = catalog.load().lessons
    runs = []
    started = time.perf_counter()
    for i in range(n):
        lesson = lessons[i % len(lessons)]
        run = progress.start(f"bench:{i}", lesson)
        first = lesson.steps[0]
        for action in first.do:
            if "apply" in action:
                apply.apply_text(run.cluster, lesson.manifest(action["apply"]).text)
        runs.append((run, lesson))
    print(f"{n} lesson runs started (fresh clusters) in {time.perf_counter() - started:.1f} s")
    for _ in range(30):
        for run, _lesson in runs:
            engine.tick(run.cluster, 1)
    pods = ApiObject.objects.filter(kind="Pod").count()
    passes = []
    for _ in range(10):
        t = time.perf_counter()
        for run, _lesson in runs:
            engine.tick(run.cluster, 1)
        passes.append(time.perf_counter() - t)
    checks = []
    for _ in range(5):
        t = time.perf_counter()
        for run, lesson in runs:
            progress.advance(run, lesson)
        checks.append((time.perf_counter() - t) / n)
    print(f"{pods} pods in all; one reconciler pass over the {n} clusters: median "
          f"{statistics.median(passes) * 1000:.0f} ms ({statistics.median(passes) / n * 1000:.1f} ms "
          f"a cluster); one progress check: median {statistics.median(checks) * 1000:.1f} ms")
    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=1)
    print(f"{activity.pause_idle(later)} clusters fell asleep")
    reconciler = Reconciler(exclusive=False)
    asleep = []
    for _ in range(10):
        t = time.perf_counter()
        reconciler.step(0.25)
        asleep.append(time.perf_counter() - t)
    print(f"one reconciler pass over them asleep: median {statistics.median(asleep) * 1000:.1f} ms")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 30)
