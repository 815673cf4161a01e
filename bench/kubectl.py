"""Whole `kubectl` commands against a real kubelab server: 10,000 pods beside an empty cluster.

    .venv/bin/python bench/kubectl.py [RUNS] [PODS]      (defaults: 5 runs, 10000 pods)

Seeds two clusters in-process on the server's own SQLite file before starting it ("big" with
PODS Running pods, "empty" with none), starts `manage.py serve` (tests/live.py), pauses every
cluster's clock through the Clock API so reconciler ticks don't compete with the requests, and
times the real kubectl (HTTPS + bearer token, kubeconfig from `manage.py kubeconfig`):
`get pods` (server-side Table), `get pods -o json`, and `apply -f` of a 100-Service file, first
apply (creates) and second apply (unchanged). Each figure is the median of RUNS whole-process
runs. Each cluster's kubectl keeps one HOME, so its discovery cache is warm after a first
untimed call, as for a learner. Target (issue 7): listing 10,000 pods in under 1 s.
Beside each wall figure: the median CPU seconds of the server process and of kubectl (with
its children) in that command, which the machine's other load disturbs less.
Figures are printed, never asserted.
"""

import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
WORKDIR = tempfile.mkdtemp(prefix="kubelab-bench-kubectl-")
# The same file LiveServer points `manage.py serve` at, so the seeded pods are what it serves.
os.environ["DATABASE_URL"] = f"sqlite:///{WORKDIR}/live.sqlite3"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")

import django  # noqa: E402
import yaml  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from cluster import bootstrap, engine, store  # noqa: E402
from cluster.models import ApiObject  # noqa: E402
from tests.kubectl import Kubectl  # noqa: E402
from tests.live import LiveServer, set_clock  # noqa: E402

APPLY_OBJECTS = 100


def pod(i):
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": f"web-{i}", "labels": {"app": "web"}},
            "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]}}


def service(i):
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": f"svc-{i}"},
            "spec": {"selector": {"app": f"svc-{i}"}, "ports": [{"port": 80, "targetPort": 8080}]}}


def seed(pods):
    """Both clusters, straight through cluster.store; the big one's pods ticked to Running."""
    call_command("migrate", verbosity=0)
    bootstrap.create_cluster("empty", 1, container_start_seconds=0)
    big = bootstrap.create_cluster("big", max(1, pods // 20), container_start_seconds=0)
    started = time.perf_counter()
    with transaction.atomic():
        for i in range(pods):
            store.create(big, pod(i))
    running = ApiObject.objects.filter(cluster=big, kind="Pod", phase="Running")
    for _ in range(20):
        if running.count() >= pods:
            break
        engine.tick(big, 1)
    print(f"seeded {pods} pods ({running.count()} Running) in "
          f"{time.perf_counter() - started:.1f} s", flush=True)
    connection.close()  # the server gets the file to itself


def process_cpu(pid):
    """CPU seconds (user + system) a process has used so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def median_s(kubectl, args, runs, before=None):
    """Medians of `runs` whole kubectl processes: (wall, server CPU, kubectl CPU) seconds;
    `before()` runs untimed each time."""
    times, server_cpu, client_cpu = [], [], []
    pid = kubectl.server.process.pid
    for _ in range(runs):
        if before:
            before()
        server, client = process_cpu(pid), children_cpu()
        started = time.perf_counter()
        kubectl(*args)
        times.append(time.perf_counter() - started)
        server_cpu.append(process_cpu(pid) - server)
        client_cpu.append(children_cpu() - client)
    return tuple(statistics.median(v) for v in (times, server_cpu, client_cpu))


def measure(kubectl, manifest, runs):
    kubectl("get", "pods")  # fills the discovery cache in this HOME; later runs reuse it
    figures = {"get pods": median_s(kubectl, ["get", "pods"], runs),
               "get pods -o json": median_s(kubectl, ["get", "pods", "-o", "json"], runs)}
    delete = ("delete", "services", "-l", "bench=apply", "--wait=false")
    # Creates: every run starts with none of the 100 Services.
    figures["apply -f (create 100)"] = median_s(
        kubectl, ["apply", "-f", str(manifest)], runs, before=lambda: kubectl(*delete))
    figures["apply -f (100 unchanged)"] = median_s(kubectl, ["apply", "-f", str(manifest)], runs)
    kubectl(*delete)
    return figures


def main(runs, pods):
    seed(pods)
    manifest = Path(WORKDIR) / "services.yaml"
    services = [service(i) for i in range(APPLY_OBJECTS)]
    for s in services:
        s["metadata"]["labels"] = {"bench": "apply"}
    manifest.write_text(yaml.safe_dump_all(services))
    server = LiveServer(WORKDIR).start(timeout=120)
    try:
        for name in ("demo", "empty", "big"):
            set_clock(server, name, paused=True)
        results = {}
        for name in ("empty", "big"):
            kubectl = Kubectl(server, name, Path(WORKDIR) / f"home-{name}")
            results[name] = measure(kubectl, manifest, runs)
    finally:
        server.stop()
    print(f"\nkubectl {'(median of %d runs, warm discovery cache)' % runs}; "
          "wall s (server CPU s, kubectl CPU s)")
    print(f"{'command':28} {'empty cluster':>22} {f'{pods} pods':>22}")
    for command in results["empty"]:
        cells = ["%6.3f (%5.3f, %5.3f)" % results[name][command] for name in ("empty", "big")]
        print(f"{command:28} {cells[0]:>22} {cells[1]:>22}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5,
         int(sys.argv[2]) if len(sys.argv) > 2 else 10000)
