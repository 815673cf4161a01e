"""kubectl's waits over an idle watch: `delete` (default --wait) and `wait --for`.

Both list the object (fieldSelector metadata.name=X) and watch from the list's
resourceVersion through an informer; once the list alone settles it (the pod already gone,
already Ready), kubectl stops the informer, and that stop waits for the watch request to
return, which client-go's does when the response headers arrive. kube-apiserver flushes them
as a watch starts; kubelab once sent them only with the first event, so kubectl hung for a
minute (the first bookmark) whenever the pod went between kubectl's get and its list.

The module works in a cluster of its own (`wait-lab`, 2 nodes) at x10, after whatever the
session has already done to the server (the hang was first seen after the streams and Python
client modules). Its last test stops a server of its own while streams are open.
"""

import time
import urllib.request

import pytest

from tests import live
from tests.kubectl import Kubectl
from tests.live import LiveServer, api, create_cluster, until

LAB = "wait-lab"
BASE = f"/clusters/{LAB}"
PODS = f"{BASE}/api/v1/namespaces/default/pods"
# Rounds of create-run-delete: the pod going between kubectl's get and list was a race.
ROUNDS = 10


def nginx(name):
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": {"app": name}},
            "spec": {"containers": [{"name": "web", "image": "nginx"}]}}


def pod(server, name):
    status, body = api(server, "GET", f"{PODS}/{name}")
    return body if status == 200 else None


def ready(server, name):
    conditions = ((pod(server, name) or {}).get("status") or {}).get("conditions") or []
    return any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)


def create_ready(server, name):
    status, body = api(server, "POST", PODS, nginx(name))
    assert status == 201, body
    until(f"{name} ready", lambda: ready(server, name))


@pytest.fixture(scope="module")
def lab(live_kubelab):
    create_cluster(live_kubelab, LAB, 2)
    live.set_clock(live_kubelab, LAB, paused=False, speed=10)
    return live_kubelab


@pytest.fixture(scope="module")
def k(lab, tmp_path_factory):
    return Kubectl(lab, LAB, tmp_path_factory.mktemp("k"))


def test_an_idle_watch_answers_its_headers_at_once(lab):
    status, listed = api(lab, "GET", PODS)
    assert status == 200, listed
    rv = listed["metadata"]["resourceVersion"]
    url = f"{lab.url}{PODS}?watch=true&resourceVersion={rv}&timeoutSeconds=30"
    started = time.monotonic()
    # urlopen returns once the status line and headers are in; nothing changes meanwhile.
    with urllib.request.urlopen(url, timeout=5) as response:
        assert response.status == 200
        assert response.headers["Content-Type"] == "application/json"
    assert time.monotonic() - started < 5


def test_wait_for_a_condition_already_met_returns_at_once(lab, k):
    create_ready(lab, "steady")
    started = time.monotonic()
    # The list settles it and the pod stays quiet: the watch behind it never sends an event.
    result = k.run("wait", "--for=condition=Ready", "pod/steady", "--timeout=20s", timeout=15)
    assert result.ok, result.stderr
    assert result.stdout.strip() == "pod/steady condition met"
    assert time.monotonic() - started < 15


def test_delete_with_wait_returns_every_time(lab, k):
    for round_ in range(ROUNDS):
        name = f"web-{round_}"
        create_ready(lab, name)
        result = k.run("delete", "pod", name, "--grace-period=1", timeout=30)
        assert result.ok, f"round {round_}: {result.stderr}"
        assert result.stdout.strip() == f'pod "{name}" deleted'
        assert pod(lab, name) is None


def test_the_server_stops_promptly_on_sigterm_while_busy(tmp_path):
    # A reconciler tick's change notice once waited for the event loop after it had stopped,
    # and the process then waited for that tick's thread: stopping took until the kill. Two
    # clusters of 30 pods logging every second keep the ticks busy, and publishing.
    server = LiveServer(tmp_path).start()
    try:
        for name in ("busy-1", "busy-2"):
            create_cluster(server, name, 3)
            live.set_clock(server, name, paused=False, speed=10)
            status, body = api(server, "POST", f"/clusters/{name}/api/v1/namespaces/default/"
                               "replicationcontrollers", talking_rc("talk", 30))
            assert status == 201, body
        until("the pods to run and talk", lambda: all(running(server, name) >= 20
                                                      for name in ("busy-1", "busy-2")))
        with urllib.request.urlopen(f"{server.url}/clusters/busy-1/api/v1/pods?watch=true",
                                    timeout=5):
            started = time.monotonic()
            server.process.terminate()
            server.process.wait(timeout=15)
            assert time.monotonic() - started < 5
            # The open watch is ended before the loop stops (serve.py): a clean exit.
            assert server.process.returncode == 0, server.output()
    finally:
        server.stop()


def running(server, cluster):
    status, body = api(server, "GET", f"/clusters/{cluster}/api/v1/pods")
    return sum((p.get("status") or {}).get("phase") == "Running" for p in body["items"])


def talking_rc(name, replicas):
    return {"apiVersion": "v1", "kind": "ReplicationController", "metadata": {"name": name},
            "spec": {"replicas": replicas, "selector": {"app": name}, "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "main", "image": "busybox", "command": [
                    "sh", "-c", "while true; do echo hi; sleep 1; done"]}]}}}}
