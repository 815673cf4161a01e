"""Label selectors: the `kubectl -l` / `?labelSelector=` string language and the LabelSelector
object (`matchLabels` + `matchExpressions`), parsed, matched and printed as Kubernetes 1.32 does.

The string language (what apimachinery's labels.Parse accepts)::

    app=kubia            equality ('=' and '==' are the same test; '==' is kept when printed)
    env!=prod            inequality: also true when the object has no `env` label
    env in (prod,devel)  set membership; `notin` also matches objects lacking the key
    tier  /  !tier       the key exists / does not exist
    replicas>2  n<5      integer comparisons (the value must be a 64-bit integer)
    a=1,b                comma means AND; an empty string selects everything

Tokens are split on whitespace (space, tab, CR, LF) and on the symbols `= ! ( ) , > <`;
anything else (including ':' or '/') belongs to an identifier, which the key/value validators
then judge. `in` and `notin` are keywords only where an operator is expected, so `in in (in)`
is a valid selector. A missing value is the empty string: `a=`, `a in ()`, `a in (b,)`.

Refusals raise SelectorError with the API server's own message, e.g.
`unable to parse requirement: found 'b' expected: '('` (sic, Kubernetes omits the comma there).

Matching is meant to be cheap: each Selector pre-compiles its requirements into small tuples,
so `selector.matches(labels)` is a short loop of dict look-ups.
"""

from __future__ import annotations

import re

from cluster.errors import FieldError
from cluster.kinds import validation

__all__ = [
    "SelectorError", "Requirement", "Selector", "Everything", "Nothing", "parse",
    "new_requirement", "from_label_selector", "validate_label_selector", "from_map",
    "to_string", "format_labels",
    "IN", "NOT_IN", "EQUALS", "DOUBLE_EQUALS", "NOT_EQUALS", "EXISTS", "DOES_NOT_EXIST",
    "GREATER_THAN", "LESS_THAN",
]


class SelectorError(ValueError):
    """A selector Kubernetes would refuse; `message` is the API server's wording."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


# --- operators (the strings of k8s.io/apimachinery/pkg/selection) -----------------------------

IN, NOT_IN = "in", "notin"
EQUALS, DOUBLE_EQUALS, NOT_EQUALS = "=", "==", "!="
EXISTS, DOES_NOT_EXIST = "exists", "!"
GREATER_THAN, LESS_THAN = "gt", "lt"

# In the order Kubernetes lists them in its messages.
BINARY_OPERATORS = (IN, NOT_IN, EQUALS, DOUBLE_EQUALS, NOT_EQUALS, GREATER_THAN, LESS_THAN)
OPERATORS = BINARY_OPERATORS + (EXISTS, DOES_NOT_EXIST)

# LabelSelectorRequirement.operator (the object form) -> selection operator.
OBJECT_OPERATORS = {"In": IN, "NotIn": NOT_IN, "Exists": EXISTS, "DoesNotExist": DOES_NOT_EXIST}

_INT64 = re.compile(r"[+-]?[0-9]+\Z")  # what Go's strconv.ParseInt(s, 10, 64) accepts
_INT64_MIN, _INT64_MAX = -(2 ** 63), 2 ** 63 - 1


def _parse_int64(text):
    """The integer Go's strconv.ParseInt(text, 10, 64) reads, or None where it fails."""
    if not isinstance(text, str) or not _INT64.match(text):
        return None
    number = int(text)
    return number if _INT64_MIN <= number <= _INT64_MAX else None


# --- Go's value formatting, for messages worded exactly as a real cluster words them ----------

_GO_ESCAPES = {'"': '\\"', "\\": "\\\\", "\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n",
               "\r": "\\r", "\t": "\\t", "\v": "\\v"}


def go_quote(text):
    """Go's %q of a string: double quotes, backslash escapes, non-printables as \\x/\\u."""
    out = []
    for ch in text:
        if ch in _GO_ESCAPES:
            out.append(_GO_ESCAPES[ch])
        elif ch.isprintable():
            out.append(ch)
        elif ord(ch) < 0x80:
            out.append(f"\\x{ord(ch):02x}")
        elif ord(ch) < 0x10000:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(f"\\U{ord(ch):08x}")
    return '"' + "".join(out) + '"'


