"""The node side of the control plane: node IPAM, each node's kubelet registration and its
heartbeats.

A node created through the API gets a pod CIDR (as the node IPAM controller assigns one) and,
once its simulated kubelet registers, addresses, node info and a Ready condition.

Heartbeats. A Kubernetes 1.32 kubelet sends two (docs "Nodes", Node heartbeats):
- it renews its Lease in kube-node-lease every 10 s (a quarter of nodeLeaseDurationSeconds, 40);
- it computes its node status every 10 s (nodeStatusUpdateFrequency) but posts it only when it
  changed, or when nodeStatusReportFrequency (5 min) has passed since its last post.
The node lifecycle controller counts a node alive while either signal is fresher than its grace
period (50 s). Writing a Lease every 10 s would be six writes a minute per node for nothing a
learner can see, so kubelab serves no Lease and keeps it implicit: a running kubelet is renewing
it, always; when a node is powered off (annotation kubelab.io/power: "off") its kubelet stops,
and the time of its last renewal is kept in the annotation kubelab.io/lease-renew-time (written
by `nodes_admin.power_off`, or here when the power annotation was set through the API). The
status heartbeat is Kubernetes' own: posted every 5 minutes (lastHeartbeatTime), and at once
after a reboot or when the node controller marked the node Unknown. So an idle node costs 12
writes an hour, as in a real cluster.

Powered on again, the node has rebooted: the kubelet gets a new bootID, records Starting and
Rebooted, removes the lease annotation and posts Ready. A status someone else wrote (Ready False
through the status subresource) stands until the next 5-minute post; a real kubelet would
overwrite it within 10 s.
"""

import copy
import datetime as dt
import ipaddress
import json
import uuid

from django.db.models import TextField
from django.db.models.functions import Cast

from cluster import store
from cluster.errors import Conflict
from cluster.kinds import node as node_kind
from cluster.models import ApiObject

# Pod CIDRs are /24s handed out from 10.244.0.0 upwards (kind's and flannel's range), going on
# into the rest of 10.240.0.0/12 for clusters of more than 256 nodes.
POD_NETWORK = ipaddress.ip_network("10.240.0.0/12")
FIRST_POD_CIDR = ipaddress.ip_network("10.244.0.0/24")
NODE_NETWORK = ipaddress.ip_network("172.18.0.0/16")
KUBELET_VERSION = "v1.32.0"
COMPONENT = "kubelet"
# KubeletConfiguration.nodeStatusReportFrequency: the status is posted at least this often.
NODE_STATUS_REPORT_SECONDS = 300
# The conditions the kubelet owns (NetworkUnavailable belongs to the network plugin).
KUBELET_CONDITIONS = ("MemoryPressure", "DiskPressure", "PIDPressure", "Ready")


def ready_condition(now):
    return {"type": "Ready", "status": "True", "reason": "KubeletReady",
            "message": "kubelet is posting ready status", "lastHeartbeatTime": now,
            "lastTransitionTime": now}


