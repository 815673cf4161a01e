"""Watch: `?watch=true` on a list URL, answered as a stream of JSON events, one per line.

The change log (cluster.models.Change, its id the resourceVersion) is the source: a watch reads
the changes after the resourceVersion it has reached, filters them by kind, namespace and
selectors, and writes each as `{"type", "object"}`. It waits between reads on the cluster's
channel-layer group (cluster.publish notifies it after every commit; with Redis that crosses
processes), and reads anyway every POLL_SECONDS, so a writer in a process the layer does not
reach (a reconciler without Redis) is seen too, just later.

Semantics, as the Kubernetes 1.32 API server (its watch cache) serves them:
- resourceVersion unset or "0": a synthetic ADDED per current match first, then changes;
- "N": only changes after N; older than the log reaches: one ERROR event (410 Expired), end;
- label/field selectors are applied to each change against the object before and after it:
  an object that starts matching is ADDED, one that stops matching is DELETED (carrying its
  last matching state at the change's resourceVersion);
- allowWatchBookmarks: a BOOKMARK with the reached resourceVersion when idle a while;
- the response headers are sent as the stream starts, before any event;
- timeoutSeconds: the stream ends after that long (default 30 minutes, as minRequestTimeout);
- a Table Accept header: each event's object is a one-row Table (cluster.api.tables).
"""

import asyncio
import json
from dataclasses import dataclass

from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.http import StreamingHttpResponse

from cluster import activity, live, publish, store
from cluster.api import filters, options, tables
from cluster.errors import BadRequest, Gone, NotFound
from cluster.models import Change, Cluster, SimClock

# Longest wait before reading the change log without a notice.
POLL_SECONDS = 1.0
# kube-apiserver's --min-request-timeout: a watch without timeoutSeconds lasts about this long.
DEFAULT_TIMEOUT_SECONDS = 1800
# An idle watch asking for bookmarks gets one this often (the API server sends about 1/min).
BOOKMARK_SECONDS = 60
# Queued notices taken at once after a wake-up, and how long to look for one more.
DRAIN_AT_MOST, DRAIN_SECONDS = 100, 0.005
# Changes read per query; a watch far behind reads several batches in a row.
BATCH = 500


def db_read(function):
    """Run a short synchronous DB read off the event loop, not in the one shared sync thread
    (a watch must never hold that thread, nor the loop)."""
    return sync_to_async(function, thread_sensitive=False)


@dataclass
class WatchRequest:
    """What a watch asks for, checked before the stream starts (errors are plain 400s)."""

    kind: object
    namespace: str | None
    labels: object
    match: object
    since: int | None          # None: list first (resourceVersion unset or "0")
    timeout: float
    bookmarks: bool
    table: bool

    @property
    def selective(self):
        return not self.labels.empty or self.match is not None

    def matches(self, obj):
        labels = (obj.get("metadata") or {}).get("labels") or {}
        return self.labels.matches(labels) and (self.match is None or self.match(obj))


def is_watch(request):
    query = request.GET
    return "watch" in query and options.parse_bool(query["watch"], "watch")


def parse(request, target):
    query = request.GET
    labels, match = filters.parse(target.kind, query.get("labelSelector"),
                                  query.get("fieldSelector"))
    rv_text = query.get("resourceVersion", "")
    if rv_text in ("", "0"):
        since = None
    else:
        try:
            since = int(rv_text)
        except ValueError:
            raise BadRequest(f'resourceVersion: Invalid value: "{rv_text}": must be an '
                             "integer") from None
        if since < 0:
            raise BadRequest(f'resourceVersion: Invalid value: "{rv_text}": must be '
                             "non-negative")
    timeout = DEFAULT_TIMEOUT_SECONDS
    if "timeoutSeconds" in query:
        timeout = options.parse_int(query["timeoutSeconds"], "timeoutSeconds")
        if timeout < 0:
            raise BadRequest("timeoutSeconds: Invalid value: must be non-negative")
        timeout = timeout or DEFAULT_TIMEOUT_SECONDS    # 0 means the server's default
    table = tables.wants_table(request) is not None
    if table:
        tables.include_object(request)     # an unknown includeObject is a 400 now, not later
    bookmarks = options.parse_bool(query.get("allowWatchBookmarks", "false"),
                                   "allowWatchBookmarks")
    return WatchRequest(target.kind, target.namespace, labels, match, since, timeout,
                        bookmarks, table)


