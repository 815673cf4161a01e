"""THE write path. Forms, the API, lessons and controllers all write objects through here.

One call = one object written in one transaction: validate and default through the object's
kind, refuse a stale resourceVersion (Conflict), append to the change log (whose id becomes
the object's resourceVersion), and notify listeners after commit.
"""

import contextlib
import datetime as dt
import functools
import gc
import json
import random
import threading
import uuid
from dataclasses import dataclass, field

import jsonpatch
import orjson
from django.db import IntegrityError, transaction
from django.db.models import JSONField

from cluster import kinds, publish, schema
from cluster.errors import (
    AlreadyExists, ApiError, BadRequest, Conflict, FieldError, Forbidden, Invalid, NotFound,
    StrictDecodingError, UnsupportedMediaType, apply_conflicts,
)
from cluster.kinds import clock as clock_kind
from cluster.kinds import namespace as namespace_kind
from cluster.models import ApiObject, Change, Cluster
from cluster import patch as patch_module

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
# utilrand's alphabet: no vowels (no words) and no look-alike characters.
GENERATE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
MERGE_PATCH = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"
STRATEGIC_PATCH = "application/strategic-merge-patch+json"
APPLY_PATCH = "application/apply-patch+yaml"


@dataclass
class Written:
    """What a write returns: the object as stored, and warnings for the client."""

    object: dict
    warnings: list = field(default_factory=list)
    action: str = ""  # created / configured / unchanged / deleted


@dataclass
class Context:
    """What kinds may read while defaulting and validating: the cluster and its time."""

    cluster: Cluster
    now: dt.datetime

    @property
    def timestamp(self):
        return timestamp(self.now)


@functools.lru_cache(maxsize=64)
def timestamp(moment):
    # Cached: a tick stamps every object and event it writes with the same moment.
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_timestamp(text):
    return dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc)


def now_of(cluster):
    return cluster.clock.now


def clone(obj):
    """A deep copy of a JSON object: a JSON round trip, several times faster than deepcopy.
    orjson's, some four times faster than json's; json's for anything orjson refuses or
    treats otherwise (see json_text)."""
    try:
        return orjson.loads(orjson.dumps(obj, option=_ORJSON_ONLY_JSON))
    except TypeError:   # orjson.JSONEncodeError is one
        return json.loads(json.dumps(obj))


# orjson's own encodings of what is not JSON (datetimes, dataclasses, subclasses of str,
# dict...) are left to json, which refuses or encodes them as it always has; so are keys
# that are not strings and integers past 64 bits, which orjson refuses. Two differences
# stay: a NaN or infinite float (JSON cannot carry one; the API refuses them) becomes null,
# and a uuid.UUID its text, where json refused it (no caller passes one).
_ORJSON_ONLY_JSON = (orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
                     | orjson.OPT_PASSTHROUGH_SUBCLASS)


def json_text(value):
    """`value` as JSON text, as a JSON column stores it: orjson (some five times faster than
    json: its encoding was most of a write's Python time), else json."""
    try:
        return orjson.dumps(value, option=_ORJSON_ONLY_JSON).decode()
    except TypeError:
        return json.dumps(value)


def random_suffix(length=5):
    return "".join(random.choices(GENERATE_ALPHABET, k=length))


# ---------------------------------------------------------------------------------------------
# Reading


def kind_or_404(kind_name, group=""):
    kind = kinds.get(kind_name, group)
    if kind is None:
        raise NotFound(f'the server could not find the requested resource ({kind_name})')
    return kind


def get_row(cluster, kind, namespace, name):
    try:
        return ApiObject.objects.get(cluster=cluster, group=kind.group, kind=kind.kind,
                                     namespace=namespace if kind.namespaced else "", name=name)
    except ApiObject.DoesNotExist:
        raise NotFound.of(kind.plural, name, kind.group) from None


def get(cluster, kind, namespace, name):
    if kind.kind == "Clock":
        return _clock_object(cluster, name)
    return get_row(cluster, kind, namespace, name).body


def current_rv(cluster):
    latest = Change.objects.filter(cluster=cluster).order_by("-id").values_list("id", flat=True)
    return latest.first() or cluster.compacted_rv


def list_rows(cluster, kind, namespace=None):
    rows = ApiObject.objects.filter(cluster=cluster).of_kind(kind.kind, kind.group)
    if kind.namespaced and namespace:
        rows = rows.in_namespace(namespace)
    return rows.order_by("namespace", "name")


def list_objects(cluster, kind, namespace=None, labels=None, match=None):
    """(items, resourceVersion) of one kind in one read.

    `labels` (a selectors.Selector) is applied to the indexed labels column first, so only
    the matching objects' bodies are read; `match(obj) -> bool` then filters those.
    """
    if kind.kind == "Clock":
        return [_clock_object(cluster)], str(cluster.clock.resource_version)
    with transaction.atomic(), without_cyclic_gc():
        rv = current_rv(cluster)
        rows = list_rows(cluster, kind, namespace)
        if labels is not None and not labels.empty:
            rows = rows.filter(label_query(labels))
        items = [b for b in decode_bodies(rows)
                 if (labels is None or labels.matches((b["metadata"].get("labels") or {})))
                 and (match is None or match(b))]
    return items, str(rv)


def decode_bodies(rows):
    """The bodies of `rows` (a queryset), read as JSON text and decoded with orjson: over
    twice as fast as the JSONField's json.loads, most of a 10,000-object list's read. What
    orjson refuses and json takes (NaN, integers past 64 bits, lone surrogates) falls back
    to json, so the objects are the same."""
    from django.db.models import TextField
    from django.db.models.functions import Cast

    for text in rows.values_list(Cast("body", TextField()), flat=True):
        yield decode_json(text)


def decode_json(text):
    """JSON text read from a JSON column (None for SQL NULL), decoded: orjson, or json for
    what orjson refuses (NaN, integers past 64 bits, lone surrogates), so the result is
    json's."""
    if text is None:
        return None
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


