"""Node (v1, cluster-scoped). Its status is the simulated kubelet's and node controller's."""

from cluster import quantity
from cluster.errors import FieldError
from cluster.kinds import Kind, register
from cluster.kinds import validation as v

# What a simulated node offers unless its manifest says otherwise.
DEFAULT_CAPACITY = {"cpu": "4", "memory": "16Gi", "pods": "110", "ephemeral-storage": "100Gi"}
TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")


def condition(node, type_):
    for cond in (node.get("status") or {}).get("conditions") or []:
        if cond.get("type") == type_:
            return cond
    return None


def is_ready(node):
    cond = condition(node, "Ready")
    return bool(cond and cond.get("status") == "True")


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
