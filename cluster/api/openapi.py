"""OpenAPI v3: the documents kubectl reads to validate, explain and patch.

`GET /openapi/v3` lists one document per served group-version (`api/v1`, `apis/apps/v1`, ...)
with a `serverRelativeURL` carrying the document's hash; `GET /openapi/v3/{path}` answers it:
the resource paths with their operations (each tagged with x-kubernetes-group-version-kind,
which is how kubectl finds a kind's PATCH parameters and its schema), and component schemas
generated from the field schema kubelab checks objects against (cluster.schema: the official
client's models, their field descriptions, plus kubelab's own registered models).

What kubectl does with them (kubectl-protocol.md, section 3):
- `apply`/`create -f` with --validate=strict look for a `fieldValidation` parameter on the
  kind's PATCH operation; finding it, they let the server validate (fieldValidation=Strict).
- `explain` walks the component schemas from the kind's schema down the field path.
- A PATCH operation here declares no requestBody, so `apply` computes its strategic merge
  patch from kubectl's compiled-in types rather than from these schemas.

Documents are static per process: each is built once, on first use.
"""

import functools
import hashlib
import json
import re

from django.http import HttpResponse

from cluster import schema
from cluster.api import discovery, paths, views, wire
from cluster.errors import NotFound

REF = "#/components/schemas/"
META = "io.k8s.apimachinery.pkg.apis.meta.v1"
TIME = f"{META}.Time"
INT_OR_STRING = "io.k8s.apimachinery.pkg.util.intstr.IntOrString"
QUANTITY = "io.k8s.apimachinery.pkg.api.resource.Quantity"

# The Go package each API group's types live in (io.k8s.api.<package>.<version>.<Kind>).
GROUP_PACKAGES = {"": "core", "apps": "apps", "batch": "batch",
                  "networking.k8s.io": "networking", "policy": "policy",
                  "autoscaling": "autoscaling", "events.k8s.io": "events"}
# The client's models of apimachinery's meta/v1 types.
META_MODELS = {"V1ObjectMeta", "V1ListMeta", "V1LabelSelector", "V1LabelSelectorRequirement",
               "V1OwnerReference", "V1ManagedFieldsEntry", "V1Condition", "V1Status",
               "V1StatusDetails", "V1StatusCause", "V1DeleteOptions", "V1Preconditions"}

# Strategic merge patch metadata of Kubernetes' types (patchStrategy/patchMergeKey tags in
# k8s.io/api): (model, field) -> (strategy, merge key or None).
PATCH_META = {
    ("V1PodSpec", "containers"): ("merge", "name"),
    ("V1PodSpec", "initContainers"): ("merge", "name"),
    ("V1PodSpec", "ephemeralContainers"): ("merge", "name"),
    ("V1PodSpec", "volumes"): ("merge,retainKeys", "name"),
    ("V1PodSpec", "imagePullSecrets"): ("merge", "name"),
    ("V1PodSpec", "hostAliases"): ("merge", "ip"),
    ("V1PodSpec", "schedulingGates"): ("merge", "name"),
    ("V1PodSpec", "resourceClaims"): ("merge,retainKeys", "name"),
    ("V1Container", "ports"): ("merge", "containerPort"),
    ("V1Container", "env"): ("merge", "name"),
    ("V1Container", "volumeMounts"): ("merge", "mountPath"),
    ("V1Container", "volumeDevices"): ("merge", "devicePath"),
    ("V1ObjectMeta", "ownerReferences"): ("merge", "uid"),
    ("V1ObjectMeta", "finalizers"): ("merge", None),
    ("V1ServiceSpec", "ports"): ("merge", "port"),
    ("V1PodStatus", "conditions"): ("merge", "type"),
    ("V1PodStatus", "podIPs"): ("merge", "ip"),
    ("V1NodeStatus", "conditions"): ("merge", "type"),
    ("V1NodeStatus", "addresses"): ("merge", "type"),
    ("V1NamespaceStatus", "conditions"): ("merge", "type"),
    ("V1ServiceStatus", "conditions"): ("merge", "type"),
    ("V1ReplicationControllerStatus", "conditions"): ("merge", "type"),
    ("V1ReplicaSetStatus", "conditions"): ("merge", "type"),
    ("V1DaemonSetStatus", "conditions"): ("merge", "type"),
    ("V1JobStatus", "conditions"): ("merge", "type"),
}

