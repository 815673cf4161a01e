"""Compiler: AST -> flat instructions, and `Program`, what a container's command compiles to.

Instructions (lists; `Program.listing()` prints them):
    RUN stages checked   run a pipeline: simple commands, or compound commands compiled to their
                         own sub-program (`cmd | while read l; ...`, `done > file`), which run
                         to completion within the instruction (`checked`: exempt from set -e)
    WAIT words           `sleep ARGS` (s m h d suffixes, `infinity`)
    EXIT words           `exit [N]`           EXITST      exit with $? (after `exec CMD`)
    JMP t / JZ t / JNZ t jump always / if $? == 0 / if $? != 0 (&&, ||, if, while, until)
    NOT                  negate $? (`!`)      STATUS n    set $? to n
    SAVE r / LOAD r / CLEAR r                 keep a loop's last body status in register r
    FOR r words / NEXT r name t               `for name in words` (remaining items in register r)
    SUB t / ENDSUB       enter / leave a `( subshell )` (t: its ENDSUB, where `exit` goes)
"""

from __future__ import annotations

import posixpath
from typing import TYPE_CHECKING

from .lexer import ShellError, _lex
from .parser import _Block, _literal, _Parser, _Simple

if TYPE_CHECKING:
    from .fs import FileSystem
    from .host import Host, Outcome

SHELLS = {"sh", "ash", "bash", "dash"}


class _Compiler:
    def __init__(self):
        self.code: list = []
        self.regs = 0
        self.loops: list = []      # [(continue_target, break_fixups, reg)]

    def emit(self, *ins) -> int:
        self.code.append(list(ins))
        return len(self.code) - 1

    def here(self) -> int:
        return len(self.code)

    def patch(self, at: int, target: int | None = None):
        self.code[at][1] = self.here() if target is None else target

    def reg(self) -> str:
        self.regs += 1
        return str(self.regs)

    def c_list(self, items, checked=False):
        for item in items:
            self.c_andor(item, checked)

    def c_andor(self, node, checked):
        _, first, rest = node
        self.c_pipe(first, checked or bool(rest))
        for k, (op, pipe) in enumerate(rest):
            j = self.emit("JNZ" if op == "&&" else "JZ", None)
            self.c_pipe(pipe, checked or k < len(rest) - 1)
            self.patch(j)

    def c_pipe(self, node, checked):
        _, neg, cmds = node
        checked = checked or neg
        for cmd in cmds:
            if isinstance(cmd, _Block) and cmd.prog is None:
                sub = _Compiler()
                sub.c_compound(cmd.node, False)
                cmd.prog = Program(sub.code)
        if len(cmds) == 1 and isinstance(cmds[0], tuple):
            self.c_compound(cmds[0], checked)
        elif len(cmds) == 1 and isinstance(cmds[0], _Simple):
            self.c_simple(cmds[0], checked)
        else:
            self.emit("RUN", cmds, checked)
        if neg:
            self.emit("NOT")

    def c_simple(self, cmd: _Simple, checked):
        name = _literal(cmd.words[0]) if cmd.words else None
        if name and not cmd.assigns and not cmd.redirs:
            if name == "sleep":
                self.emit("WAIT", cmd.words[1:], checked)
                return
            if name == "exit":
                self.emit("EXIT", cmd.words[1:2], cmd.line)
                return
            if name in ("break", "continue") and self.loops:
                levels = _literal(cmd.words[1]) if len(cmd.words) > 1 else "1"
                n = int(levels) if levels and levels.isdigit() and int(levels) > 0 else 1
                idx = len(self.loops) - min(n, len(self.loops))
                loop = self.loops[idx]
                self.emit("STATUS", 0)
                for inner in self.loops[idx if name == "break" else idx + 1:]:
                    self.emit("CLEAR", inner[2])
                if name == "break":
                    loop[1].append(self.emit("JMP", None))
                else:
                    self.emit("JMP", loop[0])
                return
            if name == "exec" and len(cmd.words) > 1:
                inner = _Simple([], cmd.words[1:], [], cmd.line)
                self.c_simple(inner, True)
                self.emit("EXITST")
                return
        self.emit("RUN", [cmd], checked)

    def c_compound(self, node, checked):
        kind = node[0]
        if kind == "group":
            self.c_list(node[1], checked)
        elif kind == "subshell":
            at = self.emit("SUB", None)
            saved, self.loops = self.loops, []
            self.c_list(node[1], checked)
            self.loops = saved
            self.patch(at)
            self.emit("ENDSUB")
        elif kind == "if":
            ends = []
            for cond, body in node[1]:
                self.c_list(cond, True)
                j = self.emit("JNZ", None)
                self.c_list(body, checked)
                ends.append(self.emit("JMP", None))
                self.patch(j)
            if node[2] is not None:
                self.c_list(node[2], checked)
            else:
                self.emit("STATUS", 0)
            for e in ends:
                self.patch(e)
        elif kind in ("while", "until"):
            r = self.reg()
            self.emit("CLEAR", r)
            top = self.here()
            self.c_list(node[1], True)
            j = self.emit("JNZ" if kind == "while" else "JZ", None)
            self.loops.append((top, [], r))
            self.c_list(node[2], checked)
            _, breaks, _ = self.loops.pop()
            self.emit("SAVE", r)
            self.emit("JMP", top)
            self.patch(j)
            self.emit("LOAD", r)
            for b in breaks:
                self.patch(b)
        elif kind == "for":
            _, name, words, body = node
            r = self.reg()
            self.emit("FOR", r, words)
            top = self.emit("NEXT", r, name, None)
            self.loops.append((top, [], r))
            self.c_list(body, checked)
            _, breaks, _ = self.loops.pop()
            self.emit("JMP", top)
            self.code[top][3] = self.here()
            for b in breaks:
                self.patch(b)


