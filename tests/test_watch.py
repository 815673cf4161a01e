"""Watch semantics: synthetic ADDED, resuming from a resourceVersion, 410 Expired after
compaction, selectors (an object leaving one is DELETED for that watch), bookmarks, Tables,
and the stream itself through the ASGI view."""

import json

import pytest
from django.test import RequestFactory

from cluster import kinds, store
from cluster.api import watch
from cluster.api.paths import resolve
from cluster.models import Cluster
from tests.builders import make_pod

PODS = "/clusters/test/api/v1/namespaces/default/pods"
TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
POD = kinds.get("Pod")


def cursor(cluster, accept="application/json", **query):
    request = RequestFactory().get(PODS, {"watch": "true", **query}, HTTP_ACCEPT=accept)
    target = resolve("", "v1", "namespaces/default/pods")
    return watch.Cursor(cluster, watch.parse(request, target), request)


def events(lines):
    return [json.loads(line) for line in lines]


def names(evs):
    return [(e["type"], e["object"]["metadata"]["name"]) for e in evs]


def relabel(cluster, name, labels):
    store.patch(cluster, POD, "default", name, {"metadata": {"labels": labels}},
                store.MERGE_PATCH)


def test_no_resource_version_starts_with_synthetic_added_then_changes(cluster):
    store.create(cluster, make_pod("a"))
    store.create(cluster, make_pod("b"))
    watching = cursor(cluster)
    first, ended = watching.start()
    assert not ended
    assert names(events(first)) == [("ADDED", "a"), ("ADDED", "b")]
    assert all(e["object"]["kind"] == "Pod" and e["object"]["apiVersion"] == "v1"
               for e in events(first))
    store.create(cluster, make_pod("c"))
    relabel(cluster, "a", {"x": "1"})
    store.delete(cluster, POD, "default", "b", grace_period=0)
    later, ended = watching.next()
    evs = events(later)
    assert names(evs)[:2] == [("ADDED", "c"), ("MODIFIED", "a")]
    assert ("DELETED", "b") in names(evs)
    rvs = [int(e["object"]["metadata"]["resourceVersion"]) for e in evs]
    assert rvs == sorted(rvs) and rvs[0] > int(events(first)[-1]["object"]["metadata"]
                                               ["resourceVersion"])
    assert watching.next() == ([], False)


def test_resource_version_zero_also_lists_first(cluster):
    store.create(cluster, make_pod("a"))
    first, _ = cursor(cluster, resourceVersion="0").start()
    assert names(events(first)) == [("ADDED", "a")]


def test_resuming_from_a_resource_version_sends_only_later_changes(cluster):
    store.create(cluster, make_pod("a"))
    rv = store.current_rv(cluster)
    store.create(cluster, make_pod("b"))
    watching = cursor(cluster, resourceVersion=str(rv))
    first, ended = watching.start()
    assert first == [] and not ended
    lines, _ = watching.next()
    assert names(events(lines)) == [("ADDED", "b")]


def test_other_namespaces_and_kinds_are_not_sent(cluster):
    rv = store.current_rv(cluster)
    store.create(cluster, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "dev"}})
    store.create(cluster, make_pod("elsewhere", namespace="dev"))
    store.create(cluster, make_pod("here"))
    watching = cursor(cluster, resourceVersion=str(rv))
    watching.start()
    lines, _ = watching.next()
    assert names(events(lines)) == [("ADDED", "here")]


def test_a_resource_version_older_than_the_log_is_410_expired(cluster):
    old = store.current_rv(cluster)
    store.create(cluster, make_pod("a"))
    for i in range(1100):       # compaction cuts in strides of 1,000 changes
        relabel(cluster, "a", {"n": str(i)})
    assert store.compact(cluster, 50) > 0
    cluster.refresh_from_db()
    first, ended = cursor(cluster, resourceVersion=str(old)).start()
    assert ended
    (error,) = events(first)
    assert error["type"] == "ERROR"
    assert error["object"]["code"] == 410 and error["object"]["reason"] == "Expired"
    assert error["object"]["message"] == \
        f"too old resource version: {old} ({cluster.compacted_rv + 1})"
    # A watch that reached a point still in the log goes on.
    recent = cursor(cluster, resourceVersion=str(store.current_rv(cluster)))
    assert recent.start() == ([], False)


def test_a_watch_falling_behind_compaction_ends_with_410(cluster):
    store.create(cluster, make_pod("a"))
    watching = cursor(cluster, resourceVersion=str(store.current_rv(cluster)))
    watching.start()
    for i in range(1100):
        relabel(cluster, "a", {"n": str(i)})
    store.compact(cluster, 50)
    lines, ended = watching.next()
    assert ended and events(lines)[0]["object"]["code"] == 410


