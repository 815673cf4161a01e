"""The CronJob controller: start a Job from spec.jobTemplate at each time spec.schedule names.

Kubernetes 1.32 pkg/controller/cronjob/cronjob_controllerv2.go (sync, syncCronJob,
cleanupFinishedJobs) and utils.go (mostRecentScheduleTime, getJobFromTemplate2). Kubernetes
requeues each CronJob for its next scheduled time; kubelab looks at every CronJob each tick and
reads what is due from the store alone (status.lastScheduleTime, else creationTimestamp), so a
restarted worker neither fires twice (the Job's name is the lock) nor misses a start. One pass:
1. Delete finished Jobs beyond the history limits, oldest first; drop finished and vanished
   Jobs from status.active; note the latest successful completion.
2. Unless suspended, find the most recent unmet scheduled time (cluster/cron.py) and start Job
   `<cronjob>-<minutes since epoch>` for it as concurrencyPolicy allows (Allow; Forbid skips
   while one runs; Replace deletes the running ones first).
3. Write status if it changed.
"""

from zoneinfo import ZoneInfo

from django.db import transaction

from cluster import cron, store
from cluster.controllers import owned
from cluster.errors import AlreadyExists, Conflict, NotFound
from cluster.kinds import get as get_kind
from cluster.models import ApiObject

COMPONENT = "cronjob-controller"
SCHEDULED = "batch.kubernetes.io/cronjob-scheduled-timestamp"   # CronJobsScheduledAnnotation
JOB = get_kind("Job", "batch")


def reconcile(cluster, now):
    """One pass over every CronJob: two queries (the CronJobs, then all their Jobs)."""
    cronjobs = list(ApiObject.objects.filter(cluster=cluster, kind="CronJob", group="batch"))
    if not cronjobs:
        return
    jobs = {}
    for row in ApiObject.objects.filter(cluster=cluster, kind="Job", group="batch",
                                        owner_uid__in=[str(r.uid) for r in cronjobs]):
        jobs.setdefault(row.owner_uid, []).append(row.body)
    for row in cronjobs:
        try:
            with transaction.atomic():   # one savepoint per CronJob: a stale one waits a tick
                sync(cluster, row, jobs.get(str(row.uid), []), now)
        except (Conflict, NotFound):
            continue


def sync(cluster, row, jobs, now):
    cronjob = row.body
    status = store.clone(cronjob.get("status") or {})
    cleanup_finished_jobs(cluster, cronjob, status, jobs, now)
    track_jobs(cluster, cronjob, status, jobs, now)
    if not cronjob["metadata"].get("deletionTimestamp") and not cronjob["spec"].get("suspend"):
        start_due_job(cluster, cronjob, status, now)
    if status != (cronjob.get("status") or {}):
        store.update(cluster, {**cronjob, "status": status}, subresource="status", now=now,
                     current=row)


def cleanup_finished_jobs(cluster, cronjob, status, jobs, now):
    """Keep the newest successfulJobsHistoryLimit Complete and failedJobsHistoryLimit Failed
    Jobs (by startTime, unstarted last, then name); delete the rest in the background."""
    spec = cronjob["spec"]
    for outcome, limit in (("Complete", spec.get("successfulJobsHistoryLimit")),
                           ("Failed", spec.get("failedJobsHistoryLimit"))):
        done = sorted((j for j in jobs if finished_as(j) == outcome),
                      key=lambda j: (not j["status"].get("startTime"),
                                     j["status"].get("startTime") or "", j["metadata"]["name"]))
        for job in done[:max(0, len(done) - limit)] if limit is not None else []:
            delete_job(cluster, cronjob, status, job, now)


