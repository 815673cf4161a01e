"""The applets: programs that exist only where the image has them in $PATH (busybox has no
`curl`). Each takes a _Call and returns an exit status; errors say "NAME: ...".
"""

from __future__ import annotations

import math
import posixpath
import re
import time

from .builtins import _echo, _false, _kill, _opts, _printf, _pwd, _test, _true, _which
from .compiler import _compile_script, _shell_invocation
from .fs import EISDIR, ENOENT, ENOTDIR, IMAGE_TIME, FileSystem, FsError, norm
from .host import _Call, _stdin_text
from .lexer import ShellError
from .machine import APPLETS, _join, _Machine
from .network import _curl, _wget

# sleep ----------------------------------------------------------------------------------

_SUFFIX = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def _sleep(c: _Call) -> int:
    """`sleep` moves the program's clock on; the VM yields while the clock is ahead of now."""
    args = c.argv[1:]
    if args and args[0] == "--":
        args = args[1:]
    if not args:
        c.err.write("BusyBox v1.37.0 multi-call binary.\n\nUsage: sleep [N]...\n")
        return 1
    if args[0].lower().startswith("inf"):
        c.m.clock.t = math.inf
        return 0
    total = 0.0
    for a in args:
        mt = re.fullmatch(r"(\d+(?:\.\d*)?|\.\d+)([smhd]?)", a)
        if not mt:
            return c.fail(f"invalid number '{a}'")
        total += float(mt.group(1)) * _SUFFIX[mt.group(2)]
    c.m.clock.t = round(c.m.clock.t + total, 6)
    return 0


# files ----------------------------------------------------------------------------------

def _touch(c: _Call) -> int:
    got = _opts(c, "cam", "dtr")
    if isinstance(got, int):
        return got
    flags, files = got
    if not files:
        c.err.write("BusyBox v1.37.0 multi-call binary.\n\nUsage: touch [-c] [-d DATE] "
                    "[-t DATE] [-r FILE] FILE...\n")
        return 1
    status = 0
    for f in files:
        path = c.path(f)
        if "c" in flags and not c.m.fs.exists(path):
            continue
        try:
            c.m.fs.touch(path, t=c.m.clock.t)
        except FsError as e:
            status = c.fail(f"{f}: {e}")
    return status


def _rm(c: _Call) -> int:
    got = _opts(c, "firRv")
    if isinstance(got, int):
        return got
    flags, files = got
    force, recursive = "f" in flags, "r" in flags or "R" in flags
    if not files:
        if force:
            return 0
        c.err.write("BusyBox v1.37.0 multi-call binary.\n\nUsage: rm [-irf] FILE...\n")
        return 1
    status = 0
    for f in files:
        path = c.path(f)
        if posixpath.basename(f.rstrip("/")) in (".", ".."):
            status = c.fail("can't remove '.' or '..'")
            continue
        try:
            if c.m.fs.is_dir(path) and not recursive:
                status = c.fail(f"'{f}' is a directory")
                continue
            c.m.fs.remove(path, recursive=recursive)
            if "v" in flags:
                c.say(f"removed '{f}'")
        except FsError as e:
            if force and str(e) == ENOENT:
                continue
            status = c.fail(f"can't remove '{f}': {e}")
    return status


def _rmdir(c: _Call) -> int:
    got = _opts(c, "p")
    if isinstance(got, int):
        return got
    status = 0
    for f in got[1]:
        try:
            if not c.m.fs.is_dir(c.path(f)) and c.m.fs.exists(c.path(f)):
                raise FsError(ENOTDIR)
            c.m.fs.remove(c.path(f), dir_ok=True)
        except FsError as e:
            status = c.fail(f"'{f}': {e}")
    return status


def _mkdir(c: _Call) -> int:
    got = _opts(c, "pv", "m")
    if isinstance(got, int):
        return got
    flags, dirs = got
    if not dirs:
        c.err.write("BusyBox v1.37.0 multi-call binary.\n\nUsage: mkdir [-m MODE] [-p] "
                    "DIRECTORY...\n")
        return 1
    status = 0
    for d in dirs:
        try:
            c.m.fs.mkdir(c.path(d), parents="p" in flags, t=c.m.clock.t)
        except FsError as e:
            status = c.fail(f"can't create directory '{d}': {e}")
    return status


