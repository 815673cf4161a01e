"""Real kubectl 1.32's `create` generators against a live kubelab, and `kubectl run`. The
generators POST their object as protobuf (`application/vnd.kubernetes.protobuf`,
cluster.api.protobuf), `run` as JSON; each prints what it prints against a real cluster,
leaving the object a real API server would keep.

The module works in a cluster of its own (`create-lab`); each test uses its own names.
"""

import pytest

from tests import live
from tests.kubectl import Kubectl
from tests.live import create_cluster, set_clock, until

LAB = "create-lab"
BASE = f"/clusters/{LAB}"


def get(server, path):
    status, body = live.api(server, "GET", BASE + path)
    return body if status == 200 else None


@pytest.fixture(scope="module")
def lab(live_kubelab):
    create_cluster(live_kubelab, LAB, 2)
    set_clock(live_kubelab, LAB, speed=10)
    return live_kubelab


@pytest.fixture(scope="module")
def k(lab, tmp_path_factory):
    return Kubectl(lab, LAB, tmp_path_factory.mktemp("k"))


def test_create_namespace(lab, k):
    assert k("create", "namespace", "abc") == "namespace/abc created\n"
    namespace = get(lab, "/api/v1/namespaces/abc")
    assert namespace["status"]["phase"] == "Active"
    assert namespace["metadata"]["labels"] == {"kubernetes.io/metadata.name": "abc"}


def test_create_namespace_again_is_already_exists(lab, k):
    k("create", "namespace", "twice")
    again = k.run("create", "namespace", "twice")
    assert again.returncode == 1
    assert again.stderr == 'Error from server (AlreadyExists): namespaces "twice" already ' \
                           'exists\n'


def test_create_with_server_dry_run_creates_nothing(lab, k):
    assert k("create", "namespace", "dry", "--dry-run=server") == \
        "namespace/dry created (server dry run)\n"
    assert get(lab, "/api/v1/namespaces/dry") is None


def test_create_service_nodeport(lab, k):
    assert k("create", "service", "nodeport", "web", "--tcp=80:8080") == "service/web created\n"
    service = get(lab, "/api/v1/namespaces/default/services/web")
    assert service["metadata"]["labels"] == {"app": "web"}
    assert service["spec"]["type"] == "NodePort"
    assert service["spec"]["selector"] == {"app": "web"}
    [port] = service["spec"]["ports"]
    assert {key: port[key] for key in ("name", "protocol", "port", "targetPort")} == \
        {"name": "80-8080", "protocol": "TCP", "port": 80, "targetPort": 8080}
    assert 30000 <= port["nodePort"] <= 32767


def test_create_job_runs_its_command(lab, k):
    assert k("create", "job", "j1", "--image=busybox", "--", "sh", "-c", "echo hi") == \
        "job.batch/j1 created\n"
    job = get(lab, "/apis/batch/v1/namespaces/default/jobs/j1")
    pod_spec = job["spec"]["template"]["spec"]
    assert pod_spec["restartPolicy"] == "Never"
    assert [(c["name"], c["image"], c["command"]) for c in pod_spec["containers"]] == \
        [("j1", "busybox", ["sh", "-c", "echo hi"])]
    until("j1 to succeed", lambda: (get(lab, "/apis/batch/v1/namespaces/default/jobs/j1")
                                    ["status"].get("succeeded") == 1))
    assert k("logs", "job/j1") == "hi\n"


def test_create_cronjob(lab, k):
    assert k("create", "cronjob", "c1", "--image=busybox", "--schedule=*/5 * * * *") == \
        "cronjob.batch/c1 created\n"
    cronjob = get(lab, "/apis/batch/v1/namespaces/default/cronjobs/c1")
    assert cronjob["spec"]["schedule"] == "*/5 * * * *"
    assert cronjob["spec"]["concurrencyPolicy"] == "Allow"            # defaulted
    pod_spec = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    assert pod_spec["restartPolicy"] == "OnFailure"
    assert [(c["name"], c["image"]) for c in pod_spec["containers"]] == [("c1", "busybox")]


def test_create_cronjob_with_a_bad_schedule_is_invalid(lab, k):
    bad = k.run("create", "cronjob", "c9", "--image=busybox", "--schedule=bogus")
    assert bad.returncode == 1
    assert 'CronJob.batch "c9" is invalid: spec.schedule: Invalid value: "bogus"' in bad.stderr
    assert get(lab, "/apis/batch/v1/namespaces/default/cronjobs/c9") is None


def test_create_job_from_cronjob(lab, k):
    k("create", "cronjob", "c2", "--image=busybox", "--schedule=0 0 1 1 *", "--",
      "echo", "from c2")
    cronjob = get(lab, "/apis/batch/v1/namespaces/default/cronjobs/c2")
    assert k("create", "job", "j2", "--from=cronjob/c2") == "job.batch/j2 created\n"
    job = get(lab, "/apis/batch/v1/namespaces/default/jobs/j2")
    assert job["metadata"]["annotations"] == {"cronjob.kubernetes.io/instantiate": "manual"}
    assert job["metadata"]["ownerReferences"] == [
        {"apiVersion": "batch/v1", "kind": "CronJob", "name": "c2",
         "uid": cronjob["metadata"]["uid"], "controller": True}]
    [container] = job["spec"]["template"]["spec"]["containers"]
    assert (container["image"], container["command"]) == ("busybox", ["echo", "from c2"])
    until("j2 to succeed", lambda: (get(lab, "/apis/batch/v1/namespaces/default/jobs/j2")
                                    ["status"].get("succeeded") == 1))
    assert k("logs", "job/j2") == "from c2\n"


def test_create_ingress(lab, k):
    assert k("create", "ingress", "simple", "--class=nginx", "--rule=foo.com/bar=web:80") == \
        "ingress.networking.k8s.io/simple created\n"
    ingress = get(lab, "/apis/networking.k8s.io/v1/namespaces/default/ingresses/simple")
    assert ingress["spec"] == {
        "ingressClassName": "nginx",
        "rules": [{"host": "foo.com", "http": {"paths": [
            {"path": "/bar", "pathType": "Exact",
             "backend": {"service": {"name": "web", "port": {"number": 80}}}}]}}]}


def test_run_busybox_with_args_runs_them(lab, k):
    # `kubectl run ... -- sh -c '...'` sets args, not command: busybox's image has CMD [sh] and
    # no ENTRYPOINT, so the container runs the args themselves (JSON body, not protobuf).
    assert k("run", "hello", "--image=busybox", "--restart=Never", "--",
             "sh", "-c", "echo hi") == "pod/hello created\n"
    pod = get(lab, "/api/v1/namespaces/default/pods/hello")
    container = pod["spec"]["containers"][0]
    assert (container.get("command"), container["args"]) == (None, ["sh", "-c", "echo hi"])
    until("hello to succeed", lambda: get(lab, "/api/v1/namespaces/default/pods/hello")
          ["status"].get("phase") == "Succeeded")
    assert k("logs", "hello") == "hi\n"
