"""Kubernetes' object field schema, taken from the official Python client's generated models.

Every model class of `kubernetes.client.models` (V1Pod, V1Container, ...) carries
`openapi_types` (python attribute -> type string such as 'int', 'list[V1Container]',
'dict(str, str)') and `attribute_map` (python attribute -> JSON field name). Those two maps are
the schema of every built-in kind: `check` walks a decoded object against them and reports
unknown fields (with a hint that teaches) and values of the wrong JSON type; `prune` drops the
unknown fields; `describe` answers `kubectl explain`-style questions. kubelab's own kinds add
their models with `register_model`, in the same type language.

Type language: 'str', 'int', 'bool', 'float', 'datetime', 'object' (free-form), 'list[T]',
'dict(str, T)', a model name, plus two kubelab extras for registered models: 'int-or-string'
and 'quantity'.
"""

from __future__ import annotations

import datetime as _dt
import difflib
import re

from cluster.errors import FieldError

__all__ = ["check", "prune", "register_model", "describe", "known_model", "fields"]

# --- type compilation -----------------------------------------------------------------------

# Compiled types are small tuples: (code,) or (code, argument).
_STR, _INT, _BOOL, _FLOAT, _DATETIME, _ANY, _INTSTR, _QUANTITY, _LIST, _MAP, _MODEL = range(11)

_PRIMITIVES = {
    "str": (_STR,),
    "int": (_INT,),
    "bool": (_BOOL,),
    "float": (_FLOAT,),
    "datetime": (_DATETIME,),
    "date": (_DATETIME,),
    "object": (_ANY,),
    "int-or-string": (_INTSTR,),
    "quantity": (_QUANTITY,),
}

# 'object' in the client means either IntOrString or truly free-form JSON. The IntOrString
# fields of Kubernetes 1.32 (probe and service ports, rollout surge/unavailable, PDB budgets):
_INTSTR_ATTRS = {"port", "target_port", "max_surge", "max_unavailable", "min_available"}

# resource.Quantity is a string in the client, but its JSON decoding accepts numbers too
# (Quantity.UnmarshalJSON parses an unquoted number). Maps of quantities by attribute name:
_QUANTITY_MAP_ATTRS = {
    "limits", "requests", "capacity", "allocatable", "allocated_resources", "hard", "used",
    "default", "default_request", "max", "min", "max_limit_request_ratio", "overhead",
    "pod_fixed",
}
# ...and single quantities:
_QUANTITY_ATTRS = {
    ("V1EmptyDirVolumeSource", "size_limit"),
    ("V1ResourceFieldSelector", "divisor"),
    ("V2MetricTarget", "value"),
    ("V2MetricTarget", "average_value"),
    ("V1CSIStorageCapacity", "capacity"),
    ("V1CSIStorageCapacity", "maximum_volume_size"),
}

_type_cache: dict[str, tuple] = {}


def _compile(type_string: str) -> tuple:
    ct = _type_cache.get(type_string)
    if ct is not None:
        return ct
    t = type_string.strip()
    if t in _PRIMITIVES:
        ct = _PRIMITIVES[t]
    elif t.startswith("list[") and t.endswith("]"):
        ct = (_LIST, _compile(t[5:-1]))
    elif t.startswith("dict(") and t.endswith(")"):
        key, _, value = t[5:-1].partition(",")
        ct = (_MAP, _compile(value))
    else:
        ct = (_MODEL, t)
    _type_cache[type_string] = ct
    return ct


# --- models ---------------------------------------------------------------------------------

_registered: dict[str, dict[str, tuple[str, str]]] = {}   # name -> {json: (type, description)}
_fields_cache: dict[str, dict[str, tuple]] = {}           # name -> {json: (attr, compiled, type)}
_client_models = None


def _client():
    global _client_models
    if _client_models is None:
        from kubernetes.client import models
        _client_models = models
    return _client_models


def _client_class(name):
    cls = getattr(_client(), name, None)
    if cls is None or not hasattr(cls, "openapi_types"):
        return None
    return cls


def known_model(name: str) -> bool:
    return name in _registered or _client_class(name) is not None