_MODEL_NAME = re.compile(r"[A-Z][A-Za-z0-9]*")
_MODEL_PREFIX = re.compile(r"^(?:[A-Z][a-z]+)*?(V\d+(?:(?:alpha|beta)\d+)?)(?=[A-Z])")

# Query parameters of the write operations, as the API server documents them.
WRITE_PARAMETERS = ("dryRun", "fieldManager", "fieldValidation")
PATCH_PARAMETERS = WRITE_PARAMETERS + ("force",)
LIST_PARAMETERS = ("allowWatchBookmarks", "continue", "fieldSelector", "labelSelector", "limit",
                   "resourceVersion", "resourceVersionMatch", "sendInitialEvents",
                   "timeoutSeconds", "watch")


# ---------------------------------------------------------------------------------------------
# Component schemas


class Components:
    """The component schemas of one document, named as the API server names them
    (io.k8s.api.core.v1.Pod), each model once."""

    def __init__(self, packages):
        # model -> the package its name is read in: the first group whose kind reaches it.
        self.packages = packages
        self.schemas = {}

    def name(self, model):
        if model.startswith("Kubelab"):
            # kubelab's own kinds, named as a CRD's schemas are: reversed group, version.
            return "io.kubelab." + re.sub(r"^KubelabV(\d+)", r"v\1.", model)
        found = _MODEL_PREFIX.match(model)
        version = found.group(1).lower() if found else "v1"
        base = model[found.end():] if found else model
        if model in META_MODELS:
            return f"{META}.{base}"
        return f"io.k8s.api.{self.packages.get(model, 'core')}.{version}.{base}"

    def ref(self, model):
        self.add(model)
        return REF + self.name(model)

    def add(self, model):
        name = self.name(model)
        if name in self.schemas:
            return name
        self.schemas[name] = body = {"type": "object"}    # placed first: models recurse
        properties, required = {}, []
        requirements = _required(model)
        for json_name, attr, type_string, description in schema.fields(model):
            properties[json_name] = prop = self.property(type_string, description)
            strategy, key = PATCH_META.get((model, json_name), (None, None))
            if strategy:
                prop["x-kubernetes-patch-strategy"] = strategy
            if key:
                prop["x-kubernetes-patch-merge-key"] = key
            if attr in requirements:
                required.append(json_name)
        body["properties"] = properties
        if required:
            body["required"] = required
        return name

    def property(self, type_string, description=""):
        """The schema of a field of one type-language type."""
        prop = self._type(type_string)
        if "$ref" in prop:
            # OpenAPI 3.0 ignores siblings of $ref: the API server wraps it in allOf, so a
            # field's own description can stand beside it.
            prop = {"allOf": [prop]}
        if description:
            prop["description"] = description
        return prop

    def _type(self, type_string):
        simple = {"str": {"type": "string"}, "int": {"type": "integer"},
                  "bool": {"type": "boolean"}, "float": {"type": "number", "format": "double"},
                  "object": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}}
        if type_string in simple:
            return dict(simple[type_string])
        if type_string in ("datetime", "date"):
            self._builtin(TIME, {"type": "string", "format": "date-time"})
            return {"$ref": REF + TIME}
        if type_string == "int-or-string":
            self._builtin(INT_OR_STRING, {"x-kubernetes-int-or-string": True,
                                          "anyOf": [{"type": "integer"}, {"type": "string"}]})
            return {"$ref": REF + INT_OR_STRING}
        if type_string == "quantity":
            self._builtin(QUANTITY, {"oneOf": [{"type": "string"}, {"type": "number"}]})
            return {"$ref": REF + QUANTITY}
        if type_string.startswith("list["):
            return {"type": "array", "items": self._type(type_string[5:-1])}
        if type_string.startswith("dict("):
            value = type_string[5:-1].partition(",")[2].strip()
            return {"type": "object", "additionalProperties": self._type(value)}
        return {"$ref": self.ref(type_string)}

    def _builtin(self, name, body):
        self.schemas.setdefault(name, body)


