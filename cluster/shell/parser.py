"""Parser: tokens -> AST (and-or lists of pipelines of simple and compound commands)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .lexer import _ASSIGN_RE, _NAME_RE, ShellError, _syntax, _Tok

if TYPE_CHECKING:
    from .compiler import Program


@dataclass
class _Simple:
    assigns: list          # [(name, parts)]
    words: list            # [parts]
    redirs: list           # [(fd, op, parts)]
    line: int = 1


@dataclass
class _Block:
    """A compound command run as one stage: in a pipeline, or with redirections."""
    node: tuple
    redirs: list
    line: int = 1
    prog: "Program | None" = None


_TERMINATORS = {"then", "do", "done", "fi", "else", "elif", "}", "esac"}


def _keyword(tok: _Tok) -> str | None:
    if tok.kind == "word" and len(tok.val) == 1 and tok.val[0][0] == "s" and not tok.val[0][2]:
        return tok.val[0][1]
    return None


def _literal(parts: list) -> str | None:
    """The text of a word made only of literal parts, else None."""
    if all(p[0] == "s" for p in parts):
        return "".join(p[1] for p in parts)
    return None


class _Parser:
    def __init__(self, toks: list[_Tok]):
        self.toks = toks
        self.i = 0

    def peek(self) -> _Tok:
        return self.toks[self.i]

    def advance(self) -> _Tok:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def unexpected(self, expecting: str | None = None):
        tok = self.peek()
        name = {"eof": "end of file", "nl": "newline", "redir": "redirection"}.get(tok.kind)
        if name is None:
            kw = _keyword(tok)
            if tok.kind == "op":
                name = f'"{tok.val}"'
            elif kw in _TERMINATORS | {"if", "while", "until", "for", "case", "{", "!", "in"}:
                name = f'"{kw}"'
            else:
                name = "word"
        msg = f"unexpected {name}"
        if expecting:
            msg += f' (expecting "{expecting}")'
        err = _syntax(msg)
        err.line = tok.line
        return err

    def skip_nl(self):
        while self.peek().kind == "nl":
            self.i += 1

    def starts_command(self) -> bool:
        tok = self.peek()
        if tok.kind == "word":
            return _keyword(tok) not in _TERMINATORS
        return tok.kind == "redir" or (tok.kind == "op" and tok.val == "(")

    def expect(self, kw: str):
        if _keyword(self.peek()) != kw:
            raise self.unexpected(kw)
        self.i += 1

    def program(self) -> list:
        items = self.list(required=False)
        if self.peek().kind != "eof":
            raise self.unexpected()
        return items

    def list(self, required: bool) -> list:
        self.skip_nl()
        items = []
        while self.starts_command():
            items.append(self.and_or())
            tok = self.peek()
            if tok.kind == "nl" or (tok.kind == "op" and tok.val == ";"):
                self.i += 1
                self.skip_nl()
                continue
            if tok.kind == "op" and tok.val == "&":
                raise ShellError("background jobs (&) are not supported in kubelab's shell")
            break
        if required and not items:
            raise self.unexpected()
        return items

    def and_or(self):
        first = self.pipeline()
        rest = []
        while self.peek().kind == "op" and self.peek().val in ("&&", "||"):
            op = self.advance().val
            self.skip_nl()
            rest.append((op, self.pipeline()))
        return ("andor", first, rest)

    def pipeline(self):
        neg = False
        if _keyword(self.peek()) == "!":
            self.i += 1
            neg = True
        cmds = [self.command()]
        while self.peek().kind == "op" and self.peek().val == "|":
            self.i += 1
            self.skip_nl()
            cmds.append(self.command())
        if len(cmds) > 1:
            cmds = [c if not isinstance(c, tuple) else _Block(c, [], 1) for c in cmds]
        return ("pipe", neg, cmds)

    def command(self):
        tok = self.peek()
        kw = _keyword(tok)
        if kw in ("if", "while", "until", "for", "{") or (tok.kind == "op" and tok.val == "("):
            node = self.compound(kw)
            redirs = []
            while self.peek().kind == "redir":
                fd, op = self.advance().val
                if self.peek().kind != "word":
                    raise self.unexpected()
                redirs.append((fd, op, self.advance().val))
            return _Block(node, redirs, tok.line) if redirs else node
        if kw == "case":
            raise ShellError("case is not supported in kubelab's shell")
        if tok.kind == "word" and kw not in _TERMINATORS and kw != "!" or tok.kind == "redir":
            return self.simple()
        raise self.unexpected()

    def simple(self) -> _Simple:
        cmd = _Simple([], [], [], self.peek().line)
        while True:
            tok = self.peek()
            if tok.kind == "redir":
                self.i += 1
                target = self.peek()
                if target.kind != "word":
                    raise self.unexpected()
                self.i += 1
                cmd.redirs.append((tok.val[0], tok.val[1], target.val))
            elif tok.kind == "word":
                self.i += 1
                first = tok.val[0] if tok.val else None
                m = (first and first[0] == "s" and not first[2]
                     and _ASSIGN_RE.match(first[1]))
                if not cmd.words and m:
                    rest = first[1][m.end():]
                    value = ([("s", rest, False)] if rest else []) + tok.val[1:]
                    cmd.assigns.append((m.group(1), value))
                else:
                    cmd.words.append(tok.val)
            else:
                break
        if (len(cmd.words) == 1 and self.peek().kind == "op" and self.peek().val == "("):
            raise ShellError("functions are not supported in kubelab's shell")
        return cmd

    def compound(self, kw):
        if kw == "if":
            self.i += 1
            branches = []
            cond = self.list(True)
            self.expect("then")
            branches.append((cond, self.list(True)))
            other = None
            while True:
                k = _keyword(self.peek())
                if k == "elif":
                    self.i += 1
                    cond = self.list(True)
                    self.expect("then")
                    branches.append((cond, self.list(True)))
                elif k == "else":
                    self.i += 1
                    other = self.list(True)
                    self.expect("fi")
                    break
                else:
                    self.expect("fi")
                    break
            return ("if", branches, other)
        if kw in ("while", "until"):
            self.i += 1
            cond = self.list(True)
            self.expect("do")
            body = self.list(True)
            self.expect("done")
            return (kw, cond, body)
        if kw == "for":
            self.i += 1
            tok = self.peek()
            name = _keyword(tok)
            if tok.kind != "word" or not name or not _NAME_RE.fullmatch(name):
                raise _syntax("bad for loop variable")
            self.i += 1
            self.skip_nl()
            words = None
            if _keyword(self.peek()) == "in":
                self.i += 1
                words = []
                while self.peek().kind == "word":
                    words.append(self.advance().val)
                tok = self.peek()
                if not (tok.kind == "nl" or (tok.kind == "op" and tok.val == ";")):
                    raise self.unexpected()
                self.i += 1
            elif self.peek().kind == "op" and self.peek().val == ";":
                self.i += 1
            self.skip_nl()
            self.expect("do")
            body = self.list(True)
            self.expect("done")
            return ("for", name, words, body)
        if kw == "{":
            self.i += 1
            body = self.list(True)
            self.expect("}")
            return ("group", body)
        self.i += 1                                   # "("
        body = self.list(True)
        tok = self.peek()
        if not (tok.kind == "op" and tok.val == ")"):
            raise self.unexpected(")")
        self.i += 1
        return ("subshell", body)
