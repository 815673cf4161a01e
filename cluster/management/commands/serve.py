"""`manage.py serve`: daphne serving HTTP and websockets, with the reconciler in-process.

This is what `make run` starts: the demo cluster is created if missing, and unless
RECONCILER=worker the reconciler ticks inside the server's own event loop (its ticks run in
one worker thread), so no second process is needed.
"""

import asyncio
import concurrent.futures
import logging
import time

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.management.base import BaseCommand

log = logging.getLogger(__name__)


async def reconcile_forever(interval):
    from cluster.worker import Reconciler

    reconciler = Reconciler(exclusive=False)
    # One thread for all ticks: one database connection, and the server's request thread is
    # never blocked by a long tick.
    executor = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="tick")
    step = sync_to_async(reconciler.step_in_loop, thread_sensitive=False, executor=executor)
    last = time.monotonic()
    while True:
        started = time.monotonic()
        try:
            await step(started - last)
        except Exception:
            log.exception("reconciler step failed")
        last = started
        await asyncio.sleep(max(0.0, interval - (time.monotonic() - started)))


class Command(BaseCommand):
    help = "Serve kubelab (HTTP and websockets) with the reconciler running in-process."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=settings.HOST)
        parser.add_argument("--port", type=int, default=settings.PORT)
        parser.add_argument("--no-demo", action="store_true",
                            help="do not create the demo cluster")

    def handle(self, *args, host, port, no_demo, **options):
        from daphne.endpoints import build_endpoint_description_strings
        from daphne.server import Server
        from twisted.internet import reactor

        from cluster import bootstrap
        from config.asgi import application

        if not no_demo:
            bootstrap.ensure_demo()
        if settings.RECONCILER == "inprocess":
            reactor.callWhenRunning(
                lambda: asyncio.ensure_future(reconcile_forever(settings.TICK_INTERVAL)))
        self.stdout.write(f"kubelab is serving http://{host}:{port}/clusters/demo/ "
                          f"(reconciler: {settings.RECONCILER})")
        self.stdout.flush()
        Server(
            application=application,
            endpoints=build_endpoint_description_strings(host=host, port=port),
            signal_handlers=True,
            verbosity=0,
            # A board's first snapshot holds every object: 1,000 pods are about 2 MB.
            websocket_max_message_size=64 * 1024 * 1024,
        ).run()