def _cat(c: _Call) -> int:
    got = _opts(c, "nbsuveAT")
    if isinstance(got, int):
        return got
    flags, files = got
    status = 0
    number = 0
    for f in files or ["-"]:
        if f == "-":
            text = _stdin_text(c)
            if "n" not in flags:
                c.out.write(text)
                continue
        else:
            try:
                text = c.m.fs.read(c.path(f))
            except FsError as e:
                if str(e) == EISDIR:
                    status = c.fail(f"read error: {e}")
                else:
                    status = c.fail(f"can't open '{f}': {e}")
                continue
        if "n" in flags:
            lines = text.split("\n")
            end = lines.pop() if lines else ""
            text = "".join(f"{number + k + 1:6}\t{line}\n" for k, line in enumerate(lines))
            number += len(lines)
            text += f"{number + 1:6}\t{end}" if end else ""
            number += 1 if end else 0
        c.out.write(text)
    return status


def _mode(entry) -> str:
    return {"d": "drwxr-xr-x", "x": "-rwxr-xr-x", "f": "-rw-r--r--"}[entry[0]]


def _ls_line(name: str, entry, flags) -> str:
    if "l" not in flags:
        return name + ("/" if "F" in flags and entry[0] == "d" else "")
    size = 4096 if entry[0] == "d" else len(entry[2].encode())
    when = time.strftime("%b %e %H:%M", time.gmtime(entry[1]))
    nlink = 2 if entry[0] == "d" else 1
    return f"{_mode(entry)} {nlink:4} root     root     {size:9} {when} {name}"


def _ls(c: _Call) -> int:
    got = _opts(c, "1aAlFdhRrt")
    if isinstance(got, int):
        return got
    flags, targets = got
    fs = c.m.fs
    status = 0
    files, dirs = [], []
    for t in targets or ["."]:
        path = c.path(t)
        entry = fs.stat(path)
        if entry is None:
            status = c.fail(f"{t}: {ENOENT}")
            continue
        if entry[0] == "d" and "d" not in flags:
            dirs.append((t, path))
        else:
            files.append((t, entry))
    blocks: list[list[str]] = []
    if files:
        blocks.append([_ls_line(t, e, flags) for t, e in sorted(files)])
    queue = sorted(dirs)
    while queue:
        t, path = queue.pop(0)
        names = fs.listdir(path)
        if "a" in flags:
            names = [".", ".."] + names
        elif "A" not in flags:
            names = [n for n in names if not n.startswith(".")]
        if "r" in flags:
            names.reverse()
        lines = []
        if "l" in flags:
            lines.append(f"total {len(names) * 4}")
        for n in names:
            e = fs.stat(norm(n, path)) or ["d", IMAGE_TIME]
            lines.append(_ls_line(n, e, flags))
        if len(targets) > 1 or files or "R" in flags:
            lines.insert(0, f"{t}:")
        blocks.append(lines)
        if "R" in flags:
            queue[:0] = [(_join(t, n), norm(n, path)) for n in names
                         if n not in (".", "..") and fs.is_dir(norm(n, path))]
    for k, block in enumerate(blocks):
        if k:
            c.out.write("\n")
        for line in block:
            c.say(line)
    return status


def _copy_tree(fs: FileSystem, src: str, dst: str, t: float):
    entry = fs.stat(src)
    if entry[0] == "d":
        fs.mkdir(dst, parents=False, t=t) if not fs.exists(dst) else None
        for name in fs.listdir(src):
            _copy_tree(fs, norm(name, src), norm(name, dst), t)
    else:
        fs.write(dst, entry[2], t=t)
        if entry[0] == "x":
            fs.stat(dst)[0] = "x"


