"""Lexer: shell source -> tokens. Words keep their quoting as parts:

    ("s", text, quoted)            literal text
    ("v", name, quoted, op, arg)   $name / ${name op arg} (arg: parts), op "len" for ${#name}
    ("c", Program, quoted)         $(...) / `...`
    ("a", text, quoted)            $((...))
"""

from __future__ import annotations

import re
from dataclasses import dataclass


class ShellError(Exception):
    """A script that cannot run (syntax error): `message` is what sh prints, exit code 2."""

    def __init__(self, message: str, exit_code: int = 2, line: int = 1):
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code
        self.line = line


@dataclass
class _Tok:
    kind: str                      # word, op, nl, redir, eof
    val: object = None
    line: int = 1


_REDIR_RE = re.compile(r"(\d*)(>>|>&|<&|>\||<<-?|<>|>|<)|&>>?")
_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ASSIGN_RE = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)=")
_META = " \t\n;&|()<>"
_PARAM_OPS = (":-", ":=", ":+", ":?", "%%", "##", "-", "=", "+", "?", "%", "#")


def _syntax(msg: str):
    return ShellError("syntax error: " + msg)


def _add(parts: list, text: str, quoted: bool):
    if parts and parts[-1][0] == "s" and parts[-1][2] == quoted:
        parts[-1] = ("s", parts[-1][1] + text, quoted)
    else:
        parts.append(("s", text, quoted))


def _match_close(src: str, i: int, open_ch: str, close_ch: str) -> int:
    """Index of the `close_ch` matching an already consumed `open_ch`, skipping quotes."""
    depth, n = 0, len(src)
    while i < n:
        c = src[i]
        if c == "\\":
            i += 2
            continue
        if c == "'":
            j = src.find("'", i + 1)
            if j < 0:
                raise _syntax("unterminated quoted string")
            i = j + 1
            continue
        if c == '"':
            i += 1
            while i < n and src[i] != '"':
                i += 2 if src[i] == "\\" else 1
            if i >= n:
                raise _syntax("unterminated quoted string")
            i += 1
            continue
        if c == open_ch:
            depth += 1
        elif c == close_ch:
            if depth == 0:
                return i
            depth -= 1
        i += 1
    raise _syntax("unexpected end of file" if close_ch == ")" else "missing '}'")


def _read_dollar(src: str, i: int, parts: list, quoted: bool) -> int:
    """Parse an expansion starting at src[i] == '$'; append a part; return the new index."""
    n = len(src)
    nxt = src[i + 1:i + 2]
    if src.startswith("$((", i):
        depth, j = 0, i + 3
        while j < n:
            if src[j] == "(":
                depth += 1
            elif src[j] == ")":
                if depth == 0 and src[j + 1:j + 2] == ")":
                    parts.append(("a", src[i + 3:j], quoted))
                    return j + 2
                depth -= 1
            j += 1
        raise _syntax("unexpected end of file")
    if nxt == "(":
        j = _match_close(src, i + 2, "(", ")")
        try:
            parts.append(("c", _substitution(src[i + 2:j]), quoted))
        except ShellError as e:            # ash parses up to the ")" and stumbles on it
            e.message = e.message.replace("unexpected end of file", 'unexpected ")"')
            e.args = (e.message,)
            raise
        return j + 1
    if nxt == "{":
        j = _match_close(src, i + 2, "{", "}")
        inner = src[i + 2:j]
        if inner.startswith("#") and len(inner) > 1 and (_NAME_RE.fullmatch(inner[1:]) or
                                                         inner[1:] in "?#@*$!-0123456789"):
            parts.append(("v", inner[1:], quoted, "len", None))
            return j + 1
        m = _NAME_RE.match(inner)
        if m:
            name = m.group(0)
        elif inner[:1] and inner[0] in "?#@*$!-0123456789":
            name = inner[0]
        else:
            raise ShellError("syntax error: bad substitution")
        rest = inner[len(name):]
        if not rest:
            parts.append(("v", name, quoted, None, None))
            return j + 1
        for op in _PARAM_OPS:
            if rest.startswith(op):
                arg, _ = _read_word_text(rest[len(op):], quoted)
                parts.append(("v", name, quoted, op, arg))
                return j + 1
        raise ShellError("syntax error: bad substitution")
    m = _NAME_RE.match(src, i + 1)
    if m:
        parts.append(("v", m.group(0), quoted, None, None))
        return m.end()
    if nxt and nxt in "?#@*$!-0123456789":
        parts.append(("v", nxt, quoted, None, None))
        return i + 2
    _add(parts, "$", quoted)
    return i + 1


