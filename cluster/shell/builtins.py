"""The shell's own commands (BUILTINS): ash's builtins, whose errors say "sh: ...".

Each takes a _Call and returns an exit status. Those that are also applets (echo, test, kill,
...) are listed in APPLETS by .commands, which shares the option and escape helpers here.
"""

from __future__ import annotations

import re

from .fs import ENOENT, ENOTDIR, norm
from .host import _Call, _Exit, _Input
from .machine import BUILTINS, _Machine, _quote

SIGNALS = {"HUP": 1, "INT": 2, "QUIT": 3, "ILL": 4, "TRAP": 5, "ABRT": 6, "BUS": 7, "FPE": 8,
           "KILL": 9, "USR1": 10, "SEGV": 11, "USR2": 12, "PIPE": 13, "ALRM": 14, "TERM": 15,
           "CHLD": 17, "CONT": 18, "STOP": 19, "TSTP": 20}


def _opts(c: _Call, allowed: str, with_value: str = "", start: int = 1):
    """Short options getopt-style: ({flag: True|value}, operands) or an int status on error."""
    flags: dict = {}
    args = c.argv[start:]
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--":
            i += 1
            break
        if not a.startswith("-") or a == "-" or (a[1:].isdigit() and "0" not in allowed):
            break
        j = 1
        while j < len(a):
            ch = a[j]
            if ch in with_value:
                val = a[j + 1:] or (args[i + 1] if i + 1 < len(args) else None)
                if val is None:
                    c.fail(f"option requires an argument -- '{ch}'")
                    return 1
                if not a[j + 1:]:
                    i += 1
                flags[ch] = val
                break
            if ch not in allowed:
                c.fail(f"invalid option -- '{ch}'")
                return 1
            flags[ch] = True
            j += 1
        i += 1
    return flags, args[i:]


_ESCAPES = {"a": "\a", "b": "\b", "e": "\x1b", "f": "\f", "n": "\n", "r": "\r", "t": "\t",
            "v": "\v", "\\": "\\"}


def _unescape(s: str, octal_zero: bool = True):
    """Backslash escapes of echo -e / printf; returns (text, stop) where stop means \\c."""
    out, i = [], 0
    while i < len(s):
        ch = s[i]
        if ch != "\\" or i + 1 >= len(s):
            out.append(ch)
            i += 1
            continue
        nxt = s[i + 1]
        if nxt in _ESCAPES:
            out.append(_ESCAPES[nxt])
            i += 2
        elif nxt == "c":
            return "".join(out), True
        elif nxt == "0" or (not octal_zero and nxt in "01234567"):
            j = i + 2 if nxt == "0" and octal_zero else i + 1
            digits = ""
            while j < len(s) and len(digits) < 3 and s[j] in "01234567":
                digits += s[j]
                j += 1
            out.append(chr(int(digits or "0", 8)))
            i = j
        elif nxt == "x":
            mt = re.match(r"[0-9a-fA-F]{1,2}", s[i + 2:])
            if mt:
                out.append(chr(int(mt.group(0), 16)))
                i += 2 + len(mt.group(0))
            else:
                out.append("\\x")
                i += 2
        else:
            out.append("\\" + nxt)
            i += 2
    return "".join(out), False


def _echo(c: _Call) -> int:
    args = c.argv[1:]
    newline, escapes = True, False
    while args and re.fullmatch(r"-[neE]+", args[0]):
        for ch in args[0][1:]:
            newline = newline and ch != "n"
            escapes = True if ch == "e" else (False if ch == "E" else escapes)
        args = args[1:]
    text = " ".join(args)
    if escapes:
        text, stop = _unescape(text)
        if stop:
            newline = False
    c.out.write(text + ("\n" if newline else ""))
    return 0


