"""The CronJob controller: Jobs start exactly when Kubernetes 1.32 would start them
(pkg/controller/cronjob/cronjob_controllerv2.go, utils.go; robfig/cron via cluster/cron.py),
named by their scheduled minute, within the concurrency policy, the starting deadline and the
history limits. The clock starts at 2026-01-01 12:00:00 UTC, when each CronJob is created.
"""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cluster import apply, kinds, store
from cluster.controllers import cronjob as cronjob_controller
from cluster.cron import CronError
from cluster.models import ApiObject
from tests.builders import seed_manifest

CRONJOB = kinds.get("CronJob", "batch")
JOB = kinds.get("Job", "batch")
UTC = dt.timezone.utc
SEED_NAME = "batch-job-every-fifteen-minutes"


# --- builders and readers ----------------------------------------------------------------------


def make_cronjob(name="tick", schedule="*/15 * * * *", *, command="exit 0", image="busybox",
                 restart_policy="Never", job_spec=None, **spec):
    container = {"name": "main", "image": image}
    if command and image == "busybox":
        container["command"] = ["sh", "-c", command]
    template = {"metadata": {"labels": {"app": name}},
                "spec": {"restartPolicy": restart_policy, "containers": [container]}}
    return {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": name},
            "spec": {"schedule": schedule,
                     "jobTemplate": {"spec": {"template": template, **(job_spec or {})}},
                     **spec}}


def create(cluster, manifest):
    return store.create(cluster, manifest).object


def cronjob_named(cluster, name="tick"):
    return store.get(cluster, CRONJOB, "default", name)


def jobs_of(cluster, cronjob):
    rows = ApiObject.objects.filter(cluster=cluster, kind="Job",
                                    owner_uid=cronjob["metadata"]["uid"]).order_by("name")
    return [row.body for row in rows]


def names(jobs):
    return [j["metadata"]["name"] for j in jobs]


def events_of(cluster, obj, reason=None):
    rows = ApiObject.objects.filter(cluster=cluster, kind="Event",
                                    owner_uid=obj["metadata"]["uid"]).order_by("id")
    return [(row.body["type"], row.body["reason"], row.body["message"]) for row in rows
            if reason is None or row.body["reason"] == reason]


def moment(hh_mm, day=1):
    return dt.datetime(2026, 1, day, *map(int, hh_mm.split(":")), tzinfo=UTC)


def minutes(hh_mm, day=1):
    """A Job's name suffix: its scheduled time in minutes since the Unix epoch."""
    return int(moment(hh_mm, day).timestamp()) // 60


def until(clock, hh_mm_ss, step=1):
    target = dt.datetime.combine(dt.date(2026, 1, 1), dt.time.fromisoformat(hh_mm_ss), UTC)
    while clock.now < target:
        clock.tick(min(step, (target - clock.now).total_seconds()))


# --- the seed's CronJob ------------------------------------------------------------------------

def test_the_seeds_cronjob_as_pasted_is_refused_at_its_tab(cluster):
    problem, = apply.apply_text(cluster, seed_manifest("CronJob")).problems
    assert problem.line == 7
    assert problem.message == ("document 1, line 7, column 1: a tab character: YAML indents "
                               "with spaces, never tabs; replace the tab with spaces")
    spaced = seed_manifest("CronJob").replace("\t", "  ")
    problem, = apply.apply_text(cluster, spaced).problems
    assert problem.message == 'strict decoding error: unknown field "spec.startingDeadlineSecond"'
    assert problem.hint == 'did you mean "startingDeadlineSeconds"?'
    assert not ApiObject.objects.filter(cluster=cluster, kind="CronJob").exists()


