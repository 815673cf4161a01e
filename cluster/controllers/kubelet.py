"""The kubelets: run the containers of the pods bound to each node, and finish them.

One pass:
1. Admit each newly bound pod: pod IP from its node's CIDR, host IP, conditions; its
   containers are created (the image pulls for the cluster's container start time).
2. Move on every container whose runtime record is due (`Container.due_at <= now`): a pull
   done or failed, a program waking or exiting, a back-off ended. Restarts follow the pod's
   restartPolicy and kubelet's back-off (cluster.containers); then the pod's status is written.
3. Stop the containers of pods being deleted, and remove each pod when its grace period ends.
Work is in proportion to what is due, not to the number of pods. A pass over a pod is worked
out in memory first (plan_pod), then written (apply_pod) in one savepoint; a pass that writes
only a container row (most probes) is written with the others in one batch, and most of those
never read the pod at all (the probe fast path, below).
"""

import functools
import ipaddress
import itertools
import json
import logging
import math
import uuid
from collections import defaultdict

from django.db import transaction
from django.db.models import Q, TextField
from django.db.models.functions import Cast

from cluster import containers, images, podstatus, probes, runtime, store
from cluster.controllers.nodes import cluster_key, node_bodies
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
    for value, ip in _hosts(cidr):
        if ip not in used and value & 0xFF != 1:   # .1 is the node's bridge
            used.add(ip)
            return ip
    return None


def _hosts(cidr):
    """(int, text) of each address of ip_network(cidr).hosts(), in order. An IPv4 range is
    counted through as integers, the network parsed once: an address object per host tried,
    for every pod admitted, was most of admitting pods onto a node with many."""
    network = _network(cidr)
    if network.version != 4 or network.prefixlen >= 31:
        return ((int(ip), str(ip)) for ip in network.hosts())
    first, last = int(network.network_address) + 1, int(network.broadcast_address) - 1
    return ((value, f"{value >> 24}.{value >> 16 & 0xFF}.{value >> 8 & 0xFF}.{value & 0xFF}")
            for value in range(first, last + 1))


@functools.lru_cache(maxsize=4096)
def _network(cidr):
    return ipaddress.ip_network(cidr)


