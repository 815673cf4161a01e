"""Real kubectl 1.32 over kubelab's streams: `get -w`, `delete` (its --wait watches),
`logs -f` and the other logs flags, `exec` (exit codes, stdin, a readiness file).

The module works in a cluster of its own (`streams-lab`, 2 nodes) whose clock runs at x10;
objects are created through the REST API, kubectl reads and streams them.
"""

import json
import os
import select
import subprocess
import time

import pytest

from tests import live
from tests.live import until
from tests.kubectl import Kubectl
from tests.live import create_cluster

LAB = "streams-lab"
BASE = f"/clusters/{LAB}"
WAIT_SECONDS = 30


def api(server, method, path, body=None, content_type="application/json"):
    return live.api(server, method, BASE + path, body, content_type)


def busybox(name, script, labels=None, **spec):
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "labels": labels or {"app": name}},
            "spec": {"containers": [{"name": "main", "image": "busybox",
                                     "command": ["sh", "-c", script],
                                     **spec.pop("container", {})}], **spec}}


def create_pod(server, pod):
    status, body = api(server, "POST", "/api/v1/namespaces/default/pods", pod)
    assert status == 201, body
    return body


def phase(server, name):
    status, body = api(server, "GET", f"/api/v1/namespaces/default/pods/{name}")
    return body["status"].get("phase") if status == 200 else None


def running(server, name):
    until(f"pod {name} running", lambda: phase(server, name) == "Running")


def ready(server, name):
    status, body = api(server, "GET", f"/api/v1/namespaces/default/pods/{name}")
    conditions = body.get("status", {}).get("conditions") or []
    return any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)


@pytest.fixture(scope="module")
def lab(live_kubelab):
    create_cluster(live_kubelab, LAB, 2)
    status, body = api(live_kubelab, "PATCH", "/apis/kubelab.io/v1/clocks/cluster",
                       {"spec": {"paused": False, "speed": 10}}, "application/merge-patch+json")
    assert status == 200, body
    create_pod(live_kubelab, busybox("sleeper", "echo started; sleep 100000"))
    running(live_kubelab, "sleeper")
    return live_kubelab


@pytest.fixture(scope="module")
def k(lab, tmp_path_factory):
    return Kubectl(lab, LAB, tmp_path_factory.mktemp("k"))


class Lines:
    """A running kubectl's stdout, read line by line with a deadline."""

    def __init__(self, k, *args):
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(k.home),
               "KUBECONFIG": str(k.kubeconfig), "LANG": "C.UTF-8"}
        # Unbuffered: select() must see every byte not yet read, none may wait in a buffer.
        self.process = subprocess.Popen([k.binary, *args], stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, env=env, bufsize=0)
        self.seen = []

    def until(self, predicate):
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            ready_, _, _ = select.select([self.process.stdout], [], [], 0.5)
            if ready_:
                line = self.process.stdout.readline().decode()
                if not line:
                    break
                self.seen.append(line.rstrip("\n"))
                if predicate(self.seen[-1]):
                    return self.seen[-1]
        raise AssertionError(f"no such line; saw {self.seen}, stderr: {self.stderr()}")

    def stderr(self):
        if self.process.poll() is None:
            return "(still running)"
        return self.process.stderr.read().decode()

    def stop(self):
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=10)


# ---------------------------------------------------------------------------------------------
# watch


def test_get_watch_prints_the_list_then_each_change(lab, k):
    watching = Lines(k, "get", "pods", "-w")
    try:
        assert watching.until(lambda line: line.startswith("NAME"))
        assert watching.until(lambda line: line.startswith("sleeper "))
        create_pod(lab, busybox("watched", "sleep 100000"))
        first = watching.until(lambda line: line.startswith("watched "))
        assert "Pending" in first or "ContainerCreating" in first or "Running" in first
        # The pod goes on changing (scheduled, started): each change is a new line.
        watching.until(lambda line: line.startswith("watched ") and "Running" in line)
        assert watching.process.poll() is None      # still watching
    finally:
        watching.stop()


def test_get_watch_with_a_label_selector_only_shows_matches(lab, k):
    watching = Lines(k, "get", "pods", "-w", "-l", "app=picked", "--no-headers")
    try:
        create_pod(lab, busybox("ignored", "sleep 100000", labels={"app": "other"}))
        create_pod(lab, busybox("picked", "sleep 100000", labels={"app": "picked"}))
        assert watching.until(lambda line: line.startswith("picked"))
        assert not any(line.startswith("ignored") for line in watching.seen)
    finally:
        watching.stop()