def test_the_seeds_cronjob_corrected_starts_a_job_at_12_15_and_notes_its_success(cluster, clock):
    text = seed_manifest("CronJob").replace("\tstartingDeadlineSecond: 15 #",
                                            "  startingDeadlineSeconds: 15")
    assert apply.apply_text(cluster, text).ok
    until(clock, "12:14:59", step=60)
    cronjob = cronjob_named(cluster, SEED_NAME)
    assert not jobs_of(cluster, cronjob) and cronjob["status"] == {}
    clock.tick(1)
    cronjob = cronjob_named(cluster, SEED_NAME)
    job, = jobs_of(cluster, cronjob)
    meta = job["metadata"]
    assert meta["name"] == f"{SEED_NAME}-{minutes('12:15')}" == f"{SEED_NAME}-29454495"
    assert meta["creationTimestamp"] == "2026-01-01T12:15:00Z"
    assert meta["annotations"] == {"batch.kubernetes.io/cronjob-scheduled-timestamp":
                                   "2026-01-01T12:15:00Z"}
    assert meta["ownerReferences"] == [{
        "apiVersion": "batch/v1", "kind": "CronJob", "name": SEED_NAME,
        "uid": cronjob["metadata"]["uid"], "controller": True, "blockOwnerDeletion": True}]
    assert job["spec"]["template"]["metadata"]["labels"]["app"] == "periodic-batch-job"
    assert cronjob["status"] == {
        "active": [{"kind": "Job", "namespace": "default", "name": meta["name"],
                    "uid": meta["uid"], "apiVersion": "batch/v1",
                    "resourceVersion": cronjob["status"]["active"][0]["resourceVersion"]}],
        "lastScheduleTime": "2026-01-01T12:15:00Z"}
    assert events_of(cluster, cronjob) == [("Normal", "SuccessfulCreate",
                                           f"Created job {meta['name']}")]
    # The same tick the Job got its pod, scheduled and starting.
    pod, = ApiObject.objects.filter(cluster=cluster, kind="Pod", owner_uid=meta["uid"])
    assert pod.node_name
    until(clock, "12:15:03")
    until(clock, "12:17:00", step=10)
    until(clock, "12:17:05")          # 120 s of work from 12:15:02; Complete at 12:17:03
    cronjob = cronjob_named(cluster, SEED_NAME)
    assert cronjob["status"] == {"lastScheduleTime": "2026-01-01T12:15:00Z",
                                 "lastSuccessfulTime": "2026-01-01T12:17:03Z"}
    assert events_of(cluster, cronjob)[-1] == (
        "Normal", "SawCompletedJob", f"Saw completed job: {meta['name']}, status: Complete")


# --- when it fires -----------------------------------------------------------------------------

def test_every_fifteen_minutes_fires_at_15_30_45_and_00_named_by_the_minute(cluster, clock):
    cronjob = create(cluster, make_cronjob(schedule="*/15 * * * *"))
    # Created at 12:00:00: the first start is the first time strictly after that.
    clock.run(3600, step=60)
    jobs = jobs_of(cluster, cronjob)
    assert names(jobs) == [f"tick-{minutes(t)}" for t in ("12:15", "12:30", "12:45", "13:00")]
    assert [j["metadata"]["creationTimestamp"][11:] for j in jobs] == [
        "12:15:00Z", "12:30:00Z", "12:45:00Z", "13:00:00Z"]
    assert cronjob_named(cluster)["status"]["lastScheduleTime"] == "2026-01-01T13:00:00Z"


def test_the_time_zone_field_moves_the_schedule_to_that_zone(cluster, clock):
    seoul = create(cluster, make_cronjob("seoul", "30 21 * * *", timeZone="Asia/Seoul"))
    utc = create(cluster, make_cronjob("utc", "30 21 * * *"))   # no zone: UTC in kubelab
    assert cronjob_controller.next_schedule_time(seoul, clock.now) == moment("12:30")
    assert cronjob_controller.next_schedule_time(utc, clock.now) == moment("21:30")
    until(clock, "12:30:00", step=60)
    job, = jobs_of(cluster, seoul)
    assert job["metadata"]["name"] == f"seoul-{minutes('12:30')}"
    assert job["metadata"]["annotations"]["batch.kubernetes.io/cronjob-scheduled-timestamp"] == \
        "2026-01-01T21:30:00+09:00"
    assert not jobs_of(cluster, utc)


def test_a_start_missed_while_the_controller_was_away_is_made_up_once(cluster, clock):
    cronjob = create(cluster, make_cronjob())
    clock.tick(50 * 60)            # 12:50: 12:15, 12:30 and 12:45 all passed unseen
    job, = jobs_of(cluster, cronjob)
    # Only the most recent missed start runs, late, under its own scheduled name.
    assert job["metadata"]["name"] == f"tick-{minutes('12:45')}"
    assert job["metadata"]["annotations"]["batch.kubernetes.io/cronjob-scheduled-timestamp"] == \
        "2026-01-01T12:45:00Z"
    assert job["metadata"]["creationTimestamp"] == "2026-01-01T12:50:00Z"


def test_a_start_missed_by_more_than_starting_deadline_seconds_is_skipped(cluster, clock):
    cronjob = create(cluster, make_cronjob(startingDeadlineSeconds=15))
    clock.tick(10 * 60)
    clock.tick(10 * 60)            # 12:20: the 12:15 start is 5 min late, past its 15 s
    assert not jobs_of(cluster, cronjob)
    # 1.32 skips it silently: its MissSchedule check comes after the deadline already left the
    # start out (kubernetes/kubernetes#101148), so no event says so.
    assert events_of(cluster, cronjob) == []
    assert cronjob_named(cluster)["status"] == {}
    until(clock, "12:30:00", step=60)
    assert names(jobs_of(cluster, cronjob)) == [f"tick-{minutes('12:30')}"]


