"""`kubectl logs -f`: GET /pods/{name}/log?follow=true, streamed as the container writes.

First what a plain `logs` answers (tailLines, sinceSeconds, timestamps and container apply),
then each new line of the same container instance as it is written. The stream ends, as the
kubelet's does, when that instance has terminated and its last lines are out (or it was
restarted, or the pod is gone). `--previous` streams the terminated instance and ends.
"""

import datetime as dt

from django.http import StreamingHttpResponse

from cluster import logs, store
from cluster.api import options, watch
from cluster.models import ApiObject, Container, ContainerLog

# Longest wait before looking for new lines without a change notice.
POLL_SECONDS = 0.5
BATCH = 1000


class LogCursor:
    """One followed container instance; synchronous reads, run off the event loop."""

    def __init__(self, cluster, pod, query):
        self.cluster, self.pod = cluster, pod
        self.uid = pod["metadata"]["uid"]
        self.timestamps = options.parse_bool(query.get("timestamps", "false"), "timestamps")
        self.previous = options.parse_bool(query.get("previous", "false"), "previous")
        self.container = query.get("container")
        self.tail = (options.parse_int(query["tailLines"], "tailLines")
                     if "tailLines" in query else None)
        self.since_seconds = (options.parse_int(query["sinceSeconds"], "sinceSeconds")
                              if "sinceSeconds" in query else None)
        self.name = self.instance = None
        self.last_id = 0

    def start(self):
        """The text a plain `logs` would answer now; refusals as logs.read raises them."""
        self.name, self.instance, self.last_id = logs.follow_position(
            self.pod, self.container, self.previous)
        since = None
        if self.since_seconds is not None:
            self.cluster.clock.refresh_from_db(fields=["now"])
            since = self.cluster.clock.now - dt.timedelta(seconds=self.since_seconds)
        text = logs.read(self.pod, self.container, previous=self.previous, tail=self.tail,
                         timestamps=self.timestamps, since=since, until_id=self.last_id)
        return text.encode()

    def next(self):
        """(new text, ended). Reads the end condition first, so lines written just before
        the container stopped are still sent."""
        ended = self.previous or self._instance_over()
        lines = list(ContainerLog.objects.filter(pod_uid=self.uid, container=self.name,
                                                 instance=self.instance, id__gt=self.last_id)
                     .order_by("id")[:BATCH])
        if len(lines) == BATCH:
            ended = False        # more to send before stopping
        out = []
        for line in lines:
            stamp = f"{logs.rfc3339nano(line.at)} " if self.timestamps else ""
            out.append(f"{stamp}{line.line}\n")
        if lines:
            self.last_id = lines[-1].id
        return "".join(out).encode(), ended

    def _instance_over(self):
        if not ApiObject.objects.filter(uid=self.uid).exists():
            return True
        row = Container.objects.filter(pod_uid=self.uid, name=self.name).first()
        if row is None:
            return True
        return row.restart_count != self.instance or row.state == Container.EXITED


async def stream_log(request, cluster_name, target):
    """STREAMING["log"]: the followed log, or None when follow is not asked."""
    query = request.GET
    if not options.parse_bool(query.get("follow", "false"), "follow"):
        return None

    def begin():
        cluster = watch.find_cluster(cluster_name)
        pod = store.get(cluster, target.kind, target.namespace, target.name)
        cursor = LogCursor(cluster, pod, query)
        return cursor, cursor.start()

    cursor, first = await watch.db_read(begin)()
    response = StreamingHttpResponse(_lines(cluster_name, cursor, first),
                                     content_type="text/plain")
    response["Cache-Control"] = "no-cache, private"
    return response


async def _lines(cluster_name, cursor, first):
    # Log lines are written by kubelet passes, which commit changes too: their notice wakes us.
    layer, channel = await watch.subscribe(cluster_name)
    task = watch.stream_started(layer, channel)
    try:
        # Even empty, the first chunk goes out: it carries the headers (see watch._events), so
        # the client's request returns at once, before the container writes anything.
        yield first
        while True:
            text, ended = await watch.db_read(cursor.next)()
            if text:
                yield text
            if ended or watch.closing():
                return
            await watch.keep_awake(cluster_name)
            await watch.wait_for_notice(layer, channel, POLL_SECONDS)
    finally:
        watch.stream_ended(task)
        await watch.unsubscribe(cluster_name, layer, channel)
