"""A lesson step's check: a predicate on a cluster's objects, events and changes, written as data.

A lesson file writes each check as YAML; `compile_check` turns it into a `Check` (or raises
`CheckError` naming the field), and `Check.holds(cluster, since)` evaluates it against the live
store. `since` is the resourceVersion at which the step became the learner's current one, so a
check on events or changes sees only what happened after that: "a kubia pod was deleted" does
not count the deletion of an earlier step.

The forms (one key per check):

    count:  {kind: Pod, selector: app=kubia, where: {status.phase: Running}, min: 3}
    exists: {kind: Pod, name: kubia-manual}                 # count with min 1
    absent: {kind: Pod, name: kubia-manual}                 # count with max 0
    event:  {reason: Killing, kind: Pod, name: kubia-liveness, min: 1}
    change: {type: DELETED, kind: Pod, selector: app=kubia}
    all: [check, ...]   any: [check, ...]   not: check

A selection names a kind and optionally `namespace` (default: `default` for namespaced kinds;
`"*"` for all), `name`, `selector` (as `kubectl -l` takes it), `where` (a map of field path to
condition) and `terminating: true` to count objects being deleted too. A field path is dotted
(`status.phase`), indexes lists (`spec.containers[0].image`), picks list items by a field
(`status.conditions[type=Ready].status`) or takes them all (`status.containerStatuses[*]`).
A condition is a value (equals) or a map of tests: equals, not, in, min, max, exists,
contains, length_min, length; it holds when any value the path reaches passes all its tests.
"""

import re
from dataclasses import dataclass

from cluster import kinds, selectors, store
from cluster.models import ApiObject, Change


class CheckError(ValueError):
    """A check that cannot be compiled: `path` is where in the check (dotted), `message` why."""

    def __init__(self, path, message):
        super().__init__(f"{path}: {message}" if path else message)
        self.path, self.message = path, message


SELECTION_KEYS = {"kind", "group", "namespace", "name", "selector", "where", "terminating"}
COUNT_KEYS = {"min", "max"}
EVENT_KEYS = {"reason", "type", "kind", "name", "namespace", "message", "min"}
CHANGE_TYPES = (Change.ADDED, Change.MODIFIED, Change.DELETED)
TESTS = {"equals", "not", "in", "min", "max", "exists", "contains", "length_min", "length"}


# --- field paths ------------------------------------------------------------------------------

_STEP = re.compile(r"\[([^\]]*)\]|\.?([^.\[\]]+)")


def parse_path(text):
    """'status.conditions[type=Ready].status' -> [('key','status'), ('key','conditions'),
    ('match',('type','Ready')), ('key','status')]."""
    if not isinstance(text, str) or not text:
        raise CheckError("", "a field path must be a non-empty string")
    steps, end = [], 0
    for m in _STEP.finditer(text):
        if m.start() != end:
            break
        end = m.end()
        inside, key = m.group(1), m.group(2)
        if key is not None:
            steps.append(("key", key))
        elif inside == "*":
            steps.append(("all", None))
        elif inside.isdigit():
            steps.append(("index", int(inside)))
        elif "=" in inside:
            field, _, value = inside.partition("=")
            steps.append(("match", (field, value)))
        else:
            raise CheckError("", f"cannot read [{inside}] in the field path {text!r}: use [0], "
                             "[*] or [field=value]")
    if end != len(text):
        raise CheckError("", f"cannot read the field path {text!r} from character {end + 1}")
    return steps


def values_at(obj, steps):
    """Every value the path reaches in obj (several through [*] or [field=value])."""
    current = [obj]
    for op, arg in steps:
        following = []
        for value in current:
            if op == "key" and isinstance(value, dict) and arg in value:
                following.append(value[arg])
            elif op == "index" and isinstance(value, list) and arg < len(value):
                following.append(value[arg])
            elif op == "all" and isinstance(value, list):
                following.extend(value)
            elif op == "match" and isinstance(value, list):
                field, wanted = arg
                following.extend(item for item in value
                                 if isinstance(item, dict) and str(item.get(field)) == wanted)
        current = following
    return [value for value in current if value is not None]


# --- conditions -------------------------------------------------------------------------------

def _same(a, b):
    # YAML writes `true` and `"True"` alike to a teacher; Kubernetes statuses are strings.
    return a == b or str(a).lower() == str(b).lower()


def _number(value):
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _passes(value, test, expected):
    if test == "equals":
        return _same(value, expected)
    if test == "not":
        return not _same(value, expected)
    if test == "in":
        return any(_same(value, e) for e in expected)
    if test in ("min", "max"):
        number = _number(value)
        return number is not None and (number >= expected if test == "min" else number <= expected)
    if test == "contains":
        return str(expected) in str(value)
    if test == "length_min":
        return isinstance(value, (list, dict, str)) and len(value) >= expected
    if test == "length":
        return isinstance(value, (list, dict, str)) and len(value) == expected
    raise AssertionError(test)


