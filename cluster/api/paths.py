"""Resource URLs in the Kubernetes shape, resolved to a kind, a scope and a verb.

Below `/clusters/{cluster}`:

    /api/v1/{plural}                                    list every namespace / cluster-scoped
    /api/v1/{plural}/{name}[/{subresource}]             a cluster-scoped object
    /api/v1/namespaces/{ns}/{plural}                    a namespaced collection
    /api/v1/namespaces/{ns}/{plural}/{name}[/{sub}]     a namespaced object
    /apis/{group}/{version}/...                         the same for a named group

`/api/v1/namespaces` and `/api/v1/namespaces/{name}` are the Namespace kind itself; a third
segment is a namespaced plural, unless it is one of the Namespace's own subresources
(`/api/v1/namespaces/{name}/status`), as the API server's routes read them.
"""

from dataclasses import dataclass

from cluster import kinds
from cluster.errors import MethodNotAllowed, NotFound

NOT_FOUND = "the server could not find the requested resource"

# The Namespace's own subresources: a plural of that name cannot follow /namespaces/{ns}/.
NAMESPACE_SUBRESOURCES = ("status", "finalize")

# Which verb each HTTP method is on a collection, an object, and a subresource.
COLLECTION_VERBS = {"GET": "list", "POST": "create", "DELETE": "deletecollection"}
OBJECT_VERBS = {"GET": "get", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}
SUBRESOURCE_VERBS = {
    # POST /pods/{name}/binding, /exec, /scale ... come with later issues.
    "status": {"GET": "get", "PUT": "update", "PATCH": "patch"},
    "log": {"GET": "log"},
    # autoscaling/v1 Scale of rc and rs (cluster.api.scale); policy/v1 Eviction of a pod
    # (cluster.api.eviction).
    "scale": {"GET": "getscale", "PUT": "updatescale", "PATCH": "patchscale"},
    "eviction": {"POST": "evict"},
    # Any method is passed on to the pod (cluster.api.proxy).
    "proxy": {method: "proxy" for method in
              ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")},
}
# Kinds whose /proxy/{path...} takes the rest of the URL: `{name}[:{port}]` in the name
# segment, the pod's path after /proxy.
PROXIED = ("pods", "services")
# Subresources served by their own API module, beside those a kind declares.
HANDLED_SUBRESOURCES = {
    ("", "ReplicationController"): ("scale",),
    ("apps", "ReplicaSet"): ("scale",),
    ("", "Pod"): ("eviction", "proxy"),
    ("", "Service"): ("proxy",),
}


def not_found():
    return NotFound(NOT_FOUND, details={})


@dataclass(frozen=True)
class Target:
    """What a URL names. `namespace` is None for cluster-scoped kinds and for a namespaced
    kind's list across all namespaces; `name` is None for a collection."""

    kind: kinds.Kind
    namespace: str | None
    name: str | None
    subresource: str | None
    # The apiVersion written in the URL and, when it is a deprecated one, its warning.
    api_version: str
    warning: str | None = None
    # For the proxy subresource: the path after /proxy ("/" when none).
    proxy_path: str | None = None

    @property
    def all_namespaces(self):
        return self.kind.namespaced and self.namespace is None

    def verb(self, method):
        """The Kubernetes verb for an HTTP method here, or MethodNotAllowed."""
        if self.subresource:
            verbs = SUBRESOURCE_VERBS.get(self.subresource, {})
        elif self.name is None:
            verbs = COLLECTION_VERBS
        else:
            verbs = OBJECT_VERBS
        verb = verbs.get(method)
        if verb is None:
            raise MethodNotAllowed(
                "the server does not allow this method on the requested resource",
                details={"kind": self.kind.plural,
                         **({"group": self.kind.group} if self.kind.group else {})})
        # Across all namespaces a namespaced kind can only be listed (and watched).
        if self.all_namespaces and verb != "list":
            raise MethodNotAllowed(
                f"{verb} is not supported on resources of kind "
                f'"{self.kind.group_resource}" across all namespaces',
                details={"kind": self.kind.plural})
        # A subresource's verbs are its own (GET /log is no "get" of the pod's verbs).
        if not self.subresource and verb not in self.kind.verbs:
            raise MethodNotAllowed(
                f'{verb} is not supported on resources of kind "{self.kind.group_resource}"',
                details={"kind": self.kind.plural,
                         **({"group": self.kind.group} if self.kind.group else {})})
        return verb


def served_version(kind, group, version):
    """None when `kind` is served at `version`; for a deprecated version it still accepts
    (kind.deprecated_versions: apps/v1beta2, ...) that version's warning; else NotFound.
    Bodies are converted both ways: kind.convert on the way in, kind.convert_out on the way
    out (views._handle)."""
    if group == kind.group and version == kind.version:
        return None
    warning = kind.deprecated_versions.get(f"{group}/{version}" if group else version)
    if warning is None:
        raise not_found()
    return warning


def kind_of_resource(group, version, plural):
    """The kind a resource URL names: by group, or for an old version that lived in another
    group (extensions/v1beta1 replicasets are apps/v1 now), the kind that still accepts it."""
    kind = kinds.by_resource(group, plural)
    if kind is not None:
        return kind
    return next((k for k in kinds.all_kinds()
                 if k.plural == plural and f"{group}/{version}" in k.deprecated_versions), None)


def subresources(kind):
    """The subresources a kind serves. A kind may declare `subresources`; by default a kind
    with a status has /status (the Clock's status is its time, which no client writes)."""
    handled = HANDLED_SUBRESOURCES.get((kind.group, kind.kind), ())
    declared = getattr(kind, "subresources", None)
    if declared is not None:
        return tuple(declared) + tuple(h for h in handled if h not in declared)
    if kind.has_status and "update" in kind.verbs and kind.kind != "Clock":
        return ("status",) + handled
    return handled


def resolve(group, version, rest):
    """The Target of `rest` (the path after /api/v1/ or /apis/{group}/{version}/)."""
    segments = rest.split("/")
    segments, proxy_path = split_proxy(group, segments)
    if not all(segments):
        raise not_found()
    namespace = None
    namespace_own = not group and len(segments) == 3 and segments[2] in NAMESPACE_SUBRESOURCES
    if segments[0] == "namespaces" and len(segments) >= 3 and not namespace_own:
        namespace, segments = segments[1], segments[2:]
    if len(segments) > 3:
        raise not_found()
    plural = segments[0]
    name = segments[1] if len(segments) > 1 else None
    subresource = segments[2] if len(segments) > 2 else None

    kind = kind_of_resource(group, version, plural)
    if kind is None:
        raise not_found()
    warning = served_version(kind, group, version)
    if namespace is not None and not kind.namespaced:
        raise not_found()
    if kind.namespaced and namespace is None and name is not None:
        raise not_found()        # /api/v1/pods/web: a pod needs its namespace
    if subresource is not None and subresource not in subresources(kind):
        raise not_found()
    api_version = f"{group}/{version}" if group else version
    return Target(kind, namespace, name, subresource, api_version, warning, proxy_path)


def split_proxy(group, segments):
    """(segments up to `proxy`, the path after it) for namespaces/{ns}/{pods|services}/
    {name[:port]}/proxy[/{path...}]; (segments, None) for any other URL."""
    if not group and len(segments) >= 5 and segments[0] == "namespaces" and \
            segments[2] in PROXIED and segments[4] == "proxy":
        return segments[:5], "/" + "/".join(segments[5:])
    return segments, None