def track_jobs(cluster, cronjob, status, jobs, now):
    """syncCronJob's bookkeeping over the Jobs this CronJob controls. (Kubernetes notes a Job
    leaving status.active and its success in two syncs a moment apart; here in one pass.)"""
    active = {ref["uid"]: ref for ref in status.get("active") or []}
    for job in jobs:
        meta, outcome = job["metadata"], finished_as(job)
        if meta["uid"] not in active and outcome is None:
            # e.g. `kubectl create job --from=cronjob/...`: Kubernetes says so on every sync.
            record_once(cluster, cronjob, "Warning", "UnexpectedJob",
                        f"Saw a job that the controller did not create or forgot: "
                        f"{meta['name']}", now)
        elif meta["uid"] in active and outcome is not None:
            del active[meta["uid"]]
            say(cluster, cronjob, "Normal", "SawCompletedJob",
                f"Saw completed job: {meta['name']}, status: {outcome}", now)
        completed = job["status"].get("completionTime")
        if outcome == "Complete" and completed and completed > (
                status.get("lastSuccessfulTime") or ""):
            status["lastSuccessfulTime"] = completed
    existing = {job["metadata"]["uid"] for job in jobs}
    for ref in [ref for uid, ref in active.items() if uid not in existing]:
        del active[ref["uid"]]
        say(cluster, cronjob, "Normal", "MissingJob", f"Active job went missing: {ref['name']}",
            now)
    set_active(status, list(active.values()))


def start_due_job(cluster, cronjob, status, now):
    """The scheduling half of syncCronJob: start the Job of the most recent unmet time."""
    spec, meta = cronjob["spec"], cronjob["metadata"]
    try:
        schedule = cron.parse(format_schedule(spec))
    except cron.CronError as exc:   # validation refuses these; a stored one stays quiet
        record_once(cluster, cronjob, "Warning", "UnparseableSchedule",
                    f'unparseable schedule: "{spec["schedule"]}" : {exc}', now)
        return
    earliest = store.parse_timestamp(status.get("lastScheduleTime") or meta["creationTimestamp"])
    try:
        # A start older than startingDeadlineSeconds is left out here, silently. (1.32 then
        # checks it again to record MissSchedule, which can no longer happen: kubernetes#101148.)
        scheduled, _missed, too_many = cron.most_recent_schedule_time(
            schedule, earliest, now, spec.get("startingDeadlineSeconds"))
    except cron.CronError as exc:   # "0 0 31 2 *": parses, never fires
        record_once(cluster, cronjob, "Warning", "InvalidSchedule",
                    f"invalid schedule: {spec['schedule']} : {exc}", now)
        return
    if scheduled is None:
        return
    if too_many:
        record_per_slot(cluster, cronjob, "Warning", "TooManyMissedTimes",
                        "too many missed start times. "
                        "Set or decrease .spec.startingDeadlineSeconds or check clock skew",
                        scheduled, now)
    name = job_name(cronjob, scheduled)
    active = status.get("active") or []
    if any(ref["name"] == name for ref in active) or \
            status.get("lastScheduleTime") == store.timestamp(scheduled):
        return   # already started
    policy = spec.get("concurrencyPolicy", "Allow")
    if policy == "Forbid" and active:
        # Not recorded as started: once the running Job ends, this start is still due (if
        # within startingDeadlineSeconds), and the controller starts it late.
        record_per_slot(cluster, cronjob, "Normal", "JobAlreadyActive",
                        "Not starting job because prior execution is running and concurrency "
                        "policy is Forbid", scheduled, now)
        return
    if policy == "Replace":
        for ref in list(active):
            try:
                job = store.get(cluster, JOB, ref["namespace"], ref["name"])
            except NotFound:
                continue
            delete_job(cluster, cronjob, status, job, now)
    try:
        job = owned.create_dependent(cluster, cronjob, job_from_template(cronjob, scheduled),
                                     component=COMPONENT, now=now, message="Created job {name}")
    except AlreadyExists:
        # Created by an earlier pass whose status write was lost: adopt it, start nothing.
        job = store.get(cluster, JOB, meta["namespace"], name)
        if (owned.controller_of(job) or {}).get("uid") != meta["uid"] or \
                any(ref["uid"] == job["metadata"]["uid"] for ref in status.get("active") or []):
            return
    set_active(status, (status.get("active") or []) + [object_reference(job)])
    status["lastScheduleTime"] = store.timestamp(scheduled)


def next_schedule_time(cronjob, now):
    """When the CronJob next fires, for the board's countdown (nextScheduleTimeDuration without
    its 100 ms margin; pure). None when suspended or unparseable; a schedule that parses but
    never fires ("0 0 31 2 *") raises cron.CronError, whose message says so."""
    spec = cronjob.get("spec") or {}
    if spec.get("suspend"):
        return None
    try:
        schedule = cron.parse(format_schedule(spec))
        earliest = store.parse_timestamp((cronjob.get("status") or {}).get("lastScheduleTime")
                                         or cronjob["metadata"]["creationTimestamp"])
    except (cron.CronError, KeyError, ValueError):
        return None
    recent, _missed, _too_many = cron.most_recent_schedule_time(schedule, earliest, now)
    return schedule.next(recent or earliest)


