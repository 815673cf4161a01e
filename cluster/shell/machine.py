"""The VM: runs a compiled Program a bit at a time against a simulated clock.

Time: `now` is simulated POSIX seconds (so `date` prints the cluster clock). A program keeps its
own virtual clock: `sleep 5` moves it 5 s on; `run` executes while that clock is <= now, so a
late call prints exactly what a real run would have printed by then, each line stamped with the
simulated time it was written. Instructions take no time, except that 10,000 instructions without
a sleep count as a busy second (an infinite loop never hangs the simulator).

Sleeps inside $(...), pipelines, compound blocks and nested `sh -c` move the clock without
yielding: their output is written at once, stamped with the times it would have appeared.

Commands are found by name in BUILTINS (ash's own) and APPLETS (programs an image may have in
$PATH); .builtins and .commands fill them in.
"""

from __future__ import annotations

import copy
import fnmatch
import math
import posixpath
import re
from typing import Callable

from .arith import _arith, _arith_parts
from .compiler import Program, _compile_script
from .fs import APPLET_MARK, ENOENT, FileSystem, FsError, norm
from .host import (Host, Outcome, _Call, _Capture, _Clock, _Exit, _Fatal, _FileSink, _Input,
                   _Null, _Stream)
from .lexer import ShellError
from .parser import _Block, _Simple

STEP_BUDGET = 10_000          # instructions per run() call; also "one busy second" of CPU
SYNC_BUDGET = 100_000         # nested runs ($(...), sh -c inside a script) before "hung"
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

BUILTINS: dict[str, Callable[[_Call], int]] = {}     # filled in by .builtins
APPLETS: dict[str, Callable[[_Call], int]] = {}      # filled in by .commands


def run_program(program: Program, state: dict | None, fs: FileSystem, now: float,
                env: dict | None = None, io: Host | None = None) -> Outcome:
    """`Program.run`: execute from `state` (None: start) until the program waits, exits or uses
    its budget. A script file (`sh FILE`) is read and compiled when the program starts."""
    io = io or Host()
    prog = program
    if state is None:
        err = _start_error(program, fs, env)
        if err:
            return Outcome(exit_code=128, finished_at=now, error=err)
    if program.script_file is not None:
        src = state.get("script") if state else None
        if src is None:
            m = _Machine(program, fs, env, io, _Clock(now), None)
            path = norm(program.script_file, "/")
            try:
                src = fs.read(path)
            except FsError as e:
                m.stderr.write(f"{program.arg0}: can't open '{program.script_file}': {e}\n")
                return Outcome(exit_code=2, finished_at=now)
            try:
                prog = _compile_script(src, arg0=program.arg0, args=program.args, opts=program.opts,
                                       from_file=True)
            except ShellError as e:
                m.stderr.write(f"{program.arg0}: line {e.line}: {e.message}\n")
                m.stderr.flush()
                return Outcome(exit_code=2, finished_at=now)
        else:
            prog = _compile_script(src, arg0=program.arg0, args=program.args, opts=program.opts,
                                   from_file=True)
    else:
        src = None
    if state is not None and state.get("forever"):
        return Outcome(state=state, waiting_until=math.inf)
    start = now if state is None else state["wake_at"]
    machine = _Machine(prog, fs, env, io, _Clock(start), state)
    machine.script_src = src
    return machine.resume(now)


def _start_error(prog: Program, fs: FileSystem, env: dict | None) -> str | None:
    """runc's message when the entrypoint does not exist in the image."""
    entry = prog.entry
    path_var = (env or {}).get("PATH", DEFAULT_PATH)
    if "/" in entry:
        if fs.is_file(norm(entry)):
            return None
        why = f"stat {entry}: no such file or directory"
    else:
        if any(fs.is_file(norm(d + "/" + entry)) for d in path_var.split(":") if d):
            return None
        why = "executable file not found in $PATH"
    return (f'failed to create containerd task: failed to create shim task: OCI runtime create '
            f'failed: runc create failed: unable to start container process: exec: "{entry}": '
            f'{why}: unknown')


