"""The Kubernetes REST core: one generic view for every kind, verb by verb.

Every write goes through cluster.store; every refusal is a cluster.errors.ApiError, answered
as a metav1.Status with its code. Seams for later issues are marked: Table output and watch
(issue 7), the full label selector grammar (issue 3), more subresources (paths.py).
"""

import datetime as dt

from asgiref.sync import sync_to_async
from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt

from cluster import logs, store
from cluster.api import filters, options, paths, wire
from cluster.errors import ApiError, BadRequest, NotFound, UnsupportedMediaType
from cluster.models import Cluster


@csrf_exempt
async def resource(request, cluster, version, rest, group=""):
    """Any URL under /api/{version}/ or /apis/{group}/{version}/.

    Async, because a streaming answer (watch, `logs -f`) must not hold the one thread Django
    runs synchronous code in under ASGI: a handler in STREAMING runs here, on the event loop;
    every other handler runs in that thread, as a synchronous view would.
    """
    return await _dispatch(request, cluster, version, rest, group)


async def _dispatch(request, cluster, version, rest, group):
    try:
        target = paths.resolve(group, version, rest)
        verb = target.verb(request.method)
        streaming = STREAMING.get(verb)
        if streaming is not None:
            answer = await streaming(request, cluster, target)
            if answer is not None:
                return answer
        return await sync_to_async(_handle)(request, cluster, target, verb)
    except ApiError as error:
        return wire.status_response(error)


def _handle(request, cluster, target, verb):
    try:
        return HANDLERS[verb](request, _cluster(cluster), target)
    except ApiError as error:
        return wire.status_response(error)


@csrf_exempt
def not_found(request, cluster, rest=""):
    """Anything else under /api or /apis (discovery comes with its own issue)."""
    try:
        _cluster(cluster)
        raise paths.not_found()
    except ApiError as error:
        return wire.status_response(error)


def _cluster(name):
    try:
        return Cluster.objects.select_related("clock").get(name=name)
    except Cluster.DoesNotExist:
        raise NotFound(f'cluster "{name}" not found',
                       details={"name": name, "kind": "clusters"}) from None


# ---------------------------------------------------------------------------------------------
# Reading


def list_objects(request, cluster, target):
    query = request.GET
    if "watch" in query and options.parse_bool(query["watch"], "watch"):
        # TODO issue 7: watch streams (async view, change log from resourceVersion, 410).
        raise BadRequest("watch is not supported yet")
    labels, match = filters.parse(target.kind, query.get("labelSelector"),
                                  query.get("fieldSelector"))
    items, rv = store.list_objects(cluster, target.kind, target.namespace, labels, match)
    # TODO issue 7: answer `Accept: application/json;as=Table;...` with a Table here.
    return wire.respond(list_body(target.kind, items, rv))


def list_body(kind, items, rv):
    for item in items:
        item.setdefault("apiVersion", kind.api_version)
        item.setdefault("kind", kind.kind)
    return {"kind": f"{kind.kind}List", "apiVersion": kind.api_version,
            "metadata": {"resourceVersion": rv}, "items": items}


def get_object(request, cluster, target):
    return wire.respond(store.get(cluster, target.kind, target.namespace, target.name))


# ---------------------------------------------------------------------------------------------
# Writing


def _fill_type(target, obj):
    """apiVersion and kind default to the URL's, as the API server decodes with the URL's
    type as default; a body naming another type is refused."""
    if not isinstance(obj, dict):
        raise BadRequest(f"the body must be a {target.kind.kind} object (a JSON map), not "
                         f"{type(obj).__name__}")
    obj.setdefault("apiVersion", target.api_version)
    obj.setdefault("kind", target.kind.kind)
    if obj["kind"] != target.kind.kind:
        raise BadRequest(f"the kind in the body ({obj['kind']}) does not match the resource "
                         f"in the URL ({target.kind.plural}, kind {target.kind.kind})")
    if obj["apiVersion"] != target.api_version:
        raise BadRequest(f"the API version in the data ({obj['apiVersion']}) does not match "
                         f"the expected API version ({target.api_version})")
    meta = obj.get("metadata")
    if meta is not None and not isinstance(meta, dict):
        raise BadRequest(f'{target.kind.kind} in version "{target.kind.version}" cannot be '
                         f"handled as a {target.kind.kind}: metadata must be an object, not "
                         f"{_json_type(meta)}")
    return obj


def _json_type(value):
    return {str: "a string", list: "a list", bool: "a boolean", int: "a number",
            float: "a number"}.get(type(value), "null" if value is None else "a value")


def create_object(request, cluster, target):
    opts = options.write_options(request, "create")
    obj = _fill_type(target, wire.decode_object(request))
    written = store.create(cluster, obj, namespace=target.namespace, dry_run=opts.dry_run,
                           field_validation=opts.field_validation)
    return wire.respond(written.object, 201, written.warnings)


def update_object(request, cluster, target):
    opts = options.write_options(request, "update")
    obj = _fill_type(target, wire.decode_object(request))
    written = store.update(cluster, obj, namespace=target.namespace, name=target.name,
                           subresource=target.subresource, dry_run=opts.dry_run,
                           field_validation=opts.field_validation)
    return wire.respond(written.object, 200, written.warnings)


