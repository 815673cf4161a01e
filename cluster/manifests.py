"""YAML in: parsing with line numbers, and errors that teach.

`parse(text)` reads a (multi-document) manifest the way kubectl does (YAML 1.1 scalars, no
language tags, `kind: List` expanded into its items) and returns one `Document` per object,
each knowing the line of every field path so an error can point at it. Problems with the text
as a whole (size, syntax, alias bombs, encoding) raise `ManifestError`; problems of one
document (not a map, no kind, duplicate keys) stay in that document's `errors`.

This module only reads text: it does not look kinds up or validate objects (the store does).
"""

from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass, field

import yaml
from yaml.constructor import SafeConstructor
from yaml.events import AliasEvent
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

from cluster.errors import FieldError

__all__ = ["Document", "ManifestError", "MAX_BYTES", "MAX_NODES", "MAX_ALIASES", "parse",
           "read_yaml", "explain"]

MAX_BYTES = 1024 * 1024
MAX_NODES = 100_000       # values after expanding aliases, over the whole text
MAX_ALIASES = 10_000      # alias uses (*name) in the whole text

_MAP_TAG = "tag:yaml.org,2002:map"
_SEQ_TAG = "tag:yaml.org,2002:seq"
_MERGE_TAG = "tag:yaml.org,2002:merge"


class ManifestError(Exception):
    """The text as a whole cannot be read."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None,
                 document: int | None = None):
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column
        self.document = document

    def __str__(self):
        return self.message


# --- the loader -----------------------------------------------------------------------------

def _str_of(loader, node):
    return loader.construct_scalar(node)


def _int(loader, node):
    text = loader.construct_scalar(node)
    if ":" in text:           # YAML 1.1 base 60 (22:22 -> 1342): Go's YAML keeps a string
        return text
    return SafeConstructor.construct_yaml_int(loader, node)


def _float(loader, node):
    text = loader.construct_scalar(node)
    if ":" in text:
        return text
    return SafeConstructor.construct_yaml_float(loader, node)


class _Loader(yaml.SafeLoader):
    """SafeLoader (no language tags) that counts aliases; timestamps stay strings, as they
    reach the API server through JSON."""

    def __init__(self, stream):
        super().__init__(stream)
        self.aliases = 0

    def compose_node(self, parent, index):
        if self.check_event(AliasEvent):
            self.aliases += 1
            if self.aliases > MAX_ALIASES:
                mark = self.peek_event().start_mark
                raise _Refused(f"the YAML uses more than {MAX_ALIASES:,} aliases (*name); "
                               "kubelab refuses it to protect the server", mark)
        return super().compose_node(parent, index)


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _str_of)
_Loader.add_constructor("tag:yaml.org,2002:binary", _str_of)
_Loader.add_constructor("tag:yaml.org,2002:value", _str_of)
_Loader.add_constructor("tag:yaml.org,2002:int", _int)
_Loader.add_constructor("tag:yaml.org,2002:float", _float)


class _Refused(Exception):
    def __init__(self, message, mark=None):
        super().__init__(message)
        self.message, self.mark = message, mark


# --- documents ------------------------------------------------------------------------------

_TOKEN = re.compile(r"\[([^\]]*)\]|\.?([^.\[]+)")


def _tokens(path: str) -> list[tuple[str, bool]]:
    """'a.b[0].c[x.y]' -> [('a', False), ('b', False), ('0', True), ('c', False), ('x.y', True)]"""
    out = []
    for m in _TOKEN.finditer(path or ""):
        if m.group(1) is not None:
            out.append((m.group(1), True))
        elif m.group(2):
            out.append((m.group(2), False))
    return out


@dataclass
class Document:
    index: int                      # 1-based document number within the text
    line: int                       # 1-based line where the document starts
    obj: dict | None
    errors: list[FieldError] = field(default_factory=list)
    # path tuple -> (line, scalar style or None, scalar source text or None)
    _marks: dict = field(default_factory=dict, repr=False, compare=False)

    def _resolve(self, path: str) -> tuple[tuple, bool]:
        """The longest prefix of `path` present in the text, as a key of _marks, and whether
        it is the whole path."""
        marks = self._marks
        toks = _tokens(path)
        cur: tuple = ()
        i = 0
        while i < len(toks):
            text, bracket = toks[i]
            step, used = None, 1
            if bracket:
                if text.isdigit() and cur + (int(text),) in marks:
                    step = int(text)
                elif cur + (text,) in marks:
                    step = text
            else:
                # a map key may itself contain dots (app.kubernetes.io/name): join greedily
                joined = text
                for j in range(i, len(toks)):
                    if j > i:
                        if toks[j][1]:
                            break
                        joined += "." + toks[j][0]
                    if cur + (joined,) in marks:
                        step, used = joined, j - i + 1
            if step is None:
                break
            cur = cur + (step,)
            i += used
        return cur, i == len(toks)

    def line_of(self, path: str) -> int | None:
        """Line of a field path like 'spec.containers[0].ports[0].containerPort', or of its
        nearest existing ancestor when the exact path is absent."""
        key, _complete = self._resolve(path)
        mark = self._marks.get(key)
        return mark[0] if mark else self.line

    def _scalar(self, path: str):
        """(style, source text) of the scalar written at exactly `path`, or None."""
        key, complete = self._resolve(path)
        mark = self._marks.get(key) if complete else None
        if not mark or mark[2] is None:
            return None
        return mark[1], mark[2]

    def value_at(self, path: str):
        """The value at exactly `path` in obj, or None."""
        key, complete = self._resolve(path)
        if not complete:
            return None
        cur = self.obj
        for k in key:
            try:
                cur = cur[k]
            except (KeyError, IndexError, TypeError):
                return None
        return cur

    def locate(self, errors: list[FieldError]) -> list[FieldError]:
        """The same errors with .line filled in from their field path and kubelab's hints."""
        out = []
        for error in errors:
            if error.line is None:
                error = error.with_line(self.line_of(error.field))
            out.append(explain(self, error))
        return out


