"""Kubernetes protobuf request bodies (`application/vnd.kubernetes.protobuf`) read into the
JSON-shaped dict the same object's JSON would give, so validation and the store never know.

kubectl 1.32's typed clients send protobuf: `create namespace|service|job|cronjob|ingress`
and `create job --from=cronjob/...` (its `apply`, `replace`, `drain` and `delete` send
JSON). The body is the 4 bytes `k8s\\0` and a runtime.Unknown whose typeMeta names the
apiVersion and kind and whose `raw` is the object's own message.

What a field becomes follows Go's encoding/json on the struct gogo-protobuf decodes into
(cluster.api.protobuf_messages holds each field's number, JSON name and Go facts):
- gogo writes non-pointer fields even when zero, so a zero non-pointer `omitempty` scalar,
  list or map is dropped, as JSON would; a pointer's value is kept even when zero
  (`replicas: 0`); a field without omitempty is always there (`port: 0`, `containers: null`).
- a non-pointer struct is always there (encoding/json never omits one), a pointer to one
  only when sent.
- Time, MicroTime, Duration, IntOrString, Quantity, RawExtension and FieldsV1 read as their
  own JSON forms (SPECIAL).
- unknown field numbers are skipped: the API server's strict decoding cannot see them either.
A body that cannot be read is a BadRequest naming the field and what was wrong.
"""

import base64
import datetime as dt
import json
import math
import struct

from cluster.api.protobuf_messages import MESSAGES, META, PACKAGES
from cluster.errors import BadRequest

MEDIA_TYPE = "application/vnd.kubernetes.protobuf"
MAGIC = b"k8s\x00"

VARINT, FIXED64, LENGTH, FIXED32 = 0, 1, 2, 5
_MASK64 = (1 << 64) - 1


def decode(raw):
    """The object of a protobuf body as a JSON-shaped dict.

    1. check the magic and read the runtime.Unknown around the object;
    2. find the message its apiVersion and kind name;
    3. read the message into what its JSON would be, kind and apiVersion first."""
    if not raw:
        raise BadRequest("the request body is empty: send the object as protobuf or JSON")
    if not raw.startswith(MAGIC):
        raise BadRequest("the request body is not Kubernetes protobuf: it must begin with the "
                         "4 bytes 'k8s\\x00'")
    unknown = _collect(raw[len(MAGIC):], "the runtime.Unknown envelope")
    type_meta = _collect(_last_bytes(unknown, 1, "typeMeta"), "typeMeta")
    api_version = _text(_last_bytes(type_meta, 1, "typeMeta.apiVersion"))
    kind = _text(_last_bytes(type_meta, 2, "typeMeta.kind"))
    encoding = _text(_last_bytes(unknown, 3, "contentEncoding"))
    content_type = _text(_last_bytes(unknown, 4, "contentType"))
    if encoding:
        raise BadRequest(f"the protobuf body's contentEncoding {encoding!r} is not supported")
    if content_type not in ("", MEDIA_TYPE):
        raise BadRequest(f"the protobuf body's contentType {content_type!r} is not "
                         f"{MEDIA_TYPE}")
    if not kind or not api_version:
        raise BadRequest("the protobuf body's typeMeta must name both apiVersion and kind")
    message = message_of(api_version, kind)
    if message is None:
        raise BadRequest(f'no kind "{kind}" is registered for version "{api_version}" in '
                         f"kubelab's protobuf decoder: send this object as JSON")
    obj = {"kind": kind, "apiVersion": api_version}
    obj.update(_message(message, _last_bytes(unknown, 2, "raw"), ""))
    return obj


def message_of(api_version, kind):
    """The full name of the message a body of this apiVersion and kind is, or None."""
    for package in (PACKAGES.get(api_version), META):
        name = f"{package}.{kind}"
        if package and name in MESSAGES:
            return name
    return None


# --- the wire ---------------------------------------------------------------------------------


def _varint(data, pos, where):
    result = shift = 0
    while True:
        if pos >= len(data):
            raise BadRequest(f"the protobuf body is cut short in {where or 'the object'}")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result & _MASK64, pos
        shift += 7
        if shift >= 70:
            raise BadRequest(f"the protobuf body has a varint over 10 bytes in "
                             f"{where or 'the object'}")


