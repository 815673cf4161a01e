"""The simulated container runtime: what containerd does for the kubelet.

It holds each pod's sandbox (its emptyDir volumes) and each container's process: the image's
filesystem with the container's changes, the position of its program (cluster.shell), and its
log. The kubelet (controllers/kubelet.py) decides; this module carries out: start a container,
let its program run up to now, run a command in it, stop it. It never writes Kubernetes
objects, only its own rows (Sandbox, Container, ContainerLog).
"""

import datetime as dt
import json
import math
import urllib.parse

from django.db import connections

from cluster import images, servers, shell
from cluster.models import Container, ContainerLog, Sandbox

UTC = dt.timezone.utc
# Exit code of a main process ended by `kill 1` (SIGTERM): 128 + 15.
SIGTERM_EXIT = 143


def seconds(moment):
    return moment.timestamp()


def moment(secs):
    return dt.datetime.fromtimestamp(secs, UTC)


def program_argv(spec, image):
    """What the container runs: command (else the image's entrypoint) followed by args."""
    return list(spec.get("command") or image.entrypoint) + list(spec.get("args") or [])


class StaleRuntime(Exception):
    """Another writer changed a container's runtime record since it was read."""


class ContainerIO(shell.Host):
    """The world as a container's program sees it: its log, `kill 1`, and HTTP to its own pod
    (the containers of a pod share one network namespace: localhost reaches them all)."""

    def __init__(self, pod, lines, pod_runtime=None, now=0.0):
        status = pod.get("status") or {}
        super().__init__(hostname=pod["metadata"]["name"], ip=status.get("podIP") or "127.0.0.1")
        self.lines = lines
        self.killed = None
        self.pod_runtime, self.now = pod_runtime, now

    def http_get(self, url):
        parsed = urllib.parse.urlsplit(url if "://" in url else "http://" + url)
        host, port = parsed.hostname, parsed.port or 80
        if self.pod_runtime is None or host not in ("localhost", "127.0.0.1", self.ip):
            # Other pods and Services are reached through the cluster network (Services issue).
            raise LookupError(host)
        reply = self.pod_runtime.http(port, parsed.path or "/", "127.0.0.1", self.now)
        return reply.status, reply.body

    def stdout(self, line, t):
        self.lines.append((t, "stdout", line))

    def stderr(self, line, t):
        self.lines.append((t, "stderr", line))

    def kill_main(self, signal):
        self.killed = signal