def _key_path(path: tuple) -> str:
    """Kubernetes' field path: dots for fields, [i] for list indexes."""
    out = ""
    for k in path:
        if isinstance(k, int):
            out += f"[{k}]"
        else:
            out += ("." if out else "") + k
    return out


# --- building objects from nodes ------------------------------------------------------------

def _tag(tag: str) -> str:
    return "!!" + tag[len("tag:yaml.org,2002:"):] if tag.startswith("tag:yaml.org,2002:") else tag


class _Builder:
    def __init__(self, loader):
        self.loader = loader
        self.marks: dict = {}
        self.errors: list[tuple[tuple, FieldError]] = []

    def build(self, node, path: tuple, line: int):
        if isinstance(node, ScalarNode):
            constructor = self.loader.yaml_constructors.get(node.tag)
            if constructor is None:
                raise _Refused(f"the YAML tag {_tag(node.tag)} is not allowed here: kubelab "
                               "reads plain YAML (maps, lists, strings, numbers, booleans)",
                               node.start_mark)
            value = constructor(self.loader, node)
            self.marks[path] = (line, node.style, node.value)
            if isinstance(value, float) and not math.isfinite(value):
                self.errors.append((path, FieldError.type_invalid(
                    _key_path(path), node.value,
                    "JSON has no infinity or NaN",
                    hint=f'write "{node.value}" in quotes if you meant the text')))
            return value
        self.marks[path] = (line, None, None)
        if isinstance(node, SequenceNode):
            if node.tag != _SEQ_TAG:
                raise _Refused(f"the YAML tag {_tag(node.tag)} is not allowed here: kubelab reads "
                               "plain YAML", node.start_mark)
            return [self.build(item, path + (i,), item.start_mark.line + 1)
                    for i, item in enumerate(node.value)]
        if node.tag != _MAP_TAG:
            raise _Refused(f"the YAML tag {_tag(node.tag)} is not allowed here: kubelab reads "
                           "plain YAML", node.start_mark)
        result: dict = {}
        # merge keys (<<: *base): merged values first, the map's own keys override them
        own, merges = [], []
        for knode, vnode in node.value:
            if isinstance(knode, ScalarNode) and knode.tag == _MERGE_TAG:
                merges.append(vnode)
            else:
                own.append((knode, vnode))
        for source in merges:
            sources = source.value if isinstance(source, SequenceNode) else [source]
            for src in reversed(sources):
                if not isinstance(src, MappingNode):
                    raise _Refused("a merge key (<<) needs a map or a list of maps",
                                   src.start_mark)
                result.update(self.build(src, path, line))
        self.marks[path] = (line, None, None)
        seen: dict[str, int] = {}
        for knode, vnode in own:
            kline = knode.start_mark.line + 1
            if not isinstance(knode, ScalarNode):
                raise _Refused("a map key must be a single value, not a list or a map",
                               knode.start_mark)
            key = self._key(knode)
            kpath = path + (key,)
            if key in seen:
                self.errors.append((kpath, FieldError.duplicate_field(
                    _key_path(kpath),
                    hint=f'the key "{key}" appears twice in this map (lines {seen[key]} and '
                         f"{kline}); kubelab keeps the last one: delete the other")))
            seen[key] = kline
            result[key] = self.build(vnode, kpath, kline)
        return result

    def _key(self, knode) -> str:
        constructor = self.loader.yaml_constructors.get(knode.tag)
        if constructor is None:
            raise _Refused(f"the YAML tag {_tag(knode.tag)} is not allowed here", knode.start_mark)
        value = constructor(self.loader, knode)
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, (int, float)):
            return str(value)
        return knode.value


