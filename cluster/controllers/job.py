"""The Job controller: run a pod template to completion `completions` times, at most
`parallelism` pods at once, retrying failed pods after a growing back-off until `backoffLimit`.

Kubernetes 1.32 pkg/controller/job/job_controller.go (syncJob, manageJob,
trackJobStatusAndRemoveFinalizers, enactJobFinished) and backoff_utils.go. One pass per Job:
1. Count the pods not yet counted. Each pod is created with the tracking finalizer; a finished
   pod still carrying it is added to status.succeeded or status.failed and loses the finalizer
   in the same transaction (so uncountedTerminatedPods, Kubernetes' stash between those two
   API calls, is always empty here).
2. Decide: BackoffLimitExceeded, DeadlineExceeded, or completions reached (`plan`, pure).
3. Act: a failed Job deletes its active pods; otherwise keep min(parallelism, remaining) pods
   active, replacing failed ones after the back-off. Then write status if it changed: the
   interim condition (FailureTarget / SuccessCriteriaMet) at once, the terminal one (Failed /
   Complete) once no pod is terminating, as 1.31+ does.
Only NonIndexed completion is modelled (Indexed Jobs are counted the same way, unindexed).
"""

import datetime as dt
from dataclasses import dataclass, field

from django.db import transaction

from cluster import store
from cluster.controllers import owned
from cluster.errors import Conflict, Forbidden, NotFound
from cluster.models import ApiObject

COMPONENT = "job-controller"
TRACKING = "batch.kubernetes.io/job-tracking"     # batch.JobTrackingFinalizer
# job_controller.go DefaultJobPodFailureBackOff / MaxJobPodFailureBackOff. (The docs still say
# "capped at six minutes": that was MaxJobBackOff before 1.28; the 1.32 code caps at 10 min.)
BACKOFF, MAX_BACKOFF = 10, 600
TERMINAL = ("Succeeded", "Failed")
MANAGER = "kubernetes.io/job-controller"   # spec.managedBy when unset


@dataclass
class Plan:
    """What one pass does to one Job: pods whose finalizer comes off (counted, or released
    before deletion), pods to delete, pods to create, the status, the Job's events."""

    status: dict
    untrack: list = field(default_factory=list)
    delete: list = field(default_factory=list)
    create: int = 0
    events: list = field(default_factory=list)


def reconcile(cluster, now):
    """Sync every unfinished Job, then release orphaned pods: three queries (the Jobs, all
    their pods, the pods being deleted) and writes only where something changed."""
    unfinished = [row for row in ApiObject.objects.filter(cluster=cluster, kind="Job",
                                                          group="batch") if not finished(row.body)]
    jobs = [row for row in unfinished if (row.spec.get("managedBy") or MANAGER) == MANAGER]
    pods = {}
    if jobs:
        for pod in ApiObject.objects.filter(cluster=cluster, kind="Pod", group="",
                                            owner_uid__in=[str(row.uid) for row in jobs]):
            pods.setdefault(pod.owner_uid, []).append(pod)
    for row in jobs:
        try:
            with transaction.atomic():   # one savepoint per Job: a stale one waits a tick
                sync(cluster, row, pods.get(str(row.uid), []), now)
        except (Conflict, NotFound):
            continue
    release_orphans(cluster, {str(row.uid) for row in unfinished}, now)


def sync(cluster, row, pod_rows, now):
    rows = {row_.body["metadata"]["uid"]: row_ for row_ in pod_rows}
    result = plan(row.body, [r.body for r in pod_rows], now)
    job = row.body
    for uid in result.untrack:
        untrack(cluster, rows[uid], now)
    for uid in result.delete:
        owned.delete_dependent(cluster, job, rows[uid].body, component=COMPONENT, now=now)
    for _ in range(result.create):
        manifest = owned.pod_from_template(job, job["spec"].get("template"))
        manifest["metadata"].setdefault("finalizers", []).append(TRACKING)
        try:
            owned.create_dependent(cluster, job, manifest, component=COMPONENT, now=now)
        except Forbidden as exc:   # the namespace is terminating: said, tried again later
            store.record_event(cluster, job, "Warning", "FailedCreate",
                               f"Error creating: {exc.message}", component=COMPONENT,
                               aggregate=True, now=now)
            break
    if result.status != (job.get("status") or {}):
        job = store.update(cluster, {**job, "status": result.status}, subresource="status",
                           now=now, current=row).object
    for type_, reason, message in result.events:
        store.record_event(cluster, job, type_, reason, message, component=COMPONENT, now=now)