def line(event):
    return (json.dumps(event, separators=(",", ":")) + "\n").encode()


def expired_event(since, oldest):
    error = Gone(f"too old resource version: {since} ({oldest})")
    return {"type": "ERROR", "object": error.status()}


class Cursor:
    """Where one watch has got to in the change log, and which objects it has seen match.

    Synchronous: each method is one short read, run off the event loop by the stream.
    """

    def __init__(self, cluster, spec, request):
        self.cluster, self.spec, self.request = cluster, spec, request
        self.rv = 0
        # For a selective watch: uid -> last matching state of each object it has sent. A
        # watch that listed first knows every match; one resumed from N looks the previous
        # state up in the change log when it meets an object it does not know.
        self.matching = {}
        self.listed = spec.since is None
        self.first = True       # the first Table event carries the column definitions

    # -- events -------------------------------------------------------------------------------

    def _encode(self, type_, obj, now):
        kind = self.spec.kind
        obj.setdefault("apiVersion", kind.api_version)
        obj.setdefault("kind", kind.kind)
        if self.spec.table:
            obj = tables.watch_object(self.request, kind, obj, now, self.first)
        self.first = False
        return line({"type": type_, "object": obj})

    def _now(self):
        self.cluster.clock.refresh_from_db(fields=["now"])
        return self.cluster.clock.now

    def bookmark(self):
        kind = self.spec.kind
        return line({"type": "BOOKMARK", "object": {
            "kind": kind.kind, "apiVersion": kind.api_version,
            "metadata": {"resourceVersion": str(self.rv)}}})

    # -- reading ------------------------------------------------------------------------------

    def start(self):
        """The synthetic ADDED events (resourceVersion unset or "0"), or nothing. Returns
        (lines, ended): ended when `since` is older than the change log reaches."""
        spec = self.spec
        if spec.since is not None:
            self.rv = spec.since
            return self._expired()
        items, rv = store.list_objects(self.cluster, spec.kind, spec.namespace, spec.labels,
                                       spec.match)
        self.rv = int(rv)
        now = self._now() if spec.table else None
        lines = []
        for obj in items:
            if spec.selective:
                self.matching[obj["metadata"]["uid"]] = obj
            lines.append(self._encode("ADDED", obj, now))
        return lines, False

    def _expired(self):
        try:
            self.cluster.refresh_from_db(fields=["compacted_rv"])
        except Cluster.DoesNotExist:
            return [], True         # the cluster was deleted: nothing more will come
        if self.rv < self.cluster.compacted_rv:
            return [line(expired_event(self.rv, self.cluster.compacted_rv + 1))], True
        return [], False

    def next(self):
        """(lines, ended) for the changes after the reached resourceVersion."""
        lines, ended = self._expired()
        if ended:
            return lines, True
        spec = self.spec
        # The log's head first, then the changes up to it: everything up to the head has
        # committed (writers commit ids in order), so moving to the head skips nothing, and
        # changes to other kinds move the watch on too (bookmarks report it).
        head = store.current_rv(self.cluster)
        changes = Change.objects.filter(cluster=self.cluster, id__gt=self.rv, id__lte=head,
                                        kind=spec.kind.kind, group=spec.kind.group)
        if spec.kind.namespaced and spec.namespace:
            changes = changes.filter(namespace=spec.namespace)
        now = None
        while True:
            batch = list(changes.filter(id__gt=self.rv).order_by("id")[:BATCH])
            if not batch:
                break
            if spec.table and now is None:
                now = self._now()
            for change in batch:
                event = self._event(change)
                if event is not None:
                    lines.append(self._encode(*event, now))
            self.rv = batch[-1].id
            if len(batch) < BATCH:
                break
        self.rv = max(self.rv, head)
        return lines, False

    def _event(self, change):
        """(type, object) this watch sends for one change, or None."""
        obj = change.as_event()["object"]
        if not self.spec.selective:
            return change.type, obj
        uid = obj["metadata"].get("uid")
        now_matches = change.type != Change.DELETED and self.spec.matches(obj)
        before = self._before(change, uid)
        if change.type == Change.DELETED:
            before = before or (obj if self.spec.matches(obj) else None)
            self.matching.pop(uid, None)
            return ("DELETED", obj) if before is not None else None
        if now_matches:
            self.matching[uid] = obj
            return ("MODIFIED" if before is not None else "ADDED"), obj
        self.matching.pop(uid, None)
        if before is None:
            return None
        # Left the selector: DELETED with the last state that matched, at this change's RV.
        gone = dict(before)
        gone["metadata"] = {**before["metadata"], "resourceVersion": str(change.id)}
        return "DELETED", gone

    def _before(self, change, uid):
        """The object's last matching state before `change`, or None if it did not match."""
        if uid in self.matching or self.listed or change.type == Change.ADDED:
            return self.matching.get(uid)
        previous = (Change.objects.filter(cluster=self.cluster, kind=change.kind,
                                          group=change.group, namespace=change.namespace,
                                          name=change.name, id__lt=change.id)
                    .order_by("-id").first())
        if previous is None or previous.type == Change.DELETED:
            return None
        obj = previous.as_event()["object"]
        if obj["metadata"].get("uid") != uid or not self.spec.matches(obj):
            return None
        return obj