def test_delete_waits_for_the_pod_to_be_gone(lab, k):
    create_pod(lab, busybox("doomed", "sleep 100000"))
    running(lab, "doomed")
    out = k("delete", "pod", "doomed", timeout=60)
    assert out.strip() == 'pod "doomed" deleted'
    # --wait returned only when the watch saw DELETED: the pod is gone now.
    assert api(lab, "GET", "/api/v1/namespaces/default/pods/doomed")[0] == 404


# ---------------------------------------------------------------------------------------------
# logs


def test_logs_follow_streams_until_the_container_ends(lab, k):
    create_pod(lab, busybox("counter", "for i in 1 2 3 4; do echo line $i; sleep 10; done",
                            restartPolicy="Never"))
    until("counter started", lambda: phase(lab, "counter") in ("Running", "Succeeded"))
    out = k("logs", "-f", "counter", timeout=60)
    assert phase(lab, "counter") == "Succeeded"
    assert out == "line 1\nline 2\nline 3\nline 4\n"


def test_logs_follow_streams_new_lines_as_they_come(lab, k):
    create_pod(lab, busybox("ticker", "i=0; while true; do i=$((i+1)); echo tick $i; "
                                      "sleep 5; done"))
    running(lab, "ticker")
    following = Lines(k, "logs", "-f", "ticker")
    try:
        assert following.until(lambda line: line == "tick 1")
        assert following.until(lambda line: line == "tick 3")   # written after we started
    finally:
        following.stop()


def test_logs_flags_container_tail_timestamps_since_previous(lab, k):
    pod = busybox("pair", "echo one; echo two; echo three; sleep 100000")
    pod["spec"]["containers"].append({"name": "side", "image": "busybox",
                                      "command": ["sh", "-c", "echo side says hi; exit 1"]})
    create_pod(lab, pod)
    until("side restarted", lambda: "side says hi" in k.run(
        "logs", "pair", "-c", "side", "--previous").stdout)
    assert k("logs", "pair", "-c", "main") == "one\ntwo\nthree\n"
    assert k("logs", "pair", "-c", "main", "--tail", "2") == "two\nthree\n"
    stamped = k("logs", "pair", "-c", "main", "--timestamps").splitlines()
    assert len(stamped) == 3 and stamped[0].endswith("Z one") and stamped[0][:2] == "20"
    assert k("logs", "pair", "-c", "main", "--since", "1000h") == "one\ntwo\nthree\n"
    # Lines are stamped in simulated time: a side restart later they are older than 1s.
    assert k("logs", "pair", "-c", "main", "--since", "1s") == ""
    # Without -c kubectl picks the first container itself, and says so.
    defaulted = k.run("logs", "pair")
    assert defaulted.ok and defaulted.stdout == "one\ntwo\nthree\n"
    assert 'Defaulted container "main" out of: main, side' in defaulted.stderr
    bad = k.run("logs", "pair", "-c", "nope")
    assert bad.returncode == 1 and "container nope is not valid for pod pair" in bad.stderr


# ---------------------------------------------------------------------------------------------
# exec


def test_exec_prints_output_and_exits_zero(lab, k):
    assert k("exec", "sleeper", "--", "echo", "hello") == "hello\n"
    result = k.run("exec", "sleeper", "--", "sh", "-c", "echo out; echo err >&2")
    assert result.returncode == 0 and result.stdout == "out\n" and "err\n" in result.stderr


def test_exec_exit_code_is_kubectls_exit_code(lab, k):
    result = k.run("exec", "sleeper", "--", "sh", "-c", "exit 3")
    assert result.returncode == 3, result
    assert "command terminated with exit code 3" in result.stderr


def test_exec_with_stdin_runs_it_as_the_shells_script(lab, k):
    result = k.run("exec", "-it", "sleeper", "--", "sh",
                   input="echo from stdin\ncd /etc\npwd\nexit 4\n")
    assert result.returncode == 4, result
    assert result.stdout == "from stdin\n/etc\n"
    piped = k.run("exec", "-i", "sleeper", "--", "wc", "-l", input="a\nb\nc\n")
    assert piped.ok and piped.stdout.strip() == "3"


def test_exec_errors_are_the_servers_words(lab, k):
    missing = k.run("exec", "nope", "--", "true")
    assert missing.returncode == 1 and 'pods "nope" not found' in missing.stderr
    unknown = k.run("exec", "sleeper", "--", "no-such-program")
    assert unknown.returncode != 0


def test_exec_touch_makes_an_exec_readiness_probe_pass(lab, k):
    create_pod(lab, busybox("gate", "sleep 100000", container={"readinessProbe": {
        "exec": {"command": ["cat", "/var/ready"]}, "periodSeconds": 1}}))
    running(lab, "gate")
    # The probe has run and failed (its Unhealthy event), and the pod is not ready.
    until("gate's failed readiness probe", lambda: api(
        lab, "GET", "/api/v1/namespaces/default/events"
                    "?fieldSelector=involvedObject.name%3Dgate%2Creason%3DUnhealthy")[1]["items"])
    assert not ready(lab, "gate")
    assert k("exec", "gate", "--", "touch", "/var/ready") == ""
    until("gate ready", lambda: ready(lab, "gate"))