def _printf(c: _Call) -> int:
    if len(c.argv) < 2:
        c.err.write("Usage: printf FORMAT [ARG]...\n")
        return 1
    fmt, args = c.argv[1], c.argv[2:]
    spec = re.compile(r"%([-+ #0]*)(\d+|\*)?(?:\.(\d+|\*))?([sbcdiouxXfeEgG%])")
    status = 0
    out: list[str] = []
    while True:
        used = 0
        pos = 0
        for mt in spec.finditer(fmt):
            text, stop = _unescape(fmt[pos:mt.start()], octal_zero=False)
            out.append(text)
            if stop:
                c.out.write("".join(out))
                return status
            pos = mt.end()
            flags, width, prec, conv = mt.groups()
            if conv == "%":
                out.append("%")
                continue
            if width == "*":
                width = args[used] if used < len(args) else "0"
                used += 1
            if prec == "*":
                prec = args[used] if used < len(args) else "0"
                used += 1
            arg = args[used] if used < len(args) else None
            used += 1
            pyfmt = "%" + (flags or "") + (width or "") + ("." + prec if prec else "")
            if conv in "sb":
                val = arg or ""
                if conv == "b":
                    val, _ = _unescape(val)
                out.append((pyfmt + "s") % val)
            elif conv == "c":
                out.append((pyfmt + "s") % (arg or "")[:1])
            else:
                raw = arg if arg is not None else "0"
                try:
                    if conv in "feEgG":
                        num = float(raw)
                    elif raw[:1] in "'\"" and len(raw) > 1:
                        num = ord(raw[1])
                    else:
                        num = int(raw, 0) if raw.lower().startswith(("0x", "-0x")) else int(raw)
                except ValueError:
                    c.fail(f"invalid number '{raw}'")
                    status = 1
                    num = 0
                pyconv = {"i": "d", "u": "d"}.get(conv, conv)
                out.append((pyfmt + pyconv) % num)
        text, stop = _unescape(fmt[pos:], octal_zero=False)
        out.append(text)
        if stop or used == 0 or used >= len(args):
            break
        args = args[used:]
    c.out.write("".join(out))
    return status


def _true(c: _Call) -> int:
    return 0


def _false(c: _Call) -> int:
    return 1


def _exit_builtin(c: _Call) -> int:
    raise _Exit(c.m.exit_code_arg(c.argv[1:]))


def _exec_builtin(c: _Call) -> int:
    if len(c.argv) == 1:
        return 0
    raise _Exit(c.m.dispatch(c.argv[1:], c.stdin, c.out, c.err, c.env))


def _loopctl(c: _Call) -> int:
    return 0                       # break/continue outside a loop: nothing to do


def _pwd(c: _Call) -> int:
    c.say(c.m.cwd)
    return 0


def _cd(c: _Call) -> int:
    target = c.argv[1] if len(c.argv) > 1 else (c.m.getvar("HOME") or "/")
    if target == "-":
        target = c.m.getvar("OLDPWD") or c.m.cwd
        c.say(target)
    path = c.path(target)
    if not c.m.fs.is_dir(path):
        why = ENOTDIR if c.m.fs.exists(path) else ENOENT
        c.err.write(c.m.shmsg(f"can't cd to {target}: {why}", "cd"))
        return 2
    c.m.vars["OLDPWD"] = c.m.cwd
    c.m.cwd = path
    c.m.vars.pop("PWD", None)
    return 0


def _export(c: _Call) -> int:
    for a in c.argv[1:]:
        if a.startswith("-"):
            continue
        name, eq, value = a.partition("=")
        if eq:
            c.m.vars[name] = value
        c.m.exports.add(name)
    if len(c.argv) == 1:
        for k, v in sorted(c.m.environment().items()):
            c.say(f"export {k}={_quote(v)}")
    return 0


def _unset(c: _Call) -> int:
    for name in c.argv[1:]:
        if not name.startswith("-"):
            c.m.vars[name] = None
    return 0


def _set(c: _Call) -> int:
    args = c.argv[1:]
    if not args:
        env = c.m.environment()
        env.update({k: v for k, v in c.m.vars.items() if v is not None})
        for k, v in sorted(env.items()):
            c.say(f"{k}={_quote(v)}")
        return 0
    while args:
        a = args[0]
        if a == "--":
            c.m.args = args[1:]
            return 0
        if a in ("-o", "+o"):
            if len(args) > 1 and args[1] == "errexit":
                c.m.opts = (c.m.opts.replace("e", "") + ("e" if a == "-o" else ""))
            args = args[2:]
            continue
        if a[:1] in "-+" and len(a) > 1:
            for ch in a[1:]:
                if ch in "eux":
                    c.m.opts = c.m.opts.replace(ch, "") + (ch if a[0] == "-" else "")
            args = args[1:]
            continue
        c.m.args = args
        return 0
    return 0


