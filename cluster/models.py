"""The persisted cluster: sandboxes, Kubernetes objects, the change log and the clock.

Only `cluster.store` writes ApiObject and Change rows (and the engine the clock's `now`);
everything else reads.
"""

import datetime as dt
import secrets

from django.db import models
from django.utils import timezone


def new_token():
    """A cluster's bearer token: 256 random bits, URL-safe (it travels in a kubeconfig)."""
    return secrets.token_urlsafe(32)


class Cluster(models.Model):
    """One sandbox: its own nodes, objects and clock."""

    name = models.SlugField(max_length=63, unique=True)
    created = models.DateTimeField(auto_now_add=True)
    initial_nodes = models.PositiveIntegerField(default=3)
    # Simulated seconds a container takes from ContainerCreating to Running.
    container_start_seconds = models.FloatField(default=2.0)
    # Highest change id dropped by compaction: a watch or websocket resuming from below it has
    # missed changes and must start over from a snapshot (410 Expired in the API).
    compacted_rv = models.BigIntegerField(default=0)
    # Which reconciler worker ticks this cluster, and until when (wall clock): workers split
    # the clusters between them by holding leases.
    lease_holder = models.CharField(max_length=200, blank=True, default="")
    lease_until = models.DateTimeField(null=True, blank=True)
    # The bearer token its kubeconfig carries: the API of this cluster, and only this one,
    # answers it (cluster.api.auth). Kept across resets, so a saved kubeconfig stays valid.
    token = models.CharField(max_length=64, default=new_token)
    # When someone last looked at it (wall clock): a cluster left alone long enough sleeps
    # (cluster.activity).
    last_seen = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Worker(models.Model):
    """A live reconciler worker; each takes a fair share of the clusters' leases."""

    holder = models.CharField(max_length=200, unique=True)
    seen_until = models.DateTimeField()

    def __str__(self):
        return self.holder


class SimClock(models.Model):
    """The cluster's simulated time. Controllers read `now`; nothing reads the wall clock."""

    cluster = models.OneToOneField(Cluster, on_delete=models.CASCADE, related_name="clock")
    now = models.DateTimeField()
    paused = models.BooleanField(default=False)
    speed = models.PositiveSmallIntegerField(default=1)
    # Seconds the board asked to step while paused; the reconciler consumes them.
    pending_step = models.FloatField(default=0)
    # Bumped on each spec change (paused/speed), for optimistic concurrency on the Clock object.
    resource_version = models.BigIntegerField(default=1)
    # Paused by cluster.activity because nobody looked at the cluster; the next look resumes it.
    idle_paused = models.BooleanField(default=False)

    def advance(self, seconds):
        self.now = self.now + dt.timedelta(seconds=seconds)


class ApiObjectQuerySet(models.QuerySet):
    def of_kind(self, kind, group=""):
        return self.filter(kind=kind, group=group)

    def in_namespace(self, namespace):
        return self.filter(namespace=namespace) if namespace else self

    def alive(self):
        return self.filter(deleting=False)

    def pods(self):
        return self.of_kind("Pod")

    def nodes(self):
        return self.of_kind("Node")

    def unscheduled(self):
        return self.filter(node_name="", deleting=False)

    def on_node(self, node_name):
        return self.filter(node_name=node_name)


class ApiObject(models.Model):
    """One Kubernetes object. `body` is the object as served; the columns index it."""

    cluster = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="api_objects")
    group = models.CharField(max_length=253, blank=True, default="")
    kind = models.CharField(max_length=63)
    namespace = models.CharField(max_length=63, blank=True, default="")
    name = models.CharField(max_length=253)
    uid = models.UUIDField(unique=True)
    resource_version = models.BigIntegerField(db_index=True)
    labels = models.JSONField(default=dict)
    # Indexed copies of what controllers query every tick (empty when the kind has none).
    node_name = models.CharField(max_length=253, blank=True, default="")
    phase = models.CharField(max_length=32, blank=True, default="")
    deleting = models.BooleanField(default=False)
    owner_uid = models.CharField(max_length=36, blank=True, default="", db_index=True)
    body = models.JSONField()

    objects = ApiObjectQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["cluster", "group", "kind", "namespace", "name"], name="unique_object_name"
            )
        ]
        indexes = [
            models.Index(fields=["cluster", "kind", "namespace"]),
            models.Index(fields=["cluster", "kind", "node_name"]),
            models.Index(fields=["cluster", "kind", "phase"]),
            models.Index(fields=["cluster", "kind", "deleting"]),
            # "My pods" of every controller, and the garbage collector's distinct owners
            # (by kind, so the events naming an object in owner_uid are never walked).
            models.Index(fields=["cluster", "kind", "owner_uid"]),
        ]
        verbose_name = "object"

    def __str__(self):
        return f"{self.kind} {self.namespace + '/' if self.namespace else ''}{self.name}"

    @property
    def metadata(self):
        return self.body["metadata"]

    @property
    def spec(self):
        return self.body.get("spec") or {}

    @property
    def status(self):
        return self.body.get("status") or {}