def _cp_mv(c: _Call, move: bool) -> int:
    got = _opts(c, "rRfapivn")
    if isinstance(got, int):
        return got
    flags, args = got
    if len(args) < 2:
        c.err.write(f"BusyBox v1.37.0 multi-call binary.\n\nUsage: {c.me} SOURCE... DEST\n")
        return 1
    fs = c.m.fs
    *srcs, dest = args
    dpath = c.path(dest)
    into = fs.is_dir(dpath)
    if len(srcs) > 1 and not into:
        return c.fail(f"'{dest}' is not a directory")
    status = 0
    for s in srcs:
        spath = c.path(s)
        entry = fs.stat(spath)
        target = norm(posixpath.basename(spath), dpath) if into else dpath
        if entry is None:
            status = c.fail(f"can't {'rename' if move else 'stat'} '{s}': {ENOENT}")
            continue
        if entry[0] == "d" and not move and not ({"r", "R", "a"} & set(flags)):
            status = c.fail(f"omitting directory '{s}'")
            continue
        try:
            _copy_tree(fs, spath, target, c.m.clock.t)
            if move:
                fs.remove(spath, recursive=True)
        except FsError as e:
            status = c.fail(f"can't create '{dest}': {e}")
    return status


def _cp(c):
    return _cp_mv(c, False)


def _mv(c):
    return _cp_mv(c, True)


def _tee(c: _Call) -> int:
    got = _opts(c, "ai")
    if isinstance(got, int):
        return got
    flags, files = got
    text = _stdin_text(c)
    status = 0
    for f in files:
        try:
            c.m.fs.write(c.path(f), text, append="a" in flags, t=c.m.clock.t)
        except FsError as e:
            status = c.fail(f"can't open '{f}': {e}")
    c.out.write(text)
    return status


def _input_texts(c: _Call, files: list[str]):
    """[(name, text)] of the files (or stdin); missing files reported and skipped."""
    out, status = [], 0
    for f in files or ["-"]:
        if f == "-":
            out.append(("-", _stdin_text(c)))
            continue
        try:
            out.append((f, c.m.fs.read(c.path(f))))
        except FsError as e:
            status = c.fail(f"{f}: {e}")
    return out, status


def _lines(text: str) -> list[str]:
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def _grep(c: _Call) -> int:
    got = _opts(c, "qvicnEFwxslho", "e")
    if isinstance(got, int):
        return 2
    flags, args = got
    if "e" in flags:
        pattern = flags["e"]
    elif args:
        pattern, args = args[0], args[1:]
    else:
        c.err.write("BusyBox v1.37.0 multi-call binary.\n\nUsage: grep [-HhnlLoqvsrRiwFE] "
                    "[-m N] [-A|B|C N] { PATTERN | -e PATTERN... | -f FILE... } [FILE]...\n")
        return 2
    if "F" in flags:
        rx = re.escape(pattern)
    elif "E" in flags:
        rx = pattern
    else:                                    # basic regular expression -> Python
        rx = re.sub(r"\\([(){}|+?])|([(){}|+?])",
                    lambda mt: mt.group(1) or "\\" + mt.group(2), pattern)
    if "w" in flags:
        rx = rf"\b(?:{rx})\b"
    if "x" in flags:
        rx = rf"(?:{rx})\Z"
    try:
        regex = re.compile(rx, re.I if "i" in flags else 0)
    except re.error:
        return c.fail("bad regex '" + pattern + "'", 2)
    texts, status = _input_texts(c, args)
    found = False
    many = len(texts) > 1 and "h" not in flags
    for name, text in texts:
        count = 0
        for k, line in enumerate(_lines(text)):
            hit = bool(regex.search(line)) != ("v" in flags)
            if not hit:
                continue
            count += 1
            found = True
            if "q" in flags:
                return 0
            if "c" in flags or "l" in flags:
                continue
            prefix = (f"{name}:" if many else "") + (f"{k + 1}:" if "n" in flags else "")
            if "o" in flags and "v" not in flags:
                for mt in regex.finditer(line):
                    c.say(prefix + mt.group(0))
            else:
                c.say(prefix + line)
        if "c" in flags:
            c.say((f"{name}:" if many else "") + str(count))
        elif "l" in flags and count:
            c.say(name)
    if status and "s" not in flags:
        return 2
    return 0 if found else 1


