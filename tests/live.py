"""A real kubelab server on a free loopback port, for browser and kubectl tests.

It runs `manage.py serve` in a subprocess against its own SQLite file, exactly as `make run`
does, so what these tests see is what a user sees.
"""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    def __init__(self, workdir, **env):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "DATABASE_URL": f"sqlite:///{workdir}/live.sqlite3",
                    "PORT": str(self.port), "HOST": "127.0.0.1", "TICK_INTERVAL": "0.1", **env}
        self.env.pop("DJANGO_SETTINGS_MODULE", None)
        self.log = open(Path(workdir) / "server.log", "w+")
        self.process = None

    def start(self, timeout=30):
        manage = [sys.executable, str(ROOT / "manage.py")]
        subprocess.run(manage + ["migrate", "-v0"], env=self.env, cwd=ROOT, check=True)
        self.process = subprocess.Popen(manage + ["serve"], env=self.env, cwd=ROOT,
                                        stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"kubelab server exited early:\n{self.output()}")
            try:
                urllib.request.urlopen(self.url + "/", timeout=1)
                return self
            except OSError:
                # Not listening yet: wait on the process itself (returns early if it dies).
                try:
                    self.process.wait(timeout=0.1)
                except subprocess.TimeoutExpired:
                    pass
        raise RuntimeError(f"kubelab server did not answer within {timeout}s:\n{self.output()}")

    def output(self):
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.log.close()