def _fields(data, where):
    """(number, wire type, value) of each field of one message's bytes, in order."""
    pos, end = 0, len(data)
    while pos < end:
        key, pos = _varint(data, pos, where)
        number, wire = key >> 3, key & 7
        if number == 0:
            raise BadRequest(f"the protobuf body has a field numbered 0 in "
                             f"{where or 'the object'}")
        if wire == VARINT:
            value, pos = _varint(data, pos, where)
        elif wire in (FIXED64, FIXED32, LENGTH):
            if wire == LENGTH:
                size, pos = _varint(data, pos, where)
            else:
                size = 8 if wire == FIXED64 else 4
            if pos + size > end:
                raise BadRequest(f"the protobuf body is cut short in {where or 'the object'}")
            value, pos = data[pos:pos + size], pos + size
        else:
            raise BadRequest(f"the protobuf body has wire type {wire} (field {number}) in "
                             f"{where or 'the object'}, which Kubernetes messages never use")
        yield number, wire, value


def _collect(data, where):
    """{number: [(wire type, value), ...]} of one message's bytes."""
    found = {}
    for number, wire, value in _fields(data, where):
        found.setdefault(number, []).append((wire, value))
    return found


def _last_bytes(found, number, where):
    """A length-delimited field: the bytes of its occurrences (a repeated message field
    merges, which for protobuf is decoding the concatenation), or b"" when absent."""
    parts = found.get(number, ())
    for wire, _value in parts:
        if wire != LENGTH:
            raise BadRequest(f"{where} has wire type {wire}, not length-delimited")
    return b"".join(value for _wire, value in parts)


def _text(data):
    # Go keeps a string's bytes as sent; its JSON writes invalid UTF-8 as U+FFFD.
    return bytes(data).decode("utf-8", errors="replace")


# --- scalars ----------------------------------------------------------------------------------


def _signed(value, bits):
    value &= (1 << bits) - 1
    return value - (1 << bits) if value >> (bits - 1) else value


def _zigzag(value):
    return (value >> 1) ^ -(value & 1)


def _finite(value, where):
    if math.isnan(value) or math.isinf(value):
        raise BadRequest(f"{where}: {value} is not a JSON number")
    return value


# protobuf scalar type -> (wire type, reader of the raw value, JSON zero)
SCALARS = {
    "int32": (VARINT, lambda v, w: _signed(v, 32), 0),
    "int64": (VARINT, lambda v, w: _signed(v, 64), 0),
    "uint32": (VARINT, lambda v, w: v & 0xFFFFFFFF, 0),
    "uint64": (VARINT, lambda v, w: v, 0),
    "sint32": (VARINT, lambda v, w: _signed(_zigzag(v), 32), 0),
    "sint64": (VARINT, lambda v, w: _zigzag(v), 0),
    "bool": (VARINT, lambda v, w: v != 0, False),
    "fixed64": (FIXED64, lambda v, w: struct.unpack("<Q", v)[0], 0),
    "sfixed64": (FIXED64, lambda v, w: struct.unpack("<q", v)[0], 0),
    "double": (FIXED64, lambda v, w: _finite(struct.unpack("<d", v)[0], w), 0),
    "fixed32": (FIXED32, lambda v, w: struct.unpack("<I", v)[0], 0),
    "sfixed32": (FIXED32, lambda v, w: struct.unpack("<i", v)[0], 0),
    "float": (FIXED32, lambda v, w: _finite(struct.unpack("<f", v)[0], w), 0),
    "string": (LENGTH, lambda v, w: _text(v), ""),
    # encoding/json writes []byte as standard base64.
    "bytes": (LENGTH, lambda v, w: base64.b64encode(v).decode("ascii"), None),
}


def _scalar(ftype, occurrences, where):
    """A singular scalar field: its last occurrence wins (gogo takes no packed run here)."""
    return _scalars(ftype, occurrences, where, packed=False)[-1]


