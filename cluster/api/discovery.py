"""What a client learns before it asks for objects: /version and API discovery.

kubectl's first requests (kubectl-protocol.md, section 1): `/version` (the Cloud SDK
dispatcher picks its bundled kubectl by the server's minor), then `/api` and `/apis`. Asked for
`application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList`, those answer the
aggregated document (every group, version and resource in one); otherwise the legacy
APIVersions / APIGroupList, and the client then reads `/api/v1` and `/apis/{group}/{version}`
(APIResourceList) one by one. Everything is built from the registered kinds (cluster.kinds):
their names, scope, verbs, short names, categories, subresources and the deprecated versions
kubelab still accepts, served as non-preferred versions of their groups.
"""

import functools
import re
from dataclasses import dataclass


from cluster import kinds
from cluster.api import paths, views, wire

# What a v1.32.0 kube-apiserver reports (version.Info), build facts included.
VERSION_INFO = {
    "major": "1",
    "minor": "32",
    "gitVersion": "v1.32.0",
    "gitCommit": "70d3cc986aa8221cd1dfb1121852688902d3bf53",
    "gitTreeState": "clean",
    "buildDate": "2024-12-11T17:59:15Z",
    "goVersion": "go1.23.3",
    "compiler": "gc",
    "platform": "linux/amd64",
}

DISCOVERY_GROUP = "apidiscovery.k8s.io"
AGGREGATED_KIND = "APIGroupDiscoveryList"
# The aggregated formats, newest first: client-go asks for v2, then v2beta1 (1.26-1.29).
AGGREGATED_VERSIONS = ("v2", "v2beta1")


def aggregated_content_type(version):
    return f"application/json;g={DISCOVERY_GROUP};v={version};as={AGGREGATED_KIND}"


# ---------------------------------------------------------------------------------------------
# Subresources: what each one answers (its kind) and which verbs it takes, in Kubernetes 1.32.


@dataclass(frozen=True)
class Subresource:
    verbs: tuple
    # (group, version, kind) of what it answers; None: the parent kind itself.
    response_kind: tuple | None = None


def _proxy_options(kind):
    # pods/proxy answers PodProxyOptions, services/proxy ServiceProxyOptions, ...
    return ("", "v1", f"{kind.kind}ProxyOptions")


SUBRESOURCES = {
    "status": Subresource(("get", "patch", "update")),
    "log": Subresource(("get",)),
    "exec": Subresource(("create", "get"), ("", "v1", "PodExecOptions")),
    "proxy": Subresource(("create", "delete", "get", "patch", "update"), _proxy_options),
    "eviction": Subresource(("create",), ("policy", "v1", "Eviction")),
    "binding": Subresource(("create",), ("", "v1", "Binding")),
    "scale": Subresource(("get", "patch", "update"), ("autoscaling", "v1", "Scale")),
    "finalize": Subresource(("update",)),
}


def advertised_subresources(kind):
    """The subresources discovery names for a kind: those it declares for discovery (some
    still being built), else those paths.py serves."""
    declared = getattr(kind, "discovery_subresources", None)
    return tuple(declared) if declared is not None else paths.subresources(kind)


def _response_kind(kind, subresource, group, version):
    """(group, version, kind) a subresource answers, at the parent's group-version."""
    found = SUBRESOURCES[subresource].response_kind
    if callable(found):
        found = found(kind)
    if found is None:
        return (group, version, kind.kind)
    return found


# ---------------------------------------------------------------------------------------------
# The served group-versions, built from the registered kinds.


@dataclass(frozen=True)
class Served:
    """One kind as one group-version serves it. `preferred` is False for a deprecated
    version kubelab still accepts (apps/v1beta2 ReplicaSet, extensions/v1beta1 Ingress)."""

    kind: kinds.Kind
    group: str
    version: str
    preferred: bool


# The order of groups in /apis: kube-apiserver's group priorities for the built-in groups;
# others (kubelab.io, as a CRD's group would be) follow, then groups that only hold
# deprecated versions, so that `kubectl get rs` or `ing` resolves to the current group.
GROUP_ORDER = ("apps", "events.k8s.io", "autoscaling", "batch", "networking.k8s.io", "policy")