# ---------------------------------------------------------------------------------------------
# The exec websocket itself, without kubectl: a terminal session (kubectl -it on a real
# terminal), the v4 protocol, refusals. Channels' communicator drives the consumer.


async def _exec_session(path, protocols=("v5.channel.k8s.io",), headers=()):
    from channels.testing import WebsocketCommunicator

    from config.asgi import application

    communicator = WebsocketCommunicator(application, path, headers=list(headers),
                                         subprotocols=list(protocols))
    communicator.scope["client"] = ["127.0.0.1", 50000]     # local mode: loopback, no token
    connected, protocol = await communicator.connect()
    return communicator, connected, protocol


async def _frames(communicator):
    """Every frame until the server closes: [(channel, text)]."""
    frames = []
    while True:
        message = await communicator.receive_output(timeout=10)
        if message["type"] == "websocket.close":
            return frames
        data = message["bytes"]
        frames.append((data[0], data[1:].decode()))


@pytest.fixture
def exec_cluster(transactional_db):
    from cluster import bootstrap, engine, store as kube_store

    cluster = bootstrap.create_cluster("ex", nodes=1)
    kube_store.create(cluster, busybox("box", "echo up; sleep 100000"))
    for _ in range(5):
        engine.tick(cluster, 1.0)
    return cluster


EXEC = "/clusters/ex/api/v1/namespaces/default/pods/box/exec"


async def test_exec_terminal_session_runs_each_line(exec_cluster):
    communicator, connected, protocol = await _exec_session(
        f"{EXEC}?command=sh&stdin=true&stdout=true&tty=true")
    assert connected and protocol == "v5.channel.k8s.io"
    assert await communicator.receive_output(timeout=10) == \
        {"type": "websocket.send", "bytes": b"\x01/ # "}
    await communicator.send_to(bytes_data=b"\x00echo hi\r\ncd /etc\rpwdx\x7f\r")
    await communicator.send_to(bytes_data=b"\x00exit 5\r")
    frames = await _frames(communicator)
    output = "".join(text for channel, text in frames if channel == 1)
    # Echo, one prompt per Enter (CR LF is one), backspace, `cd` carried to the next line.
    assert output == ("echo hi\r\nhi\r\n/ # cd /etc\r\n/etc # pwdx\b \b\r\n/etc\r\n"
                      "/etc # exit 5\r\n")
    status = json.loads(frames[-1][1])
    assert frames[-1][0] == 3 and status["reason"] == "NonZeroExitCode"
    assert status["details"]["causes"] == [{"reason": "ExitCode", "message": "5"}]


async def test_exec_v4_for_the_python_client_and_refusals(exec_cluster):
    communicator, connected, protocol = await _exec_session(
        f"{EXEC}?command=cat&command=/nope&stdout=true&stderr=true",
        ("v4.channel.k8s.io",))
    assert protocol == "v4.channel.k8s.io"
    frames = await _frames(communicator)
    assert frames[0][0] == 2 and "No such file" in frames[0][1]
    assert json.loads(frames[-1][1])["details"]["causes"][0]["message"] == "1"
    # No protocol it speaks: the upgrade is refused.
    communicator, connected, _ = await _exec_session(f"{EXEC}?command=ls&stdout=true",
                                                     ("base64.channel.k8s.io",))
    assert not connected
    # No command: the API server's words, on the status channel.
    communicator, connected, _ = await _exec_session(f"{EXEC}?stdout=true")
    (status,) = await _frames(communicator)
    assert status[0] == 3 and json.loads(status[1])["message"] == \
        "you must specify at least 1 command"
    # A wrong token is refused, as every API request with it is.
    communicator, connected, _ = await _exec_session(f"{EXEC}?command=ls&stdout=true",
                                                     headers=[(b"authorization", b"Bearer no")])
    (status,) = await _frames(communicator)
    assert json.loads(status[1])["code"] == 401


@pytest.mark.parametrize("text", ["it's here\nand $HOME `x` \\n\n", "no newline"])
def test_stdin_reaches_a_command_exactly(text):
    from cluster.api.exec import with_stdin
    from cluster.shell.fs import FileSystem
    from cluster.shell.oneshot import run_command

    code, out, err, _ = run_command(with_stdin(["cat"], text), FileSystem("busybox"), 0)
    assert code == 0 and err == []
    assert "\n".join(out) == text.rstrip("\n")
