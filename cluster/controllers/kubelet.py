"""The kubelets: run the containers of the pods bound to each node, and finish them.

One pass:
1. Admit each newly bound pod: pod IP from its node's CIDR, host IP, conditions; its
   containers are created (the image pulls for the cluster's container start time).
2. Move on every container whose runtime record is due (`Container.due_at <= now`): a pull
   done or failed, a program waking or exiting, a back-off ended. Restarts follow the pod's
   restartPolicy and kubelet's back-off (cluster.containers); then the pod's status is written.
3. Stop the containers of pods being deleted, and remove each pod when its grace period ends.
Work is in proportion to what is due, not to the number of pods.
"""

import ipaddress
import logging
import math
from collections import defaultdict

from django.db import transaction
from django.db.models import Q

from cluster import containers, images, podstatus, probes, runtime, store
from cluster.errors import ApiError, Conflict, NotFound
from cluster.kinds import node as node_kind
from cluster.models import ApiObject, Container

log = logging.getLogger(__name__)

COMPONENT = "kubelet"
# Transitions one container may make in one pass (pull, start, exit, restart...): bounded so a
# crashing container cannot spin a tick.
MAX_STEPS = 8
IMAGE_PULL_BACKOFF = containers.INITIAL_BACKOFF


def node_ip(node):
    for address in (node.get("status") or {}).get("addresses") or []:
        if address.get("type") == "InternalIP":
            return address["address"]
    return ""


def free_ip(node, used):
    cidr = (node.get("spec") or {}).get("podCIDR")
    if not cidr:
        return None
    for ip in ipaddress.ip_network(cidr).hosts():
        if str(ip) not in used and int(ip) & 0xFF != 1:   # .1 is the node's bridge
            used.add(str(ip))
            return str(ip)
    return None


def reconcile(cluster, now):
    """One pass over the pods whose kubelet has something to do."""
    t = runtime.seconds(now)
    nodes = dict(ApiObject.objects.filter(cluster=cluster).nodes().values_list("name", "body"))
    # A powered-off node's kubelet does nothing: its pods stay as they were, even Terminating.
    working = {name: node for name, node in nodes.items()
               if node_kind.is_ready(node) and not node_kind.powered_off(node)}
    rebooted = [name for name, node in working.items() if boot_id(node) != synced_boot(node)]
    new = list(ApiObject.objects.filter(cluster=cluster).pods().exclude(node_name="")
               .filter(phase="Pending", deleting=False).order_by("id"))
    due_uids = set(Container.objects.filter(cluster=cluster, due_at__lte=now)
                   .values_list("pod_uid", flat=True))
    terminating = list(ApiObject.objects.filter(cluster=cluster).pods().filter(deleting=True)
                       .filter(node_name__in=list(working)))
    if t >= _last_sweep.get(cluster.pk, -math.inf) + SWEEP_EVERY or t < _last_sweep[cluster.pk]:
        forget_vanished(cluster)
        _last_sweep[cluster.pk] = t
    if not new and not due_uids and not terminating and not rebooted:
        return
    visit = {row.uid: row for row in new}
    if due_uids:
        for row in ApiObject.objects.filter(cluster=cluster, uid__in=due_uids, deleting=False):
            visit.setdefault(row.uid, row)
    if rebooted:
        # After a reboot the kubelet syncs every pod it has: their containers are gone.
        for row in ApiObject.objects.filter(cluster=cluster).pods().filter(
                node_name__in=rebooted, deleting=False).exclude(phase__in=("Succeeded", "Failed")):
            visit.setdefault(row.uid, row)
    used_ips = _used_ips(cluster, visit.values())
    # Pods admitted earlier may have containers still pulling (not due): load every visited
    # pod's containers, in one query.
    containers_of = runtime.rows_by_pod(cluster, [str(uid) for uid in visit])
    log_lines, unsynced = [], set()
    for row in visit.values():
        node = working.get(row.node_name)
        if node is None:
            continue
        try:
            # One savepoint per pod: a pod that changed meanwhile is left whole for next pass.
            with transaction.atomic():
                lines = sync_pod(cluster, row.body, node, used_ips[row.node_name], now, t,
                                 containers_of.get(str(row.uid), []), current=row)
            log_lines += lines      # kept only once the pod's savepoint has held
        except (Conflict, NotFound, runtime.StaleRuntime):
            unsynced.add(row.node_name)
            continue   # the pod changed or went meanwhile; the next pass sees it as it is
        except ApiError as exc:
            unsynced.add(row.node_name)
            log.warning("%s: %s", row.name, exc.message)
    runtime.write_logs(log_lines)
    for name in rebooted:
        if name not in unsynced:
            mark_synced(cluster, working[name], now)
    for row in terminating:
        try:
            finish_terminating(cluster, row.body, now)
        except (Conflict, NotFound):
            continue