def _scalars(ftype, occurrences, where, packed=True):
    """Every value of a scalar field's occurrences, packed runs unpacked."""
    wire_type, read, _zero = SCALARS[ftype]
    values = []
    for wire, value in occurrences:
        if wire == wire_type:
            values.append(read(value, where))
        elif packed and wire == LENGTH and wire_type != LENGTH:
            values += _packed(ftype, value, where)
        else:
            raise BadRequest(f"{where}: wire type {wire} cannot hold a {ftype}")
    return values


def _packed(ftype, data, where):
    wire_type, read, _zero = SCALARS[ftype]
    values, pos = [], 0
    while pos < len(data):
        if wire_type == VARINT:
            value, pos = _varint(data, pos, where)
        else:
            size = 8 if wire_type == FIXED64 else 4
            if pos + size > len(data):
                raise BadRequest(f"{where}: a packed {ftype} list is cut short")
            value, pos = data[pos:pos + size], pos + size
        values.append(read(value, where))
    return values


# --- messages ---------------------------------------------------------------------------------


def _message(name, data, path):
    """One message's bytes as its JSON value (a dict, or a special type's own form)."""
    special = SPECIAL.get(name)
    if special:
        return special(_collect(data, path), path)
    found = _collect(data, path)
    obj = {}
    for number, json_name, ftype, flags in MESSAGES[name]:
        where = _join(path, json_name)
        occurrences = found.get(number)
        if "i" in flags:
            # An inline struct (Volume's VolumeSource): its fields are the parent's in JSON.
            obj.update(_message(ftype, _last_bytes(found, number, path or "the object"),
                                path))
            continue
        if occurrences is None:
            zero = _absent(ftype, flags)
            if zero is not _OMIT:
                obj[json_name] = zero
            continue
        if "m" in flags:
            value = _map(ftype, occurrences, where)
        elif "r" in flags:
            value = _list(ftype, occurrences, where)
        elif ftype in SCALARS:
            value = _scalar(ftype, occurrences, where)
        else:
            value = _message(ftype, _last_bytes(found, number, where), where)
        if "o" in flags and "p" not in flags and _empty(value, ftype, flags):
            continue
        obj[json_name] = value
    return obj


_OMIT = object()


def _absent(ftype, flags):
    """What Go's JSON writes for a field the body did not carry: its Go zero value."""
    if "p" in flags or "r" in flags or "m" in flags or ftype == "bytes":
        return _OMIT if "o" in flags else None            # nil pointer, slice or map
    if ftype in SCALARS:
        return _OMIT if "o" in flags else SCALARS[ftype][2]
    return _message(ftype, b"", "")                      # a struct: never omitted


def _empty(value, ftype, flags):
    """encoding/json's omitempty test, for the non-pointer fields it applies to."""
    if "r" in flags or "m" in flags or ftype == "bytes":
        return not value
    if ftype in SCALARS:
        return value == SCALARS[ftype][2]
    return False                                          # structs are never empty


def _list(ftype, occurrences, where):
    if ftype in SCALARS and ftype not in ("string", "bytes"):
        return _scalars(ftype, occurrences, where)
    items = []
    for index, (wire, value) in enumerate(occurrences):
        item_where = f"{where}[{index}]"
        if wire != LENGTH:
            raise BadRequest(f"{item_where}: wire type {wire} cannot hold a {ftype}")
        items.append(_scalar(ftype, [(wire, value)], item_where) if ftype in SCALARS
                     else _message(ftype, value, item_where))
    return items


def _map(ftype, occurrences, where):
    """Map entries (key 1, value 2); a later entry for a key replaces an earlier one."""
    entries = {}
    for wire, value in occurrences:
        if wire != LENGTH:
            raise BadRequest(f"{where}: wire type {wire} cannot hold a map entry")
        entry = _collect(value, where)
        key = _text(_last_bytes(entry, 1, f"{where} (a key)"))
        item_where = f"{where}[{key}]"
        if 2 not in entry:
            entries[key] = _absent(ftype, "") if ftype not in SCALARS else SCALARS[ftype][2]
        elif ftype in SCALARS:
            entries[key] = _scalar(ftype, entry[2], item_where)
        else:
            entries[key] = _message(ftype, _last_bytes(entry, 2, item_where), item_where)
    return entries


def _join(path, name):
    return f"{path}.{name}" if path else name


