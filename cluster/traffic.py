"""The cluster network, as CoreDNS and kube-proxy make it.

A `Network` is one look at a cluster's Services, Endpoints, pods and nodes. It answers two
questions, the way a packet meets them:

1. DNS (`resolve`): `kubia`, `kubia.default`, `kubia.default.svc[.cluster.local]` (relative
   names from the client pod's namespace, through the pod's search path), headless services
   (their ready pods' IPs), `1-2-3-4.ns.pod.cluster.local` and `hostname.subdomain.ns.svc...`.
2. Routing (`send`): a ClusterIP (or node IP + NodePort) and port go to a random READY endpoint
   of that Service port, as kube-proxy's rules do; sessionAffinity ClientIP keeps a client on
   one pod until `timeoutSeconds` of simulated time pass without a request from it. No ready
   endpoint: connection refused (kube-proxy REJECTs). A pod IP goes straight to the pod.

The pod's image answers through the kubelet's runtime (runtime.PodRuntime.http), which counts
requests and logs them; the runtimes touched are saved together by `flush()`.

Affinity state is a safe-to-lose cache, as kube-proxy's own affinity table is in-memory: a
worker restart forgets which client went where, and the next request picks afresh. It is
keyed by simulated time, so a manual clock and a seeded `random` make routing deterministic.
"""

import ipaddress
import random
from dataclasses import dataclass, field

from django.db import transaction

from cluster import runtime, store
from cluster.errors import BadRequest
from cluster.kinds import service as svc
from cluster.models import ApiObject

CLUSTER_DOMAIN = "cluster.local"
NDOTS = 5             # the kubelet's resolv.conf for ClusterFirst pods: options ndots:5
FINISHED = ("Succeeded", "Failed")
# (cluster pk, service uid, service port name, client IP) -> (pod uid, last request seconds)
_affinity = {}


def reset_affinity():
    """Forget every client's pod (what a kube-proxy restart does)."""
    _affinity.clear()


@dataclass
class Reply:
    """What one request got: the pod's answer and where it went."""

    status: int
    body: str
    endpoint: str             # "ip:port" the packet reached
    pod: str = ""
    namespace: str = ""
    node: str = ""
    service: str = ""         # "namespace/name" when it went through a Service

    def as_dict(self):
        return {"endpoint": self.endpoint, "pod": self.pod, "namespace": self.namespace,
                "node": self.node, "status": self.status, "body": self.body}


@dataclass
class Backend:
    """One ready endpoint of a Service port: the pod behind an Endpoints address."""

    ip: str
    port: int
    pod: str
    namespace: str
    node: str
    uid: str = ""


