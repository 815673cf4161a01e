"""The node side of the control plane: node IPAM and each node's kubelet registration.

A node created through the API gets a pod CIDR (as the node IPAM controller assigns one) and,
once its simulated kubelet registers, addresses, node info and a Ready condition.
"""

import copy
import ipaddress

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


def plan_registration(node, used_cidrs, used_ips, now):
    """The node as it should be once registered, or None when nothing is missing. Pure."""
    spec, status = node.get("spec") or {}, node.get("status") or {}
    if spec.get("podCIDR") and status.get("addresses") and \
            status.get("nodeInfo", {}).get("kubeletVersion") and \
            node_kind.condition(node, "Ready") is not None:
        return None   # registered: the common case, every tick, so no copy
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


def reconcile(cluster, now):
    """Register every node that lacks a pod CIDR, addresses or conditions."""
    nodes = [row.body for row in ApiObject.objects.filter(cluster=cluster).nodes()]
    used_cidrs = {(n.get("spec") or {}).get("podCIDR") for n in nodes}
    used_ips = {a["address"] for n in nodes for a in (n.get("status") or {}).get("addresses") or []}
    stamp = store.timestamp(now)
    for node in nodes:
        wanted = plan_registration(node, used_cidrs, used_ips, stamp)
        if wanted is None:
            continue
        try:
            if wanted["spec"] != node["spec"]:
                node = store.update(cluster, {**wanted, "status": node["status"]}, now=now).object
                wanted["metadata"]["resourceVersion"] = node["metadata"]["resourceVersion"]
            if wanted["status"] != node["status"]:
                was_ready = node_kind.is_ready(node)
                node = store.update(cluster, wanted, subresource="status", now=now).object
                if not was_ready and node_kind.is_ready(node):
                    store.record_event(cluster, node, "Normal", "NodeReady",
                                       f"Node {node['metadata']['name']} status is now: NodeReady",
                                       component="kubelet", host=node["metadata"]["name"], now=now)
        except Conflict:
            continue  # someone wrote the node meanwhile; the next tick sees the new version