def format_schedule(spec):
    """formatSchedule: spec.timeZone becomes robfig's TZ= prefix. Without it, Kubernetes uses
    kube-controller-manager's local time zone; kubelab's controller manager runs in UTC."""
    schedule = spec.get("schedule") or ""
    if spec.get("timeZone") and "TZ" not in schedule:
        return f"TZ={spec['timeZone']} {schedule}"
    return schedule


def job_name(cronjob, scheduled):
    """getJobName: the scheduled time in minutes since the epoch makes the name a lock."""
    return f"{cronjob['metadata']['name']}-{int(scheduled.timestamp()) // 60}"


def job_from_template(cronjob, scheduled):
    """getJobFromTemplate2: the template's labels and annotations, the scheduled time (in the
    CronJob's zone, RFC 3339) as an annotation, the CronJob as controller."""
    template = cronjob["spec"]["jobTemplate"]
    template_meta = template.get("metadata") or {}
    zone = cronjob["spec"].get("timeZone")
    local = scheduled.astimezone(ZoneInfo(zone) if zone else cron.UTC).isoformat()
    # Go's time.RFC3339 writes a zero offset as "Z" ("2026-01-01T12:15:00Z").
    local = local[:-6] + "Z" if local.endswith("+00:00") else local
    annotations = {**(template_meta.get("annotations") or {}), SCHEDULED: local}
    metadata = {"name": job_name(cronjob, scheduled),
                "namespace": cronjob["metadata"].get("namespace") or "default",
                "annotations": annotations,
                "ownerReferences": [owned.owner_reference(cronjob)]}
    if template_meta.get("labels"):
        metadata["labels"] = dict(template_meta["labels"])
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": metadata,
            "spec": store.clone(template.get("spec") or {})}


def delete_job(cluster, cronjob, status, job, now):
    """deleteJob: the Job goes with background propagation, and out of status.active."""
    owned.delete_dependent(cluster, cronjob, job, component=COMPONENT, now=now,
                           message="Deleted job {name}")
    set_active(status, [ref for ref in status.get("active") or []
                        if ref["uid"] != job["metadata"]["uid"]])


def object_reference(job):
    meta = job["metadata"]
    return {"kind": "Job", "namespace": meta["namespace"], "name": meta["name"],
            "uid": meta["uid"], "apiVersion": "batch/v1",
            "resourceVersion": meta.get("resourceVersion", "")}


def set_active(status, active):
    """status.active is omitted when empty, and listed first, as the API serves it."""
    rest = {k: v for k, v in status.items() if k != "active"}
    status.clear()
    status.update({"active": active, **rest} if active else rest)


def finished_as(job):
    """"Complete" or "Failed" once the Job has finished (IsJobFinished), else None."""
    for c in (job.get("status") or {}).get("conditions") or []:
        if c.get("type") in ("Complete", "Failed") and c.get("status") == "True":
            return c["type"]
    return None


def say(cluster, cronjob, type_, reason, message, now):
    store.record_event(cluster, cronjob, type_, reason, message, component=COMPONENT, now=now)


def record_once(cluster, cronjob, type_, reason, message, now):
    """A warning Kubernetes repeats on every sync of an unchanged state: said once here."""
    if not _events(cluster, cronjob, reason).filter(body__message=message).exists():
        say(cluster, cronjob, type_, reason, message, now)


def record_per_slot(cluster, cronjob, type_, reason, message, slot, now):
    """An event Kubernetes gives at each scheduled time it syncs for (its requeue): once per
    slot here, counted up on one Event as the event correlator does."""
    latest = _events(cluster, cronjob, reason).order_by("-id").values_list("body", flat=True)
    latest = latest.first()
    if latest is None or store.parse_timestamp(latest["lastTimestamp"]) < slot:
        store.record_event(cluster, cronjob, type_, reason, message, component=COMPONENT,
                           aggregate=True, now=now)


def _events(cluster, cronjob, reason):
    return ApiObject.objects.filter(cluster=cluster, kind="Event",
                                    owner_uid=cronjob["metadata"]["uid"], body__reason=reason)
