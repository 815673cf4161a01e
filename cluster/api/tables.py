"""Server-side printing: the meta.k8s.io Table `kubectl get` asks for.

kubectl sends `Accept: application/json;as=Table;v=v1;g=meta.k8s.io,...` on get, list and
watch, and prints the Table's cells as they come: the server decides the columns and formats
every cell (AGE "5m", RESTARTS "2 (5m ago)", ...). Each kind module owns its columns and its
row (Kind.columns, Kind.printer_row); this module negotiates, builds the Table and decides
what each row carries as its object (includeObject: None, Metadata, Object).
"""

from cluster.errors import BadRequest
from cluster.store import without_cyclic_gc

TABLE_GROUP = "meta.k8s.io"
TABLE_VERSIONS = ("v1", "v1beta1")
INCLUDE_OBJECT = ("None", "Metadata", "Object")
DEFAULT_INCLUDE = "Metadata"


def _media_ranges(accept):
    """[(media type, {param: value})] of an Accept header, in the client's order."""
    ranges = []
    for part in (accept or "").split(","):
        pieces = [p.strip() for p in part.split(";")]
        if not pieces[0]:
            continue
        params = {}
        for piece in pieces[1:]:
            key, _, value = piece.partition("=")
            params[key.strip().lower()] = value.strip().strip('"')
        ranges.append((pieces[0].lower(), params))
    return ranges


def table_version(accept):
    """The Table version ("v1" or "v1beta1") an Accept header asks for, or None.

    As the API server negotiates: the first media range it can serve wins, so a client that
    lists plain JSON before the Table gets plain JSON.
    """
    for media, params in _media_ranges(accept):
        if media not in ("application/json", "application/*", "*/*"):
            continue
        if "as" not in params:
            return None            # plain JSON (or anything) acceptable first
        if (params.get("as") == "Table" and params.get("g") == TABLE_GROUP
                and params.get("v") in TABLE_VERSIONS):
            return params["v"]
    return None


def wants_table(request):
    """The Table version the request asks for ("v1"/"v1beta1"), or None for plain objects."""
    return table_version(request.headers.get("Accept", ""))


def include_object(request):
    """TableOptions.includeObject from the query: None, Metadata (default) or Object."""
    value = request.GET.get("includeObject") or DEFAULT_INCLUDE
    if value not in INCLUDE_OBJECT:
        raise BadRequest(f'includeObject: Unsupported value: "{value}": supported values: '
                         + ", ".join(f'"{v}"' for v in INCLUDE_OBJECT))
    return value


def column_definitions(kind):
    return [column.definition() for column in kind.columns]


def row(kind, obj, now, include="Metadata", version="v1"):
    """One TableRow: the kind's cells, the row conditions (a finished pod's Completed), and
    the object as `include` asks."""
    out = {"cells": kind.printer_row(obj, now)}
    conditions = kind.row_conditions(obj)
    if conditions:
        out["conditions"] = conditions
    if include == "Object":
        # kubectl --sort-by reads the whole object, typed.
        out["object"] = {"apiVersion": kind.api_version, "kind": kind.kind, **obj}
    elif include == "Metadata":
        # kubectl builds --show-labels and -L from these labels.
        out["object"] = {"kind": "PartialObjectMetadata",
                         "apiVersion": f"{TABLE_GROUP}/{version}",
                         "metadata": obj.get("metadata") or {}}
    else:
        out["object"] = None
    return out


def table(kind, objects, rv, now, include_object="Metadata", version="v1", with_columns=True):
    """The Table of `objects` (a list's items or one object) at resourceVersion `rv`."""
    body = {"kind": "Table", "apiVersion": f"{TABLE_GROUP}/{version}",
            "metadata": {"resourceVersion": str(rv)}}
    if with_columns:
        body["columnDefinitions"] = column_definitions(kind)
    with without_cyclic_gc():  # 10,000 rows of fresh lists and dicts: see store
        body["rows"] = [row(kind, obj, now, include_object, version) for obj in objects]
    return body


def for_request(request, kind, objects, rv, now):
    """The Table a list or get request asked for, or None when it wants plain objects."""
    version = wants_table(request)
    if version is None:
        return None
    return table(kind, objects, rv, now, include_object(request), version)


def watch_object(request, kind, obj, now, first):
    """The `object` of one watch event: a one-row Table when the request asked for Tables
    (column definitions only in the first event, as the API server sends them), else the
    object itself."""
    version = wants_table(request)
    if version is None:
        return obj
    rv = (obj.get("metadata") or {}).get("resourceVersion", "")
    return table(kind, [obj], rv, now, include_object(request), version, with_columns=first)
