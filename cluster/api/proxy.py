"""The proxy subresources of pods and Services: the API server as a way into the cluster.

    /api/v1/namespaces/{ns}/services/[{scheme}:]{name}[:{port}]/proxy/{path}
    /api/v1/namespaces/{ns}/pods/[{scheme}:]{name}[:{port}]/proxy/{path}

As Kubernetes 1.32's registries locate them (pkg/registry/core/service/storage: ResourceLocation;
pkg/registry/core/pod/strategy.go: ResourceLocation; utilnet.SplitSchemeNamePort):
- a Service port by number is mapped to its name, then a random ready address of a subset
  offering a port of that name is picked (the API server ignores sessionAffinity);
- a pod without a port uses its first container's first declared port;
- refusals are worded as the API server words them: 503 `no endpoints available for service
  "kubia"`, 503 `no service port 81 found for service "kubia"`, 400 `invalid service request`.

kubelab's containers speak plain HTTP only, so an `https:` scheme is refused with a 503 that
says so (the real API server would try a TLS handshake the pod cannot answer).
The pod's reply goes back as it is: its status and body, text/plain.
"""

import random

from django.db import transaction
from django.http import HttpResponse

from cluster import runtime, store, traffic
from cluster.errors import ApiError, BadRequest

SCHEMES = ("", "http", "https")


class ServiceUnavailable(ApiError):
    code, reason = 503, "ServiceUnavailable"


def split_scheme_name_port(text):
    """utilnet.SplitSchemeNamePort: "name", "name:port" or "scheme:name:port"; None if
    invalid."""
    parts = text.split(":")
    if len(parts) == 1:
        scheme, name, port = "", parts[0], ""
    elif len(parts) == 2:
        scheme, name, port = "", parts[0], parts[1]
    elif len(parts) == 3:
        scheme, name, port = parts
    else:
        return None
    if not name or scheme not in SCHEMES:
        return None
    return scheme, name, port


def proxy(request, cluster, target):
    """Any method on pods/{name}/proxy or services/{name}/proxy: the pod's reply."""
    plural = target.kind.plural
    noun = "service" if plural == "services" else "pod"
    parts = split_scheme_name_port(target.name)
    if parts is None:
        raise BadRequest(f"invalid {noun} request {go_quote(target.name)}")
    scheme, name, port = parts
    if scheme == "https":
        raise ServiceUnavailable(
            f"error trying to reach {noun}: kubelab's simulated containers serve plain HTTP "
            f"only: use {name}:{port or '<port>'} (or http:{name}:{port or '<port>'})")
    reply = deliver(cluster, target.namespace, noun, target.name, name, port,
                    target.proxy_path or "/", client_ip_of(request))
    response = HttpResponse(reply.body, status=reply.status,
                            content_type="text/plain; charset=utf-8")
    return response


def deliver(cluster, namespace, noun, ident, name, port, path, client_ip, rng=random):
    """Find the pod behind the URL and let it answer; its runtime is saved with the reply."""
    for attempt in range(3):
        try:
            with transaction.atomic():
                network = traffic.Network(cluster, rng=rng)
                if noun == "service":
                    pod, number = service_location(cluster, network, namespace, ident, name,
                                                   port, rng)
                else:
                    pod, number = pod_location(cluster, namespace, name, port)
                try:
                    reply = network.to_pod(pod, number, path, client_ip)
                except ConnectionRefusedError:
                    raise ServiceUnavailable(
                        f"error trying to reach {noun}: dial tcp {pod['status']['podIP']}:"
                        f"{number}: connect: connection refused") from None
                network.flush()
                return reply
        except runtime.StaleRuntime:
            if attempt == 2:
                raise ServiceUnavailable("the pod is busy: try again") from None


def service_location(cluster, network, namespace, ident, name, port, rng):
    """(pod, port number) the API server proxies a Service request to."""
    service = store.get(cluster, store.kinds.get("Service"), namespace, name)
    port_name = port
    if port.isdigit():
        match = next((p for p in service["spec"].get("ports") or []
                      if p.get("port") == int(port)), None)
        if match is None:
            raise ServiceUnavailable(f"no service port {int(port)} found for service "
                                     f"{go_quote(name)}")
        port_name = match.get("name") or ""
    endpoints = store.get(cluster, store.kinds.get("Endpoints"), namespace, name)
    if not endpoints.get("subsets"):
        raise ServiceUnavailable(f"no endpoints available for service {go_quote(name)}")
    ready = network.backends(service, {"name": port_name})
    if not ready:
        raise ServiceUnavailable(f"no endpoints available for service {go_quote(ident)}")
    backend = rng.choice(ready)
    pod = network.pods_by_name.get((backend.namespace, backend.pod)) or \
        network.pods_by_ip.get(backend.ip)
    if pod is None:
        raise ServiceUnavailable(f"error trying to reach service: dial tcp {backend.ip}:"
                                 f"{backend.port}: connect: connection refused")
    return pod, backend.port


def pod_location(cluster, namespace, name, port):
    """(pod, port number) of pods/{name}[:{port}]/proxy."""
    pod = store.get(cluster, store.kinds.get("Pod"), namespace, name)
    containers = (pod.get("spec") or {}).get("containers") or []
    if port == "":
        declared = next((c["ports"][0] for c in containers if c.get("ports")), None)
        number = declared["containerPort"] if declared else 80
    elif port.isdigit():
        number = int(port)
    else:
        # A port name: kubelab looks it up among the containers' ports (the API server
        # would dial it as it is, and fail).
        number = next((p["containerPort"] for c in containers for p in c.get("ports") or []
                       if p.get("name") == port), None)
        if number is None:
            raise BadRequest(f"no container port named {go_quote(port)} in pod "
                             f"{go_quote(name)}")
    ip = (pod.get("status") or {}).get("podIP") or ""
    if not traffic.is_ip(ip):
        raise BadRequest("address not allowed")    # proxyutil.IsProxyableIP
    return pod, number


def client_ip_of(request):
    return request.META.get("REMOTE_ADDR") or "127.0.0.1"


def go_quote(text):
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
