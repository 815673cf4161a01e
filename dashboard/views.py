"""Pages and the board's form endpoints. Thin: every write is one call into `cluster`."""

import yaml
from django.db.models import Q
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from cluster import activity, apply, bootstrap, kinds, selectors, store
from cluster.errors import ApiError
from cluster.kinds import validation
from cluster.models import ApiObject, Cluster
from dashboard import examples

MAX_MANIFEST_BYTES = 1024 * 1024
MAX_NODES = 500


def _cluster(name):
    try:
        return Cluster.objects.select_related("clock").get(name=name)
    except Cluster.DoesNotExist:
        raise Http404(f"no cluster named {name!r}") from None


def _sandboxes():
    """The clusters people made themselves: a lesson's own cluster (one per learner and
    lesson, lessons.models.LessonRun) is reached from /lessons/, not listed beside them."""
    return Cluster.objects.filter(lesson_run__isnull=True)


def _cluster_rows():
    return [{"name": c.name, "nodes": c.api_objects.filter(kind="Node").count(),
             "pods": c.api_objects.filter(kind="Pod").count(), "now": c.clock.now}
            for c in _sandboxes().select_related("clock")]


@require_GET
def home(request):
    return render(request, "dashboard/home.html", {"clusters": _cluster_rows()})


@require_POST
def create_cluster(request):
    name = (request.POST.get("name") or "").strip()
    try:
        nodes = int(request.POST.get("nodes") or 3)
    except ValueError:
        nodes = -1
    problems = validation.dns1123_label(name) if name else ["a name is required"]
    if not 1 <= nodes <= MAX_NODES:
        problems.append(f"the number of nodes must be between 1 and {MAX_NODES}")
    if Cluster.objects.filter(name=name).exists():
        problems.append(f"a cluster named {name!r} already exists")
    if problems:
        # Re-render with the message rather than lose the user's input to a redirect.
        return render(request, "dashboard/home.html", {
            "clusters": _cluster_rows(), "error": f"cannot create cluster {name!r}: "
            + "; ".join(problems), "form": {"name": name, "nodes": request.POST.get("nodes")},
        }, status=400)
    bootstrap.create_cluster(name, nodes)
    return redirect("board", cluster=name)


@require_POST
def reset_cluster(request, cluster):
    bootstrap.reset_cluster(_cluster(cluster))
    return redirect("board", cluster=cluster)


@require_GET
def board(request, cluster):
    return render(request, "dashboard/board.html", board_context(_cluster(cluster)))


def board_context(cluster):
    """What the board's template needs; a lesson page renders the board with these too.
    Someone is looking at the cluster: it wakes if it slept (cluster.activity)."""
    activity.seen(cluster.name)
    return {
        "cluster": cluster,
        "clusters": Cluster.objects.filter(Q(lesson_run__isnull=True) | Q(pk=cluster.pk))
        .values_list("name", flat=True),
        "api_base": f"/clusters/{cluster.name}",
        "examples": examples.all_examples(),
        "example_groups": examples.GROUPS,
    }


@require_POST
def apply_manifests(request, cluster):
    """The YAML form: pasted text or an uploaded file, applied all or nothing."""
    cluster = _cluster(cluster)
    upload = request.FILES.get("file")
    if upload is not None:
        if upload.size > MAX_MANIFEST_BYTES:
            return JsonResponse(_too_big(upload.size), status=413)
        text = upload.read()
    else:
        text = request.POST.get("manifest", "")
        if len(text.encode()) > MAX_MANIFEST_BYTES:
            return JsonResponse(_too_big(len(text.encode())), status=413)
    namespace = request.POST.get("namespace") or "default"
    report = apply.apply_text(cluster, text, namespace)
    return JsonResponse(report.as_dict(), status=200 if report.ok else 422)


def _too_big(size):
    return {"ok": False, "applied": [], "errors": [{
        "document": 0, "line": None, "field": "",
        "message": f"the manifest is {size / 1024 / 1024:.1f} MiB; the limit is 1 MiB",
        "hint": "apply it in smaller files"}]}


@require_POST
def step_clock(request, cluster):
    cluster = _cluster(cluster)
    try:
        seconds = float(request.POST.get("seconds") or 1)
    except ValueError:
        return JsonResponse({"ok": False, "message": "seconds must be a number"}, status=400)
    if not 0 < seconds <= 3600:
        return JsonResponse({"ok": False, "message": "seconds must be between 0 and 3600"},
                            status=400)
    store.step_clock(cluster, seconds)
    return JsonResponse({"ok": True, "seconds": seconds})


@require_GET
def describe(request, cluster, kind, name, namespace=""):
    """An object as stored, as YAML, with its events: the board's detail panel."""
    cluster = _cluster(cluster)
    group = request.GET.get("group")
    # Without ?group=, a kind's name is enough: kubelab serves each kind in one group.
    found = kinds.get(kind, group or "") if group is not None else _kind_named(kind)
    if found is None:
        raise Http404(f"unknown kind {kind!r}")
    try:
        obj = store.get(cluster, found, namespace, name)
    except ApiError as exc:
        return JsonResponse(exc.status(), status=exc.code)
    events = []
    uid = obj["metadata"].get("uid")
    if uid and found.kind != "Event":
        rows = (ApiObject.objects.filter(cluster=cluster, kind="Event", owner_uid=uid)
                .order_by("resource_version").values_list("body", flat=True))
        events = list(rows)
    return JsonResponse({
        "object": obj,
        "yaml": yaml.safe_dump(obj, sort_keys=False, default_flow_style=False, width=100),
        "events": events,
    })


def _kind_named(name):
    return next((k for k in kinds.all_kinds() if k.kind == name), None)


@require_GET
def parse_selector(request, cluster):
    """The board's selector box: parse `kubectl -l` text with the server's own parser, so the
    browser shows Kubernetes' exact errors and matches with the requirements it gets back."""
    _cluster(cluster)
    text = request.GET.get("q", "")
    try:
        selector = selectors.parse(text)
    except selectors.SelectorError as exc:
        return JsonResponse({"ok": False, "error": exc.message})
    return JsonResponse({
        "ok": True,
        "selector": str(selector),
        "requirements": [{"key": r.key, "operator": r.operator, "values": list(r.values)}
                         for r in selector.requirements],
    })
