"""The Job controller: pods run to completion, failures are retried after Kubernetes 1.32's
back-off until backoffLimit, deadlines stop a Job, and the status says so as 1.32 writes it
(pkg/controller/job/job_controller.go, backoff_utils.go). The clock starts at 12:00:00 and
moves only when ticked; pods start 2 s after they are created.
"""

import datetime as dt
import re

from django.db import connection
from django.test.utils import CaptureQueriesContext

from cluster import apply, kinds, store
from cluster.controllers import job as job_controller
from cluster.models import ApiObject, Change
from tests.builders import seed_manifest

JOB = kinds.get("Job", "batch")
POD = kinds.get("Pod")
TRACKING = "batch.kubernetes.io/job-tracking"


# --- builders and readers ----------------------------------------------------------------------


def make_job(name="work", *, command=None, image="busybox", restart_policy="Never", **spec):
    container = {"name": "main", "image": image}
    if command:
        container["command"] = ["sh", "-c", command]
    template = {"metadata": {"labels": {"app": name}},
                "spec": {"restartPolicy": restart_policy, "containers": [container]}}
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name},
            "spec": {"template": template, **spec}}


def create(cluster, manifest):
    return store.create(cluster, manifest).object


def job_named(cluster, name):
    return store.get(cluster, JOB, "default", name)


def pods_of(cluster, job):
    rows = ApiObject.objects.filter(cluster=cluster, kind="Pod", owner_uid=job["metadata"]["uid"])
    return sorted((row.body for row in rows),
                  key=lambda p: (p["metadata"]["creationTimestamp"], p["metadata"]["name"]))


def events_of(cluster, obj):
    rows = ApiObject.objects.filter(cluster=cluster, kind="Event",
                                    owner_uid=obj["metadata"]["uid"]).order_by("id")
    return [(row.body["type"], row.body["reason"], row.body["message"]) for row in rows]


def condition(job, type_):
    return next((c for c in job["status"].get("conditions") or [] if c["type"] == type_), None)


def at(clock, hh_mm_ss):
    """Tick one second at a time until the clock shows hh:mm:ss (today, 2026-01-01)."""
    target = dt.datetime.combine(dt.date(2026, 1, 1), dt.time.fromisoformat(hh_mm_ss),
                                 tzinfo=dt.timezone.utc)
    while clock.now < target:
        clock.tick(1)


def stamp(hh_mm_ss):
    return f"2026-01-01T{hh_mm_ss}Z"


# --- the seed's Job ----------------------------------------------------------------------------

def test_the_seeds_batch_job_completes_one_second_after_its_pod_ran_120_seconds(cluster, clock):
    report = apply.apply_text(cluster, seed_manifest("Job"))
    assert report.ok, report.problems
    at(clock, "12:02:03")   # pod created 12:00:01, running from 12:00:03, exits at 12:02:03
    job = job_named(cluster, "batch-job")
    pod, = pods_of(cluster, job)
    assert pod["status"]["phase"] == "Succeeded"
    assert job["status"] == {"startTime": stamp("12:00:01"), "active": 1, "terminating": 0,
                             "uncountedTerminatedPods": {}, "ready": 1}
    clock.tick(1)
    job = job_named(cluster, "batch-job")
    done = {"status": "True", "lastProbeTime": stamp("12:02:04"),
            "lastTransitionTime": stamp("12:02:04"), "reason": "CompletionsReached",
            "message": "Reached expected number of succeeded pods"}
    # 1.31+: the interim SuccessCriteriaMet first, then Complete once no pod is terminating.
    assert job["status"] == {
        "conditions": [{"type": "SuccessCriteriaMet", **done}, {"type": "Complete", **done}],
        "startTime": stamp("12:00:01"), "completionTime": stamp("12:02:04"), "succeeded": 1,
        "terminating": 0, "uncountedTerminatedPods": {}, "ready": 0}
    pod, = pods_of(cluster, job)   # the finished pod stays (kubectl shows it Completed)
    assert pod["status"]["phase"] == "Succeeded"
    assert TRACKING not in (pod["metadata"].get("finalizers") or [])
    assert events_of(cluster, job) == [
        ("Normal", "SuccessfulCreate", f"Created pod: {pod['metadata']['name']}"),
        ("Normal", "Completed", "Job completed")]
    assert {e[1] for e in events_of(cluster, pod)} >= {"Scheduled", "Started"}


def test_job_pods_are_named_after_the_job_carry_its_labels_and_the_tracking_finalizer(
        cluster, clock):
    job = create(cluster, make_job("batch", command="sleep 60"))
    clock.tick(1)
    pod, = pods_of(cluster, job)
    meta = pod["metadata"]
    assert re.fullmatch(r"batch-[bcdfghjklmnpqrstvwxz2456789]{5}", meta["name"])
    uid = job["metadata"]["uid"]
    assert meta["labels"] == {"app": "batch", "job-name": "batch", "controller-uid": uid,
                              "batch.kubernetes.io/job-name": "batch",
                              "batch.kubernetes.io/controller-uid": uid}
    assert meta["ownerReferences"] == [{"apiVersion": "batch/v1", "kind": "Job", "name": "batch",
                                        "uid": uid, "controller": True,
                                        "blockOwnerDeletion": True}]
    assert meta["finalizers"] == [TRACKING]   # counted pods lose it


