"""Reconciler workers: ticking by wall time and speed, and splitting clusters by lease."""

import datetime as dt

from cluster import bootstrap
from cluster.models import ApiObject, Cluster, SimClock, Worker
from cluster.worker import Reconciler
from tests.conftest import START


def make_clusters(n):
    return [bootstrap.create_cluster(f"c{i}", nodes=1, start=START) for i in range(n)]


def now_of(cluster):
    return SimClock.objects.get(cluster=cluster).now


def test_a_step_advances_each_cluster_by_wall_time_times_speed(db):
    [slow, fast] = make_clusters(2)
    SimClock.objects.filter(cluster=fast).update(speed=10)
    Reconciler(exclusive=False).step(2.0)
    assert now_of(slow) - START == dt.timedelta(seconds=2)
    assert now_of(fast) - START == dt.timedelta(seconds=20)


def test_a_paused_cluster_stands_still_until_stepped(db):
    [cluster] = make_clusters(1)
    SimClock.objects.filter(cluster=cluster).update(paused=True)
    worker = Reconciler(exclusive=False)
    worker.step(5.0)
    assert now_of(cluster) == START
    SimClock.objects.filter(cluster=cluster).update(pending_step=1)
    worker.step(5.0)
    worker.step(5.0)
    assert now_of(cluster) - START == dt.timedelta(seconds=1)


def test_two_workers_split_the_clusters_between_them(db):
    make_clusters(4)
    first, second = Reconciler(holder="a"), Reconciler(holder="b")
    assert len(first.claim()) == 4          # alone, it takes everything
    assert len(second.claim()) == 0         # nothing is free yet
    assert len(first.claim()) == 2          # it sees a second worker and gives back its surplus
    assert len(second.claim()) == 2
    held = {c.name: c.lease_holder for c in Cluster.objects.all()}
    assert sorted(held.values()) == ["a", "a", "b", "b"]


def test_a_dead_workers_clusters_are_taken_over_when_its_lease_expires(db):
    make_clusters(2)
    dead, alive = Reconciler(holder="dead"), Reconciler(holder="alive")
    dead.claim()
    long_ago = dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)
    Cluster.objects.update(lease_until=long_ago)      # it stopped renewing...
    Worker.objects.filter(holder="dead").update(seen_until=long_ago)   # ...and announcing
    assert len(alive.claim()) == 2


def test_a_worker_stopping_gives_its_clusters_back(db):
    make_clusters(2)
    worker = Reconciler(holder="w")
    worker.claim()
    worker.release()
    assert set(Cluster.objects.values_list("lease_holder", flat=True)) == {""}


def test_a_reaction_reconciles_the_written_cluster_without_moving_its_clock(db):
    from cluster import store
    from tests.builders import make_pod

    written = bootstrap.create_cluster("written", 1)
    other = bootstrap.create_cluster("other", 1)
    store.create(written, make_pod("web"))
    store.create(other, make_pod("web"))
    before = {c: SimClock.objects.get(cluster=c).now for c in (written, other)}
    Reconciler(exclusive=False).react({"written"})
    pods = {c.name: ApiObject.objects.get(cluster=c, kind="Pod").node_name for c in (written, other)}
    assert pods == {"written": "node-1", "other": ""}          # scheduled at once; not the other
    assert {c: SimClock.objects.get(cluster=c).now for c in (written, other)} == before
    SimClock.objects.filter(cluster=other).update(paused=True)
    Reconciler(exclusive=False).react({"other"})               # a paused clock: nothing moves
    assert ApiObject.objects.get(cluster=other, kind="Pod").node_name == ""