def _fields(name: str) -> dict:
    fields = _fields_cache.get(name)
    if fields is not None:
        return fields
    if name in _registered:
        fields = {json: (json, _compile(t), t) for json, (t, _d) in _registered[name].items()}
    else:
        cls = _client_class(name)
        if cls is None:
            raise KeyError(f"unknown model {name!r}")
        fields = {}
        for attr, t in cls.openapi_types.items():
            ct = _compile(t)
            if t == "object" and attr in _INTSTR_ATTRS:
                ct = (_INTSTR,)
            elif t == "dict(str, str)" and attr in _QUANTITY_MAP_ATTRS:
                ct = (_MAP, (_QUANTITY,))
            elif t == "str" and (name, attr) in _QUANTITY_ATTRS:
                ct = (_QUANTITY,)
            fields[cls.attribute_map[attr]] = (attr, ct, t)
    _fields_cache[name] = fields
    return fields


def register_model(name: str, fields: dict) -> None:
    """Add (or replace) a kubelab-own model: {json_name: type_string} in the type language of
    the module docstring; a value may also be (type_string, description) for `describe`.
    Nested model names may refer to registered or client models."""
    spec = {}
    for json_name, t in fields.items():
        if isinstance(t, tuple):
            spec[json_name] = (t[0], t[1] if len(t) > 1 else "")
        else:
            spec[json_name] = (t, "")
    _registered[name] = spec
    _fields_cache.pop(name, None)
    _hint_cache.clear()


# --- check ----------------------------------------------------------------------------------

def _got(value) -> str:
    t = type(value)
    if t is str:
        return "a string"
    if t is bool:
        return "a boolean"
    if t is int:
        return "an integer"
    if t is float:
        return "a number with a fraction" if not value.is_integer() else "a number"
    if t is list:
        return "a list"
    if t is dict:
        return "a map"
    if isinstance(value, (_dt.date, _dt.datetime)):
        return "a date"
    if value is None:
        return "nothing (an empty list item)"
    return "a " + t.__name__


_EXPECTED = {
    _STR: "a string",
    _INT: "an integer",
    _BOOL: "a boolean (true or false)",
    _FLOAT: "a number",
    _DATETIME: 'a date-time string (RFC 3339, such as "2025-01-31T12:00:00Z")',
    _INTSTR: "an integer or a string",
    _QUANTITY: 'a quantity (a number, or a string such as "500m" or "1Gi")',
    _LIST: "a list",
    _MAP: "a map",
    _MODEL: "a map",
}


def _type_error(path, value, code):
    detail = f"expected {_EXPECTED[code]}, got {_got(value)}"
    if type(value) in (list, dict):
        # field.Error would print the whole value; a container is described, not dumped.
        return FieldError(path, "FieldValueTypeInvalid", detail)
    return FieldError.type_invalid(path, value, detail)


def _is_int(value) -> bool:
    t = type(value)
    # YAML `replicas: 3.0` reaches the API server as JSON 3 (kubectl's YAML-to-JSON
    # conversion), so an integral float is an integer; 1.5 is refused as for int32.
    return t is int or (t is float and value.is_integer())


def _check_value(value, ct, path, frame, errors):
    code = ct[0]
    t = type(value)
    if code == _STR:
        if t is not str:
            errors.append(_type_error(path, value, code))
    elif code == _MODEL:
        _check_model(value, ct[1], path, frame, errors)
    elif code == _LIST:
        if t is not list:
            errors.append(_type_error(path, value, code))
            return
        sub = ct[1]
        for i, item in enumerate(value):
            # An empty list item (`- ` alone) is a null: refused where an object belongs.
            if item is not None or sub[0] == _MODEL:
                _check_value(item, sub, f"{path}[{i}]", frame, errors)
    elif code == _MAP:
        if t is not dict:
            errors.append(_type_error(path, value, code))
            return
        sub = ct[1]
        if sub[0] == _ANY:
            return
        for k, item in value.items():
            if item is not None:
                _check_value(item, sub, f"{path}[{k}]", frame, errors)
    elif code == _INT:
        if not _is_int(value):
            errors.append(_type_error(path, value, code))
    elif code == _BOOL:
        if t is not bool:
            errors.append(_type_error(path, value, code))
    elif code == _INTSTR:
        if t is not str and not _is_int(value):
            errors.append(_type_error(path, value, code))
    elif code == _QUANTITY:
        if t is not str and t is not int and t is not float:
            errors.append(_type_error(path, value, code))
    elif code == _FLOAT:
        if t is not int and t is not float:
            errors.append(_type_error(path, value, code))
    elif code == _DATETIME:
        if t is not str and not isinstance(value, (_dt.date, _dt.datetime)):
            errors.append(_type_error(path, value, code))
    # _ANY: anything goes


