"""The API's bytes: request bodies in (JSON, or YAML where Kubernetes takes it) and JSON out,
with warnings as `Warning: 299 - "text"` headers and every refusal as a metav1.Status."""

import json

from django.core.exceptions import RequestDataTooBig
from django.http import HttpResponse

from cluster import manifests
from cluster.api import protobuf
from cluster.errors import ApiError, BadRequest, RequestEntityTooLarge, UnsupportedMediaType

# The API server's request body limit (apiserver MaxRequestBodyBytes, 3 MiB).
MAX_BODY_BYTES = 3 * 1024 * 1024
JSON = "application/json"
YAML = "application/yaml"


class KubeResponse(HttpResponse):
    """JSON with one `Warning` header per warning.

    Django keeps headers in a dict, one value per name, so the warnings are added in items(),
    which both the ASGI and the WSGI handler read the headers from. Each value is sent as
    UTF-8 (the str holds the UTF-8 bytes as latin-1, the WSGI convention ASGI also follows).
    """

    def __init__(self, body, status=200, warnings=()):
        super().__init__(json.dumps(body, separators=(",", ":")), status=status,
                         content_type=JSON)
        self.warnings = list(warnings)

    def items(self):
        yield from super().items()
        for text in self.warnings:
            yield "Warning", warning_header(text).encode("utf-8").decode("latin-1")

    def json_body(self):
        return json.loads(self.content)

    def set_json_body(self, body):
        self.content = json.dumps(body, separators=(",", ":"))

    def warning_values(self):
        """The Warning header values as a client reads them (for tests and logs)."""
        return [warning_header(text) for text in self.warnings]


def warning_header(text):
    """`299 - "text"`: the code and agent the API server uses, the text as a quoted-string."""
    text = " ".join(str(text).split())          # no CR/LF or control spacing in a header
    text = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'299 - "{text}"'


def respond(body, status=200, warnings=()):
    return KubeResponse(body, status, warnings)


def status_response(error: ApiError):
    return KubeResponse(error.status(), error.code)


def success_status(details=None):
    body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success"}
    if details:
        body["details"] = details
    return KubeResponse(body)


# ---------------------------------------------------------------------------------------------
# Bodies in


def read_body(request):
    """The raw body, refused with 413 past the API server's 3 MiB."""
    length = request.META.get("CONTENT_LENGTH") or "0"
    try:
        too_big = int(length) > MAX_BODY_BYTES
    except ValueError:
        raise BadRequest(f"invalid Content-Length: {length!r}") from None
    if too_big:
        raise _too_large()
    try:
        raw = request.body
    except RequestDataTooBig:
        raise _too_large() from None
    if len(raw) > MAX_BODY_BYTES:
        raise _too_large()
    return raw


def _too_large():
    return RequestEntityTooLarge(f"Request entity too large: limit is {MAX_BODY_BYTES}")


def media_type(request):
    return (request.META.get("CONTENT_TYPE") or "").split(";")[0].strip().lower()


def _reject_constant(name):
    raise ValueError(f"{name} is not a JSON number")


def decode_json(raw, what="the request body"):
    if not raw.strip():
        raise BadRequest(f"{what} is empty: send the object as JSON")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BadRequest(f"{what} is not UTF-8 text: byte 0x{raw[exc.start]:02x} at offset "
                         f"{exc.start}") from None
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise BadRequest(f"{what} is not valid JSON: {exc.msg} at line {exc.lineno}, column "
                         f"{exc.colno}") from None
    except ValueError as exc:
        raise BadRequest(f"{what} is not valid JSON: {exc}") from None
    except RecursionError:
        raise BadRequest(f"{what} is not valid JSON: it nests too deeply") from None


def decode_yaml(raw, what="the request body"):
    """One object from YAML (JSON is YAML too), read as kubectl reads manifests."""
    if not raw.strip():
        raise BadRequest(f"{what} is empty: send the object as YAML or JSON")
    try:
        documents = manifests.parse(raw)
    except manifests.ManifestError as exc:
        raise BadRequest(f"{what} is not valid YAML: {exc}") from None
    if len(documents) != 1:
        raise BadRequest(f"{what} must hold exactly one object, not {len(documents)}")
    doc = documents[0]
    if doc.errors:
        raise BadRequest(f"{what} is not a valid object: "
                         + "; ".join(str(e) for e in doc.errors))
    return doc.obj


def decode_object(request, raw=None):
    """The object of a POST or PUT: JSON, or YAML or protobuf when the client says so."""
    raw = read_body(request) if raw is None else raw
    kind = media_type(request)
    if kind in ("", JSON, "*/*"):
        return decode_json(raw)
    if kind in (YAML, "application/x-yaml", "text/yaml"):
        return decode_yaml(raw)
    if kind == protobuf.MEDIA_TYPE:
        return protobuf.decode(raw)
    raise UnsupportedMediaType(
        f'the body of the request was in an unknown format ("{kind}") - accepted media types '
        f"include: {JSON}, {YAML}, {protobuf.MEDIA_TYPE}")
