"""The official Python client (`kubernetes` 32) against a live kubelab: list with a label
selector, create a ReplicaSet, watch pods (watch.Watch().stream, which never lists first),
read logs, exec a command (kubernetes.stream.stream) with its exit code.

The module works in a cluster of its own (`py-lab`, 2 nodes) at x10 clock speed. The client
talks plain HTTP on loopback without a token: kubelab's local mode lets it in.
"""

import json
import urllib.request

import pytest

kubernetes = pytest.importorskip("kubernetes")
from kubernetes import client, watch  # noqa: E402
from kubernetes.client.rest import ApiException  # noqa: E402
from kubernetes.stream import stream  # noqa: E402

from tests.live import until
from tests.test_browser_kubelet import create_cluster  # noqa: E402

LAB = "py-lab"
WAIT_SECONDS = 30


def busybox(name, script, labels=None):
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "labels": labels or {"app": name}},
            "spec": {"containers": [{"name": "main", "image": "busybox",
                                     "command": ["sh", "-c", script]}]}}


@pytest.fixture(scope="module")
def lab(live_kubelab):
    create_cluster(live_kubelab, LAB, 2)
    request = urllib.request.Request(
        f"{live_kubelab.url}/clusters/{LAB}/apis/kubelab.io/v1/clocks/cluster",
        data=json.dumps({"spec": {"paused": False, "speed": 10}}).encode(), method="PATCH",
        headers={"Content-Type": "application/merge-patch+json"})
    urllib.request.urlopen(request, timeout=10).read()
    return live_kubelab


@pytest.fixture(scope="module")
def api_client(lab):
    config = client.Configuration()
    config.host = f"{lab.url}/clusters/{LAB}"
    with client.ApiClient(config) as api:
        yield api


@pytest.fixture(scope="module")
def v1(api_client):
    return client.CoreV1Api(api_client)


@pytest.fixture(scope="module")
def shell_pod(v1):
    v1.create_namespaced_pod("default", busybox("shell", "echo booted; echo ready; "
                                                         "sleep 100000"))
    until("shell running",
          lambda: v1.read_namespaced_pod("shell", "default").status.phase == "Running")
    return "shell"


def test_list_pods_with_a_label_selector(v1):
    v1.create_namespaced_pod("default", busybox("red", "sleep 100000", {"color": "red"}))
    v1.create_namespaced_pod("default", busybox("blue", "sleep 100000", {"color": "blue"}))
    pods = v1.list_namespaced_pod("default", label_selector="color=red")
    assert [p.metadata.name for p in pods.items] == ["red"]
    assert int(pods.metadata.resource_version) > 0
    both = v1.list_namespaced_pod("default", label_selector="color in (red,blue)")
    assert sorted(p.metadata.name for p in both.items) == ["blue", "red"]
    with pytest.raises(ApiException) as refused:
        v1.list_namespaced_pod("default", field_selector="spec.nothing=1")
    assert refused.value.status == 400


def test_create_a_replicaset_and_watch_its_pods_come(api_client, v1):
    apps = client.AppsV1Api(api_client)
    apps.create_namespaced_replica_set("default", {
        "apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "trio"},
        "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "trio"}},
                 "template": {"metadata": {"labels": {"app": "trio"}},
                              "spec": {"containers": [{"name": "main",
                                                       "image": "luksa/kubia"}]}}}})
    # No list first: the watch starts with a synthetic ADDED per existing pod, then changes.
    running = set()
    seen_types = set()
    w = watch.Watch()
    for event in w.stream(v1.list_namespaced_pod, "default", label_selector="app=trio",
                          timeout_seconds=WAIT_SECONDS):
        pod = event["object"]
        seen_types.add(event["type"])
        assert pod.metadata.labels["app"] == "trio"
        if pod.status.phase == "Running":
            running.add(pod.metadata.name)
        if len(running) == 3:
            w.stop()
    assert len(running) == 3, seen_types
    assert "ADDED" in seen_types
    rs = apps.read_namespaced_replica_set("trio", "default")
    assert rs.spec.replicas == 3


def test_watch_from_a_resource_version_sees_only_later_changes(v1):
    rv = v1.list_namespaced_pod("default").metadata.resource_version
    v1.create_namespaced_pod("default", busybox("later", "sleep 100000"))
    w = watch.Watch()
    events = []
    for event in w.stream(v1.list_namespaced_pod, "default", resource_version=rv,
                          timeout_seconds=WAIT_SECONDS):
        events.append((event["type"], event["object"].metadata.name))
        w.stop()
    assert events == [("ADDED", "later")]


def test_read_logs(v1, shell_pod):
    until("log written", lambda: v1.read_namespaced_pod_log(shell_pod, "default"))
    assert v1.read_namespaced_pod_log(shell_pod, "default") == "booted\nready\n"
    assert v1.read_namespaced_pod_log(shell_pod, "default", tail_lines=1) == "ready\n"


def test_exec_a_command_and_read_its_output(v1, shell_pod):
    out = stream(v1.connect_get_namespaced_pod_exec, shell_pod, "default",
                 command=["sh", "-c", "echo hello; echo to-stderr >&2"],
                 stderr=True, stdin=False, stdout=True, tty=False)
    assert "hello" in out and "to-stderr" in out


def test_exec_exit_code_and_separate_channels(v1, shell_pod):
    resp = stream(v1.connect_get_namespaced_pod_exec, shell_pod, "default",
                  command=["sh", "-c", "echo partial; exit 7"],
                  stderr=True, stdin=False, stdout=True, tty=False, _preload_content=False)
    resp.run_forever(timeout=WAIT_SECONDS)
    assert resp.read_stdout() == "partial\n"
    assert resp.returncode == 7
    ok = stream(v1.connect_get_namespaced_pod_exec, shell_pod, "default",
                command=["touch", "/tmp/made"], stderr=True, stdin=False, stdout=True,
                tty=False, _preload_content=False)
    ok.run_forever(timeout=WAIT_SECONDS)
    assert ok.returncode == 0
    listing = stream(v1.connect_get_namespaced_pod_exec, shell_pod, "default",
                     command=["ls", "/tmp"], stderr=True, stdin=False, stdout=True, tty=False)
    assert "made" in listing


def test_exec_a_shell_fed_through_stdin_runs_commands_as_they_come(v1, shell_pod):
    resp = stream(v1.connect_get_namespaced_pod_exec, shell_pod, "default", command=["sh"],
                  stderr=True, stdin=True, stdout=True, tty=False, _preload_content=False)
    resp.write_stdin("cd /etc\n")
    resp.write_stdin("if true; then\n")       # waits for the rest of the `if`
    resp.write_stdin("  pwd\nfi\n")
    out = []

    def answered():
        resp.update(timeout=1)
        out.append(resp.read_stdout())
        return "".join(out)
    assert until("the shell's answer", answered) == "/etc\n"
    resp.write_stdin("exit 6\n")
    resp.run_forever(timeout=WAIT_SECONDS)
    assert resp.returncode == 6