@dataclass(frozen=True)
class Condition:
    steps: tuple
    tests: tuple          # ((test, expected), ...)

    def holds(self, obj):
        found = values_at(obj, self.steps)
        tests = dict(self.tests)
        if "exists" in tests:
            if bool(found) != tests.pop("exists"):
                return False
            if not tests:
                return True
        if "not" in tests and not found:
            return len(tests) == 1
        return any(all(_passes(value, t, e) for t, e in tests.items()) for value in found)


def _condition(path, spec, where):
    try:
        steps = tuple(parse_path(path))
    except CheckError as exc:
        raise CheckError(where, exc.message) from None
    if not isinstance(spec, dict):
        return Condition(steps, (("equals", spec),))
    unknown = set(spec) - TESTS
    if unknown or not spec:
        raise CheckError(where, f"unknown test {sorted(unknown)[0]!r}; the tests are "
                         + ", ".join(sorted(TESTS)) if unknown else "a condition needs a test")
    for test, expected in spec.items():
        if test in ("min", "max", "length_min", "length") and _number(expected) is None:
            raise CheckError(f"{where}.{test}", "must be a number")
        if test == "in" and not isinstance(expected, list):
            raise CheckError(f"{where}.in", "must be a list of values")
        if test == "exists" and not isinstance(expected, bool):
            raise CheckError(f"{where}.exists", "must be true or false")
    return Condition(steps, tuple(spec.items()))


# --- selections -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Selection:
    kind: object                  # cluster.kinds Kind
    namespace: str | None         # None: every namespace
    name: str | None
    selector: object              # cluster.selectors Selector
    where: tuple                  # Conditions
    terminating: bool

    def objects(self, cluster):
        namespace = self.namespace if self.kind.namespaced else None
        found, _rv = store.list_objects(cluster, self.kind, namespace, labels=self.selector)
        return [obj for obj in found if self.matches(obj, labels_checked=True)]

    def matches(self, obj, labels_checked=False):
        meta = obj.get("metadata") or {}
        if self.name is not None and meta.get("name") != self.name:
            return False
        if (self.kind.namespaced and self.namespace is not None
                and meta.get("namespace") != self.namespace):
            return False
        if not labels_checked and not self.selector.matches(meta.get("labels") or {}):
            return False
        if not self.terminating and meta.get("deletionTimestamp"):
            return False
        return all(condition.holds(obj) for condition in self.where)


def _kind(name, group, where):
    if not isinstance(name, str):
        raise CheckError(f"{where}.kind", "a kind is required (Pod, ReplicationController, ...)")
    found = [k for k in kinds.all_kinds() if k.kind == name and (group is None or k.group == group)]
    if not found:
        raise CheckError(f"{where}.kind", f"kubelab serves no kind named {name!r}")
    return found[0]


def _selection(spec, where, extra=frozenset()):
    if not isinstance(spec, dict):
        raise CheckError(where, "must be a map with at least a kind")
    unknown = set(spec) - SELECTION_KEYS - extra
    if unknown:
        raise CheckError(f"{where}.{sorted(unknown)[0]}", "unknown field; a selection takes "
                         + ", ".join(sorted(SELECTION_KEYS | extra)))
    kind = _kind(spec.get("kind"), spec.get("group"), where)
    namespace = spec.get("namespace", "default")
    if namespace == "*":
        namespace = None
    text = spec.get("selector", "")
    if not isinstance(text, str):
        raise CheckError(f"{where}.selector", "must be a string, as kubectl -l takes it")
    try:
        selector = selectors.parse(text)
    except selectors.SelectorError as exc:
        raise CheckError(f"{where}.selector", exc.message) from None
    conditions = spec.get("where") or {}
    if not isinstance(conditions, dict):
        raise CheckError(f"{where}.where", "must be a map of field path to condition")
    return Selection(kind, namespace, spec.get("name"), selector,
                     tuple(_condition(p, c, f"{where}.where.{p}") for p, c in conditions.items()),
                     bool(spec.get("terminating")))


# --- checks -----------------------------------------------------------------------------------

class Check:
    """Evaluates against a cluster; `since` is a resourceVersion (events and changes after it)."""

    def holds(self, cluster, since):
        raise NotImplementedError


@dataclass(frozen=True)
class Count(Check):
    selection: Selection
    least: int | None
    most: int | None

    def holds(self, cluster, since):
        n = len(self.selection.objects(cluster))
        return (self.least is None or n >= self.least) and (self.most is None or n <= self.most)