def _wc(c: _Call) -> int:
    got = _opts(c, "lwcmL")
    if isinstance(got, int):
        return got
    flags, files = got
    which = [f for f in "lwc" if f in flags or (f == "c" and "m" in flags)] or ["l", "w", "c"]
    texts, status = _input_texts(c, files)
    totals = {"l": 0, "w": 0, "c": 0}
    for name, text in texts:
        counts = {"l": text.count("\n"), "w": len(text.split()), "c": len(text.encode())}
        for k in totals:
            totals[k] += counts[k]
        cols = [str(counts[k]) for k in which]
        line = " ".join(cols) if len(which) == 1 else " ".join(f"{x:>9}" for x in cols)
        c.say(line + ("" if name == "-" else f" {name}"))
    if len(texts) > 1:
        c.say(" ".join(f"{totals[k]:>9}" for k in which) + " total")
    return status


def _head_tail(c: _Call, tail: bool) -> int:
    argv = list(c.argv)
    if len(argv) > 1 and re.fullmatch(r"-\d+", argv[1]):
        argv[1:2] = ["-n", argv[1][1:]]
    got = _opts(_Call(c.m, argv, c.stdin, c.out, c.err, c.env, c.me), "qvf", "nc")
    if isinstance(got, int):
        return got
    flags, files = got
    spec = str(flags.get("n", "10"))
    try:
        n = int(spec.lstrip("+-"))
    except ValueError:
        return c.fail(f"invalid number '{spec}'")
    texts, status = _input_texts(c, files)
    for k, (name, text) in enumerate(texts):
        if len(texts) > 1:
            c.out.write(("\n" if k else "") + f"==> {name} <==\n")
        lines = _lines(text)
        if tail:
            picked = lines[n - 1:] if spec.startswith("+") else (lines[-n:] if n else [])
        else:
            picked = lines[:n]
        for line in picked:
            c.say(line)
    return status


def _head(c):
    return _head_tail(c, False)


def _tail(c):
    return _head_tail(c, True)


def _seq(c: _Call) -> int:
    args = c.argv[1:]
    sep = "\n"
    if args and args[0] == "-s" and len(args) > 1:
        sep, args = args[1], args[2:]
    try:
        nums = [float(a) if "." in a else int(a) for a in args]
    except ValueError as e:
        bad = str(e).rsplit(" ", 1)[-1].strip("'")
        return c.fail(f"invalid number '{bad}'")
    if not 1 <= len(nums) <= 3:
        c.err.write("BusyBox v1.37.0 multi-call binary.\n\nUsage: seq [-w] [-s SEP] "
                    "[FIRST [INC]] LAST\n")
        return 1
    first, inc, last = (1, 1, nums[0]) if len(nums) == 1 else (
        (nums[0], 1, nums[1]) if len(nums) == 2 else tuple(nums))
    decimals = max((len(a.split(".", 1)[1]) for a in args if "." in a), default=0)
    out, k = [], 0
    v = first
    while (inc > 0 and v <= last) or (inc < 0 and v >= last):
        out.append(f"{v:.{decimals}f}" if decimals else str(int(v)))
        k += 1
        v = first + k * inc
        if len(out) > 100_000 or inc == 0:
            break
    if out:
        c.out.write(sep.join(out) + "\n")
    return 0


def _date(c: _Call) -> int:
    fmt = "%a %b %e %H:%M:%S %Z %Y"
    t = c.m.clock.t
    args = list(c.argv[1:])
    while args:
        a = args.pop(0)
        if a == "-d" or a.startswith("-d"):
            spec = a[2:] or (args.pop(0) if args else "")
            if not re.fullmatch(r"@-?\d+(\.\d+)?", spec):
                return c.fail(f"invalid date '{spec}'")
            t = float(spec[1:])
        elif a.startswith("+"):
            fmt = a[1:]
        elif a in ("-u", "--utc"):
            continue
        elif a in ("-I", "--iso-8601"):
            fmt = "%Y-%m-%d"
        elif a == "-R":
            fmt = "%a, %d %b %Y %H:%M:%S +0000"
        else:
            return c.fail(f"invalid date '{a}'")
    frac = t - math.floor(t)
    fmt = (fmt.replace("%Z", "UTC").replace("%s", str(int(t)))
           .replace("%N", f"{int(frac * 1e9):09d}"))
    c.say(time.strftime(fmt, time.gmtime(t)))
    return 0


def _hostname(c: _Call) -> int:
    if "-i" in c.argv[1:] or "-I" in c.argv[1:]:
        c.say(getattr(c.m.io, "ip", "127.0.0.1"))
    else:
        c.say(getattr(c.m.io, "hostname", "localhost"))
    return 0


