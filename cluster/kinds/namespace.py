"""Namespace (v1, cluster-scoped)."""

from cluster import printing
from cluster.kinds import Kind, register
from cluster.kinds import validation as v

# Namespaces every cluster starts with; the API server refuses to delete them.
SYSTEM = ("default", "kube-system", "kube-public", "kube-node-lease")


@register
class Namespace(Kind):
    kind = "Namespace"
    plural, singular = "namespaces", "namespace"
    namespaced = False
    short_names = ("ns",)
    model = "V1Namespace"
    discovery_subresources = ("status", "finalize")
    # Namespaces have no deletecollection in the API server (too easy to wipe a cluster).
    verbs = ("create", "delete", "get", "list", "patch", "update", "watch")

    def default(self, obj, ctx):
        spec = obj.setdefault("spec", {})
        spec.setdefault("finalizers", ["kubernetes"])
        labels = obj["metadata"].setdefault("labels", {})
        # The NamespaceDefaultLabelName feature (GA since 1.22) labels each namespace by name.
        labels["kubernetes.io/metadata.name"] = obj["metadata"].get("name", "")

    def prepare_create(self, obj, ctx):
        obj["status"] = {"phase": "Active"}

    def validate(self, obj, ctx):
        name = obj["metadata"].get("name", "")
        return v.each("metadata.name", name, v.dns1123_label(name))

    # kubectl get ns: printNamespace's columns.
    columns = (printing.NAME,
               printing.Column("Status", description="The status of the namespace"),
               printing.AGE)

    def printer_row(self, obj, now):
        return [obj["metadata"].get("name", ""), (obj.get("status") or {}).get("phase", ""),
                printing.age(obj, now)]

    def index(self, obj):
        return {"phase": (obj.get("status") or {}).get("phase") or ""}
