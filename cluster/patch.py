"""Strategic merge patch, as the API server applies `application/strategic-merge-patch+json`.

A strategic merge patch is a JSON merge patch (maps merge, null deletes) that knows how each
list of the kind merges, from the `patchStrategy` / `patchMergeKey` tags of the Kubernetes API
types (MERGE_KEYS below, looked up by (model, field) along cluster.schema's models):

- a list with a merge key (containers by name, ports by containerPort, ...) merges element by
  element: a patch element updates the element with the same key, or is appended;
- a list of primitives with strategy merge (finalizers) is a union;
- every other list is replaced whole, as in a merge patch.

Directives: `$patch: replace|delete|merge` (on a map, or as a list element), `$retainKeys`,
`$setElementOrder/<list>` and `$deleteFromPrimitiveList/<list>`.

Server-side apply uses the same tables: `fields_v1` is the FieldsV1 set a manifest sets (what
metadata.managedFields records per manager), `with_removals` turns a manifest into the patch
that also deletes what the manager's previous manifest set, and `leaf_paths` / `value_at` /
`path_text` let cluster.store find and word ownership conflicts.
"""

import json

from cluster import schema
from cluster.errors import BadRequest

PATCH = "$patch"
RETAIN_KEYS = "$retainKeys"
SET_ORDER = "$setElementOrder/"
DELETE_FROM = "$deleteFromPrimitiveList/"

# (model, field) -> (merge key, or None for a list of primitives). Facts from the
# `patchStrategy:"merge"` tags of k8s.io/api 1.32; a list not named here is replaced whole
# (tolerations, args, command, taints, matchExpressions, ...), as the API server does.
MERGE_KEYS = {
    ("V1ObjectMeta", "finalizers"): None,
    ("V1ObjectMeta", "ownerReferences"): "uid",
    ("V1PodSpec", "containers"): "name",
    ("V1PodSpec", "initContainers"): "name",
    ("V1PodSpec", "ephemeralContainers"): "name",
    ("V1PodSpec", "volumes"): "name",
    ("V1PodSpec", "imagePullSecrets"): "name",
    ("V1PodSpec", "hostAliases"): "ip",
    ("V1PodSpec", "topologySpreadConstraints"): "topologyKey",
    ("V1PodSpec", "resourceClaims"): "name",
    ("V1PodSpec", "schedulingGates"): "name",
    ("V1Container", "env"): "name",
    ("V1Container", "ports"): "containerPort",
    ("V1Container", "volumeMounts"): "mountPath",
    ("V1Container", "volumeDevices"): "devicePath",
    ("V1EphemeralContainer", "env"): "name",
    ("V1EphemeralContainer", "ports"): "containerPort",
    ("V1EphemeralContainer", "volumeMounts"): "mountPath",
    ("V1EphemeralContainer", "volumeDevices"): "devicePath",
    ("V1ServiceSpec", "ports"): "port",
    ("V1PodStatus", "conditions"): "type",
    ("V1PodStatus", "podIPs"): "ip",
    ("V1PodStatus", "hostIPs"): "ip",
    ("V1NodeStatus", "conditions"): "type",
    ("V1NodeStatus", "addresses"): "type",
    ("V1NamespaceStatus", "conditions"): "type",
    ("V1DeploymentStatus", "conditions"): "type",
    ("V1ReplicaSetStatus", "conditions"): "type",
    ("V1ReplicationControllerStatus", "conditions"): "type",
    ("V1DaemonSetStatus", "conditions"): "type",
    ("V1StatefulSetStatus", "conditions"): "type",
    ("V1JobStatus", "conditions"): "type",
    ("V1ServiceStatus", "conditions"): "type",
}


def merge_key(model, field):
    """(is a merge list, its key) for `field` of `model`."""
    if (model, field) in MERGE_KEYS:
        return True, MERGE_KEYS[(model, field)]
    return False, None


def _field_types(model):
    """{json field: type string} of a schema model; {} for free-form or unknown ones."""
    if not model or not schema.known_model(model):
        return {}
    return {name: type_string for name, _attr, type_string, _d in schema.fields(model)}


def _element_model(type_string):
    """The model a field's value (or each of its elements / map values) is, or None."""
    if not type_string:
        return None
    while True:
        if type_string.startswith("list[") and type_string.endswith("]"):
            type_string = type_string[5:-1]
        elif type_string.startswith("dict(") and type_string.endswith(")"):
            type_string = type_string[5:-1].partition(",")[2].strip()
        else:
            break
    return type_string if schema.known_model(type_string) else None


def strategic_merge(original, patch, model):
    """The object `original` with the strategic merge `patch` applied; `model` is the kind's
    schema model (e.g. "V1Pod"). Neither argument is changed."""
    if not isinstance(patch, dict):
        raise BadRequest("a strategic merge patch must be a JSON object")
    result = _merge_map(original if isinstance(original, dict) else {}, patch, model)
    return {} if result is None else result