class _Machine:
    def __init__(self, prog: Program, fs: FileSystem, env: dict | None, io: Host, clock: _Clock,
                 state: dict | None, parent: "_Machine | None" = None):
        st = copy.deepcopy(state) if state else {}
        self.prog, self.code, self.fs, self.io, self.clock = prog, prog.code, fs, io, clock
        self.env = dict(env or {})
        self.pc = st.get("pc", 0)
        self.status = st.get("status", 0)
        self.vars: dict = st.get("vars", {})
        self.exports: set = set(st.get("exports", []))
        self.cwd = st.get("cwd", "/")
        self.regs: dict = st.get("loops", {})
        self.subs: list = st.get("subshells", [])
        self.opts: str = st.get("opts", prog.opts)
        self.args: list = st.get("args", prog.args)
        self.pending_exit = st.get("exit")
        self.subst_status = None
        self.script_src = None
        self.line = 1
        self.stdin = None
        if parent is not None:
            self.stdout, self.stderr = parent.stdout, parent.stderr
        else:
            self.stdout = _Stream(io.stdout, clock, st.get("partial_out", ""))
            self.stderr = _Stream(io.stderr, clock, st.get("partial_err", ""))

    # state --------------------------------------------------------------------------------
    def save(self) -> dict:
        t = self.clock.t
        st = {"pc": self.pc, "status": self.status, "wake_at": None if t == math.inf else t,
              "vars": copy.deepcopy(self.vars), "cwd": self.cwd}
        if t == math.inf:
            st["forever"] = True
        if self.exports:
            st["exports"] = sorted(self.exports)
        if self.regs:
            st["loops"] = copy.deepcopy(self.regs)
        if self.subs:
            st["subshells"] = copy.deepcopy(self.subs)
        if self.opts != self.prog.opts:
            st["opts"] = self.opts
        if self.args != self.prog.args:
            st["args"] = list(self.args)
        if self.pending_exit is not None:
            st["exit"] = self.pending_exit
        if self.stdout.partial:
            st["partial_out"] = self.stdout.partial
        if self.stderr.partial:
            st["partial_err"] = self.stderr.partial
        if self.script_src is not None:
            st["script"] = self.script_src
        return st

    # the loop -----------------------------------------------------------------------------
    def resume(self, now: float) -> Outcome:
        t0 = self.clock.t
        steps = 0
        while True:
            if self.clock.t > now:
                return Outcome(state=self.save(), waiting_until=self.clock.t)
            if self.pending_exit is not None:
                self.stdout.flush()
                self.stderr.flush()
                return Outcome(exit_code=self.pending_exit & 255, finished_at=self.clock.t)
            if self.pc >= len(self.code):
                self.pending_exit = self.status
                continue
            if steps >= STEP_BUDGET:
                if self.clock.t == t0:            # busy: no time passed in this whole call
                    self.clock.t = max(t0, now) + 1.0
                return Outcome(state=self.save(), waiting_until=self.clock.t)
            steps += 1
            self.step_guarded()

    def step_guarded(self):
        try:
            self.step()
        except _Exit as e:
            self.leave(e.code)
        except _Fatal as e:
            self.stderr.write(self.shmsg(str(e)))
            self.leave(2)

    def leave(self, code: int):
        if self.subs:
            self.status = code & 255
            self.pc = self.subs[-1]["pc"]
        else:
            self.pending_exit = code

    def run_sync(self) -> int:
        """Run to completion without yielding (nested shells, command substitution)."""
        steps = 0
        while self.pending_exit is None and self.pc < len(self.code):
            if steps >= SYNC_BUDGET or self.clock.t == math.inf:
                self.clock.t = math.inf           # never finishes: whoever waits, waits forever
                return 1
            steps += 1
            self.step_guarded()
        return (self.pending_exit if self.pending_exit is not None else self.status) & 255

    def step(self):
        ins = self.code[self.pc]
        self.pc += 1
        op = ins[0]
        if op == "RUN":
            self.status = self.run_pipeline(ins[1])
            if self.status and not ins[2] and "e" in self.opts:
                raise _Exit(self.status)
        elif op == "JNZ":
            if self.status:
                self.pc = ins[1]
        elif op == "JZ":
            if not self.status:
                self.pc = ins[1]
        elif op == "JMP":
            self.pc = ins[1]
        elif op == "WAIT":
            args = self.expand_words(ins[1])
            self.trace(["sleep"] + args)
            if self.lookup("sleep")[0] is None:
                self.status = self.dispatch(["sleep"] + args, None, self.stdout, self.stderr, {})
                return
            sleep = APPLETS["sleep"]
            self.status = sleep(_Call(self, ["sleep"] + args, None, self.stdout, self.stderr,
                                      {}, "sleep"))
            if self.status and not ins[2] and "e" in self.opts:
                raise _Exit(self.status)
        elif op == "EXIT":
            self.line = ins[2]
            args = self.expand_words(ins[1])
            self.trace(["exit"] + args)
            raise _Exit(self.exit_code_arg(args))
        elif op == "EXITST":
            raise _Exit(self.status)
        elif op == "NOT":
            self.status = 0 if self.status else 1
        elif op == "STATUS":
            self.status = ins[1]
        elif op == "SAVE":
            self.regs[ins[1]] = self.status
        elif op == "LOAD":
            self.status = self.regs.pop(ins[1], 0)
        elif op == "CLEAR":
            self.regs.pop(ins[1], None)
        elif op == "FOR":
            words = ins[2]
            self.regs[ins[1]] = self.expand_words(words) if words is not None else list(self.args)
            self.status = 0
        elif op == "NEXT":
            items = self.regs.get(ins[1])
            if not items:
                self.regs.pop(ins[1], None)
                self.pc = ins[3]
            else:
                self.vars[ins[2]] = items.pop(0)
        elif op == "SUB":
            self.subs.append({"pc": ins[1], "vars": copy.deepcopy(self.vars), "cwd": self.cwd,
                              "exports": sorted(self.exports), "opts": self.opts})
        elif op == "ENDSUB":
            saved = self.subs.pop()
            self.vars, self.cwd = saved["vars"], saved["cwd"]
            self.exports, self.opts = set(saved["exports"]), saved["opts"]
        else:                                       # pragma: no cover
            raise AssertionError(op)

    def exit_code_arg(self, args: list[str]) -> int:
        if not args:
            return self.status
        if not re.fullmatch(r"\d+", args[0]):
            self.stderr.write(self.shmsg(f"Illegal number: {args[0]}", "exit"))
            return 2
        return int(args[0]) & 255

    def shmsg(self, text: str, builtin: str | None = None) -> str:
        """An error line as ash prints it: `sh: cd: line 0: ...` (-c lines count from 0)."""
        arg0 = self.prog.arg0
        name = builtin or (arg0 if self.prog.from_file else None)
        prefix = f"{arg0}: "
        if name:
            if name != arg0:
                prefix += f"{name}: "
            prefix += f"line {self.line - (0 if self.prog.from_file else 1)}: "
        return prefix + text + "\n"

    def trace(self, argv: list[str]):
        if "x" in self.opts:
            self.stderr.write("+ " + " ".join(_quote(a) for a in argv) + "\n")

    # variables ----------------------------------------------------------------------------
    def defaults(self) -> dict:
        return {"PATH": DEFAULT_PATH, "HOME": "/root",
                "HOSTNAME": getattr(self.io, "hostname", "localhost")}

    def getvar(self, name: str) -> str | None:
        if len(name) == 1 and not (name.isalpha() or name == "_"):
            if name == "?":
                return str(self.status)
            if name == "$":
                return str(getattr(self.io, "pid", 1))
            if name == "#":
                return str(len(self.args))
            if name == "0":
                return self.prog.arg0
            if name.isdigit():
                k = int(name)
                return self.args[k - 1] if k <= len(self.args) else None
            if name in "@*":
                return " ".join(self.args)
            if name == "-":
                return self.opts
            return ""
        if name in self.vars:
            return self.vars[name]
        if name == "PWD":
            return self.cwd
        if name in self.env:
            return self.env[name]
        return self.defaults().get(name)

    def environment(self, extra: dict | None = None) -> dict:
        out = dict(self.defaults())
        out.update(self.env)
        out["PWD"] = self.cwd
        for name, value in self.vars.items():
            if name in out or name in self.exports:
                if value is None:
                    out.pop(name, None)
                else:
                    out[name] = value
        out.update(extra or {})
        return out

    # expansion ----------------------------------------------------------------------------
    def expand_part(self, part) -> str:
        kind = part[0]
        if kind == "v":
            _, name, _, op, arg = part
            val = self.getvar(name)
            if op is None:
                if val is None and "u" in self.opts and name not in ("@", "*"):
                    raise _Fatal(f"{name}: parameter not set")
                return val or ""
            if op == "len":
                return str(len(val or ""))
            o = op.lstrip(":")
            empty = val is None or (op.startswith(":") and val == "")
            if o == "-":
                return self.expand_str(arg) if empty else val
            if o == "=":
                if empty:
                    val = self.expand_str(arg)
                    self.vars[name] = val
                return val
            if o == "+":
                return "" if empty else self.expand_str(arg)
            if o == "?":
                if empty:
                    default = "parameter not set" + (" or null" if op == ":?" else "")
                    raise _Fatal(f"{name}: {self.expand_str(arg) or default}")
                return val
            return _trim(val or "", o, self.expand_str(arg))
        if kind == "c":
            return self.substitute(part[1])
        if kind == "a":
            return str(_arith(self.expand_str(_arith_parts(part[1])), self))
        return part[1]

    def expand_str(self, parts) -> str:
        return "".join(p[1] if p[0] == "s" else self.expand_part(p) for p in parts)

    def expand_words(self, words) -> list[str]:
        out: list[str] = []
        for w in words:
            out.extend(self.expand_fields(w))
        return out

    def expand_fields(self, parts) -> list[str]:
        fields: list = []
        cur: list = []                 # [text, pattern, quoted_seen, magic]

        def ensure():
            if not cur:
                cur.append(["", "", False, False])
            return cur[0]

        def emit():
            if cur:
                fields.append(cur.pop())

        for p in parts:
            quoted = p[2]
            if p[0] == "v" and p[1] == "@" and quoted and p[3] is None:
                for k, a in enumerate(self.args):
                    if k:
                        emit()
                    f = ensure()
                    f[0] += a
                    f[1] += _glob_escape(a)
                    f[2] = True
                continue
            text = p[1] if p[0] == "s" else self.expand_part(p)
            if quoted:
                f = ensure()
                f[0] += text
                f[1] += _glob_escape(text)
                f[2] = True
            elif p[0] == "s":
                f = ensure()
                f[0] += text
                f[1] += text
                f[3] = f[3] or _has_magic(text)
            else:
                if not text:
                    continue
                if text[0] in " \t\n":
                    emit()
                for k, piece in enumerate(text.split()):
                    if k:
                        emit()
                    f = ensure()
                    f[0] += piece
                    f[1] += piece
                    f[3] = f[3] or _has_magic(piece)
                if text[-1] in " \t\n":
                    emit()
        emit()
        out = []
        for text, pattern, quoted_seen, magic in fields:
            if not text and not quoted_seen:
                continue
            if magic and _has_magic(pattern):
                matches = self.glob(pattern)
                if matches:
                    out.extend(matches)
                    continue
            out.append(text)
        return out

    def glob(self, pattern: str) -> list[str]:
        absolute = pattern.startswith("/")
        pieces = [p for p in pattern.split("/") if p]
        found = ["/" if absolute else ""]
        for piece in pieces:
            nxt = []
            for base in found:
                real = norm(base or ".", self.cwd)
                if _has_magic(piece):
                    try:
                        names = self.fs.listdir(real)
                    except FsError:
                        continue
                    if piece.startswith("."):
                        names = [".", ".."] + names
                    for name in names:
                        if name.startswith(".") and not piece.startswith("."):
                            continue
                        if fnmatch.fnmatchcase(name, piece):
                            nxt.append(_join(base, name))
                else:
                    lit = _unescape_glob(piece)
                    cand = _join(base, lit)
                    if self.fs.exists(norm(cand, self.cwd)) or lit in (".", ".."):
                        nxt.append(cand)
            found = nxt
        return sorted(found)

    def substitute(self, prog: Program) -> str:
        sub = _Machine(prog, self.fs, self.env, self.io, self.clock, None, parent=self)
        sub.vars = copy.deepcopy(self.vars)
        sub.exports, sub.cwd, sub.opts, sub.args = set(self.exports), self.cwd, self.opts, self.args
        cap = _Capture()
        sub.stdout = cap
        self.subst_status = sub.run_sync()
        return cap.text.rstrip("\n")

    # commands -----------------------------------------------------------------------------
    def run_pipeline(self, stages: list[_Simple]) -> int:
        self.subst_status = None
        if len(stages) == 1:
            return self.run_simple(stages[0], None, self.stdout, self.stderr)
        saved = (copy.deepcopy(self.vars), self.cwd, set(self.exports))
        data, status = _Input(""), 0
        for k, stage in enumerate(stages):
            last = k == len(stages) - 1
            out = self.stdout if last else _Capture()
            try:
                status = self.run_simple(stage, data, out, self.stderr)
            except _Exit as e:
                status = e.code & 255
            data = None if last else _Input(out.text)
        self.vars, self.cwd, self.exports = saved
        return status

    def run_block(self, block: _Block, stdin, out, err) -> int:
        """A compound command with its own stdin/stdout: run to completion, sharing variables."""
        fds = {0: stdin if stdin is not None else self.stdin, 1: out, 2: err}
        for fd, op, target in block.redirs:
            if not self.redirect(fds, fd, op, self.expand_str(target)):
                return 1
        prog = Program(block.prog.code, arg0=self.prog.arg0, args=self.args, opts=self.opts)
        prog.from_file = self.prog.from_file
        sub = _Machine(prog, self.fs, self.env, self.io, self.clock, None, parent=self)
        sub.vars, sub.exports, sub.cwd, sub.regs = self.vars, self.exports, self.cwd, {}
        sub.stdout, sub.stderr, sub.stdin = fds[1], fds[2], fds[0]
        status = sub.run_sync()
        self.cwd, self.opts, self.args = sub.cwd, sub.opts, sub.args
        if sub.pending_exit is not None:
            raise _Exit(sub.pending_exit)
        return status

    def run_simple(self, cmd, stdin, out, err) -> int:
        if isinstance(cmd, _Block):
            return self.run_block(cmd, stdin, out, err)
        if stdin is None:
            stdin = self.stdin
        self.line = cmd.line
        argv = self.expand_words(cmd.words)
        assigns = [(name, self.expand_str(value)) for name, value in cmd.assigns]
        fds = {0: stdin, 1: out, 2: err}
        for fd, op, target in cmd.redirs:
            if not self.redirect(fds, fd, op, self.expand_str(target)):
                return 1
        if not argv:
            for name, value in assigns:
                self.vars[name] = value
            if assigns:
                self.trace([f"{n}={v}" for n, v in assigns])
            return self.subst_status or 0
        self.trace([f"{n}={v}" for n, v in assigns] + argv)
        return self.dispatch(argv, fds[0], fds[1], fds[2], dict(assigns))

    def redirect(self, fds: dict, fd, op: str, target: str) -> bool:
        if op in ("&>", "&>>"):
            ok = self.redirect(fds, 1, ">>" if op == "&>>" else ">", target)
            fds[2] = fds[1]
            return ok
        if op in (">&", "<&"):
            fd = (1 if op == ">&" else 0) if fd is None else fd
            if target == "-":
                fds[fd] = _Null() if fd else _Input("")
                return True
            if target.isdigit() and int(target) in fds:
                fds[fd] = fds[int(target)]
                return True
            if op == ">&" and not target.isdigit():
                return self.redirect(fds, fd, ">", target)
            self.stderr.write(self.shmsg(f"{target}: bad file descriptor"))
            return False
        if op in ("<", "<>"):
            fd = 0 if fd is None else fd
            if target in ("/dev/null", "/dev/zero"):
                fds[fd] = _Input("")
                return True
            try:
                text = self.fs.read(norm(target, self.cwd))
            except FsError as e:
                why = "no such file" if str(e) == ENOENT else str(e)
                self.stderr.write(self.shmsg(f"can't open {target}: {why}"))
                return False
            if fd == 0:
                fds[0] = _Input(text)
            return True
        fd = 1 if fd is None else fd                    # > >> >|
        if target == "/dev/null":
            fds[fd] = _Null()
            return True
        if target in ("/dev/stdout", "/dev/fd/1", "/proc/self/fd/1"):
            fds[fd] = fds[1]
            return True
        if target in ("/dev/stderr", "/dev/fd/2", "/proc/self/fd/2"):
            fds[fd] = fds[2]
            return True
        path = norm(target, self.cwd)
        try:
            if op == ">>":
                self.fs.write(path, "", append=True, t=self.clock.t)
            else:
                self.fs.write(path, "", t=self.clock.t)
        except FsError as e:
            why = "nonexistent directory" if str(e) == ENOENT else str(e)
            self.stderr.write(self.shmsg(f"can't create {target}: {why}"))
            return False
        fds[fd] = _FileSink(self, path)
        return True

    def lookup(self, name: str):
        """(kind, value): ("applet", fn) / ("script", path) / ("noexec", path) / (None, None)."""
        if "/" in name:
            candidates = [norm(name, self.cwd)]
        else:
            path_var = self.getvar("PATH") or ""
            candidates = [norm(d + "/" + name) for d in path_var.split(":") if d]
        for path in candidates:
            entry = self.fs.stat(path)
            if entry is None or entry[0] == "d":
                continue
            text = entry[2]
            if text.startswith(APPLET_MARK):
                applet = text[len(APPLET_MARK):].strip()
                fn = APPLETS.get(applet)
                return ("applet", fn) if fn else ("unsimulated", applet)
            if text.startswith("#!"):
                return "script", path
            return "noexec", path
        return None, None

    def dispatch(self, argv: list[str], stdin, out, err, tmpenv: dict) -> int:
        name = argv[0]
        if not self.prog.direct and name in BUILTINS:
            return BUILTINS[name](_Call(self, argv, stdin, out, err, tmpenv, "sh"))
        kind, value = self.lookup(name)
        if kind == "applet":
            return value(_Call(self, argv, stdin, out, err, tmpenv, posixpath.basename(name)))
        if kind == "script":
            sh = APPLETS["sh"]
            return sh(_Call(self, ["sh", value] + argv[1:], stdin, out, err, tmpenv, "sh"))
        if kind == "unsimulated":
            err.write(self.shmsg(f"{name}: this program is not simulated by kubelab"))
            return 127
        if kind == "noexec":
            err.write(self.shmsg(f"{name}: Permission denied"))
            return 126
        err.write(self.shmsg(f"{name}: not found"))
        return 127


def _quote(s: str) -> str:
    if s and re.fullmatch(r"[A-Za-z0-9_./:=@%+,-]+", s):
        return s
    return "'" + s.replace("'", "'\"'\"'") + "'"


def _has_magic(s: str) -> bool:
    return "*" in s or "?" in s or bool(re.search(r"\[[^\]]+\]", s))


def _glob_escape(s: str) -> str:
    return re.sub(r"([*?\[])", r"[\1]", s)


def _unescape_glob(s: str) -> str:
    return re.sub(r"\[([*?\[])\]", r"\1", s)


def _join(base: str, name: str) -> str:
    if not base:
        return name
    return base.rstrip("/") + "/" + name


def _trim(val: str, op: str, pattern: str) -> str:
    rng = range(len(val) + 1)
    if op in ("#", "##"):
        order = reversed(rng) if op == "##" else rng
        for k in order:
            if fnmatch.fnmatchcase(val[:k], pattern):
                return val[k:]
    else:
        order = rng if op == "%%" else reversed(rng)
        for k in order:
            if fnmatch.fnmatchcase(val[k:], pattern):
                return val[:k]
    return val