class Change(models.Model):
    """The change log. A change's id is the resourceVersion of the object it wrote."""

    ADDED, MODIFIED, DELETED = "ADDED", "MODIFIED", "DELETED"

    id = models.BigAutoField(primary_key=True)
    cluster = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="changes")
    type = models.CharField(max_length=8)
    group = models.CharField(max_length=253, blank=True, default="")
    kind = models.CharField(max_length=63)
    namespace = models.CharField(max_length=63, blank=True, default="")
    name = models.CharField(max_length=253)
    # The object as written, without metadata.resourceVersion: that is this change's id.
    object = models.JSONField()

    class Meta:
        indexes = [models.Index(fields=["cluster", "id"])]

    def as_event(self):
        """The watch event for this change: {"type", "object"} with the resourceVersion set."""
        obj = self.object
        obj["metadata"]["resourceVersion"] = str(self.id)
        return {"type": self.type, "object": obj}


class KindManager(models.Manager):
    """The objects of one kind: what each kind's proxy model (and so its admin page) lists."""

    def __init__(self, kind, group=""):
        super().__init__()
        self.kind, self.group = kind, group

    def get_queryset(self):
        return ApiObjectQuerySet(self.model, using=self._db).filter(kind=self.kind,
                                                                    group=self.group)


def _proxy(kind, group="", plural=None):
    meta = type("Meta", (), {"proxy": True, "verbose_name": kind,
                             "verbose_name_plural": plural or f"{kind}s"})
    return type(kind, (ApiObject,), {"__module__": __name__, "Meta": meta,
                                     "objects": KindManager(kind, group)})


# One proxy model per kind, so the Django admin has a page per kind.
Pod = _proxy("Pod")
Node = _proxy("Node")
Namespace = _proxy("Namespace")
Event = _proxy("Event")


class Sandbox(models.Model):
    """The simulated container runtime's record of one pod: its volumes (an emptyDir is a
    small filesystem shared by the pod's containers). Not a Kubernetes object: what
    containerd would know. Written by the kubelet only; gone with the pod."""

    cluster = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="sandboxes")
    pod_uid = models.UUIDField(unique=True)
    volumes = models.JSONField(default=dict)


class Container(models.Model):
    """The runtime's record of one container of a pod: its process, filesystem and back-off.

    `due_at` is when the kubelet must next look at it (its program wakes, a probe is due, a
    restart's back-off ends), so a tick touches only the containers with something to do.
    """

    CREATING, RUNNING, EXITED, WAITING = "creating", "running", "exited", "waiting"

    cluster = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="containers")
    pod_uid = models.UUIDField()
    name = models.CharField(max_length=63)
    restart_count = models.PositiveIntegerField(default=0)
    state = models.CharField(max_length=16, default=CREATING)
    due_at = models.DateTimeField(null=True, blank=True)
    data = models.JSONField(default=dict)
    # Bumped on every save: a kubelet pass and an exec racing on one container cannot both
    # win (the runtime saves with a conditional UPDATE).
    version = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["pod_uid", "name"],
                                               name="one_runtime_container_per_name")]
        indexes = [models.Index(fields=["cluster", "due_at"])]


class ContainerLog(models.Model):
    """One line a container wrote, in simulated time. Kept for the current instance and the
    one before it (`kubectl logs --previous`); gone with the pod."""

    cluster = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="logs")
    pod_uid = models.UUIDField()
    container = models.CharField(max_length=63)
    instance = models.PositiveIntegerField()
    at = models.DateTimeField()
    stream = models.CharField(max_length=6, default="stdout")
    line = models.TextField()

    class Meta:
        indexes = [models.Index(fields=["pod_uid", "container", "instance", "id"])]
