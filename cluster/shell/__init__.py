"""A small, resumable POSIX-ish shell for simulated containers (busybox / alpine behaviour).

No process runs: a container's `command`/`args` are compiled once into a flat list of
instructions (a tiny VM) and executed a bit at a time against a simulated clock. The position of
a running program is a small JSON-serialisable dict, so a level-triggered kubelet can store it
and continue exactly where it stopped on a later tick (DESIGN.md principle 5).

    prog = compile(["sh", "-c", "i=0; while true; do echo $i; i=$((i+1)); sleep 1; done"])
    out = prog.run(None, fs, now, env, io)          # -> Outcome(state=..., waiting_until=...)
    out = prog.run(out.state, fs, later, env, io)   # continues, catching up to `later`

Not supported (clear errors): `&` background jobs, functions, `case`, here-documents.

The modules, in the order a command travels through them:
    fs        FileSystem: an image's read-only layer, an upper layer of changes, mounts
    lexer     source -> tokens; words keep their quoting as parts; ShellError
    parser    tokens -> AST
    compiler  AST -> flat instructions (the instruction set is described there); Program
    host      what the VM touches outside itself: Host, Outcome, the clock, streams, _Call
    machine   the VM: runs a Program against the simulated clock (time is described there)
    arith     $(( arithmetic ))
    builtins  ash's own commands (BUILTINS): echo, cd, export, test, kill, ...
    commands  the image's applets (APPLETS): sleep, files, text, sh, ...
    network   wget and curl
    oneshot   run_command: exec probes and the exec console
The machine finds commands through the BUILTINS / APPLETS registries, which builtins and
commands fill in when the package is imported.
"""

from __future__ import annotations

from . import builtins, commands  # noqa: F401  (fill the machine's BUILTINS / APPLETS)
from .builtins import SIGNALS
from .compiler import SHELLS, Program, compile
from .fs import (APPLET_MARK, EBUSY, EEXIST, EISDIR, ENOENT, ENOTDIR, ENOTEMPTY, EROFS,
                 IMAGE_TIME, FileSystem, FsError, norm)
from .host import Host, Outcome
from .lexer import ShellError
from .machine import APPLETS, BUILTINS, DEFAULT_PATH, STEP_BUDGET, SYNC_BUDGET
from .oneshot import run_command

__all__ = [
    "APPLETS", "APPLET_MARK", "BUILTINS", "DEFAULT_PATH", "EBUSY", "EEXIST", "EISDIR", "ENOENT",
    "ENOTDIR", "ENOTEMPTY", "EROFS", "FileSystem", "FsError", "Host", "IMAGE_TIME", "Outcome",
    "Program", "SHELLS", "SIGNALS", "STEP_BUDGET", "SYNC_BUDGET", "ShellError", "compile", "norm",
    "run_command",
]