_script_cache: dict[str, "Program"] = {}


def _compile_script(src: str, arg0: str = "sh", args: list | None = None,
                    opts: str = "", from_file: bool = False) -> "Program":
    key = src
    plain = args is None and arg0 == "sh" and not opts and not from_file
    if plain and key in _script_cache:
        return _script_cache[key]
    comp = _Compiler()
    comp.c_list(_Parser(_lex(src)).program())
    prog = Program(comp.code, arg0=arg0, args=list(args or []), opts=opts)
    prog.from_file = from_file
    if plain:
        if len(_script_cache) > 2000:
            _script_cache.clear()
        _script_cache[key] = prog
    return prog


def _shell_invocation(argv: list[str]):
    """For `sh [-ex] -c SCRIPT [ARG0 ARGS...]` / `sh FILE`: (opts, script, file, arg0, args)."""
    opts, i, script_mode = "", 1, False
    while i < len(argv) and argv[i].startswith(("-", "+")) and len(argv[i]) > 1:
        a = argv[i]
        i += 1
        if a == "--":
            break
        if a == "-o" or a == "+o":
            i += 1
            continue
        for ch in a[1:]:
            if ch == "c":
                script_mode = True
            elif ch in "eux" and a[0] == "-":
                opts += ch
    if script_mode:
        if i >= len(argv):
            raise ShellError("-c requires an argument")
        script = argv[i]
        rest = argv[i + 1:]
        arg0 = rest[0] if rest else argv[0]
        return opts, script, None, arg0, rest[1:]
    if i < len(argv):
        return opts, None, argv[i], argv[i], argv[i + 1:]
    return opts, "", None, argv[0], []


_compile_cache: dict[tuple, "Program"] = {}


def compile(argv: list[str]) -> "Program":
    """A container's command+args as a Program (cached). Raises ShellError on a syntax error."""
    if not argv:
        raise ShellError("no command given", 2)
    key = tuple(str(a) for a in argv)
    prog = _compile_cache.get(key)
    if prog is None:
        prog = _compile_argv(list(key))
        if len(_compile_cache) > 2000:
            _compile_cache.clear()
        _compile_cache[key] = prog
    return prog


def _compile_argv(argv: list[str]) -> "Program":
    entry = argv[0]
    if posixpath.basename(entry) in SHELLS and len(argv) > 1:
        opts, script, file, arg0, args = _shell_invocation(argv)
        try:
            if script is not None:
                prog = _compile_script(script, arg0=arg0, args=args, opts=opts)
            else:
                prog = Program([], arg0=arg0, args=args, opts=opts, script_file=file)
        except ShellError as e:
            e.message = f"{arg0 if script is None else argv[0]}: {e.message}"
            e.args = (e.message,)
            raise
        prog.entry = entry
        return prog
    words = [[("s", a, True)] for a in argv]
    comp = _Compiler()
    comp.c_simple(_Simple([], words, []), False)
    comp.emit("EXITST")
    prog = Program(comp.code, arg0=entry, args=argv[1:], direct=True)
    prog.entry = entry
    return prog


class Program:
    """A compiled container command. `run` executes it from a saved state (see the package doc)."""

    def __init__(self, code: list, arg0: str = "sh", args: list | None = None, opts: str = "",
                 direct: bool = False, script_file: str | None = None):
        self.code = code
        self.arg0 = arg0
        self.args = list(args or [])
        self.opts = opts
        self.direct = direct
        self.script_file = script_file
        self.entry = arg0
        self.from_file = False          # a script read from a file: messages carry line N

    def listing(self) -> str:
        """The instructions, one a line (for debugging and teaching)."""
        def show(x):
            if isinstance(x, list) and x and isinstance(x[0], (_Simple, _Block)):
                return " | ".join(
                    " ".join([f"{n}={_show_word(v)}" for n, v in c.assigns]
                             + [_show_word(w) for w in c.words]) if isinstance(c, _Simple)
                    else f"{{{c.node[0]}}}" for c in x)
            if isinstance(x, list):
                return "[" + " ".join(_show_word(w) for w in x) + "]"
            return str(x)
        return "\n".join(f"{i:3} {ins[0]} " + " ".join(show(a) for a in ins[1:])
                         for i, ins in enumerate(self.code))

    def run(self, state: dict | None, fs: FileSystem, now: float, env: dict | None = None,
            io: Host | None = None) -> Outcome:
        """Execute from `state` (None: start) until the program waits, exits or uses its budget."""
        from .machine import run_program         # the machine sits above the compiler
        return run_program(self, state, fs, now, env, io)


def _show_word(parts) -> str:
    out = []
    for p in parts:
        if p[0] == "s":
            out.append(repr(p[1]) if p[2] and (not p[1] or " " in p[1]) else p[1])
        elif p[0] == "v":
            out.append("${" + p[1] + (p[3] or "") + "}" if p[3] else "$" + p[1])
        elif p[0] == "a":
            out.append("$((" + p[1] + "))")
        else:
            out.append("$(...)")
    return "".join(out)
