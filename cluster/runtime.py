"""The simulated container runtime: what containerd does for the kubelet.

It holds each pod's sandbox (its emptyDir volumes) and each container's process: the image's
filesystem with the container's changes, the position of its program (cluster.shell), and its
log. The kubelet (controllers/kubelet.py) decides; this module carries out: start a container,
let its program run up to now, run a command in it, stop it. It never writes Kubernetes
objects, only its own rows (Sandbox, Container, ContainerLog), and those only in `save` (and
the batch helpers below): until then a PodRuntime works in memory, so the kubelet can see what
a pass over a pod would write before it writes anything.
"""

import datetime as dt
import functools
import json
import math
import urllib.parse

from django.db import connections, transaction

from cluster import images, servers, shell
from cluster.models import Container, ContainerLog, Sandbox

UTC = dt.timezone.utc
# Exit code of a main process ended by `kill 1` (SIGTERM): 128 + 15.
SIGTERM_EXIT = 143


# The catalog entry of an image reference: parsed once per reference, not once per probe.
lookup_image = functools.lru_cache(maxsize=512)(images.lookup)


def seconds(moment):
    return moment.timestamp()


def moment(secs):
    return dt.datetime.fromtimestamp(secs, UTC)


def program_argv(spec, image):
    """What the container runs, as Kubernetes combines a container's command and args with
    the image's ENTRYPOINT and CMD: command replaces the entrypoint (and drops CMD), args
    replace CMD."""
    command, args = list(spec.get("command") or []), list(spec.get("args") or [])
    if command:
        return command + args
    return list(image.entrypoint) + (args or list(image.cmd))


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
        if self.pod_runtime is None:
            raise LookupError(host)
        if host not in ("localhost", "127.0.0.1"):
            # Other pods and Services: through the cluster network (cluster.traffic), from
            # this pod's IP and namespace; the pods reached are saved with this pass.
            from cluster import traffic
            network = traffic.Network(self.pod_runtime.cluster, moment(self.now))
            reply = network.send(host, port, parsed.path or "/", self.ip,
                                 self.pod_runtime.pod["metadata"].get("namespace", "default"),
                                 local=self.pod_runtime)
            try:
                network.flush()
            except StaleRuntime:
                pass   # the kubelet saved that pod meanwhile: its request count is lost
            return reply.status, reply.body
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
        # Log lines written in this pass, as (cluster id, pod uid, container, instance, seconds,
        # stream, text): plain tuples, inserted together by write_logs.
        self.logs = []
        self.boot_id = None     # the node's bootID: containers remember which boot ran them
        self.dirty = set()
        self.prune = []         # (container, instance): its older instances' logs go at save

    # -- sandbox and filesystems -------------------------------------------------------------

    def ensure_sandbox(self):
        if self.sandbox is None:
            self.sandbox = Sandbox.objects.filter(pod_uid=self.uid).first()
        if self.sandbox is None:
            volumes = {v["name"]: shell.FileSystem().to_json()
                       for v in (self.pod["spec"].get("volumes") or []) if "emptyDir" in v}
            # Inserted by save(), with the rest of the pass.
            self.sandbox = Sandbox(cluster=self.cluster, pod_uid=self.uid, volumes=volumes)
        return self.sandbox

    def has_volumes(self):
        return any("emptyDir" in v for v in self.pod["spec"].get("volumes") or [])

    def filesystem(self, spec, row):
        """The container's files: its own layer plus the pod's emptyDir volumes mounted."""
        if row.data.get("fs"):
            fs = shell.FileSystem.from_json(row.data["fs"])
        else:
            fs = shell.FileSystem(lookup_image(spec["image"]).layer)
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
        image = lookup_image(spec["image"])
        instance = row.restart_count
        row.state = Container.RUNNING
        # Ready once started; readiness probes, when a container has one, decide instead.
        row.data.update({"startedAt": now, "fs": None, "program": None, "finishedAt": None,
                         "exitCode": None, "reason": None, "ready": True,
                         "bootID": self.boot_id})
        self.dirty.add(row.name)
        if instance >= 2:
            # Logs of the instance before the previous one go (only --previous survives).
            self.prune.append((row.name, instance - 1))
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
        image = lookup_image(spec["image"])
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
            image = lookup_image(spec["image"])
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
        self.logs.append((self.cluster.pk, self.uid, row.name, row.restart_count, t, stream,
                          text))

    def single_update(self):
        """The one existing container row that save() would write, if that UPDATE is all it
        would write (no new row, sandbox or pruning: the common probe); else None."""
        if len(self.dirty) != 1 or self.prune or hasattr(self, "_volume_fs") or \
                (self.sandbox is not None and self.sandbox.pk is None):
            return None
        row = self.rows[next(iter(self.dirty))]
        return row if row.pk is not None else None

    def save(self, write_log=True):
        """Write what changed. Raises StaleRuntime if another writer saved a container since
        it was read (the caller's transaction then rolls back and it tries again later).

        With `write_log=False` the new log lines stay in `self.logs` for the caller to write
        with other pods' (one INSERT for a whole kubelet pass)."""
        for name, instance in self.prune:
            ContainerLog.objects.filter(pod_uid=self.uid, container=name,
                                        instance__lt=instance).delete()
        self.prune = []
        for name in self.dirty:
            row = self.rows[name]
            if row.pk is None:
                row.save()
                continue
            if not _conditional_update(row):
                raise StaleRuntime(f"container {name} of pod {self.uid} changed meanwhile")
            row.version += 1
        if self.sandbox is not None and self.sandbox.pk is None:
            self.sandbox.save()
        elif self.sandbox is not None and hasattr(self, "_volume_fs"):
            self.sandbox.save(update_fields=["volumes"])
        if write_log:
            write_logs(self.logs)
        self.dirty.clear()


