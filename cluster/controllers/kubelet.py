"""The kubelets, first version: start bound pods and finish terminating ones.

For each pod bound to a node: admit it (pod IP from the node's CIDR, host IP, conditions,
containers Waiting in ContainerCreating), then after the cluster's container start time run its
containers (Running, Ready). A pod with a deletionTimestamp has its containers stopped and is
removed once its grace period has passed, in simulated time.
"""

import datetime as dt
import ipaddress
from collections import defaultdict

import logging

from cluster import images, store
from cluster.errors import ApiError, Conflict, NotFound
from cluster.kinds import node as node_kind
from cluster.models import ApiObject

log = logging.getLogger(__name__)

COMPONENT = "kubelet"


def condition(type_, status, now, **extra):
    return {"type": type_, "status": status, "lastProbeTime": None, "lastTransitionTime": now,
            **extra}


def set_conditions(existing, updates):
    """Merge conditions by type, keeping lastTransitionTime when the status did not change."""
    by_type = {c["type"]: c for c in existing or []}
    for new in updates:
        old = by_type.get(new["type"])
        if old and old.get("status") == new["status"]:
            new = {**new, "lastTransitionTime": old.get("lastTransitionTime")}
        by_type[new["type"]] = new
    order = ["PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled"]
    return sorted(by_type.values(), key=lambda c: order.index(c["type"]) if c["type"] in order else 99)


def admitted_status(pod, node, pod_ip, now):
    """Status once the kubelet has taken the pod: IPs assigned, containers being created."""
    status = dict(pod.get("status") or {})
    status["phase"] = "Pending"
    status["hostIP"] = node_ip(node)
    status["hostIPs"] = [{"ip": status["hostIP"]}]
    status["podIP"] = pod_ip
    status["podIPs"] = [{"ip": pod_ip}]
    status["startTime"] = now
    containers = pod["spec"]["containers"]
    status["conditions"] = set_conditions(status.get("conditions"), [
        condition("PodReadyToStartContainers", "True", now),
        condition("Initialized", "True", now),
        condition("Ready", "False", now, reason="ContainersNotReady",
                  message=f"containers with unready status: [{' '.join(c['name'] for c in containers)}]"),
        condition("ContainersReady", "False", now, reason="ContainersNotReady",
                  message=f"containers with unready status: [{' '.join(c['name'] for c in containers)}]"),
    ])
    status["containerStatuses"] = [{
        "name": c["name"], "image": c["image"], "imageID": "", "ready": False,
        "restartCount": 0, "started": False,
        "state": {"waiting": {"reason": "ContainerCreating"}}, "lastState": {},
    } for c in containers]
    return status


def running_status(pod, now):
    status = dict(pod.get("status") or {})
    status["phase"] = "Running"
    status["conditions"] = set_conditions(status.get("conditions"), [
        condition("Ready", "True", now), condition("ContainersReady", "True", now)])
    status["containerStatuses"] = [{
        "name": c["name"], "image": c["image"], "imageID": images.image_id(c["image"]),
        "containerID": f"containerd://{pod['metadata']['uid'].replace('-', '')}{i:02d}",
        "ready": True, "restartCount": 0, "started": True,
        "state": {"running": {"startedAt": now}}, "lastState": {},
    } for i, c in enumerate(pod["spec"]["containers"])]
    return status