# ---------------------------------------------------------------------------------------------
# The stream


def find_cluster(name):
    cluster = live.find_cluster(name)
    if cluster is None:
        raise NotFound(f'cluster "{name}" not found', details={"name": name, "kind": "clusters"})
    return cluster


async def subscribe(cluster_name):
    """(layer, channel) joined to the cluster's change notices, or (None, None)."""
    layer = get_channel_layer()
    if layer is None:
        return None, None
    channel = await layer.new_channel("watch.")
    await layer.group_add(publish.group_name(cluster_name), channel)
    return layer, channel


async def unsubscribe(cluster_name, layer, channel):
    if layer is not None:
        await layer.group_discard(publish.group_name(cluster_name), channel)


async def wait_for_notice(layer, channel, seconds):
    """Until a change notice arrives or `seconds` pass."""
    if seconds <= 0:
        return
    if layer is None:
        await asyncio.sleep(seconds)
        return
    try:
        await asyncio.wait_for(layer.receive(channel), seconds)
    except asyncio.TimeoutError:
        return
    # Notices that queued meanwhile (a client reading slowly) all say "the log grew": one
    # read of the log answers them all.
    for _ in range(DRAIN_AT_MOST):
        try:
            await asyncio.wait_for(layer.receive(channel), DRAIN_SECONDS)
        except asyncio.TimeoutError:
            return


class ClockCursor(Cursor):
    """kubelab's Clock is not in the change log: its resourceVersion counts its own spec
    changes (SimClock.resource_version: pause, speed). A watch sends MODIFIED each time it
    moves past the one reached; simulated time passing alone is not a change."""

    def _expired(self):
        return [], not SimClock.objects.filter(cluster_id=self.cluster.pk).exists()

    def next(self):
        clock = SimClock.objects.filter(cluster_id=self.cluster.pk).first()
        if clock is None:
            return [], True
        if clock.resource_version <= self.rv:
            return [], False
        self.rv = clock.resource_version
        self.cluster.clock = clock
        obj = self.spec.kind.to_object(self.cluster, clock)
        if self.spec.selective and not self.spec.matches(obj):
            return [], False
        return [self._encode("MODIFIED", obj, clock.now if self.spec.table else None)], False


