"""`manage.py reconcile`: a reconciler worker for the scale-out configuration."""

import signal
import time

from django.conf import settings
from django.core.management.base import BaseCommand

from cluster.worker import Reconciler


class Command(BaseCommand):
    help = "Tick the simulated clusters this worker holds leases on, until SIGTERM or SIGINT."

    def add_arguments(self, parser):
        parser.add_argument("--interval", type=float, default=settings.TICK_INTERVAL,
                            help="wall seconds between ticks")
        parser.add_argument("--once", action="store_true", help="tick once and exit")

    def handle(self, *args, interval, once, **options):
        reconciler = Reconciler()
        self.stopping = False

        def stop(signum, frame):
            self.stopping = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        self.stdout.write(f"reconciler {reconciler.holder} ticking every {interval}s")
        last = time.monotonic()
        try:
            while not self.stopping:
                now = time.monotonic()
                reconciler.step_in_loop(now - last)
                last = now
                if once:
                    break
                time.sleep(max(0.0, interval - (time.monotonic() - now)))
        finally:
            reconciler.release()
