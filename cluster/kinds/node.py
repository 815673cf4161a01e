"""Node (v1, cluster-scoped). Its status is the simulated kubelet's and node controller's."""

from cluster import printing, quantity
from cluster.errors import FieldError
from cluster.kinds import Kind, register
from cluster.kinds import validation as v

# What a simulated node offers unless its manifest says otherwise.
DEFAULT_CAPACITY = {"cpu": "4", "memory": "16Gi", "pods": "110", "ephemeral-storage": "100Gi"}
TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")

# kubelab's power switch: "off" stops the node's kubelet (and so its heartbeat); absent or "on"
# runs it. Set through the API (`kubectl annotate node node-1 kubelab.io/power=off`) or the board.
POWER_ANNOTATION = "kubelab.io/power"
POWER_VALUES = ("off", "on")
# kubelab serves no coordination.k8s.io Leases: a running kubelet counts as renewing its Lease in
# kube-node-lease continuously, and a stopped one leaves here the time of its last renewal.
LEASE_RENEW_ANNOTATION = "kubelab.io/lease-renew-time"

# The well-known taints (k8s.io/api/core/v1/well_known_taints.go).
TAINT_NOT_READY = "node.kubernetes.io/not-ready"
TAINT_UNREACHABLE = "node.kubernetes.io/unreachable"
TAINT_UNSCHEDULABLE = "node.kubernetes.io/unschedulable"
TAINT_MEMORY_PRESSURE = "node.kubernetes.io/memory-pressure"
TAINT_DISK_PRESSURE = "node.kubernetes.io/disk-pressure"
TAINT_PID_PRESSURE = "node.kubernetes.io/pid-pressure"
TAINT_NETWORK_UNAVAILABLE = "node.kubernetes.io/network-unavailable"
TAINT_OUT_OF_SERVICE = "node.kubernetes.io/out-of-service"


def condition(node, type_):
    for cond in (node.get("status") or {}).get("conditions") or []:
        if cond.get("type") == type_:
            return cond
    return None


def is_ready(node):
    cond = condition(node, "Ready")
    return bool(cond and cond.get("status") == "True")


def powered_off(node):
    return ((node.get("metadata") or {}).get("annotations") or {}).get(POWER_ANNOTATION) == "off"


def lease_renew_time(node):
    """The last Lease renewal of a stopped kubelet (a timestamp string), or None if running."""
    return ((node.get("metadata") or {}).get("annotations") or {}).get(LEASE_RENEW_ANNOTATION)


def taints(node):
    return list((node.get("spec") or {}).get("taints") or [])


def zone_key(node):
    """The node's zone as the node lifecycle controller groups nodes (topology.GetZoneKey)."""
    labels = (node.get("metadata") or {}).get("labels") or {}
    zone = labels.get("topology.kubernetes.io/zone") or \
        labels.get("failure-domain.beta.kubernetes.io/zone", "")
    region = labels.get("topology.kubernetes.io/region") or \
        labels.get("failure-domain.beta.kubernetes.io/region", "")
    return f"{region}:\x00:{zone}" if region or zone else ""


def allocatable(node):
    status = node.get("status") or {}
    return status.get("allocatable") or status.get("capacity") or DEFAULT_CAPACITY


@register
class Node(Kind):
    kind = "Node"
    plural, singular = "nodes", "node"
    namespaced = False
    short_names = ("no",)
    model = "V1Node"
    discovery_subresources = ("status", "proxy")

    def default(self, obj, ctx):
        obj.setdefault("spec", {})

    def prepare_create(self, obj, ctx):
        status = obj.get("status") or {}
        capacity = {**DEFAULT_CAPACITY, **(status.get("capacity") or {})}
        obj["status"] = {
            "capacity": capacity,
            "allocatable": {**capacity, **(status.get("allocatable") or {})},
            "conditions": status.get("conditions") or [],
            "addresses": status.get("addresses") or [],
            "nodeInfo": status.get("nodeInfo") or {},
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
        }

    def validate(self, obj, ctx):
        errors = []
        name = obj["metadata"].get("name", "")
        errors += v.each("metadata.name", name, v.dns1123_subdomain(name))
        power = (obj["metadata"].get("annotations") or {}).get(POWER_ANNOTATION)
        if power is not None and power not in POWER_VALUES:
            errors.append(FieldError.not_supported(
                f"metadata.annotations[{POWER_ANNOTATION}]", power, POWER_VALUES))
        for i, taint in enumerate((obj.get("spec") or {}).get("taints") or []):
            path = f"spec.taints[{i}]"
            if not taint.get("key"):
                errors.append(FieldError.required(f"{path}.key"))
            if taint.get("effect") not in TAINT_EFFECTS:
                errors.append(FieldError.not_supported(f"{path}.effect", taint.get("effect"),
                                                       TAINT_EFFECTS))
        for section in ("capacity", "allocatable"):
            for res, value in ((obj.get("status") or {}).get(section) or {}).items():
                try:
                    quantity.parse(value)
                except ValueError as exc:
                    errors.append(FieldError.invalid(f"status.{section}[{res}]", value, str(exc)))
        return errors

    # kubectl get nodes: printNode's columns.
    columns = (
        printing.NAME,
        printing.Column("Status", description="The status of the node"),
        printing.Column("Roles", description="The roles of the node"),
        printing.AGE,
        printing.Column("Version", description=("V1NodeSystemInfo", "kubeletVersion")),
        printing.Column("Internal-IP", description=("V1NodeStatus", "addresses"), priority=1),
        printing.Column("External-IP", description=("V1NodeStatus", "addresses"), priority=1),
        printing.Column("OS-Image", description=("V1NodeSystemInfo", "osImage"), priority=1),
        printing.Column("Kernel-Version", description=("V1NodeSystemInfo", "kernelVersion"),
                        priority=1),
        printing.Column("Container-Runtime",
                        description=("V1NodeSystemInfo", "containerRuntimeVersion"), priority=1),
    )

    def printer_row(self, obj, now):
        status = obj.get("status") or {}
        ready = condition(obj, "Ready")
        states = [("Ready" if ready.get("status") == "True" else "NotReady")
                  if ready is not None else "Unknown"]
        if (obj.get("spec") or {}).get("unschedulable"):
            states.append("SchedulingDisabled")
        info = status.get("nodeInfo") or {}
        addresses = status.get("addresses") or []

        def address(type_):
            return next((a.get("address") for a in addresses if a.get("type") == type_),
                        printing.NONE)

        return [obj["metadata"].get("name", ""), ",".join(states),
                ",".join(node_roles(obj)) or printing.NONE, printing.age(obj, now),
                info.get("kubeletVersion", ""), address("InternalIP"), address("ExternalIP"),
                info.get("osImage") or printing.UNKNOWN,
                info.get("kernelVersion") or printing.UNKNOWN,
                info.get("containerRuntimeVersion") or printing.UNKNOWN]


def node_roles(node):
    """findNodeRoles: node-role.kubernetes.io/<role> labels and kubernetes.io/role=<role>,
    sorted and unique."""
    roles = set()
    for key, value in ((node.get("metadata") or {}).get("labels") or {}).items():
        if key.startswith("node-role.kubernetes.io/"):
            role = key[len("node-role.kubernetes.io/"):]
            if role:
                roles.add(role)
        elif key == "kubernetes.io/role" and value:
            roles.add(value)
    return sorted(roles)
