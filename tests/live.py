"""A real kubelab server on a free loopback port, for browser and kubectl tests.

It runs `manage.py serve` in a subprocess against its own SQLite file, exactly as `make run`
does, so what these tests see is what a user sees: HTTP on one free port, the API over HTTPS
on another (`https_url`), with a CA and certificate of its own (TLS_DIR in its work dir).
"""

import http.cookiejar
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
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
        self.https_port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.https_url = f"https://127.0.0.1:{self.https_port}"
        self.env = {**os.environ, "DATABASE_URL": f"sqlite:///{workdir}/live.sqlite3",
                    "PORT": str(self.port), "HOST": "127.0.0.1", "TICK_INTERVAL": "0.1",
                    # The clusters a test module left behind sleep soon, so one session's
                    # server does not slow down as the modules pile clusters up.
                    "IDLE_PAUSE_SECONDS": "30",
                    "HTTPS_PORT": str(self.https_port), "TLS_DIR": f"{workdir}/tls",
                    "API_HOST": "127.0.0.1", **env}
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

    def manage(self, *args):
        """`manage.py <args>` against this server's database and settings: its stdout."""
        done = subprocess.run([sys.executable, str(ROOT / "manage.py"), *args], env=self.env,
                              cwd=ROOT, capture_output=True, text=True, timeout=60)
        if done.returncode:
            raise RuntimeError(f"manage.py {' '.join(args)} exited {done.returncode}:\n"
                               f"{done.stderr}{done.stdout}")
        return done.stdout

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


def api(server, method, path, body=None, content_type="application/json"):
    """One REST call to the live server over plain HTTP from loopback (local mode needs no
    token): (status, decoded JSON body)."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(server.url + path, data=data, method=method,
                                     headers={"Content-Type": content_type})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def until(what, check, seconds=30):
    """Poll the live server, whose reconciler runs on its own clock, until `check()` is
    truthy; its value, or an AssertionError naming `what`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out after {seconds}s waiting for {what}")


def set_clock(server, cluster="demo", **spec):
    """Merge-patch a cluster's Clock spec (paused, speed) through the API."""
    status, body = api(server, "PATCH", f"/clusters/{cluster}/apis/kubelab.io/v1/clocks/cluster",
                       {"spec": spec}, "application/merge-patch+json")
    assert status == 200, body


def create_cluster(server, name, nodes):
    """The home page's form, as a browser posts it: CSRF cookie, then the token with the form."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.open(server.url + "/", timeout=10).read()
    token = next(c.value for c in jar if c.name == "csrftoken")
    data = urllib.parse.urlencode({"name": name, "nodes": nodes,
                                   "csrfmiddlewaretoken": token}).encode()
    request = urllib.request.Request(server.url + "/clusters/new", data=data,
                                     headers={"X-CSRFToken": token})
    with opener.open(request, timeout=10) as response:
        assert response.status == 200, response.status  # the redirect to the new board


class Learner:
    """A browser session: cookies, and the CSRF token a form post carries."""

    def __init__(self, server):
        self.server = server
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def get(self, path):
        with self.opener.open(self.server.url + path, timeout=10) as response:
            return response.read().decode()

    def post(self, path, **fields):
        """A form post with the CSRF token, as the page's form sends it: (status, body)."""
        token = next(c.value for c in self.jar if c.name == "csrftoken")
        data = urllib.parse.urlencode({"csrfmiddlewaretoken": token, **fields}).encode()
        request = urllib.request.Request(self.server.url + path, data=data,
                                         headers={"Referer": self.server.url + path})
        with self.opener.open(request, timeout=30) as response:
            return response.status, response.read()

    def progress(self, slug):
        return json.loads(self.get(f"/lessons/{slug}/progress"))

    def step(self, slug, step_id):
        return next(s for s in self.progress(slug)["steps"] if s["id"] == step_id)
