"""One-shot use: exec probes and the exec console run a command to completion at once."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .compiler import compile
from .host import Host
from .lexer import ShellError

if TYPE_CHECKING:
    from .fs import FileSystem


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
