"""`kubectl exec` and the Python client's `stream(connect_get_namespaced_pod_exec, ...)`: a
websocket at /clusters/{cluster}/api/v1/namespaces/{ns}/pods/{name}/exec.

The remotecommand protocol (subprotocol v5.channel.k8s.io, or v4.channel.k8s.io that the
Python client offers): every binary frame starts with its channel, 0 stdin, 1 stdout,
2 stderr, 3 the status (a metav1.Status: Success, or NonZeroExitCode with an ExitCode cause),
4 terminal resize, and in v5 255 "close this stream" (the client's stdin is at its end).

Commands run through the kubelet (cluster.controllers.kubelet.exec_command), the same call the
board's exec console makes: in the container's simulated filesystem, so `touch /var/ready`
really makes an exec readiness probe pass afterwards. Commands run to completion (simulated
sleeps take no time), so a session works at the granularity the shell allows:
- no stdin: the command runs at once;
- stdin without a terminal, to a shell (`kubectl exec -i ... -- sh < script`, the Python
  client's write_stdin): each complete piece of input runs as it arrives (a piped script
  usually comes whole), in the directory the last piece ended in; `exit` or the end of input
  (v5's close) ends the session;
- stdin without a terminal to any other command (`-i -- wc -l`): the input is gathered until
  the client closes it, then the command reads it;
- a terminal (`-it`): a line discipline runs each line as its own `sh -c` (echo, backspace,
  Ctrl-C, Ctrl-D, `exit N`); the working directory carries from line to line, shell
  variables do not (each line is a new shell), and a line is one complete command.
"""

import codecs
import json
import posixpath
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

from cluster import live
from cluster.api import auth
from cluster.controllers import kubelet
from cluster.errors import ApiError, BadRequest, Conflict, NotFound
from cluster.shell.compiler import compile as compile_script
from cluster.shell.lexer import ShellError

V5, V4 = "v5.channel.k8s.io", "v4.channel.k8s.io"
PROTOCOLS = (V5, V4)
STDIN, STDOUT, STDERR, STATUS, RESIZE, CLOSE = 0, 1, 2, 3, 4, 255
SHELLS = ("sh", "ash", "bash", "dash")
# busybox sh's prompt as root: the working directory, then "# ".
PROMPT = "{cwd} # "
CWD_MARK = "@@kubelab-cwd@@"
CONFLICT_RETRIES = 3   # the reconciler wrote the pod meanwhile; nothing was kept: run again
MAX_STDIN = 1024 * 1024
STILL_RUNNING = ("kubelab's exec runs commands to completion: this one was still running after "
                 "60 simulated seconds, and was stopped")
# The shell's words for a script cut short, where more input would complete it.
INCOMPLETE = ("unexpected end of file", "unterminated quoted string")


def success_status():
    return {"metadata": {}, "status": "Success"}


def exit_status(argv, code):
    """The kubelet's status for a command that exited non-zero; kubectl exits with `code`."""
    return {"metadata": {}, "status": "Failure",
            "message": f"command terminated with non-zero exit code: error executing command "
                       f"[{' '.join(argv)}], exit code {code}",
            "reason": "NonZeroExitCode",
            "details": {"causes": [{"reason": "ExitCode", "message": str(code)}]}}


def error_status(error):
    return {**error.status(), "metadata": {}}


def shell_quote(text):
    return "'" + text.replace("'", "'\\''") + "'"


def with_stdin(argv, text):
    """The argv to run `argv` reading `text` as its standard input. A shell reads it as its
    script (`sh` with no -c); anything else gets it through a pipe."""
    if posixpath.basename(argv[0]) in SHELLS and "-c" not in argv[1:]:
        return ["sh", "-c", text]
    return ["sh", "-c", f"printf '%s' {shell_quote(text)} | \"$@\"", "sh", *argv]


def incomplete(script):
    """Whether a script ends inside a compound command or a quote (more input completes
    it), as a shell reading its input decides when to run what it has read."""
    try:
        compile_script(["sh", "-c", script])
    except ShellError as error:
        return any(text in error.message for text in INCOMPLETE)
    return False


def with_cwd(line, cwd):
    """A terminal line as a script that starts in `cwd` and reports where it ended (the last
    stdout line, CWD_MARK + $PWD), so `cd` carries from one line to the next."""
    return (f"cd {shell_quote(cwd)}\n{line}\n__kubelab_status=$?; "
            f'echo "{CWD_MARK}$PWD"; exit $__kubelab_status')