def _env(c: _Call) -> int:
    args = c.argv[1:]
    extra = dict(c.env)
    while args and "=" in args[0] and not args[0].startswith("="):
        k, _, v = args[0].partition("=")
        extra[k] = v
        args = args[1:]
    if args:
        return c.m.dispatch(args, c.stdin, c.out, c.err, extra)
    for k, v in c.m.environment(extra).items():
        c.say(f"{k}={v}")
    return 0


def _printenv(c: _Call) -> int:
    env = c.m.environment(c.env)
    if len(c.argv) == 1:
        for k, v in env.items():
            c.say(f"{k}={v}")
        return 0
    status = 0
    for name in c.argv[1:]:
        if name in env:
            c.say(env[name])
        else:
            status = 1
    return status


def _uname(c: _Call) -> int:
    host = getattr(c.m.io, "hostname", "localhost")
    fields = {"s": "Linux", "n": host, "r": "6.8.0-kubelab", "v": "#1 SMP", "m": "x86_64",
              "o": "GNU/Linux"}
    got = _opts(c, "asnrvmpio")
    if isinstance(got, int):
        return got
    flags, _ = got
    keys = "snrvmo" if "a" in flags else "".join(k for k in "snrvmo" if k in flags) or "s"
    c.say(" ".join(fields[k] for k in keys))
    return 0


def _whoami(c: _Call) -> int:
    c.say("root")
    return 0


def _id(c: _Call) -> int:
    c.say("uid=0(root) gid=0(root) groups=0(root),10(wheel)")
    return 0


def _basename(c: _Call) -> int:
    if len(c.argv) < 2:
        return c.fail("missing operand")
    b = posixpath.basename(c.argv[1].rstrip("/")) or "/"
    if len(c.argv) > 2 and b.endswith(c.argv[2]) and b != c.argv[2]:
        b = b[:-len(c.argv[2])]
    c.say(b)
    return 0


def _dirname(c: _Call) -> int:
    if len(c.argv) < 2:
        return c.fail("missing operand")
    c.say(posixpath.dirname(c.argv[1].rstrip("/")) or ("/" if c.argv[1].startswith("/")
                                                         else "."))
    return 0


def _sh(c: _Call) -> int:
    """A nested shell (`sh -c ...`, `sh script`, a #! script): runs to completion at once."""
    m = c.m
    argv = c.argv
    try:
        if len(argv) == 1:
            prog = _compile_script(_stdin_text(c))
        else:
            opts, script, file, arg0, args = _shell_invocation(argv)
            if script is None:
                try:
                    script = m.fs.read(c.path(file))
                except FsError as e:
                    return c.fail(f"can't open '{file}': {e}", 2)
                if script.startswith("#!"):
                    script = script.split("\n", 1)[1] if "\n" in script else ""
            prog = _compile_script(script, arg0=arg0 if file is None else file, args=args,
                                   opts=opts, from_file=file is not None)
    except ShellError as e:
        c.err.write(f"sh: {e.message}\n")
        return 2
    sub = _Machine(prog, m.fs, m.environment(c.env), m.io, m.clock, None, parent=m)
    sub.cwd = m.cwd
    sub.stdout, sub.stderr = c.out, c.err
    return sub.run_sync()


APPLETS.update({
    "echo": _echo, "printf": _printf, "true": _true, "false": _false, "test": _test,
    "[": _test, "[[": _test, "kill": _kill, "pwd": _pwd, "sleep": _sleep, "touch": _touch,
    "rm": _rm, "rmdir": _rmdir, "mkdir": _mkdir, "cat": _cat, "ls": _ls, "cp": _cp, "mv": _mv,
    "tee": _tee, "grep": _grep, "wc": _wc, "head": _head, "tail": _tail, "seq": _seq,
    "date": _date, "hostname": _hostname, "env": _env, "printenv": _printenv,
    "uname": _uname, "whoami": _whoami, "id": _id, "basename": _basename,
    "dirname": _dirname, "which": _which, "wget": _wget, "curl": _curl,
    "sh": _sh, "ash": _sh, "bash": _sh, "dash": _sh,
})
