"""The Kubernetes REST core: one generic view for every kind, verb by verb.

Every write goes through cluster.store; every refusal is a cluster.errors.ApiError, answered
as a metav1.Status with its code. The verbs with their own modules: watch and `logs -f`
(streaming, on the event loop), Tables (tables.py), scale, eviction and proxy subresources.
Discovery and OpenAPI are views of their own (discovery.py, openapi.py) wrapped by
cluster_view.
"""

import datetime as dt
import functools

from asgiref.sync import sync_to_async
from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt

from cluster import logs, store
from cluster.api import (eviction, filters, follow, options, paths, proxy, scale, tables,
                         watch, wire)
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
        response = HANDLERS[verb](request, _cluster(cluster), target)
    except ApiError as error:
        return wire.status_response(error)
    if target.warning:
        _answer_in_old_version(response, target)
    return response


def _answer_in_old_version(response, target):
    """A request in a deprecated apiVersion (apps/v1beta2 ...) reads its objects back in that
    version, with the deprecation warning, as the API server converts and warns."""
    if not isinstance(response, wire.KubeResponse):
        return
    if target.warning not in response.warnings:
        response.warnings.append(target.warning)
    body = response.json_body()
    kind = target.kind
    if body.get("kind") == kind.kind:
        kind.convert_out(body, target.api_version)
    elif body.get("kind") == f"{kind.kind}List":
        body["apiVersion"] = target.api_version
        for item in body.get("items") or ():
            kind.convert_out(item, target.api_version)
    else:
        return                  # a Status, a Table of PartialObjectMetadata: nothing to convert
    response.set_json_body(body)


@csrf_exempt
def not_found(request, cluster, rest=""):
    """Anything else under /api or /apis (discovery comes with its own issue)."""
    try:
        _cluster(cluster)
        raise paths.not_found()
    except ApiError as error:
        return wire.status_response(error)


def cluster_view(handler):
    """A view of one cluster's API answering `handler(request, **kwargs)`, once the cluster
    is found; every refusal a metav1.Status (discovery, OpenAPI)."""
    @csrf_exempt
    @functools.wraps(handler)
    def view(request, cluster, **kwargs):
        try:
            _cluster(cluster)
            return handler(request, **kwargs)
        except ApiError as error:
            return wire.status_response(error)
    return view


def _cluster(name):
    try:
        return Cluster.objects.select_related("clock").get(name=name)
    except Cluster.DoesNotExist:
        raise NotFound(f'cluster "{name}" not found',
                       details={"name": name, "kind": "clusters"}) from None


# ---------------------------------------------------------------------------------------------
# Reading


def list_objects(request, cluster, target):
    query = request.GET        # ?watch=true never comes here: STREAMING["list"] answers it
    labels, match = filters.parse(target.kind, query.get("labelSelector"),
                                  query.get("fieldSelector"))
    items, rv = store.list_objects(cluster, target.kind, target.namespace, labels, match)
    if tables.wants_table(request):
        # `kubectl get` asks for a Table: the server prints the columns (cluster.api.tables).
        return wire.respond(tables.for_request(request, target.kind, items, rv,
                                               _printing_now(cluster)))
    return wire.respond(list_body(target.kind, items, rv))


def list_body(kind, items, rv):
    for item in items:
        item.setdefault("apiVersion", kind.api_version)
        item.setdefault("kind", kind.kind)
    return {"kind": f"{kind.kind}List", "apiVersion": kind.api_version,
            "metadata": {"resourceVersion": rv}, "items": items}


def get_object(request, cluster, target):
    obj = store.get(cluster, target.kind, target.namespace, target.name)
    if tables.wants_table(request):
        # `kubectl get pod web-1` asks for a Table too: one row, at the object's
        # resourceVersion.
        return wire.respond(tables.for_request(request, target.kind, [obj],
                                               obj["metadata"].get("resourceVersion", ""),
                                               _printing_now(cluster)))
    return wire.respond(obj)


def _printing_now(cluster):
    """The simulated time ages are printed against, read after the objects: a tick that
    committed them moved the clock with them (at x100 a tick is 25 simulated seconds)."""
    cluster.clock.refresh_from_db(fields=["now"])
    return cluster.clock.now


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
    # How each patch type applies (strategic merge by the kind's merge keys) is
    # store.apply_patch's business (cluster.patch).
    body = wire.decode_json(raw, "the patch")
    written = store.patch(cluster, target.kind, target.namespace, target.name, body,
                          content_type, subresource=target.subresource, dry_run=opts.dry_run,
                          field_validation=opts.field_validation)
    return wire.respond(written.object, 200, written.warnings)


def _apply(cluster, target, obj, opts):
    """Server-side apply (cluster.store.server_side_apply): 201 when it creates the object,
    409 over fields another Apply manager owns unless force=true."""
    obj = _fill_type(target, obj)
    meta = obj.setdefault("metadata", {})
    if not isinstance(meta, dict):
        raise BadRequest("metadata must be an object")
    if meta.get("name") not in (None, target.name):
        raise BadRequest(f"the name of the object ({meta.get('name')}) does not match the "
                         f"name on the URL ({target.name})")
    meta["name"] = target.name
    written = store.server_side_apply(cluster, target.kind, target.namespace, target.name, obj,
                                      opts.field_manager, subresource=target.subresource,
                                      dry_run=opts.dry_run, force=bool(opts.force),
                                      field_validation=opts.field_validation)
    return wire.respond(written.object, 201 if written.action == "created" else 200,
                        written.warnings)


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
STREAMING = {
    "list": watch.stream_watch,         # ?watch=true
    "log": follow.stream_log,           # ?follow=true
}

HANDLERS = {
    "log": pod_log,
    "list": list_objects,
    "get": get_object,
    "create": create_object,
    "update": update_object,
    "patch": patch_object,
    "delete": delete_object,
    "deletecollection": delete_collection,
    "getscale": scale.get_scale,
    "updatescale": scale.update_scale,
    "patchscale": scale.patch_scale,
    "evict": eviction.evict,
    "proxy": proxy.proxy,
}