def test_more_than_100_missed_starts_are_reported_and_the_latest_still_runs(cluster, clock):
    cronjob = create(cluster, make_cronjob(schedule="* * * * *"))
    clock.tick(2 * 3600)           # 120 one-minute starts missed
    assert names(jobs_of(cluster, cronjob)) == [f"tick-{minutes('14:00')}"]
    assert events_of(cluster, cronjob, "TooManyMissedTimes") == [(
        "Warning", "TooManyMissedTimes", "too many missed start times. Set or decrease "
        ".spec.startingDeadlineSeconds or check clock skew")]


def test_a_restarted_tick_does_not_start_the_job_twice(cluster, clock):
    cronjob = create(cluster, make_cronjob())
    until(clock, "12:15:00", step=60)
    cronjob_controller.reconcile(cluster, clock.now)      # a second worker, same moment
    assert len(jobs_of(cluster, cronjob)) == 1
    # A pass that created the Job but lost its status write: the next one adopts the Job.
    written = cronjob_named(cluster)
    store.update(cluster, {**written, "status": {}}, subresource="status")
    clock.tick(1)
    job, = jobs_of(cluster, cronjob)
    status = cronjob_named(cluster)["status"]
    assert status["lastScheduleTime"] == "2026-01-01T12:15:00Z"
    assert [ref["uid"] for ref in status["active"]] == [job["metadata"]["uid"]]
    assert len(events_of(cluster, cronjob, "SuccessfulCreate")) == 1


# --- concurrency policy ------------------------------------------------------------------------

def test_forbid_skips_starts_while_a_job_runs_then_starts_the_latest_late(cluster, clock):
    # luksa/batch-job works 120 s; the schedule asks for a Job every minute.
    cronjob = create(cluster, make_cronjob(schedule="* * * * *", image="luksa/batch-job",
                                           restart_policy="OnFailure",
                                           concurrencyPolicy="Forbid"))
    until(clock, "12:03:03")
    assert names(jobs_of(cluster, cronjob)) == [f"tick-{minutes('12:01')}"]
    refused = events_of(cluster, cronjob, "JobAlreadyActive")
    assert refused == [("Normal", "JobAlreadyActive", "Not starting job because prior "
                        "execution is running and concurrency policy is Forbid")]
    event, = ApiObject.objects.filter(cluster=cluster, kind="Event",
                                      body__reason="JobAlreadyActive")
    assert event.body["count"] == 2                      # at 12:02 and at 12:03
    clock.tick(1)   # 12:03:04: the first Job has finished, the 12:03 start is still due
    jobs = jobs_of(cluster, cronjob)
    assert names(jobs) == [f"tick-{minutes('12:01')}", f"tick-{minutes('12:03')}"]
    assert jobs[1]["metadata"]["creationTimestamp"] == "2026-01-01T12:03:04Z"


def test_replace_deletes_the_running_job_for_the_new_one(cluster, clock):
    cronjob = create(cluster, make_cronjob(schedule="* * * * *", image="luksa/batch-job",
                                           restart_policy="OnFailure",
                                           concurrencyPolicy="Replace"))
    until(clock, "12:02:00")
    first, second = f"tick-{minutes('12:01')}", f"tick-{minutes('12:02')}"
    assert names(jobs_of(cluster, cronjob)) == [second]
    assert [ref["name"] for ref in cronjob_named(cluster)["status"]["active"]] == [second]
    assert [e[1:] for e in events_of(cluster, cronjob)] == [
        ("SuccessfulCreate", f"Created job {first}"), ("SuccessfulDelete", f"Deleted job {first}"),
        ("SuccessfulCreate", f"Created job {second}")]
    clock.run(40)          # the replaced Job's pod stops (30 s grace) and goes
    pods = ApiObject.objects.filter(cluster=cluster, kind="Pod", name__startswith=first)
    assert not pods.exists()


def test_allow_lets_jobs_overlap(cluster, clock):
    cronjob = create(cluster, make_cronjob(schedule="* * * * *", image="luksa/batch-job",
                                           restart_policy="OnFailure"))
    until(clock, "12:02:30")
    assert len(cronjob_named(cluster)["status"]["active"]) == 2
    assert len(jobs_of(cluster, cronjob)) == 2


# --- suspend -----------------------------------------------------------------------------------