def plan(job, pods, now):
    """The pass for one Job as data (pure): syncJob's decisions over the Job and its pods."""
    spec, old = job["spec"], job.get("status") or {}
    stamp = store.timestamp(now)
    conditions = [dict(c) for c in old.get("conditions") or []]
    suspended = bool(spec.get("suspend"))
    tracked = [p for p in pods if TRACKING in (p["metadata"].get("finalizers") or [])]
    active = [p for p in pods if owned.is_active(p)]
    terminating = sum(1 for p in pods if p["metadata"].get("deletionTimestamp")
                      and phase(p) not in TERMINAL)
    new_ok = [p for p in tracked if phase(p) == "Succeeded"]
    new_failed = [p for p in tracked if is_failed(p, spec)]
    succeeded = old.get("succeeded", 0) + len(new_ok)
    start = old.get("startTime") or (None if suspended else stamp)
    result = Plan(status={})
    # An interim condition written earlier: the Job is already on its way to Failed/Complete.
    done = next((c for c in conditions if c["type"] in ("FailureTarget", "SuccessCriteriaMet")
                 and c["status"] == "True"), None)
    if done is None:
        failed_so_far = old.get("failed", 0) + len(new_failed)
        if failed_so_far > spec.get("backoffLimit", 6) or past_backoff_limit_on_failure(spec, pods):
            done = _condition("FailureTarget", "BackoffLimitExceeded",
                              "Job has reached the specified backoff limit", stamp)
        elif past_active_deadline(spec, start, suspended, now):
            done = _condition("FailureTarget", "DeadlineExceeded",
                              "Job was active longer than specified deadline", stamp)
    deleting = bool(job["metadata"].get("deletionTimestamp"))
    if done is not None:   # deleteActivePods: a finishing Job stops what still runs
        result.delete = [uid(p) for p in active]
        if done["type"] == "FailureTarget":   # and every pod not succeeded counts as failed
            new_failed = [p for p in tracked if phase(p) != "Succeeded"]
    elif not deleting:
        result.delete, result.create = manage(job, pods, active, terminating, succeeded, now)
        still = len(active) - len(result.delete) + result.create
        completions = spec.get("completions")
        if still == 0 and (succeeded > 0 if completions is None else succeeded >= completions):
            done = _condition("SuccessCriteriaMet", "CompletionsReached",
                              "Reached expected number of succeeded pods", stamp)
        elif _set_suspended(conditions, suspended, stamp, result.events):
            start = start if suspended else stamp   # resuming restarts the deadline's clock
    # canRemoveFinalizer: all pods of a finishing or deleted Job, else the counted and the
    # deleted ones (deleteJobPods releases a pod before deleting it).
    release = tracked if deleting or done is not None else \
        new_ok + new_failed + [p for p in tracked if uid(p) in result.delete]
    result.untrack = list(dict.fromkeys(uid(p) for p in release))
    deleted = [p for p in active if uid(p) in result.delete]
    terminating += len(deleted)
    completion = old.get("completionTime")
    if done is not None:   # the interim condition now, the terminal one once no pod terminates
        final = "Failed" if done["type"] == "FailureTarget" else "Complete"
        if done not in conditions:
            conditions.append(done)
        if terminating == 0:
            conditions.append({**done, "type": final, "lastProbeTime": stamp,
                               "lastTransitionTime": stamp})
            completion = stamp if final == "Complete" else completion
            result.events += finish_events(final, done, spec, succeeded)
    counters = {"conditions": conditions, "startTime": start, "completionTime": completion,
                "active": len(active) - len(deleted) + result.create, "succeeded": succeeded,
                "failed": old.get("failed", 0) + len(new_failed)}
    # As the API serves JobStatus: zero counters omitted, the pointers ready and terminating
    # kept, uncountedTerminatedPods empty (see 1. above).
    result.status = {**{k: v for k, v in counters.items() if v}, "terminating": terminating,
                     "uncountedTerminatedPods": {},
                     "ready": sum(1 for p in active if owned.is_ready(p) and p not in deleted)}
    return result


def manage(job, pods, active, terminating, succeeded, now):
    """manageJob: (uids to delete, number to create)."""
    spec = job["spec"]
    if spec.get("suspend"):
        return [uid(p) for p in active], 0
    parallelism, completions = spec.get("parallelism", 1), spec.get("completions")
    if completions is None:   # a work queue: once one pod succeeded, let the others finish
        want = len(active) if succeeded else parallelism
    else:
        want = max(0, min(completions - succeeded, parallelism))
    if len(active) > want:
        # controller.ActivePods: unscheduled, pending, not ready, restarted, newer go first.
        ranked = sorted(active, key=lambda p: (bool(p["spec"].get("nodeName")),
                                               phase(p) == "Running", owned.is_ready(p),
                                               -owned.restarts(p)))
        return [uid(p) for p in ranked[:len(active) - want]], 0
    waiting = terminating if only_replace_failed(spec) else 0
    diff = want - waiting - len(active)
    if diff <= 0 or backoff_remaining(pods, spec, now) > 0:
        return [], 0
    return [], diff


def backoff_remaining(pods, spec, now):
    """Seconds until a replacement may be created (backoff_utils.go getRemainingTime): 10 s
    after the first failure since the last success, doubling to 10 min. Kubernetes keeps the
    count in memory; here it is read from the finished pods, which stay."""
    ends = sorted((finish_time(p), phase(p) == "Succeeded") for p in pods
                  if phase(p) == "Succeeded" or is_failed(p, spec))
    failures, last = 0, None
    for end, ok in ends:
        failures, last = (0, None) if ok else (failures + 1, end)
    if not failures:
        return 0
    delay = min(BACKOFF * 2 ** (failures - 1), MAX_BACKOFF)
    return max(0.0, delay - (now - last).total_seconds())