@contextlib.contextmanager
def without_cyclic_gc():
    """Pause Python's cyclic garbage collector while a large list is built, or a controller
    passes over many objects (batched_events).

    Decoding 10,000 bodies allocates millions of dicts and lists, and each allocation burst
    triggers a collection that walks every object still alive: over half the time of a
    10,000-pod list, and some 15% of a tick that starts 10,000 pods (full collections). JSON
    bodies hold no cycles, so reference counting frees them anyway; what cycles there are
    are collected once it is back on. The previous state comes back afterwards (a nested or
    concurrent use leaves it alone).
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def label_query(selector):
    """The selector as a database filter on the labels column, so only matching bodies are
    read. It may let through more than it should (gt/lt are left to Python), never less."""
    from django.db.models import Q
    from django.db.models.fields.json import KeyTextTransform

    from cluster import selectors

    query = Q()
    for req in selector.requirements:
        value = KeyTextTransform(req.key, "labels")
        has = Q(labels__has_key=req.key)
        if req.operator in (selectors.IN, selectors.EQUALS, selectors.DOUBLE_EQUALS):
            query &= has & _value_in(value, req.values)
        elif req.operator in (selectors.NOT_IN, selectors.NOT_EQUALS):
            query &= ~has | ~_value_in(value, req.values)
        elif req.operator == selectors.EXISTS:
            query &= has
        elif req.operator == selectors.DOES_NOT_EXIST:
            query &= ~has
        else:
            query &= has
    return query


def json_path(path, text=False, raw=False):
    """A JSON lookup path ("body__status__podIP") as an expression, for values_list(): the
    value the path string gives; with `text`, a string value as SQL text (not decoded from
    JSON); with `raw`, the value's JSON text, for decode_json (orjson: maps and lists of
    many rows decode several times faster). Django does not first try the path as
    relations, as it does a path string: that try raises a FieldError kept in a reference
    cycle with its traceback, which holds the caller's frames, and so everything a
    controller's pass has read, until the garbage collector runs (a full one, by then)."""
    from django.db.models import TextField
    from django.db.models.fields.json import KeyTextTransform, KeyTransform
    from django.db.models.functions import Cast

    column, *keys = path.split("__")
    expression = column
    for i, key in enumerate(keys):
        last = i == len(keys) - 1
        expression = (KeyTextTransform if text and last else KeyTransform)(key, expression)
    return Cast(expression, TextField()) if raw else expression


def _value_in(expression, values):
    from django.db.models import Q
    from django.db.models.lookups import In

    return Q(In(expression, list(values)))


# ---------------------------------------------------------------------------------------------
# Writing


def create(cluster, obj, *, namespace=None, dry_run=False, field_validation="Strict",
           now=None):
    """Create one object.

    1. Resolve the kind from apiVersion/kind and convert a deprecated version (with a warning).
    2. Check fields against the kind's schema (unknown fields by `field_validation`).
    3. Place it in its namespace, generate a name if asked, default, validate.
    4. Unless `dry_run`, insert it and its ADDED change; notify after commit.
    """
    obj = clone(obj)
    kind, warnings = _resolve(obj)
    warnings += _check_fields(kind, obj, field_validation)
    ctx = Context(cluster, now or now_of(cluster))
    meta = obj.setdefault("metadata", {})
    if not isinstance(meta, dict):
        raise BadRequest("metadata must be an object")
    _place(kind, meta, namespace)
    if not meta.get("name"):
        if meta.get("generateName"):
            # names.SimpleNameGenerator: the base is cut to 58 characters, leaving a valid
            # 63-character name with its 5 random ones.
            meta["name"] = meta["generateName"][:58] + random_suffix()
        else:
            raise Invalid(kind.kind, "", [FieldError.required(
                "metadata.name", "name or generateName is required")], group=kind.group)
    for managed in ("uid", "resourceVersion", "creationTimestamp", "deletionTimestamp",
                    "deletionGracePeriodSeconds", "generation", "selfLink"):
        meta.pop(managed, None)
    if kind.kind == "Clock":
        raise AlreadyExists.of(kind.plural, meta["name"], kind.group)
    # As the API server, the uid is set before the kind's hooks run (a Job's generated
    # selector and labels carry it).
    meta["uid"] = str(uuid.uuid4())
    kind.default(obj, ctx)
    kind.prepare_create(obj, ctx)
    if not kind.has_status:
        obj.pop("status", None)
    _validate(kind, obj, ctx)
    meta["creationTimestamp"] = ctx.timestamp
    if kind.has_generation:
        meta["generation"] = 1
    with transaction.atomic():
        _lock(cluster)
        if kind.namespaced:
            _require_namespace_open(cluster, kind, meta["namespace"], meta["name"])
        kind.allocate(obj, ctx)
        if dry_run:
            # A dry run answers what the real create would, name clash included.
            if _exists(cluster, kind, meta.get("namespace", ""), meta["name"]):
                raise AlreadyExists.of(kind.plural, meta["name"], kind.group)
            return Written(obj, warnings, "created")
        row = ApiObject(cluster=cluster, group=kind.group, kind=kind.kind,
                        namespace=meta.get("namespace", ""), name=meta["name"],
                        uid=meta["uid"])
        try:
            # The unique constraint answers "does it exist?"; the savepoint undoes the change
            # row written before the clash.
            with transaction.atomic():
                _save(cluster, kind, row, obj, Change.ADDED, created=True)
        except IntegrityError:
            raise AlreadyExists.of(kind.plural, meta["name"], kind.group) from None
    return Written(row.body, warnings, "created")


