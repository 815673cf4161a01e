"""List filters from query parameters: fieldSelector and labelSelector.

Label selectors are the full `kubectl -l` language (cluster.selectors). Field selectors are
the API server's: each kind supports `metadata.name` and
`metadata.namespace` plus its own field labels (pods: spec.nodeName, status.phase, ...), with
`=`, `==` and `!=`, terms joined by commas; any other field is a 400 `field label not
supported: X`, as Kubernetes 1.32 answers.
"""

from cluster import selectors
from cluster.errors import BadRequest

# Field labels per (group, kind) beyond metadata.name/namespace, from each kind's
# GetAttrs/SelectableFields in Kubernetes 1.32 (pkg/registry/core/*/strategy.go).
FIELD_LABELS = {
    ("", "Pod"): ("spec.nodeName", "spec.restartPolicy", "spec.schedulerName",
                  "spec.serviceAccountName", "spec.hostNetwork", "status.phase", "status.podIP",
                  "status.nominatedNodeName"),
    ("", "Node"): ("spec.unschedulable",),
    ("", "Namespace"): ("status.phase",),
    ("", "Event"): ("involvedObject.kind", "involvedObject.namespace", "involvedObject.name",
                    "involvedObject.uid", "involvedObject.apiVersion",
                    "involvedObject.resourceVersion", "involvedObject.fieldPath", "reason",
                    "reportingComponent", "source", "type"),
    ("", "ReplicationController"): ("status.replicas",),
    ("apps", "ReplicaSet"): ("status.replicas",),
    ("batch", "Job"): ("status.successful",),
}
# Field labels whose value is a count: the Go int formatted, 0 when unset.
COUNT_LABELS = {"status.replicas": "status.replicas", "status.successful": "status.succeeded"}
COMMON_FIELD_LABELS = ("metadata.name", "metadata.namespace")


def _field_value(obj, label):
    if label in COUNT_LABELS:             # strconv.Itoa of the status count
        status = obj.get("status") or {}
        count = status.get(COUNT_LABELS[label].split(".", 1)[1])
        return str(count if isinstance(count, int) and not isinstance(count, bool) else 0)
    if label == "source":                 # events: source.component, as the registry does
        value = (obj.get("source") or {}).get("component")
    else:
        value = obj
        for part in label.split("."):
            value = value.get(part) if isinstance(value, dict) else None
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _split_unescaped(text, sep):
    """Split on `sep` not preceded by a backslash escape; the escapes stay in the parts."""
    parts, current, i = [], [], 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            current.append(text[i:i + 2])
            i += 2
            continue
        if ch == sep:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
        i += 1
    parts.append("".join(current))
    return parts


def _unescape(value, selector):
    out, i = [], 0
    while i < len(value):
        ch = value[i]
        if ch == "\\":
            if i + 1 >= len(value) or value[i + 1] not in "\\,=":
                raise BadRequest(f"invalid field selector: '{selector}'; invalid escape "
                                 f"sequence in '{value}'")
            out.append(value[i + 1])
            i += 2
            continue
        if ch in ",=":
            raise BadRequest(f"invalid field selector: '{selector}'; unescaped '{ch}' in "
                             f"'{value}'")
        out.append(ch)
        i += 1
    return "".join(out)


def parse_field_selector(kind, selector):
    """[(label, op, value)] for a field selector string; op is '=' or '!='."""
    terms = []
    if not selector:
        return terms
    allowed = COMMON_FIELD_LABELS + FIELD_LABELS.get((kind.group, kind.kind), ())
    for term in _split_unescaped(selector, ","):
        if not term:
            continue
        for i in range(len(term)):
            if term.startswith(("!=", "=="), i):
                label, op, value = term[:i], term[i:i + 2], term[i + 2:]
                break
            if term[i] == "=":
                label, op, value = term[:i], "=", term[i + 1:]
                break
        else:
            raise BadRequest(f"invalid selector: '{selector}'; can't understand '{term}'")
        label = label.strip()
        if label not in allowed:
            raise BadRequest(f"field label not supported: {label}")
        terms.append((label, "!=" if op == "!=" else "=", _unescape(value, selector)))
    return terms


def parse(kind, label_selector=None, field_selector=None):
    """(label Selector, field predicate obj -> bool or None) for store.list_objects."""
    fields = parse_field_selector(kind, field_selector)
    try:
        labels = selectors.parse(label_selector)
    except selectors.SelectorError as exc:
        raise BadRequest(exc.message) from None
    if not fields:
        return labels, None

    def match(obj):
        for label, op, value in fields:
            if (_field_value(obj, label) == value) != (op == "="):
                return False
        return True

    return labels, match
