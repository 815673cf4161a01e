"""The scale subresource (autoscaling/v1 Scale) of ReplicationControllers and ReplicaSets.

`kubectl scale rc kubia --replicas=5` sends a merge patch `{"spec":{"replicas":5}}` to
.../replicationcontrollers/kubia/scale; with `--current-replicas` it GETs the Scale and PUTs
it back changed, its resourceVersion a precondition. As the API server's ScaleREST
(pkg/registry/core/replicationcontroller/storage, pkg/registry/apps/replicaset/storage):

- the Scale is a view of the owner: metadata (name, namespace, uid, resourceVersion,
  creationTimestamp), spec.replicas, status.replicas and status.selector as a string;
- a write sets only the owner's spec.replicas, through cluster.store (generation moves, the
  replication controller does the rest); a Scale resourceVersion is a precondition on the
  owner (409 Conflict when stale);
- a missing owner reads as `replicationcontrollers/scale.autoscaling "x" not found`.
"""

from cluster import store
from cluster.api import options, wire
from cluster.errors import BadRequest, Conflict, FieldError, Invalid, NotFound, \
    UnsupportedMediaType
from cluster.printing import format_label_selector

API_VERSION = "autoscaling/v1"
# (group, kind) -> the group-qualified resource NotFound names, as each ScaleREST does.
NOT_FOUND_RESOURCE = {
    ("", "ReplicationController"): ("replicationcontrollers/scale", "autoscaling"),
    ("apps", "ReplicaSet"): ("replicasets/scale", "apps"),
}
PATCH_TYPES = (store.JSON_PATCH, store.MERGE_PATCH, store.STRATEGIC_PATCH)


def selector_string(kind, owner):
    """status.selector: labels.SelectorFromSet(rc.spec.selector).String() for an RC, the
    LabelSelector's canonical string for an RS; "" when it selects everything."""
    selector = (owner.get("spec") or {}).get("selector")
    if kind.kind == "ReplicationController":
        selector = {"matchLabels": selector or {}}
    text = format_label_selector(selector)
    return "" if text == "<none>" else text


def scale_of(kind, owner):
    """The Scale of one RC or RS (scaleFromRC / scaleFromReplicaSet)."""
    meta = owner["metadata"]
    return {
        "kind": "Scale", "apiVersion": API_VERSION,
        "metadata": {k: meta[k] for k in ("name", "namespace", "uid", "resourceVersion",
                                          "creationTimestamp") if k in meta},
        "spec": {"replicas": (owner.get("spec") or {}).get("replicas", 0)},
        "status": {"replicas": (owner.get("status") or {}).get("replicas", 0),
                   "selector": selector_string(kind, owner)},
    }


def _owner(cluster, target):
    try:
        return store.get(cluster, target.kind, target.namespace, target.name)
    except NotFound:
        resource, group = NOT_FOUND_RESOURCE[(target.kind.group, target.kind.kind)]
        raise NotFound.of(resource, target.name, group) from None


def get_scale(request, cluster, target):
    """GET .../{name}/scale."""
    return wire.respond(scale_of(target.kind, _owner(cluster, target)))


def update_scale(request, cluster, target):
    """PUT .../{name}/scale with a whole Scale (kubectl scale --current-replicas)."""
    opts = options.write_options(request, "update")
    scale = wire.decode_object(request)
    return _write(cluster, target, lambda _current: scale, opts)


def patch_scale(request, cluster, target):
    """PATCH .../{name}/scale: a merge (or JSON, or strategic) patch of the Scale."""
    content_type = wire.media_type(request)
    if content_type not in PATCH_TYPES:
        raise UnsupportedMediaType(
            f'the body of the request was in an unknown format ("{content_type}") - accepted '
            f"media types include: {', '.join(PATCH_TYPES)}")
    opts = options.write_options(request, "patch")
    body = wire.decode_json(wire.read_body(request), "the patch")
    # A Scale has no lists to merge by key: a strategic merge patch is a merge patch here.
    patch_type = store.MERGE_PATCH if content_type == store.STRATEGIC_PATCH else content_type
    return _write(cluster, target, lambda current: store.apply_patch(current, body, patch_type),
                  opts)


def _write(cluster, target, desired_of, opts, attempts=5):
    """Read the owner, work out the desired Scale from its current one, write the owner's
    spec.replicas. A Scale naming no resourceVersion applies to the version just read, and a
    concurrent write is retried on a fresh read; one naming it is a precondition."""
    for _attempt in range(attempts):
        owner = _owner(cluster, target)
        current = scale_of(target.kind, owner)
        scale = desired_of(store.clone(current))
        replicas, precondition = _checked(target, scale)
        updated = store.clone(owner)
        updated["spec"]["replicas"] = replicas
        updated["metadata"]["resourceVersion"] = precondition or \
            owner["metadata"]["resourceVersion"]
        try:
            written = store.update(cluster, updated, namespace=target.namespace,
                                   name=target.name, dry_run=opts.dry_run,
                                   field_validation="Ignore")
        except Conflict:
            if precondition:
                raise
            continue
        return wire.respond(scale_of(target.kind, written.object), 200, written.warnings)
    raise Conflict.stale(target.kind.plural, target.name, target.kind.group)


def _checked(target, scale):
    """(spec.replicas, the resourceVersion precondition or "") of a Scale a client sent,
    refused as the API server's decoder and ValidateScale refuse it."""
    if not isinstance(scale, dict):
        raise BadRequest("the body must be a Scale object (a JSON map)")
    if scale.get("kind", "Scale") != "Scale" or \
            scale.get("apiVersion", API_VERSION) not in (API_VERSION, "extensions/v1beta1",
                                                         "apps/v1", "apps/v1beta2"):
        raise BadRequest(f'the body must be a Scale of {API_VERSION}, not '
                         f'{scale.get("kind")} of {scale.get("apiVersion")}')
    meta = scale.get("metadata") or {}
    if not isinstance(meta, dict):
        raise BadRequest("Scale.metadata must be an object")
    if meta.get("name") not in (None, target.name):
        raise BadRequest(f"the name of the object ({meta.get('name')}) does not match the "
                         f"name on the URL ({target.name})")
    replicas = (scale.get("spec") or {}).get("replicas", 0)
    if isinstance(replicas, bool) or not isinstance(replicas, int):
        raise BadRequest('Scale in version "v1" cannot be handled as a Scale: json: cannot '
                         "unmarshal " + _json_type(replicas) + " into Go struct field "
                         "ScaleSpec.spec.replicas of type int32")
    if replicas < 0:
        raise Invalid("Scale", target.name, [FieldError.invalid(
            "spec.replicas", replicas, "must be greater than or equal to 0")],
            group="autoscaling")
    return replicas, str(meta.get("resourceVersion") or "")


def _json_type(value):
    return {str: "string", list: "array", dict: "object", bool: "bool",
            float: "number"}.get(type(value), "value")