class PodRuntime:
    """One pod's sandbox and containers, loaded for one kubelet pass and saved at its end."""

    def __init__(self, cluster, pod, rows=None):
        """`rows`: the pod's Container rows if the caller loaded them (a pass loads all
        visited pods' rows in one query)."""
        self.cluster, self.pod = cluster, pod
        self.uid = pod["metadata"]["uid"]
        if rows is None:
            rows = Container.objects.filter(pod_uid=self.uid)
        self.rows = {row.name: row for row in rows}
        self.sandbox = None
        self.logs = []
        self.boot_id = None     # the node's bootID: containers remember which boot ran them
        self.dirty = set()

    # -- sandbox and filesystems -------------------------------------------------------------

    def ensure_sandbox(self):
        if self.sandbox is None:
            self.sandbox = Sandbox.objects.filter(pod_uid=self.uid).first()
        if self.sandbox is None:
            volumes = {v["name"]: shell.FileSystem().to_json()
                       for v in (self.pod["spec"].get("volumes") or []) if "emptyDir" in v}
            self.sandbox = Sandbox.objects.create(cluster=self.cluster, pod_uid=self.uid,
                                                  volumes=volumes)
        return self.sandbox

    def has_volumes(self):
        return any("emptyDir" in v for v in self.pod["spec"].get("volumes") or [])

    def filesystem(self, spec, row):
        """The container's files: its own layer plus the pod's emptyDir volumes mounted."""
        if row.data.get("fs"):
            fs = shell.FileSystem.from_json(row.data["fs"])
        else:
            fs = shell.FileSystem(images.lookup(spec["image"]).layer)
            # The kubelet gives every container these two files (mounted from the pod).
            name, ip = self.pod["metadata"]["name"], self.pod["status"].get("podIP", "")
            fs.write("/etc/hostname", f"{name}\n")
            fs.write("/etc/hosts", f"# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n"
                                   f"{ip}\t{name}\n")
        volumes = self._volumes()
        for mount in spec.get("volumeMounts") or []:
            volume = volumes.get(mount.get("name"))
            if volume is not None:
                fs.mount(mount["mountPath"], volume, readonly=bool(mount.get("readOnly")))
        return fs, volumes

    def _volumes(self):
        if not self.has_volumes():
            return {}
        if not hasattr(self, "_volume_fs"):
            sandbox = self.ensure_sandbox()
            self._volume_fs = {name: shell.FileSystem.from_json(data)
                               for name, data in (sandbox.volumes or {}).items()}
        return self._volume_fs

    def _keep(self, row, fs):
        row.data["fs"] = fs.to_json()
        self.dirty.add(row.name)
        if hasattr(self, "_volume_fs"):
            self.sandbox.volumes = {name: v.to_json() for name, v in self._volume_fs.items()}

    # -- containers ------------------------------------------------------------------------

    def row(self, name):
        return self.rows.get(name)

    def create(self, spec, now, pull_at):
        """A container being created: its image pulls until `pull_at` (simulated seconds)."""
        row = Container(cluster=self.cluster, pod_uid=self.uid, name=spec["name"],
                        state=Container.CREATING, due_at=moment(pull_at), data={})
        self.rows[spec["name"]] = row
        self.dirty.add(spec["name"])
        return row

    def start(self, spec, row, now):
        """Start a new instance of the container at `now` and run its program up to now."""
        image = images.lookup(spec["image"])
        instance = row.restart_count
        row.state = Container.RUNNING
        # Ready once started; readiness probes, when a container has one, decide instead.
        row.data.update({"startedAt": now, "fs": None, "program": None, "finishedAt": None,
                         "exitCode": None, "reason": None, "ready": True,
                         "bootID": self.boot_id})
        self.dirty.add(row.name)
        if instance >= 2:
            # Logs of the instance before the previous one go (only --previous survives).
            ContainerLog.objects.filter(pod_uid=self.uid, container=row.name,
                                        instance__lt=instance - 1).delete()
        for line in image.banner:
            self._log(row, now, "stdout", line)
        argv = program_argv(spec, image)
        if not argv:
            row.data["wakeAt"] = None          # a server: it runs until stopped
            fs, _ = self.filesystem(spec, row)
            self._keep(row, fs)
            return None
        return self.advance(spec, row, now, starting=True)

    def advance(self, spec, row, now, starting=False):
        """Let the container's program run up to `now`. Returns the exit code if it ended."""
        image = images.lookup(spec["image"])
        argv = program_argv(spec, image)
        if not argv:
            row.data["wakeAt"] = None
            return None
        fs, _ = self.filesystem(spec, row)
        lines = []
        io = ContainerIO(self.pod, lines, self, now)
        try:
            program = shell.compile(argv)
            outcome = program.run(None if starting else row.data.get("program"), fs, now,
                                  env=self.environment(spec), io=io)
        except shell.ShellError as exc:
            lines.append((now, "stderr", exc.message))
            outcome = shell.Outcome(exit_code=exc.exit_code, finished_at=now)
        for t, stream, text in lines:
            self._log(row, t, stream, text)
        self._keep(row, fs)
        if outcome.error:
            # The runtime could not start it (no such executable): exit 128, as runc reports.
            row.data.update({"reason": "StartError", "message": outcome.error})
            return self.stopped(row, outcome.finished_at, outcome.exit_code, "StartError")
        if outcome.exited:
            reason = "Completed" if outcome.exit_code == 0 else "Error"
            return self.stopped(row, outcome.finished_at, outcome.exit_code, reason)
        row.data["program"] = outcome.state
        # When the program next needs the CPU (None: it sleeps for ever); the kubelet turns
        # this and the probes' times into the row's due_at.
        row.data["wakeAt"] = None if math.isinf(outcome.waiting_until) else \
            max(outcome.waiting_until, now)
        return None

    def stopped(self, row, at, exit_code, reason):
        row.state = Container.EXITED
        row.data.update({"finishedAt": at, "exitCode": exit_code, "reason": reason,
                         "program": None, "ready": False, "wakeAt": None})
        row.due_at = None
        self.dirty.add(row.name)
        return exit_code

    def exec(self, spec, argv, now, limit=60.0):
        """Run a command inside the running container: (exit code, stdout, stderr lines).

        The exit code is None if it was still running after `limit` seconds. A `kill 1`
        among its commands ends the main process (exit 143, SIGTERM)."""
        row = self.rows.get(spec["name"])
        fs, _ = self.filesystem(spec, row)
        io = ContainerIO(self.pod, [], self, now)
        io.pid = 0   # not the main process: `kill 1` reaches PID 1
        code, out, err, _slept = shell.run_command(argv, fs, now, env=self.environment(spec),
                                                   io=io, limit=limit)
        self._keep(row, fs)
        if io.killed:
            self.stopped(row, now, 128 + io.killed, "Error")
        return code, out, err

    def http(self, port, path, client_ip, now, agent="curl/8.5.0"):
        """An HTTP GET to this pod on `port`: the Answer of the container listening there.

        Raises ConnectionRefusedError when no running container listens on it."""
        for spec in self.pod["spec"]["containers"]:
            row = self.rows.get(spec["name"])
            if row is None or row.state != Container.RUNNING:
                continue
            image = images.lookup(spec["image"])
            number = row.data.get("requests", 0) + 1
            reply = servers.answer(image, spec, number, self.pod["metadata"]["name"], port, path)
            if reply is None:
                continue
            row.data["requests"] = number
            self.dirty.add(row.name)
            line = servers.request_log(image, client_ip, path, reply.status, reply.body,
                                       moment(now), agent)
            if line:
                self._log(row, now, "stdout", line)
            return reply
        raise ConnectionRefusedError(f"{self.pod['status'].get('podIP')}:{port}")

    def environment(self, spec):
        env = {"HOSTNAME": self.pod["metadata"]["name"],
               "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
               "HOME": "/root"}
        for var in spec.get("env") or []:
            if "value" in var:
                env[var["name"]] = str(var.get("value") or "")
        return env

    def _log(self, row, t, stream, text):
        self.logs.append(ContainerLog(cluster=self.cluster, pod_uid=self.uid,
                                      container=row.name, instance=row.restart_count,
                                      at=moment(t), stream=stream, line=text))

    def save(self, write_log=True):
        """Write what changed. Raises StaleRuntime if another writer saved a container since
        it was read (the caller's transaction then rolls back and it tries again later).

        With `write_log=False` the new log lines stay in `self.logs` for the caller to write
        with other pods' (one INSERT for a whole kubelet pass)."""
        for name in self.dirty:
            row = self.rows[name]
            if row.pk is None:
                row.save()
                continue
            if not _conditional_update(row):
                raise StaleRuntime(f"container {name} of pod {self.uid} changed meanwhile")
            row.version += 1
        if self.sandbox is not None and hasattr(self, "_volume_fs"):
            self.sandbox.save(update_fields=["volumes"])
        if write_log:
            write_logs(self.logs)
        self.dirty.clear()