def _shift(c: _Call) -> int:
    n = int(c.argv[1]) if len(c.argv) > 1 and c.argv[1].isdigit() else 1
    if n > len(c.m.args):
        return 1
    c.m.args = c.m.args[n:]
    return 0


def _read(c: _Call) -> int:
    _, names = _opts(c, "r")
    names = names or ["REPLY"]
    got = c.stdin.read_line() if isinstance(c.stdin, _Input) else None
    if got is None:
        for name in names:
            c.m.vars[name] = ""
        return 1
    line, newline = got
    fields = line.split(None, len(names) - 1)
    for k, name in enumerate(names):
        c.m.vars[name] = fields[k] if k < len(fields) else ""
    return 0 if newline else 1


def _ignore(c: _Call) -> int:
    return 0                       # trap, wait, umask, ulimit, hash: accepted, not simulated


def _command(c: _Call) -> int:
    args = c.argv[1:]
    if args and args[0] in ("-v", "-V"):
        status = 0
        for name in args[1:]:
            if name in BUILTINS:
                c.say(name)
                continue
            kind, value = c.m.lookup(name)
            if kind is None:
                status = 127
            else:
                c.say(_which_path(c.m, name))
        return status
    if not args:
        return 0
    return c.m.dispatch(args, c.stdin, c.out, c.err, c.env)


def _which_path(m: _Machine, name: str) -> str:
    if "/" in name:
        return name
    for d in (m.getvar("PATH") or "").split(":"):
        if d and m.fs.is_file(norm(d + "/" + name)):
            return norm(d + "/" + name)
    return name


def _which(c: _Call) -> int:
    status = 0
    for name in c.argv[1:]:
        kind, _ = c.m.lookup(name)
        if kind is None:
            status = 1
        else:
            c.say(_which_path(c.m, name))
    return status


def _type(c: _Call) -> int:
    status = 0
    for name in c.argv[1:]:
        if name in BUILTINS:
            c.say(f"{name} is a shell builtin")
            continue
        kind, _ = c.m.lookup(name)
        if kind is None:
            c.say(f"{name}: not found")
            status = 127
        else:
            c.say(f"{name} is {_which_path(c.m, name)}")
    return status


# test / [ --------------------------------------------------------------------------------

class _TestError(Exception):
    pass


def _test(c: _Call) -> int:
    args = c.argv[1:]
    if c.argv[0] == "[":
        if not args or args[-1] != "]":
            return c.fail("missing ]", 2)
        args = args[:-1]
    try:
        return 0 if _test_eval(args, c) else 1
    except _TestError as e:
        return c.fail(str(e), 2)


_UNARY = {"-e", "-f", "-d", "-s", "-r", "-w", "-x", "-z", "-n", "-L", "-h", "-b", "-c", "-p",
          "-S", "-t", "-g", "-u", "-k", "-O", "-G"}
_BINOPS = {"=", "==", "!=", "<", ">", "-eq", "-ne", "-lt", "-le", "-gt", "-ge", "-nt", "-ot",
           "-ef"}


def _test_eval(args: list[str], c: _Call) -> bool:
    n = len(args)
    if n == 0:
        return False
    if n == 1:
        return args[0] != ""
    if n == 2:
        if args[0] == "!":
            return args[1] == ""
        if args[0] in _UNARY:
            return _unary(args[0], args[1], c)
        raise _TestError(f"{args[0]}: unknown operand")
    if n == 3 and args[1] in _BINOPS:
        return _binary(args[0], args[1], args[2])
    pos = [0]

    def peek(k=0):
        return args[pos[0] + k] if pos[0] + k < n else None

    def primary():
        t = peek()
        if t is None:
            raise _TestError("argument expected")
        if t == "!":
            pos[0] += 1
            return not primary()
        if t == "(" and peek(2) == ")" or (t == "(" and peek(1) not in _BINOPS):
            pos[0] += 1
            v = disj()
            if peek() != ")":
                raise _TestError("')' expected")
            pos[0] += 1
            return v
        if peek(1) in _BINOPS and peek(2) is not None:
            pos[0] += 3
            return _binary(t, args[pos[0] - 2], args[pos[0] - 1])
        if t in _UNARY and peek(1) is not None:
            pos[0] += 2
            return _unary(t, args[pos[0] - 1], c)
        pos[0] += 1
        return t != ""

    def conj():
        v = primary()
        while peek() == "-a":
            pos[0] += 1
            v = primary() and v
        return v

    def disj():
        v = conj()
        while peek() == "-o":
            pos[0] += 1
            v = conj() or v
        return v

    v = disj()
    if pos[0] != n:
        raise _TestError(f"{args[pos[0]]}: unknown operand")
    return v