def _expanded_size(node, budget: int) -> int:
    """Number of values `node` stands for once every alias is expanded, memoised per node so
    that a billion laughs costs a few dozen steps. Refuses cycles and anything past budget."""
    memo: dict[int, int] = {}
    active: set[int] = set()

    def size(n) -> int:
        i = id(n)
        s = memo.get(i)
        if s is not None:
            return s
        if isinstance(n, ScalarNode):
            memo[i] = 1
            return 1
        if i in active:
            raise _Refused("an anchor (&name) is used inside itself (*name): the value would "
                           "never end", n.start_mark)
        active.add(i)
        total = 1
        if isinstance(n, SequenceNode):
            for c in n.value:
                total += size(c)
                if total > budget:
                    break
        else:
            for k, v in n.value:
                total += size(k) + size(v)
                if total > budget:
                    break
        active.discard(i)
        if total > budget:
            raise _Refused(
                f"the YAML expands to more than {MAX_NODES:,} values through its anchors and "
                "aliases (&name / *name): kubelab refuses it (a 'billion laughs' bomb)",
                n.start_mark)
        memo[i] = total
        return total

    return size(node)


# --- syntax errors in plain words -----------------------------------------------------------

def _where(document, line, column):
    return f"document {document}, line {line}, column {column}"