def pressure_conditions(now):
    return [
        {"type": kind, "status": "False", "reason": reason, "message": message,
         "lastHeartbeatTime": now, "lastTransitionTime": now}
        for kind, reason, message in (
            ("MemoryPressure", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
            ("DiskPressure", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
            ("PIDPressure", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
        )
    ]


def free_pod_cidr(used):
    subnets = list(POD_NETWORK.subnets(new_prefix=24))
    first = subnets.index(FIRST_POD_CIDR)
    for net in subnets[first:] + subnets[:first]:
        if str(net) not in used:
            return str(net)
    return None


def registered(node):
    """Has the node its pod CIDR, addresses, node info and conditions? Pure."""
    spec, status = node.get("spec") or {}, node.get("status") or {}
    return bool(spec.get("podCIDR") and status.get("addresses") and
                status.get("nodeInfo", {}).get("kubeletVersion") and
                node_kind.condition(node, "Ready") is not None)


def plan_registration(node, used_cidrs, used_ips, now):
    """The node as it should be once registered, or None when nothing is missing. Pure."""
    if registered(node):
        return None   # the common case, every tick, so no copy
    spec, status = node.get("spec") or {}, node.get("status") or {}
    wanted = copy.deepcopy(node)
    changed = False
    if not spec.get("podCIDR"):
        cidr = free_pod_cidr(used_cidrs)
        if cidr is None:
            return None   # CIDRNotAvailable: the node runs no pods until one is freed
        wanted["spec"]["podCIDR"] = cidr
        wanted["spec"]["podCIDRs"] = [cidr]
        used_cidrs.add(cidr)
        changed = True
    if not status.get("addresses"):
        ip = next(str(ip) for ip in NODE_NETWORK.hosts()
                  if int(ip) & 0xFF >= 2 and str(ip) not in used_ips)
        used_ips.add(ip)
        wanted["status"]["addresses"] = [{"type": "InternalIP", "address": ip},
                                         {"type": "Hostname", "address": node["metadata"]["name"]}]
        changed = True
    if not status.get("nodeInfo", {}).get("kubeletVersion"):
        wanted["status"]["nodeInfo"] = {
            "architecture": "amd64", "operatingSystem": "linux",
            "osImage": "Debian GNU/Linux 12 (bookworm)", "kernelVersion": "6.1.0-kubelab",
            "containerRuntimeVersion": "containerd://1.7.24", "kubeletVersion": KUBELET_VERSION,
            "kubeProxyVersion": KUBELET_VERSION, "machineID": node["metadata"]["uid"].replace("-", ""),
            "systemUUID": node["metadata"]["uid"], "bootID": node["metadata"]["uid"],
        }
        changed = True
    if node_kind.condition(node, "Ready") is None:
        wanted["status"]["conditions"] = pressure_conditions(now) + [ready_condition(now)]
        changed = True
    return wanted if changed else None


def kubelet_conditions(old, stamp):
    """The conditions as a running kubelet posts them: its own four refreshed with this
    heartbeat, a transition time only where the status changed; any others kept. Pure."""
    fresh = {c["type"]: c for c in pressure_conditions(stamp) + [ready_condition(stamp)]}
    result = []
    for cond in old or []:
        new = fresh.pop(cond.get("type"), None)
        if new is None:
            result.append(cond)
            continue
        if cond.get("status") == new["status"]:
            new = {**new, "lastTransitionTime": cond.get("lastTransitionTime") or stamp}
        result.append(new)
    return result + [fresh[t] for t in KUBELET_CONDITIONS if t in fresh]


# "Never", for quiet_until: later than any simulated time.
NEVER = dt.datetime.max.replace(tzinfo=dt.timezone.utc)


def quiet_until(node):
    """Until when (exclusive) the node's kubelet writes nothing, as long as this body stays as
    it is: a datetime (NEVER), or None when it writes now. Pure."""
    annotations = node["metadata"].get("annotations") or {}
    if node_kind.powered_off(node):
        # Stopped: its last renewal is recorded once, then nothing.
        return NEVER if node_kind.LEASE_RENEW_ANNOTATION in annotations else None
    ready = node_kind.condition(node, "Ready")
    if ready is None:
        return NEVER   # not registered yet: plan_registration's job
    if node_kind.LEASE_RENEW_ANNOTATION in annotations or ready.get("status") == "Unknown":
        return None    # rebooted, or marked Unknown by the node controller: post at once
    try:
        last = store.parse_timestamp(ready.get("lastHeartbeatTime") or "")
    except ValueError:
        return None
    return last + dt.timedelta(seconds=NODE_STATUS_REPORT_SECONDS)


def plan_heartbeat(node, now):
    """What the node's kubelet writes this tick: (metadata, status, rebooted). Pure.

    `metadata` (or None) carries the lease annotation set or removed; `status` (or None) is a
    node status post. A powered-off node posts nothing; the first tick that sees it off records
    its last lease renewal.
    """
    until = quiet_until(node)
    if until is not None and now < until:
        return None, None, False   # the common case: nothing to post
    meta = node["metadata"]
    annotations = meta.get("annotations") or {}
    stamp = store.timestamp(now)
    if node_kind.powered_off(node):
        annotations = {**annotations, node_kind.LEASE_RENEW_ANNOTATION: stamp}
        return {**meta, "annotations": annotations}, None, False
    rebooted = node_kind.LEASE_RENEW_ANNOTATION in annotations
    status = copy.deepcopy(node.get("status") or {})
    status["conditions"] = kubelet_conditions(status.get("conditions"), stamp)
    new_meta = None
    if rebooted:
        status["nodeInfo"] = {**(status.get("nodeInfo") or {}), "bootID": str(uuid.uuid4())}
        rest = {k: v for k, v in annotations.items() if k != node_kind.LEASE_RENEW_ANNOTATION}
        new_meta = {**meta, "annotations": rest}
        if not rest:
            new_meta.pop("annotations")
    return new_meta, status, rebooted


# ---------------------------------------------------------------------------------------------
# Node bodies, shared by the controllers that read every node on every tick (this one, the node
# lifecycle controller, the kubelets). Decoding 500 node bodies costs ~12 ms, three times a
# tick; the stored text costs ~2 ms to read. So each body is decoded only when its text differs
# from the text it was decoded from, like an informer's cache but checked against the store on
# every read: nothing stale can be served, and losing it (a restarted worker) costs one decode.
_bodies = {}    # cluster key -> {name: (text, body)}
_quiet = {}     # cluster key -> {name: (body, quiet until)}: nodes whose kubelet has nothing due
KEEP_CLUSTERS = 64
REMEMBER_QUIET = True   # off: every node is looked at on every tick (tests compare the two)


def cluster_key(cluster):
    """A cluster in the in-memory caches: its id and creation time (an id alone may be reused
    by a cluster created after another's rollback, as in tests)."""
    return (cluster.pk, cluster.created)


def _remember(cache, key, value):
    cache.pop(key, None)
    cache[key] = value
    while len(cache) > KEEP_CLUSTERS:
        cache.pop(next(iter(cache)))


def node_bodies(cluster):
    """Every node of the cluster, in name order. The bodies are shared between controllers
    and ticks: read them, never modify them (write copies through the store)."""
    key = cluster_key(cluster)
    cached = _bodies.get(key) or {}
    fresh = {}
    for name, text in (ApiObject.objects.filter(cluster=cluster).nodes().order_by("name")
                       .values_list("name", Cast("body", output_field=TextField()))):
        hit = cached.get(name)
        fresh[name] = hit if hit is not None and hit[0] == text else (text, json.loads(text))
    _remember(_bodies, key, fresh)
    return [body for _text, body in fresh.values()]


def reconcile(cluster, now):
    """Register every node that lacks a pod CIDR, addresses or conditions; post each running
    kubelet's heartbeat when due."""
    nodes = node_bodies(cluster)
    key = cluster_key(cluster)
    quiet = _quiet.get(key) or {}
    # A node seen quiet before, with the same body, stays quiet until its next status post
    # (5 minutes): the common case, skipped without parsing a timestamp.
    busy = [n for n in nodes
            if not (REMEMBER_QUIET and _still_quiet(quiet.get(n["metadata"]["name"]), n, now))]
    if busy:
        used_cidrs = {(n.get("spec") or {}).get("podCIDR") for n in nodes}
        used_ips = {a["address"] for n in nodes
                    for a in (n.get("status") or {}).get("addresses") or []}
        stamp = store.timestamp(now)
    for node in busy:
        until = quiet_until(node) if registered(node) else None
        if until is not None and now < until:
            quiet[node["metadata"]["name"]] = (node, until)
            continue
        try:
            node = register(cluster, node, used_cidrs, used_ips, now, stamp)
            heartbeat(cluster, node, now)
        except Conflict:
            continue  # someone wrote the node meanwhile; the next tick sees the new version
    names = {n["metadata"]["name"] for n in nodes}
    _remember(_quiet, key, {name: q for name, q in quiet.items() if name in names})


def _still_quiet(memo, node, now):
    return memo is not None and memo[0] is node and now < memo[1]


def register(cluster, node, used_cidrs, used_ips, now, stamp):
    wanted = plan_registration(node, used_cidrs, used_ips, stamp)
    if wanted is None:
        return node
    if node_kind.powered_off(node):
        wanted["status"] = node["status"]   # no kubelet to register: only the pod CIDR (IPAM)
    if wanted["spec"] != node["spec"]:
        node = store.update(cluster, {**wanted, "status": node["status"]}, now=now).object
        wanted["metadata"]["resourceVersion"] = node["metadata"]["resourceVersion"]
    if wanted["status"] != node["status"]:
        was_ready = node_kind.is_ready(node)
        node = store.update(cluster, wanted, subresource="status", now=now).object
        if not was_ready and node_kind.is_ready(node):
            record(cluster, node, "Normal", "NodeReady",
                   f"Node {node['metadata']['name']} status is now: NodeReady", now)
    return node


def heartbeat(cluster, node, now):
    meta, status, rebooted = plan_heartbeat(node, now)
    if meta is not None:
        node = store.update(cluster, {**node, "metadata": meta}, now=now).object
    if status is None:
        return node
    was_ready = node_kind.is_ready(node)
    node = store.update(cluster, {**node, "status": status}, subresource="status",
                        now=now).object
    name = node["metadata"]["name"]
    if rebooted:
        record(cluster, node, "Normal", "Starting", "Starting kubelet.", now)
        record(cluster, node, "Warning", "Rebooted", f"Node {name} has been rebooted, boot id: "
               f"{node['status']['nodeInfo']['bootID']}", now)
    if not was_ready and node_kind.is_ready(node):
        record(cluster, node, "Normal", "NodeReady", f"Node {name} status is now: NodeReady", now)
    return node


def record(cluster, node, type_, reason, message, now):
    store.record_event(cluster, node, type_, reason, message, component=COMPONENT,
                       host=node["metadata"]["name"], now=now)
