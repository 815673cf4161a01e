"""Container logs through the REST core, and commands run in containers."""

from cluster import kinds, store
from tests.builders import make_pod

LOG = "/clusters/test/api/v1/namespaces/default/pods/{}/log"


def busybox(name, script, **spec):
    pod = make_pod(name, image="busybox", **spec)
    pod["spec"]["containers"][0].update(name="main", command=["sh", "-c", script])
    return pod


def test_logs_are_text_and_tail_and_timestamps_work(client, cluster, clock):
    store.create(cluster, busybox("talk", "echo one; echo two; echo three; sleep 3600"))
    clock.run(4)
    response = client.get(LOG.format("talk"))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/plain")
    assert response.content.decode() == "one\ntwo\nthree\n"
    assert client.get(LOG.format("talk"), {"tailLines": "1"}).content.decode() == "three\n"
    stamped = client.get(LOG.format("talk"), {"timestamps": "true"}).content.decode()
    assert stamped.splitlines()[0].endswith("Z one")
    assert stamped[:4] == "2026"


def test_previous_logs_after_a_restart(client, cluster, clock):
    store.create(cluster, busybox("crash", "echo attempt; exit 1"))
    clock.run(3)
    previous = client.get(LOG.format("crash"), {"previous": "true"})
    assert previous.status_code == 200 and previous.content.decode() == "attempt\n"


def test_no_previous_container_is_a_400_in_kubernetes_words(client, cluster, clock):
    store.create(cluster, make_pod("kubia"))
    clock.run(4)
    response = client.get(LOG.format("kubia"), {"previous": "true"})
    assert response.status_code == 400
    assert response.json()["message"] == \
        'previous terminated container "kubia" in pod "kubia" not found'


def test_a_container_still_creating_has_no_log_yet(client, cluster, clock):
    store.create(cluster, make_pod("kubia"))
    clock.tick(1)
    response = client.get(LOG.format("kubia"))
    assert response.status_code == 400
    assert response.json()["message"] == \
        'container "kubia" in pod "kubia" is waiting to start: ContainerCreating'


def test_two_containers_need_a_container_name(client, cluster, clock):
    pod = make_pod("pair", containers=[{"name": "a", "image": "luksa/kubia"},
                                       {"name": "b", "image": "nginx:1.27"}])
    store.create(cluster, pod)
    clock.run(4)
    response = client.get(LOG.format("pair"))
    assert response.status_code == 400
    assert response.json()["message"] == \
        "a container name must be specified for pod pair, choose one of: [a b]"
    assert client.get(LOG.format("pair"), {"container": "a"}).status_code == 200


def test_exec_runs_in_the_container_and_touch_shows_up_in_ls(cluster, clock):
    from cluster.controllers.kubelet import exec_command

    store.create(cluster, make_pod("kubia"))
    clock.run(4)
    assert exec_command(cluster, "default", "kubia", "kubia", ["ls", "/var/ready"])[0] == 1
    assert exec_command(cluster, "default", "kubia", "kubia", ["touch", "/var/ready"])[0] == 0
    code, out, _err = exec_command(cluster, "default", "kubia", None, ["ls", "/var/ready"])
    assert (code, out) == (0, ["/var/ready"])


def test_kill_1_ends_the_main_process_and_the_container_restarts_fresh(cluster, clock):
    from cluster.controllers.kubelet import exec_command

    store.create(cluster, make_pod("kubia"))
    clock.run(4)
    exec_command(cluster, "default", "kubia", "kubia", ["touch", "/tmp/mark"])
    exec_command(cluster, "default", "kubia", "kubia", ["kill", "1"])
    clock.tick(1)
    status = store.get(cluster, kinds.get("Pod"), "default", "kubia")["status"]
    container = status["containerStatuses"][0]
    assert container["restartCount"] == 1
    assert container["lastState"]["terminated"]["exitCode"] == 143
    # A restarted container starts from its image again: the file is gone.
    assert exec_command(cluster, "default", "kubia", "kubia", ["ls", "/tmp/mark"])[0] == 1


def test_an_emptydir_is_shared_by_the_pods_containers_and_not_their_own_files(cluster, clock):
    from cluster.controllers.kubelet import exec_command

    mount = [{"name": "shared", "mountPath": "/data"}]
    pod = make_pod("pair", containers=[
        {"name": "writer", "image": "busybox", "command": ["sleep", "3600"], "volumeMounts": mount},
        {"name": "reader", "image": "busybox", "command": ["sleep", "3600"], "volumeMounts": mount},
    ], volumes=[{"name": "shared", "emptyDir": {}}])
    store.create(cluster, pod)
    clock.run(4)
    exec_command(cluster, "default", "pair", "writer", ["touch", "/data/hello", "/tmp/own"])
    assert exec_command(cluster, "default", "pair", "reader", ["ls", "/data/hello"])[0] == 0
    assert exec_command(cluster, "default", "pair", "reader", ["ls", "/tmp/own"])[0] == 1


def test_a_sidecar_reaches_its_neighbour_on_localhost(cluster, clock):
    from cluster.controllers.kubelet import exec_command

    pod = make_pod("duo", containers=[
        {"name": "web", "image": "luksa/kubia", "ports": [{"containerPort": 8080}]},
        {"name": "tool", "image": "luksa/kubia", "command": ["sleep", "3600"]},
    ])
    store.create(cluster, pod)
    clock.run(4)
    code, out, _err = exec_command(cluster, "default", "duo", "tool",
                                   ["curl", "-s", "localhost:8080"])
    assert (code, out) == (0, ["You've hit duo"])


def test_every_container_has_its_pods_hostname_file(cluster, clock):
    from cluster.controllers.kubelet import exec_command

    pod = busybox("named", "sleep 3600")
    store.create(cluster, pod)
    clock.run(4)
    assert exec_command(cluster, "default", "named", "main", ["cat", "/etc/hostname"]) == \
        (0, ["named"], [])
