"""The board's kubelet endpoints: the pod panel's exec console and the node column's Drain.

Thin, like dashboard/views.py: each is one call into `cluster`, CSRF-protected as the board's
other form posts are (the page sends X-CSRFToken). Refusals are the metav1.Status the API
server would send, with its code, so the board shows Kubernetes' own words.
"""

from django.http import JsonResponse
from django.views.decorators.http import require_POST

from cluster.api import exec as api_exec
from cluster.errors import ApiError, BadRequest
from dashboard.views import _cluster

try:  # being written alongside (issue 4); the board's Drain answers 501 until it lands
    from cluster.nodes_admin import drain as _drain
except ImportError:
    _drain = None

MAX_COMMAND = 4096


def _status(exc):
    return JsonResponse(exc.status(), status=exc.code)


@require_POST
def exec_in_container(request, cluster):
    """POST namespace, pod, container, command: run `sh -c <command>` in the container, as
    `kubectl exec <pod> -c <container> -- sh -c '<command>'` does; answer its output."""
    cluster = _cluster(cluster)
    namespace = request.POST.get("namespace") or "default"
    pod = request.POST.get("pod", "")
    container = request.POST.get("container") or None
    command = request.POST.get("command", "")
    if not pod:
        return _status(BadRequest("a pod name is required"))
    if not command.strip():
        return _status(BadRequest("you must specify at least one command for the container"))
    if len(command) > MAX_COMMAND:
        return _status(BadRequest(f"the command is {len(command)} characters long; "
                                  f"the limit is {MAX_COMMAND}"))
    try:
        code, out, err = api_exec.run(cluster, namespace, pod, container, ["sh", "-c", command])
    except ApiError as exc:
        return _status(exc)
    return JsonResponse({"exitCode": code, "stdout": list(out), "stderr": list(err)})


@require_POST
def drain_node(request, cluster, name):
    """`kubectl drain <node>`: cordon it and evict its pods but DaemonSet ones."""
    cluster = _cluster(cluster)
    if _drain is None:
        return JsonResponse({
            "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": "drain is not available in this kubelab yet; cordon the node and delete "
                       "its pods instead", "reason": "NotImplemented", "code": 501}, status=501)
    try:
        outcome = _drain(cluster, name)
    except ApiError as exc:
        return _status(exc)
    # What kubectl drain prints, line by line; errors (pods kubectl would refuse) make it fail.
    body = {"node": name,
            "lines": list(getattr(outcome, "lines", []) or []),
            "evicted": list(getattr(outcome, "evicted", []) or []),
            "skipped": [list(s) for s in getattr(outcome, "skipped", []) or []],
            "errors": list(getattr(outcome, "errors", []) or [])}
    body["ok"] = not body["errors"]
    if not body["ok"]:
        body["message"] = "\n".join(body["lines"])
    return JsonResponse(body, status=200 if body["ok"] else 409)
