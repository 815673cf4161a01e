"""`manage.py serve`: daphne serving HTTP and websockets, with the reconciler in-process.

This is what `make run` starts: the demo cluster is created if missing, and unless
RECONCILER=worker the reconciler ticks inside the server's own event loop (its ticks run in
one worker thread), so no second process is needed. Beside the HTTP port it serves the same
application over TLS on HTTPS_PORT (6443), with the certificate cluster.tls makes on first
run: kubectl sends a cluster's token only over TLS.
"""

import asyncio
import concurrent.futures
import logging
import time

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.management.base import BaseCommand

log = logging.getLogger(__name__)


# After a write from outside the reconciler (the API, the board), how long to let more of the
# same burst land before reconciling: `kubectl apply` of 100 objects is 100 commits.
REACT_SECONDS = 0.01


async def reconcile_forever(interval):
    from cluster import publish
    from cluster.worker import Reconciler

    reconciler = Reconciler(exclusive=False)
    # One thread for all ticks: one database connection, and the server's request thread is
    # never blocked by a long tick.
    executor = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="tick")
    step = sync_to_async(reconciler.step_in_loop, thread_sensitive=False, executor=executor)
    react = sync_to_async(reconciler.react, thread_sensitive=False, executor=executor)
    # A write from outside wakes the loop: the written cluster's controllers react to it at
    # once, as Kubernetes' do to a watch event, not up to a tick later (`kubectl apply -f
    # svc.yaml && kubectl get endpoints` finds the Endpoints). Only that cluster reconciles
    # then (no simulated time passes); the others keep to the interval.
    loop = asyncio.get_running_loop()
    wake, written = asyncio.Event(), set()

    def heard(cluster_name):
        written.add(cluster_name)
        wake.set()

    def hear(cluster_name):          # from the committing thread
        try:
            loop.call_soon_threadsafe(heard, cluster_name)
        except RuntimeError:
            pass                     # the loop is closed: the server is stopping

    publish.on_outside_write(hear)
    last = time.monotonic()
    while True:
        started = time.monotonic()
        try:
            await step(started - last)
        except Exception:
            log.exception("reconciler step failed")
        last = started
        while (remaining := interval - (time.monotonic() - started)) > 0:
            try:
                await asyncio.wait_for(wake.wait(), remaining)
            except asyncio.TimeoutError:
                break
            await asyncio.sleep(REACT_SECONDS)
            wake.clear()
            names = set(written)
            written.clear()
            try:
                await react(names)
            except Exception:
                log.exception("reconciler reaction failed")


def tls_endpoint(host, port):
    """daphne's (twisted's) endpoint string for TLS on `port`, with kubelab's server
    certificate (made or renewed here, naming `host` and settings.API_HOST)."""
    from cluster import tls

    files = tls.ensure(settings.TLS_DIR, hosts=(host, settings.API_HOST))
    interface = host.strip("[]").replace(":", "\\:")

    def escaped(path):
        # Twisted's endpoint syntax splits on ':' (and '=' inside a value needs no escape).
        return str(path).replace("\\", "\\\\").replace(":", "\\:")

    return (f"ssl:port={port}:interface={interface}:privateKey={escaped(files.server_key)}"
            f":certKey={escaped(files.server_cert)}")


class Command(BaseCommand):
    help = "Serve kubelab (HTTP and websockets) with the reconciler running in-process."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=settings.HOST)
        parser.add_argument("--port", type=int, default=settings.PORT)
        parser.add_argument("--https-port", type=int, default=settings.HTTPS_PORT,
                            help="the TLS port of the API (0: no HTTPS)")
        parser.add_argument("--no-demo", action="store_true",
                            help="do not create the demo cluster")

    def handle(self, *args, host, port, https_port, no_demo, **options):
        from daphne.endpoints import build_endpoint_description_strings
        from daphne.server import Server
        from twisted.internet import defer, reactor

        from cluster import bootstrap
        from cluster.api import watch
        from config.asgi import application

        if not no_demo:
            bootstrap.ensure_demo()
        if settings.RECONCILER == "inprocess":
            reactor.callWhenRunning(
                lambda: asyncio.ensure_future(reconcile_forever(settings.TICK_INTERVAL)))
        # Open watches and `logs -f` end cleanly before the loop stops, so the process exits at
        # once on SIGTERM instead of dying on their pending tasks.
        reactor.addSystemEventTrigger("before", "shutdown", lambda: defer.Deferred.fromFuture(
            asyncio.ensure_future(watch.end_streams())))
        endpoints = build_endpoint_description_strings(host=host, port=port)
        if https_port:
            endpoints.append(tls_endpoint(host, https_port))
        self.stdout.write(f"kubelab is serving http://{host}:{port}/clusters/demo/ "
                          f"(reconciler: {settings.RECONCILER})")
        if https_port:
            self.stdout.write(f"  the API over HTTPS on port {https_port}; a kubeconfig: "
                              "python manage.py kubeconfig --cluster demo")
        self.stdout.flush()
        server = Server(
            application=application,
            endpoints=endpoints,
            signal_handlers=True,
            verbosity=0,
            # A board's first snapshot holds every object: 1,000 pods are about 2 MB.
            websocket_max_message_size=64 * 1024 * 1024,
        )
        # autobahn aborts (TCP reset) a websocket whose peer has not answered our close frame
        # within 1 s: a `kubectl exec` on a busy machine can take longer, and then reports
        # "connection reset by peer" instead of its command's exit code. run() makes the
        # factory; this sets it before the first connection.
        reactor.callWhenRunning(
            lambda: server.ws_factory.setProtocolOptions(closeHandshakeTimeout=10))
        server.run()