@pytest.mark.parametrize("listed", [True, False])
def test_leaving_the_selector_is_deleted_and_entering_is_added(cluster, listed):
    store.create(cluster, make_pod("web", labels={"app": "web"}))
    store.create(cluster, make_pod("db", labels={"app": "db"}))
    query = {"labelSelector": "app=web"}
    if not listed:       # resumed: the watch looks the previous state up in the log
        query["resourceVersion"] = str(store.current_rv(cluster))
    watching = cursor(cluster, **query)
    first, _ = watching.start()
    assert names(events(first)) == ([("ADDED", "web")] if listed else [])
    relabel(cluster, "web", {"app": "web", "tier": "front"})    # still matching
    relabel(cluster, "web", {"app": "other"})                   # leaves
    relabel(cluster, "db", {"app": "web"})                      # enters
    relabel(cluster, "db", {"app": "none"})                     # leaves again
    evs = events(watching.next()[0])
    assert names(evs) == [("MODIFIED", "web"), ("DELETED", "web"), ("ADDED", "db"),
                          ("DELETED", "db")]
    # The DELETED carries the last state that matched, at the change's resourceVersion.
    left = evs[1]["object"]["metadata"]
    assert left["labels"] == {"app": "web", "tier": "front"}
    assert int(left["resourceVersion"]) > int(evs[0]["object"]["metadata"]["resourceVersion"])
    store.delete(cluster, POD, "default", "web", grace_period=0)   # not matching: not sent
    assert watching.next()[0] == []


def test_field_selector_on_the_name_sees_only_that_object_deleted(cluster):
    store.create(cluster, make_pod("keep"))
    store.create(cluster, make_pod("gone"))
    watching = cursor(cluster, fieldSelector="metadata.name=gone")
    assert names(events(watching.start()[0])) == [("ADDED", "gone")]
    store.delete(cluster, POD, "default", "keep", grace_period=0)
    store.delete(cluster, POD, "default", "gone", grace_period=0)
    assert ("DELETED", "gone") in names(events(watching.next()[0]))
    assert all(n == "gone" for _t, n in names(events(watching.next()[0])))


def test_table_watch_events_carry_one_row_and_columns_only_first(cluster):
    store.create(cluster, make_pod("a"))
    watching = cursor(cluster, accept=TABLE)
    (first,) = events(watching.start()[0])
    assert first["object"]["kind"] == "Table"
    assert first["object"]["columnDefinitions"][0]["name"] == "Name"
    assert first["object"]["rows"][0]["cells"][0] == "a"
    relabel(cluster, "a", {"x": "y"})
    (later,) = events(watching.next()[0])
    assert later["type"] == "MODIFIED" and "columnDefinitions" not in later["object"]
    assert later["object"]["rows"][0]["object"]["metadata"]["labels"] == {"x": "y"}


def test_bookmark_reports_the_log_head(cluster):
    watching = cursor(cluster, allowWatchBookmarks="true")
    watching.start()
    store.create(cluster, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "dev"}})
    assert watching.next() == ([], False)
    (bookmark,) = events([watching.bookmark()])
    assert bookmark["type"] == "BOOKMARK" and bookmark["object"]["kind"] == "Pod"
    assert bookmark["object"]["metadata"]["resourceVersion"] == str(store.current_rv(cluster))


@pytest.mark.parametrize("query, message", [
    ({"resourceVersion": "abc"}, 'resourceVersion: Invalid value: "abc"'),
    ({"timeoutSeconds": "x"}, 'timeoutSeconds: invalid value "x"'),
    ({"labelSelector": "a in (b"}, ""),
    ({"fieldSelector": "spec.foo=1"}, "field label not supported: spec.foo"),
])
def test_bad_watch_parameters_are_400_before_the_stream(client, cluster, query, message):
    response = client.get(PODS, {"watch": "true", **query})
    assert response.status_code == 400
    assert response.json()["kind"] == "Status" and message in response.json()["message"]


# ---------------------------------------------------------------------------------------------
# The stream through the ASGI view (committed data: the stream reads in other threads)


async def _read_stream(response):
    chunks = []
    async for chunk in response.streaming_content:
        chunks.append(chunk)
    return b"".join(chunks).decode()


@pytest.mark.django_db(transaction=True)
async def test_the_view_streams_events_and_closes_after_timeout_seconds(async_client):
    from asgiref.sync import sync_to_async

    from cluster import bootstrap

    cluster = await sync_to_async(bootstrap.create_cluster)("test", nodes=1)
    await sync_to_async(store.create)(cluster, make_pod("a"))
    response = await async_client.get(PODS, {"watch": "1", "timeoutSeconds": "1"})
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    text = await _read_stream(response)
    assert [json.loads(x)["type"] for x in text.splitlines()] == ["ADDED"]
    assert await sync_to_async(Cluster.objects.count)() == 1