def _merge_map(original, patch, model):
    """One map of the patch over one map of the object; None when it says `$patch: delete`."""
    directive = patch.get(PATCH, "merge")
    if directive == "delete":
        return None
    if directive == "replace":
        return {k: _strip(v) for k, v in patch.items() if k != PATCH}
    if directive != "merge":
        raise BadRequest(f"Unknown patch type: {directive} in map: {patch}")
    types = _field_types(model)
    result = dict(original)
    orders, removals = {}, {}
    for key, value in patch.items():
        if key == PATCH or key == RETAIN_KEYS:
            continue
        if key.startswith(SET_ORDER):
            orders[key[len(SET_ORDER):]] = value
            continue
        if key.startswith(DELETE_FROM):
            removals[key[len(DELETE_FROM):]] = value
            continue
        if value is None:
            result.pop(key, None)
            continue
        sub_model = _element_model(types.get(key))
        if isinstance(value, dict):
            current = result.get(key)
            if types.get(key, "").startswith("dict("):
                # A map of models (rare) or of strings: each entry merges on its own.
                merged = _merge_map(current if isinstance(current, dict) else {}, value, None)
            else:
                merged = _merge_map(current if isinstance(current, dict) else {}, value,
                                    sub_model)
            if merged is None:
                result.pop(key, None)
            else:
                result[key] = merged
        elif isinstance(value, list):
            result[key] = _merge_list(result.get(key), value, model, key, sub_model)
        else:
            result[key] = value
    for key, values in removals.items():
        if not isinstance(values, list):
            raise BadRequest(f"{DELETE_FROM}{key} must be a list")
        if isinstance(result.get(key), list):
            result[key] = [item for item in result[key] if item not in values]
    for key, order in orders.items():
        if isinstance(result.get(key), list):
            _, merge_by = merge_key(model, key)
            result[key] = _reorder(result[key], order, merge_by)
    if RETAIN_KEYS in patch:
        keep = patch[RETAIN_KEYS]
        if not isinstance(keep, list):
            raise BadRequest(f"{RETAIN_KEYS} must be a list of field names")
        # retainKeys: fields of a union (a volume's source, a rollout strategy) the patch
        # does not keep are cleared, so switching from one to another leaves no stale one.
        result = {k: v for k, v in result.items() if k in keep}
    return result


def _merge_list(original, patch, model, field, element_model):
    merges, key = merge_key(model, field)
    if not merges or not isinstance(original, list):
        return _list_as_set(patch, key) if merges else [_strip(v) for v in patch]
    if key is None:
        # A set of primitives (finalizers): union, keeping the object's order first.
        result = list(original)
        for item in patch:
            if isinstance(item, dict) and item.get(PATCH) == "replace":
                return [i for i in patch if not isinstance(i, dict)]
            if item not in result:
                result.append(item)
        return result
    if any(isinstance(item, dict) and item.get(PATCH) == "replace" for item in patch):
        return [_strip(i) for i in patch if not (isinstance(i, dict) and PATCH in i)]
    result = list(original)
    for item in patch:
        if not isinstance(item, dict):
            raise BadRequest(f"the elements of {field} must be objects (merged by {key})")
        if key not in item:
            raise BadRequest(f"map: {item} does not contain declared merge key: {key}")
        index = next((i for i, cur in enumerate(result)
                      if isinstance(cur, dict) and cur.get(key) == item[key]), None)
        if item.get(PATCH) == "delete":
            if index is not None:
                result.pop(index)
            continue
        if index is None:
            merged = _merge_map({}, item, element_model)
            if merged is not None:
                result.append(merged)
        else:
            result[index] = _merge_map(result[index], item, element_model)
    return result


def _list_as_set(patch, key):
    """A merge list with nothing to merge into: the patch's elements, directives dropped."""
    items = []
    for item in patch:
        if isinstance(item, dict) and item.get(PATCH) in ("delete", "replace"):
            continue
        items.append(_strip(item))
    return items


def _strip(value):
    """A value with the patch directives taken out (what a created element looks like)."""
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items()
                if not (k == PATCH or k == RETAIN_KEYS or k.startswith(SET_ORDER)
                        or k.startswith(DELETE_FROM))}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


def _reorder(items, order, key):
    """`$setElementOrder`: the listed elements in the listed order; elements the order does not
    name (added by someone else) stay after the element they followed."""
    if not isinstance(order, list):
        raise BadRequest("$setElementOrder must be a list")

    def identity(item):
        if key is None:
            return item
        return item.get(key) if isinstance(item, dict) else None

    wanted = [identity(o) if key is not None and isinstance(o, dict) else o for o in order]
    ranked, last = [], -1.0
    for position, item in enumerate(items):
        ident = identity(item)
        if ident in wanted:
            last = float(wanted.index(ident))
            ranked.append((last, position, item))
        else:
            ranked.append((last + 0.5, position, item))
    return [item for _rank, _pos, item in sorted(ranked, key=lambda r: (r[0], r[1]))]


# ---------------------------------------------------------------------------------------------
# Server-side apply: the fields a manager's manifest sets (managedFields' FieldsV1), and the
# patch that also removes what its previous manifest set and this one no longer does.

