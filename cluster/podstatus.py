"""A pod's status as its kubelet reports it, computed from the runtime's containers. Pure.

`pod_status(pod, rows, now)` takes the pod, its runtime Container rows by name and the
simulated time, and returns the status to write: phase, conditions and one containerStatus per
container, with states, reasons and lastState worded as kubelet 1.32 words them.
"""

import functools

from cluster import containers, images
from cluster.models import Container

CONDITION_ORDER = ["PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady",
                   "PodScheduled"]
_RANK = {type_: i for i, type_ in enumerate(CONDITION_ORDER)}


def condition(type_, status, now, **extra):
    return {"type": type_, "status": status, "lastProbeTime": None, "lastTransitionTime": now,
            **extra}


def set_conditions(existing, updates):
    """Merge conditions by type, keeping lastTransitionTime when the status did not change."""
    by_type = {c["type"]: c for c in existing or []}
    for new in updates:
        old = by_type.get(new["type"])
        if old and old.get("status") == new["status"] and old.get("reason") == new.get("reason"):
            new = {**new, "lastTransitionTime": old.get("lastTransitionTime")}
        by_type[new["type"]] = new
    return sorted(by_type.values(), key=lambda c: _RANK.get(c["type"], 99))


def stamp(secs):
    # This runs for every container of every pod a kubelet pass computes a status for (each
    # probe): fields formatted directly cost a third of strftime's, with the same result.
    from cluster.runtime import moment

    m = moment(secs)
    return f"{m.year:04d}-{m.month:02d}-{m.day:02d}T{m.hour:02d}:{m.minute:02d}:{m.second:02d}Z"


# An image's ID is a hash of its name: the same few images, every probe.
image_id = functools.lru_cache(maxsize=256)(images.image_id)


def container_id(pod, row):
    return f"containerd://{pod['metadata']['uid'].replace('-', '')}{row.name[:8]}{row.restart_count:04d}"


def terminated(pod, row):
    data = row.data
    return {"exitCode": data.get("exitCode"), "reason": data.get("reason") or "Error",
            "startedAt": stamp(data["startedAt"]), "finishedAt": stamp(data["finishedAt"]),
            "containerID": container_id(pod, row)}


def container_status(pod, spec, row):
    """(containerStatus, (state, exit code, will restart) for the phase, ready)."""
    base = {"name": spec["name"], "image": spec["image"], "imageID": "",
            "restartCount": row.restart_count if row else 0, "started": False, "ready": False,
            "lastState": {}}
    if row is not None and row.data.get("last"):
        base["lastState"] = {"terminated": row.data["last"]}
    if row is None or row.state == Container.CREATING:
        return {**base, "state": {"waiting": {"reason": "ContainerCreating"}}}, \
            ("waiting", None, False), False
    if row.state == Container.WAITING:
        waiting = {"reason": row.data.get("waitingReason", "ErrImagePull")}
        if row.data.get("waitingMessage"):
            waiting["message"] = row.data["waitingMessage"]
        return {**base, "state": {"waiting": waiting}}, ("waiting", None, False), False
    base["imageID"] = image_id(spec["image"])
    base["containerID"] = container_id(pod, row)
    if row.state == Container.RUNNING:
        ready = bool(row.data.get("ready", True))
        return {**base, "ready": ready, "started": True,
                "state": {"running": {"startedAt": stamp(row.data["startedAt"])}}}, \
            ("running", None, False), ready
    # Exited: either waiting out a back-off before its restart, or done for good.
    if row.due_at is not None:
        waiting = {"reason": "CrashLoopBackOff", "message": row.data.get("waitingMessage", "")}
        return {**base, "lastState": {"terminated": terminated(pod, row)},
                "state": {"waiting": waiting}}, ("terminated", row.data.get("exitCode"), True), \
            False
    return {**base, "state": {"terminated": terminated(pod, row)}}, \
        ("terminated", row.data.get("exitCode"), False), False


def pod_status(pod, rows, now):
    """The status the kubelet writes for `pod` (rows: runtime Container rows by name)."""
    status = dict(pod.get("status") or {})
    specs = pod["spec"]["containers"]
    statuses, states, ready = [], [], []
    for spec in specs:
        cs, state, is_ready = container_status(pod, spec, rows.get(spec["name"]))
        statuses.append(cs)
        states.append(state)
        ready.append(is_ready)
    phase = containers.pod_phase(pod["spec"].get("restartPolicy", "Always"), states)
    status["phase"] = phase
    status["containerStatuses"] = statuses
    unready = [s["name"] for s, r in zip(specs, ready) if not r]
    if phase in ("Succeeded", "Failed"):
        readiness = [condition("Ready", "False", now, reason="PodCompleted"),
                     condition("ContainersReady", "False", now, reason="PodCompleted")]
    elif unready:
        message = f"containers with unready status: [{' '.join(unready)}]"
        readiness = [condition("Ready", "False", now, reason="ContainersNotReady", message=message),
                     condition("ContainersReady", "False", now, reason="ContainersNotReady",
                               message=message)]
    else:
        readiness = [condition("Ready", "True", now), condition("ContainersReady", "True", now)]
    status["conditions"] = set_conditions(status.get("conditions"), readiness)
    return status