def _check_model(obj, name, path, frame, errors):
    if type(obj) is not dict:
        errors.append(_type_error(path, obj, _MODEL))
        return
    fields = _fields(name)
    prefix = path + "." if path else ""
    for key, value in obj.items():
        spec = fields.get(key)
        if spec is None:
            errors.append(FieldError.unknown(prefix + str(key),
                                             hint=_unknown_hint(str(key), name, path, frame)))
            continue
        if value is None:
            continue          # null means unset
        ct = spec[1]
        code = ct[0]
        if code == _STR:      # the common case, inline
            if type(value) is not str:
                errors.append(_type_error(prefix + key, value, code))
        elif code == _MODEL or code == _LIST or code == _MAP:
            _check_value(value, ct, prefix + key, (name, path, key, frame), errors)
        else:
            _check_value(value, ct, prefix + key, None, errors)


def check(obj: dict, model: str) -> list[FieldError]:
    """Unknown fields and wrong JSON types in `obj` (a whole object) against `model`."""
    _fields(model)            # unknown model -> KeyError, even for a non-map obj
    errors: list[FieldError] = []
    _check_model(obj, model, "", None, errors)
    return errors


# --- prune ----------------------------------------------------------------------------------

def _prune_value(value, ct):
    code = ct[0]
    if code == _MODEL:
        return _prune_model(value, ct[1])
    if code == _LIST and type(value) is list:
        return [_prune_value(v, ct[1]) if v is not None else None for v in value]
    if code == _MAP and type(value) is dict:
        return {k: _prune_value(v, ct[1]) if v is not None else None for k, v in value.items()}
    if type(value) in (list, dict):
        import copy
        return copy.deepcopy(value)
    return value


def _prune_model(obj, name):
    if type(obj) is not dict:
        return _prune_value(obj, (_ANY,))
    fields = _fields(name)
    out = {}
    for key, value in obj.items():
        spec = fields.get(key)
        if spec is None:
            continue
        out[key] = _prune_value(value, spec[1]) if value is not None else None
    return out


def prune(obj: dict, model: str) -> dict:
    """A deep copy of `obj` without the fields `model` does not know (fieldValidation=Ignore)."""
    return _prune_model(obj, model)


# --- hints for unknown fields ---------------------------------------------------------------

_hint_cache: dict[tuple, tuple] = {}
_PREFIX = re.compile(r"^(?:[A-Z][a-z]+)*?V\d+(?:(?:alpha|beta)\d+)?(?=[A-Z])")
_WORDS = re.compile(r"[A-Z]+(?=[A-Z][a-z]|\d|$)|[A-Z][a-z0-9]*|[a-z0-9]+")
_NOUNS = {"ObjectMeta": "metadata", "PodTemplateSpec": "pod template",
          "JobTemplateSpec": "job template"}


def _noun(model: str) -> str:
    base = _PREFIX.sub("", model)
    if base in _NOUNS:
        return _NOUNS[base]
    return " ".join(w.lower() for w in _WORDS.findall(base)) or model


def _normalise(name: str) -> str:
    return name.replace("_", "").replace("-", "").lower()


def _descendant(model: str, key: str, depth: int = 3):
    """Breadth-first: the nearest model below `model` that has field `key`.
    Returns (relative path like 'template.spec', owner model) or None."""
    found = _hint_cache.get(("desc", model, key))
    if found is not None:
        return found or None
    queue = [(model, "", 0)]
    seen = {model}
    result = ()
    while queue and not result:
        nxt = []
        for name, rel, d in queue:
            for json, (_attr, ct, _t) in _fields(name).items():
                inner = ct
                index = ""
                while inner[0] in (_LIST, _MAP):
                    index += "[0]" if inner[0] == _LIST else "[*]"
                    inner = inner[1]
                if inner[0] != _MODEL or not known_model(inner[1]):
                    continue
                child = inner[1]
                child_rel = f"{rel}.{json}{index}" if rel else f"{json}{index}"
                if key in _fields(child):
                    result = (child_rel, child)
                    break
                if d + 1 < depth and child not in seen:
                    seen.add(child)
                    nxt.append((child, child_rel, d + 1))
            if result:
                break
        queue = nxt
    _hint_cache[("desc", model, key)] = result
    return result or None


def _under(rel: str) -> str:
    plain = rel.replace("[0]", "").replace("[*]", "")
    return plain + (" (inside a list item)" if "[0]" in rel else "")


