"""A tick with N running pods, each with a liveness probe, as the kubelet runs the probes due.

    .venv/bin/python bench/probes.py [N] [tick seconds]     (default: 10000 0.25)

Target (kubelet issue): under 200 ms with 10,000 pods, reported as a median, the probe work
in proportion to the probes due in that tick, not to all pods.

The pods arrive in groups, one group per tick over one probe period (10 s: 40 groups of N/40
at 0.25 s ticks), so the probers' tickers are spread as on a real cluster and every tick has
about N/40 probes due. (Arrivals bunched into a few groups would leave most ticks idle, and
a median of them would report an idle tick.) Printed: the median and p90 tick, the idle tick
(a tick of zero seconds after each measured one: the same pods, no probe due) and the
per-probe cost (what the ticks with probes due cost over the idle tick, per probe run), in
wall time and in this process's CPU time (on a shared machine, wall time includes waiting for
a CPU). Figures are printed, never asserted.
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

PERIOD = 10   # the probes' periodSeconds


def pod(i):
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": f"web-{i}"},
            "spec": {"containers": [{
                "name": "web", "image": "luksa/kubia", "ports": [{"containerPort": 8080}],
                "livenessProbe": {"httpGet": {"path": "/", "port": 8080},
                                  "initialDelaySeconds": 5, "periodSeconds": PERIOD}}]}}


def percentile(values, fraction):
    return sorted(values)[min(len(values) - 1, int(len(values) * fraction))]


def main(n, step):
    cluster = bootstrap.create_cluster("probes", max(1, n // 20), container_start_seconds=0)
    started = time.perf_counter()
    groups = max(1, round(PERIOD / step))
    # One group per tick over one probe period: each tick then has about N/groups probes due.
    for g in range(groups):
        with transaction.atomic():
            for i in range(g * n // groups, (g + 1) * n // groups):
                store.create(cluster, pod(i))
        engine.tick(cluster, step)
    while ApiObject.objects.filter(cluster=cluster, kind="Pod", phase="Running").count() < n:
        engine.tick(cluster, step)
    print(f"{n} pods Running after {time.perf_counter() - started:.1f} s", flush=True)
    # Past every initial delay: probes now run every 10 s, each on its own ticker's grid.
    for _ in range(round(PERIOD / step)):
        engine.tick(cluster, step)
    times, idle, due, cpu, idle_cpu = [], [], [], [], []
    for _ in range(2 * groups):     # two probe periods
        cluster.clock.refresh_from_db()
        upto = cluster.clock.now + dt.timedelta(seconds=step)
        due.append(Container.objects.filter(cluster=cluster, due_at__lte=upto).count())
        t, c = time.perf_counter(), time.process_time()
        engine.tick(cluster, step)
        times.append((time.perf_counter() - t) * 1000)
        cpu.append((time.process_time() - c) * 1000)
        t, c = time.perf_counter(), time.process_time()
        engine.tick(cluster, 0)
        idle.append((time.perf_counter() - t) * 1000)
        idle_cpu.append((time.process_time() - c) * 1000)
    median, idle_median, due_median = (statistics.median(times), statistics.median(idle),
                                       statistics.median(due))
    # The cost of a probe: the time the ticks spent over an idle tick, per probe run in them.
    busy = [(ms, d) for ms, d in zip(times, due) if d]
    per_probe = sum(ms - idle_median for ms, _ in busy) / sum(d for _, d in busy) if busy else 0
    print(f"{n} pods with liveness probes, {step} s ticks: median tick {median:.1f} ms, "
          f"p90 {percentile(times, 0.9):.1f} ms, max {max(times):.1f} ms; "
          f"probes due per tick: median {due_median:.0f} (min {min(due)}, max {max(due)}); "
          f"ticks with probes due {len(busy)}/{len(times)}; idle tick median {idle_median:.1f} "
          f"ms; per probe {per_probe:.3f} ms", flush=True)
    # On a shared machine wall time includes waiting for the CPU; this process's CPU time
    # does not (nor the kernel's I/O waits), so both are printed.
    cpu_median, idle_cpu_median = statistics.median(cpu), statistics.median(idle_cpu)
    busy_cpu = [(ms, d) for ms, d in zip(cpu, due) if d]
    per_probe_cpu = sum(ms - idle_cpu_median for ms, _ in busy_cpu) / \
        sum(d for _, d in busy_cpu) if busy_cpu else 0
    print(f"  CPU time: median tick {cpu_median:.1f} ms, p90 {percentile(cpu, 0.9):.1f} ms; "
          f"idle tick median {idle_cpu_median:.1f} ms; per probe {per_probe_cpu:.3f} ms",
          flush=True)


if __name__ == "__main__":
    args = sys.argv[1:]
    main(int(args[0]) if args else 10000, float(args[1]) if len(args) > 1 else 0.25)