def _go_string_slice(values):
    """Go's %#v of a []string: `[]string{"a", "b"}`, `[]string{}`, or `[]string(nil)`."""
    if values is None:
        return "[]string(nil)"
    return "[]string{" + ", ".join(go_quote(str(v)) for v in values) + "}"


def _invalid(path, shown_value, detail):
    """One field.Error line, `path: Invalid value: <value>: detail` (path "<nil>" when none)."""
    return f"{path}: Invalid value: {shown_value}: {detail}"


def _aggregate(messages):
    """An aggregated error list as Go prints it: one message bare, several as `[a, b]`."""
    unique = list(dict.fromkeys(messages))
    if len(unique) == 1:
        return unique[0]
    return "[" + ", ".join(unique) + "]"


def _join_path(path, child):
    return f"{path}.{child}" if path else child


# --- requirements ------------------------------------------------------------------------------

class Requirement:
    """One `key op values` term. Build it with `new_requirement` (validated) or `parse`."""

    __slots__ = ("key", "operator", "values")

    def __init__(self, key, operator, values=()):
        self.key = key
        self.operator = operator
        self.values = tuple(values)

    def __eq__(self, other):
        """Same key, operator and values; the order values were written in does not count."""
        return (isinstance(other, Requirement) and self.key == other.key
                and self.operator == other.operator
                and sorted(self.values) == sorted(other.values))

    def __hash__(self):
        return hash((self.key, self.operator, tuple(sorted(self.values))))

    def __repr__(self):
        return f"Requirement({self.key!r}, {self.operator!r}, {list(self.values)!r})"

    def __str__(self):
        op = self.operator
        if op == EXISTS:
            return self.key
        if op == DOES_NOT_EXIST:
            return "!" + self.key
        shown = ",".join(sorted(self.values))
        if op in (IN, NOT_IN):
            return f"{self.key} {op} ({shown})"
        symbol = {GREATER_THAN: ">", LESS_THAN: "<"}.get(op, op)
        return f"{self.key}{symbol}{shown}"

    def matches(self, labels):
        return Selector((self,)).matches(labels)

    def _compile(self):
        """(key, mode, argument): the cheap form Selector.matches loops over."""
        op, values = self.operator, self.values
        if op in (IN, EQUALS, DOUBLE_EQUALS):
            return (self.key, _EQ, values[0]) if len(values) == 1 else \
                (self.key, _IN, frozenset(values))
        if op in (NOT_IN, NOT_EQUALS):
            return (self.key, _NE, values[0]) if len(values) == 1 else \
                (self.key, _NOT_IN, frozenset(values))
        if op == EXISTS:
            return (self.key, _EXISTS, None)
        if op == DOES_NOT_EXIST:
            return (self.key, _ABSENT, None)
        if op in (GREATER_THAN, LESS_THAN):
            bound = _parse_int64(values[0]) if len(values) == 1 else None
            return (self.key, _GT if op == GREATER_THAN else _LT, bound)
        return (self.key, _NEVER, None)