SYNCED_BOOT = "kubelab.io/kubelet-synced-boot-id"
# Runtime records of removed pods are swept this often (simulated seconds). The sweep reads
# every container row, so it does not run on every tick; when it last ran is only an
# optimisation kept in memory: a restarted worker simply sweeps at once.
SWEEP_EVERY = 10.0
_last_sweep = {}


def boot_id(node):
    return ((node.get("status") or {}).get("nodeInfo") or {}).get("bootID", "")


def synced_boot(node):
    """The boot the kubelet last synced its pods for (kubelab's own annotation)."""
    return ((node.get("metadata") or {}).get("annotations") or {}).get(SYNCED_BOOT, "")


def mark_synced(cluster, node, now):
    try:
        store.patch(cluster, store.kinds.get("Node"), "", node["metadata"]["name"],
                    {"metadata": {"annotations": {SYNCED_BOOT: boot_id(node)}}},
                    store.MERGE_PATCH, now=now)
    except (Conflict, NotFound):
        pass   # tried again next pass


def _used_ips(cluster, rows):
    used = defaultdict(set)
    if any(not (row.body.get("status") or {}).get("startTime") for row in rows):
        for node_name, ip in (ApiObject.objects.filter(cluster=cluster).pods()
                              .exclude(node_name="").values_list("node_name", "body__status__podIP")):
            if ip:
                used[node_name].add(ip)
    return used


def sync_pod(cluster, pod, node, used_ips, now, t, rows, current=None):
    """Admit the pod if new, move each of its due containers on, write its status.

    Returns the log lines its containers wrote, for the pass to insert together."""
    host = node["metadata"]["name"]
    status = pod.get("status") or {}
    if not status.get("startTime"):
        admitted = admit(pod, node, used_ips, store.timestamp(now))
        if admitted is None:
            store.record_event(cluster, pod, "Warning", "FailedCreatePodSandBox",
                               "Failed to create pod sandbox: no IP addresses available in "
                               f"range set: {node['spec'].get('podCIDR')}", component=COMPONENT,
                               host=host, aggregate=True, now=now)
            return []
        pod = {**pod, "status": admitted}
    pods_runtime = runtime.PodRuntime(cluster, pod, rows)
    pods_runtime.boot_id = boot_id(node)
    say = _Recorder(cluster, pod, host, now)
    lost = [row for row in pods_runtime.rows.values()
            if row.state == Container.RUNNING and row.data.get("bootID") not in
            (None, pods_runtime.boot_id)]
    if lost:
        # The node rebooted under them: the kubelet re-creates the sandbox and restarts them;
        # the lost instance shows as Terminated, reason Unknown, exit code 255.
        say("Normal", "SandboxChanged", "Pod sandbox changed, it will be killed and re-created.")
        for row in lost:
            pods_runtime.stopped(row, t, 255, "Unknown")
            row.due_at = runtime.moment(t)
    for spec in pod["spec"]["containers"]:
        row = pods_runtime.row(spec["name"])
        if row is None:
            row = pods_runtime.create(spec, t, t + cluster.container_start_seconds)
            say("Normal", "Pulling", f'Pulling image "{spec["image"]}"')
        for _ in range(MAX_STEPS):
            if row.due_at is None or row.due_at > now:
                break
            step(cluster, pods_runtime, pod, spec, row, t, say)
    new_status = podstatus.pod_status(pod, pods_runtime.rows, store.timestamp(now))
    pods_runtime.save(write_log=False)
    if new_status != pod.get("status"):
        pod = store.update(cluster, {**pod, "status": new_status}, subresource="status",
                           now=now, current=current).object
    say.flush(pod)
    return pods_runtime.logs


def admit(pod, node, used_ips, stamp):
    """The status once the kubelet has taken the pod (IPs assigned), or None without an IP."""
    ip = free_ip(node, used_ips)
    if ip is None:
        return None
    status = dict(pod.get("status") or {})
    status.update({"hostIP": node_ip(node), "hostIPs": [{"ip": node_ip(node)}], "podIP": ip,
                   "podIPs": [{"ip": ip}], "startTime": stamp})
    status["conditions"] = podstatus.set_conditions(status.get("conditions"), [
        podstatus.condition("PodReadyToStartContainers", "True", stamp),
        podstatus.condition("Initialized", "True", stamp)])
    return status


def step(cluster, pods_runtime, pod, spec, row, t, say):
    """One transition of one due container."""
    if row.state in (Container.CREATING, Container.WAITING):
        pull(cluster, pods_runtime, pod, spec, row, t, say)
    elif row.state == Container.RUNNING:
        wake = row.data.get("wakeAt")
        if wake is not None and wake <= t:
            if pods_runtime.advance(spec, row, t) is not None:
                exited(pods_runtime, pod, spec, row, say)
                return
        probe(pods_runtime, pod, spec, row, t, say)
        if row.state == Container.RUNNING:
            reschedule(row)
    elif row.state == Container.EXITED:
        restart(cluster, pods_runtime, pod, spec, row, t, say)


