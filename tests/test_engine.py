"""The reconciler's tick and the way wall time becomes simulated time."""

import datetime as dt
import logging
import time

from cluster import engine, kinds, store
from cluster.errors import Conflict
from cluster.models import ApiObject, SimClock
from tests.builders import make_pod
from tests.conftest import START

POD = kinds.get("Pod")
CLOCK = kinds.get("Clock", "kubelab.io")


def now(cluster):
    return SimClock.objects.get(cluster=cluster).now


def set_clock(cluster, **spec):
    clock_object = store.get(cluster, CLOCK, None, "cluster")
    clock_object["spec"].update(spec)
    store.update(cluster, clock_object)


def seconds(n):
    return START + dt.timedelta(seconds=n)


def pods(cluster):
    return ApiObject.objects.filter(cluster=cluster, kind="Pod")


# --- wall time to simulated time -------------------------------------------------------------


def test_a_running_clock_advances_by_the_wall_time_elapsed(cluster):
    engine.run_due(cluster, 1.5)
    assert now(cluster) == seconds(1.5)


def test_the_clock_speed_multiplies_wall_time(cluster):
    set_clock(cluster, speed=10)
    engine.run_due(cluster, 1.5)
    assert now(cluster) == seconds(15)


def test_a_paused_clock_does_not_advance(cluster):
    set_clock(cluster, paused=True)
    assert engine.run_due(cluster, 5) is None
    assert now(cluster) == START


def test_a_step_advances_a_paused_clock_exactly_once(cluster):
    set_clock(cluster, paused=True)
    store.step_clock(cluster, 3)
    engine.run_due(cluster, 10)
    engine.run_due(cluster, 10)
    assert now(cluster) == seconds(3)
    assert SimClock.objects.get(cluster=cluster).pending_step == 0


def test_a_tick_runs_the_controllers_against_the_new_time(cluster):
    store.create(cluster, make_pod())
    engine.tick(cluster, 0)
    engine.tick(cluster, 2)
    assert store.get(cluster, POD, "default", "kubia")["status"]["phase"] == "Running"


# --- isolation of controllers ----------------------------------------------------------------


def test_a_failing_controller_is_rolled_back_alone(cluster, monkeypatch, caplog):
    def broken(cluster, now):
        store.create(cluster, make_pod("half-done"), now=now)
        raise RuntimeError("boom")

    monkeypatch.setattr(engine, "CONTROLLERS", (("broken", broken), *engine.CONTROLLERS))
    store.create(cluster, make_pod())
    with caplog.at_level(logging.ERROR, logger="cluster.engine"):
        engine.tick(cluster, 1)
    assert not pods(cluster).filter(name="half-done").exists()
    assert pods(cluster).get(name="kubia").node_name   # the scheduler still ran
    assert "controller broken failed" in caplog.text


def test_a_controller_goes_on_after_a_conflict_it_caught(cluster, monkeypatch):
    # The scheduler and kubelets skip an object that changed under them (Conflict) and go on
    # with the others in the same tick; their other writes must survive.
    stale = store.create(cluster, make_pod("stale")).object
    store.patch(cluster, POD, "default", "stale", {"metadata": {"labels": {"v": "2"}}},
                store.MERGE_PATCH)

    def careful(cluster, now):
        try:
            store.update(cluster, {**stale, "metadata": {**stale["metadata"],
                                                         "labels": {"v": "old"}}}, now=now)
        except Conflict:
            pass
        store.create(cluster, make_pod("after-conflict"), now=now)

    monkeypatch.setattr(engine, "CONTROLLERS", (("careful", careful), *engine.CONTROLLERS))
    engine.tick(cluster, 1)
    assert pods(cluster).filter(name="after-conflict").exists()


# --- scale -----------------------------------------------------------------------------------


def test_two_hundred_pods_all_run_within_a_few_ticks(cluster, clock):
    for i in range(200):
        store.create(cluster, make_pod(f"web-{i}"))
    started = time.perf_counter()
    clock.tick(0)   # bind and admit
    clock.tick(2)   # containers started
    print(f"\n200 pods scheduled and started in {time.perf_counter() - started:.2f} s")
    phases = list(pods(cluster).values_list("phase", flat=True))
    assert phases.count("Running") == 200
