"""Containers that behave: programs, exits, restarts, back-off, pull errors, logs (kubelet 1.32).

Ticked on a manual clock; the default container start (image pull) takes 2 simulated seconds.
"""

from cluster import kinds, store
from cluster.models import Container, ContainerLog
from tests.builders import make_pod


def busybox(name, script, restart="Always", **spec):
    pod = make_pod(name, image="busybox:1.37", restartPolicy=restart, **spec)
    pod["spec"]["containers"][0].update({"name": "main", "command": ["sh", "-c", script]})
    return pod


def get(cluster, name):
    return store.get(cluster, kinds.get("Pod"), "default", name)


def main_status(cluster, name):
    return get(cluster, name)["status"]["containerStatuses"][0]


def reasons(cluster, name):
    from cluster.models import ApiObject

    pod = get(cluster, name)
    return [e.body["reason"] for e in ApiObject.objects.filter(
        kind="Event", owner_uid=pod["metadata"]["uid"]).order_by("resource_version")]


def logs(cluster, name, instance=None):
    pod = get(cluster, name)
    rows = ContainerLog.objects.filter(pod_uid=pod["metadata"]["uid"]).order_by("id")
    if instance is not None:
        rows = rows.filter(instance=instance)
    return [r.line for r in rows]


def test_a_program_runs_logs_and_completes_with_restart_policy_never(cluster, clock):
    store.create(cluster, busybox("once", "echo hello; sleep 5; echo bye", restart="Never"))
    clock.run(4)                                  # pulled at 2 s (scheduled at 1 s: 3 s)
    assert get(cluster, "once")["status"]["phase"] == "Running"
    assert logs(cluster, "once") == ["hello"]
    clock.run(5)
    pod = get(cluster, "once")
    assert pod["status"]["phase"] == "Succeeded"
    terminated = main_status(cluster, "once")["state"]["terminated"]
    assert (terminated["exitCode"], terminated["reason"]) == (0, "Completed")
    assert logs(cluster, "once") == ["hello", "bye"]
    ready = next(c for c in pod["status"]["conditions"] if c["type"] == "Ready")
    assert (ready["status"], ready["reason"]) == ("False", "PodCompleted")


def test_a_failing_program_with_restart_policy_never_fails_the_pod(cluster, clock):
    store.create(cluster, busybox("broken", "echo oops >&2; exit 3", restart="Never"))
    clock.run(5)
    assert get(cluster, "broken")["status"]["phase"] == "Failed"
    terminated = main_status(cluster, "broken")["state"]["terminated"]
    assert (terminated["exitCode"], terminated["reason"]) == (3, "Error")


def test_a_crashing_container_restarts_at_once_then_backs_off_doubling(cluster, clock):
    store.create(cluster, busybox("crash", "exit 1"))
    clock.run(3)                       # first start and crash, restarted at once
    status = main_status(cluster, "crash")
    assert status["restartCount"] == 1
    assert status["state"]["waiting"]["reason"] == "CrashLoopBackOff"
    assert "back-off 10s restarting failed container=main pod=crash_default" in \
        status["state"]["waiting"]["message"]
    assert status["lastState"]["terminated"]["exitCode"] == 1
    assert get(cluster, "crash")["status"]["phase"] == "Running"   # Always: still Running
    clock.run(10)
    assert main_status(cluster, "crash")["restartCount"] == 2
    clock.run(20)
    assert main_status(cluster, "crash")["restartCount"] == 3
    assert "back-off 40s" in main_status(cluster, "crash")["state"]["waiting"]["message"]
    assert "BackOff" in reasons(cluster, "crash")


def test_on_failure_restarts_a_failure_but_not_a_success(cluster, clock):
    store.create(cluster, busybox("job", "test -f /tmp/again && exit 0; touch /tmp/again; exit 1",
                                  restart="OnFailure"))
    clock.run(5)
    # The restarted container has a fresh filesystem: /tmp/again is gone, so it fails again.
    assert main_status(cluster, "job")["restartCount"] >= 1
    assert get(cluster, "job")["status"]["phase"] == "Running"


def test_busybox_without_a_command_exits_at_once_and_crash_loops(cluster, clock):
    pod = make_pod("bare", image="busybox")
    pod["spec"]["containers"][0]["name"] = "bare"
    store.create(cluster, pod)
    clock.run(4)
    status = main_status(cluster, "bare")
    assert status["restartCount"] >= 1 and status["lastState"]["terminated"]["reason"] == "Completed"