# Identity fields are never recorded as managed, as in the API server's managedFields.
_UNMANAGED = {"apiVersion", "kind"}
_UNMANAGED_META = {"name", "namespace", "uid", "resourceVersion", "managedFields",
                   "creationTimestamp", "generation"}


def fields_v1(manifest, model):
    """The FieldsV1 set of a manifest: `f:<field>` per field, `k:{"<key>":<value>}` per element
    of a merge list, `v:<value>` per entry of a primitive set, `.` for the element itself."""
    return _fields_of(manifest, model, top=True)


def _fields_of(obj, model, top=False, meta=False):
    types = _field_types(model)
    out = {}
    for name, value in obj.items():
        if name.startswith("$") or (top and name in _UNMANAGED) or \
                (meta and name in _UNMANAGED_META):
            continue
        type_string = types.get(name, "")
        sub_model = _element_model(type_string)
        entry = {}
        if isinstance(value, dict):
            if type_string.startswith("dict(") or sub_model is None:
                entry = {f"f:{k}": {} for k in value}
            else:
                entry = _fields_of(value, sub_model, meta=(top and name == "metadata"))
        elif isinstance(value, list):
            merges, key = merge_key(model, name)
            if merges and key is not None:
                for element in value:
                    if isinstance(element, dict) and key in element:
                        entry[_element_id(key, element[key])] = {
                            ".": {}, **_fields_of(element, sub_model)}
            elif merges:
                entry = {"v:" + _canonical(v): {} for v in value}
        out[f"f:{name}"] = entry
    return out


def _canonical(value):
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _element_id(key, value):
    return "k:" + _canonical({key: value})


def with_removals(previous_fields, manifest, model):
    """The manifest as a strategic merge patch that also deletes what `previous_fields` (the
    manager's last FieldsV1) had and the manifest dropped: apply owns what it set."""
    return _with_removals(previous_fields or {}, manifest, model)


def _with_removals(previous, manifest, model):
    types = _field_types(model)
    result = dict(manifest)
    for field_key, children in previous.items():
        if not field_key.startswith("f:"):
            continue
        name = field_key[2:]
        if name not in manifest:
            result[name] = None
            continue
        value, type_string = manifest[name], types.get(name, "")
        sub_model = _element_model(type_string)
        if isinstance(value, dict) and children:
            if type_string.startswith("dict(") or sub_model is None:
                result[name] = {**{k[2:]: None for k in children if k.startswith("f:")}, **value}
            else:
                result[name] = _with_removals(children, value, sub_model)
        elif isinstance(value, list) and children:
            merges, key = merge_key(model, name)
            if merges and key is not None:
                elements = []
                for element in value:
                    ident = _element_id(key, element.get(key)) \
                        if isinstance(element, dict) else None
                    if ident in children:
                        elements.append(_with_removals(children[ident], element, sub_model))
                    else:
                        elements.append(element)
                kept = {_element_id(key, e.get(key)) for e in value if isinstance(e, dict)}
                for ident in children:
                    if ident.startswith("k:") and ident not in kept:
                        elements.append({PATCH: "delete", **json.loads(ident[2:])})
                result[name] = elements
            elif merges:
                gone = [json.loads(v[2:]) for v in children if v.startswith("v:")]
                gone = [v for v in gone if v not in value]
                if gone:
                    result[DELETE_FROM + name] = gone
    return result


def leaf_paths(fields, prefix=()):
    """Every field a FieldsV1 set names, as a path of its `f:`/`k:` components (set members,
    `v:`, cannot conflict: the same member is the same value)."""
    for component, children in (fields or {}).items():
        if component == "." or component.startswith("v:"):
            continue
        path = prefix + (component,)
        below = {c: v for c, v in (children or {}).items() if c != "."}
        if below and any(not c.startswith("v:") for c in below):
            yield from leaf_paths(below, path)
        else:
            yield path


def value_at(obj, path):
    """The value at a FieldsV1 path of an object, or None where there is none."""
    for component in path:
        if component.startswith("f:") and isinstance(obj, dict):
            obj = obj.get(component[2:])
        elif component.startswith("k:") and isinstance(obj, list):
            (key, value), = json.loads(component[2:]).items()
            obj = next((e for e in obj if isinstance(e, dict) and e.get(key) == value), None)
        else:
            return None
    return obj


def path_text(path):
    """A path as the API server's conflict message prints it: .spec.containers[name="web"]."""
    text = ""
    for component in path:
        if component.startswith("f:"):
            text += "." + component[2:]
        else:
            (key, value), = json.loads(component[2:]).items()
            text += f"[{key}={_canonical(value)}]"
    return text


def without_paths(fields, paths):
    """A FieldsV1 set with `paths` taken out (what a forced apply takes from a manager)."""
    result = json.loads(json.dumps(fields or {}))
    for path in paths:
        _drop(result, path)
    return result


def _drop(fields, path):
    if not path or path[0] not in fields:
        return
    if len(path) == 1:
        del fields[path[0]]
        return
    _drop(fields[path[0]], path[1:])
    if not {c for c in fields[path[0]] if c != "."} and "." not in fields[path[0]]:
        del fields[path[0]]