def stopping_status(pod, now):
    status = dict(pod.get("status") or {})
    status["conditions"] = set_conditions(status.get("conditions"), [
        condition("Ready", "False", now, reason="ContainersNotReady"),
    ])
    status["containerStatuses"] = [{**cs, "ready": False}
                                   for cs in status.get("containerStatuses") or []]
    return status


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
    """One pass over the pods that need their kubelet: new, starting, or terminating."""
    stamp = store.timestamp(now)
    rows = list(ApiObject.objects.filter(cluster=cluster).pods().exclude(node_name="")
                .filter(phase="Pending").order_by("id"))
    terminating = list(ApiObject.objects.filter(cluster=cluster).pods().filter(deleting=True))
    if not rows and not terminating:
        return
    nodes = {row.name: row.body for row in ApiObject.objects.filter(cluster=cluster).nodes()}
    used_ips = defaultdict(set)
    if any(not (row.body.get("status") or {}).get("startTime") for row in rows):
        for node_name, ip in (ApiObject.objects.filter(cluster=cluster).pods()
                              .exclude(node_name="").values_list("node_name", "body__status__podIP")):
            if ip:
                used_ips[node_name].add(ip)
    start_after = dt.timedelta(seconds=cluster.container_start_seconds)
    for row in rows:
        if row.deleting:
            continue
        pod, node = row.body, nodes.get(row.node_name)
        try:
            if node is None or not node_kind.is_ready(node):
                continue
            if not (pod.get("status") or {}).get("startTime"):
                # With no start delay, admitting and starting are one status write.
                instant = start_after <= dt.timedelta(0)
                pod = admit(cluster, pod, node, used_ips[row.node_name], now, stamp,
                            write=not instant)
                if pod is None or not instant:
                    continue
            started = store.parse_timestamp(pod["status"]["startTime"])
            if now >= started + start_after:
                start(cluster, pod, now, stamp)
        except (Conflict, NotFound):
            continue
        except ApiError as exc:
            log.warning("%s: %s", row.name, exc.message)
            continue
    for row in terminating:
        try:
            finish_terminating(cluster, row.body, now, stamp)
        except (Conflict, NotFound):
            continue


def admit(cluster, pod, node, used, now, stamp, write=True):
    """Take the pod: IPs and ContainerCreating. With `write=False` the status is only
    computed, for `start` to write in the same update."""
    ip = free_ip(node, used)
    if ip is None:
        store.record_event(cluster, pod, "Warning", "FailedCreatePodSandBox",
                           "Failed to create pod sandbox: no IP addresses available in range "
                           f"set: {node['spec'].get('podCIDR')}", component=COMPONENT,
                           host=node["metadata"]["name"], aggregate=True, now=now)
        return None
    pod = {**pod, "status": admitted_status(pod, node, ip, stamp)}
    if write:
        pod = store.update(cluster, pod, subresource="status", now=now).object
    for c in pod["spec"]["containers"]:
        store.record_event(cluster, pod, "Normal", "Pulling", f'Pulling image "{c["image"]}"',
                           component=COMPONENT, host=node["metadata"]["name"], now=now)
    return pod


def start(cluster, pod, now, stamp):
    host = pod["spec"]["nodeName"]
    pod = store.update(cluster, {**pod, "status": running_status(pod, stamp)},
                       subresource="status", now=now).object
    took = cluster.container_start_seconds
    for c in pod["spec"]["containers"]:
        for reason, message in (
            ("Pulled", f'Successfully pulled image "{c["image"]}" in {took:g}s '
                       f"({took:g}s including waiting). Image size: {images.size(c['image'])} "
                       "bytes."),
            ("Created", f"Created container {c['name']}"),
            ("Started", f"Started container {c['name']}"),
        ):
            store.record_event(cluster, pod, "Normal", reason, message, component=COMPONENT,
                               host=host, now=now)


def finish_terminating(cluster, pod, now, stamp):
    """Stop the containers when deletion starts; remove the pod when its grace has run out."""
    meta = pod["metadata"]
    deadline = store.parse_timestamp(meta["deletionTimestamp"])
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    if any(cs.get("ready") for cs in statuses):
        pod = store.update(cluster, {**pod, "status": stopping_status(pod, stamp)},
                           subresource="status", now=now).object
        for c in pod["spec"]["containers"]:
            store.record_event(cluster, pod, "Normal", "Killing", f"Stopping container {c['name']}",
                               component=COMPONENT, host=pod["spec"].get("nodeName"), now=now)
    if now >= deadline:
        kind = store.kinds.get("Pod")
        store.delete(cluster, kind, meta["namespace"], meta["name"], grace_period=0, now=now)