def test_args_alone_replace_the_images_cmd_as_kubectl_run_dash_dash_sets_them(cluster, clock):
    # `kubectl run hello --image=busybox -- sh -c 'echo hi; sleep 3600'` sets args only:
    # busybox has CMD ["sh"] and no ENTRYPOINT, so the container runs the args themselves.
    pod = make_pod("hello", image="busybox")
    pod["spec"]["containers"][0].update(name="hello", args=["sh", "-c", "echo hi; sleep 3600"])
    store.create(cluster, pod)
    clock.run(4)
    assert main_status(cluster, "hello")["state"].get("running")
    assert logs(cluster, "hello") == ["hi"]


def test_command_replaces_the_entrypoint_and_args_follow_it(cluster, clock):
    pod = make_pod("echo", image="busybox")
    pod["spec"]["containers"][0].update(name="echo", command=["echo"], args=["one", "two"])
    store.create(cluster, pod)
    clock.run(4)
    assert logs(cluster, "echo")[:1] == ["one two"]


def test_a_server_image_runs_until_stopped_and_logs_its_banner(cluster, clock):
    store.create(cluster, make_pod("kubia"))
    clock.run(3)
    assert main_status(cluster, "kubia")["state"].get("running")
    assert logs(cluster, "kubia") == ["Kubia server starting..."]
    assert Container.objects.get(name="kubia").due_at is None     # nothing to do until asked


def test_an_image_that_cannot_be_pulled_backs_off(cluster, clock):
    store.create(cluster, make_pod("typo", image="nginx:1.277"))
    clock.run(3)
    waiting = main_status(cluster, "typo")["state"]["waiting"]
    assert waiting["reason"] == "ErrImagePull"
    assert "docker.io/library/nginx:1.277: not found" in waiting["message"]
    clock.run(10)
    assert main_status(cluster, "typo")["state"]["waiting"]["reason"] == "ImagePullBackOff"
    assert get(cluster, "typo")["status"]["phase"] == "Pending"
    assert {"Failed", "BackOff"} <= set(reasons(cluster, "typo"))


def test_previous_logs_survive_one_restart_only(cluster, clock):
    store.create(cluster, busybox("talk", "echo run; exit 1"))
    clock.run(60)
    count = main_status(cluster, "talk")["restartCount"]
    assert count >= 3
    instances = set(ContainerLog.objects.values_list("instance", flat=True))
    assert instances <= {count - 1, count}


def test_logs_and_runtime_records_vanish_with_the_pod(cluster, clock):
    store.create(cluster, make_pod("kubia"))
    clock.run(3)
    store.delete(cluster, kinds.get("Pod"), "default", "kubia", grace_period=0)
    clock.run(10)    # the runtime sweeps removed pods' records every 10 simulated seconds
    assert not ContainerLog.objects.exists() and not Container.objects.exists()


def test_a_looping_program_is_only_touched_when_it_wakes(cluster, clock):
    store.create(cluster, busybox("loop", "while true; do echo tick; sleep 10; done"))
    clock.run(3)
    due = Container.objects.get(name="main").due_at
    assert due is not None and (due - clock.now).total_seconds() <= 10
    clock.run(30)
    assert logs(cluster, "loop").count("tick") == 4


def test_a_pod_still_pulling_is_not_given_its_containers_twice(cluster, clock):
    cluster.container_start_seconds = 5
    cluster.save()
    store.create(cluster, make_pod("slow"))
    clock.run(8)
    assert Container.objects.filter(name="slow").count() == 1
    assert main_status(cluster, "slow")["state"].get("running")


def test_the_seeds_batch_job_image_works_two_minutes_then_completes(cluster, clock):
    pod = make_pod("batch", image="luksa/batch-job", restartPolicy="OnFailure")
    pod["spec"]["containers"][0]["name"] = "main"
    store.create(cluster, pod)
    clock.run(100, step=10)
    assert get(cluster, "batch")["status"]["phase"] == "Running"
    [started] = logs(cluster, "batch")
    assert started.endswith("Batch job starting")
    clock.run(40, step=10)
    assert get(cluster, "batch")["status"]["phase"] == "Succeeded"
    lines = logs(cluster, "batch")
    assert lines[1].endswith("Finished succesfully")     # sic: the image's own spelling
    terminated = main_status(cluster, "batch")["state"]["terminated"]
    assert terminated["reason"] == "Completed" and terminated["exitCode"] == 0
