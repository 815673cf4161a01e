"""Shared fixtures: a cluster on a manual clock, ticked by the test, never by time passing."""

import datetime as dt

import pytest

from cluster import bootstrap, engine
from tests.browser import browser, page  # noqa: F401 (fixtures for every browser test)

START = dt.datetime(2026, 1, 1, 12, 0, 0, tzinfo=dt.timezone.utc)


class ManualClock:
    """Steps a cluster's simulated time: `clock.tick(5)` runs one engine tick 5 s later."""

    def __init__(self, cluster):
        self.cluster = cluster

    def tick(self, seconds=1.0):
        return engine.tick(self.cluster, seconds)

    def run(self, seconds, step=1.0):
        """Tick every `step` seconds for `seconds` seconds."""
        elapsed = 0.0
        while elapsed < seconds:
            self.tick(step)
            elapsed += step

    @property
    def now(self):
        self.cluster.clock.refresh_from_db()
        return self.cluster.clock.now


@pytest.fixture
def cluster(db):
    """A fresh 3-node cluster whose clock starts at START and moves only when ticked."""
    return bootstrap.create_cluster("test", nodes=3, start=START)


@pytest.fixture
def clock(cluster):
    return ManualClock(cluster)


@pytest.fixture
def committed_clock(cluster, django_capture_on_commit_callbacks):
    """The manual clock, each tick's on-commit callbacks run as a real commit runs them: for
    controllers that keep what a pass saw only once its tick commits (a test never commits)."""
    manual = ManualClock(cluster)
    tick = manual.tick

    def committed_tick(seconds=1.0):
        with django_capture_on_commit_callbacks(execute=True):
            return tick(seconds)

    manual.tick = committed_tick
    return manual


@pytest.fixture(scope="session")
def live_kubelab(tmp_path_factory):
    """A kubelab server (daphne + in-process reconciler + demo cluster) on a loopback port."""
    from tests.live import LiveServer

    server = LiveServer(tmp_path_factory.mktemp("live")).start()
    yield server
    server.stop()
