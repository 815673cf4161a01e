"""N pods on N/20 nodes: wall time from apply to all Running, and the median idle tick.

    .venv/bin/python bench/pods.py [N ...]      (default: 100 1000 10000)

Targets (issue 2, this 2-core machine): 1,000 pods Running within 10 s; an idle tick with
1,000 pods under 50 ms. Figures are printed, never asserted.
"""

import statistics
import sys
import time

from _setup import django_on_temp_db

django_on_temp_db()

from django.db import transaction  # noqa: E402

from cluster import bootstrap, engine, store  # noqa: E402
from cluster.models import ApiObject  # noqa: E402


def pod(i):
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": f"web-{i}", "labels": {"app": "web"}},
            "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]}}


def run(n):
    nodes = max(1, n // 20)
    cluster = bootstrap.create_cluster(f"bench-{n}", nodes, container_start_seconds=0)
    started = time.perf_counter()
    with transaction.atomic():
        for i in range(n):
            store.create(cluster, pod(i))
    applied = time.perf_counter()
    ticks = 0
    running = ApiObject.objects.filter(cluster=cluster, kind="Pod", phase="Running")
    while running.count() < n:
        engine.tick(cluster, 1)
        ticks += 1
        if ticks > 50:
            raise SystemExit(f"N={n}: not all Running after {ticks} ticks")
    done = time.perf_counter()
    idle = []
    for _ in range(20):
        t = time.perf_counter()
        engine.tick(cluster, 1)
        idle.append((time.perf_counter() - t) * 1000)
    print(f"N={n:>6} pods on M={nodes:>4} nodes: apply {applied - started:6.2f} s, "
          f"apply->all Running {done - started:6.2f} s ({ticks} ticks), "
          f"idle tick median {statistics.median(idle):7.1f} ms", flush=True)


if __name__ == "__main__":
    for n in [int(a) for a in sys.argv[1:]] or [100, 1000, 10000]:
        run(n)
