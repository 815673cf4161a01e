"""The kinds kubelab serves: one module per kind, registered here.

A Kind knows its names (for URLs, discovery and kubectl short names), the apiVersions it
accepts, and its rules: defaulting, validation on create and update, and the indexed columns
the store keeps for it. It never touches the database; the store calls it.
"""

from cluster import printing

_by_kind = {}
_by_resource = {}


class Kind:
    kind = ""
    group = ""
    version = "v1"
    plural = ""
    singular = ""
    namespaced = True
    short_names = ()
    categories = ()
    # The client model used as this kind's field schema (cluster.schema).
    model = ""
    # Old apiVersions still accepted, each with the warning that names the current form.
    deprecated_versions = {}
    has_status = True
    # Pods in 1.32 carry no metadata.generation; controllers' objects do.
    has_generation = False
    # What deleting one does to its dependents when DeleteOptions do not say: the API
    # server's DefaultGarbageCollectionPolicy (Orphan for v1 ReplicationController and batch/v1
    # Job, kept from before server-side garbage collection; Background for the rest).
    default_propagation = "Background"
    # Said when a delete leaves the propagation to that default (batch/v1 Job's REST storage).
    default_propagation_warning = ""
    # The verbs discovery advertises.
    verbs = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")
    # The subresources discovery advertises (cluster.api.discovery.SUBRESOURCES names them);
    # None: those paths.py serves. May name one whose handler is still to come.
    discovery_subresources = None

    @property
    def api_version(self):
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def group_resource(self):
        """'pods' or 'replicasets.apps': how Status messages name the resource."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    def convert(self, obj, api_version):
        """Bring an object written in a deprecated apiVersion to the current one."""
        obj["apiVersion"] = self.api_version
        return obj

    def convert_out(self, obj, api_version):
        """The stored (current-version) object as a client of a deprecated apiVersion reads
        it: the inverse of `convert`. Most old versions differ only in their name."""
        obj["apiVersion"] = api_version
        return obj

    def default(self, obj, ctx):
        """Fill in what the API server defaults (mutates `obj`)."""

    def prepare_create(self, obj, ctx):
        """What the API server resets on create (status, mostly)."""

    def prepare_update(self, old, new, ctx):
        """What the API server sets on an update of the main resource (mutates `new`)."""

    def validate(self, obj, ctx):
        """Field errors of a whole object (create and update)."""
        return []

    def validate_update(self, old, new, ctx):
        """Extra field errors of an update: what may not change."""
        return []

    def allocate(self, obj, ctx, old=None):
        """Assign what must be unique in the cluster (mutates `obj`; raises Invalid); runs
        inside the store's locked transaction. `old`: the stored object, on update."""

    def index(self, obj):
        """Column values the store keeps for queries: node_name, phase, owner_uid."""
        return {}

    # What `kubectl get` prints (cluster.api.tables): the Table's columns, priority 1 only
    # with -o wide. A kind without its own printer prints NAME and AGE, as the API server's
    # default table convertor does.
    columns = printing.NAME_AGE

    def printer_row(self, obj, now):
        """The cells of one object's row, one per column; times read against `now`."""
        return [obj["metadata"].get("name", ""), printing.age(obj, now)]

    def row_conditions(self, obj):
        """TableRow conditions (a finished pod's Completed); none for most kinds."""
        return []


def register(kind_cls):
    kind = kind_cls()
    _by_kind[(kind.group, kind.kind)] = kind
    _by_resource[(kind.group, kind.plural)] = kind
    return kind_cls


def all_kinds():
    return list(_by_kind.values())


def get(kind, group=""):
    return _by_kind.get((group, kind))


def by_resource(group, plural):
    return _by_resource.get((group, plural))


def split_api_version(api_version):
    if "/" in api_version:
        group, version = api_version.split("/", 1)
        return group, version
    return "", api_version


def resolve(api_version, kind):
    """(Kind, warning or None) for an apiVersion and kind as written in a manifest.

    None when kubelab does not serve that pair; the caller words the refusal.
    """
    group, version = split_api_version(api_version or "")
    found = _by_kind.get((group, kind))
    if found is None:
        # An old version may live in another group (extensions/v1beta1 ReplicaSet is now
        # apps/v1): the kind of that name that still accepts this apiVersion.
        found = next((k for k in _by_kind.values()
                      if k.kind == kind and f"{group}/{version}" in k.deprecated_versions), None)
        if found is None:
            return None, None
        return found, found.deprecated_versions[f"{group}/{version}"]
    if version == found.version:
        return found, None
    if f"{group}/{version}" in found.deprecated_versions or version in found.deprecated_versions:
        key = f"{group}/{version}" if group else version
        return found, found.deprecated_versions[key]
    return None, None


def no_match_message(api_version, kind):
    """kubectl's words for a kind/version pair the server does not serve."""
    return f'no matches for kind "{kind}" in version "{api_version}"'


def owner_controller_uid(obj):
    for ref in obj.get("metadata", {}).get("ownerReferences") or []:
        if ref.get("controller"):
            return ref.get("uid", "")
    return ""


# Import the kind modules so they register themselves.
from cluster.kinds import clock, event, namespace, node, pod  # noqa: E402,F401
from cluster.kinds import (  # noqa: E402,F401
    cronjob, daemonset, endpoints, endpointslice, ingress, job, replicaset, replicationcontroller,
    service,
)
