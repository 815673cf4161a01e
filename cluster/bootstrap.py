"""Creating and resetting clusters: the sandboxes a learner plays in."""

import datetime as dt

from django.db import transaction

from cluster import engine, store
from cluster.kinds import namespace as namespace_kind
from cluster.models import Cluster, SimClock

DEMO = "demo"


def node_manifest(name):
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "labels": {
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
            },
        },
    }


def create_cluster(name, nodes=3, *, container_start_seconds=2.0, start=None):
    """A new cluster: its clock, the four system namespaces and `nodes` Ready nodes.

    Runs one tick (of zero seconds) so the nodes have registered when this returns.
    """
    start = start or dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    with transaction.atomic():
        cluster = Cluster.objects.create(name=name, initial_nodes=nodes,
                                         container_start_seconds=container_start_seconds)
        cluster.clock = SimClock.objects.create(cluster=cluster, now=start)
        populate(cluster)
    engine.tick(cluster, 0)
    return cluster


def populate(cluster):
    for ns in namespace_kind.SYSTEM:
        store.create(cluster, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
    for i in range(1, cluster.initial_nodes + 1):
        store.create(cluster, node_manifest(f"node-{i}"))


def reset_cluster(cluster):
    """Back to the first state: every object gone, system namespaces and nodes recreated.

    The change log goes on (resourceVersions never repeat); watchers see the deletions.
    """
    with transaction.atomic():
        store.purge(cluster)
        clock = SimClock.objects.get(cluster=cluster)
        clock.now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
        clock.paused, clock.speed, clock.pending_step = False, 1, 0
        clock.resource_version += 1
        clock.save()
        cluster.clock = clock
        populate(cluster)
    engine.tick(cluster, 0)
    return cluster


def ensure_demo(nodes=3):
    """The demo cluster, created on first run."""
    existing = Cluster.objects.filter(name=DEMO).first()
    return existing or create_cluster(DEMO, nodes)