_VERSION = re.compile(r"^v(\d+)(?:(alpha|beta)(\d+))?$")


def version_priority(version):
    """Kubernetes' version order: GA before beta before alpha, newer numbers first."""
    found = _VERSION.match(version)
    if not found:
        return (3, 0, 0, version)
    major, stage, minor = found.groups()
    rank = {None: 0, "beta": 1, "alpha": 2}[stage]
    return (rank, -int(major), -int(minor or 0), version)


def served():
    """Every (kind, group, version) kubelab serves, current and deprecated."""
    out = []
    for kind in kinds.all_kinds():
        out.append(Served(kind, kind.group, kind.version, True))
        for api_version in kind.deprecated_versions:
            group, version = kinds.split_api_version(api_version)
            out.append(Served(kind, group, version, False))
    return out


@functools.lru_cache(maxsize=None)
def groups():
    """[(group, [(version, [Served, ...]), ...]), ...]: groups in /apis order (the core
    group "" first), each group's versions preferred first. Kinds register at import, so
    this is built once per process."""
    by_group = {}
    for entry in served():
        by_group.setdefault(entry.group, {}).setdefault(entry.version, []).append(entry)

    def group_key(name):
        current = any(e.preferred for versions in by_group[name].values() for e in versions)
        builtin = GROUP_ORDER.index(name) if name in GROUP_ORDER else len(GROUP_ORDER)
        return (name != "", not current, builtin, name)

    out = []
    for name in sorted(by_group, key=group_key):
        versions = by_group[name]
        ordered = sorted(versions, key=lambda v: (not any(e.preferred for e in versions[v]),
                                                  version_priority(v)))
        out.append((name, [(v, sorted(versions[v], key=lambda e: e.kind.plural))
                           for v in ordered]))
    return out


def group_version(group, version):
    """The kinds served at one group-version, or None when it is not served."""
    for name, versions in groups():
        if name == group:
            for found, entries in versions:
                if found == version:
                    return entries
    return None


# ---------------------------------------------------------------------------------------------
# Bodies


def _gvk(group, version, kind):
    return {"group": group, "version": version, "kind": kind}


def _listed_names(entry):
    """Short names and categories belong to the preferred version only: on a deprecated
    version too, `kubectl get all` would list each ReplicaSet twice (replicaset.apps and
    replicaset.extensions) and `rs` could resolve to the old group."""
    if not entry.preferred:
        return (), ()
    return tuple(entry.kind.short_names), tuple(entry.kind.categories)


def aggregated_resource(entry):
    """One APIResourceDiscovery (apidiscovery.k8s.io/v2)."""
    kind = entry.kind
    body = {
        "resource": kind.plural,
        "responseKind": _gvk(entry.group, entry.version, kind.kind),
        "scope": "Namespaced" if kind.namespaced else "Cluster",
        "singularResource": kind.singular,
        "verbs": sorted(kind.verbs),
    }
    short_names, categories = _listed_names(entry)
    if short_names:
        body["shortNames"] = list(short_names)
    if categories:
        body["categories"] = list(categories)
    subresources = [
        {"subresource": name,
         "responseKind": _gvk(*_response_kind(kind, name, entry.group, entry.version)),
         "verbs": list(SUBRESOURCES[name].verbs)}
        for name in advertised_subresources(kind) if name in SUBRESOURCES]
    if subresources:
        body["subresources"] = subresources
    return body


def aggregated(core, version="v2"):
    """The APIGroupDiscoveryList of /api (core=True) or of /apis."""
    items = []
    for name, versions in groups():
        if (name == "") != core:
            continue
        items.append({
            "metadata": {"name": name, "creationTimestamp": None},
            "versions": [{"version": v, "resources": [aggregated_resource(e) for e in entries],
                          "freshness": "Current"}
                         for v, entries in versions],
        })
    return {"kind": AGGREGATED_KIND, "apiVersion": f"{DISCOVERY_GROUP}/{version}",
            "metadata": {}, "items": items}


def api_versions(request):
    """The legacy /api: APIVersions."""
    return {"kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0",
                                            "serverAddress": request.get_host()}]}


def _group_version_ref(group, version):
    return {"groupVersion": f"{group}/{version}", "version": version}


