"""The board's websocket: snapshot, live deltas batched per tick, resume from a resourceVersion."""

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from cluster import bootstrap, engine, store
from config.asgi import application
from tests.builders import make_pod
from tests.conftest import START

pytestmark = pytest.mark.django_db(transaction=True)


@database_sync_to_async
def new_cluster(name="ws"):
    return bootstrap.create_cluster(name, nodes=2, start=START, container_start_seconds=0)


@database_sync_to_async
def create_pod(cluster, name):
    return store.create(cluster, make_pod(name)).object


@database_sync_to_async
def tick(cluster, seconds=1):
    return engine.tick(cluster, seconds)


async def connect(cluster, since=None):
    path = f"/ws/clusters/{cluster.name}/"
    if since is not None:
        path += f"?resourceVersion={since}"
    communicator = WebsocketCommunicator(application, path)
    connected, _ = await communicator.connect()
    assert connected
    return communicator


async def receive_type(communicator, wanted):
    """The next message of type `wanted`, skipping clock ticks."""
    while True:
        message = await communicator.receive_json_from(timeout=5)
        if message["type"] == wanted:
            return message
        assert message["type"] == "clock", message


async def test_connect_sends_a_snapshot_stamped_with_a_resource_version():
    cluster = await new_cluster()
    ws = await connect(cluster)
    snapshot = await receive_type(ws, "snapshot")
    kinds = sorted({o["kind"] for o in snapshot["objects"]})
    assert kinds == ["Event", "Namespace", "Node"]
    assert int(snapshot["resourceVersion"]) > 0
    assert snapshot["clock"]["kind"] == "Clock"
    await ws.disconnect()


async def test_a_write_arrives_as_an_added_delta():
    cluster = await new_cluster()
    ws = await connect(cluster)
    snapshot = await receive_type(ws, "snapshot")
    pod = await create_pod(cluster, "kubia")
    delta = await receive_type(ws, "changes")
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in delta["events"]] == \
        [("ADDED", "kubia")]
    assert int(delta["resourceVersion"]) == int(pod["metadata"]["resourceVersion"])
    assert int(delta["resourceVersion"]) > int(snapshot["resourceVersion"])
    await ws.disconnect()


async def test_a_tick_arrives_as_one_batch_with_each_object_once():
    cluster = await new_cluster()
    for i in range(5):
        await create_pod(cluster, f"web-{i}")
    ws = await connect(cluster)
    await receive_type(ws, "snapshot")
    await tick(cluster)   # schedules and starts all five: many writes, one notice
    delta = await receive_type(ws, "changes")
    pods = [e for e in delta["events"] if e["object"]["kind"] == "Pod"]
    assert sorted(e["object"]["metadata"]["name"] for e in pods) == [f"web-{i}" for i in range(5)]
    assert all(e["object"]["status"]["phase"] == "Running" for e in pods)
    await ws.disconnect()


async def test_a_client_reconnecting_gets_exactly_what_it_missed():
    cluster = await new_cluster()
    ws = await connect(cluster)
    snapshot = await receive_type(ws, "snapshot")
    await ws.disconnect()
    await create_pod(cluster, "missed")
    ws = await connect(cluster, since=snapshot["resourceVersion"])
    resumed = await receive_type(ws, "changes")
    assert resumed["resumed"] is True
    assert [e["object"]["metadata"]["name"] for e in resumed["events"]] == ["missed"]
    await ws.disconnect()


async def test_a_client_behind_the_compacted_log_gets_a_fresh_snapshot():
    cluster = await new_cluster()
    ws = await connect(cluster)
    snapshot = await receive_type(ws, "snapshot")
    await ws.disconnect()
    await create_pod(cluster, "after")

    @database_sync_to_async
    def compact_everything():
        store.compact(cluster, keep=-1000)   # drop the whole log, as if it had grown long

    await compact_everything()
    ws = await connect(cluster, since=snapshot["resourceVersion"])
    fresh = await receive_type(ws, "snapshot")
    assert "after" in [o["metadata"]["name"] for o in fresh["objects"]]
    await ws.disconnect()


async def test_an_unknown_cluster_is_refused():
    communicator = WebsocketCommunicator(application, "/ws/clusters/nope/")
    connected, code = await communicator.connect()
    assert not connected