def run(cluster, namespace, pod, container, argv):
    """(exit code or None, stdout lines, stderr lines), retried when the reconciler wrote the
    pod meanwhile (nothing of the failed attempt was kept)."""
    for attempt in range(CONFLICT_RETRIES):
        try:
            return kubelet.exec_command(cluster, namespace, pod, container, argv)
        except Conflict:
            if attempt == CONFLICT_RETRIES - 1:
                raise


def _flag(query, name):
    return (query.get(name) or ["false"])[-1] in ("1", "true", "True", "t", "T", "TRUE")


class ExecConsumer(AsyncWebsocketConsumer):
    """One `kubectl exec` session."""

    async def connect(self):
        offered = self.scope.get("subprotocols") or []
        self.protocol = next((p for p in PROTOCOLS if p in offered), None)
        if self.protocol is None:
            await self.close()      # answered 403: no remotecommand protocol we speak
            return
        kwargs = self.scope["url_route"]["kwargs"]
        query = parse_qs(self.scope.get("query_string", b"").decode(), keep_blank_values=True)
        self.namespace, self.pod = kwargs["namespace"], kwargs["name"]
        self.argv = query.get("command") or []
        self.container = (query.get("container") or [None])[-1] or None
        self.stdin, self.tty = _flag(query, "stdin"), _flag(query, "tty")
        self.line, self.gathered, self.finished = "", [], False
        self.cwd, self.after_cr = "/", False
        # A shell reading commands from stdin without a terminal runs them as they come.
        self.script_session = (self.stdin and not self.tty and bool(self.argv)
                               and posixpath.basename(self.argv[0]) in SHELLS
                               and "-c" not in self.argv[1:])
        self.decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self.pending, self.last_code = "", 0
        await self.accept(self.protocol)
        try:
            error = await database_sync_to_async(self._check)(kwargs["cluster"], query)
        except ApiError as refused:
            error = refused
        if error is not None:
            await self.finish(error_status(error))
        elif self.tty:
            await self.out(self.prompt())
        elif not self.stdin:
            await self.execute(self.argv)

    def _check(self, cluster_name, query):
        """The refusal to send before running anything, or None."""
        # The API's door (bearer token, local mode, or the cluster's board session), as for
        # every other API request; a refusal is sent as the session's status.
        client = (self.scope.get("client") or [""])[0]
        auth.authenticate(cluster_name, self.scope.get("headers") or [], client,
                          self.scope.get("scheme", "ws"))
        self.cluster = live.find_cluster(cluster_name)
        if self.cluster is None:
            return NotFound(f'cluster "{cluster_name}" not found',
                            details={"name": cluster_name, "kind": "clusters"})
        if not self.argv:
            return BadRequest("you must specify at least 1 command")
        if not (_flag(query, "stdout") or _flag(query, "stderr") or self.stdin):
            return BadRequest("you must specify at least 1 of stdin, stdout, stderr")
        return None

    # -- frames ---------------------------------------------------------------------------

    async def receive(self, text_data=None, bytes_data=None):
        data = bytes_data if bytes_data is not None else (text_data or "").encode()
        if not data or self.finished:
            return
        channel, payload = data[0], data[1:]
        if channel == STDIN and self.stdin:
            if self.tty:
                await self.keys(payload.decode("utf-8", "replace"))
            elif self.script_session:
                await self.script_input(self.decoder.decode(payload))
            else:
                self.gathered.append(payload)
                if sum(len(p) for p in self.gathered) > MAX_STDIN:
                    await self.finish(error_status(BadRequest(
                        f"kubelab's exec takes at most {MAX_STDIN} bytes of input")))
        elif channel == CLOSE and payload[:1] == bytes([STDIN]) and self.stdin:
            # v5: the client's stdin is at its end; without a terminal, now run.
            if self.script_session:
                await self.script_input(self.decoder.decode(b"", final=True), at_end=True)
            elif not self.tty:
                text = b"".join(self.gathered).decode("utf-8", "replace")
                await self.execute(with_stdin(self.argv, text) if text else self.argv)
            else:
                await self.finish(success_status())
        elif channel == RESIZE:
            pass                    # {"Width", "Height"}: output is not laid out by width

    async def disconnect(self, code):
        self.finished = True

    def prompt(self):
        return PROMPT.format(cwd=self.cwd)

    async def send_channel(self, channel, data):
        await self.send(bytes_data=bytes([channel]) + data)

    async def out(self, text, channel=STDOUT):
        if text:
            await self.send_channel(channel, text.encode())

    async def finish(self, status):
        if self.finished:
            return
        self.finished = True
        await self.send_channel(STATUS, json.dumps(status).encode())
        await self.close()

    # -- running --------------------------------------------------------------------------

    async def run_once(self, argv):
        """(code, stdout lines, stderr lines), or the ApiError refusing it."""
        try:
            return await database_sync_to_async(run)(self.cluster, self.namespace, self.pod,
                                                      self.container, argv)
        except ApiError as error:
            return error

    async def execute(self, argv):
        """Run the session's command (no terminal) and end the session with its status."""
        result = await self.run_once(argv)
        if isinstance(result, ApiError):
            await self.finish(error_status(result))
            return
        code, out, err = result
        await self.out("".join(line + "\n" for line in out))
        await self.out("".join(line + "\n" for line in err), STDERR)
        await self.finish_with(code)

    async def script_input(self, text, at_end=False):
        """A shell's stdin without a terminal (`kubectl exec -i -- sh`, the Python client's
        write_stdin): each complete piece that has arrived runs as one script, in the
        directory the last one ended in; a piece that ends inside an `if`, a loop or a quote
        waits for the rest. An explicit `exit`, or the end of input, ends the session."""
        self.pending += text
        if at_end:
            piece, self.pending = self.pending, ""
        else:
            cut = self.pending.rfind("\n")
            if cut < 0 or incomplete(self.pending[:cut + 1]):
                return
            piece, self.pending = self.pending[:cut + 1], self.pending[cut + 1:]
        if piece.strip():
            result = await self.run_once(["sh", "-c", with_cwd(piece, self.cwd)])
            if isinstance(result, ApiError):
                await self.finish(error_status(result))
                return
            code, out, err = result
            went_on = bool(out) and out[-1].startswith(CWD_MARK)
            if went_on:
                self.cwd, out = out[-1][len(CWD_MARK):] or "/", out[:-1]
            await self.out("".join(line + "\n" for line in out))
            await self.out("".join(line + "\n" for line in err), STDERR)
            self.last_code = code
            if not went_on:         # it exited (or was still running at the limit)
                await self.finish_with(code)
                return
        if at_end:
            await self.finish_with(self.last_code)

    async def finish_with(self, code):
        if code is None:
            await self.finish(error_status(BadRequest(STILL_RUNNING)))
        else:
            await self.finish(success_status() if code == 0 else exit_status(self.argv, code))

    async def keys(self, typed):
        """The terminal's line discipline: echo, edit, and run each line on Enter."""
        for key in typed:
            if self.finished:
                return
            after_cr, self.after_cr = self.after_cr, key == "\r"
            if key == "\n" and after_cr:
                continue                                # CR LF is one Enter
            if key in "\r\n":
                await self.out("\r\n")
                line, self.line = self.line, ""
                await self.run_line(line)
            elif key in "\x7f\x08":
                if self.line:
                    self.line = self.line[:-1]
                    await self.out("\b \b")
            elif key == "\x03":                         # Ctrl-C: drop the line
                self.line = ""
                await self.out("^C\r\n" + self.prompt())
            elif key == "\x04" and not self.line:       # Ctrl-D: end of input
                await self.out("\r\n")
                await self.finish(success_status())
            elif key >= " " or key == "\t":
                self.line += key
                await self.out(key)

    async def run_line(self, line):
        words = line.split()
        if words[:1] == ["exit"]:
            code = int(words[1]) if len(words) > 1 and words[1].isdigit() else 0
            await self.finish(success_status() if code == 0 else exit_status(self.argv, code))
            return
        if line.strip():
            shell = posixpath.basename(self.argv[0]) in SHELLS
            if shell:
                argv = ["sh", "-c", with_cwd(line, self.cwd)]
            else:
                argv = with_stdin(self.argv, line + "\n")   # `-it -- cat`: lines are input
            result = await self.run_once(argv)
            if isinstance(result, ApiError):
                await self.finish(error_status(result))
                return
            _code, out, err = result
            if shell and out and out[-1].startswith(CWD_MARK):
                self.cwd, out = out[-1][len(CWD_MARK):] or "/", out[:-1]
            # A terminal has one output stream: stderr comes on stdout, lines end in CRLF.
            await self.out("".join(text + "\r\n" for text in [*out, *err]))
        await self.out(self.prompt())
