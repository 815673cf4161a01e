"""Applying manifest text (the board's YAML form, lessons): all documents or none.

Every document is read, checked and applied inside one transaction; if any document fails, the
transaction is rolled back and every document's errors are reported, each with its line.
"""

from dataclasses import dataclass, field

from django.db import transaction

from cluster import kinds, manifests, store
from cluster.errors import ApiError, FieldError, Invalid, StrictDecodingError


@dataclass
class Problem:
    document: int
    line: int | None
    message: str
    field: str = ""
    hint: str = ""

    def as_dict(self):
        return {"document": self.document, "line": self.line, "field": self.field,
                "message": self.message, "hint": self.hint}


@dataclass
class Outcome:
    document: int
    kind: str
    name: str
    namespace: str
    action: str
    warnings: list = field(default_factory=list)

    def as_dict(self):
        return {"document": self.document, "kind": self.kind, "name": self.name,
                "namespace": self.namespace, "action": self.action, "warnings": self.warnings}


@dataclass
class Report:
    applied: list = field(default_factory=list)
    problems: list = field(default_factory=list)

    @property
    def ok(self):
        return not self.problems

    def as_dict(self):
        return {"ok": self.ok, "applied": [a.as_dict() for a in self.applied],
                "errors": [p.as_dict() for p in self.problems]}


class _RollBack(Exception):
    pass


def apply_text(cluster, text, namespace="default"):
    """Read `text` (YAML, one or more documents) and apply each as `kubectl apply` would.

    1. Read every document; a text that cannot be read at all is one problem.
    2. Apply each document in a savepoint, collecting every problem with its line.
    3. Commit only if there was none; otherwise roll back everything.
    """
    report = Report()
    try:
        documents = manifests.parse(text)
    except manifests.ManifestError as exc:
        report.problems.append(Problem(getattr(exc, "document", 0) or 0, exc.line, exc.message))
        return report
    if not documents:
        report.problems.append(Problem(0, None, "no Kubernetes objects found in the text"))
        return report
    try:
        with transaction.atomic():
            for doc in documents:
                _apply_document(cluster, doc, namespace, report)
            if report.problems:
                raise _RollBack
    except _RollBack:
        report.applied = []
    return report


def _apply_document(cluster, doc, namespace, report):
    if doc.errors:
        report.problems += [_problem(doc, e) for e in doc.locate(doc.errors)]
        return
    obj = doc.obj
    kind, _warning = kinds.resolve(obj.get("apiVersion"), obj.get("kind"))
    if kind is None:
        report.problems.append(Problem(
            doc.index, doc.line_of("kind") or doc.line,
            kinds.no_match_message(obj.get("apiVersion"), obj.get("kind")),
            field="kind",
            hint=_kind_hint(obj.get("apiVersion"), obj.get("kind"))))
        return
    try:
        with transaction.atomic():
            written = store.apply(cluster, obj, namespace=namespace)
    except (Invalid, StrictDecodingError) as exc:
        report.problems += [_problem(doc, e, exc) for e in doc.locate(exc.errors)]
        return
    except ApiError as exc:
        report.problems.append(Problem(doc.index, doc.line_of("metadata.name") or doc.line,
                                       exc.message))
        return
    meta = written.object["metadata"]
    report.applied.append(Outcome(doc.index, kind.kind, meta["name"], meta.get("namespace", ""),
                                  written.action, written.warnings))


def _problem(doc, error: FieldError, exc=None):
    if isinstance(exc, Invalid):
        message = f'{exc.kind} "{exc.name}" is invalid: {error}'
    elif isinstance(exc, StrictDecodingError):
        message = f"strict decoding error: {error.message}"
    else:
        message = str(error)
    return Problem(doc.index, error.line or doc.line, message, error.field, error.hint)


def _kind_hint(api_version, kind_name):
    served = [k for k in kinds.all_kinds() if k.kind == kind_name]
    if served:
        return f"{kind_name} is served as apiVersion {served[0].api_version}"
    names = {k.kind.lower(): k.kind for k in kinds.all_kinds()}
    if kind_name and kind_name.lower() in names:
        return f'kinds are case-sensitive: did you mean "{names[kind_name.lower()]}"?'
    return ""