async def stream_watch(request, cluster_name, target):
    """STREAMING["list"]: the watch stream, or None for a plain list."""
    if not is_watch(request):
        return None
    spec = parse(request, target)
    cluster = await db_read(find_cluster)(cluster_name)
    cursor = (ClockCursor if spec.kind.kind == "Clock" else Cursor)(cluster, spec, request)
    # Join before the first read: a change committed after it then always wakes the watch.
    layer, channel = await subscribe(cluster_name)
    try:
        first, ended = await db_read(cursor.start)()
    except BaseException:
        await unsubscribe(cluster_name, layer, channel)
        raise
    events = _events(cluster_name, cursor, spec, first, ended, layer, channel)
    response = StreamingHttpResponse(events, content_type="application/json")
    response["Cache-Control"] = "no-cache, private"
    return response


# The streams (watches, `logs -f`) this process serves: task -> (layer, channel) it waits on.
# On shutdown daphne cancels each request's handler, but Django's handler then leaves the
# stream's task, and the one listening for the client's disconnect, pending; finalised at
# interpreter exit, a pending Queue.get crashed CPython 3.11 (SIGSEGV). end_streams() ends
# each stream as its timeout would, so its response completes and both tasks finish.
_streams = {}
_closing = False


def stream_started(layer, channel):
    """Register the current task as serving a stream; pass it to stream_ended after."""
    task = asyncio.current_task()
    _streams[task] = (layer, channel)
    return task


def stream_ended(task):
    _streams.pop(task, None)


def closing():
    """True once the server is shutting down: a stream then ends at its next wake-up."""
    return _closing


async def keep_awake(cluster_name):
    """An open stream is someone looking: its cluster must not fall asleep (cluster.activity)."""
    if activity.due(cluster_name):
        await db_read(activity.seen)(cluster_name)


async def end_streams(seconds=5.0):
    """End every open stream (waiting up to `seconds`), and any opened later after its first
    read: for the server's shutdown, before its event loop stops. Each is woken at once."""
    global _closing
    _closing = True
    tasks = list(_streams)
    for layer, channel in list(_streams.values()):
        if layer is not None:
            try:
                await layer.send(channel, {"type": publish.CHANGES, "cluster": ""})
            except Exception:       # a full channel has a notice waiting already
                pass
    if tasks:
        await asyncio.wait(tasks, timeout=seconds)
    # Let the completed responses' disconnects reach the tasks listening for them.
    for _ in range(3):
        await asyncio.sleep(0)


async def _events(cluster_name, cursor, spec, first, ended, layer, channel):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + spec.timeout
    last_sent = loop.time()
    task = stream_started(layer, channel)
    try:
        # The headers at once, as kube-apiserver writes and flushes them when a watch starts:
        # daphne sends them with the first body bytes, and client-go blocks until they come.
        # kubectl's `delete --wait` and `wait --for` stop their informer once the list says
        # done, and that stop waits for the watch request to return: with an idle watch
        # (no event for a minute) kubectl hung. An empty body message sends the headers only.
        yield b""
        for chunk in first:
            yield chunk
        while not ended:
            lines, ended = await db_read(cursor.next)()
            for chunk in lines:
                yield chunk
            now = loop.time()
            if lines:
                last_sent = now
            if ended or now >= deadline or closing():
                return
            if spec.bookmarks and now - last_sent >= BOOKMARK_SECONDS:
                yield cursor.bookmark()
                last_sent = now
            await keep_awake(cluster_name)
            await wait_for_notice(layer, channel, min(POLL_SECONDS, deadline - now))
    finally:
        stream_ended(task)
        await unsubscribe(cluster_name, layer, channel)