def _unary(op: str, arg: str, c: _Call) -> bool:
    if op == "-z":
        return arg == ""
    if op == "-n":
        return arg != ""
    if op == "-t":
        return False
    entry = c.m.fs.stat(c.path(arg)) if arg else None
    if op in ("-e", "-r", "-w"):
        return entry is not None
    if op == "-f":
        return entry is not None and entry[0] != "d"
    if op == "-d":
        return entry is not None and entry[0] == "d"
    if op == "-s":
        return entry is not None and (entry[0] == "d" or len(entry[2]) > 0)
    if op == "-x":
        return entry is not None and (entry[0] in "dx" or entry[2].startswith("#!"))
    return False


def _num(s: str) -> int:
    if not re.fullmatch(r"\s*[-+]?\d+\s*", s):
        raise _TestError(f"{s}: bad number")
    return int(s)


def _binary(a: str, op: str, b: str) -> bool:
    if op in ("=", "=="):
        return a == b
    if op == "!=":
        return a != b
    if op == "<":
        return a < b
    if op == ">":
        return a > b
    if op in ("-nt", "-ot", "-ef"):
        return False
    x, y = _num(a), _num(b)
    return {"-eq": x == y, "-ne": x != y, "-lt": x < y, "-le": x <= y, "-gt": x > y,
            "-ge": x >= y}[op]


# kill -----------------------------------------------------------------------------------

def _signal_number(spec: str) -> int | None:
    if spec.isdigit():
        return int(spec)
    name = spec.upper()
    name = name[3:] if name.startswith("SIG") else name
    return SIGNALS.get(name)


def _kill(c: _Call) -> int:
    args = c.argv[1:]
    sig = 15
    if not args:
        return c.fail("you need to specify whom to kill")
    if args[0] == "-l":
        if len(args) > 1:
            for a in args[1:]:
                num = _signal_number(a)
                names = {v: k for k, v in SIGNALS.items()}
                c.say(names.get(num, a) if a.isdigit() else str(num))
            return 0
        for name, num in sorted(SIGNALS.items(), key=lambda kv: kv[1]):
            c.say(f"{num:2}) {name}")
        return 0
    if args[0] in ("-s", "-n"):
        if len(args) < 2:
            return c.fail(f"option requires an argument -- '{args[0][1]}'")
        spec, args = args[1], args[2:]
        sig = _signal_number(spec)
        if sig is None:
            return c.fail(f"bad signal name '{spec}'")
    elif args[0].startswith("-") and len(args[0]) > 1 and args[0] != "--":
        spec = args[0][1:]
        sig = _signal_number(spec)
        if sig is None:
            return c.fail(f"bad signal name '{spec}'")
        args = args[1:]
    elif args[0] == "--":
        args = args[1:]
    status = 0
    mypid = getattr(c.m.io, "pid", 1)
    for a in args:
        if not re.fullmatch(r"-?\d+", a):
            status = c.fail(f"invalid number '{a}'")
            continue
        pid = int(a)
        if pid == 1:
            if sig:
                c.m.io.kill_main(sig)
        elif pid == mypid:
            if sig:
                raise _Exit(128 + sig)
        else:
            status = c.fail(f"can't kill pid {pid}: No such process")
    return status


BUILTINS.update({
    "echo": _echo, "printf": _printf, "true": _true, "false": _false, ":": _true,
    "exit": _exit_builtin, "exec": _exec_builtin, "break": _loopctl, "continue": _loopctl,
    "cd": _cd, "pwd": _pwd, "export": _export, "unset": _unset, "set": _set, "shift": _shift,
    "read": _read, "test": _test, "[": _test, "kill": _kill, "trap": _ignore, "wait": _ignore,
    "umask": _ignore, "ulimit": _ignore, "hash": _ignore, "command": _command, "type": _type,
    "readonly": _export, "local": _export,
})
