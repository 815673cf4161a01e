"""The scale-out configuration end to end: PostgreSQL, Redis, two servers, two workers.

A pod created through one server is scheduled and started by a `manage.py reconcile` worker,
and a board connected to the *other* server sees it happen over Redis. Same code as `make run`;
only the environment differs.
"""

import asyncio
import json
import socket
import subprocess
import sys
import urllib.request
import uuid

import pytest
from websockets.asyncio.client import connect

from tests.live import ROOT, LiveServer
from tests.tools import in_ci

PG = ("127.0.0.1", 5432)
REDIS = ("127.0.0.1", 6379)


def reachable(address):
    try:
        with socket.create_connection(address, timeout=1):
            return True
    except OSError:
        return False


def require_service(address, name):
    if reachable(address):
        return
    message = f"{name} is not listening on {address[0]}:{address[1]}"
    if in_ci():
        pytest.fail(message + " (CI=true: .ci/run must start it)")
    pytest.skip(message)  # outside CI only: with CI=true the line above has failed it


@pytest.fixture
def postgres_url():
    require_service(PG, "PostgreSQL")
    import psycopg

    name = f"kubelab_scaleout_{uuid.uuid4().hex[:8]}"
    admin = psycopg.connect(host=PG[0], port=PG[1], user="postgres", dbname="postgres",
                            autocommit=True)
    admin.execute(f"CREATE DATABASE {name}")
    yield f"postgres://postgres@{PG[0]}:{PG[1]}/{name}"
    admin.execute(f"DROP DATABASE {name} WITH (FORCE)")
    admin.close()


def post_json(url, body):
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def test_a_worker_runs_the_pod_and_the_other_server_pushes_it(tmp_path, postgres_url):
    require_service(REDIS, "Redis")
    env = {"DATABASE_URL": postgres_url, "REDIS_URL": "redis://127.0.0.1:6379/7",
           "RECONCILER": "worker"}
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    front = LiveServer(tmp_path / "a", **env).start()
    board = LiveServer(tmp_path / "b", **env).start()
    workers = [subprocess.Popen([sys.executable, str(ROOT / "manage.py"), "reconcile",
                                 "--interval", "0.1"], env=front.env, cwd=ROOT,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
               for _ in range(2)]
    try:
        ws_url = board.url.replace("http://", "ws://") + "/ws/clusters/demo/"

        async def scenario():
            async with connect(ws_url) as ws:
                snapshot = json.loads(await ws.recv())
                assert snapshot["type"] == "snapshot"
                post_json(front.url + "/clusters/demo/api/v1/namespaces/default/pods", {
                    "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "scaled"},
                    "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]}})
                phases = []
                async with asyncio.timeout(60):
                    async for raw in ws:
                        message = json.loads(raw)
                        for event in message.get("events", []):
                            obj = event["object"]
                            if obj["kind"] == "Pod" and obj["metadata"]["name"] == "scaled":
                                phase = obj["status"].get("phase")
                                if not phases or phases[-1] != phase:
                                    phases.append(phase)
                                if phase == "Running":
                                    return phases, obj
            return phases, None

        phases, pod = asyncio.run(scenario())
        assert phases[0] == "Pending" and phases[-1] == "Running"
        assert pod["spec"]["nodeName"].startswith("node-")
    finally:
        for worker in workers:
            worker.terminate()
            worker.wait(timeout=10)
        front.stop()
        board.stop()
