"""ReplicaSets at scale: R ReplicaSets of P replicas on M nodes.

    .venv/bin/python bench/workloads.py [R P M]      (default: 100 100 500)

Reports (workload controllers issue; target: under 30 s of wall time for the first), in wall
time and most also in this process's CPU time, which other load on the machine disturbs less:
  1. wall time from applying the ReplicaSets to all R*P pods Running (start delay zero);
  2. the median idle tick with them all running;
  3. after one node is powered off: the wall time of the tick that evicts its pods and
     creates their replacements, and the wall time until the replacements are Running.
Figures are printed, never asserted.
"""

import statistics
import sys
import time

from _setup import django_on_temp_db

django_on_temp_db()

from django.db import transaction  # noqa: E402

from cluster import bootstrap, engine, nodes_admin, store  # noqa: E402
from cluster.models import ApiObject  # noqa: E402


def replicaset(i, replicas):
    labels = {"app": f"web-{i}"}
    return {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": f"web-{i}"},
            "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels},
                                  "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]}}}}


def running(cluster):
    return ApiObject.objects.filter(cluster=cluster, kind="Pod", phase="Running",
                                    deleting=False).count()


def main(sets, replicas, nodes):
    total = sets * replicas
    cluster = bootstrap.create_cluster("workloads", nodes, container_start_seconds=0)
    started, cpu_started = time.perf_counter(), time.process_time()
    with transaction.atomic():
        for i in range(sets):
            store.create(cluster, replicaset(i, replicas))
    ticks = 0
    while running(cluster) < total:
        engine.tick(cluster, 1)
        ticks += 1
        if ticks > 100:
            raise SystemExit(f"not all {total} pods Running after {ticks} ticks")
    up, up_cpu = time.perf_counter() - started, time.process_time() - cpu_started
    print(f"{sets} ReplicaSets x {replicas} replicas on {nodes} nodes: apply -> {total} Running "
          f"in {up:.1f} s wall, {up_cpu:.1f} s CPU ({ticks} ticks)", flush=True)

    idle, idle_cpu = [], []
    for _ in range(10):
        t, c = time.perf_counter(), time.process_time()
        engine.tick(cluster, 1)
        idle.append((time.perf_counter() - t) * 1000)
        idle_cpu.append((time.process_time() - c) * 1000)
    print(f"idle tick with {total} pods: median {statistics.median(idle):.0f} ms wall, "
          f"{statistics.median(idle_cpu):.0f} ms CPU", flush=True)

    victim = "node-1"
    on_victim = ApiObject.objects.filter(cluster=cluster, kind="Pod", node_name=victim).count()
    nodes_admin.power_off(cluster, victim)
    # Simulated time: 50 s until the node is Unknown, then 300 s until its pods are evicted;
    # the tick that evicts them also creates their replacements.
    evicted = ApiObject.objects.filter(cluster=cluster, kind="Pod", node_name=victim,
                                       deleting=True)
    simulated = 0
    while True:
        t = time.perf_counter()
        engine.tick(cluster, 5)
        react = time.perf_counter() - t
        simulated += 5
        if evicted.exists():
            break
    settle_started, settle_cpu = time.perf_counter(), time.process_time()
    settle_ticks = 0
    while running(cluster) < total:
        engine.tick(cluster, 1)
        settle_ticks += 1
        if settle_ticks > 100:
            raise SystemExit("replacements not Running after 100 ticks")
    settle = time.perf_counter() - settle_started
    settle_cpu = time.process_time() - settle_cpu
    print(f"node {victim} powered off ({on_victim} pods): evicted after {simulated} simulated s; "
          f"eviction + replacement tick {react * 1000:.0f} ms, then {settle:.1f} s wall, "
          f"{settle_cpu:.1f} s CPU ({settle_ticks} ticks) until all {total} Running again",
          flush=True)


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:]]
    main(*(args or [100, 100, 500]))
