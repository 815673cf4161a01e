"""A simulated ingress controller: an HTTP request (host + path) routed by the Ingress rules to
a Service and then one of its ready pods, with the route it took, or a 404 saying why.

Matching, as the Ingress API defines it (networking.k8s.io/v1):
- host: an exact host, or a wildcard `*.example.com` that covers exactly one more label
  (`foo.example.com`, not `example.com` nor `a.b.example.com`); a rule without a host covers
  every host. Rules of an exact host are tried first, then wildcards, then host-less rules.
- path: Exact matches the path as it is; Prefix matches element by element on `/` (`/foo`
  covers `/foo` and `/foo/bar`, not `/foobar`; a trailing slash is ignored);
  ImplementationSpecific is treated as Prefix. The longest matching path wins and, at equal
  length, Exact beats Prefix.
- nothing matched: the defaultBackend of an Ingress, else 404.
Every Ingress of the cluster is served (kubelab runs one controller, whatever the class).
"""

from dataclasses import dataclass, field

from cluster import traffic
from cluster.models import ApiObject

EXACT, PREFIX, SPECIFIC = "Exact", "Prefix", "ImplementationSpecific"


@dataclass
class Route:
    """The ingress controller's answer: status, body, the steps taken, or why not."""

    status: int
    body: str = ""
    steps: list = field(default_factory=list)
    reason: str = ""

    def as_dict(self):
        answer = {"status": self.status, "route": self.steps, "body": self.body}
        if self.reason:
            answer["reason"] = self.reason
        return answer

    def header(self):
        """The route on one line, for the X-Kubelab-Route header."""
        parts = []
        for step in self.steps:
            if step["step"] == "ingress":
                parts.append(f"ingress {step['name']} rule {step['rule']}")
            elif step["step"] == "service":
                parts.append(f"service {step['name']}:{step['port']}")
            else:
                parts.append(f"pod {step['name']} on {step['node']} {step['endpoint']}")
        return " -> ".join(parts)


def host_matches(rule_host, host):
    if not rule_host:
        return True
    if rule_host.startswith("*."):
        first, _, rest = host.partition(".")
        return bool(first) and rest == rule_host[2:]
    return rule_host == host


def host_tier(rule_host):
    """0 exact, 1 wildcard, 2 any host: the order rules are tried in."""
    if not rule_host:
        return 2
    return 1 if rule_host.startswith("*.") else 0


def elements(path):
    return [part for part in path.split("/") if part]


def path_matches(path_type, rule_path, path):
    """How long a match `rule_path` is for `path` (None: no match)."""
    rule_path = rule_path or "/"
    if path_type == EXACT:
        return len(rule_path) if rule_path == path else None
    wanted, given = elements(rule_path), elements(path)
    if given[:len(wanted)] == wanted:
        return len(rule_path.rstrip("/")) or 0
    return None


def rule_text(host, path, path_type):
    return f"{host or '*'}{path or '/'} ({path_type})"


def choose(ingresses, host, path):
    """(ingress, backend, rule text) of the best match, or None."""
    host = (host or "").lower().split(":")[0]
    best = None   # ((tier, -length, exact-last), ingress, backend, text)
    for ingress in ingresses:
        spec = ingress.get("spec") or {}
        for rule in spec.get("rules") or []:
            rule_host = rule.get("host") or ""
            if not host_matches(rule_host, host):
                continue
            for entry in (rule.get("http") or {}).get("paths") or []:
                path_type = entry.get("pathType") or SPECIFIC
                length = path_matches(path_type, entry.get("path"), path)
                if length is None:
                    continue
                rank = (host_tier(rule_host), -length, 0 if path_type == EXACT else 1)
                if best is None or rank < best[0]:
                    best = (rank, ingress, entry.get("backend") or {},
                            rule_text(rule_host, entry.get("path"), path_type))
    if best is not None:
        return best[1:]
    for ingress in ingresses:
        backend = (ingress.get("spec") or {}).get("defaultBackend")
        if backend:
            return ingress, backend, "defaultBackend"
    return None


def route(cluster, host, path, client_ip="10.0.0.1", network=None):
    """Route one request through the cluster's Ingresses to a pod: a Route."""
    path = "/" + (path or "").lstrip("/")
    ingresses = [row.body for row in sorted(ApiObject.objects.filter(
        cluster=cluster, kind="Ingress", group="networking.k8s.io"), key=lambda row: row.pk)]
    chosen = choose(ingresses, host, path)
    if chosen is None:
        return Route(404, "404 Not Found\n",
                     reason=f"no rule matched host {host or '(none)'} path {path}")
    ingress, backend, text = chosen
    meta = ingress["metadata"]
    steps = [{"step": "ingress", "name": meta["name"], "namespace": meta.get("namespace"),
              "rule": text}]
    service_ref = backend.get("service")
    if not service_ref:
        return Route(404, "404 Not Found\n", steps,
                     "the backend is a resource, not a Service: kubelab's controller routes "
                     "only to Services")
    network = network or traffic.Network(cluster)
    namespace = meta.get("namespace") or "default"
    service = network.services.get((namespace, service_ref.get("name")))
    wanted = (service_ref.get("port") or {})
    port_ref = wanted.get("number") if wanted.get("number") is not None else wanted.get("name")
    if service is None:
        return Route(404, "404 Not Found\n", steps,
                     f'service "{namespace}/{service_ref.get("name")}" does not exist')
    service_port = traffic.service_port_of(service, port_ref)
    if service_port is None:
        return Route(404, "404 Not Found\n", steps,
                     f'service "{namespace}/{service_ref.get("name")}" has no port '
                     f"{port_ref}")
    steps.append({"step": "service", "name": f"{namespace}/{service['metadata']['name']}",
                  "port": service_port.get("port")})
    try:
        reply = network.to_service(service, service_port, path, client_ip)
    except ConnectionRefusedError:
        return Route(404, "404 Not Found\n", steps,
                     f'service "{namespace}/{service["metadata"]["name"]}" has no ready '
                     "endpoint")
    steps.append({"step": "pod", "name": reply.pod, "namespace": reply.namespace,
                  "node": reply.node, "endpoint": reply.endpoint})
    return Route(reply.status, reply.body, steps)
