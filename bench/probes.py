"""A tick with N running pods, each with a liveness probe: the median tick, as the kubelet
runs the probes that are due (about N/40 per quarter-second tick at speed 1).

    .venv/bin/python bench/probes.py [N] [tick seconds]     (default: 10000 0.25)

Target (kubelet issue): under 200 ms with 10,000 pods, in proportion to probes due, not pods.
Figures are printed, never asserted.
"""

import datetime as dt
import statistics
import sys
import time

from _setup import django_on_temp_db

django_on_temp_db()

from django.db import transaction  # noqa: E402

from cluster import bootstrap, engine, store  # noqa: E402
from cluster.models import ApiObject, Container  # noqa: E402


def pod(i):
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": f"web-{i}"},
            "spec": {"containers": [{
                "name": "web", "image": "luksa/kubia", "ports": [{"containerPort": 8080}],
                "livenessProbe": {"httpGet": {"path": "/", "port": 8080},
                                  "initialDelaySeconds": 5, "periodSeconds": 10}}]}}


def main(n, step):
    cluster = bootstrap.create_cluster("probes", max(1, n // 20), container_start_seconds=0)
    started = time.perf_counter()
    # Pods arrive over 10 simulated seconds, so their probers tick out of step, as on a real
    # cluster where pods start at different times.
    for second in range(10):
        with transaction.atomic():
            for i in range(second * n // 10, (second + 1) * n // 10):
                store.create(cluster, pod(i))
        engine.tick(cluster, 1)
    while ApiObject.objects.filter(cluster=cluster, kind="Pod", phase="Running").count() < n:
        engine.tick(cluster, 1)
    print(f"{n} pods Running after {time.perf_counter() - started:.1f} s", flush=True)
    engine.tick(cluster, 10)   # past every initial delay: probes now run every 10 s
    times, due = [], []
    for _ in range(40):
        cluster.clock.refresh_from_db()
        upto = cluster.clock.now + dt.timedelta(seconds=step)
        due.append(Container.objects.filter(cluster=cluster, due_at__lte=upto).count())
        t = time.perf_counter()
        engine.tick(cluster, step)
        times.append((time.perf_counter() - t) * 1000)
    busy = [ms for ms, d in zip(times, due) if d]
    print(f"{n} pods with liveness probes, {step} s ticks: median tick "
          f"{statistics.median(times):.1f} ms, p90 {sorted(times)[int(len(times) * 0.9)]:.1f} ms, "
          f"max {max(times):.1f} ms; {statistics.mean(due):.0f} probes due per tick on average, "
          f"ticks with probes due: median {statistics.median(busy) if busy else 0:.1f} ms "
          f"for {statistics.median([d for d in due if d]) if busy else 0:.0f} probes",
          flush=True)


if __name__ == "__main__":
    args = sys.argv[1:]
    main(int(args[0]) if args else 10000, float(args[1]) if len(args) > 1 else 0.25)
