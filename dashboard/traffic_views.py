"""Traffic into the cluster from the board and the browser: the traffic panel's bursts, the
ingress request form, and the simulated ingress controller's own URL.

Thin: each view checks its input and makes one call into cluster.traffic or
cluster.ingress_controller. The board's POSTs are CSRF-protected as its other form posts are
(the page sends X-CSRFToken); bad input is a 400 metav1.Status naming the field.

The contract with the board's traffic panel:
  POST /clusters/{c}/traffic  {"namespace","service","port"?,"clientIP","count"}
    -> {"requests": [{"n","client","endpoint","pod","namespace","node","status","body"}
                     | {"n","client","error"}], "hits": {pod: n}}
  POST /clusters/{c}/traffic/ingress  {"host","path"}
    -> {"status", "route": [{"step": "ingress"|"service"|"pod", ...}], "body", "reason"?}
"""

import ipaddress
import json

from django.db import transaction
from django.http import HttpResponse, JsonResponse
from django.views.decorators.http import require_POST

from cluster import ingress_controller, runtime, traffic
from cluster.errors import ApiError, BadRequest
from dashboard.views import _cluster


def _status(exc):
    return JsonResponse(exc.status(), status=exc.code)


def _invalid(field, message):
    return BadRequest(f"{field}: {message}", details={"causes": [
        {"reason": "FieldValueInvalid", "message": message, "field": field}]})


def _body(request):
    try:
        body = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest(f"the request body is not JSON: {exc}") from None
    if not isinstance(body, dict):
        raise BadRequest("the request body must be a JSON object")
    return body


def _text(body, field, default=None, required=False):
    value = body.get(field, default)
    if value is None and not required:
        return None
    if not isinstance(value, str) or (required and not value):
        raise _invalid(field, "must be a non-empty string")
    return value


def burst_request(body):
    """The traffic panel's request, checked: (namespace, service, port, client IP, count)."""
    namespace = _text(body, "namespace", "default", required=True)
    service = _text(body, "service", required=True)
    port = body.get("port")
    if port is not None and not (isinstance(port, (int, str)) and not isinstance(port, bool)
                                 and str(port)):
        raise _invalid("port", "must be a port number or name")
    client_ip = _text(body, "clientIP", "10.0.0.7", required=True)
    try:
        ipaddress.ip_address(client_ip)
    except ValueError:
        raise _invalid("clientIP", f'"{client_ip}" is not a valid IP address') from None
    count = body.get("count", 1)
    if not isinstance(count, int) or isinstance(count, bool) or \
            not 1 <= count <= traffic.MAX_BURST:
        raise _invalid("count", f"must be a whole number from 1 to {traffic.MAX_BURST}")
    return namespace, service, port, client_ip, count


@require_POST
def send_traffic(request, cluster):
    """The traffic panel: `count` requests from a client IP to a Service."""
    cluster = _cluster(cluster)
    try:
        namespace, service, port, client_ip, count = burst_request(_body(request))
        return JsonResponse(traffic.burst(cluster, namespace, service, port, client_ip, count))
    except ApiError as exc:
        return _status(exc)
    except runtime.StaleRuntime:
        return JsonResponse({"message": "the pods were busy: send again"}, status=409)


@require_POST
def ingress_request(request, cluster):
    """The board's ingress form: where a host + path goes, as JSON."""
    cluster = _cluster(cluster)
    try:
        body = _body(request)
        host = _text(body, "host", "") or ""
        path = _text(body, "path", "/") or "/"
        return JsonResponse(_route(cluster, host, path).as_dict())
    except ApiError as exc:
        return _status(exc)


def ingress(request, cluster, path=""):
    """/clusters/{c}/ingress/{path}?host={host}: the ingress controller answering HTTP, the
    route taken in X-Kubelab-Route (and why not in X-Kubelab-Reason)."""
    cluster = _cluster(cluster)
    # Without ?host= the request's own Host header is the host, as at a real controller.
    host = request.GET.get("host") or request.META.get("HTTP_HOST", "").split(":")[0]
    route = _route(cluster, host, "/" + path)
    response = HttpResponse(route.body if not route.reason else
                            f"{route.body}{route.reason}\n", status=route.status,
                            content_type="text/plain; charset=utf-8")
    if route.steps:
        response["X-Kubelab-Route"] = route.header()
    if route.reason:
        response["X-Kubelab-Reason"] = route.reason
    return response


def _route(cluster, host, path):
    for attempt in range(3):
        try:
            with transaction.atomic():
                network = traffic.Network(cluster)
                route = ingress_controller.route(cluster, host, path, network=network)
                network.flush()
                return route
        except runtime.StaleRuntime:
            if attempt == 2:
                raise