def new_requirement(key, operator, values=None, path=None):
    """A validated Requirement, refused as Kubernetes' labels.NewRequirement refuses one.

    `operator` is a selection operator (`IN`, `EQUALS`, ...); `values` a list (None and [] are
    both empty; None prints as Go's nil slice). `path` prefixes the field paths of the messages
    (`key`, `values[0]`, `values[0][app]`). Raises SelectorError with every problem found.
    """
    problems = []
    vals = list(values) if values is not None else []
    key_problems = validation.qualified_name(key) if isinstance(key, str) else \
        ["label keys must be strings"]
    if key_problems:
        problems.append(_invalid(_join_path(path, "key"), go_quote(str(key)),
                                 "; ".join(key_problems)))
    values_path = _join_path(path, "values")
    shown = _go_string_slice(values if values is None else vals)
    if operator in (IN, NOT_IN):
        if not vals:
            problems.append(_invalid(values_path, shown,
                                     "for 'in', 'notin' operators, values set can't be empty"))
    elif operator in (EQUALS, DOUBLE_EQUALS, NOT_EQUALS):
        if len(vals) != 1:
            problems.append(_invalid(values_path, shown,
                                     "exact-match compatibility requires one single value"))
    elif operator in (EXISTS, DOES_NOT_EXIST):
        if vals:
            problems.append(_invalid(values_path, shown,
                                     "values set must be empty for exists and does not exist"))
    elif operator in (GREATER_THAN, LESS_THAN):
        if len(vals) != 1:
            problems.append(_invalid(values_path, shown,
                                     "for 'Gt', 'Lt' operators, exactly one value is required"))
        for i, value in enumerate(vals):
            if _parse_int64(value) is None:
                problems.append(_invalid(f"{values_path}[{i}]", go_quote(str(value)),
                                         "for 'Gt', 'Lt' operators, the value must be an integer"))
    else:
        supported = ", ".join(go_quote(o) for o in OPERATORS)
        problems.append(f"{_join_path(path, 'operator')}: Unsupported value: "
                        f"{go_quote(str(operator))}: supported values: {supported}")
    for i, value in enumerate(vals):
        where = f"{values_path}[{i}][{key}]"
        if not isinstance(value, str):
            problems.append(_invalid(where, repr(value), "label values must be strings"))
        elif value_problems := validation.label_value(value):
            problems.append(_invalid(where, go_quote(value), "; ".join(value_problems)))
    if problems:
        raise SelectorError(_aggregate(problems))
    return Requirement(key, operator, vals)


# --- selectors ---------------------------------------------------------------------------------

_MISSING = object()
_EQ, _IN, _NE, _NOT_IN, _EXISTS, _ABSENT, _GT, _LT, _NEVER = range(9)


class Selector:
    """An AND of requirements, kept sorted by key as Kubernetes keeps them.

    `matches(labels)` answers for a label dict; `str(selector)` is the canonical string
    (`app=kubia,env in (devel,prod)`); `requirements` lists the terms; `empty` is True when the
    selector restricts nothing (Everything). Selectors are immutable; `add` returns a new one.
    """

    __slots__ = ("_requirements", "_checks", "_text")

    def __init__(self, requirements=()):
        # sorted() is stable: terms on the same key keep their written order.
        self._requirements = tuple(sorted(requirements, key=lambda r: r.key))
        self._checks = tuple(r._compile() for r in self._requirements)
        self._text = ",".join(str(r) for r in self._requirements)

    @property
    def requirements(self):
        return list(self._requirements)

    @property
    def empty(self):
        """True when this selector does not restrict the selection (it selects everything)."""
        return not self._requirements

    @property
    def matches_nothing(self):
        """True only for Nothing() (as labels.MatchesNothing: no conflict detection)."""
        return False

    def matches(self, labels):
        """Whether an object carrying `labels` (a dict, or None for no labels) is selected."""
        if not labels:
            labels = {}
        get = labels.get
        for key, mode, arg in self._checks:
            if mode == _EQ:
                if get(key, _MISSING) != arg:
                    return False
            elif mode == _NE:
                if get(key, _MISSING) == arg:
                    return False
            elif mode == _EXISTS:
                if key not in labels:
                    return False
            elif mode == _ABSENT:
                if key in labels:
                    return False
            elif mode == _IN:
                value = get(key, _MISSING)
                if value is _MISSING or value not in arg:
                    return False
            elif mode == _NOT_IN:
                value = get(key, _MISSING)
                if value is not _MISSING and value in arg:
                    return False
            elif mode in (_GT, _LT):
                have = _parse_int64(get(key))
                if have is None or arg is None:
                    return False
                if not (have > arg if mode == _GT else have < arg):
                    return False
            else:
                return False
        return True

    def matches_object(self, obj):
        """Whether a Kubernetes object (a dict with metadata.labels) is selected."""
        return self.matches((obj.get("metadata") or {}).get("labels"))

    def add(self, *requirements):
        return Selector(self._requirements + tuple(requirements))

    def requires_exact_match(self, key):
        """The one value `key` must have (from `key=v`, `key==v` or `key in (v)`), or None."""
        for requirement in self._requirements:
            if requirement.key == key:
                if requirement.operator in (EQUALS, DOUBLE_EQUALS, IN) \
                        and len(requirement.values) == 1:
                    return requirement.values[0]
                return None
        return None

    def __str__(self):
        return self._text

    def __repr__(self):
        return f"Selector({self._text!r})"

    def __eq__(self, other):
        return (type(other) is type(self)
                and self._requirements == other._requirements)

    def __hash__(self):
        return hash((type(self), self._requirements))