# Plain SQL for what runs for every probe: the ORM's query building (and bulk_create's, about
# 0.1 ms a row) cost more than the writes themselves.
UPDATE_SQL = (f"UPDATE {Container._meta.db_table} SET restart_count = %s, state = %s, "
              "due_at = %s, data = %s, version = version + 1 WHERE id = %s AND version = %s")


def _update_params(connection, row):
    return (row.restart_count, row.state, connection.ops.adapt_datetimefield_value(row.due_at),
            json.dumps(row.data), row.pk, row.version)


def _conditional_update(row):
    """UPDATE one container row if nobody saved it since it was read; True if it was."""
    connection = connections[Container.objects.db]
    with connection.cursor() as cursor:
        cursor.execute(UPDATE_SQL, _update_params(connection, row))
        return cursor.rowcount == 1


def save_rows(rows):
    """The conditional UPDATEs of many container rows (of different pods), as one batch.

    Returns the rows another writer saved since they were read: those are left as they are
    (and the caller drops what their pass did), the others are written."""
    if not rows:
        return []
    connection = connections[Container.objects.db]
    if connection.in_atomic_block:
        # One statement for all; in the rare case that some were stale, undo it and go one
        # by one to know which.
        sid = transaction.savepoint()
        with connection.cursor() as cursor:
            cursor.executemany(UPDATE_SQL, [_update_params(connection, r) for r in rows])
            written = cursor.rowcount
        if written == len(rows):
            transaction.savepoint_commit(sid)
            for row in rows:
                row.version += 1
            return []
        transaction.savepoint_rollback(sid)
    stale = []
    for row in rows:
        if _conditional_update(row):
            row.version += 1
        else:
            stale.append(row)
    return stale


LOG_COLUMNS = ("cluster", "pod_uid", "container", "instance", "at", "stream", "line")


def write_logs(lines):
    """Insert log lines (PodRuntime.logs tuples) with one executemany."""
    if not lines:
        return
    connection = connections[ContainerLog.objects.db]
    fields = [ContainerLog._meta.get_field(name) for name in LOG_COLUMNS]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    uid_field = fields[1]
    uids = {}
    params = []
    for cluster_id, uid, container, instance, t, stream, text in lines:
        db_uid = uids.get(uid)
        if db_uid is None:
            db_uid = uids[uid] = uid_field.get_db_prep_value(uid, connection)
        params.append((cluster_id, db_uid, container, instance,
                       connection.ops.adapt_datetimefield_value(moment(t)), stream, text))
    with connection.cursor() as cursor:
        cursor.executemany(f"INSERT INTO {ContainerLog._meta.db_table} ({columns}) VALUES "
                           f"({', '.join(['%s'] * len(fields))})", params)
    lines.clear()


class Row:
    """A Container row as a kubelet pass reads it: its columns, without a model instance
    (building one, with its init signals, cost more than the probe that reads it). Only
    existing rows are read this way; save() writes them with a conditional UPDATE."""

    COLUMNS = ("id", "cluster_id", "pod_uid", "name", "restart_count", "state", "due_at",
               "data", "version")
    __slots__ = COLUMNS

    def __init__(self, values):
        for column, value in zip(Row.COLUMNS, values):
            setattr(self, column, value)

    @property
    def pk(self):
        return self.id


def due_rows(cluster, now):
    """The cluster's container rows due by `now`, by the (cluster, due_at) index."""
    return [Row(values) for values in Container.objects.filter(cluster=cluster, due_at__lte=now)
            .values_list(*Row.COLUMNS)]


def rows_by_pod(cluster, pod_uids):
    """Container rows of several pods in one query: {pod uid (str): [rows]}.

    By the (pod_uid, name) index alone: with the cluster in the filter too, SQLite reads
    every container of the cluster instead."""
    found = {}
    for values in Container.objects.filter(pod_uid__in=list(pod_uids)).values_list(*Row.COLUMNS):
        row = Row(values)
        if row.cluster_id == cluster.pk:
            found.setdefault(str(row.pod_uid), []).append(row)
    return found


def forget(cluster, pod_uids):
    """The runtime's records of pods that are gone: containers, sandboxes and logs."""
    Container.objects.filter(cluster=cluster, pod_uid__in=pod_uids).delete()
    Sandbox.objects.filter(cluster=cluster, pod_uid__in=pod_uids).delete()
    ContainerLog.objects.filter(cluster=cluster, pod_uid__in=pod_uids).delete()