# --- parallelism and completions ---------------------------------------------------------------

def test_five_completions_two_at_a_time(cluster, clock):
    job = create(cluster, make_job(command="sleep 5", completions=5, parallelism=2))
    most_running = 0
    for _ in range(40):
        clock.tick(1)
        pods = pods_of(cluster, job)
        running = [p for p in pods if p["status"].get("phase") not in ("Succeeded", "Failed")]
        most_running = max(most_running, len(running))
        assert job_named(cluster, "work")["status"].get("active", 0) <= 2
    job = job_named(cluster, "work")
    assert most_running == 2
    assert condition(job, "Complete")["status"] == "True"
    assert job["status"]["succeeded"] == 5
    assert [p["status"]["phase"] for p in pods_of(cluster, job)] == ["Succeeded"] * 5


def test_a_work_queue_job_without_completions_is_complete_when_one_pod_succeeded(cluster, clock):
    job = create(cluster, make_job(command="sleep 3", parallelism=2))
    assert "completions" not in job["spec"]
    clock.run(10)
    job = job_named(cluster, "work")
    assert condition(job, "Complete") is not None
    assert job["status"]["succeeded"] == 2     # both ran to the end: none was stopped


# --- failures: restartPolicy Never, OnFailure ---------------------------------------------------

def test_never_replaces_a_failed_pod_after_10_20_40_seconds_then_fails_the_job(cluster, clock):
    job = create(cluster, make_job(command="exit 1", backoffLimit=3))
    clock.run(120)
    job = job_named(cluster, "work")
    pods = pods_of(cluster, job)
    assert len(pods) == 4      # the first and 3 retries: the 4th failure exceeds backoffLimit 3
    assert all(p["status"]["phase"] == "Failed" for p in pods)
    ends = [p["status"]["containerStatuses"][0]["state"]["terminated"]["finishedAt"] for p in pods]
    starts = [p["metadata"]["creationTimestamp"] for p in pods]
    gaps = [(store.parse_timestamp(s) - store.parse_timestamp(e)).total_seconds()
            for e, s in zip(ends, starts[1:])]
    assert gaps == [10, 20, 40]
    failed_at = store.timestamp(store.parse_timestamp(ends[-1]) + dt.timedelta(seconds=1))
    reason = {"status": "True", "lastProbeTime": failed_at, "lastTransitionTime": failed_at,
              "reason": "BackoffLimitExceeded",
              "message": "Job has reached the specified backoff limit"}
    assert job["status"]["conditions"] == [{"type": "FailureTarget", **reason},
                                           {"type": "Failed", **reason}]
    assert job["status"]["failed"] == 4 and "completionTime" not in job["status"]
    assert events_of(cluster, job)[-1] == ("Warning", "BackoffLimitExceeded",
                                           "Job has reached the specified backoff limit")


def test_backoff_doubles_from_10_seconds_to_a_10_minute_cap_and_resets_after_a_success():
    def pod(phase, end):
        ended = store.timestamp(dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.timezone.utc)
                                + dt.timedelta(seconds=end))
        terminated = {"state": {"terminated": {"finishedAt": ended}}}
        return {"metadata": {"creationTimestamp": ended},
                "status": {"phase": phase, "containerStatuses": [terminated]}}

    now = dt.datetime(2026, 1, 1, 12, 0, 0, tzinfo=dt.timezone.utc)
    remaining = job_controller.backoff_remaining
    assert remaining([pod("Failed", 0)], {}, now) == 10
    assert remaining([pod("Failed", -5), pod("Failed", 0)], {}, now) == 20
    assert remaining([pod("Failed", -t) for t in range(8)], {}, now) == 600
    assert remaining([pod("Failed", -9), pod("Succeeded", -1)], {}, now) == 0
    assert remaining([pod("Succeeded", -9), pod("Failed", -1)], {}, now) == 9


def test_on_failure_restarts_in_place_and_counts_restarts_against_the_backoff_limit(
        cluster, clock):
    job = create(cluster, make_job(command="exit 1", restart_policy="OnFailure",
                                   backoffLimit=2))
    for _ in range(60):
        clock.tick(1)
        if condition(job_named(cluster, "work"), "FailureTarget"):
            break
    job = job_named(cluster, "work")
    pod, = pods_of(cluster, job)         # one pod: the kubelet restarted its container
    assert pod["status"]["containerStatuses"][0]["restartCount"] == 2
    assert pod["metadata"]["deletionTimestamp"]      # a failed Job stops what still runs
    assert condition(job, "FailureTarget")["reason"] == "BackoffLimitExceeded"
    assert condition(job, "Failed") is None          # ...until that pod is gone
    assert job["status"]["failed"] == 1 and job["status"]["terminating"] == 1
    assert "active" not in job["status"]
    assert ("Normal", "SuccessfulDelete", f"Deleted pod: {pod['metadata']['name']}") in \
        events_of(cluster, job)
    clock.run(31)                                    # terminationGracePeriodSeconds: 30
    job = job_named(cluster, "work")
    assert not pods_of(cluster, job)
    assert condition(job, "Failed")["reason"] == "BackoffLimitExceeded"
    assert job["status"]["terminating"] == 0