def finish_time(pod):
    """getFinishedTime: the last container's end, else Ready=False, else deletion, else
    creation."""
    status = pod.get("status") or {}
    ends = [(cs.get("state") or {}).get("terminated", {}).get("finishedAt")
            for cs in status.get("containerStatuses") or []]
    if ends and all(ends):
        return max(store.parse_timestamp(e) for e in ends)
    for c in status.get("conditions") or []:
        if c.get("type") == "Ready" and c.get("status") == "False" and c.get("lastTransitionTime"):
            return store.parse_timestamp(c["lastTransitionTime"])
    meta = pod["metadata"]
    if meta.get("deletionTimestamp"):
        return store.parse_timestamp(meta["deletionTimestamp"]) - \
            dt.timedelta(seconds=meta.get("deletionGracePeriodSeconds") or 0)
    return store.parse_timestamp(meta["creationTimestamp"])


def past_backoff_limit_on_failure(spec, pods):
    """OnFailure restarts in place, so the limit counts restarts of running and pending pods."""
    if (spec["template"].get("spec") or {}).get("restartPolicy") != "OnFailure":
        return False
    restarts = sum(owned.restarts(p) for p in pods if phase(p) in ("Running", "Pending"))
    limit = spec.get("backoffLimit", 6)
    return restarts > 0 if limit == 0 else restarts >= limit


def past_active_deadline(spec, start, suspended, now):
    deadline = spec.get("activeDeadlineSeconds")
    if deadline is None or start is None or suspended:
        return False
    return (now - store.parse_timestamp(start)).total_seconds() >= deadline


def is_failed(pod, spec):
    """isPodFailed: Failed, or (unless only failed pods are replaced) deleted before success."""
    if phase(pod) == "Failed":
        return True
    if only_replace_failed(spec):
        return False
    return bool(pod["metadata"].get("deletionTimestamp")) and phase(pod) != "Succeeded"


def only_replace_failed(spec):
    return spec.get("podReplacementPolicy") == "Failed" or spec.get("podFailurePolicy") is not None


def finish_events(final, condition, spec, succeeded):
    if final == "Failed":
        return [("Warning", condition["reason"], condition["message"])]
    events = [("Normal", "Completed", "Job completed")]
    if spec.get("completions") is not None and succeeded > spec["completions"]:
        events.insert(0, ("Warning", "TooManySucceededPods",
                          "Too many succeeded pods running after completion count reached"))
    return events


def _set_suspended(conditions, suspended, stamp, events):
    """ensureJobConditionStatus for Suspended; True when it changed (with its event)."""
    current = next((c for c in conditions if c["type"] == "Suspended"), None)
    status = "True" if suspended else "False"
    if (current is None and not suspended) or (current and current["status"] == status):
        return False
    reason, message = ("JobSuspended", "Job suspended") if suspended else \
        ("JobResumed", "Job resumed")
    new = _condition("Suspended", reason, message, stamp, status)
    if current is None:
        conditions.append(new)
    else:
        current.update(new)
    events.append(("Normal", "Suspended" if suspended else "Resumed", message))
    return True


def _condition(type_, reason, message, stamp, status="True"):
    return {"type": type_, "status": status, "lastProbeTime": stamp,
            "lastTransitionTime": stamp, "reason": reason, "message": message}


def release_orphans(cluster, live_jobs, now):
    """syncOrphanPod: a pod being deleted whose Job is gone or finished (or that has no
    controller) would wait for the tracking finalizer forever: take it off."""
    # deleting__in=[True]: Django writes deleting=True on SQLite as a bare column test that
    # no index serves (14 ms per idle tick at 10,000 pods, instead of 0.5).
    for row in ApiObject.objects.filter(cluster=cluster, kind="Pod", group="",
                                        deleting__in=[True]):
        meta = row.body["metadata"]
        controller = owned.controller_of(row.body)
        if TRACKING not in (meta.get("finalizers") or []) or row.owner_uid in live_jobs or \
                (controller and controller.get("kind") != "Job"):
            continue
        try:
            untrack(cluster, row, now)
        except (Conflict, NotFound):
            continue


def untrack(cluster, row, now):
    """The pod is counted (or needs no counting): its tracking finalizer comes off."""
    pod = store.clone(row.body)
    pod["metadata"]["finalizers"] = [f for f in pod["metadata"].get("finalizers") or []
                                     if f != TRACKING]
    store.update(cluster, pod, now=now, current=row)


def finished(job):
    """IsJobFinished: a Complete or Failed condition that is True."""
    return any(c.get("type") in ("Complete", "Failed") and c.get("status") == "True"
               for c in (job.get("status") or {}).get("conditions") or [])


def phase(pod):
    return (pod.get("status") or {}).get("phase")


def uid(pod):
    return pod["metadata"]["uid"]