class _NothingSelector(Selector):
    """Selects no object at all: what a nil LabelSelector means."""

    __slots__ = ()

    @property
    def empty(self):
        return False

    @property
    def matches_nothing(self):
        return True

    def matches(self, labels):
        return False

    def add(self, *requirements):
        return self

    def __repr__(self):
        return "Nothing()"


_EVERYTHING = Selector()
_NOTHING = _NothingSelector()


def Everything():  # noqa: N802 (named as Kubernetes names it)
    """The selector that selects every object (an empty string, an empty LabelSelector)."""
    return _EVERYTHING


def Nothing():  # noqa: N802
    """The selector that selects no object (a null LabelSelector)."""
    return _NOTHING


# --- the string language -----------------------------------------------------------------------

# Token kinds.
_END, _RPAREN, _COMMA, _BANG, _DEQ, _EQ_T, _GT_T, _IDENT, _IN_T, _LT_T, _NEQ, _NOTIN_T, _LPAREN = \
    range(13)
_SYMBOLS = {")": _RPAREN, ",": _COMMA, "!": _BANG, "==": _DEQ, "=": _EQ_T, ">": _GT_T,
            "<": _LT_T, "!=": _NEQ, "(": _LPAREN}
_KEYWORDS = {"in": _IN_T, "notin": _NOTIN_T}
_SPACE = frozenset(" \t\r\n")
_SPECIAL = frozenset("=!(),><")
_OPERATOR_TOKENS = {_IN_T: IN, _NOTIN_T: NOT_IN, _EQ_T: EQUALS, _DEQ: DOUBLE_EQUALS,
                    _NEQ: NOT_EQUALS, _GT_T: GREATER_THAN, _LT_T: LESS_THAN}
_EXPECTED_OPERATOR = ", ".join(BINARY_OPERATORS)


def _tokens(text):
    """[(kind, literal)] ending with (_END, ""). Symbols take the longest match (`!=`, `==`)."""
    out = []
    i, n = 0, len(text)
    while True:
        while i < n and text[i] in _SPACE:
            i += 1
        if i >= n:
            out.append((_END, ""))
            return out
        ch = text[i]
        if ch in _SPECIAL:
            pair = text[i:i + 2]
            if pair in ("==", "!="):
                out.append((_SYMBOLS[pair], pair))
                i += 2
            else:
                out.append((_SYMBOLS[ch], ch))
                i += 1
            continue
        start = i
        while i < n and text[i] not in _SPECIAL and text[i] not in _SPACE:
            i += 1
        word = text[start:i]
        out.append((_KEYWORDS.get(word, _IDENT), word))


