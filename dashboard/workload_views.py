"""The Workloads tab's endpoints: scale, delete with a cascade, a CronJob's next run; and the
Apply form's examples.

Thin, like dashboard/views.py: each is one call into `cluster`, CSRF-protected as the board's
other form posts are (the page sends X-CSRFToken). A refusal is the metav1.Status the API
server would send, with its code, so the board shows Kubernetes' own words.
"""

from django.http import JsonResponse
from django.views.decorators.http import require_GET, require_POST

from cluster import kinds, store
from cluster.errors import ApiError, BadRequest, NotFound
from dashboard import examples
from dashboard.views import _cluster

from cluster.controllers.cronjob import next_schedule_time

# The controllers the tab shows, by the resource name their URLs (and kubectl) use.
WORKLOADS = {
    "replicationcontrollers": ("ReplicationController", ""),
    "replicasets": ("ReplicaSet", "apps"),
    "daemonsets": ("DaemonSet", "apps"),
    "jobs": ("Job", "batch"),
    "cronjobs": ("CronJob", "batch"),
}
SCALABLE = ("replicationcontrollers", "replicasets")
# kubectl delete --cascade=<value> -> DeleteOptions.propagationPolicy.
CASCADE = {"background": "Background", "foreground": "Foreground", "orphan": "Orphan"}


def _status(exc):
    return JsonResponse(exc.status(), status=exc.code)


def _kind(resource):
    kind, group = WORKLOADS.get(resource, (None, None))
    if kind is None:
        raise NotFound(f'the server could not find the requested resource ({resource})')
    return kinds.get(kind, group)


def _named(kind):
    """`replicationcontroller/kubia`, as kubectl names an object in what it prints."""
    return f"{kind.singular}.{kind.group}" if kind.group else kind.singular


@require_POST
def scale(request, cluster, resource, namespace, name):
    """`kubectl scale <resource> <name> --replicas=N`: one merge patch of spec.replicas."""
    cluster = _cluster(cluster)
    try:
        kind = _kind(resource)
        if resource not in SCALABLE:
            raise BadRequest(f"{kind.plural} cannot be scaled here: only ReplicationControllers "
                             "and ReplicaSets have a replica count")
        text = (request.POST.get("replicas") or "").strip()
        try:
            replicas = int(text)
        except ValueError:
            # kubectl's own refusal of `--replicas=abc` (strconv.ParseInt).
            raise BadRequest(f'invalid argument "{text}" for "--replicas" flag: '
                             f'strconv.ParseInt: parsing "{text}": invalid syntax') from None
        # A negative count reaches the store, which refuses it in the API server's words.
        written = store.patch(cluster, kind, namespace, name, {"spec": {"replicas": replicas}},
                              store.MERGE_PATCH)
    except ApiError as exc:
        return _status(exc)
    return JsonResponse({
        "kind": kind.kind, "namespace": namespace, "name": name,
        "replicas": written.object["spec"]["replicas"],
        "resourceVersion": written.object["metadata"]["resourceVersion"],
        "message": f"{_named(kind)}/{name} scaled",
    })


@require_POST
def delete(request, cluster, resource, namespace, name):
    """`kubectl delete <resource> <name> --cascade=background|foreground|orphan`."""
    cluster = _cluster(cluster)
    cascade = request.POST.get("cascade") or "background"
    try:
        kind = _kind(resource)
        if cascade not in CASCADE:
            raise BadRequest(f'invalid cascade value ({cascade}). Must be "background", '
                             '"foreground", or "orphan".')
        store.delete(cluster, kind, namespace, name, propagation=CASCADE[cascade])
    except ApiError as exc:
        return _status(exc)
    return JsonResponse({
        "kind": kind.kind, "namespace": namespace, "name": name,
        "propagationPolicy": CASCADE[cascade],
        "message": f'{_named(kind)} "{name}" deleted',
    })


@require_GET
def next_run(request, cluster, namespace, name):
    """When the CronJob starts its next Job, in simulated time (null when it will not: suspended,
    or a schedule that never fires). The board counts down to it with the live clock."""
    cluster = _cluster(cluster)
    try:
        cronjob = store.get(cluster, _kind("cronjobs"), namespace, name)
    except ApiError as exc:
        return _status(exc)
    now = store.now_of(cluster)
    spec = cronjob.get("spec") or {}
    body = {"namespace": namespace, "name": name, "schedule": spec.get("schedule", ""),
            "timeZone": spec.get("timeZone"), "suspend": bool(spec.get("suspend")),
            "now": store.timestamp(now), "resourceVersion": cronjob["metadata"]["resourceVersion"]}
    try:
        moment = next_schedule_time(cronjob, now)
    except ValueError as exc:  # cron.CronError: a schedule that never fires
        return JsonResponse({**body, "next": None, "message": str(exc)})
    body["next"] = store.timestamp(moment) if moment is not None else None
    return JsonResponse(body)


@require_GET
def example_list(request):
    """The Examples menu's manifests: slug, title, group, where it comes from, a note, text."""
    return JsonResponse({"examples": examples.all_examples()})
