"""A small, resumable POSIX-ish shell for simulated containers (busybox / alpine behaviour).

No process runs: a container's `command`/`args` are compiled once into a flat list of
instructions (a tiny VM) and executed a bit at a time against a simulated clock. The position of
a running program is a small JSON-serialisable dict, so a level-triggered kubelet can store it
and continue exactly where it stopped on a later tick (DESIGN.md principle 5).

    prog = compile(["sh", "-c", "i=0; while true; do echo $i; i=$((i+1)); sleep 1; done"])
    out = prog.run(None, fs, now, env, io)          # -> Outcome(state=..., waiting_until=...)
    out = prog.run(out.state, fs, later, env, io)   # continues, catching up to `later`

Time: `now` is simulated POSIX seconds (so `date` prints the cluster clock). A program keeps its
own virtual clock: `sleep 5` moves it 5 s on; `run` executes while that clock is <= now, so a
late call prints exactly what a real run would have printed by then, each line stamped with the
simulated time it was written. Instructions take no time, except that 10,000 instructions without
a sleep count as a busy second (an infinite loop never hangs the simulator).

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

Sleeps inside $(...), pipelines, compound blocks and nested `sh -c` move the clock without
yielding: their output is written at once, stamped with the times it would have appeared.
Not supported (clear errors): `&` background jobs, functions, `case`, here-documents.

Files: `FileSystem` is an overlay: a read-only image layer (rebuilt from the image name, never
serialised) and a small upper layer of changes (`to_json`). `mount(path, other_fs)` shares one
FileSystem (an emptyDir) between containers. Commands exist only if the image has them in
$PATH (busybox has no `curl`, as in real life); `FileSystem()` is an empty volume, not an image.
"""

from __future__ import annotations

import copy
import fnmatch
import http
import math
import posixpath
import re
import time
from dataclasses import dataclass
from typing import Callable

STEP_BUDGET = 10_000          # instructions per run() call; also "one busy second" of CPU
SYNC_BUDGET = 100_000         # nested runs ($(...), sh -c inside a script) before "hung"
SHELLS = {"sh", "ash", "bash", "dash"}
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
SIGNALS = {"HUP": 1, "INT": 2, "QUIT": 3, "ILL": 4, "TRAP": 5, "ABRT": 6, "BUS": 7, "FPE": 8,
           "KILL": 9, "USR1": 10, "SEGV": 11, "USR2": 12, "PIPE": 13, "ALRM": 14, "TERM": 15,
           "CHLD": 17, "CONT": 18, "STOP": 19, "TSTP": 20}
APPLET_MARK = "\x7fELF "      # content of an image's executables: the marker + the applet name


class ShellError(Exception):
    """A script that cannot run (syntax error): `message` is what sh prints, exit code 2."""

    def __init__(self, message: str, exit_code: int = 2, line: int = 1):
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code
        self.line = line


class FsError(Exception):
    """A failed file operation; str() is the strerror text ("No such file or directory")."""


ENOENT = "No such file or directory"
EEXIST = "File exists"
EISDIR = "Is a directory"
ENOTDIR = "Not a directory"
ENOTEMPTY = "Directory not empty"
EROFS = "Read-only file system"
EBUSY = "Resource busy"


# --------------------------------------------------------------------------------------------
# The file system
# --------------------------------------------------------------------------------------------

def norm(path: str, cwd: str = "/") -> str:
    """An absolute, normalised path: `..`, `.` and repeated slashes resolved."""
    if not path.startswith("/"):
        path = cwd.rstrip("/") + "/" + path
    out: list[str] = []
    for piece in path.split("/"):
        if piece in ("", "."):
            continue
        if piece == "..":
            if out:
                out.pop()
        else:
            out.append(piece)
    return "/" + "/".join(out)


def _parent(path: str) -> str:
    return posixpath.dirname(path) or "/"


IMAGE_TIME = 1727308800.0     # mtime of image files (2024-09-26, busybox 1.37's release)

_BUSYBOX_BIN = ("[ [[ ash basename cat cp date dirname echo env false grep head hostname id kill "
                "ls mkdir mv printenv printf pwd rm rmdir seq sh sleep tail tee test touch true "
                "uname wc wget which whoami").split()
_DEBIAN_BIN = ("[ bash basename cat cp dash date dirname echo env false grep head hostname id "
               "kill ls mkdir mv printenv printf pwd rm rmdir seq sh sleep tail tee test touch "
               "true uname wc which whoami").split()