def update(cluster, obj, *, namespace=None, name=None, subresource=None, dry_run=False,
           field_validation="Strict", now=None, current=None):
    """Replace one object (PUT). A resourceVersion in the body must be the current one.

    The main resource keeps the stored status; the "status" subresource changes only status;
    "binding" only sets spec.nodeName (the scheduler's and DaemonSet controller's way in).

    `current`: the ApiObject row the caller read in this transaction (controllers have it),
    saving a read; the write is then conditional on that row's resourceVersion, so a stale
    copy is still a Conflict.
    """
    obj = clone(obj)
    kind, warnings = _resolve(obj)
    warnings += _check_fields(kind, obj, field_validation)
    meta = obj.setdefault("metadata", {})
    _place(kind, meta, namespace)
    if name is not None and meta.get("name") not in (None, name):
        raise BadRequest("the name of the object (%s) does not match the name on the URL (%s)"
                         % (meta.get("name"), name))
    name = name or meta.get("name")
    if not name:
        raise BadRequest("name is required")
    meta["name"] = name
    if kind.kind == "Clock":
        return _update_clock(cluster, kind, obj, dry_run)
    with transaction.atomic():
        _lock(cluster)
        if current is not None and str(current.uid) == str(meta.get("uid", current.uid)):
            row = current
        else:
            row = _locked_row(cluster, kind, meta.get("namespace", ""), name, meta.get("uid"))
        expected = meta.get("resourceVersion")
        if expected and str(expected) != str(row.resource_version):
            raise Conflict.stale(kind.plural, name, kind.group)
        ctx = Context(cluster, now or now_of(cluster))
        new = _merge_for_update(kind, row.body, obj, subresource, ctx)
        if subresource is None:
            kind.default(new, ctx)
            kind.prepare_update(row.body, new, ctx)
        if subresource == "binding" and (row.body.get("spec") or {}).get("nodeName"):
            raise Conflict(f'pod {name} is already assigned to node '
                           f'"{row.body["spec"]["nodeName"]}"', details={"name": name, "kind": kind.plural})
        # A subresource write changes only its part, so the main resource's update rules
        # (what may not change in spec) do not apply to it.
        _validate(kind, new, ctx, old=row.body if subresource is None else None)
        if _same(row.body, new):
            return Written(row.body, warnings, "unchanged")
        if kind.has_generation and (row.body.get("spec") != new.get("spec")):
            new["metadata"]["generation"] = row.body["metadata"].get("generation", 1) + 1
        if dry_run:
            return Written(new, warnings, "configured")
        _save(cluster, kind, row, new, Change.MODIFIED)
        _finish_if_done(cluster, kind, row)
    return Written(row.body, warnings, "configured")


def patch(cluster, kind, namespace, name, body, content_type, *, subresource=None,
          dry_run=False, field_validation="Strict", now=None):
    """Apply a merge or JSON patch to the current object and write it as an update."""
    for _attempt in range(5):
        current = get(cluster, kind, namespace, name)
        patched = apply_patch(current, body, content_type, kind.model)
        if not isinstance(patched, dict):
            raise BadRequest("the patch did not produce an object")
        if not isinstance(patched.get("metadata", {}), dict):
            raise BadRequest("metadata must be an object")
        meta = patched.setdefault("metadata", {})
        # A patch that names a resourceVersion is a precondition; otherwise it applies to the
        # version just read, and a concurrent write is retried on a fresh read.
        precondition = _patch_sets_rv(body)
        if not precondition:
            meta["resourceVersion"] = current["metadata"].get("resourceVersion")
        try:
            return update(cluster, patched, namespace=namespace if kind.namespaced else None,
                          name=name, subresource=subresource, dry_run=dry_run,
                          field_validation=field_validation, now=now)
        except Conflict:
            if precondition:
                raise
        except StrictDecodingError as exc:
            # A patch is not decoded as a whole object: the API server's message has no
            # "cannot be handled as a Pod" prefix then.
            raise StrictDecodingError(kind.kind, name, exc.errors) from None
    raise Conflict.stale(kind.plural, name, kind.group)


def apply(cluster, obj, *, namespace=None, dry_run=False, now=None):
    """`kubectl apply` for one manifest: create it if absent, else patch what it changed.

    Like kubectl's client-side apply, the manifest is kept in the last-applied annotation, so
    a field removed from the manifest is removed from the object.
    """
    obj = clone(obj)
    kind, _warnings = _resolve(clone(obj))
    meta = obj.setdefault("metadata", {})
    target_ns = (meta.get("namespace") or namespace or "default") if kind.namespaced else ""
    if kind.namespaced:
        meta.setdefault("namespace", target_ns)
    applied = json.dumps(obj, sort_keys=True, separators=(",", ":"))
    try:
        current = get(cluster, kind, target_ns, meta.get("name") or "") if meta.get("name") \
            else None
    except NotFound:
        current = None
    if current is None:
        meta.setdefault("annotations", {})[LAST_APPLIED] = applied
        return create(cluster, obj, namespace=target_ns or None, dry_run=dry_run, now=now)
    previous = json.loads(current["metadata"].get("annotations", {}).get(LAST_APPLIED) or "{}")
    merge = three_way_merge_patch(previous, obj, current)
    if kind.kind != "Clock":
        merge.setdefault("metadata", {}).setdefault("annotations", {})[LAST_APPLIED] = applied
    written = patch(cluster, kind, target_ns, current["metadata"]["name"], merge, MERGE_PATCH,
                    dry_run=dry_run, now=now)
    # The patch names the manifest's apiVersion too, so update() may have warned the same.
    written.warnings = _warnings + [w for w in written.warnings if w not in _warnings]
    return written


def server_side_apply(cluster, kind, namespace, name, obj, manager, *, subresource=None,
                      dry_run=False, field_validation="Strict", force=False, now=None):
    """`kubectl apply --server-side` (an apply-patch+yaml PATCH) for one manifest.

    1. Absent: create it (Written.action "created"), recording the manager's fields.
    2. Present: merge the manifest strategically, deleting what this manager's previous
       manifest set and this one dropped (from its managedFields entry), and record the
       fields it now sets. A field another Apply manager owns with another value is a
       Conflict unless `force` (changes by Update managers are not tracked yet).
    """
    entry = {"manager": manager, "operation": "Apply", "apiVersion": kind.api_version,
             "time": timestamp(now or now_of(cluster)), "fieldsType": "FieldsV1",
             "fieldsV1": patch_module.fields_v1(obj, kind.model)}
    for _attempt in range(5):
        try:
            current = get(cluster, kind, namespace, name)
        except NotFound:
            if subresource:
                raise
            created = clone(obj)
            created.setdefault("metadata", {})["managedFields"] = [entry]
            return create(cluster, created, namespace=namespace, dry_run=dry_run,
                          field_validation=field_validation, now=now)
        managed = current["metadata"].get("managedFields") or []
        mine = next((m for m in managed
                     if m.get("manager") == manager and m.get("operation") == "Apply"), None)
        managed = _settle_conflicts(managed, mine, entry["fieldsV1"], obj, current, force)
        body = patch_module.with_removals((mine or {}).get("fieldsV1"), obj, kind.model)
        kept = mine if mine is not None and mine.get("fieldsV1") == entry["fieldsV1"] else entry
        meta = body.setdefault("metadata", {})
        meta["managedFields"] = [m for m in managed if m is not mine] + [kept]
        # The ownership was decided on this read: a write in between means deciding again.
        meta["resourceVersion"] = current["metadata"].get("resourceVersion")
        try:
            return patch(cluster, kind, namespace, name, body, STRATEGIC_PATCH,
                         subresource=subresource, dry_run=dry_run,
                         field_validation=field_validation, now=now)
        except Conflict:
            continue
    raise Conflict.stale(kind.plural, name, kind.group)


