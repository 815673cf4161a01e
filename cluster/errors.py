"""API errors as the Kubernetes API server reports them: a metav1.Status body and its code.

Every refusal in kubelab (store, manifests, REST API, forms) is one of these, so a learner reads
the same reason and wording whichever way in they used.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldError:
    """One field.Error of k8s.io/apimachinery: a path, a reason and Kubernetes' own wording.

    `type` is the cause reason carried in Status.details.causes (FieldValueRequired, ...).
    `hint` is kubelab's teaching sentence (what was probably meant); it never changes the
    Kubernetes wording, it follows it.
    """

    field: str
    type: str
    detail: str = ""
    value: object = None
    has_value: bool = False
    hint: str = ""
    line: int | None = None

    @classmethod
    def required(cls, field, detail=""):
        return cls(field, "FieldValueRequired", detail)

    @classmethod
    def invalid(cls, field, value, detail, hint=""):
        return cls(field, "FieldValueInvalid", detail, value, True, hint)

    @classmethod
    def not_supported(cls, field, value, supported):
        quoted = ", ".join(f'"{s}"' for s in supported)
        return cls(field, "FieldValueNotSupported", f"supported values: {quoted}", value, True)

    @classmethod
    def duplicate(cls, field, value, hint=""):
        return cls(field, "FieldValueDuplicate", "", value, True, hint)

    @classmethod
    def duplicate_field(cls, field, hint=""):
        """A key written twice in one map: the strict decoder's `duplicate field "name"`."""
        return cls(field, "FieldValueDuplicateField", "", hint=hint)

    @classmethod
    def forbidden(cls, field, detail):
        return cls(field, "FieldValueForbidden", detail)

    @classmethod
    def unknown(cls, field, hint=""):
        # The strict decoder's wording, not a field.Error's: `unknown field "spec.foo"`.
        return cls(field, "FieldValueUnknown", "", hint=hint)

    @classmethod
    def type_invalid(cls, field, value, detail, hint=""):
        return cls(field, "FieldValueTypeInvalid", detail, value, True, hint)

    def with_line(self, line):
        return FieldError(self.field, self.type, self.detail, self.value, self.has_value,
                          self.hint, line)

    @property
    def message(self):
        """The text after the field path, e.g. 'Required value' or 'Invalid value: "x": ...'."""
        head = {
            "FieldValueRequired": "Required value",
            "FieldValueInvalid": "Invalid value",
            "FieldValueNotSupported": "Unsupported value",
            "FieldValueDuplicate": "Duplicate value",
            "FieldValueForbidden": "Forbidden",
            "FieldValueTypeInvalid": "Invalid value",
            "FieldValueUnknown": "unknown field",
            "FieldValueTooLong": "Too long",
            "FieldValueTooMany": "Too many",
            "FieldValueDuplicateField": "duplicate field",
        }[self.type]
        if self.type == "FieldValueUnknown":
            return f'unknown field "{self.field}"'
        if self.type == "FieldValueDuplicateField":
            return f'duplicate field "{self.field.rsplit(".", 1)[-1]}"'
        text = head
        if self.has_value:
            text += f": {format_value(self.value)}"
        if self.detail:
            text += f": {self.detail}"
        return text

    def __str__(self):
        if self.type in ("FieldValueUnknown", "FieldValueDuplicateField") or not self.field:
            return self.message
        return f"{self.field}: {self.message}"