def pull(cluster, pods_runtime, pod, spec, row, t, say):
    image = spec["image"]
    error = images.pull_error(image)
    if error is None:
        took = cluster.container_start_seconds
        say("Normal", "Pulled", f'Successfully pulled image "{image}" in {took:g}s '
            f"({took:g}s including waiting). Image size: {images.size(image)} bytes.")
        _start(pods_runtime, pod, spec, row, t, say)
        return
    backoff = containers.Backoff.from_dict(row.data.get("pullBackoff"))
    first = row.state == Container.CREATING
    period = IMAGE_PULL_BACKOFF if first else min(backoff.period * 2, containers.MAX_BACKOFF)
    row.state = Container.WAITING
    row.data.update({"pullBackoff": containers.Backoff(period, t).as_dict(),
                     "waitingReason": "ErrImagePull" if first else "ImagePullBackOff",
                     "waitingMessage": error if first else f'Back-off pulling image "{image}"'})
    row.due_at = runtime.moment(t + period)
    pods_runtime.dirty.add(row.name)
    if first:
        say("Warning", "Failed", f'Failed to pull image "{image}": {error}')
        say("Warning", "Failed", "Error: ErrImagePull")
    else:
        say("Normal", "BackOff", f'Back-off pulling image "{image}"', aggregate=True)
        say("Warning", "Failed", "Error: ImagePullBackOff", aggregate=True)


def _start(pods_runtime, pod, spec, row, t, say):
    say("Normal", "Created", f"Created container {spec['name']}")
    say("Normal", "Started", f"Started container {spec['name']}")
    code = pods_runtime.start(spec, row, t)
    if code is not None:
        exited(pods_runtime, pod, spec, row, say)
        return
    anchor = runtime.seconds(store.parse_timestamp(pod["status"]["startTime"])) \
        if (pod.get("status") or {}).get("startTime") else t
    probes.schedule(spec, row, t, anchor)
    reschedule(row)


def reschedule(row):
    """A running container is next due when its program wakes or a probe is due."""
    times = [x for x in (row.data.get("wakeAt"), probes.next_due(row)) if x is not None]
    row.due_at = runtime.moment(min(times)) if times else None


def probe(pods_runtime, pod, spec, row, t, say):
    """Run the container's probes that are due, and act on what they find.

    While a startup probe has not yet succeeded, the other probes wait for it."""
    states = row.data.get("probes") or {}
    for kind, label in probes.KINDS:
        state = states.get(kind)
        if state is None or state["next"] is None or state["next"] > t:
            continue
        if kind != "startupProbe" and "startupProbe" in states and \
                not states["startupProbe"].get("passed"):
            state["next"] = states["startupProbe"]["next"]
            continue
        spec_probe = spec[kind]
        ok, message = probes.run(pods_runtime, spec, spec_probe, t)
        # The ticker keeps its grid: a probe run late (a long tick) does not shift later ones.
        state["next"] = probes.next_tick(state["next"], spec_probe.get("periodSeconds") or 10, t)
        if not ok:
            say("Warning", "Unhealthy", f"{label} probe failed: {message}", aggregate=True)
        verdict = probes.record(state, ok, spec_probe)
        pods_runtime.dirty.add(row.name)
        if kind == "readinessProbe" and verdict:
            row.data["ready"] = verdict == "succeeded"
        elif kind == "startupProbe" and verdict == "succeeded":
            state["passed"], state["next"] = True, None   # it has done its job: no more runs
        elif verdict == "failed":
            # Liveness or startup: the kubelet kills the container; restartPolicy decides.
            what = "liveness" if kind == "livenessProbe" else "startup"
            say("Normal", "Killing", f"Container {spec['name']} failed {what} probe, will be "
                "restarted")
            pods_runtime.stopped(row, t, 137, "Error")
            exited(pods_runtime, pod, spec, row, say)
            return


def exited(pods_runtime, pod, spec, row, say):
    """The main process ended: restart now, after a back-off, or never (restartPolicy)."""
    data = row.data
    decision = containers.decide_restart(pod["spec"].get("restartPolicy", "Always"),
                                         data["exitCode"], data["finishedAt"],
                                         containers.Backoff.from_dict(data.get("backoff")))
    data["backoff"] = decision.backoff.as_dict()
    row.due_at = runtime.moment(decision.at) if decision.restart else None
    if decision.waiting_reason:
        meta = pod["metadata"]
        data["waitingMessage"] = containers.crash_loop_message(
            spec["name"], meta["name"], meta["namespace"], meta["uid"], decision.period)
        say("Warning", "BackOff", f"Back-off restarting failed container {spec['name']} in pod "
            f"{meta['name']}_{meta['namespace']}({meta['uid']})", aggregate=True)
    pods_runtime.dirty.add(row.name)