def _settle_conflicts(managed, mine, fields, manifest, current, force):
    """The managedFields after this apply takes its fields: a field another Apply manager owns
    and the manifest sets to another value is a conflict (409), or, with `force`, is taken
    from that manager. The same value makes both owners, as in Kubernetes."""
    conflicts, taken = [], {}
    wanted = set(patch_module.leaf_paths(fields))
    for other in managed:
        if other is mine or other.get("operation") != "Apply":
            continue
        for path in wanted & set(patch_module.leaf_paths(other.get("fieldsV1"))):
            if patch_module.value_at(manifest, path) != patch_module.value_at(current, path):
                conflicts.append((other.get("manager", ""), patch_module.path_text(path)))
                taken.setdefault(id(other), []).append(path)
    if conflicts and not force:
        raise apply_conflicts(conflicts)
    result = []
    for other in managed:
        if id(other) in taken:
            other = {**other, "fieldsV1": patch_module.without_paths(other.get("fieldsV1"),
                                                                      taken[id(other)])}
        result.append(other)
    return result


def delete(cluster, kind, namespace, name, *, grace_period=None, propagation=None,
           preconditions=None, dry_run=False, now=None):
    """Delete one object as the API server does.

    A pod bound to a node gets a deletionTimestamp and lives on, Terminating, until its
    kubelet finishes it (grace 0 removes it at once). A namespace turns Terminating until the
    namespace controller has emptied it. Objects with finalizers wait for them. The rest go
    at once. Returns the object as it now stands (or as it was, when gone).

    `propagation` (the DeleteOptions propagationPolicy; the kind's default when None) says
    what happens to dependents, which the garbage collector carries out: Background deletes
    them after the owner is gone; Foreground keeps the owner (finalizer foregroundDeletion)
    until they are gone; Orphan keeps it (finalizer orphan) until they are released.
    """
    if kind.kind == "Clock":
        raise Forbidden(f'clocks.kubelab.io "{name}" is forbidden: the clock cannot be deleted')
    if kind.kind == "Namespace" and name in namespace_kind.SYSTEM:
        raise Forbidden(f'namespaces "{name}" is forbidden: this namespace may not be deleted')
    with transaction.atomic():
        _lock(cluster)
        row = _locked_row(cluster, kind, namespace if kind.namespaced else "", name)
        meta = row.body["metadata"]
        # BeforeDelete's wording, which names the kind (not the resource) in the message.
        preconditions = preconditions or {}
        qualified = f"{kind.kind}.{kind.group}" if kind.group else kind.kind
        if preconditions.get("uid") and preconditions["uid"] != meta["uid"]:
            raise Conflict(
                f'Operation cannot be fulfilled on {qualified} "{name}": the UID in the '
                f"precondition ({preconditions['uid']}) does not match the UID in record "
                f"({meta['uid']}). The object might have been deleted and then recreated",
                details={"name": name, "kind": kind.kind})
        if preconditions.get("resourceVersion") and \
                str(preconditions["resourceVersion"]) != str(row.resource_version):
            raise Conflict(
                f'Operation cannot be fulfilled on {qualified} "{name}": the ResourceVersion '
                f"in the precondition ({preconditions['resourceVersion']}) does not match the "
                f"ResourceVersion in record ({row.resource_version}). The object might have "
                "been modified", details={"name": name, "kind": kind.kind})
        ctx = Context(cluster, now or now_of(cluster))
        grace = _grace_period(kind, row.body, grace_period)
        body = clone(row.body)
        warnings = [kind.default_propagation_warning] \
            if propagation is None and kind.default_propagation_warning else []
        propagation = propagation or kind.default_propagation
        if grace > 0 or body["metadata"].get("finalizers") or kind.kind == "Namespace" or \
                propagation in ("Foreground", "Orphan"):
            if meta.get("deletionTimestamp"):
                # Already terminating: a shorter grace period may still bring the end forward.
                if kind.kind != "Pod" or grace >= meta.get("deletionGracePeriodSeconds", 0):
                    return Written(row.body, warnings, "deleted")
            body["metadata"]["deletionTimestamp"] = timestamp(
                ctx.now + dt.timedelta(seconds=grace))
            body["metadata"]["deletionGracePeriodSeconds"] = grace
            if propagation == "Foreground":
                finalizers = body["metadata"].setdefault("finalizers", [])
                if "foregroundDeletion" not in finalizers:
                    finalizers.append("foregroundDeletion")
            elif propagation == "Orphan":
                finalizers = body["metadata"].setdefault("finalizers", [])
                if "orphan" not in finalizers:
                    finalizers.append("orphan")
            if kind.kind == "Namespace":
                body["status"]["phase"] = "Terminating"
            if dry_run:
                return Written(body, warnings, "deleted")
            _save(cluster, kind, row, body, Change.MODIFIED)
            _finish_if_done(cluster, kind, row)
            return Written(row.body, warnings, "deleted")
        if dry_run:
            return Written(row.body, warnings, "deleted")
        _remove(cluster, kind, row)
        return Written(row.body, warnings, "deleted")