def _conditional_update(row):
    """UPDATE one container row if nobody saved it since it was read; True if it was.

    Plain SQL: this runs for every probe, and the ORM's query building cost more than the
    write itself."""
    connection = connections[Container.objects.db]
    table = Container._meta.db_table
    due = connection.ops.adapt_datetimefield_value(row.due_at)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET restart_count = %s, state = %s, due_at = %s, data = %s, "
            "version = version + 1 WHERE id = %s AND version = %s",
            [row.restart_count, row.state, due, json.dumps(row.data), row.pk, row.version])
        return cursor.rowcount == 1


def write_logs(lines):
    if lines:
        ContainerLog.objects.bulk_create(lines)
        lines.clear()


def rows_by_pod(cluster, pod_uids):
    """Container rows of several pods in one query: {pod uid (str): [rows]}."""
    found = {}
    for row in Container.objects.filter(cluster=cluster, pod_uid__in=list(pod_uids)):
        found.setdefault(str(row.pod_uid), []).append(row)
    return found


def forget(cluster, pod_uids):
    """The runtime's records of pods that are gone: containers, sandboxes and logs."""
    Container.objects.filter(cluster=cluster, pod_uid__in=pod_uids).delete()
    Sandbox.objects.filter(cluster=cluster, pod_uid__in=pod_uids).delete()
    ContainerLog.objects.filter(cluster=cluster, pod_uid__in=pod_uids).delete()