def _substitution(src: str):
    """The Program of a $(...) / `...`: a whole script, compiled as its word is read."""
    from .compiler import _compile_script      # the compiler sits above the lexer
    return _compile_script(src)


def _read_backquote(src: str, i: int, parts: list, quoted: bool) -> int:
    j, buf = i + 1, []
    while j < len(src) and src[j] != "`":
        if src[j] == "\\" and src[j + 1:j + 2] in ("`", "\\", "$"):
            buf.append(src[j + 1])
            j += 2
            continue
        buf.append(src[j])
        j += 1
    if j >= len(src):
        raise _syntax("unterminated quoted string")
    parts.append(("c", _substitution("".join(buf)), quoted))
    return j + 1


def _read_dquote(src: str, i: int, parts: list) -> int:
    """src[i] is just after an opening double quote; return the index after the closing one."""
    n = len(src)
    before = len(parts)
    while i < n:
        c = src[i]
        if c == '"':
            if len(parts) == before:
                parts.append(("s", "", True))     # "" is an empty field, not nothing
            return i + 1
        if c == "\\" and i + 1 < n:
            if src[i + 1] == "\n":
                i += 2
            elif src[i + 1] in '$`"\\':
                _add(parts, src[i + 1], True)
                i += 2
            else:
                _add(parts, "\\", True)
                i += 1
            continue
        if c == "$":
            i = _read_dollar(src, i, parts, True)
            continue
        if c == "`":
            i = _read_backquote(src, i, parts, True)
            continue
        _add(parts, c, True)
        i += 1
    raise _syntax("unterminated quoted string")


def _read_word(src: str, i: int, stop: str = _META) -> tuple[list, int]:
    parts: list = []
    n = len(src)
    start = i
    while i < n and src[i] not in stop:
        c = src[i]
        if c == "\\":
            if i + 1 >= n:
                i += 1
                continue
            if src[i + 1] == "\n":
                i += 2
                continue
            _add(parts, src[i + 1], True)
            i += 2
        elif c == "'":
            j = src.find("'", i + 1)
            if j < 0:
                raise _syntax("unterminated quoted string")
            _add(parts, src[i + 1:j], True)
            i = j + 1
        elif c == '"':
            i = _read_dquote(src, i + 1, parts)
        elif c == "$":
            i = _read_dollar(src, i, parts, False)
        elif c == "`":
            i = _read_backquote(src, i, parts, False)
        elif c == "~" and i == start and (i + 1 >= n or src[i + 1] in "/" + stop):
            parts.append(("v", "HOME", True, None, None))
            i += 1
        else:
            _add(parts, c, False)
            i += 1
    return parts, i


def _read_word_text(text: str, quoted: bool) -> tuple[list, int]:
    """Parts of a whole text (the word inside ${x:-word}); quoted inside double quotes."""
    if quoted:
        parts: list = []
        i = 0
        while i < len(text):
            if text[i] == "$":
                i = _read_dollar(text, i, parts, True)
            elif text[i] == "\\" and text[i + 1:i + 2] in ('$', '`', '"', '\\', '}'):
                _add(parts, text[i + 1], True)
                i += 2
            else:
                _add(parts, text[i], True)
                i += 1
        return parts, i
    return _read_word(text, 0, stop="")


def _lex(src: str) -> list[_Tok]:
    toks: list[_Tok] = []
    i, n = 0, len(src)
    seen, line = 0, 1

    def add(kind, val=None):
        toks.append(_Tok(kind, val, line))

    while True:
        while i < n and src[i] in " \t":
            i += 1
        line += src.count("\n", seen, i)
        seen = i
        if src.startswith("\\\n", i):
            i += 2
            continue
        if i >= n:
            add("eof")
            return toks
        c = src[i]
        if c == "#":
            while i < n and src[i] != "\n":
                i += 1
            continue
        if c == "\n":
            add("nl")
            i += 1
            continue
        if src.startswith("&&", i) or src.startswith("||", i) or src.startswith(";;", i):
            add("op", src[i:i + 2])
            i += 2
            continue
        m = _REDIR_RE.match(src, i)
        if m:
            if m.group(2) is None:                        # &> and &>>
                add("redir", (None, m.group(0)))
            else:
                if m.group(2).startswith("<<"):
                    raise ShellError("here-documents (<<) are not supported in kubelab's shell")
                add("redir", (int(m.group(1)) if m.group(1) else None, m.group(2)))
            i = m.end()
            continue
        if c in ";&|()":
            add("op", c)
            i += 1
            continue
        parts, i = _read_word(src, i)
        add("word", parts)
