"""Clusters sleep while nobody looks at them and wake when someone does (cluster.activity):
the reconciler pauses a clock left unseen for IDLE_PAUSE_SECONDS, and a look (the board, its
websocket, an API request, a watch) resumes it; a clock the user paused stays paused."""

import datetime as dt

import pytest
from channels.testing import WebsocketCommunicator
from django.test import Client

from cluster import activity, bootstrap
from cluster.models import Cluster, SimClock
from cluster.worker import Reconciler
from config.asgi import application


@pytest.fixture(autouse=True)
def fresh_throttle(settings):
    settings.IDLE_PAUSE_SECONDS = 900
    activity.forget()
    yield
    activity.forget()


def _leave(name, minutes):
    """Nobody has looked at `name` for `minutes`."""
    Cluster.objects.filter(name=name).update(
        last_seen=dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=minutes))
    activity.forget()


def _clock(name):
    return SimClock.objects.get(cluster__name=name)


def test_a_cluster_left_alone_sleeps_and_stands_still(db):
    bootstrap.create_cluster("left", 1)
    bootstrap.create_cluster("watched", 1)
    _leave("left", 16)
    _leave("watched", 5)
    before = _clock("left").now
    Reconciler(exclusive=False).step(10.0)
    left, watched = _clock("left"), _clock("watched")
    assert (left.paused, left.idle_paused, left.now) == (True, True, before)
    assert (watched.paused, watched.idle_paused) == (False, False)


def test_a_look_wakes_it_and_time_goes_on(db, client):
    bootstrap.create_cluster("left", 1)
    _leave("left", 16)
    Reconciler(exclusive=False).step(1.0)
    rv = _clock("left").resource_version
    assert client.get("/clusters/left/").status_code == 200          # the board
    clock = _clock("left")
    assert (clock.paused, clock.idle_paused) == (False, False) and clock.resource_version > rv
    before = clock.now
    Reconciler(exclusive=False).step(2.0)
    assert _clock("left").now == before + dt.timedelta(seconds=2)


def test_an_api_request_wakes_it(db):
    bootstrap.create_cluster("left", 1)
    _leave("left", 16)
    Reconciler(exclusive=False).step(1.0)
    assert Client().get("/clusters/left/api/v1/pods").status_code == 200
    assert not _clock("left").paused


@pytest.mark.django_db(transaction=True)
async def test_opening_the_boards_websocket_wakes_it():
    from asgiref.sync import sync_to_async

    await sync_to_async(bootstrap.create_cluster)("left", 1)
    await sync_to_async(_leave)("left", 16)
    await sync_to_async(Reconciler(exclusive=False).step)(1.0)
    communicator = WebsocketCommunicator(application, "/ws/clusters/left/")
    connected, _ = await communicator.connect()
    assert connected
    await communicator.receive_json_from(timeout=5)
    await communicator.disconnect()
    assert not (await sync_to_async(_clock)("left")).paused


def test_a_clock_the_user_paused_stays_paused(db, client):
    bootstrap.create_cluster("mine", 1)
    SimClock.objects.filter(cluster__name="mine").update(paused=True)
    _leave("mine", 16)
    Reconciler(exclusive=False).step(1.0)
    client.get("/clusters/mine/")
    clock = _clock("mine")
    assert (clock.paused, clock.idle_paused) == (True, False)


def test_looks_are_recorded_at_most_every_half_minute(db, django_assert_num_queries):
    bootstrap.create_cluster("busy", 1)
    activity.seen("busy")
    with django_assert_num_queries(0):
        for _ in range(100):
            activity.seen("busy")


def test_sleeping_can_be_turned_off(db, settings):
    settings.IDLE_PAUSE_SECONDS = 0
    bootstrap.create_cluster("left", 1)
    _leave("left", 60 * 24)
    Reconciler(exclusive=False).step(1.0)
    assert not _clock("left").paused