@dataclass
class Network:
    """The cluster's network at one moment (`now`, simulated)."""

    cluster: object
    now: object = None
    rng: object = field(default=random)

    def __post_init__(self):
        self.now = self.now or store.now_of(self.cluster)
        self.seconds = runtime.seconds(self.now)
        self.services = {}          # (namespace, name) -> Service
        self.by_cluster_ip = {}     # cluster IP -> Service
        self.by_node_port = {}      # node port -> (Service, service port)
        self.endpoints = {}         # (namespace, name) -> Endpoints
        self.pods_by_ip = {}        # pod IP -> pod (not finished)
        self.pods_by_name = {}      # (namespace, name) -> pod
        self.node_ips = {}          # InternalIP -> node name
        self._runtimes = {}         # pod uid -> PodRuntime touched by a request
        self._backends = {}         # (service uid, port name) -> [Backend]
        self._rows = {}             # pod uid -> container rows, read by _prefetch
        self._load()

    def _load(self):
        for row in ApiObject.objects.filter(cluster=self.cluster, group="",
                                            kind__in=("Service", "Endpoints", "Pod", "Node")):
            body = row.body
            if row.kind == "Service":
                self.services[(row.namespace, row.name)] = body
                spec = body.get("spec") or {}
                if spec.get("clusterIP") not in (None, "", svc.NONE):
                    self.by_cluster_ip[spec["clusterIP"]] = body
                for port in spec.get("ports") or []:
                    if port.get("nodePort"):
                        self.by_node_port[port["nodePort"]] = (body, port)
            elif row.kind == "Endpoints":
                self.endpoints[(row.namespace, row.name)] = body
            elif row.kind == "Pod":
                self.pods_by_name[(row.namespace, row.name)] = body
                ip = (body.get("status") or {}).get("podIP")
                if ip and row.phase not in FINISHED:
                    self.pods_by_ip[ip] = body
            else:
                for address in (body.get("status") or {}).get("addresses") or []:
                    if address.get("type") == "InternalIP":
                        self.node_ips[address["address"]] = row.name

    # -- DNS ------------------------------------------------------------------------------

    def resolve(self, host, namespace="default"):
        """The IP a pod in `namespace` gets for `host`; LookupError when nothing answers."""
        name = (host or "").strip().lower()
        if is_ip(name):
            return name
        if name == "localhost":
            return "127.0.0.1"
        if name.endswith("."):
            candidates = [name[:-1]]
        else:
            search = [f"{namespace}.svc.{CLUSTER_DOMAIN}", f"svc.{CLUSTER_DOMAIN}",
                      CLUSTER_DOMAIN]
            expanded = [f"{name}.{domain}" for domain in search]
            # ndots:5: a name with fewer dots tries the search path first.
            candidates = expanded + [name] if name.count(".") < NDOTS else [name] + expanded
        for fqdn in candidates:
            ip = self._lookup(fqdn)
            if ip:
                return ip
        raise LookupError(host)

    def _lookup(self, fqdn):
        suffix = "." + CLUSTER_DOMAIN
        if not fqdn.endswith(suffix):
            return None
        labels = fqdn[:-len(suffix)].split(".")
        if len(labels) == 3 and labels[2] == "pod":
            # 10-244-1-5.default.pod.cluster.local: the IP written in the name.
            ip = labels[0].replace("-", ".")
            return ip if is_ip(ip) else None
        if len(labels) == 3 and labels[2] == "svc":
            service = self.services.get((labels[1], labels[0]))
            return self._service_ip(service) if service else None
        if len(labels) == 4 and labels[3] == "svc":
            # hostname.subdomain.ns.svc: a pod of a headless service with that hostname.
            for address in self._addresses(labels[2], labels[1]):
                if address.get("hostname") == labels[0]:
                    return address["ip"]
        return None

    def _service_ip(self, service):
        spec = service.get("spec") or {}
        if spec.get("type") == svc.EXTERNAL_NAME:
            return None      # a CNAME to a name outside the cluster: nothing resolves it here
        if svc.is_headless(spec):
            meta = service["metadata"]
            ips = sorted({a["ip"] for a in self._addresses(meta["namespace"], meta["name"])})
            # CoreDNS answers every ready pod's A record; the client takes one of them.
            return self.rng.choice(ips) if ips else None
        return spec.get("clusterIP")

    def _addresses(self, namespace, name):
        endpoints = self.endpoints.get((namespace, name)) or {}
        return [a for subset in endpoints.get("subsets") or [] for a in subset.get("addresses")
                or []]

    # -- kube-proxy -------------------------------------------------------------------------

    def backends(self, service, service_port):
        """The ready endpoints of one Service port, targetPort resolved per endpoint (the
        Endpoints' ports carry the Service port's name and each pod's number). Read once per
        Network: a burst of requests reuses them."""
        key = (service["metadata"].get("uid"), service_port.get("name") or "")
        found = self._backends.get(key)
        if found is None:
            found = self._backends[key] = self._read_backends(service, service_port)
            self._prefetch(found)
        return found

    def _read_backends(self, service, service_port):
        meta = service["metadata"]
        endpoints = self.endpoints.get((meta["namespace"], meta["name"])) or {}
        wanted = service_port.get("name") or ""
        found = []
        for subset in endpoints.get("subsets") or []:
            port = next((p for p in subset.get("ports") or []
                         if (p.get("name") or "") == wanted), None)
            if port is None:
                continue
            for address in subset.get("addresses") or []:
                ref = address.get("targetRef") or {}
                found.append(Backend(address["ip"], port["port"], ref.get("name", ""),
                                     ref.get("namespace", meta["namespace"]),
                                     address.get("nodeName", ""), ref.get("uid", "")))
        return found

    def pick(self, service, service_port, client_ip):
        """The endpoint this client's connection goes to, or None (no ready endpoint)."""
        ready = self.backends(service, service_port)
        if not ready:
            return None
        spec = service.get("spec") or {}
        if spec.get("sessionAffinity") != "ClientIP":
            return self.rng.choice(ready)
        timeout = (((spec.get("sessionAffinityConfig") or {}).get("clientIP") or {})
                   .get("timeoutSeconds") or svc.DEFAULT_AFFINITY_TIMEOUT)
        key = (self.cluster.pk, service["metadata"].get("uid"), service_port.get("name") or "",
               client_ip)
        remembered = _affinity.get(key)
        chosen = None
        if remembered and self.seconds - remembered[1] <= timeout:
            chosen = next((b for b in ready if f"{b.ip}:{b.port}" == remembered[0]), None)
        if chosen is None:
            chosen = self.rng.choice(ready)
        _affinity[key] = (f"{chosen.ip}:{chosen.port}", self.seconds)
        return chosen

    def send(self, host, port, path="/", client_ip="10.0.0.1", namespace="default",
             local=None):
        """One HTTP GET from a client (a pod in `namespace`, or outside) to host:port.

        `local`: the client pod's own PodRuntime, reached at its own IP (a pod that curls
        itself through a Service must not load a second copy of its containers).
        Raises LookupError (no such name), ConnectionRefusedError, TimeoutError (nothing
        routes there: kube-proxy has no rule, no host has that IP)."""
        ip = self.resolve(host, namespace)
        service = self.by_cluster_ip.get(ip)
        if service is not None:
            service_port = next((p for p in service["spec"].get("ports") or []
                                 if p.get("port") == port and
                                 (p.get("protocol") or "TCP") == "TCP"), None)
            if service_port is None:
                raise TimeoutError(f"{ip}:{port}")   # no rule for that port: dropped
            return self.to_service(service, service_port, path, client_ip, local)
        if ip in self.node_ips:
            found = self.by_node_port.get(port)
            if found is None:
                raise ConnectionRefusedError(f"{ip}:{port}")
            return self.to_service(found[0], found[1], path, client_ip, local)
        pod = self.pods_by_ip.get(ip)
        if pod is None:
            raise TimeoutError(f"{ip}:{port}")
        return self.to_pod(pod, port, path, client_ip, local)

    def to_service(self, service, service_port, path, client_ip, local=None):
        backend = self.pick(service, service_port, client_ip)
        meta = service["metadata"]
        if backend is None:
            raise ConnectionRefusedError(f"service {meta['namespace']}/{meta['name']} has no "
                                         "ready endpoint")
        pod = self.pods_by_name.get((backend.namespace, backend.pod)) or \
            self.pods_by_ip.get(backend.ip)
        if pod is None:
            raise ConnectionRefusedError(f"{backend.ip}:{backend.port}")
        reply = self.to_pod(pod, backend.port, path, client_ip, local)
        reply.service = f"{meta['namespace']}/{meta['name']}"
        return reply

    def to_pod(self, pod, port, path, client_ip, local=None):
        """The pod's answer on `port` (ConnectionRefusedError if nothing listens there)."""
        meta = pod["metadata"]
        if local is not None and local.uid == meta["uid"]:
            pods_runtime = local
        else:
            pods_runtime = self._runtimes.get(meta["uid"])
            if pods_runtime is None:
                pods_runtime = self._runtimes[meta["uid"]] = runtime.PodRuntime(
                    self.cluster, pod, self._rows.get(meta["uid"]))
        answer = pods_runtime.http(port, path or "/", client_ip, self.seconds)
        return Reply(answer.status, answer.body, f"{pod['status'].get('podIP')}:{port}",
                     meta["name"], meta.get("namespace", ""),
                     (pod.get("spec") or {}).get("nodeName", ""))

    def _prefetch(self, backends):
        """The container rows of a Service's pods, in a few queries the first time one of
        them is reached (a burst over 1,000 endpoints would otherwise read them pod by pod)."""
        uids = [b.uid for b in backends if b.uid and b.uid not in self._rows]
        for start in range(0, len(uids), 500):
            chunk = uids[start:start + 500]
            found = runtime.rows_by_pod(self.cluster, chunk)
            for uid in chunk:
                self._rows[uid] = found.get(uid, [])

    def flush(self):
        """Save the runtimes the requests touched (request counts, access logs). Raises
        runtime.StaleRuntime when the kubelet wrote one meanwhile: the caller retries."""
        for pods_runtime in self._runtimes.values():
            pods_runtime.save()
        self._runtimes.clear()


