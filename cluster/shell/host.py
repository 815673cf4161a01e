"""What the VM touches outside itself: the Host it reports to, the Outcome of a run, the clock,
the streams commands read and write, the _Call a command receives, and the exceptions that end
a (sub)shell.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from .fs import FsError, norm

if TYPE_CHECKING:
    from .machine import _Machine


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