def api_group_list():
    """The legacy /apis: APIGroupList, the preferred version of each group first."""
    out = []
    for name, versions in groups():
        if name == "":
            continue
        refs = [_group_version_ref(name, v) for v, _entries in versions]
        out.append({"name": name, "versions": refs, "preferredVersion": refs[0]})
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": out}


def resource_list(group, version, entries):
    """The legacy /api/v1 or /apis/{group}/{version}: APIResourceList, each resource followed
    by its subresources ("pods/log"), as the API server lists them."""
    resources = []
    for entry in entries:
        kind = entry.kind
        body = {"name": kind.plural, "singularName": kind.singular,
                "namespaced": kind.namespaced, "kind": kind.kind, "verbs": sorted(kind.verbs)}
        short_names, categories = _listed_names(entry)
        if short_names:
            body["shortNames"] = list(short_names)
        if categories:
            body["categories"] = list(categories)
        resources.append(body)
        for name in advertised_subresources(kind):
            if name not in SUBRESOURCES:
                continue
            sub_group, sub_version, sub_kind = _response_kind(kind, name, group, version)
            sub = {"name": f"{kind.plural}/{name}", "singularName": "",
                   "namespaced": kind.namespaced}
            if (sub_group, sub_version) != (group, version):
                sub["group"], sub["version"] = sub_group, sub_version
            sub.update({"kind": sub_kind, "verbs": list(SUBRESOURCES[name].verbs)})
            resources.append(sub)
    group_version_name = f"{group}/{version}" if group else version
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version_name,
            "resources": resources}


# ---------------------------------------------------------------------------------------------
# Content negotiation


def wanted_aggregated(request):
    """The aggregated format version the Accept header asks for first ("v2", "v2beta1"), or
    None for the legacy shapes. Media ranges are taken in the order the client lists them."""
    for media_range in request.headers.get("Accept", "").split(","):
        kind, *params = [part.strip() for part in media_range.split(";")]
        if kind in ("application/json", "application/*", "*/*") and not params:
            return None      # plain JSON comes before any aggregated form: legacy
        if kind != "application/json":
            continue
        options = dict(p.split("=", 1) for p in params if "=" in p)
        if options.get("g") == DISCOVERY_GROUP and options.get("as") == AGGREGATED_KIND \
                and options.get("v") in AGGREGATED_VERSIONS:
            return options["v"]
    return None


def _respond(body, content_type=None):
    response = wire.respond(body)
    if content_type:
        response["Content-Type"] = content_type
    # The same URL answers two shapes: caches must key on the Accept header.
    response["Vary"] = "Accept"
    return response


@views.cluster_view
def version(request):
    """GET /version: a v1.32.0 server."""
    return wire.respond(VERSION_INFO)


@views.cluster_view
def api_root(request):
    """GET /api: aggregated discovery of the core group, or APIVersions."""
    wanted = wanted_aggregated(request)
    if wanted:
        return _respond(aggregated(True, wanted), aggregated_content_type(wanted))
    return _respond(api_versions(request))


@views.cluster_view
def apis_root(request):
    """GET /apis: aggregated discovery of every named group, or APIGroupList."""
    wanted = wanted_aggregated(request)
    if wanted:
        return _respond(aggregated(False, wanted), aggregated_content_type(wanted))
    return _respond(api_group_list())


@views.cluster_view
def core_resources(request, version):
    """GET /api/{version}: the core group's APIResourceList."""
    return group_resources(request, "", version)


@views.cluster_view
def named_group(request, group):
    """GET /apis/{group}: one APIGroup."""
    for name, versions in groups():
        if name == group and name:
            refs = [_group_version_ref(name, v) for v, _entries in versions]
            return wire.respond({"kind": "APIGroup", "apiVersion": "v1", "name": name,
                                 "versions": refs, "preferredVersion": refs[0]})
    raise paths.not_found()


def group_resources(request, group, version):
    """GET /apis/{group}/{version}: that group-version's APIResourceList."""
    entries = group_version(group, version)
    if entries is None:
        raise paths.not_found()
    return wire.respond(resource_list(group, version, entries))


named_resources = views.cluster_view(group_resources)