# --- activeDeadlineSeconds ---------------------------------------------------------------------

def test_active_deadline_stops_the_job_and_deletes_its_pods(cluster, clock):
    job = create(cluster, make_job(image="luksa/batch-job", restart_policy="OnFailure",
                                   activeDeadlineSeconds=30))
    at(clock, "12:00:30")
    assert condition(job_named(cluster, "work"), "FailureTarget") is None
    clock.tick(1)                                    # startTime 12:00:01 + 30 s
    job = job_named(cluster, "work")
    pod, = pods_of(cluster, job)
    assert condition(job, "FailureTarget") == {
        "type": "FailureTarget", "status": "True", "lastProbeTime": stamp("12:00:31"),
        "lastTransitionTime": stamp("12:00:31"), "reason": "DeadlineExceeded",
        "message": "Job was active longer than specified deadline"}
    assert pod["metadata"]["deletionTimestamp"] == stamp("12:01:01")
    assert (job["status"]["failed"], job["status"]["terminating"]) == (1, 1)
    at(clock, "12:01:02")
    job = job_named(cluster, "work")
    assert not pods_of(cluster, job)
    assert condition(job, "Failed")["reason"] == "DeadlineExceeded"
    assert events_of(cluster, job)[-2:] == [
        ("Normal", "SuccessfulDelete", f"Deleted pod: {pod['metadata']['name']}"),
        ("Warning", "DeadlineExceeded", "Job was active longer than specified deadline")]


# --- suspend -----------------------------------------------------------------------------------

def test_a_suspended_job_runs_nothing_until_resumed(cluster, clock):
    job = create(cluster, make_job(command="sleep 30", suspend=True))
    clock.run(5)
    job = job_named(cluster, "work")
    assert not pods_of(cluster, job)
    assert "startTime" not in job["status"]
    suspended = condition(job, "Suspended")
    assert (suspended["status"], suspended["reason"], suspended["message"]) == (
        "True", "JobSuspended", "Job suspended")
    job["spec"]["suspend"] = False
    store.update(cluster, job)
    clock.tick(1)
    job = job_named(cluster, "work")
    assert job["status"]["startTime"] == stamp("12:00:06")
    assert (condition(job, "Suspended")["status"], condition(job, "Suspended")["reason"]) == (
        "False", "JobResumed")
    assert len(pods_of(cluster, job)) == 1
    # syncJob creates pods (manageJob) before it records the resume.
    assert [e[1] for e in events_of(cluster, job)] == ["Suspended", "SuccessfulCreate",
                                                       "Resumed"]


def test_suspending_a_running_job_deletes_its_pods_without_counting_them_failed(cluster, clock):
    create(cluster, make_job(command="sleep 30"))
    clock.run(5)
    job = job_named(cluster, "work")
    job["spec"]["suspend"] = True
    store.update(cluster, job)
    clock.tick(1)
    job = job_named(cluster, "work")
    pod, = pods_of(cluster, job)
    assert pod["metadata"]["deletionTimestamp"] and not pod["metadata"].get("finalizers")
    assert "failed" not in job["status"] and "active" not in job["status"]
    assert condition(job, "Suspended")["status"] == "True"


# --- cost and cleanup --------------------------------------------------------------------------

def test_status_is_written_only_when_it_changes(cluster, clock):
    create(cluster, make_job(command="sleep 60"))
    clock.run(5)
    version = job_named(cluster, "work")["metadata"]["resourceVersion"]
    clock.run(20)
    assert job_named(cluster, "work")["metadata"]["resourceVersion"] == version
    # Created; then status: active 1; ready 1 once the container runs. Nothing since.
    assert Change.objects.filter(cluster=cluster, kind="Job").count() == 3


def test_an_idle_pass_costs_a_few_queries_however_many_pods(cluster, clock):
    create(cluster, make_job(command="sleep 300", completions=6, parallelism=6))
    clock.run(5)
    now = clock.now
    with CaptureQueriesContext(connection) as running:
        job_controller.reconcile(cluster, now)
    reads = [q["sql"] for q in running.captured_queries if q["sql"].startswith("SELECT")]
    assert len(reads) == 3      # the Jobs, their pods, the pods being deleted
    assert not [q for q in running.captured_queries if q["sql"].startswith(("UPDATE", "INSERT"))]


def test_deleting_a_job_takes_its_pods_even_past_the_tracking_finalizer(cluster, clock):
    job = create(cluster, make_job(command="sleep 300"))
    clock.run(5)
    store.delete(cluster, JOB, "default", "work", propagation="Background")
    clock.run(40)
    assert not pods_of(cluster, job)
