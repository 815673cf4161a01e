"""Probes as the kubelet runs them: liveness restarts, readiness only un-readies (1.32)."""

from cluster import kinds, nodes_admin, runtime, store
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


# --- the kubelet's probe fast path --------------------------------------------------------------

FAST_PATH_PODS = [
    pod_with("ok", "luksa/kubia", livenessProbe=SEED_LIVENESS),
    pod_with("unhealthy", "luksa/kubia-unhealthy",
             livenessProbe={"httpGet": {"path": "/", "port": 8080}, "periodSeconds": 5}),
    pod_with("ready", "luksa/kubia", readinessProbe={**SEED_READINESS, "periodSeconds": 3}),
    pod_with("startup", "luksa/kubia",
             startupProbe={"httpGet": {"path": "/", "port": 8080}, "periodSeconds": 4},
             livenessProbe={"tcpSocket": {"port": 8080}, "periodSeconds": 7}),
    pod_with("refused", "luksa/kubia",
             livenessProbe={"tcpSocket": {"port": 81}, "periodSeconds": 6,
                            "failureThreshold": 2}),
    make_pod("web", image="nginx", containers=[
        {"name": "nginx", "image": "nginx",
         "livenessProbe": {"httpGet": {"path": "/", "port": 80}, "periodSeconds": 2}},
        {"name": "kubia", "image": "luksa/kubia",
         "readinessProbe": {"httpGet": {"path": "/", "port": 8080}, "periodSeconds": 5}}]),
    make_pod("sleeper", image="busybox", containers=[
        {"name": "main", "image": "busybox",
         "command": ["sh", "-c", "sleep 20; touch /tmp/up; sleep 25; exit 3"],
         "readinessProbe": {"exec": {"command": ["test", "-f", "/tmp/up"]},
                            "periodSeconds": 2}}]),
]


def probe_scenario(cluster):
    """Probes that pass, fail, flip readiness and restart containers, with ticks of 1 s and
    of 0.25 s, and commands run in containers meanwhile: what it looks like every 5 s."""
    from cluster.controllers.kubelet import exec_command
    from tests.conftest import ManualClock

    clock = ManualClock(cluster)
    for pod in FAST_PATH_PODS:
        store.create(cluster, pod)
    seen = []
    for second in range(120):
        if second == 30:
            # Someone else writes the status (as the node controller marks pods not Ready):
            # the kubelet's next pass over the pod writes it back.
            ok = get(cluster, "ok")
            ok["status"]["conditions"] = [{**c, "status": "False"} if c["type"] == "Ready"
                                          else c for c in ok["status"]["conditions"]]
            store.update(cluster, ok, subresource="status")
        if second == 40:
            exec_command(cluster, "default", "ready", "kubia", ["touch", "/var/ready"])
        if second == 60:
            exec_command(cluster, "default", "ready", "kubia", ["rm", "/var/ready"])
        if second == 80:
            nodes_admin.power_off(cluster, get(cluster, "web")["spec"]["nodeName"])
        if second == 95:
            nodes_admin.power_on(cluster, get(cluster, "web")["spec"]["nodeName"])
        clock.run(1, step=0.25 if 45 <= second < 55 else 1)
        if second % 5 == 4:
            seen.append(normalized(cluster))
    return seen


def normalized(cluster):
    """What a learner can see of the cluster: objects, runtime rows and logs, with the uids,
    resourceVersions and random names that differ between two runs taken out."""
    import json
    import re

    from cluster.models import Container

    rows = ApiObject.objects.filter(cluster=cluster)
    uids = [str(uid) for uid in rows.values_list("uid", flat=True)]
    uids += [n.body["status"]["nodeInfo"]["bootID"] for n in rows.filter(kind="Node")]  # random
    names = {str(r.uid): f"{r.kind}/{r.name}" for r in rows.exclude(kind="Event")}

    def clean(value):
        text = json.dumps(value, sort_keys=True)
        for uid in uids:
            text = text.replace(uid, "<uid>").replace(uid.replace("-", ""), "<uid>")
        text = re.sub(r'"resourceVersion": "\d+"', '"resourceVersion": ""', text)
        return json.loads(text)

    objects = sorted(json.dumps(clean({**r.body, "metadata": {
        k: v for k, v in r.body["metadata"].items()
        if r.kind != "Event" or k not in ("name", "uid")}}), sort_keys=True) for r in rows)
    containers = sorted(json.dumps(clean([names.get(str(c.pod_uid)), c.name, c.state,
                                          c.restart_count, str(c.due_at),
                                          {k: v for k, v in c.data.items() if k != "synced"}]),
                                   sort_keys=True)
                        for c in Container.objects.filter(cluster=cluster))
    logs = [(names.get(str(line.pod_uid)), line.container, line.instance, str(line.at),
             line.stream, line.line)
            for line in ContainerLog.objects.filter(cluster=cluster).order_by("id")]
    logs.sort(key=lambda line: line[:3])   # each container's lines in order
    return objects, containers, logs


def test_the_probe_fast_path_leaves_everything_as_the_general_way_does(cluster, monkeypatch):
    # The kubelet's fast path (a probe that changes nothing in the pod's status writes only
    # its container row and log) must be an optimisation only: the same scenario run with it
    # and without it leaves the same objects, events, runtime rows and logs.
    from cluster import bootstrap
    from cluster.controllers import kubelet
    from tests.conftest import START

    taken = []
    fast_pass = kubelet.fast_pass
    monkeypatch.setattr(kubelet, "fast_pass", lambda *args: _counted(fast_pass, taken, *args))
    fast = probe_scenario(cluster)
    assert sum(taken) > 50 and not all(taken)   # it ran, and also declined
    monkeypatch.setattr(kubelet, "FAST_PATH", False)
    general = probe_scenario(bootstrap.create_cluster("general", nodes=3, start=START))
    for moment, (seen, expected) in enumerate(zip(fast, general)):
        assert seen == expected, f"differs at {5 * moment + 5} s"


def _counted(fast_pass, taken, *args):
    result = fast_pass(*args)
    taken.append(result[0] is not None)
    return result