def reconcile(cluster, now):
    """One pass over the pods whose kubelet has something to do."""
    t = runtime.seconds(now)
    nodes = {node["metadata"]["name"]: node for node in node_bodies(cluster)}
    # A powered-off node's kubelet does nothing: its pods stay as they were, even Terminating.
    working = {name: node for name, node in nodes.items()
               if node_kind.is_ready(node) and not node_kind.powered_off(node)}
    rebooted = [name for name, node in working.items() if boot_id(node) != synced_boot(node)]
    new = list(ApiObject.objects.filter(cluster=cluster).pods().exclude(node_name="")
               .filter(phase="Pending", deleting=False).order_by("id"))
    # The due runtime rows, whole: for a pod whose containers are all due (one container,
    # probed: the common case) they are all the pass needs of the runtime.
    due_rows = defaultdict(list)
    for row in runtime.due_rows(cluster, now):
        due_rows[str(row.pod_uid)].append(row)
    # By the (cluster, kind, deleting) index, sorted here: few pods are deleting, and
    # node_name IN (every node) or ORDER BY would read every pod's index entry. (SQLite uses
    # that index for `deleting IN (1)`, not for the bare `deleting` Django writes for =True.)
    terminating = sorted((row for row in ApiObject.objects.filter(
        cluster=cluster, kind="Pod", deleting__in=[True])
        if row.group == "" and row.node_name in working), key=lambda r: (r.node_name, r.pk))
    key = cluster_key(cluster)
    if t >= _last_sweep.get(key, -math.inf) + SWEEP_EVERY or t < _last_sweep[key]:
        forget_vanished(cluster)
        _last_sweep[key] = t
    if not new and not due_rows and not terminating and not rebooted:
        return
    visit = {str(row.uid): row for row in new}
    passes, touched = [], set()
    if due_rows:
        slow = []
        for uid, (rv, node_name) in _live_pods(cluster, list(due_rows)).items():
            node = working.get(node_name)
            if node is None or uid in visit:
                continue   # its kubelet is stopped; or a new pod, taken below
            work = None
            if node_name not in rebooted:
                work, tried = fast_pass(cluster, uid, rv, node, due_rows[uid], now, t)
                if tried:
                    touched.add(uid)   # its rows were moved on in memory: read them again
            if work is not None:
                passes.append(work)
            else:
                slow.append(uid)
        for row in _pod_rows(cluster, slow):
            visit.setdefault(str(row.uid), row)
    if rebooted:
        # After a reboot the kubelet syncs every pod it has: their containers are gone.
        for row in ApiObject.objects.filter(cluster=cluster).pods().filter(
                node_name__in=rebooted, deleting=False).exclude(phase__in=("Succeeded", "Failed")):
            visit.setdefault(str(row.uid), row)
    used_ips = _used_ips(cluster, visit.values())
    # Pods admitted earlier may have containers still pulling (not due): the rows of visited
    # pods not all due are loaded, in one query.
    containers_of = {uid: due_rows[uid] for uid, row in visit.items() if uid not in touched and
                     len(due_rows.get(uid, ())) == len(row.body["spec"]["containers"])}
    containers_of.update(runtime.rows_by_pod(cluster, [u for u in visit if u not in containers_of]))
    unsynced = set()
    for uid, row in visit.items():
        node = working.get(row.node_name)
        if node is None:
            continue
        try:
            work = plan_pod(cluster, row.body, node, used_ips[row.node_name], now, t,
                            containers_of.get(uid, []))
            if work.single_update is not None:
                passes.append(work)    # written below with the fast passes, in one batch
                continue
            # One savepoint per pod: a pod that changed meanwhile is left whole for next pass.
            with transaction.atomic():
                apply_pod(cluster, work, now,
                          current=row.model() if isinstance(row, PodRow) else row)
            passes.append(work)      # its log lines are kept only once the savepoint has held
        except (Conflict, NotFound, runtime.StaleRuntime):
            unsynced.add(row.node_name)
            continue   # the pod changed or went meanwhile; the next pass sees it as it is
        except ApiError as exc:
            unsynced.add(row.node_name)
            log.warning("%s: %s", row.name, exc.message)
    # Passes that write one container row and nothing else: one batch of UPDATEs. A row
    # saved meanwhile by another writer is left as it is, and its pass (log lines) dropped.
    stale = runtime.save_rows([w.single_update for w in passes if w.single_update is not None])
    if stale:
        stale = {id(r) for r in stale}
        unsynced |= {w.host for w in passes if id(w.single_update) in stale}
        passes = [w for w in passes if id(w.single_update) not in stale]
    runtime.write_logs([line for w in passes for line in w.logs])
    for name in rebooted:
        if name not in unsynced:
            mark_synced(cluster, working[name], now)
    for row in terminating:
        try:
            finish_terminating(cluster, row.body, now)
        except (Conflict, NotFound):
            continue


# ---------------------------------------------------------------------------------------------
# The probe fast path
#
# Most passes over a running pod run a probe that succeeds: the container's row changes
# (counters, next run, the request in its log) and nothing else. Working that out the general
# way reads and decodes the pod and recomputes its status only to find it unchanged. Instead,
# when the kubelet has written (or checked) a pod's status from its runtime rows, it marks the
# rows "synced" with the pod's resourceVersion and a token, and keeps in memory, under that
# token, the little of the pod its containers' steps read (prober_view). A later pass whose
# rows still carry the pod's current resourceVersion and a token this process holds runs the
# same steps on that view; if they changed nothing the status shows (state, restarts,
# readiness, start time) and said nothing (no event), the status is still the one written,
# and the pass is its row's UPDATE and log lines. Anything else (a failed probe, a restart, a
# pod changed by anyone: its resourceVersion moves) goes the general way, rows read again.
# The marker is in the rows, written in the same transaction as the status, so a rollback
# takes both; the views are an optimisation kept in memory: a restarted worker has none, and
# its first pass over each pod goes the general way and marks it again.

FAST_PATH = True     # off: every pass goes the general way (tests compare the two)
_views = {}          # pod uid -> (token, the pod as its containers' steps read it)
_specs = {}          # interned container specs: the pods of one template share theirs
# Bounds on memory (a view is about 1 kB): over them, all are forgotten (safe to lose).
MAX_VIEWS, MAX_SPECS = 50_000, 5_000
_PROCESS = uuid.uuid4().hex[:12]
_tokens = itertools.count()