def _plain_words(err: yaml.MarkedYAMLError, text: str) -> tuple[str, int | None, int | None]:
    mark = err.problem_mark or err.context_mark
    line = mark.line + 1 if mark else None
    column = mark.column + 1 if mark else None
    lines = text.splitlines()
    here = lines[mark.line] if mark and mark.line < len(lines) else ""
    problem = err.problem or ""
    context = err.context or ""
    ctx_line = err.context_mark.line + 1 if err.context_mark else None

    before = here[: mark.column] if mark else ""
    at = here[mark.column: mark.column + 1] if mark else ""
    if "\t" in problem or at == "\t" or ("\t" in before and not before.strip(" \t")):
        col = (before.index("\t") + 1) if "\t" in before else column
        return ("a tab character: YAML indents with spaces, never tabs; replace the tab with "
                "spaces", line, col)
    if "expected <block end>" in problem and "block collection" in context:
        word = here.strip().split(":")[0] or "this line"
        ctx = lines[err.context_mark.line] if err.context_mark.line < len(lines) else ""
        item = re.match(r"(\s*-\s+)", ctx)
        item_col = len(item.group(1)) + 1 if item else column + 2
        owner = _owner_key(lines, err.context_mark.line, err.context_mark.column)
        tail = (f"; if it belongs to the object that has {owner[0]}, line it up with "
                f"{owner[0]} (column {owner[1]})") if owner else ""
        return (f"{word} is lined up with the '- ' items of the list that starts on line "
                f"{ctx_line}, but it is not a list item: if it belongs to that list item, "
                f"indent it to column {item_col}{tail}", line, column)
    if "expected <block end>" in problem:
        return (f"this line does not line up with the keys of the map that starts on line "
                f"{ctx_line} (column {err.context_mark.column + 1}): line it up with them, or "
                "indent it under the key it belongs to", line, column)
    if problem.startswith("mapping values are not allowed"):
        return ("a ': ' here makes this a key, but it is not where a key can start: check "
                "the indentation of this line and the one above, or put the value in quotes "
                "if it contains ': '", line, column)
    if problem.startswith("could not find expected ':'"):
        return ("expected 'key: value' (a key, a colon and a space) but found no colon; "
                "check this line and the one before it", line, column)
    if problem.startswith("found undefined alias"):
        name = problem.split()[-1]
        return (f"the alias *{name.strip(chr(39))} refers to an anchor &{name.strip(chr(39))} "
                "that is not defined before it", line, column)
    if "found unexpected end of stream" in problem and "quoted scalar" in context:
        return (f"a quote opened on line {ctx_line} is never closed", ctx_line,
                err.context_mark.column + 1)
    if "did not find expected key" in problem:
        return ("expected a key ('name: value') at this indentation: this line is probably "
                "indented differently from the keys around it", line, column)
    if "did not find expected '-' indicator" in problem:
        return ("expected a list item ('- ...') here: this line is lined up with a list but "
                "does not start with '- '", line, column)
    if problem.startswith("found duplicate anchor"):
        return ("the same anchor (&name) is defined twice: give each anchor its own name",
                line, column)
    if "found character" in problem and "cannot start any token" in problem:
        ch = at or "?"
        return (f"the character {ch!r} cannot start a value here; put the value in quotes",
                line, column)
    words = problem
    if context:
        words = f"{context}{f' (line {ctx_line})' if ctx_line and ctx_line != line else ''}: {problem}"
    return words, line, column


def _owner_key(lines, seq_line: int, seq_col: int):
    """The key that owns the block list starting at (seq_line, seq_col): nearest line above
    with a smaller indentation that ends with a key. Returns (key, column) or None."""
    for i in range(seq_line - 1, -1, -1):
        text = lines[i]
        stripped = text.lstrip(" ")
        if not stripped or stripped.startswith("#"):
            continue
        indent = len(text) - len(stripped)
        m = re.match(r"(?:-\s+)?([^\s:#][^:#]*?):(\s|$)", stripped)
        if m and indent <= seq_col:
            col = indent + 1 + (len(stripped) - len(stripped[m.start(1):]))
            return m.group(1), col
        if indent < seq_col:
            return None
    return None


# --- parse ----------------------------------------------------------------------------------

def _decode(text: str | bytes) -> str:
    if isinstance(text, str):
        size = len(text.encode("utf-8", "surrogatepass"))
    else:
        size = len(text)
    if size > MAX_BYTES:
        raise ManifestError(f"the manifest is {size:,} bytes; kubelab reads at most "
                            f"{MAX_BYTES:,} bytes (1 MiB) at a time: split it into smaller "
                            "files")
    if isinstance(text, str):
        return text[1:] if text.startswith("\ufeff") else text
    raw = bytes(text)
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError:
            raise ManifestError("the manifest starts like UTF-16 text but is not valid "
                                "UTF-16: save it as UTF-8") from None
    try:
        decoded = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw.count(b"\n", 0, e.start) + 1
        column = e.start - (raw.rfind(b"\n", 0, e.start) + 1) + 1
        raise ManifestError(
            f"line {line}, column {column}: byte 0x{raw[e.start]:02x} is not UTF-8 text: "
            "save the file as UTF-8 (kubectl and kubelab read only UTF-8)",
            line, column) from None
    return decoded[1:] if decoded.startswith("\ufeff") else decoded


def _describe_kind(value) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        short = value if len(value) <= 40 else value[:37] + "..."
        return f'a string ("{short}")'
    return "a " + type(value).__name__


def _object_errors(obj, index) -> list[FieldError]:
    errors = []
    for name in ("apiVersion", "kind"):
        value = obj.get(name)
        if value is None or value == "":
            errors.append(FieldError.required(name, f"{name} not set"))
        elif not isinstance(value, str):
            errors.append(FieldError.type_invalid(name, value, "expected a string"))
    return errors