# --- messages with a JSON form of their own ---------------------------------------------------


def _int_field(found, number, bits, where):
    occurrences = found.get(number)
    if not occurrences:
        return 0
    return _scalar("int64" if bits == 64 else "int32", occurrences, where)


# Go's zero time.Time, which metav1.Time writes as null.
_ZERO_TIME_SECONDS = -62135596800


def _timestamp(found, where, micro):
    """meta/v1 Time and MicroTime: {seconds 1, nanos 2} as RFC 3339 in UTC (Time to the
    second, MicroTime to the microsecond); the zero time (or an empty message) is null."""
    seconds = _int_field(found, 1, 64, f"{where}.seconds")
    nanos = _int_field(found, 2, 32, f"{where}.nanos")
    if not found or (seconds == _ZERO_TIME_SECONDS and nanos == 0):
        return None
    try:
        when = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(
            seconds=seconds, microseconds=nanos // 1000)
    except OverflowError:
        raise BadRequest(f"{where}: {seconds} seconds is out of the range of a time") from None
    text = f"{when.year:04d}-{when.month:02d}-{when.day:02d}T{when.hour:02d}:" \
           f"{when.minute:02d}:{when.second:02d}"
    return f"{text}.{when.microsecond:06d}Z" if micro else f"{text}Z"


def _duration(found, where):
    """meta/v1 Duration {duration 1: nanoseconds} as Go's time.Duration writes itself."""
    return go_duration(_int_field(found, 1, 64, f"{where}.duration"))


def go_duration(nanoseconds):
    """Go's Duration.String: "1h2m3.5s", "1.5ms", "0s"."""
    if nanoseconds == 0:
        return "0s"
    sign, n = ("-", -nanoseconds) if nanoseconds < 0 else ("", nanoseconds)
    if n < 1_000_000_000:
        for unit, size in (("ms", 1_000_000), ("µs", 1_000), ("ns", 1)):
            if n >= size:
                return sign + _decimal(n, size) + unit
    hours, rest = divmod(n, 3_600_000_000_000)
    minutes, rest = divmod(rest, 60_000_000_000)
    text = _decimal(rest, 1_000_000_000) + "s"
    if hours:
        return f"{sign}{hours}h{minutes}m{text}"
    if minutes:
        return f"{sign}{minutes}m{text}"
    return sign + text


def _decimal(n, unit):
    whole, fraction = divmod(n, unit)
    digits = str(fraction).rjust(len(str(unit)) - 1, "0").rstrip("0") if fraction else ""
    return f"{whole}.{digits}" if digits else str(whole)


def _int_or_string(found, where):
    """util/intstr IntOrString {type 1 (0 int, 1 string), intVal 2, strVal 3}."""
    kind = _int_field(found, 1, 64, f"{where}.type")
    if kind == 0:
        return _int_field(found, 2, 32, f"{where}.intVal")
    if kind == 1:
        return _text(_last_bytes(found, 3, f"{where}.strVal"))
    raise BadRequest(f"{where}: an IntOrString of type {kind} (0 is an int, 1 a string)")


def _quantity(found, where):
    """api/resource Quantity {string 1}; the zero Quantity writes "0"."""
    return _text(_last_bytes(found, 1, f"{where}.string")) or "0"


def _raw_json(found, where):
    """runtime.RawExtension and meta/v1 FieldsV1 {raw 1}: JSON bytes, written as they are;
    none is null."""
    raw = _last_bytes(found, 1, f"{where}.raw")
    if not raw:
        return None
    try:
        return json.loads(bytes(raw).decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise BadRequest(f"{where}: the embedded raw bytes are not JSON") from None


SPECIAL = {
    f"{META}.Time": lambda found, where: _timestamp(found, where, micro=False),
    f"{META}.MicroTime": lambda found, where: _timestamp(found, where, micro=True),
    f"{META}.Duration": _duration,
    f"{META}.FieldsV1": _raw_json,
    "k8s.io.apimachinery.pkg.util.intstr.IntOrString": _int_or_string,
    "k8s.io.apimachinery.pkg.api.resource.Quantity": _quantity,
    "k8s.io.apimachinery.pkg.runtime.RawExtension": _raw_json,
}
