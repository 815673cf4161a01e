"""Services under load: endpoint update latency and routing throughput, 1,000 endpoints.

    .venv/bin/python bench/traffic.py [N] [requests]     (default: 1000 2000)

1. N kubia pods (an RC) behind one Service: ticks (0.5 s) until the Endpoints list all N.
2. Endpoint update latency, in ticks: one more pod with an exec readiness probe
   (`ls /var/ready`, period 1 s) joins not ready; `touch /var/ready` through the exec path;
   (labelled for the Service, not the RC), ticks are counted until its IP is among the Endpoints' ready addresses (and, separately,
   from its Ready condition turning True). Repeated a few times; wall time per tick printed.
3. Routing throughput: `requests` requests through kube-proxy's routing to the Service (a
   random ready endpoint each, the pod's image answering, its runtime saved), in requests/s;
   also the one-off cost of reading the cluster's network (Network()).
Figures are printed, never asserted.
"""

import statistics
import sys
import time

from _setup import django_on_temp_db

django_on_temp_db()

from django.db import transaction  # noqa: E402

from cluster import apply, bootstrap, engine, store, traffic  # noqa: E402
from cluster.controllers.kubelet import exec_command  # noqa: E402
from cluster.errors import NotFound  # noqa: E402

STEP = 0.5

APP = """apiVersion: v1
kind: ReplicationController
metadata:
  name: kubia
spec:
  replicas: {n}
  selector:
    app: kubia
    owner: rc
  template:
    metadata:
      labels:
        app: kubia
        owner: rc
    spec:
      containers:
      - name: kubia
        image: luksa/kubia
        ports:
        - containerPort: 8080
---
apiVersion: v1
kind: Service
metadata:
  name: kubia
spec:
  ports:
  - port: 80
    targetPort: 8080
  selector:
    app: kubia
"""


def late_pod(i):
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": f"late-{i}", "labels": {"app": "kubia"}},
            "spec": {"containers": [{
                "name": "kubia", "image": "luksa/kubia", "ports": [{"containerPort": 8080}],
                "readinessProbe": {"exec": {"command": ["ls", "/var/ready"]},
                                   "periodSeconds": 1}}]}}


def ready_ips(cluster):
    try:
        endpoints = store.get(cluster, store.kinds.get("Endpoints"), "default", "kubia")
    except NotFound:
        return set()
    return {a["ip"] for s in endpoints.get("subsets") or [] for a in s.get("addresses") or []}


def tick(cluster):
    with transaction.atomic():
        engine.tick(cluster, STEP)


def pod_of(cluster, name):
    return store.get(cluster, store.kinds.get("Pod"), "default", name)


def is_ready(pod):
    return any(c["type"] == "Ready" and c["status"] == "True"
               for c in (pod.get("status") or {}).get("conditions") or [])


def measure_latency(cluster, i):
    """(ticks from touch to endpoints, ticks from Ready to endpoints, wall s per tick)."""
    store.create(cluster, late_pod(i))
    name = f"late-{i}"
    while (pod_of(cluster, name).get("status") or {}).get("phase") != "Running":
        tick(cluster)
    exec_command(cluster, "default", name, "kubia", ["touch", "/var/ready"])
    ip = pod_of(cluster, name)["status"]["podIP"]
    ticks, ready_at = 0, None
    started = time.perf_counter()
    while ip not in ready_ips(cluster):
        tick(cluster)
        ticks += 1
        if ready_at is None and is_ready(pod_of(cluster, name)):
            ready_at = ticks
        if ticks > 100:
            raise SystemExit(f"{name} never joined the endpoints")
    # 0 ticks from Ready: the endpoints took it in the very tick its Ready turned True.
    return ticks, ticks - (ready_at or ticks), (time.perf_counter() - started) / ticks


def main(n, requests):
    cluster = bootstrap.create_cluster("traffic", max(1, n // 20), container_start_seconds=0)
    started = time.perf_counter()
    report = apply.apply_text(cluster, APP.format(n=n))
    assert report.ok, report.as_dict()
    ticks = 0
    while len(ready_ips(cluster)) < n:
        tick(cluster)
        ticks += 1
    print(f"{n} endpoints ready after {ticks} ticks of {STEP} s "
          f"({time.perf_counter() - started:.1f} s wall)", flush=True)

    runs = [measure_latency(cluster, i) for i in range(5)]
    print("endpoint update latency, touch /var/ready -> in Endpoints: "
          f"median {statistics.median(r[0] for r in runs)} ticks "
          f"(runs {[r[0] for r in runs]}); from Ready=True: "
          f"median {statistics.median(r[1] for r in runs)} ticks; "
          f"{statistics.median(r[2] for r in runs) * 1000:.0f} ms wall per tick", flush=True)

    started = time.perf_counter()
    network = traffic.Network(cluster)
    loaded = time.perf_counter() - started
    service = network.services[("default", "kubia")]
    port = service["spec"]["ports"][0]
    backends = len(network.backends(service, port))
    hits = {}
    started = time.perf_counter()
    with transaction.atomic():
        for _ in range(requests):
            reply = network.to_service(service, port, "/", "10.0.0.7")
            hits[reply.pod] = hits.get(reply.pod, 0) + 1
        routed = time.perf_counter() - started
        network.flush()
    total = time.perf_counter() - started
    print(f"routing: {requests} requests over {backends} endpoints, {len(hits)} pods hit; "
          f"{requests / routed:.0f} requests/s routed and answered, "
          f"{requests / total:.0f} requests/s with the runtimes saved; "
          f"reading the network once: {loaded * 1000:.0f} ms", flush=True)


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:]]
    main(*(args + [1000, 2000][len(args):]))