@functools.lru_cache(maxsize=None)
def _validating_configuration():
    from kubernetes.client import Configuration

    configuration = Configuration()
    configuration.client_side_validation = True
    return configuration


@functools.lru_cache(maxsize=None)
def _required(model):
    """The python attributes the client model refuses to leave unset: Kubernetes' required
    fields (the generated setters raise ValueError on None when validating)."""
    from kubernetes.client import models

    cls = getattr(models, model, None)
    if cls is None or not hasattr(cls, "openapi_types"):
        return frozenset()
    probe = cls.__new__(cls)
    probe.local_vars_configuration = _validating_configuration()
    required = set()
    for attr in cls.openapi_types:
        try:
            setattr(probe, attr, None)
        except ValueError:
            required.add(attr)
    return frozenset(required)


@functools.lru_cache(maxsize=None)
def model_packages():
    """model -> Go package, from a walk down each kind's model: a model is named in the
    package of the first group whose kind reaches it, core first (PodSpec is core's even
    though a ReplicaSet holds one)."""
    packages = {}
    # Current versions only: extensions/v1beta1 must not claim networking's Ingress.
    order = sorted((e for e in discovery.served() if e.preferred),
                   key=lambda e: (e.group != "", e.group))
    for entry in order:
        package = GROUP_PACKAGES.get(entry.group, entry.group.split(".")[0])
        stack = [entry.kind.model]
        while stack:
            model = stack.pop()
            if model in packages or not schema.known_model(model):
                continue
            packages[model] = package
            for _json, _attr, type_string, _d in schema.fields(model):
                # Model names are the capitalised words of a type ('list[V1Container]').
                stack.extend(_MODEL_NAME.findall(type_string))
    return packages


# ---------------------------------------------------------------------------------------------
# Paths


def _parameter(name, where="query"):
    param = {"name": name, "in": where, "schema": {"type": "string", "uniqueItems": True}}
    if where == "path":
        param["required"] = True
    return param


def _operation(entry, action, response_ref, parameters=(), subresource=""):
    """One operation on a kind's path, tagged with the kind (x-kubernetes-group-version-kind)
    and with the query parameters it takes."""
    kind = entry.kind
    what = f"{kind.kind} {subresource}" if subresource else kind.kind
    descriptions = {"get": f"read the specified {what}",
                    "list": f"list or watch objects of kind {kind.kind}",
                    "post": f"create a {kind.kind}", "put": f"replace the specified {what}",
                    "patch": f"partially update the specified {what}",
                    "delete": f"delete a {kind.kind}",
                    "deletecollection": f"delete collection of {kind.kind}"}
    operation = {
        "description": descriptions[action],
        "operationId": f"{action}{kind.kind}{subresource.capitalize()}",
        "parameters": [_parameter(p) for p in parameters],
        "responses": {"200": {"description": "OK"}},
        "x-kubernetes-action": action,
        "x-kubernetes-group-version-kind": {"group": entry.group, "version": entry.version,
                                            "kind": kind.kind},
    }
    if response_ref:
        operation["responses"]["200"]["content"] = {
            "application/json": {"schema": {"$ref": response_ref}}}
    return operation