def _not_object(value, index) -> FieldError:
    return FieldError("", "FieldValueTypeInvalid",
                      f"document {index} is {_describe_kind(value)}, expected a Kubernetes "
                      "object (a map with apiVersion, kind, metadata)")


def _documents(index, line, obj, marks, errors) -> list[Document]:
    """One Document, or the items of a List."""
    if not isinstance(obj, dict):
        error = _not_object(obj, index).with_line(line)
        return [Document(index, line, None, [error], marks)]
    kind = obj.get("kind")
    items = obj.get("items")
    is_list = isinstance(kind, str) and (kind == "List" or (kind.endswith("List")
                                                             and isinstance(items, list)))
    if not is_list:
        own = [e.with_line(_line(marks, p)) for p, e in errors]
        own += [e.with_line(line) for e in _object_errors(obj, index)]
        return [Document(index, line, obj, own, marks)]
    if not isinstance(items, list):
        error = FieldError.type_invalid("items", items, "expected a list").with_line(
            _line(marks, ("items",)))
        if items is None:
            return []
        return [Document(index, line, None, [error], marks)]
    docs = []
    list_errors = [e.with_line(_line(marks, p)) for p, e in errors
                   if not (len(p) >= 2 and p[0] == "items")]
    item_kind = kind[:-4] if kind != "List" else None
    for i, item in enumerate(items):
        prefix = ("items", i)
        item_marks = {k[2:]: v for k, v in marks.items() if k[:2] == prefix}
        item_line = _line(marks, prefix)
        if isinstance(item, dict) and item_kind and "kind" not in item and "apiVersion" not in item:
            # a typed list (PodList) leaves its items' kind unset, as the API server does
            item = {"apiVersion": obj.get("apiVersion"), "kind": item_kind, **item}
        item_errors = []
        for p, e in errors:
            if p[:2] == prefix:
                e = dataclasses.replace(e, field=_key_path(p[2:])).with_line(_line(marks, p))
                item_errors.append(e)
        if not isinstance(item, dict):
            item_errors.append(FieldError("", "FieldValueTypeInvalid",
                                          f"item {i} of the List in document {index} is "
                                          f"{_describe_kind(item)}, expected a Kubernetes object")
                               .with_line(item_line))
            docs.append(Document(index, item_line, None, list_errors + item_errors, item_marks))
        else:
            item_errors += [e.with_line(item_line) for e in _object_errors(item, index)]
            docs.append(Document(index, item_line, item, list_errors + item_errors,
                                 item_marks))
        list_errors = []      # list-level problems are reported once, on the first item
    return docs


def _line(marks, path) -> int | None:
    path = tuple(path)
    while path not in marks and path:
        path = path[:-1]
    mark = marks.get(path)
    return mark[0] if mark else None


def parse(text: str | bytes) -> list[Document]:
    """The documents of a manifest, in order; empty documents are skipped and the items of a
    `kind: List` become documents of their own (sharing the List's index)."""
    text = _decode(text)
    documents: list[Document] = []
    current = 1               # number of the document being read
    used = 0
    try:
        loader = _Loader(text)
    except yaml.reader.ReaderError as e:
        raise _reader_error(e, text) from None
    try:
        while loader.check_node():
            node = loader.get_node()
            used += _expanded_size(node, MAX_NODES - used)
            line = node.start_mark.line + 1
            builder = _Builder(loader)
            obj = builder.build(node, (), line)
            if obj is not None:
                documents.extend(_documents(current, line, obj, builder.marks,
                                            builder.errors))
            current += 1
    except _Refused as e:
        mark = e.mark
        if mark is not None:
            raise ManifestError(f"{_where(current, mark.line + 1, mark.column + 1)}: {e.message}",
                                mark.line + 1, mark.column + 1, current) from None
        raise ManifestError(f"document {current}: {e.message}", None, None, current) from None
    except yaml.MarkedYAMLError as e:
        words, line, column = _plain_words(e, text)
        where = _where(current, line, column) if line else f"document {current}"
        raise ManifestError(f"{where}: {words}", line, column, current) from None
    except yaml.reader.ReaderError as e:
        raise _reader_error(e, text) from None
    except RecursionError:
        raise ManifestError(f"document {current}: the YAML nests too deeply for kubelab to "
                            "read", None, None, current) from None
    finally:
        loader.dispose()
    return documents