_PASSWD = "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n"
_LAYERS_SPEC = {
    "busybox": {
        "dirs": "/bin /dev /etc /home /lib /lib64 /proc /root /sys /tmp /usr /usr/sbin /var "
                "/var/spool /var/spool/mail /var/www".split(),
        "bin": {"/bin": _BUSYBOX_BIN},
        "files": {"/etc/passwd": _PASSWD, "/etc/group": "root:x:0:\nnobody:x:65534:\n"},
    },
    "alpine": {
        "dirs": "/bin /dev /etc /home /lib /media /mnt /opt /proc /root /run /sbin /srv /sys "
                "/tmp /usr /usr/bin /usr/lib /usr/local /usr/local/bin /usr/sbin /usr/share /var "
                "/var/cache /var/lib /var/log /var/tmp".split(),
        "bin": {"/bin": _BUSYBOX_BIN},
        "files": {"/etc/passwd": _PASSWD, "/etc/alpine-release": "3.21.0\n",
                  "/etc/os-release": 'NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.21.0\n'},
    },
    "debian": {
        "dirs": "/bin /boot /dev /etc /home /lib /media /mnt /opt /proc /root /run /sbin /srv "
                "/sys /tmp /usr /usr/bin /usr/lib /usr/local /usr/local/bin /usr/sbin /var "
                "/var/cache /var/lib /var/log /var/tmp".split(),
        "bin": {"/usr/bin": _DEBIAN_BIN},
        "files": {"/etc/passwd": _PASSWD, "/etc/debian_version": "12.8\n",
                  "/etc/os-release": 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\n'},
    },
}
_LAYERS_SPEC["node"] = dict(_LAYERS_SPEC["debian"],
                            bin={"/usr/bin": _DEBIAN_BIN + ["curl", "wget"],
                                 "/usr/local/bin": ["node", "npm"]})
_LAYERS_SPEC["nginx"] = dict(_LAYERS_SPEC["debian"],
                             bin={"/usr/bin": _DEBIAN_BIN + ["curl"], "/usr/sbin": ["nginx"]},
                             dirs=_LAYERS_SPEC["debian"]["dirs"] + ["/usr/share/nginx",
                                                                    "/usr/share/nginx/html"])
_layer_cache: dict = {}


def _layer(image: str | None):
    """(entries, children) of an image's read-only layer, built once."""
    if image in _layer_cache:
        return _layer_cache[image]
    if image is not None and image not in _LAYERS_SPEC:
        raise ValueError(f"unknown image layer {image!r} (one of {sorted(_LAYERS_SPEC)})")
    entries = {"/": ["d", IMAGE_TIME]}
    spec = _LAYERS_SPEC.get(image, {})
    for d in spec.get("dirs", []):
        entries[d] = ["d", IMAGE_TIME]
    for d, names in spec.get("bin", {}).items():
        entries[d] = ["d", IMAGE_TIME]
        for name in names:
            entries[f"{d}/{name}"] = ["x", IMAGE_TIME, APPLET_MARK + name]
    for path, text in spec.get("files", {}).items():
        entries[path] = ["f", IMAGE_TIME, text]
    children: dict[str, set] = {}
    for path in entries:
        if path != "/":
            children.setdefault(_parent(path), set()).add(posixpath.basename(path))
    _layer_cache[image] = (entries, children)
    return entries, children


class FileSystem:
    """A container's files: an image layer, an upper layer of changes, and mounts.

    Entries are lists: ["d", mtime] a directory, ["f", mtime, text] a file, ["x", mtime, text]
    an executable. All paths given to methods are absolute (see `norm`).
    """

    def __init__(self, image: str | None = None):
        self.image = image
        self._lower, self._lower_children = _layer(image)
        self._upper: dict[str, list] = {}
        self._deleted: set[str] = set()
        self._mounts: dict[str, tuple] = {}

    # serialisation -----------------------------------------------------------------------
    def to_json(self) -> dict:
        """The changes made to the image (mounts are not included: re-mount after loading)."""
        return {"image": self.image, "upper": copy.deepcopy(self._upper),
                "deleted": sorted(self._deleted)}

    @classmethod
    def from_json(cls, data: dict | None) -> "FileSystem":
        data = data or {}
        fs = cls(data.get("image"))
        fs._upper = copy.deepcopy(data.get("upper", {}))
        fs._deleted = set(data.get("deleted", []))
        return fs

    # mounts ------------------------------------------------------------------------------
    def mount(self, path: str, other: "FileSystem", source: str = "/", readonly: bool = False):
        """Mount `other` (e.g. an emptyDir shared by two containers) at `path`."""
        self._mounts[norm(path)] = (other, norm(source), readonly)

    def umount(self, path: str):
        self._mounts.pop(norm(path), None)

    def _mount_for(self, path: str):
        best = None
        for mp in self._mounts:
            if (path == mp or path.startswith(mp.rstrip("/") + "/")) and (
                    best is None or len(mp) > len(best)):
                best = mp
        if best is None:
            return None
        other, source, ro = self._mounts[best]
        rest = path[len(best):] if best != "/" else path
        return other, norm(source + "/" + rest), ro, best

    # local (unmounted) layer access ------------------------------------------------------
    def _get(self, path: str):
        if path in self._upper:
            return self._upper[path]
        if path in self._deleted:
            return None
        return self._lower.get(path)

    def _local_children(self, path: str) -> set[str]:
        names = {n for n in self._lower_children.get(path, ())
                 if (path.rstrip("/") + "/" + n) not in self._deleted}
        prefix = path.rstrip("/") + "/"
        for p in self._upper:
            if p.startswith(prefix) and "/" not in p[len(prefix):] and p != "/":
                names.add(p[len(prefix):])
        return names

    def _descendants(self, path: str) -> list[str]:
        prefix = path.rstrip("/") + "/"
        found = {p for p in self._upper if p.startswith(prefix)}
        found |= {p for p in self._lower if p.startswith(prefix) and p not in self._deleted}
        return sorted(found)

    # queries -----------------------------------------------------------------------------
    def stat(self, path: str):
        """The entry at `path` (["d", t] / ["f", t, text] / ["x", t, text]) or None."""
        m = self._mount_for(path)
        if m:
            return m[0].stat(m[1])
        entry = self._get(path)
        if entry is None and any(_parent(mp) == path or mp.startswith(path.rstrip("/") + "/")
                                 for mp in self._mounts):
            return ["d", IMAGE_TIME]    # a mount point's missing parents act as directories
        return entry

    def exists(self, path: str) -> bool:
        return self.stat(path) is not None

    def is_dir(self, path: str) -> bool:
        e = self.stat(path)
        return e is not None and e[0] == "d"

    def is_file(self, path: str) -> bool:
        e = self.stat(path)
        return e is not None and e[0] != "d"

    def listdir(self, path: str) -> list[str]:
        m = self._mount_for(path)
        if m:
            names = set(m[0].listdir(m[1]))
        else:
            e = self._get(path)
            if e is None and not self.stat(path):
                raise FsError(ENOENT)
            if e is not None and e[0] != "d":
                raise FsError(ENOTDIR)
            names = self._local_children(path)
        prefix = path.rstrip("/") + "/"
        for mp in self._mounts:
            if mp.startswith(prefix) and mp != path:
                names.add(mp[len(prefix):].split("/", 1)[0])
        return sorted(names)

    def read(self, path: str) -> str:
        e = self.stat(path)
        if e is None:
            self._check_parent_dirs(path)
            raise FsError(ENOENT)
        if e[0] == "d":
            raise FsError(EISDIR)
        return e[2]

    def _check_parent_dirs(self, path: str):
        """Raise ENOTDIR if a path component is a file, ENOENT if the parent is missing."""
        parent = _parent(path)
        if parent == path:
            return
        e = self.stat(parent)
        if e is None:
            raise FsError(ENOENT)
        if e[0] != "d":
            raise FsError(ENOTDIR)

    # changes -----------------------------------------------------------------------------
    def _writable(self, path: str):
        """(fs, local path) that a change to `path` goes to; raises on a read-only mount."""
        m = self._mount_for(path)
        if m:
            if m[2]:
                raise FsError(EROFS)
            return m[0]._writable(m[1])
        return self, path

    def write(self, path: str, text: str, append: bool = False, t: float = 0.0):
        e = self.stat(path)
        if e is not None and e[0] == "d":
            raise FsError(EISDIR)
        if e is None:
            self._check_parent_dirs(path)
        fs, local = self._writable(path)
        old = e[2] if (e is not None and append) else ""
        kind = e[0] if e is not None else "f"
        fs._upper[local] = [kind, t, old + text]
        fs._deleted.discard(local)

    def touch(self, path: str, t: float = 0.0):
        e = self.stat(path)
        if e is None:
            self.write(path, "", t=t)
            return
        fs, local = self._writable(path)
        new = list(e)
        new[1] = t
        fs._upper[local] = new
        fs._deleted.discard(local)

    def mkdir(self, path: str, parents: bool = False, t: float = 0.0):
        e = self.stat(path)
        if e is not None:
            if parents and e[0] == "d":
                return
            raise FsError(EEXIST)
        parent = _parent(path)
        if parents and parent != path and not self.exists(parent):
            self.mkdir(parent, parents=True, t=t)
        self._check_parent_dirs(path)
        fs, local = self._writable(path)
        fs._upper[local] = ["d", t]
        fs._deleted.discard(local)

    def remove(self, path: str, recursive: bool = False, dir_ok: bool = False):
        """Remove a file; a directory only with `recursive` (any) or `dir_ok` (empty)."""
        e = self.stat(path)
        if e is None:
            self._check_parent_dirs(path)
            raise FsError(ENOENT)
        if path == "/" or path in self._mounts:
            raise FsError(EBUSY)
        m = self._mount_for(path)
        if m:
            if m[2]:
                raise FsError(EROFS)
            return m[0].remove(m[1], recursive, dir_ok)
        if e[0] == "d":
            if not recursive:
                if not dir_ok:
                    raise FsError(EISDIR)
                if self.listdir(path):
                    raise FsError(ENOTEMPTY)
            prefix = path.rstrip("/") + "/"
            if any(mp.startswith(prefix) for mp in self._mounts):
                raise FsError(EBUSY)
            for p in self._descendants(path):
                self._upper.pop(p, None)
                if p in self._lower:
                    self._deleted.add(p)
        self._upper.pop(path, None)
        if path in self._lower:
            self._deleted.add(path)


# --------------------------------------------------------------------------------------------
# Lexer: words keep their quoting as parts
#   ("s", text, quoted)            literal text
#   ("v", name, quoted, op, arg)   $name / ${name op arg} (arg: parts), op "len" for ${#name}
#   ("c", Program, quoted)         $(...) / `...`
#   ("a", text, quoted)            $((...))
# --------------------------------------------------------------------------------------------

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
            parts.append(("c", _compile_script(src[i + 2:j]), quoted))
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
    parts.append(("c", _compile_script("".join(buf)), quoted))
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


# --------------------------------------------------------------------------------------------
# Parser: tokens -> AST
# --------------------------------------------------------------------------------------------

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


# --------------------------------------------------------------------------------------------
# Compiler: AST -> flat instructions
# --------------------------------------------------------------------------------------------

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


# --------------------------------------------------------------------------------------------
# Runtime
# --------------------------------------------------------------------------------------------

class Host:
    """What a running program can reach. Subclass it (the kubelet does) or use it as a recorder.

    stdout(line, t) / stderr(line, t): a complete output line written at simulated time t.
    kill_main(signal): `kill 1` inside the container (signal number, 15 by default).
    http_get(url) -> (status, body): raise ConnectionRefusedError (nothing listens),
      TimeoutError (no answer) or LookupError (unknown host).
    hostname, ip: what `hostname` / `hostname -i` print; pid: this shell's $$ (1 = main).
    """

    def __init__(self, hostname: str = "localhost", ip: str = "127.0.0.1", pid: int = 1,
                 http: Callable[[str], tuple[int, str]] | dict | None = None):
        self.hostname = hostname
        self.ip = ip
        self.pid = pid
        self.http = http
        self.out: list[tuple[float, str]] = []
        self.err: list[tuple[float, str]] = []
        self.kills: list[int] = []

    def stdout(self, line: str, t: float):
        self.out.append((t, line))

    def stderr(self, line: str, t: float):
        self.err.append((t, line))

    def kill_main(self, signal: int):
        self.kills.append(signal)

    def http_get(self, url: str) -> tuple[int, str]:
        if callable(self.http):
            return self.http(url)
        if isinstance(self.http, dict) and url in self.http:
            return self.http[url]
        raise ConnectionRefusedError(url)


@dataclass
class Outcome:
    """What one `run` call ended with.

    Exited: exit_code set, finished_at the simulated exit time, state None (error: a container
    that could not start, exit_code 128). Still running: state to pass to the next call and
    waiting_until, the simulated time to call again (math.inf: sleeps forever; <= now: the step
    budget ran out while catching up, call again next tick).
    """
    exit_code: int | None = None
    state: dict | None = None
    waiting_until: float | None = None
    finished_at: float | None = None
    error: str | None = None

    @property
    def exited(self) -> bool:
        return self.exit_code is not None


class _Exit(Exception):
    def __init__(self, code: int):
        self.code = code


class _Fatal(Exception):
    """An expansion error: sh prints it and the (sub)shell exits with status 2."""


class _Clock:
    __slots__ = ("t",)

    def __init__(self, t: float):
        self.t = t


class _Stream:
    """Text written by commands, split into lines for the host, stamped with the clock."""

    def __init__(self, emit, clock: _Clock, partial: str = ""):
        self.emit, self.clock, self.partial = emit, clock, partial

    def write(self, text: str):
        if not text:
            return
        data = self.partial + text
        *lines, self.partial = data.split("\n")
        for line in lines:
            self.emit(line, self.clock.t)

    def flush(self):
        if self.partial:
            self.emit(self.partial, self.clock.t)
            self.partial = ""


class _Input:
    """A command's standard input: text read from a position (`read` takes a line)."""

    def __init__(self, text: str):
        self.text, self.pos = text, 0

    def read_all(self) -> str:
        rest = self.text[self.pos:]
        self.pos = len(self.text)
        return rest

    def read_line(self):
        if self.pos >= len(self.text):
            return None
        end = self.text.find("\n", self.pos)
        if end < 0:
            line, self.pos = self.text[self.pos:], len(self.text)
            return line, False
        line, self.pos = self.text[self.pos:end], end + 1
        return line, True


def _stdin_text(c) -> str:
    if isinstance(c.stdin, _Input):
        return c.stdin.read_all()
    return c.stdin if isinstance(c.stdin, str) else ""


class _Capture:
    def __init__(self):
        self.chunks: list[str] = []

    def write(self, text: str):
        self.chunks.append(text)

    @property
    def text(self) -> str:
        return "".join(self.chunks)


class _Null:
    def write(self, text: str):
        pass


class _FileSink:
    def __init__(self, m: "_Machine", path: str):
        self.m, self.path = m, path

    def write(self, text: str):
        if text:
            try:
                self.m.fs.write(self.path, text, append=True, t=self.m.clock.t)
            except FsError:
                pass


class Program:
    """A compiled container command. `run` executes it from a saved state (see module doc)."""

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
        io = io or Host()
        prog = self
        if state is None:
            err = _start_error(self, fs, env)
            if err:
                return Outcome(exit_code=128, finished_at=now, error=err)
        if self.script_file is not None:
            src = state.get("script") if state else None
            if src is None:
                m = _Machine(self, fs, env, io, _Clock(now), None)
                path = norm(self.script_file, "/")
                try:
                    src = fs.read(path)
                except FsError as e:
                    m.stderr.write(f"{self.arg0}: can't open '{self.script_file}': {e}\n")
                    return Outcome(exit_code=2, finished_at=now)
                try:
                    prog = _compile_script(src, arg0=self.arg0, args=self.args, opts=self.opts,
                                           from_file=True)
                except ShellError as e:
                    m.stderr.write(f"{self.arg0}: line {e.line}: {e.message}\n")
                    m.stderr.flush()
                    return Outcome(exit_code=2, finished_at=now)
            else:
                prog = _compile_script(src, arg0=self.arg0, args=self.args, opts=self.opts,
                                       from_file=True)
        else:
            src = None
        if state is not None and state.get("forever"):
            return Outcome(state=state, waiting_until=math.inf)
        start = now if state is None else state["wake_at"]
        machine = _Machine(prog, fs, env, io, _Clock(start), state)
        machine.script_src = src
        return machine.resume(now)


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


class _Call:
    """One command invocation: its arguments and where its input and output go."""
    __slots__ = ("m", "argv", "stdin", "out", "err", "env", "me")

    def __init__(self, m, argv, stdin, out, err, env, me):
        self.m, self.argv, self.stdin, self.out, self.err, self.env, self.me = (
            m, argv, stdin, out, err, env, me)

    def say(self, text: str):
        self.out.write(text + "\n")

    def fail(self, msg: str, code: int = 1) -> int:
        self.err.write(f"{self.me}: {msg}\n")
        return code

    def path(self, p: str) -> str:
        return norm(p, self.m.cwd)


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
            self.status = _sleep(_Call(self, ["sleep"] + args, None, self.stdout, self.stderr,
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
            return _sh(_Call(self, ["sh", value] + argv[1:], stdin, out, err, tmpenv, "sh"))
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


_arith_cache: dict[str, list] = {}


def _arith_parts(text: str) -> list:
    """The $var / $(...) parts inside $((text)), parsed once."""
    if text not in _arith_cache:
        if len(_arith_cache) > 2000:
            _arith_cache.clear()
        _arith_cache[text] = _read_word_text(text, True)[0]
    return _arith_cache[text]


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


# --------------------------------------------------------------------------------------------
# $(( arithmetic ))
# --------------------------------------------------------------------------------------------

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


# --------------------------------------------------------------------------------------------
# Commands. Each takes a _Call and returns an exit status. BUILTINS are ash's own (their
# errors say "sh: ..."); APPLETS exist only where the image has them in $PATH.
# --------------------------------------------------------------------------------------------

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


# network --------------------------------------------------------------------------------

def _split_url(url: str):
    """(full url, host, port) with http:// added when no scheme is given."""
    if "://" not in url:
        url = "http://" + url
    scheme, _, rest = url.partition("://")
    hostport = rest.split("/", 1)[0].split("?", 1)[0]
    host, _, port = hostport.rpartition(":") if ":" in hostport else (hostport, "", "")
    default = 443 if scheme == "https" else 80
    try:
        port_n = int(port) if port else default
    except ValueError:
        port_n = default
    if "/" not in rest:
        url += "/"
    return url, host, port_n


def _ip_of(host: str) -> str:
    return "127.0.0.1" if host in ("localhost", "") else host


def _reason(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return ""


def _wget(c: _Call) -> int:
    args = c.argv[1:]
    quiet = spider = False
    out_file = None
    timeout = 900.0
    urls = []
    i = 0
    while i < len(args):
        a = args[i]
        if a in ("-q", "--quiet"):
            quiet = True
        elif a == "--spider":
            spider = True
        elif a in ("-O", "-T", "-U", "--header", "-Y", "-t", "--user-agent", "-P"):
            i += 1
            val = args[i] if i < len(args) else ""
            if a == "-O":
                out_file = val
            elif a == "-T":
                timeout = float(val or 0)
        elif a.startswith("-O") and len(a) > 2:
            out_file = a[2:]
        elif a.startswith("-") and len(a) > 1 and not a.startswith("--"):
            letters = a[1:]
            for k, ch in enumerate(letters):
                if ch == "q":
                    quiet = True
                elif ch == "O":
                    out_file = letters[k + 1:] or (args[i + 1] if i + 1 < len(args) else "-")
                    if not letters[k + 1:]:
                        i += 1
                    break
                elif ch == "T":
                    i += 1
                    break
        elif not a.startswith("-"):
            urls.append(a)
        i += 1
    if not urls:
        c.err.write("BusyBox v1.37.0 multi-call binary.\n\nUsage: wget [-cqS] [--spider] "
                    "[-O FILE] [-o LOGFILE] [--header STR] [-Y on/off] [-P DIR] [-U AGENT] "
                    "[-T SEC] URL...\n")
        return 1
    status = 0
    for raw in urls:
        url, host, port = _split_url(raw)
        name = out_file or (posixpath.basename(url.split("?", 1)[0].rstrip("/"))
                            if url.split("://", 1)[1].count("/") > 1 and not url.endswith("/")
                            else "index.html")
        if not quiet:
            c.err.write(f"Connecting to {host}:{port} ({_ip_of(host)}:{port})\n")
        try:
            code, body = c.m.io.http_get(url)
        except ConnectionRefusedError:
            return c.fail(f"can't connect to remote host ({_ip_of(host)}): Connection refused")
        except TimeoutError:
            c.m.clock.t = round(c.m.clock.t + timeout, 6)
            return c.fail("download timed out")
        except LookupError:
            return c.fail(f"bad address '{host}'")
        if code >= 400:
            return c.fail(f"server returned error: HTTP/1.1 {code} {_reason(code)}".rstrip())
        if spider:
            if not quiet:
                c.err.write("remote file exists\n")
            continue
        if name == "-":
            if not quiet:
                c.err.write("writing to stdout\n")
            c.out.write(body)
            if not quiet:
                c.err.write("written to stdout\n")
            continue
        path = c.path(name)
        if out_file is None and c.m.fs.exists(path):
            return c.fail(f"can't open '{name}': File exists")
        try:
            c.m.fs.write(path, body, t=c.m.clock.t)
        except FsError as e:
            return c.fail(f"can't open '{name}': {e}")
        if not quiet:
            c.err.write(f"saving to '{name}'\n'{name}' saved\n")
    return status


_CURL_METER = ("  % Total    % Received % Xferd  Average Speed   Time    Time     Time  Current\n"
               "                                 Dload  Upload   Total   Spent    Left  Speed\n")


def _curl_meter(size: int) -> str:
    pct = 100 if size else 0
    return (_CURL_METER + f"{pct:>3} {size:>5}  {pct:>3} {size:>5}    0     0      0      0 "
            f"--:--:-- --:--:-- --:--:--     0\n")


def _curl(c: _Call) -> int:
    args = c.argv[1:]
    silent = show_errors = fail = include = head = False
    out_file = write_out = None
    max_time = None
    urls = []
    takes_value = {"o", "w", "m", "X", "H", "d", "A", "u", "e", "x", "T", "b", "c", "F", "K"}
    long_value = {"--output": "o", "--write-out": "w", "--max-time": "m", "--request": "X",
                  "--header": "H", "--data": "d", "--user-agent": "A", "--user": "u",
                  "--connect-timeout": "connect", "--retry": "retry", "--data-raw": "d"}
    long_flag = {"--silent": "s", "--show-error": "S", "--fail": "f", "--location": "L",
                 "--insecure": "k", "--include": "i", "--head": "I", "--verbose": "v",
                 "--remote-name": "O", "--fail-with-body": "f", "--http1.1": "",
                 "--compressed": "", "--no-progress-meter": "s"}
    i = 0
    while i < len(args):
        a = args[i]
        opt_vals: list = []
        if a in long_value:
            i += 1
            opt_vals.append((long_value[a], args[i] if i < len(args) else ""))
        elif a in long_flag:
            opt_vals.append((long_flag[a], True))
        elif a.startswith("--"):
            c.err.write(f"curl: option {a}: is unknown\n"
                        "curl: try 'curl --help' or 'curl --manual' for more information\n")
            return 2
        elif a.startswith("-") and len(a) > 1:
            letters = a[1:]
            for k, ch in enumerate(letters):
                if ch in takes_value:
                    val = letters[k + 1:]
                    if not val:
                        i += 1
                        val = args[i] if i < len(args) else ""
                    opt_vals.append((ch, val))
                    break
                opt_vals.append((ch, True))
        else:
            urls.append(a)
        for key, val in opt_vals:
            if key == "s":
                silent = True
            elif key == "S":
                show_errors = True
            elif key == "f":
                fail = True
            elif key == "i":
                include = True
            elif key == "I":
                head = True
            elif key == "o":
                out_file = val
            elif key == "w":
                write_out = val
            elif key in ("m", "connect"):
                try:
                    max_time = float(val)
                except ValueError:
                    c.err.write(f"curl: (2) option -m: expected a proper numerical "
                                f"parameter\n")
                    return 2
        i += 1
    if not urls:
        c.err.write("curl: try 'curl --help' or 'curl --manual' for more information\n")
        return 2
    report = not silent or show_errors
    status = 0
    for raw in urls:
        url, host, port = _split_url(raw)
        try:
            code, body = c.m.io.http_get(url)
        except ConnectionRefusedError:
            if not silent:
                c.err.write(_curl_meter(0))
            if report:
                c.err.write(f"curl: (7) Failed to connect to {host} port {port} after 0 ms: "
                            "Couldn't connect to server\n")
            status = 7
            code, body = 0, None
        except TimeoutError:
            wait = max_time if max_time is not None else 300.0
            c.m.clock.t = round(c.m.clock.t + wait, 6)
            if not silent:
                c.err.write(_curl_meter(0))
            if report:
                c.err.write(f"curl: (28) Failed to connect to {host} port {port} after "
                            f"{int(wait * 1000)} ms: Timeout was reached\n")
            status = 28
            code, body = 0, None
        except LookupError:
            if not silent:
                c.err.write(_curl_meter(0))
            if report:
                c.err.write(f"curl: (6) Could not resolve host: {host}\n")
            status = 6
            code, body = 0, None
        if body is not None:
            if fail and code >= 400:
                if not silent:
                    c.err.write(_curl_meter(0))
                if report:
                    c.err.write(f"curl: (22) The requested URL returned error: {code}\n")
                status = 22
                body = None
            else:
                headers = f"HTTP/1.1 {code} {_reason(code)}\r\n\r\n".replace(" \r", "\r")
                text = (headers if (include or head) else "") + ("" if head else body)
                if out_file and out_file != "-":
                    if out_file != "/dev/null":
                        try:
                            c.m.fs.write(c.path(out_file), text, t=c.m.clock.t)
                        except FsError as e:
                            c.err.write(f"curl: (23) Failure writing output to destination\n")
                            status = 23
                else:
                    c.out.write(text)
                if not silent and (out_file or True):
                    c.err.write(_curl_meter(len(body.encode())))
        if write_out is not None:
            text, _ = _unescape(write_out)
            text = (text.replace("%{http_code}", f"{code:03d}")
                    .replace("%{response_code}", f"{code:03d}")
                    .replace("%{size_download}", str(len(body.encode()) if body else 0))
                    .replace("%{url_effective}", url)
                    .replace("%{time_total}", "0.000000"))
            c.out.write(text)
    return status


BUILTINS: dict[str, Callable[[_Call], int]] = {
    "echo": _echo, "printf": _printf, "true": _true, "false": _false, ":": _true,
    "exit": _exit_builtin, "exec": _exec_builtin, "break": _loopctl, "continue": _loopctl,
    "cd": _cd, "pwd": _pwd, "export": _export, "unset": _unset, "set": _set, "shift": _shift,
    "read": _read, "test": _test, "[": _test, "kill": _kill, "trap": _ignore, "wait": _ignore,
    "umask": _ignore, "ulimit": _ignore, "hash": _ignore, "command": _command, "type": _type,
    "readonly": _export, "local": _export,
}
APPLETS: dict[str, Callable[[_Call], int]] = {
    "echo": _echo, "printf": _printf, "true": _true, "false": _false, "test": _test,
    "[": _test, "[[": _test, "kill": _kill, "pwd": _pwd, "sleep": _sleep, "touch": _touch,
    "rm": _rm, "rmdir": _rmdir, "mkdir": _mkdir, "cat": _cat, "ls": _ls, "cp": _cp, "mv": _mv,
    "tee": _tee, "grep": _grep, "wc": _wc, "head": _head, "tail": _tail, "seq": _seq,
    "date": _date, "hostname": _hostname, "env": _env, "printenv": _printenv,
    "uname": _uname, "whoami": _whoami, "id": _id, "basename": _basename,
    "dirname": _dirname, "which": _which, "wget": _wget, "curl": _curl,
    "sh": _sh, "ash": _sh, "bash": _sh, "dash": _sh,
}


# --------------------------------------------------------------------------------------------
# One-shot use: exec probes and the exec console
# --------------------------------------------------------------------------------------------

class _Collect:
    """Wraps a host: output is collected, everything else (http, kill, hostname) delegated."""

    def __init__(self, io: Host):
        self._io = io
        self.out: list[str] = []
        self.err: list[str] = []

    def __getattr__(self, name):
        return getattr(self._io, name)

    def stdout(self, line: str, t: float):
        self.out.append(line)

    def stderr(self, line: str, t: float):
        self.err.append(line)


def run_command(argv_or_string: list[str] | str, fs: FileSystem, now: float,
                env: dict | None = None, io: Host | None = None, limit: float = 60.0):
    """Run to completion: (exit_code, stdout_lines, stderr_lines, sleep_seconds).

    A string is a shell command line (`sh -c STRING`); a list is an argv (as `kubectl exec`
    and exec probes give it). Sleeps take no real time: sleep_seconds is how long the command
    would have taken. A command still running after `limit` simulated seconds (`sleep
    infinity`, a loop) returns exit_code None and sleep_seconds == limit; the caller decides
    what a timeout means. A missing program gives exit code 126 and runc's message.
    """
    io = io or Host()
    collect = _Collect(io)
    try:
        prog = compile(["sh", "-c", argv_or_string] if isinstance(argv_or_string, str)
                       else list(argv_or_string))
    except ShellError as e:
        return 2, [], [e.message], 0.0
    state, t = None, now
    while True:
        out = prog.run(state, fs, t, env, collect)
        if out.error:
            msg = out.error.split("runc create failed: ", 1)[-1]
            return 126, [], [f"OCI runtime exec failed: exec failed: {msg}"], 0.0
        if out.exited:
            return out.exit_code, collect.out, collect.err, round(out.finished_at - now, 6)
        if out.waiting_until - now > limit:
            for key, sink in (("partial_out", collect.out), ("partial_err", collect.err)):
                if out.state.get(key):
                    sink.append(out.state[key])
            return None, collect.out, collect.err, float(limit)
        state = out.state
        t = max(t, out.waiting_until)