def prober_view(pod):
    """What the steps of a running pod's containers read of it (metadata, spec.containers,
    restartPolicy, volumes, podIP, startTime): kept in memory instead of the whole pod."""
    spec, status = pod["spec"], pod.get("status") or {}
    containers_ = spec["containers"]
    key = json.dumps(containers_, sort_keys=True)
    if len(_specs) > MAX_SPECS:
        _specs.clear()
    view_spec = {"containers": _specs.setdefault(key, containers_)}
    for field_ in ("restartPolicy", "volumes"):
        if field_ in spec:
            view_spec[field_] = spec[field_]
    meta = pod["metadata"]
    return {"apiVersion": pod.get("apiVersion"), "kind": pod.get("kind"),
            "metadata": {"name": meta["name"], "namespace": meta.get("namespace"),
                         "uid": meta["uid"]},
            "spec": view_spec,
            "status": {k: status[k] for k in ("podIP", "startTime") if k in status}}


def mark_rows_synced(pods_runtime, pod):
    """The rows now match the pod's status at its resourceVersion: mark them, and keep the
    view their next passes may use (see above). Rows already marked so are left as they are."""
    uid = pod["metadata"]["uid"]
    rv = int(pod["metadata"]["resourceVersion"])
    held = _views.get(uid)
    if held is not None and all(row.data.get("synced") == [rv, held[0]]
                                for row in pods_runtime.rows.values()):
        return
    token = f"{_PROCESS}.{next(_tokens)}"
    for row in pods_runtime.rows.values():
        row.data["synced"] = [rv, token]
        pods_runtime.dirty.add(row.name)
    if len(_views) > MAX_VIEWS:
        _views.clear()
    _views[uid] = (token, prober_view(pod))


def _status_facts(row):
    """What of a running container's row its containerStatus shows."""
    data = row.data
    return (row.state, row.restart_count, data.get("ready", True), data.get("startedAt"),
            data.get("last"))


def fast_pass(cluster, uid, rv, node, rows, now, t):
    """The pass over a pod whose due rows are marked synced at its current resourceVersion:
    (PodPass, tried). The PodPass is None when the general way must take the pod; `tried`
    says its rows were moved on in memory (so must be read again)."""
    held = _views.get(uid) if FAST_PATH else None
    if held is None:
        return None, False
    token, pod = held
    if len(rows) != len(pod["spec"]["containers"]):
        return None, False   # some containers not due: the general way reads them all
    boot = boot_id(node)
    for row in rows:
        data = row.data
        wake = data.get("wakeAt")
        if data.get("synced") != [rv, token] or row.state != Container.RUNNING or \
                data.get("bootID") not in (None, boot) or (wake is not None and wake <= t):
            return None, False
    before = [_status_facts(row) for row in rows]
    pods_runtime, say = run_pod(cluster, pod, node, now, t, rows)
    if say.events or [_status_facts(row) for row in rows] != before:
        return None, True
    single = pods_runtime.single_update()
    if single is None:
        return None, True
    return PodPass(pod, node["metadata"]["name"], say, pods_runtime, single_update=single), True


def _live_pods(cluster, uids):
    """{uid: (resourceVersion, node name)} of the live pods of these uids, in creation order:
    no bodies read. By the uid index alone (with the cluster in the filter too, SQLite reads
    every object of the cluster)."""
    found = sorted(ApiObject.objects.filter(uid__in=uids).values_list(
        "id", "uid", "resource_version", "node_name", "cluster_id", "deleting"))
    return {str(uid): (rv, node_name) for _pk, uid, rv, node_name, cluster_id, deleting in found
            if cluster_id == cluster.pk and not deleting}


def _forget_views(uids):
    for uid in uids:
        _views.pop(str(uid), None)


class PodRow:
    """A pod's ApiObject row as read for a pass, without the cost of a model instance (most
    passes over a pod only probe it); `model()` builds one for a write."""

    FIELDS = [f.attname for f in ApiObject._meta.concrete_fields]
    __slots__ = ("values",)

    def __init__(self, values):
        self.values = values

    def __getattr__(self, name):
        try:
            return self.values[PodRow.INDEX[name]]
        except KeyError:
            raise AttributeError(name) from None

    @property
    def pk(self):
        return self.values[PodRow.INDEX["id"]]

    def model(self):
        values = list(self.values)
        labels = PodRow.INDEX["labels"]
        values[labels] = json.loads(values[labels]) if values[labels] is not None else {}
        return ApiObject.from_db(ApiObject.objects.db, PodRow.FIELDS, values)


PodRow.INDEX = {name: i for i, name in enumerate(PodRow.FIELDS)}