@pytest.mark.django_db(transaction=True)
async def test_the_view_answers_410_as_an_error_event(async_client):
    from asgiref.sync import sync_to_async

    from cluster import bootstrap

    cluster = await sync_to_async(bootstrap.create_cluster)("test", nodes=1)
    await sync_to_async(Cluster.objects.filter(pk=cluster.pk).update)(compacted_rv=10**6)
    response = await async_client.get(PODS, {"watch": "true", "resourceVersion": "5"})
    assert response.status_code == 200
    (event,) = [json.loads(x) for x in (await _read_stream(response)).splitlines()]
    assert event["type"] == "ERROR" and event["object"]["code"] == 410


def _http_scope(path, query):
    return {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
            "method": "GET", "scheme": "http", "path": path, "raw_path": path.encode(),
            "query_string": query.encode(), "headers": [(b"host", b"127.0.0.1")],
            "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000)}


@pytest.mark.django_db(transaction=True)
async def test_an_idle_watch_starts_its_body_at_once_so_the_headers_go_out():
    """kube-apiserver flushes a watch's headers as it starts, and client-go waits for them;
    daphne sends them with the first body message, so one must come before any event
    (kubectl's `delete --wait` and `wait --for` hung on an idle watch without it)."""
    from asgiref.sync import sync_to_async
    from asgiref.testing import ApplicationCommunicator
    from django.core.asgi import get_asgi_application

    from cluster import bootstrap

    cluster = await sync_to_async(bootstrap.create_cluster)("test", nodes=1)
    rv = await sync_to_async(store.current_rv)(cluster)
    app = ApplicationCommunicator(get_asgi_application(), _http_scope(
        PODS, f"watch=true&resourceVersion={rv}&timeoutSeconds=60"))
    await app.send_input({"type": "http.request", "body": b"", "more_body": False})
    try:
        start = await app.receive_output(timeout=5)
        assert start["type"] == "http.response.start" and start["status"] == 200
        # Nothing changes: without the empty first message this waits for the timeout.
        body = await app.receive_output(timeout=3)
        assert body == {"type": "http.response.body", "body": b"", "more_body": True}
    finally:
        await app.send_input({"type": "http.disconnect"})
        await app.wait(timeout=5)


@pytest.mark.django_db(transaction=True)
async def test_end_streams_completes_each_open_watch_response(monkeypatch):
    """What the server runs as it shuts down: each stream ends as its timeout would, so its
    response completes (daphne then delivers the disconnect Django's handler waits for)."""
    import time

    from asgiref.sync import sync_to_async
    from asgiref.testing import ApplicationCommunicator
    from django.core.asgi import get_asgi_application

    from cluster import bootstrap

    monkeypatch.setattr(watch, "_closing", False)       # restored for the tests after this
    await sync_to_async(bootstrap.create_cluster)("test", nodes=1)
    app = ApplicationCommunicator(get_asgi_application(), _http_scope(
        PODS, "watch=true&timeoutSeconds=60"))
    await app.send_input({"type": "http.request", "body": b"", "more_body": False})
    try:
        assert (await app.receive_output(timeout=5))["type"] == "http.response.start"
        assert (await app.receive_output(timeout=5))["body"] == b""
        assert len(watch._streams) == 1
        started = time.monotonic()
        await watch.end_streams()
        assert time.monotonic() - started < watch.POLL_SECONDS     # woken, not polled
        last = await app.receive_output(timeout=1)
        # The response's end: a body message without more_body.
        assert last["type"] == "http.response.body" and not last.get("more_body")
        assert watch._streams == {}
    finally:
        await app.send_input({"type": "http.disconnect"})
        await app.wait(timeout=5)


# ---------------------------------------------------------------------------------------------
# logs -f: the cursor behind the stream (cluster.api.follow)


def log_cursor(cluster, name, **query):
    from cluster.api import follow

    pod = store.get(cluster, POD, "default", name)
    return follow.LogCursor(cluster, pod, query)


def busybox(name, script, **spec):
    pod = make_pod(name, image="busybox", **spec)
    pod["spec"]["containers"][0].update(name="main", command=["sh", "-c", script])
    return pod


def test_follow_sends_the_log_so_far_then_new_lines_then_ends_with_the_container(
        cluster, clock):
    store.create(cluster, busybox("count", "for i in 1 2 3; do echo n $i; sleep 5; done",
                                  restartPolicy="Never"))
    clock.run(4)
    following = log_cursor(cluster, "count")
    assert following.start() == b"n 1\n"
    assert following.next() == (b"", False)
    clock.run(6)
    assert following.next() == (b"n 2\n", False)
    clock.run(12)
    assert following.next() == (b"n 3\n", True)     # exited: the last lines, then the end


def test_follow_with_tail_and_timestamps(cluster, clock):
    store.create(cluster, busybox("talk", "echo a; echo b; echo c; sleep 5; echo d; "
                                          "sleep 3600"))
    clock.run(3)
    following = log_cursor(cluster, "talk", tailLines="1", timestamps="true")
    first = following.start().decode()
    assert first.endswith("Z c\n") and first.count("\n") == 1
    clock.run(6)
    text, ended = following.next()
    assert text.decode().endswith("Z d\n") and not ended


def test_follow_ends_when_the_pod_is_gone(cluster, clock):
    store.create(cluster, busybox("brief", "echo hi; sleep 3600"))
    clock.run(3)
    following = log_cursor(cluster, "brief")
    assert following.start() == b"hi\n"
    store.delete(cluster, POD, "default", "brief", grace_period=0)
    assert following.next() == (b"", True)


def test_follow_of_previous_sends_that_instance_and_ends(cluster, clock):
    store.create(cluster, busybox("crash", "echo attempt; exit 1"))
    clock.run(3)
    following = log_cursor(cluster, "crash", previous="true")
    assert following.start() == b"attempt\n"
    assert following.next() == (b"", True)


def test_a_watch_ends_when_its_cluster_is_deleted(cluster):
    watching = cursor(cluster)
    watching.start()
    Cluster.objects.filter(pk=cluster.pk).delete()
    assert watching.next() == ([], True)


async def test_a_change_notice_wakes_the_watch_and_queued_notices_are_drained():
    import asyncio
    import time

    from cluster import publish

    layer, channel = await watch.subscribe("wake-test")
    try:
        for _ in range(5):
            await layer.group_send(publish.group_name("wake-test"),
                                   {"type": publish.CHANGES, "cluster": "wake-test"})
        started = time.monotonic()
        await watch.wait_for_notice(layer, channel, 5)
        assert time.monotonic() - started < 1       # woken, not timed out
        with pytest.raises(asyncio.TimeoutError):   # the other four went with the first
            await asyncio.wait_for(layer.receive(channel), 0.05)
    finally:
        await watch.unsubscribe("wake-test", layer, channel)


def test_a_notice_from_a_worker_thread_does_not_wait_for_a_stopped_loop():
    """A reconciler tick runs in a thread the server's loop handed it to; its change notice
    goes to that loop. Once the loop has stopped (the server shutting down) the tick's last
    notice must not wait for it: waiting there kept the process from exiting."""
    import asyncio
    import threading

    from asgiref.sync import sync_to_async

    from cluster import publish

    loop = asyncio.new_event_loop()
    loop_stopped, returned = threading.Event(), threading.Event()

    def tick():
        loop.call_soon_threadsafe(loop.stop)
        loop_stopped.wait(5)
        publish.changes_committed("stopped-loop")       # outside a transaction: sends now
        returned.set()

    task = loop.create_task(sync_to_async(tick, thread_sensitive=False)())
    try:
        loop.run_forever()                  # until tick() stops it
        loop_stopped.set()
        assert returned.wait(5), "the notice waited for a loop that no longer runs"
    finally:
        loop_stopped.set()
        loop.run_until_complete(task)       # lets a waiting send (before the fix) finish too
        loop.close()


def test_a_clock_watch_sees_each_pause_and_speed_change_not_time_passing(cluster, clock):
    kind = kinds.get("Clock", "kubelab.io")
    url = "/clusters/test/apis/kubelab.io/v1/clocks"
    request = RequestFactory().get(url, {"watch": "true"})
    watching = watch.ClockCursor(cluster, watch.parse(request, resolve("kubelab.io", "v1",
                                                                        "clocks")), request)
    first, ended = watching.start()
    assert [(e["type"], e["object"]["spec"]) for e in events(first)] == [
        ("ADDED", {"paused": False, "speed": 1})]
    clock.run(3)
    assert watching.next() == ([], False)
    store.patch(cluster, kind, "", "cluster", {"spec": {"speed": 50}}, store.MERGE_PATCH)
    store.patch(cluster, kind, "", "cluster", {"spec": {"paused": True}}, store.MERGE_PATCH)
    later, ended = watching.next()
    assert [(e["type"], e["object"]["spec"]) for e in events(later)] == [
        ("MODIFIED", {"paused": True, "speed": 50})]        # the state now, as a watch cache
    assert int(events(later)[0]["object"]["metadata"]["resourceVersion"]) > int(
        events(first)[0]["object"]["metadata"]["resourceVersion"])
    assert watching.next() == ([], False)