PATCH_TYPES = (store.JSON_PATCH, store.MERGE_PATCH, store.STRATEGIC_PATCH, store.APPLY_PATCH)


def patch_object(request, cluster, target):
    content_type = wire.media_type(request)
    if content_type not in PATCH_TYPES:
        raise UnsupportedMediaType(
            f'the body of the request was in an unknown format ("{content_type}") - accepted '
            f"media types include: {', '.join(PATCH_TYPES)}")
    apply = content_type == store.APPLY_PATCH
    opts = options.write_options(request, "patch", apply=apply)
    raw = wire.read_body(request)
    if apply:
        return _apply(cluster, target, wire.decode_yaml(raw), opts)
    # Strategic merge patch is a merge patch for now; store.apply_patch owns that choice.
    body = wire.decode_json(raw, "the patch")
    written = store.patch(cluster, target.kind, target.namespace, target.name, body,
                          content_type, subresource=target.subresource, dry_run=opts.dry_run,
                          field_validation=opts.field_validation)
    return wire.respond(written.object, 200, written.warnings)


def _apply(cluster, target, obj, opts):
    """Server-side apply, first version: the manifest merged over the object (201 when it
    creates it). TODO: managedFields and ownership conflicts (409) per fieldManager/force."""
    obj = _fill_type(target, obj)
    meta = obj.setdefault("metadata", {})
    if not isinstance(meta, dict):
        raise BadRequest("metadata must be an object")
    if meta.get("name") not in (None, target.name):
        raise BadRequest(f"the name of the object ({meta.get('name')}) does not match the "
                         f"name on the URL ({target.name})")
    meta["name"] = target.name
    try:
        store.get(cluster, target.kind, target.namespace, target.name)
    except NotFound:
        if target.subresource:
            raise
        written = store.create(cluster, obj, namespace=target.namespace, dry_run=opts.dry_run,
                               field_validation=opts.field_validation)
        return wire.respond(written.object, 201, written.warnings)
    written = store.patch(cluster, target.kind, target.namespace, target.name, obj,
                          store.APPLY_PATCH, subresource=target.subresource,
                          dry_run=opts.dry_run, field_validation=opts.field_validation)
    return wire.respond(written.object, 200, written.warnings)


def _delete_options(request, verb):
    raw = wire.read_body(request)
    body = wire.decode_json(raw, "the DeleteOptions body") if raw.strip() else None
    return options.delete_options(request.GET, body, verb)


def delete_object(request, cluster, target):
    opts = _delete_options(request, "delete")
    written = store.delete(cluster, target.kind, target.namespace, target.name,
                           grace_period=opts.grace_period, propagation=opts.propagation,
                           preconditions=opts.preconditions, dry_run=opts.dry_run)
    return wire.respond(written.object, 200, written.warnings)


def delete_collection(request, cluster, target):
    """Delete every object the selectors match (in the URL's namespace); answers the list of
    what was deleted, as the API server does."""
    opts = _delete_options(request, "deletecollection")
    query = request.GET
    labels, match = filters.parse(target.kind, query.get("labelSelector"),
                                  query.get("fieldSelector"))
    items, _rv = store.list_objects(cluster, target.kind, target.namespace, labels, match)
    deleted, warnings = [], []
    for item in items:
        meta = item["metadata"]
        try:
            written = store.delete(cluster, target.kind, meta.get("namespace", ""), meta["name"],
                                   grace_period=opts.grace_period,
                                   propagation=opts.propagation, dry_run=opts.dry_run)
        except NotFound:
            continue            # gone meanwhile: nothing left to delete
        deleted.append(written.object)
        warnings += written.warnings
    rv = str(store.current_rv(cluster))
    return wire.respond(list_body(target.kind, deleted, rv), 200, warnings)


def pod_log(request, cluster, target):
    """GET /pods/{name}/log: the container's log as text, as the kubelet serves it."""
    pod = store.get(cluster, target.kind, target.namespace, target.name)
    query = request.GET
    tail = options.parse_int(query["tailLines"], "tailLines") if "tailLines" in query else None
    since = None
    if "sinceSeconds" in query:
        seconds = options.parse_int(query["sinceSeconds"], "sinceSeconds")
        since = cluster.clock.now - dt.timedelta(seconds=seconds)
    text = logs.read(pod, query.get("container"),
                     previous=options.parse_bool(query.get("previous", "false"), "previous"),
                     tail=tail,
                     timestamps=options.parse_bool(query.get("timestamps", "false"), "timestamps"),
                     since=since)
    return HttpResponse(text, content_type="text/plain")


# Async handlers tried first for their verb: each answers a streaming response, or None to
# leave the request to the synchronous handler (a watch=false list, a log without follow).
STREAMING = {}

HANDLERS = {
    "log": pod_log,
    "list": list_objects,
    "get": get_object,
    "create": create_object,
    "update": update_object,
    "patch": patch_object,
    "delete": delete_object,
    "deletecollection": delete_collection,
}