def read_yaml(text: str | bytes) -> Document:
    """One YAML document that is not a Kubernetes object (a lesson file, say), read by the
    same rules and with the same line marks as a manifest; duplicate keys are in `.errors`."""
    text = _decode(text)
    try:
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
            if node is None:
                return Document(1, 1, None)
            _expanded_size(node, MAX_NODES)
            builder = _Builder(loader)
            line = node.start_mark.line + 1
            obj = builder.build(node, (), line)
        finally:
            loader.dispose()
    except _Refused as e:
        line = e.mark.line + 1 if e.mark else None
        raise ManifestError(f"line {line}: {e.message}" if line else e.message,
                            line, e.mark.column + 1 if e.mark else None, 1) from None
    except yaml.MarkedYAMLError as e:
        words, line, column = _plain_words(e, text)
        raise ManifestError(f"line {line}: {words}" if line else words, line, column, 1) from None
    except yaml.reader.ReaderError as e:
        raise _reader_error(e, text) from None
    errors = [e.with_line(_line(builder.marks, p)) for p, e in builder.errors]
    return Document(1, line, obj, errors, builder.marks)


def _reader_error(e, text) -> ManifestError:
    pos = e.position
    line = text.count("\n", 0, pos) + 1
    column = pos - (text.rfind("\n", 0, pos) + 1) + 1
    ch = e.character
    code = f"U+{ch:04X}" if isinstance(ch, int) else repr(ch)
    return ManifestError(f"line {line}, column {column}: the character {code} is a control "
                         "character that YAML does not allow: delete it", line, column)


# --- hints ----------------------------------------------------------------------------------

_COMMENT = re.compile(r"^(.*?\S)#")
_NUMBER = re.compile(r"^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$")
_YAML_BOOLS = {"yes", "no", "on", "off", "y", "n", "true", "false"}


def _add_hint(error: FieldError, hint: str) -> FieldError:
    if not hint or hint in error.hint:
        return error
    joined = f"{error.hint} {hint}" if error.hint else hint
    return dataclasses.replace(error, hint=joined)


def explain(doc: Document, error: FieldError) -> FieldError:
    """`error` with kubelab's teaching hints for mistakes the YAML text shows: a comment
    without a space before '#', a number in quotes, a number or yes/no where text belongs."""
    if error.type == "FieldValueUnknown":
        return error          # schema.check's hint (did you mean / indentation) stands
    scalar = doc._scalar(error.field) if error.field else None
    value = doc.value_at(error.field) if error.field else None
    if value is None and error.has_value:
        value = error.value
    style, source = scalar if scalar else (None, None)

    if isinstance(value, str) and style is None:
        m = _COMMENT.match(value)
        if m and not m.group(1).endswith(" "):
            head = m.group(1)
            error = _add_hint(error, f"YAML reads `{head}# ...` as one string: a comment "
                                     f"needs a space before #, write `{head} # ...`")
    if error.type == "FieldValueTypeInvalid":
        detail = error.detail
        expects_number = "expected an integer" in detail or "expected a number" in detail
        if (isinstance(value, str) and style in ('"', "'") and _NUMBER.match(value.strip())
                and expects_number):
            q = style
            error = _add_hint(error, f"{q}{value}{q} is in quotes, so YAML reads it as a "
                                     f"string: write {value.strip()} without quotes")
        elif "expected a string" in detail and source is not None and style is None:
            if isinstance(value, bool):
                what = f"the boolean {'true' if value else 'false'}"
                if source.lower() not in ("true", "false"):
                    what += " (YAML 1.1 reads yes/no/on/off as booleans)"
            elif isinstance(value, (int, float)):
                what = "a number"
            else:
                what = None
            if what:
                error = _add_hint(error, f'YAML reads {source} as {what}: write "{source}" in '
                                         "quotes to keep it a string")
    return error