def record_event(cluster, involved, type_, reason, message, *, component, host=None,
                 aggregate=False, now=None):
    """Write a core/v1 Event about `involved` (an object dict): a controller's decision.

    With `aggregate`, an identical earlier event (same object, reason and message) is counted
    up instead, as the event correlator does for repeats like FailedScheduling.
    """
    meta = involved["metadata"]
    moment = timestamp(now or now_of(cluster))
    namespace = meta.get("namespace") or "default"
    if aggregate:
        earlier = (ApiObject.objects.filter(cluster=cluster, kind="Event", namespace=namespace,
                                            owner_uid=meta.get("uid", ""))
                   .order_by("-resource_version"))
        for row in earlier[:20]:
            ev = row.body
            if ev.get("reason") == reason and ev.get("message") == message:
                updated = clone(ev)
                updated["count"] = ev.get("count", 1) + 1
                updated["lastTimestamp"] = moment
                return update(cluster, updated, now=now).object
    involved_ref = {
        "kind": involved.get("kind"),
        "namespace": meta.get("namespace", ""),
        "name": meta.get("name"),
        "uid": meta.get("uid"),
        "apiVersion": involved.get("apiVersion"),
        "resourceVersion": meta.get("resourceVersion", ""),
    }
    if not involved_ref["namespace"]:
        involved_ref.pop("namespace")
    event = {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {
            "name": f"{meta.get('name')}.{random.getrandbits(64):016x}",
            "namespace": namespace,
        },
        "involvedObject": involved_ref,
        "reason": reason,
        "message": message,
        "source": {"component": component, **({"host": host} if host else {})},
        "firstTimestamp": moment,
        "lastTimestamp": moment,
        "count": 1,
        "type": type_,
        "eventTime": None,
        "reportingComponent": component,
        "reportingInstance": host or "",
    }
    # Built here, valid by construction, in the namespace of an object that exists: the
    # checks of create() would only cost time on the reconciler's hottest path.
    event["metadata"]["uid"] = str(uuid.uuid4())
    event["metadata"]["creationTimestamp"] = moment
    if _batch.events is not None:
        _batch.events.append((cluster, event))
        return event
    kind = kinds.get("Event")
    row = ApiObject(cluster=cluster, group="", kind="Event", namespace=namespace,
                    name=event["metadata"]["name"], uid=event["metadata"]["uid"])
    # Nothing in here refuses, so no savepoint is needed (an exception escaping a
    # savepoint=False block would doom the caller's whole transaction).
    with transaction.atomic(savepoint=False):
        _save(cluster, kind, row, event, Change.ADDED, created=True)
    return row.body


class _Batch(threading.local):
    events = None


_batch = _Batch()


@contextlib.contextmanager
def batched_events():
    """Within this block, events are written together at its end (a few multi-row INSERTs).

    A controller records one to five events per object it touches; written one by one they
    are most of a busy tick's statements. Must be used inside a transaction.

    The block is a controller's pass (cluster.engine): the cyclic garbage collector is paused
    through it and the writing of its events, which are let go first. A pass that starts
    10,000 pods holds millions of objects, and full collections walking them all were some
    15% of its time (see without_cyclic_gc).
    """
    if _batch.events is not None:
        yield
        return
    with without_cyclic_gc():
        _batch.events = []
        try:
            yield
            pending = _batch.events
        finally:
            _batch.events = None
        if pending:
            _insert_events(pending)
        del pending   # freed while the collector is off: it need not walk them


def _change_values(cluster, type_, group, kind, namespace, name, obj):
    """A change row's values, in `_table(Change)` field order."""
    values = {"cluster_id": cluster.pk, "type": type_, "group": group, "kind": kind,
              "namespace": namespace, "name": name, "object": obj}
    return [values[f.attname] for f in _table(Change)[0]]


def _insert_events(pending):
    object_fields = [f.attname for f in _table(ApiObject)[0]]
    changes = [_change_values(cluster, Change.ADDED, "", "Event", event["metadata"]["namespace"],
                              event["metadata"]["name"], event)
               for cluster, event in pending]
    # The change rows are turned into SQL parameters (their JSON) before the events get
    # their resourceVersion, which a change's object leaves out.
    ids = _insert_many(Change, changes)
    rows = []
    for (cluster, event), change_id in zip(pending, ids):
        meta = event["metadata"]
        meta["resourceVersion"] = str(change_id)
        values = {"cluster_id": cluster.pk, "group": "", "kind": "Event",
                  "namespace": meta["namespace"], "name": meta["name"], "uid": meta["uid"],
                  "resource_version": change_id, "labels": {}, "node_name": "", "phase": "",
                  "deleting": False, "owner_uid": event["involvedObject"].get("uid") or "",
                  "body": event}
        rows.append([values[name] for name in object_fields])
    _insert_many(ApiObject, rows)
    for name in {cluster.name for cluster, _ in pending}:
        publish.changes_committed(name)


# ---------------------------------------------------------------------------------------------
# Patches


def apply_patch(current, body, content_type, model=None):
    """`current` with `body` applied as `content_type` says; `model` (the kind's schema model)
    tells a strategic merge patch how each list merges (cluster.patch)."""
    content_type = (content_type or "").split(";")[0].strip()
    if content_type == JSON_PATCH:
        if not isinstance(body, list):
            raise BadRequest("a JSON patch must be a list of operations")
        try:
            return jsonpatch.apply_patch(current, body)
        except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException) as exc:
            raise _json_patch_error(exc) from None
    if content_type in (STRATEGIC_PATCH, APPLY_PATCH):
        # An apply patch body is a manifest: server_side_apply adds its removals first.
        return patch_module.strategic_merge(current, body, model)
    if content_type == MERGE_PATCH:
        if not isinstance(body, dict):
            raise BadRequest("a merge patch must be a JSON object")
        return merge_patch(current, body)
    raise UnsupportedMediaType(
        f"the body of the request was in an unknown format - accepted media types include: "
        f"{JSON_PATCH}, {MERGE_PATCH}, {STRATEGIC_PATCH}, {APPLY_PATCH}")


def _json_patch_error(exc):
    err = ApiError(f"the server rejected our request due to an error in our request: {exc}")
    err.code, err.reason = 422, "Invalid"
    return err