def format_value(value):
    """Values the way field.Error prints them: strings quoted, numbers and bools bare."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if value is None:
        return "null"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return repr(value)


class ApiError(Exception):
    """A refusal carried as a metav1.Status."""

    code = 500
    reason = "InternalError"

    def __init__(self, message, *, details=None):
        super().__init__(message)
        self.message = message
        self.details = details or {}

    def status(self):
        body = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }
        if self.details:
            body["details"] = self.details
        return body


class BadRequest(ApiError):
    code, reason = 400, "BadRequest"


class Unauthorized(ApiError):
    code, reason = 401, "Unauthorized"


class NotFound(ApiError):
    code, reason = 404, "NotFound"

    @classmethod
    def of(cls, resource, name, group=""):
        qualified = f"{resource}.{group}" if group else resource
        return cls(f'{qualified} "{name}" not found', details={"name": name, "kind": resource,
                                                                **({"group": group} if group else {})})


class MethodNotAllowed(ApiError):
    code, reason = 405, "MethodNotAllowed"


class AlreadyExists(ApiError):
    code, reason = 409, "AlreadyExists"

    @classmethod
    def of(cls, resource, name, group=""):
        qualified = f"{resource}.{group}" if group else resource
        return cls(f'{qualified} "{name}" already exists', details={"name": name, "kind": resource,
                                                                     **({"group": group} if group else {})})


class Conflict(ApiError):
    code, reason = 409, "Conflict"

    @classmethod
    def stale(cls, resource, name, group=""):
        qualified = f"{resource}.{group}" if group else resource
        return cls(
            f'Operation cannot be fulfilled on {qualified} "{name}": the object has been '
            "modified; please apply your changes to the latest version and try again",
            details={"name": name, "kind": resource, **({"group": group} if group else {})},
        )


def apply_conflicts(conflicts):
    """A server-side apply refused over fields other managers own: [(manager, path)] ->
    Conflict, worded as the API server words it (an Apply manager is named without
    "using <version>", which it adds only for Update managers, which kubelab does not track)."""
    by_manager = {}
    for manager, path in conflicts:
        by_manager.setdefault(manager, []).append(path)
    parts = []
    for manager, paths in by_manager.items():
        if len(paths) == 1:
            parts.append(f'conflict with "{manager}": {paths[0]}')
        else:
            parts.append(f'conflicts with "{manager}":\n' + "\n".join(f"- {p}" for p in paths))
    count = len(conflicts)
    noun = "conflict" if count == 1 else "conflicts"
    return Conflict(f"Apply failed with {count} {noun}: " + "\n".join(parts), details={
        "causes": [{"reason": "FieldManagerConflict", "message": f'conflict with "{manager}"',
                    "field": path} for manager, path in conflicts]})


class Gone(ApiError):
    code, reason = 410, "Expired"


class UnsupportedMediaType(ApiError):
    code, reason = 415, "UnsupportedMediaType"


class RequestEntityTooLarge(ApiError):
    code, reason = 413, "RequestEntityTooLarge"


class Forbidden(ApiError):
    code, reason = 403, "Forbidden"


class Invalid(ApiError):
    """422 with one cause per field error, worded as the API server words it."""

    code, reason = 422, "Invalid"

    def __init__(self, kind, name, errors, *, group=""):
        self.kind, self.name, self.errors = kind, name, list(errors)
        if len(self.errors) == 1:
            summary = str(self.errors[0])
        else:
            summary = "[" + ", ".join(str(e) for e in self.errors) + "]"
        qualified = f"{kind}.{group}" if group else kind
        super().__init__(
            f'{qualified} "{name}" is invalid: {summary}',
            details={
                "name": name,
                "kind": kind,
                **({"group": group} if group else {}),
                "causes": [
                    {"reason": e.type, "message": e.message, "field": e.field}
                    for e in self.errors
                ],
            },
        )


class StrictDecodingError(BadRequest):
    """Unknown or duplicate fields under fieldValidation=Strict, as the API server reports them."""

    def __init__(self, kind, name, errors, version=None):
        self.errors = list(errors)
        parts = ", ".join(e.message for e in self.errors)
        # A body decoded whole (create, update) is prefixed as the API server's decoder does:
        # `Pod in version "v1" cannot be handled as a Pod: strict decoding error: ...`.
        prefix = f'{kind} in version "{version}" cannot be handled as a {kind}: ' \
            if version else ""
        super().__init__(f"{prefix}strict decoding error: {parts}{hint_suffix(self.errors)}")
        self.kind, self.name, self.version = kind, name, version


def hint_suffix(errors):
    """kubelab's did-you-mean hints, after the Kubernetes text so that text stays exact."""
    hinted = [e for e in errors if e.hint]
    if not hinted:
        return ""
    if len(hinted) == 1 and len(errors) == 1:
        return f" (kubelab hint: {hinted[0].hint})"
    return " (kubelab hints: " + "; ".join(f"{e.field}: {e.hint}" for e in hinted) + ")"
