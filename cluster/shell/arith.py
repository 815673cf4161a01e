"""$(( arithmetic )): C-like integer expressions, variables assigned in place."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from .host import _Fatal
from .lexer import _NAME_RE, _read_word_text

if TYPE_CHECKING:
    from .machine import _Machine

_arith_cache: dict[str, list] = {}


def _arith_parts(text: str) -> list:
    """The $var / $(...) parts inside $((text)), parsed once."""
    if text not in _arith_cache:
        if len(_arith_cache) > 2000:
            _arith_cache.clear()
        _arith_cache[text] = _read_word_text(text, True)[0]
    return _arith_cache[text]


_ARITH_TOK = re.compile(r"\s*(0[xX][0-9a-fA-F]+|\d+|[A-Za-z_]\w*|\*\*|<<|>>|<=|>=|==|!=|&&|"
                        r"\|\||[-+*/%]=|[-+*/%()<>!~&|^?:=])")
_BINARY = {"||": 1, "&&": 2, "|": 3, "^": 4, "&": 5, "==": 6, "!=": 6, "<": 7, ">": 7,
           "<=": 7, ">=": 7, "<<": 8, ">>": 8, "+": 9, "-": 9, "*": 10, "/": 10, "%": 10,
           "**": 11}


def _arith(expr: str, m: _Machine) -> int:
    toks, pos = [], 0
    expr = expr.strip()
    while pos < len(expr):
        mt = _ARITH_TOK.match(expr, pos)
        if not mt:
            raise _Fatal("arithmetic syntax error")
        toks.append(mt.group(1))
        pos = mt.end()
        while pos < len(expr) and expr[pos].isspace():
            pos += 1
    if not toks:
        return 0
    k = [0]

    def peek():
        return toks[k[0]] if k[0] < len(toks) else None

    def value(name):
        v = m.getvar(name) or "0"
        try:
            return int(v, 0) if not v.lstrip("-").isdigit() else int(v)
        except ValueError:
            raise _Fatal("arithmetic syntax error")

    def unary():
        t = peek()
        if t is None:
            raise _Fatal("arithmetic syntax error")
        k[0] += 1
        if t in ("-", "+", "!", "~"):
            v = unary()
            return {"-": -v, "+": v, "!": int(not v), "~": ~v}[t]
        if t == "(":
            v = ternary()
            if peek() != ")":
                raise _Fatal("arithmetic syntax error")
            k[0] += 1
            return v
        if t[0].isdigit():
            if t[:2].lower() == "0x":
                return int(t, 16)
            if len(t) > 1 and t[0] == "0":
                try:
                    return int(t, 8)
                except ValueError:
                    raise _Fatal("arithmetic syntax error")
            return int(t)
        if _NAME_RE.fullmatch(t):
            if peek() in ("=", "+=", "-=", "*=", "/=", "%="):
                op = toks[k[0]]
                k[0] += 1
                rhs = ternary()
                new = rhs if op == "=" else _apply(op[0], value(t), rhs)
                m.vars[t] = str(new)
                return new
            return value(t)
        raise _Fatal("arithmetic syntax error")

    def binary(level):
        left = unary()
        while True:
            t = peek()
            prec = _BINARY.get(t)
            if prec is None or prec < level:
                return left
            k[0] += 1
            right = binary(prec + (0 if t == "**" else 1))
            left = _apply(t, left, right)

    def ternary():
        cond = binary(1)
        if peek() == "?":
            k[0] += 1
            a = ternary()
            if peek() != ":":
                raise _Fatal("malformed ?: operator")
            k[0] += 1
            b = ternary()
            return a if cond else b
        return cond

    result = ternary()
    if k[0] != len(toks):
        raise _Fatal("arithmetic syntax error")
    return result


def _apply(op: str, a: int, b: int) -> int:
    if op in ("/", "%") and b == 0:
        raise _Fatal("divide by zero")
    if op == "/":
        q = abs(a) // abs(b)
        return q if (a >= 0) == (b >= 0) else -q
    if op == "%":
        return a - b * _apply("/", a, b)
    if op == "**":
        if b < 0:
            raise _Fatal("exponent less than 0")
        return a ** b
    return {"+": a + b, "-": a - b, "*": a * b, "<<": a << b, ">>": a >> b, "&": a & b,
            "|": a | b, "^": a ^ b, "<": int(a < b), ">": int(a > b), "<=": int(a <= b),
            ">=": int(a >= b), "==": int(a == b), "!=": int(a != b),
            "&&": int(bool(a and b)), "||": int(bool(a or b))}[op]