def merge_patch(target, patch):
    """RFC 7386 JSON merge patch: maps merge, null deletes, anything else replaces."""
    if not isinstance(patch, dict):
        return clone(patch)
    result = clone(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def three_way_merge_patch(previous, desired, current):
    """The merge patch kubectl apply sends: set what `desired` says, delete what `previous`
    had and `desired` dropped, leave alone what others (controllers, defaults) wrote."""
    result = {}
    for key, value in desired.items():
        cur = current.get(key) if isinstance(current, dict) else None
        prev = previous.get(key) if isinstance(previous, dict) else None
        if isinstance(value, dict) and isinstance(cur, dict):
            sub = three_way_merge_patch(prev if isinstance(prev, dict) else {}, value, cur)
            if sub:
                result[key] = sub
        elif value != cur:
            result[key] = value
    for key in (previous or {}):
        if key not in desired:
            result[key] = None
    return result


def _patch_sets_rv(body):
    return isinstance(body, dict) and bool((body.get("metadata") or {}).get("resourceVersion"))


# ---------------------------------------------------------------------------------------------
# Internals


def _resolve(obj):
    if not isinstance(obj, dict):
        raise BadRequest("the object must be a map with apiVersion, kind and metadata")
    api_version, kind_name = obj.get("apiVersion"), obj.get("kind")
    if not kind_name or not api_version:
        missing = [m for m, v in (("apiVersion", api_version), ("kind", kind_name)) if not v]
        raise BadRequest("Object 'Kind' is missing in the object" if "kind" in missing
                         else "Object 'apiVersion' is missing in the object")
    kind, warning = kinds.resolve(api_version, kind_name)
    if kind is None:
        raise NotFound(kinds.no_match_message(api_version, kind_name))
    warnings = []
    if warning:
        warnings.append(warning)
        kind.convert(obj, api_version)
    obj["apiVersion"] = kind.api_version
    return kind, warnings


def _check_fields(kind, obj, field_validation):
    """Unknown fields: refused (Strict), dropped with a warning (Warn) or dropped (Ignore).
    Values of the wrong type are refused whatever the mode, as JSON decoding refuses them."""
    errors = schema.check(obj, kind.model)
    unknown = [e for e in errors if e.type == "FieldValueUnknown"]
    typed = [e for e in errors if e.type != "FieldValueUnknown"]
    meta = obj.get("metadata")
    name = meta.get("name", "") if isinstance(meta, dict) else ""
    if typed:
        raise Invalid(kind.kind, name, typed, group=kind.group)
    if not unknown:
        return []
    if field_validation == "Strict":
        raise StrictDecodingError(kind.kind, name, unknown, version=kind.version)
    pruned = schema.prune(obj, kind.model)
    obj.clear()
    obj.update(pruned)
    if field_validation == "Ignore":
        return []
    return [e.message for e in unknown]


def _place(kind, meta, namespace):
    if kind.namespaced:
        if namespace and meta.get("namespace") and meta["namespace"] != namespace:
            raise BadRequest("the namespace of the provided object does not match the "
                             "namespace sent on the request")
        meta["namespace"] = meta.get("namespace") or namespace or "default"
    else:
        meta.pop("namespace", None)


def _validate(kind, obj, ctx, old=None):
    from cluster.kinds import validation as v

    meta = obj["metadata"]
    errors = []
    name = meta.get("name", "")
    if kind.kind not in ("Node", "Namespace", "Clock"):
        errors += v.each("metadata.name", name, v.dns1123_subdomain(name))
    if meta.get("generateName") and not name:
        errors.append(FieldError.required("metadata.name"))
    errors += v.labels("metadata.labels", meta.get("labels"))
    errors += v.annotations("metadata.annotations", meta.get("annotations"))
    errors += kind.validate(obj, ctx)
    if old is not None:
        errors += kind.validate_update(old, obj, ctx)
    if errors:
        raise Invalid(kind.kind, name, errors, group=kind.group)


def _merge_for_update(kind, stored, incoming, subresource, ctx):
    new = clone(incoming)
    meta = new["metadata"]
    old_meta = stored["metadata"]
    for managed in ("uid", "creationTimestamp", "deletionTimestamp",
                    "deletionGracePeriodSeconds", "generation", "namespace", "name"):
        if managed in old_meta:
            meta[managed] = old_meta[managed]
        else:
            meta.pop(managed, None)
    meta.pop("resourceVersion", None)
    if subresource == "status":
        result = clone(stored)
        result["status"] = new.get("status") or {}
        return result
    if subresource == "binding":
        # As the API server's Binding: set the node and the PodScheduled condition together.
        result = clone(stored)
        result["spec"]["nodeName"] = (new.get("spec") or {}).get("nodeName")
        status = result.setdefault("status", {})
        status["conditions"] = [c for c in status.get("conditions") or []
                                if c.get("type") != "PodScheduled"]
        status["conditions"].append({"type": "PodScheduled", "status": "True",
                                     "lastProbeTime": None, "lastTransitionTime": ctx.timestamp})
        return result
    if kind.has_status:
        new["status"] = clone(stored.get("status") or {})
    return new


def _same(old, new):
    a = {k: v for k, v in old.items() if k != "metadata"}
    b = {k: v for k, v in new.items() if k != "metadata"}
    am = {k: v for k, v in old["metadata"].items() if k != "resourceVersion"}
    bm = {k: v for k, v in new["metadata"].items() if k != "resourceVersion"}
    return a == b and am == bm


def _lock(cluster):
    # Serialise writers per cluster so change ids commit in order: a watcher that has seen id N
    # can then never later meet a smaller id. SQLite's IMMEDIATE transactions already do this.
    if transaction.get_connection().vendor != "sqlite":
        Cluster.objects.select_for_update().filter(pk=cluster.pk).values_list("pk").first()


def _locked_row(cluster, kind, namespace, name, uid=None):
    """The stored row; by uid when the caller knows it (one indexed lookup), else by name."""
    if uid:
        # Not .first(): its ORDER BY id makes SQLite scan the table instead of using the
        # uid index (2.6 ms instead of 0.1 ms per write at 10,000 objects).
        row = next(iter(ApiObject.objects.filter(uid=uid)[:1]), None)
        if row is not None and (row.cluster_id, row.group, row.kind, row.namespace, row.name) == (
                cluster.pk, kind.group, kind.kind, namespace, name):
            return row
    try:
        row = ApiObject.objects.get(cluster=cluster, group=kind.group, kind=kind.kind,
                                    namespace=namespace, name=name)
    except ApiObject.DoesNotExist:
        raise NotFound.of(kind.plural, name, kind.group) from None
    if uid and str(row.uid) != str(uid):
        # The object was deleted and recreated under the same name since the caller read it.
        raise Conflict(
            f'Operation cannot be fulfilled on {kind.group_resource} "{name}": Precondition '
            f"failed: UID in precondition: {uid}, UID in object meta: {row.uid}",
            details={"name": name, "kind": kind.plural})
    return row


def _exists(cluster, kind, namespace, name):
    return ApiObject.objects.filter(cluster=cluster, group=kind.group, kind=kind.kind,
                                    namespace=namespace, name=name).exists()


_NAMESPACE_PHASE_SQL = (
    f'SELECT "phase" FROM "{ApiObject._meta.db_table}" WHERE "cluster_id" = %s '
    '''AND "kind" = 'Namespace' AND "group" = '' AND "name" = %s LIMIT 1''')


def _require_namespace_open(cluster, kind, namespace, name):
    # One indexed lookup per create; written as SQL because building the ORM query cost
    # several times what running it does (every pod a controller creates passes here).
    with transaction.get_connection().cursor() as cursor:
        cursor.execute(_NAMESPACE_PHASE_SQL, [cluster.pk, namespace])
        found = cursor.fetchone()
    phase = found[0] if found else None
    if phase is None:
        raise NotFound.of("namespaces", namespace)
    if phase == "Terminating":
        raise Forbidden(
            f'{kind.group_resource} "{name}" is forbidden: unable to create new content in '
            f"namespace {namespace} because it is being terminated",
            details={"name": name, "kind": kind.plural})


# Rows are written with SQL built once per model: building it through the ORM (a queryset's
# update(), bulk_create) cost several times what running it does, on the hottest paths.
_TABLES = {}
_SQL = {}


def _table(model):
    """(the fields an INSERT writes: all but the primary key, the quoted table, the quoted
    primary key column)."""
    if model not in _TABLES:
        connection = transaction.get_connection()
        fields = [f for f in model._meta.concrete_fields if not f.primary_key]
        _TABLES[model] = (fields, connection.ops.quote_name(model._meta.db_table),
                          connection.ops.quote_name(model._meta.pk.column))
    return _TABLES[model]


def _db_values(connection, model, values, names=None):
    """A row's values (in `_table(model)` field order, or of the fields `names`) as the
    database takes them: what each field's get_db_prep_save gives."""
    return [convert(value) for convert, value in zip(_converters(connection, model, names),
                                                      values)]


# Types a field takes as they are: get_db_prep_save returns a value of its own type as is.
_PLAIN_TYPES = {"CharField": str, "SlugField": str, "TextField": str, "BooleanField": bool,
                "BigIntegerField": int, "IntegerField": int}
_CONVERTERS = {}


def _converters(connection, model, names=None):
    key = (connection.vendor, model, names)
    if key not in _CONVERTERS:
        fields = _table(model)[0] if names is None else [
            model._meta.get_field(name) for name in names]
        _CONVERTERS[key] = [_converter(connection, f) for f in fields]
    return _CONVERTERS[key]


def _converter(connection, field):
    """value -> what `field.get_db_prep_save(value, connection)` gives, with the common cases
    done directly: that call, per column and row, was a third of a write's Python time. A
    foreign key is its id; on SQLite a JSON column takes json_text's text (the field would
    use json.dumps); PostgreSQL's jsonb adapter is left to the field."""
    def prepare(value):
        return field.get_db_prep_save(value, connection)

    plain = _PLAIN_TYPES.get(field.get_internal_type())
    if field.is_relation:
        return _as_is
    if isinstance(field, JSONField) and connection.vendor == "sqlite":
        return lambda value: None if value is None else json_text(value)
    if plain is not None:
        return lambda value: value if type(value) is plain else prepare(value)
    return prepare


def _as_is(value):
    return value


def _insert(instance):
    """Model.save(force_insert=True) for ApiObject and Change (no signals, no parents)."""
    connection = transaction.get_connection()
    fields = _table(type(instance))[0]
    instance.pk = _insert_values(type(instance), [getattr(instance, f.attname) for f in fields])
    instance._state.adding = False
    instance._state.db = connection.alias
    return instance


def _insert_sql(connection, model, rows=1):
    """INSERT ... VALUES (one row), ... RETURNING the ids, for `rows` rows of `model`."""
    key = ("insert", connection.vendor, model, rows)
    if key not in _SQL:
        fields, table, pk = _table(model)
        columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
        one = f"({', '.join(['%s'] * len(fields))})"
        _SQL[key] = (f"INSERT INTO {table} ({columns}) VALUES {', '.join([one] * rows)} "
                     f"RETURNING {pk}")
    return _SQL[key]


def _insert_values(model, values):
    """INSERT one row of `model` (its values in `_table(model)` field order). Returns its id."""
    connection = transaction.get_connection()
    with connection.cursor() as cursor:
        cursor.execute(_insert_sql(connection, model), _db_values(connection, model, values))
        return cursor.fetchone()[0]


def _insert_many(model, rows):
    """INSERT rows of `model` (each a list of values in `_table(model)` field order) in
    multi-row statements. Returns their ids in the order of `rows`."""
    connection = transaction.get_connection()
    # SQLite's bound on parameters per statement; 1,000 rows at most elsewhere.
    batch = max(1, min(1000, connection.ops.bulk_batch_size(_table(model)[0], rows)))
    ids = []
    with connection.cursor() as cursor:
        for start in range(0, len(rows), batch):
            chunk = rows[start:start + batch]
            params = [p for values in chunk for p in _db_values(connection, model, values)]
            cursor.execute(_insert_sql(connection, model, len(chunk)), params)
            # RETURNING's row order is unspecified, but one statement takes its ids in the
            # order of its VALUES (SQLite's rowid, PostgreSQL's sequence): sorted, they pair.
            ids += sorted(found[0] for found in cursor.fetchall())
    return ids


# The columns an object's write may change: always its version, body and labels; the
# indexed copies only when they change, since each one set costs an update of its index.
_ROW_WRITTEN = ("resource_version", "body", "labels")
_ROW_INDEXED = ("deleting", "node_name", "phase", "owner_uid")


def _update_row(row, previous_rv, previous):
    """Write the row's body and columns if it is still at `previous_rv`; `previous`: its
    indexed columns' values at that version. Returns whether it was written."""
    connection = transaction.get_connection()
    names = _ROW_WRITTEN + tuple(name for name in _ROW_INDEXED
                                 if getattr(row, name) != previous[name])
    key = ("update", connection.vendor, names)
    if key not in _SQL:
        _, table, pk = _table(ApiObject)
        sets = ", ".join(f"{connection.ops.quote_name(ApiObject._meta.get_field(name).column)}"
                         " = %s" for name in names)
        version = connection.ops.quote_name("resource_version")
        _SQL[key] = f"UPDATE {table} SET {sets} WHERE {pk} = %s AND {version} = %s"
    params = _db_values(connection, ApiObject, [getattr(row, name) for name in names], names)
    with connection.cursor() as cursor:
        cursor.execute(_SQL[key], params + [row.pk, previous_rv])
        return cursor.rowcount == 1


def _save(cluster, kind, row, body, change_type, created=False):
    meta = body["metadata"]
    meta.pop("resourceVersion", None)
    previous_rv = row.resource_version
    previous = {name: getattr(row, name) for name in _ROW_INDEXED}
    change_id = _insert_values(Change, _change_values(cluster, change_type, kind.group,
                                                      kind.kind, row.namespace, row.name, body))
    meta["resourceVersion"] = str(change_id)
    row.resource_version = change_id
    row.body = body
    row.labels = meta.get("labels") or {}
    row.deleting = bool(meta.get("deletionTimestamp"))
    columns = {"node_name": "", "phase": "", "owner_uid": ""}
    columns.update(kind.index(body))
    for column, value in columns.items():
        setattr(row, column, value)
    if created:
        _insert(row)
    else:
        # Conditional on the version read: a copy gone stale since is a Conflict (and the
        # caller's savepoint drops the change row written above).
        if not _update_row(row, previous_rv, previous):
            raise Conflict.stale(kind.plural, row.name, kind.group)
    publish.changes_committed(cluster.name)


def _remove(cluster, kind, row):
    body = row.body
    body["metadata"].pop("resourceVersion", None)
    change = Change.objects.create(cluster=cluster, type=Change.DELETED, group=kind.group,
                                   kind=kind.kind, namespace=row.namespace, name=row.name,
                                   object=body)
    body["metadata"]["resourceVersion"] = str(change.id)
    row.delete()
    publish.changes_committed(cluster.name)


def _finish_if_done(cluster, kind, row):
    """An object whose deletion waits only on finalizers goes once the last one is removed."""
    meta = row.body["metadata"]
    if not meta.get("deletionTimestamp") or meta.get("finalizers"):
        return
    if kind.kind == "Pod" and meta.get("deletionGracePeriodSeconds") != 0:
        return   # still stopping: its kubelet deletes it with grace 0 once it has stopped
    if kind.kind == "Namespace" and (row.body.get("spec") or {}).get("finalizers"):
        return  # the namespace controller clears spec.finalizers once the namespace is empty
    _remove(cluster, kind, row)


def _grace_period(kind, body, requested):
    if kind.kind != "Pod":
        return 0
    spec = body.get("spec") or {}
    phase = (body.get("status") or {}).get("phase")
    # An unscheduled or finished pod has nothing to stop: it goes at once.
    if not spec.get("nodeName") or phase in ("Succeeded", "Failed"):
        return 0
    if requested is None:
        requested = spec.get("terminationGracePeriodSeconds", 30)
    return max(0, int(requested))


def compact(cluster, keep):
    """Drop changes older than the latest `keep`, as etcd compaction does; watches and
    websockets resuming from before the cut get 410 Expired or a fresh snapshot."""
    latest = current_rv(cluster)
    threshold = latest - keep
    # Compact in strides, not on every tick: one DELETE per 1,000 changes at most.
    if threshold < cluster.compacted_rv + 1000:
        return 0
    deleted, _ = Change.objects.filter(cluster=cluster, id__lte=threshold).delete()
    Cluster.objects.filter(pk=cluster.pk).update(compacted_rv=threshold)
    cluster.compacted_rv = threshold
    return deleted


def purge(cluster):
    """Remove every object of the cluster (a reset), each with its DELETED change."""
    with transaction.atomic():
        _lock(cluster)
        for row in cluster.api_objects.order_by("-id"):
            _remove(cluster, kinds.get(row.kind, row.group), row)


# The Clock is the SimClock row seen as an object.

def _clock_object(cluster, name=clock_kind.NAME):
    kind = kinds.get("Clock", "kubelab.io")
    if name != clock_kind.NAME:
        raise NotFound.of(kind.plural, name, kind.group)
    cluster.clock.refresh_from_db()
    return kind.to_object(cluster, cluster.clock)


def _update_clock(cluster, kind, obj, dry_run):
    from cluster.models import SimClock

    ctx = Context(cluster, cluster.clock.now)
    errors = kind.validate(obj, ctx)
    if errors:
        raise Invalid(kind.kind, obj["metadata"].get("name", ""), errors, group=kind.group)
    with transaction.atomic():
        clock = SimClock.objects.select_for_update().get(cluster=cluster)
        expected = obj["metadata"].get("resourceVersion")
        if expected and str(expected) != str(clock.resource_version):
            raise Conflict.stale(kind.plural, clock_kind.NAME, kind.group)
        spec = obj.get("spec") or {}
        paused, speed = spec.get("paused", clock.paused), spec.get("speed", clock.speed)
        if (paused, speed) == (clock.paused, clock.speed):
            return Written(kind.to_object(cluster, clock), [], "unchanged")
        if dry_run:
            clock.paused, clock.speed = paused, speed
            return Written(kind.to_object(cluster, clock), [], "configured")
        SimClock.objects.filter(pk=clock.pk).update(
            paused=paused, speed=speed, resource_version=clock.resource_version + 1)
        clock.refresh_from_db()
        cluster.clock = clock
        result = kind.to_object(cluster, clock)
        publish.clock_changed(cluster.name, result)
    return Written(result, [], "configured")


def step_clock(cluster, seconds):
    """Ask the reconciler to advance a paused clock by `seconds` (the board's step button)."""
    from django.db.models import F

    from cluster.models import SimClock

    SimClock.objects.filter(cluster=cluster).update(pending_step=F("pending_step") + seconds)