class _Parser:
    """A recursive-descent reading of the token list; errors carry Kubernetes' wording."""

    def __init__(self, text):
        self.items = _tokens(text)
        self.pos = 0

    def peek(self, as_value=True):
        kind, literal = self.items[min(self.pos, len(self.items) - 1)]
        if as_value and kind in (_IN_T, _NOTIN_T):  # keywords read as plain words here
            kind = _IDENT
        return kind, literal

    def take(self, as_value=True):
        item = self.peek(as_value)
        self.pos += 1
        return item

    def selector(self):
        requirements = []
        while True:
            kind, literal = self.peek()
            if kind == _END:
                return requirements
            if kind not in (_IDENT, _BANG):
                raise SelectorError(
                    f"found '{literal}', expected: !, identifier, or 'end of string'")
            try:
                requirements.append(self.requirement())
            except SelectorError as err:
                raise SelectorError(f"unable to parse requirement: {err.message}") from None
            kind, literal = self.take()
            if kind == _END:
                return requirements
            if kind != _COMMA:
                raise SelectorError(f"found '{literal}', expected: ',' or 'end of string'")
            kind, literal = self.peek()
            if kind not in (_IDENT, _BANG):
                raise SelectorError(f"found '{literal}', expected: identifier after ','")

    def requirement(self):
        operator = None
        kind, key = self.take()
        if kind == _BANG:
            operator = DOES_NOT_EXIST
            kind, key = self.take()
        if kind != _IDENT:
            raise SelectorError(f"found '{key}', expected: identifier")
        if problems := validation.qualified_name(key):
            raise SelectorError(_invalid("<nil>", go_quote(key), "; ".join(problems)))
        if operator is None and self.peek()[0] in (_END, _COMMA):
            operator = EXISTS
        if operator is not None:
            # `!key` ends the term whatever follows; the caller then judges what follows.
            return new_requirement(key, operator, [])
        kind, literal = self.take(as_value=False)
        operator = _OPERATOR_TOKENS.get(kind)
        if operator is None:
            raise SelectorError(f"found '{literal}', expected: {_EXPECTED_OPERATOR}")
        values = self.value_set() if operator in (IN, NOT_IN) else self.exact_value()
        return new_requirement(key, operator, sorted(values))

    def exact_value(self):
        if self.peek()[0] in (_END, _COMMA):
            return {""}
        kind, literal = self.take()
        if kind != _IDENT:
            raise SelectorError(f"found '{literal}', expected: identifier")
        return {literal}

    def value_set(self):
        kind, literal = self.take()
        if kind != _LPAREN:
            raise SelectorError(f"found '{literal}' expected: '('")
        kind, first = self.peek()
        if kind == _RPAREN:  # `()` is the set of the empty string
            self.take()
            return {""}
        if kind not in (_IDENT, _COMMA):
            raise SelectorError(f"found '{first}', expected: ',', ')' or identifier")
        values = self.value_list()
        if self.take()[0] != _RPAREN:
            raise SelectorError(f"found '{first}', expected: ')'")
        return values

    def value_list(self):
        """Comma-separated words where an empty place is the empty string, up to `)`.

        Kubernetes 1.32 reads a doubled comma by swallowing the second one, so `(a,,b)` and
        `(a,,,)` are accepted but `(a,,)` is refused (later releases accept it): kept as is.
        """
        values = set()
        while True:
            kind, literal = self.take()
            if kind == _IDENT:
                values.add(literal)
                kind, literal = self.peek()
                if kind == _COMMA:
                    continue
                if kind == _RPAREN:
                    return values
                raise SelectorError(f"found '{literal}', expected: ',' or ')'")
            if kind == _COMMA:
                if not values:
                    values.add("")  # `(,`
                kind, _ = self.peek()
                if kind == _RPAREN:
                    values.add("")  # `,)`
                    return values
                if kind == _COMMA:
                    self.take()
                    values.add("")  # `,,`
                continue
            raise SelectorError(f"found '{literal}', expected: ',', or identifier")


def parse(text: str | None) -> Selector:
    """The Selector for a `-l` / `labelSelector` string; "" (or None) selects everything.

    Raises SelectorError carrying the message the API server answers with (HTTP 400).
    """
    if not text:
        return _EVERYTHING
    requirements = _Parser(text).selector()
    return Selector(requirements) if requirements else _EVERYTHING


# --- the object forms --------------------------------------------------------------------------

def from_label_selector(obj: dict | None) -> Selector:
    """The Selector of a LabelSelector object (Deployment, ReplicaSet, DaemonSet, Job, ...).

    As metav1.LabelSelectorAsSelector: None selects nothing, `{}` (no matchLabels and no
    matchExpressions) selects everything. An invalid selector raises SelectorError with
    Kubernetes' message (`"Foo" is not a valid label selector operator`, `values: Invalid
    value: []string(nil): for 'in', 'notin' operators, values set can't be empty`, ...);
    validate with validate_label_selector first to get field errors instead.
    """
    if obj is None:
        return _NOTHING
    match_labels = obj.get("matchLabels") or {}
    expressions = obj.get("matchExpressions") or []
    if not match_labels and not expressions:
        return _EVERYTHING
    requirements = [new_requirement(key, EQUALS, [value]) for key, value in match_labels.items()]
    for expression in expressions:
        expression = expression or {}
        written = expression.get("operator", "")
        operator = OBJECT_OPERATORS.get(written)
        if operator is None:
            raise SelectorError(f"{go_quote(str(written))} is not a valid label selector operator")
        values = list(expression.get("values") or []) or None
        requirements.append(new_requirement(expression.get("key", ""), operator, values))
    return Selector(requirements)