def _unknown_hint(key: str, model: str, path: str, frame) -> str:
    fields = _fields(model)
    # 1. the same field, spelled with other case or with underscores
    norm = _normalise(key)
    for name in fields:
        if _normalise(name) == norm:
            return f'did you mean "{name}"?'
    # 2. a field of an ancestor: indented too far
    f = frame
    while f is not None:
        anc_model, anc_path, down_key, parent = f
        if key in _fields(anc_model):
            where = f"{anc_path}.{key}" if anc_path else key
            return (f"{key} is a field of the {_noun(anc_model)} ({where}): it is indented too "
                    f"far, line it up with {down_key}")
        f = parent
    # 3. a field of an object below: it belongs further in
    below = _descendant(model, key)
    if below is not None:
        rel, owner = below
        where = f"{path}.{rel}.{key}" if path else f"{rel}.{key}"
        return (f"{key} is a field of the {_noun(owner)} ({where}), not of the {_noun(model)}: "
                f"put it under {_under(rel)}")
    # 3b. a field of an object beside one of the ancestors (labels under spec: metadata.labels)
    f = frame
    while f is not None:
        anc_model, anc_path, down_key, parent = f
        below = _descendant(anc_model, key, depth=2)
        if below is not None:
            rel, owner = below
            where = f"{anc_path}.{rel}.{key}" if anc_path else f"{rel}.{key}"
            return (f"{key} is a field of the {_noun(owner)} ({where}), not of the "
                    f"{_noun(model)}: move it there")
        f = parent
    # 4. a close spelling
    close = difflib.get_close_matches(key, list(fields), n=1, cutoff=0.75)
    if close:
        return f'did you mean "{close[0]}"?'
    return ""


# --- describe -------------------------------------------------------------------------------

_NOQA = re.compile(r"\s*# noqa: E501")


def _description(model: str, attr: str, json: str) -> str:
    if model in _registered:
        return _registered[model][json][1]
    prop = getattr(_client_class(model), attr, None)
    doc = getattr(getattr(prop, "fget", None), "__doc__", None) or ""
    lines = [_NOQA.sub("", line).strip() for line in doc.splitlines()]
    body = []
    for line in lines:
        if line.startswith(":return:") or line.startswith(":rtype:"):
            break
        if line.startswith("Gets the ") and not body:
            continue
        body.append(line)
    return " ".join(line for line in body if line).strip()


def describe(model: str, path: str = "") -> tuple[str, str]:
    """(type_string, description) of a dotted field path such as 'spec.containers.ports'
    (list indexes optional). The empty path describes the model itself: (model, '')."""
    parts = [p for p in re.sub(r"\[[^\]]*\]", "", path).split(".") if p]
    current, type_string, description = model, model, ""
    for i, part in enumerate(parts):
        if current is None:
            raise KeyError(f'field "{".".join(parts[:i + 1])}" does not exist')
        fields = _fields(current)
        if part not in fields:
            raise KeyError(f'field "{".".join(parts[:i + 1])}" does not exist')
        attr, ct, type_string = fields[part]
        description = _description(current, attr, part)
        while ct[0] in (_LIST, _MAP):
            ct = ct[1]
        current = ct[1] if ct[0] == _MODEL else None
    return type_string, description


# --- fields, for OpenAPI documents ------------------------------------------------------------

_TYPE_NAMES = {_STR: "str", _INT: "int", _BOOL: "bool", _FLOAT: "float", _DATETIME: "datetime",
               _ANY: "object", _INTSTR: "int-or-string", _QUANTITY: "quantity"}


def _type_string(ct: tuple) -> str:
    """The type language string of a compiled type (the inverse of _compile)."""
    if ct[0] == _LIST:
        return f"list[{_type_string(ct[1])}]"
    if ct[0] == _MAP:
        return f"dict(str, {_type_string(ct[1])})"
    if ct[0] == _MODEL:
        return ct[1]
    return _TYPE_NAMES[ct[0]]


def fields(model: str) -> list[tuple[str, str, str, str]]:
    """(json name, python attribute, type string, description) of each field of `model`, the
    type as `check` reads it (int-or-string and quantity included): what cluster.api.openapi
    publishes. Registered models' attribute is their json name."""
    return [(json, attr, _type_string(ct), _description(model, attr, json))
            for json, (attr, ct, _t) in _fields(model).items()]