def is_ip(text):
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def service_port_of(service, port):
    """A Service's port by number, by name, or (None) the first; None when it has none."""
    ports = (service.get("spec") or {}).get("ports") or []
    if port in (None, ""):
        return ports[0] if ports else None
    text = str(port)
    for candidate in ports:
        if text.isdigit() and candidate.get("port") == int(text):
            return candidate
        if not text.isdigit() and candidate.get("name") == text:
            return candidate
    return None


MAX_BURST = 1000


def burst(cluster, namespace, name, port, client_ip, count, rng=random):
    """The board's traffic panel: `count` requests from `client_ip` to a Service port, each a
    new connection through kube-proxy. Returns {"requests": [...], "hits": {pod: n}}.

    1. Read the Service (NotFound if none) and its port (by number or name; the first if
       None), 2. route each request, 3. save the pods' runtimes (request counts and access
       logs) in one transaction, retried if the kubelet saved one of them meanwhile."""
    service = store.get(cluster, store.kinds.get("Service"), namespace, name)
    service_port = service_port_of(service, port)
    if service_port is None:
        raise BadRequest(f'service "{namespace}/{name}" has no port {port}',
                         details={"causes": [{"field": "port"}]})
    for attempt in range(3):
        try:
            with transaction.atomic():
                network = Network(cluster, rng=rng)
                requests, hits = [], {}
                for n in range(1, count + 1):
                    try:
                        reply = network.to_service(service, service_port, "/", client_ip)
                    except ConnectionRefusedError:
                        requests.append({"n": n, "client": client_ip,
                                         "error": "connection refused"})
                        continue
                    requests.append({"n": n, "client": client_ip, **reply.as_dict()})
                    hits[reply.pod] = hits.get(reply.pod, 0) + 1
                network.flush()
                return {"requests": requests, "hits": hits}
        except runtime.StaleRuntime:
            if attempt == 2:
                raise