def validate_label_selector(obj: dict | None, path: str) -> list[FieldError]:
    """The API server's field errors for a LabelSelector at `path` (e.g. "spec.selector").

    As ValidateLabelSelector: matchLabels keys and values (errors at `<path>.matchLabels`);
    per expression, In/NotIn need values, Exists/DoesNotExist forbid them, any other operator is
    `Invalid value: "Foo": not a valid selector operator` at `.operator`, and the key and every
    value are validated (`<path>.matchExpressions[0].values[1]`). None is valid (kinds that
    require a selector say so themselves, as do "empty selector is invalid for deployment").
    """
    errors: list[FieldError] = []
    if obj is None:
        return errors
    errors += validation.labels(f"{path}.matchLabels", obj.get("matchLabels") or {})
    for i, expression in enumerate(obj.get("matchExpressions") or []):
        expression = expression or {}
        here = f"{path}.matchExpressions[{i}]"
        values = expression.get("values") or []
        operator = expression.get("operator", "")
        if operator in ("In", "NotIn"):
            if not values:
                errors.append(FieldError.required(
                    f"{here}.values", "must be specified when `operator` is 'In' or 'NotIn'"))
        elif operator in ("Exists", "DoesNotExist"):
            if values:
                errors.append(FieldError.forbidden(
                    f"{here}.values",
                    "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"))
        else:
            errors.append(FieldError.invalid(f"{here}.operator", operator,
                                             "not a valid selector operator"))
        key = expression.get("key", "")
        errors += validation.each(f"{here}.key", key, validation.qualified_name(key))
        for j, value in enumerate(values):
            if not isinstance(value, str):
                errors.append(FieldError.invalid(f"{here}.values[{j}]", value,
                                                 "label values must be strings"))
            else:
                errors += validation.each(f"{here}.values[{j}]", value,
                                          validation.label_value(value))
    return errors


def from_map(d: dict | None) -> Selector:
    """The Selector of a plain map selector (ReplicationController, Service): all `k=v`, ANDed.

    As labels.SelectorFromSet, None and `{}` give Everything(), unvalidated; the consumers
    decide what an absent selector means, and must check before calling this:

    * Service: a Service without a selector (None, or `{}`, which reads back from storage as
      absent) gets no Endpoints from the endpoints controller; the user manages them by hand.
      It must never select every pod of the namespace.
    * ReplicationController: an empty selector is defaulted to the pod template's labels when
      the object is created (defaulting, elsewhere), and validation refuses one still empty.
    """
    if not d:
        return _EVERYTHING
    return Selector(Requirement(key, EQUALS, (value,)) for key, value in d.items())


def to_string(obj: dict | None, *, none: str = "<none>") -> str:
    """A LabelSelector as kubectl prints it (wide output, describe): metav1.FormatLabelSelector.

    `app=kubia,env in (prod)`; a selector that selects everything or nothing prints as `<none>`
    and an invalid one as `<error>`. For Scale's status.selector pass `none=""` (that field is
    the plain selector string, empty for an empty selector).
    """
    try:
        text = str(from_label_selector(obj))
    except SelectorError:
        return "<error>"
    return text or none


def format_labels(d: dict | None) -> str:
    """A label map as kubectl prints it (labels.FormatLabels): sorted `k=v` pairs or `<none>`.

    Used for the map selectors of ReplicationControllers and Services in wide output.
    """
    return ",".join(sorted(f"{k}={v}" for k, v in (d or {}).items())) or "<none>"