def _paths(entry, response_ref):
    """The URL paths of one kind at one group-version, with the operations its verbs allow."""
    kind = entry.kind
    prefix = f"/apis/{entry.group}/{entry.version}" if entry.group else f"/api/{entry.version}"
    collection = (f"{prefix}/namespaces/{{namespace}}/{kind.plural}" if kind.namespaced
                  else f"{prefix}/{kind.plural}")
    scope = [_parameter("namespace", "path")] if kind.namespaced else []
    named = scope + [_parameter("name", "path")]
    verbs = set(kind.verbs)
    out = {}

    ops = {}
    if "list" in verbs:
        ops["get"] = _operation(entry, "list", None, LIST_PARAMETERS)
    if "create" in verbs:
        ops["post"] = _operation(entry, "post", response_ref, WRITE_PARAMETERS)
    if "deletecollection" in verbs:
        ops["delete"] = _operation(entry, "deletecollection", None,
                                   ("dryRun", "labelSelector", "fieldSelector"))
    if ops:
        out[collection] = {**ops, "parameters": scope}

    ops = {}
    if "get" in verbs:
        ops["get"] = _operation(entry, "get", response_ref)
    if "update" in verbs:
        ops["put"] = _operation(entry, "put", response_ref, WRITE_PARAMETERS)
    if "patch" in verbs:
        ops["patch"] = _operation(entry, "patch", response_ref, PATCH_PARAMETERS)
    if "delete" in verbs:
        ops["delete"] = _operation(entry, "delete", None,
                                   ("dryRun", "gracePeriodSeconds", "propagationPolicy"))
    if ops:
        out[f"{collection}/{{name}}"] = {**ops, "parameters": named}

    if kind.namespaced and "list" in verbs:
        # Across every namespace: list (and watch) only.
        out[f"{prefix}/{kind.plural}"] = {
            "get": _operation(entry, "list", None, LIST_PARAMETERS), "parameters": []}

    if "status" in paths.subresources(kind):
        out[f"{collection}/{{name}}/status"] = {
            "get": _operation(entry, "get", response_ref, subresource="status"),
            "put": _operation(entry, "put", response_ref, WRITE_PARAMETERS,
                              subresource="status"),
            "patch": _operation(entry, "patch", response_ref, PATCH_PARAMETERS,
                                subresource="status"),
            "parameters": named,
        }
    return out


# ---------------------------------------------------------------------------------------------
# Documents


def document_path(group, version):
    return f"apis/{group}/{version}" if group else f"api/{version}"


def build_document(group, version, entries):
    """The OpenAPI v3 document of one group-version. A deprecated version kubelab accepts
    has its paths (so kubectl finds fieldValidation) but no schemas of its own: its objects
    are converted to the current version, whose document describes them."""
    components = Components(model_packages())
    doc_paths = {}
    for entry in entries:
        response_ref = None
        if entry.preferred:
            name = components.add(entry.kind.model)
            body = components.schemas[name]
            body["x-kubernetes-group-version-kind"] = [
                {"group": entry.group, "version": entry.version, "kind": entry.kind.kind}]
            response_ref = REF + name
        doc_paths.update(_paths(entry, response_ref))
    return {
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": discovery.VERSION_INFO["gitVersion"]},
        "paths": doc_paths,
        "components": {"schemas": dict(sorted(components.schemas.items()))},
    }


@functools.lru_cache(maxsize=None)
def documents():
    """{document path: (JSON bytes, hash)} of every served group-version, built once."""
    out = {}
    for group, versions in discovery.groups():
        for version, entries in versions:
            body = json.dumps(build_document(group, version, entries),
                              separators=(",", ":"), sort_keys=False).encode()
            out[document_path(group, version)] = (body, hashlib.sha512(body).hexdigest().upper())
    return out


def index_body():
    return {"paths": {path: {"serverRelativeURL": f"/openapi/v3/{path}?hash={digest}"}
                      for path, (_body, digest) in documents().items()}}


# ---------------------------------------------------------------------------------------------
# Views


@views.cluster_view
def index(request):
    """GET /openapi/v3: where each group-version's document is, with its hash."""
    return wire.respond(index_body())


@views.cluster_view
def document(request, path):
    """GET /openapi/v3/{api/v1 | apis/group/version}: one document (the hash in the query
    only keys clients' caches: the current document is always answered)."""
    found = documents().get(path.strip("/"))
    if found is None:
        raise NotFound(f'the server could not find the requested resource "/openapi/v3/{path}"',
                       details={})
    response = HttpResponse(found[0], content_type=wire.JSON)
    response["Etag"] = f'"{found[1]}"'
    return response


@views.cluster_view
def not_served(request, rest=""):
    """/openapi/v2 and anything else under /openapi: kubelab publishes v3 only (kubectl then
    falls back as it does for a server without v2)."""
    raise paths.not_found()