@dataclass(frozen=True)
class EventSeen(Check):
    """A Kubernetes Event recorded (or repeated: its count bumps its resourceVersion) since."""

    reason: str | None
    type: str | None
    kind: str | None
    name: str | None
    namespace: str | None
    message: str | None
    least: int

    def holds(self, cluster, since):
        rows = ApiObject.objects.filter(cluster=cluster, kind="Event", group="",
                                        resource_version__gt=since)
        if self.namespace is not None:
            rows = rows.filter(namespace=self.namespace)
        seen = 0
        for body in rows.values_list("body", flat=True).iterator():
            involved = body.get("involvedObject") or {}
            if ((self.reason is None or body.get("reason") == self.reason)
                    and (self.type is None or body.get("type") == self.type)
                    and (self.kind is None or involved.get("kind") == self.kind)
                    and (self.name is None or involved.get("name") == self.name
                         or (self.name.endswith("*")
                             and str(involved.get("name", "")).startswith(self.name[:-1])))
                    and (self.message is None or self.message in (body.get("message") or ""))):
                seen += 1
                if seen >= self.least:
                    return True
        return False


@dataclass(frozen=True)
class ChangeSeen(Check):
    """An object of the selection written since: ADDED, MODIFIED or DELETED (from the change
    log, which keeps the object as it was at that change)."""

    type: str
    selection: Selection
    least: int

    def holds(self, cluster, since):
        kind = self.selection.kind
        rows = Change.objects.filter(cluster=cluster, id__gt=since, type=self.type,
                                     kind=kind.kind, group=kind.group)
        if self.selection.name is not None:
            rows = rows.filter(name=self.selection.name)
        seen = 0
        for obj in rows.values_list("object", flat=True).iterator():
            # A deleted object carried its deletionTimestamp: it is the point, not a filter.
            if self.selection.matches(obj) or (self.type == Change.DELETED and _matches_gone(
                    self.selection, obj)):
                seen += 1
                if seen >= self.least:
                    return True
        return False


def _matches_gone(selection, obj):
    return Selection(selection.kind, selection.namespace, selection.name, selection.selector,
                     selection.where, True).matches(obj)


@dataclass(frozen=True)
class All(Check):
    parts: tuple

    def holds(self, cluster, since):
        return all(part.holds(cluster, since) for part in self.parts)


@dataclass(frozen=True)
class Any(Check):
    parts: tuple

    def holds(self, cluster, since):
        return any(part.holds(cluster, since) for part in self.parts)


@dataclass(frozen=True)
class Not(Check):
    part: Check

    def holds(self, cluster, since):
        return not self.part.holds(cluster, since)


FORMS = ("count", "exists", "absent", "event", "change", "all", "any", "not")


def _int(spec, key, where, default=None):
    value = spec.get(key, default)
    if value is not None and (_number(value) is None or value < 0 or value != int(value)):
        raise CheckError(f"{where}.{key}", "must be a whole number, 0 or more")
    return value


def compile_check(spec, where="check"):
    """The Check a lesson file writes, or CheckError naming the field that is wrong."""
    if not isinstance(spec, dict) or len(spec) != 1:
        raise CheckError(where, "a check is a map with exactly one of: " + ", ".join(FORMS))
    (form, body), = spec.items()
    at = f"{where}.{form}"
    if form in ("all", "any"):
        if not isinstance(body, list) or not body:
            raise CheckError(at, "must be a non-empty list of checks")
        parts = tuple(compile_check(part, f"{at}[{i}]") for i, part in enumerate(body))
        return All(parts) if form == "all" else Any(parts)
    if form == "not":
        return Not(compile_check(body, at))
    if form == "count":
        selection = _selection(body, at, COUNT_KEYS)
        least, most = _int(body, "min", at), _int(body, "max", at)
        if least is None and most is None:
            raise CheckError(at, "a count needs min, max or both")
        return Count(selection, least, most)
    if form == "exists":
        return Count(_selection(body, at), 1, None)
    if form == "absent":
        return Count(_selection(body, at), None, 0)
    if form == "event":
        if not isinstance(body, dict):
            raise CheckError(at, "must be a map: reason, type, kind, name, namespace, message, min")
        unknown = set(body) - EVENT_KEYS
        if unknown:
            raise CheckError(f"{at}.{sorted(unknown)[0]}", "unknown field; an event check takes "
                             + ", ".join(sorted(EVENT_KEYS)))
        if body.get("type") not in (None, "Normal", "Warning"):
            raise CheckError(f"{at}.type", "an event's type is Normal or Warning")
        return EventSeen(body.get("reason"), body.get("type"), body.get("kind"), body.get("name"),
                         body.get("namespace"), body.get("message"), _int(body, "min", at, 1))
    if form == "change":
        if not isinstance(body, dict):
            raise CheckError(at, "must be a map with type and a selection")
        if body.get("type") not in CHANGE_TYPES:
            raise CheckError(f"{at}.type", "must be one of " + ", ".join(CHANGE_TYPES))
        selection = _selection(body, at, {"type", "min"})
        return ChangeSeen(body["type"], selection, _int(body, "min", at, 1))
    raise CheckError(where, f"unknown check {form!r}; the checks are " + ", ".join(FORMS))
