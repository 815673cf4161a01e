"""The board's websocket: one per browser tab, joined to its cluster's group.

It routes, it does not decide: on connect it sends a snapshot (or what a reconnecting client
missed), then forwards the change log as it grows. Writes from the browser go over HTTP to the
same store calls as the API.
"""

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from cluster import activity, live, publish


class ClusterConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        name = self.scope["url_route"]["kwargs"]["cluster"]
        self.cluster = await database_sync_to_async(live.find_cluster)(name)
        if self.cluster is None:
            await self.close(code=4404)
            return
        await self.looking()
        self.group = publish.group_name(name)
        # Join before reading, so nothing committed after the read can be missed.
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        self.rv = None
        since = _query_rv(self.scope)
        if since is not None:
            missed = await database_sync_to_async(live.changes_since)(self.cluster, since)
            if missed is not None:
                events, rv = missed
                self.rv = int(rv)
                await self.send_json({"type": "changes", "resourceVersion": rv, "events": events,
                                      "resumed": True})
                return
        await self.send_snapshot()

    async def send_snapshot(self):
        snap = await database_sync_to_async(live.snapshot)(self.cluster)
        self.rv = int(snap["resourceVersion"])
        await self.send_json({"type": "snapshot", **snap})

    async def disconnect(self, code):
        if getattr(self, "group", None):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def cluster_changes(self, message):
        missed = await database_sync_to_async(live.changes_since)(self.cluster, self.rv)
        if missed is None:
            await self.send_snapshot()
            return
        events, rv = missed
        if events:
            self.rv = int(rv)
            await self.send_json({"type": "changes", "resourceVersion": rv, "events": events})

    async def cluster_clock(self, message):
        await self.send_json({"type": "clock", "clock": message["clock"]})
        await self.looking()       # an open board keeps its cluster awake

    async def looking(self):
        if activity.due(self.cluster.name):
            await database_sync_to_async(activity.seen)(self.cluster.name)


def _query_rv(scope):
    from urllib.parse import parse_qs

    values = parse_qs(scope.get("query_string", b"").decode()).get("resourceVersion")
    if values and values[0].isdigit():
        return int(values[0])
    return None
