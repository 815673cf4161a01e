"""What the endpoints and EndpointSlice controllers share: which Services they serve, which pods
a Service selects, whether a pod is in its endpoints, its addresses, its ports and the trigger
time annotation. Pure, but for `selected_pods`, which reads the store.

Kubernetes 1.32 keeps these in pkg/controller/util/endpoint and staging/src/k8s.io/endpointslice
(util/controller_utils.go: ShouldPodBeInEndpoints, ShouldSetHostname; utils.go: FindPort;
util/trigger_time_tracker.go: TriggerTimeTracker); pkg/apis/core/v1/helper IsServiceIPSet.
"""

from django.db.models import Q

from cluster import selectors
from cluster.kinds import service as svc
from cluster.models import ApiObject

TRIGGER_TIME = "endpoints.kubernetes.io/last-change-trigger-time"   # v1.EndpointsLastChange...
HEADLESS = "service.kubernetes.io/headless"                         # v1.IsHeadlessService
FINISHED = ("Succeeded", "Failed")


def selects(service):
    """Whether the controllers fill this Service's endpoints: not an ExternalName, and it has a
    selector (a Service without one gets its endpoints from the user)."""
    spec = service.get("spec") or {}
    return spec.get("type") != svc.EXTERNAL_NAME and spec.get("selector") is not None


def selected_pods(cluster, services):
    """{(namespace, name): [pod, ...]} for Service rows that select: the pods of their namespace
    the selector matches that have not finished, oldest first. One query for all of them."""
    pods = {}
    if services:
        # Sorted here, not by ORDER BY id, which walks the table by rowid, not the index.
        for pod in sorted(ApiObject.objects.filter(
                ~Q(phase__in=FINISHED), cluster=cluster, kind="Pod", group="",
                namespace__in={row.namespace for row in services}), key=lambda row: row.pk):
            pods.setdefault(pod.namespace, []).append(pod)
    selected = {}
    for row in services:
        selector = selectors.from_map(row.body["spec"]["selector"])
        selected[(row.namespace, row.name)] = [pod.body for pod in pods.get(row.namespace, [])
                                               if selector.matches(pod.labels)]
    return selected


def ip_set(spec):
    """helper.IsServiceIPSet: a cluster IP that is neither empty nor None."""
    return spec.get("clusterIP") not in (None, "", svc.NONE)


def should_be_in_endpoints(pod, include_terminating):
    """ShouldPodBeInEndpoints: not Succeeded/Failed, has an IP, not terminating (unless
    included)."""
    status = pod.get("status") or {}
    if status.get("phase") in FINISHED:
        return False
    if not status.get("podIP") and not status.get("podIPs"):
        return False
    return include_terminating or not pod["metadata"].get("deletionTimestamp")


def pod_ips(pod):
    """The pod's IPs: status.podIPs, or its podIP alone."""
    status = pod.get("status") or {}
    ips = [entry.get("ip") for entry in status.get("podIPs") or []] or [status.get("podIP")]
    return [ip for ip in ips if ip]


def should_set_hostname(pod, service):
    """ShouldSetHostname: the pod has a hostname and its subdomain names this Service, in the
    Service's namespace."""
    spec = pod.get("spec") or {}
    return bool(spec.get("hostname")) and spec.get("subdomain") == service["metadata"]["name"] \
        and pod["metadata"].get("namespace") == service["metadata"].get("namespace")


def target_ref(pod):
    """The ObjectReference an address or endpoint carries to its pod."""
    meta = pod["metadata"]
    return {"kind": "Pod", "namespace": meta.get("namespace"), "name": meta["name"],
            "uid": meta["uid"]}


def find_port(pod, service_port):
    """FindPort: a numeric targetPort as it is; a named one from the containers' ports (then
    the restartable init containers'), matched by name and protocol. None when not found."""
    target = service_port.get("targetPort")
    if target in (None, ""):
        target = service_port.get("port")
    if not isinstance(target, str):
        return svc._int(target)
    protocol = service_port.get("protocol") or "TCP"
    spec = pod.get("spec") or {}
    containers = list(spec.get("containers") or []) + [
        c for c in spec.get("initContainers") or [] if c.get("restartPolicy") == "Always"]
    for container in containers:
        for port in container.get("ports") or []:
            if port.get("name") == target and (port.get("protocol") or "TCP") == protocol:
                return svc._int(port.get("containerPort"))
    return None


def trigger_time(tracker, service, pods):
    """TriggerTimeTracker.ComputeEndpointLastChangeTriggerTime: for a Service first seen, its
    creationTimestamp; else the earliest pod Ready transition (or Service creation) that is
    newer than at the last sync; "" when none. The state is in memory, as in Kubernetes, one
    tracker per controller: it only words an annotation, never decides what is written."""
    uid = service["metadata"]["uid"]
    known = tracker.get(uid)
    last_service, last_pods = known if known else ("", {})
    pod_times, earliest = {}, ""
    for pod in pods:
        condition = next((c for c in (pod.get("status") or {}).get("conditions") or []
                          if c.get("type") == "Ready"), None)
        moment = (condition or {}).get("lastTransitionTime") or ""
        if moment:
            pod_times[pod["metadata"]["name"]] = moment
            if moment > last_pods.get(pod["metadata"]["name"], ""):
                earliest = min(earliest, moment) if earliest else moment
    created = service["metadata"].get("creationTimestamp") or ""
    if created > last_service:
        earliest = min(earliest, created) if earliest else created
    tracker[uid] = (created, pod_times)
    return created if known is None else earliest


def forget_services(tracker, services):
    """The tracker forgets the Services that went (TriggerTimeTracker.DeleteService)."""
    live = {str(row.uid) for row in services}
    for uid in [uid for uid in tracker if uid not in live]:
        del tracker[uid]