def restart(cluster, pods_runtime, pod, spec, row, t, say):
    row.data["last"] = podstatus.terminated(pod, row)
    row.restart_count += 1
    say("Normal", "Pulled", f'Container image "{spec["image"]}" already present on machine',
        aggregate=True)
    _start(pods_runtime, pod, spec, row, t, say)


class _Recorder:
    """Collects a pass's events for one pod and records them once its status is written, so
    each event names the pod's resourceVersion after the change it reports."""

    def __init__(self, cluster, pod, host, now):
        self.cluster, self.host, self.now = cluster, host, now
        self.events = []

    def __call__(self, type_, reason, message, aggregate=False):
        self.events.append((type_, reason, message, aggregate))

    def flush(self, pod):
        for type_, reason, message, aggregate in self.events:
            store.record_event(self.cluster, pod, type_, reason, message, component=COMPONENT,
                               host=self.host, aggregate=aggregate, now=self.now)
        self.events = []


def finish_terminating(cluster, pod, now):
    """Stop the containers when deletion starts; remove the pod when its grace has run out."""
    meta = pod["metadata"]
    deadline = store.parse_timestamp(meta["deletionTimestamp"])
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    if any(cs.get("ready") for cs in statuses):
        stamp = store.timestamp(now)
        status = dict(pod["status"])
        status["conditions"] = podstatus.set_conditions(status.get("conditions"), [
            podstatus.condition("Ready", "False", stamp, reason="ContainersNotReady")])
        status["containerStatuses"] = [{**cs, "ready": False} for cs in statuses]
        pod = store.update(cluster, {**pod, "status": status}, subresource="status",
                           now=now).object
        for c in pod["spec"]["containers"]:
            store.record_event(cluster, pod, "Normal", "Killing", f"Stopping container {c['name']}",
                               component=COMPONENT, host=pod["spec"].get("nodeName"), now=now)
    if now >= deadline:
        store.delete(cluster, store.kinds.get("Pod"), meta["namespace"], meta["name"],
                     grace_period=0, now=now)
        runtime.forget(cluster, [meta["uid"]])


def forget_vanished(cluster):
    """Drop the runtime's records of pods removed by any path (a finished pod deleted at once,
    a namespace emptied): their logs go with them, as the seed says."""
    alive = ApiObject.objects.filter(cluster=cluster, kind="Pod").values("uid")
    gone = (Container.objects.filter(cluster=cluster).filter(~Q(pod_uid__in=alive))
            .values_list("pod_uid", flat=True).distinct())
    gone = list(gone)
    if gone:
        runtime.forget(cluster, gone)


def exec_command(cluster, namespace, name, container, argv, now=None):
    """Run `argv` in a running container, as the kubelet serves `kubectl exec`.

    Returns (exit code or None if still running after a minute, stdout lines, stderr lines).
    A command that ends the main process (`kill 1`) ends the container; its restart follows
    the pod's restartPolicy, and the pod's status says so at once.
    """
    from cluster.errors import BadRequest

    now = now or store.now_of(cluster)
    t = runtime.seconds(now)
    with transaction.atomic():
        pod = store.get(cluster, store.kinds.get("Pod"), namespace, name)
        spec = next((c for c in pod["spec"]["containers"] if c["name"] == container), None) \
            if container else (pod["spec"]["containers"][0]
                               if len(pod["spec"]["containers"]) == 1 else None)
        if spec is None:
            names = " ".join(c["name"] for c in pod["spec"]["containers"])
            raise BadRequest(f"container {container} is not valid for pod {name}" if container
                             else f"a container name must be specified for pod {name}, choose "
                                  f"one of: [{names}]")
        pods_runtime = runtime.PodRuntime(cluster, pod)
        row = pods_runtime.row(spec["name"])
        if row is None or row.state != Container.RUNNING:
            raise BadRequest(f"unable to upgrade connection: container not found "
                             f'("{spec["name"]}")')
        code, out, err = pods_runtime.exec(spec, argv, t)
        say = _Recorder(cluster, pod, pod["spec"].get("nodeName"), now)
        if row.state == Container.EXITED:
            exited(pods_runtime, pod, spec, row, say)
        new_status = podstatus.pod_status(pod, pods_runtime.rows, store.timestamp(now))
        pods_runtime.save()
        if new_status != pod.get("status"):
            pod = store.update(cluster, {**pod, "status": new_status}, subresource="status",
                               now=now).object
        say.flush(pod)
    return code, out, err
