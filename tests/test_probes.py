"""Probes as the kubelet runs them: liveness restarts, readiness only un-readies (1.32)."""

from cluster import kinds, runtime, store
from cluster.models import ApiObject, ContainerLog
from tests.builders import make_pod

SEED_LIVENESS = {"httpGet": {"path": "/", "port": 8080}, "initialDelaySeconds": 15}
SEED_READINESS = {"exec": {"command": ["ls", "/var/ready"]}}


def pod_with(name, image, **probes):
    pod = make_pod(name, image=image, ports=[8080])
    pod["spec"]["containers"][0].update(name="kubia", **probes)
    return pod


def get(cluster, name):
    return store.get(cluster, kinds.get("Pod"), "default", name)


def status(cluster, name):
    return get(cluster, name)["status"]["containerStatuses"][0]


def messages(cluster, name, reason):
    uid = get(cluster, name)["metadata"]["uid"]
    return [e.body["message"] for e in ApiObject.objects.filter(kind="Event", owner_uid=uid)
            .order_by("resource_version") if e.body["reason"] == reason]


def test_the_seeds_unhealthy_kubia_is_restarted_after_three_failed_probes(cluster, clock):
    # The kubelet takes the pod at 1 s and its prober ticks every 10 s from then: 1, 11, 21...
    # The container starts at 3 s (2 s pull), so ticks before 18 s (initialDelaySeconds 15)
    # are skipped: probes at 21, 31, 41, 51, 61 s get the first five answers (200); 71, 81
    # and 91 s get 500s, and the third failure kills it.
    store.create(cluster, pod_with("kubia-liveness", "luksa/kubia-unhealthy",
                                   livenessProbe=SEED_LIVENESS))
    clock.run(90)
    assert status(cluster, "kubia-liveness")["restartCount"] == 0
    assert len(messages(cluster, "kubia-liveness", "Unhealthy")) == 1   # aggregated: count 2
    clock.run(1)
    assert status(cluster, "kubia-liveness")["restartCount"] == 1
    last = status(cluster, "kubia-liveness")["lastState"]["terminated"]
    assert (last["exitCode"], last["reason"]) == (137, "Error")
    assert messages(cluster, "kubia-liveness", "Unhealthy") == [
        "Liveness probe failed: HTTP probe failed with statuscode: 500"]
    assert messages(cluster, "kubia-liveness", "Killing") == [
        "Container kubia failed liveness probe, will be restarted"]


def test_each_probe_request_is_in_the_kubia_log(cluster, clock):
    store.create(cluster, pod_with("kubia", "luksa/kubia", livenessProbe=SEED_LIVENESS))
    clock.run(40)   # probes at 21 and 31 s (the prober ticks from 1 s; 15 s initial delay)
    lines = list(ContainerLog.objects.values_list("line", flat=True))
    assert lines[0] == "Kubia server starting..."
    assert lines[1:] == ["Received request from ::ffff:10.244.0.1"] * 2


def test_a_pod_with_a_failing_readiness_probe_runs_but_is_not_ready(cluster, clock):
    store.create(cluster, pod_with("kubia-ready", "luksa/kubia", readinessProbe=SEED_READINESS))
    clock.run(30)
    pod = get(cluster, "kubia-ready")
    assert pod["status"]["phase"] == "Running"
    assert status(cluster, "kubia-ready")["ready"] is False
    assert status(cluster, "kubia-ready")["restartCount"] == 0     # readiness never restarts
    ready = next(c for c in pod["status"]["conditions"] if c["type"] == "Ready")
    assert ready["status"] == "False"
    # busybox wording for every image for now (kubia's Debian ls says "cannot access").
    assert messages(cluster, "kubia-ready", "Unhealthy") == [
        "Readiness probe failed: ls: /var/ready: No such file or directory"]


def test_touching_var_ready_makes_the_pod_ready_at_the_next_probe(cluster, clock):
    store.create(cluster, pod_with("kubia-ready", "luksa/kubia", readinessProbe=SEED_READINESS))
    clock.run(15)
    pod = get(cluster, "kubia-ready")
    pods_runtime = runtime.PodRuntime(cluster, pod)
    code, _out, _err = pods_runtime.exec(pod["spec"]["containers"][0], ["touch", "/var/ready"],
                                         runtime.seconds(clock.now))
    pods_runtime.save()
    assert code == 0
    clock.run(10)
    assert status(cluster, "kubia-ready")["ready"] is True


def test_a_tcp_probe_on_a_port_nothing_listens_on_fails(cluster, clock):
    probe = {"tcpSocket": {"port": 81}, "periodSeconds": 5, "failureThreshold": 1}
    store.create(cluster, pod_with("tcp", "luksa/kubia", livenessProbe=probe))
    clock.run(6)    # started at 3 s; the prober's ticks are 1, 6, 11... s
    assert status(cluster, "tcp")["restartCount"] >= 1
    assert messages(cluster, "tcp", "Unhealthy")[0].startswith("Liveness probe failed: dial tcp ")


def test_a_probe_port_can_be_named(cluster, clock):
    pod = pod_with("named", "luksa/kubia",
                   livenessProbe={"httpGet": {"path": "/", "port": "http"}})
    pod["spec"]["containers"][0]["ports"] = [{"name": "http", "containerPort": 8080}]
    store.create(cluster, pod)
    clock.run(60)
    assert status(cluster, "named")["restartCount"] == 0
    assert messages(cluster, "named", "Unhealthy") == []
