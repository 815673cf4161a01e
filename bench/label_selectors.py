"""Listing pods with a label selector over 10,000 pods through the REST core.

    .venv/bin/python bench/label_selectors.py [N]

Reports the median of 15 GETs for selectors matching about 10 %, about 50 % and no pods, and
a plain list of everything. Target (issue 3): a selector over 10,000 pods under 100 ms.
Figures are printed, never asserted.
"""

import statistics
import sys
import time

from _setup import django_on_temp_db

django_on_temp_db()

from django.db import transaction  # noqa: E402
from django.test import Client  # noqa: E402

from cluster import bootstrap, store  # noqa: E402

ENVS = ["prod", "devel", "qa", "staging", "test", "canary", "dr", "perf", "demo", "lab"]


def pod(i):
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": f"web-{i}", "labels": {"app": "web" if i % 2 else "api",
                                                         "env": ENVS[i % 10]}},
            "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]}}


def median_ms(client, url, params, runs=15):
    times, count = [], 0
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(url, params)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.content[:300]
        count = len(response.json()["items"])
    return statistics.median(times), count


def main(n):
    cluster = bootstrap.create_cluster("sel", max(1, n // 20), container_start_seconds=0)
    with transaction.atomic():
        for i in range(n):
            store.create(cluster, pod(i))
    client = Client()
    url = "/clusters/sel/api/v1/namespaces/default/pods"
    for selector in ("env=prod", "env in (prod,devel),app!=web", "app=web", "env notin (prod,devel,qa,staging,test,canary,dr,perf,demo,lab)", ""):
        ms, count = median_ms(client, url, {"labelSelector": selector} if selector else {})
        shown = selector or "(no selector)"
        print(f"{n} pods, labelSelector={shown!r:70} -> {count:>5} items, median {ms:7.1f} ms",
              flush=True)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10000)