def _pod_rows(cluster, uids):
    """The live pods of these uids, in creation order. By the uid index alone: with the
    cluster in the filter, SQLite reads every object of the cluster. The labels stay text:
    the pass does not read them."""
    columns = [Cast("labels", output_field=TextField()) if name == "labels" else name
               for name in PodRow.FIELDS]
    rows = [PodRow(values) for values in ApiObject.objects.filter(uid__in=uids)
            .values_list(*columns)]
    return sorted((row for row in rows if row.cluster_id == cluster.pk and not row.deleting),
                  key=lambda row: row.pk)


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
        pod_ip = store.json_path("body__status__podIP", text=True)
        for node_name, ip in (ApiObject.objects.filter(cluster=cluster).pods()
                              .exclude(node_name="").values_list("node_name", pod_ip)):
            if ip:
                used[node_name].add(ip)
    return used


class PodPass:
    """What one kubelet pass does to one pod, worked out in memory before anything is
    written: the runtime's rows and log lines, the pod's new status, its events.

    `single_update`: the one container row it writes when that is all it writes (no status
    change, no event): such passes are written together, in one batch."""

    def __init__(self, pod, host, say, pods_runtime=None, status=None, single_update=None):
        self.pod, self.host, self.say = pod, host, say
        self.runtime, self.status = pods_runtime, status
        self.single_update = single_update
        if pods_runtime is not None and status is not None and status == pod.get("status"):
            mark_rows_synced(pods_runtime, pod)
            if not say.events:
                self.single_update = pods_runtime.single_update()

    @property
    def logs(self):
        return self.runtime.logs if self.runtime is not None else []


def apply_pod(cluster, work, now, current=None):
    """Write a PodPass: the pod's status (if it changed), its runtime rows (marked synced
    with the status written), then events. Within the caller's savepoint: all or nothing."""
    pod = work.pod
    if work.runtime is not None:
        if work.status != pod.get("status"):
            pod = store.update(cluster, {**pod, "status": work.status}, subresource="status",
                               now=now, current=current).object
            mark_rows_synced(work.runtime, pod)
        work.runtime.save(write_log=False)
    work.say.flush(pod)


def plan_pod(cluster, pod, node, used_ips, now, t, rows):
    """Work out in memory (a PodPass) what this pass does to the pod: admit it if new, move
    each of its due containers on, compute its status. Writes nothing."""
    host = node["metadata"]["name"]
    status = pod.get("status") or {}
    taken = None    # when the kubelet took the pod: its probers' tickers start then
    if not status.get("startTime"):
        taken = t
        admitted = admit(pod, node, used_ips, store.timestamp(now))
        if admitted is None:
            say = _Recorder(cluster, pod, host, now)
            say("Warning", "FailedCreatePodSandBox", "Failed to create pod sandbox: no IP "
                f"addresses available in range set: {node['spec'].get('podCIDR')}",
                aggregate=True)
            return PodPass(pod, host, say)
        pod = {**pod, "status": admitted}
    pods_runtime, say = run_pod(cluster, pod, node, now, t, rows, taken)
    new_status = podstatus.pod_status(pod, pods_runtime.rows, store.timestamp(now))
    return PodPass(pod, host, say, pods_runtime, new_status)


def run_pod(cluster, pod, node, now, t, rows, taken=None):
    """Move each due container of an admitted pod on, in memory: (PodRuntime, recorder).
    `taken`: when the kubelet took the pod, if in this pass."""
    pods_runtime = runtime.PodRuntime(cluster, pod, rows)
    pods_runtime.boot_id = boot_id(node)
    say = _Recorder(cluster, pod, node["metadata"]["name"], now)
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
            # The exact moment, not startTime (whole seconds): pods taken within one second
            # keep tickers apart, as real probers' do, instead of all probing on the second.
            row.data["proberStart"] = taken if taken is not None else \
                runtime.seconds(store.parse_timestamp(pod["status"]["startTime"]))
            say("Normal", "Pulling", f'Pulling image "{spec["image"]}"')
        for _ in range(MAX_STEPS):
            if row.due_at is None or row.due_at > now:
                break
            step(cluster, pods_runtime, pod, spec, row, t, say)
    return pods_runtime, say


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
    anchor = row.data.get("proberStart")
    if anchor is None:   # a row from before proberStart was kept
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
        _forget_views([meta["uid"]])


def forget_vanished(cluster):
    """Drop the runtime's records of pods removed by any path (a finished pod deleted at once,
    a namespace emptied): their logs go with them, as the seed says."""
    alive = ApiObject.objects.filter(cluster=cluster, kind="Pod").values("uid")
    gone = (Container.objects.filter(cluster=cluster).filter(~Q(pod_uid__in=alive))
            .values_list("pod_uid", flat=True).distinct())
    gone = list(gone)
    if gone:
        runtime.forget(cluster, gone)
        _forget_views(gone)


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