def test_a_suspended_cronjob_starts_nothing_and_has_no_next_time(cluster, clock):
    cronjob = create(cluster, make_cronjob(suspend=True))
    assert cronjob_controller.next_schedule_time(cronjob, clock.now) is None
    clock.run(20 * 60, step=60)
    assert not jobs_of(cluster, cronjob)
    # Resumed at 12:20 with no starting deadline: the 12:15 start is made up at once.
    cronjob = cronjob_named(cluster)
    cronjob["spec"]["suspend"] = False
    store.update(cluster, cronjob)
    clock.tick(1)
    assert names(jobs_of(cluster, cronjob)) == [f"tick-{minutes('12:15')}"]
    assert cronjob_controller.next_schedule_time(cronjob_named(cluster), clock.now) == \
        moment("12:30")


# --- history limits ----------------------------------------------------------------------------

def test_history_limits_keep_the_newest_finished_jobs(cluster, clock):
    ok = create(cluster, make_cronjob("ok", "* * * * *", successfulJobsHistoryLimit=2))
    bad = create(cluster, make_cronjob("bad", "* * * * *", command="exit 1",
                                       failedJobsHistoryLimit=1, job_spec={"backoffLimit": 0}))
    until(clock, "12:06:30", step=5)
    assert names(jobs_of(cluster, ok)) == [f"ok-{minutes('12:05')}", f"ok-{minutes('12:06')}"]
    assert names(jobs_of(cluster, bad)) == [f"bad-{minutes('12:06')}"]
    deleted = [e[2] for e in events_of(cluster, ok, "SuccessfulDelete")]
    assert deleted == [f"Deleted job ok-{minutes(f'12:0{m}')}" for m in (1, 2, 3, 4)]
    # The deleted Jobs' pods went with them (background propagation).
    owners = {row.owner_uid for row in ApiObject.objects.filter(cluster=cluster, kind="Pod")}
    assert owners <= {j["metadata"]["uid"] for j in jobs_of(cluster, ok) + jobs_of(cluster, bad)}
    status = cronjob_named(cluster, "ok")["status"]
    assert status["lastSuccessfulTime"] == "2026-01-01T12:06:10Z"   # 5 s ticks: pod done 12:06:05
    assert "lastSuccessfulTime" not in cronjob_named(cluster, "bad")["status"]


# --- odd cases, the board's countdown, cost ----------------------------------------------------

def test_a_job_made_by_hand_from_the_cronjob_is_reported_once(cluster, clock):
    cronjob = create(cluster, make_cronjob())
    manual = {"apiVersion": "batch/v1", "kind": "Job",
              "metadata": {"name": "tick-manual", "ownerReferences": [{
                  "apiVersion": "batch/v1", "kind": "CronJob", "name": "tick",
                  "uid": cronjob["metadata"]["uid"], "controller": True}]},
              "spec": cronjob["spec"]["jobTemplate"]["spec"]}
    create(cluster, {**manual, "spec": {**manual["spec"], "template": {
        **manual["spec"]["template"], "spec": {**manual["spec"]["template"]["spec"],
                                               "containers": [{"name": "main",
                                                               "image": "luksa/batch-job"}]}}}})
    clock.run(5)
    assert events_of(cluster, cronjob) == [(
        "Warning", "UnexpectedJob",
        "Saw a job that the controller did not create or forgot: tick-manual")]


def test_next_schedule_time_for_the_board():
    now = moment("12:07")
    cronjob = make_cronjob()
    cronjob["metadata"]["creationTimestamp"] = "2026-01-01T12:00:00Z"
    assert cronjob_controller.next_schedule_time(cronjob, now) == moment("12:15")
    cronjob["status"] = {"lastScheduleTime": "2026-01-01T12:15:00Z"}
    assert cronjob_controller.next_schedule_time(cronjob, moment("12:20")) == moment("12:30")
    # A start due but not yet made (Forbid waiting): the countdown is to the one after.
    assert cronjob_controller.next_schedule_time(cronjob, moment("12:31")) == moment("12:45")
    assert cronjob_controller.next_schedule_time({**cronjob, "spec": {
        **cronjob["spec"], "schedule": "nonsense"}}, now) is None
    with pytest.raises(CronError) as never:    # February 31st: parses, never comes
        cronjob_controller.next_schedule_time({**cronjob, "spec": {
            **cronjob["spec"], "schedule": "0 0 31 2 *"}}, now)
    assert str(never.value) == "time difference between two schedules is less than 1 second"


def test_a_pass_between_starts_reads_two_queries_and_writes_nothing(cluster, clock):
    create(cluster, make_cronjob())
    until(clock, "12:20:00", step=30)     # the 12:15 Job has come and gone
    now = clock.now
    with CaptureQueriesContext(connection) as queries:
        cronjob_controller.reconcile(cluster, now)
    sql = [q["sql"] for q in queries.captured_queries]
    assert len([s for s in sql if s.startswith("SELECT")]) == 2   # the CronJobs, their Jobs
    assert not [s for s in sql if s.startswith(("UPDATE", "INSERT", "DELETE"))]
