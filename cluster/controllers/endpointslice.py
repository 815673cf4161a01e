"""The EndpointSlice controller (endpointslice-controller.k8s.io): the EndpointSlices of each
Service with a selector.

Kubernetes 1.32 pkg/controller/endpointslice (syncService) and its reconciler,
staging/src/k8s.io/endpointslice (reconciler.go: Reconcile, reconcileByAddressType,
reconcileByPortMapping, finalize; utils.go: podToEndpoint, getEndpointPorts, newEndpointSlice,
setEndpointSliceLabels, getSliceToFill, getAddressTypesForService; util/endpointset.go: the
endpoint hash). One sync of a Service:

1. An ExternalName Service, or one without a selector, gets nothing from this controller.
2. Its slices are those labelled `kubernetes.io/service-name: <svc>` and `endpointslice.
   kubernetes.io/managed-by: endpointslice-controller.k8s.io` (ones being deleted left out).
   Slices of an address type the Service no longer has (its ipFamilies) go.
3. Every pod the selector matches that has an IP and has not finished is an endpoint, a
   terminating one too (ready false, serving as its readiness, terminating true; ready is
   always true with publishNotReadyAddresses). Its ports are the Service's ports resolved
   against the pod (a named targetPort by the container port of that name); pods are grouped
   by those ports, one group per distinct set. A pod on a Node that does not exist is left out
   (kept with publishNotReadyAddresses); the endpoint's zone is its node's
   `topology.kubernetes.io/zone` label.
4. For each group, reconcileByPortMapping: an existing slice keeps the endpoints still wanted
   (updated if one changed, deleted if none is left); slices that changed are topped up with
   the new endpoints first, then what is left goes into the unchanged slice it fills best,
   else into new slices, at most 100 endpoints a slice (maxEndpointsPerSlice).
5. A Service with no endpoints at all keeps one placeholder slice (no ports, no endpoints).
6. A slice about to be deleted is reused (updated, same name) for one about to be created. New
   slices are named by generateName `<svc>-`, labelled with the Service's labels (plus the two
   above and service.kubernetes.io/headless for a headless Service), and owned by the Service
   (controller and blockOwnerDeletion true); a Service being deleted gets no new ones.

A slice is written only when its endpoints or labels differ from what is wanted, so an idle
pass writes nothing. A deleted Service's slices go with it: the garbage collector deletes
dependents whose owner is gone, as in Kubernetes (syncService of a missing Service does
nothing). The controller keeps nothing between passes but the trigger time tracker behind the
`endpoints.kubernetes.io/last-change-trigger-time` annotation, in memory as in Kubernetes.

Departures: Kubernetes fills slices from a Go map, in no order; kubelab takes pods oldest first,
so slices read the same on every run. No FailedToUpdateEndpointSlices events (a failed write
is tried again next pass) and no topology hints (no topology-mode annotation or
trafficDistribution support).
"""

import functools
import logging

from cluster import store
from cluster.controllers.endpointutil import (HEADLESS, TRIGGER_TIME, find_port, forget_services,
                                              ip_set, pod_ips, selected_pods, selects,
                                              should_be_in_endpoints, should_set_hostname,
                                              target_ref, trigger_time)
from cluster.controllers.owned import is_ready, owner_reference
from cluster.errors import ApiError, Forbidden, NotFound
from cluster.kinds import get as get_kind
from cluster.kinds import service as svc
from cluster.models import ApiObject

log = logging.getLogger(__name__)

GROUP = "discovery.k8s.io"
CONTROLLER_NAME = "endpointslice-controller.k8s.io"
SERVICE_NAME = "kubernetes.io/service-name"                 # discovery.LabelServiceName
MANAGED_BY = "endpointslice.kubernetes.io/managed-by"       # discovery.LabelManagedBy
ZONE = "topology.kubernetes.io/zone"                        # v1.LabelTopologyZone
MAX_ENDPOINTS_PER_SLICE = 100      # kube-controller-manager --max-endpoints-per-slice default
RESERVED_LABELS = (SERVICE_NAME, MANAGED_BY, HEADLESS)

_triggers = {}   # cluster pk -> {service uid: (service trigger time, {pod name: time})}


def reconcile(cluster, now):
    # Oldest first, sorted here: ORDER BY id makes SQLite walk the whole table by rowid
    # instead of the (cluster, kind) index (30 ms a tick beside 10,000 pods, with no Service).
    services = sorted(ApiObject.objects.filter(cluster=cluster, kind="Service", group=""),
                      key=lambda row: row.pk)
    selected = [row for row in services if selects(row.body)]
    tracker = _triggers.setdefault(cluster.pk, {})
    if selected:
        slices = {}
        for row in sorted(ApiObject.objects.filter(cluster=cluster, kind="EndpointSlice",
                                                   group=GROUP), key=lambda row: row.pk):
            labels = row.labels or {}
            if labels.get(MANAGED_BY) == CONTROLLER_NAME and SERVICE_NAME in labels \
                    and not row.deleting:
                slices.setdefault((row.namespace, labels[SERVICE_NAME]), []).append(row)
        nodes = {row.name: row.labels or {} for row in ApiObject.objects.filter(
            cluster=cluster, kind="Node", group="")}
        pods = selected_pods(cluster, selected)
        for row in selected:
            key = (row.namespace, row.name)
            trigger = trigger_time(tracker, row.body, pods[key])
            try:
                sync(cluster, row.body, pods[key], slices.get(key, []), nodes, trigger, now)
            except ApiError as exc:
                log.info("endpoint slices of service %s/%s not written: %s", row.namespace,
                         row.name, exc.message)
    forget_services(tracker, services)


def sync(cluster, service, pods, existing, nodes, trigger, now):
    """Reconcile: one Service's slices (rows) against its pods. Returns the (created, updated,
    deleted) slice bodies."""
    wanted_types = address_types(service)
    to_delete = [row.body for row in existing if row.body.get("addressType") not in wanted_types]
    to_create, to_update = [], []
    for address_type in sorted(wanted_types):
        mine = [row.body for row in existing if row.body.get("addressType") == address_type]
        create, update, delete = by_address_type(service, pods, mine, nodes, address_type)
        to_create += create
        to_update += update
        to_delete += delete
    return finalize(cluster, service, to_create, to_update, to_delete, trigger, now)


def address_types(service):
    """getAddressTypesForService: the Service's IP families; without them, its cluster IP's,
    or both for a headless Service."""
    spec = service.get("spec") or {}
    families = {family for family in spec.get("ipFamilies") or [] if family in svc.IP_FAMILIES}
    if families:
        return families
    if ip_set(spec):
        return {svc.family_of(spec["clusterIP"])}
    return set(svc.IP_FAMILIES)


def by_address_type(service, pods, existing, nodes, address_type):
    """reconcileByAddressType: the slices to create, update and delete."""
    to_create, to_update, to_delete = [], [], []
    existing_by_ports = {}
    for body in existing:
        if owned_by(body, service):
            existing_by_ports.setdefault(port_key(body.get("ports") or []), []).append(body)
        else:
            to_delete.append(body)
    desired, desired_ports = {}, {}
    publish = bool((service.get("spec") or {}).get("publishNotReadyAddresses"))
    for pod in pods:
        if not should_be_in_endpoints(pod, True):
            continue
        ports = endpoint_ports(service, pod)
        key = port_key(ports)
        desired.setdefault(key, {})
        desired_ports.setdefault(key, ports)
        node_name = (pod.get("spec") or {}).get("nodeName") or ""
        node_labels = nodes.get(node_name)
        if node_labels is None and not publish:
            continue   # its Node is gone: left out until the pod goes too
        endpoint = pod_endpoint(pod, node_labels, service, address_type)
        if endpoint["addresses"]:
            desired[key][endpoint_hash(endpoint)] = endpoint
    for key, wanted in desired.items():
        create, update, delete = by_port_mapping(service, existing_by_ports.get(key, []),
                                                 wanted, desired_ports[key], address_type)
        to_create += create
        to_update += update
        to_delete += delete
    for key, bodies in existing_by_ports.items():
        if key not in desired:
            to_delete += bodies
    if len(existing) == len(to_delete) and not to_create:
        # A Service without endpoints keeps one placeholder slice.
        placeholder = new_slice(service, [], address_type)
        if len(to_delete) == 1 and same_placeholder(to_delete[0], placeholder):
            to_delete = []
        else:
            to_create.append(placeholder)
    return to_create, to_update, to_delete


def by_port_mapping(service, existing, wanted, ports, address_type):
    """reconcileByPortMapping for the slices of one set of ports and the endpoints wanted there
    (hash -> endpoint, consumed as they are placed)."""
    by_name, unchanged, to_update, to_delete = {}, [], [], []
    for body in existing:
        name = body["metadata"]["name"]
        by_name[name] = body
        kept, changed = [], False
        for endpoint in body.get("endpoints") or []:
            got = wanted.pop(endpoint_hash(endpoint), None)
            if got is not None:
                kept.append(got)
                changed = changed or got != endpoint
        labels, labels_changed = slice_labels(body, service)
        if changed or len(kept) != len(body.get("endpoints") or []):
            if not kept:
                to_delete.append(name)
            else:
                updated = store.clone(body)
                updated["endpoints"] = kept
                updated["metadata"]["labels"] = labels
                by_name[name] = updated
                to_update.append(name)
        elif labels_changed:
            updated = store.clone(body)
            updated["endpoints"] = list(updated.get("endpoints") or [])
            updated["metadata"]["labels"] = labels
            by_name[name] = updated
            to_update.append(name)
        else:
            unchanged.append(name)
    remaining = list(wanted.values())
    # Top up the slices already being written, the fullest first.
    for name in sorted(to_update, key=lambda n: -len(by_name[n]["endpoints"])):
        room = MAX_ENDPOINTS_PER_SLICE - len(by_name[name]["endpoints"])
        if remaining and room > 0:
            by_name[name]["endpoints"] += remaining[:room]
            remaining = remaining[room:]
    to_create = []
    while remaining:
        fill = None
        if len(remaining) < MAX_ENDPOINTS_PER_SLICE and unchanged:
            fill = slice_to_fill([by_name[n] for n in unchanged], len(remaining))
        if fill is None:
            fill = new_slice(service, ports, address_type)
        else:
            fill = store.clone(fill)
            fill["endpoints"] = list(fill.get("endpoints") or [])
            by_name[fill["metadata"]["name"]] = fill
        room = MAX_ENDPOINTS_PER_SLICE - len(fill["endpoints"])
        fill["endpoints"] += remaining[:room]
        remaining = remaining[room:]
        name = fill["metadata"].get("name")
        if name:
            to_update.append(name)
            unchanged.remove(name)
        else:
            to_create.append(fill)
    return (to_create, [by_name[n] for n in to_update], [by_name[n] for n in to_delete])


def slice_to_fill(slices, count):
    """getSliceToFill: the slice closest to full once `count` endpoints are added, or None."""
    closest, best = None, MAX_ENDPOINTS_PER_SLICE
    for body in slices:
        left = MAX_ENDPOINTS_PER_SLICE - (count + len(body.get("endpoints") or []))
        if 0 <= left < best:
            closest, best = body, left
            if left == 0:
                break
    return closest


def finalize(cluster, service, to_create, to_update, to_delete, trigger, now):
    """Turn creates into updates of slices about to be deleted, then write: creates (not while
    the Service is being deleted), updates, deletes, each create and update with the trigger
    time annotation."""
    i = 0
    while i < len(to_delete) and to_create:
        doomed, fresh = to_delete[i], to_create[-1]
        if doomed.get("addressType") == fresh.get("addressType") and owned_by(doomed, service):
            reused = store.clone(doomed)
            for field in ("addressType", "endpoints", "ports"):
                reused[field] = fresh[field]
            reused["metadata"]["labels"] = fresh["metadata"]["labels"]
            to_update.append(reused)
            to_create.pop()
            to_delete.pop(i)
        else:
            i += 1
    created = []
    if not service["metadata"].get("deletionTimestamp"):
        for body in to_create:
            annotate(body, trigger)
            try:
                created.append(store.create(cluster, body, now=now).object)
            except Forbidden as exc:
                if any(c.get("reason") == "NamespaceTerminating"
                       for c in (exc.details or {}).get("causes") or []) \
                        or "being terminated" in exc.message:
                    return created, [], []   # the namespace is going: drop this sync
                raise
    updated = []
    for body in to_update:
        annotate(body, trigger)
        updated.append(store.update(cluster, body, now=now).object)
    kind = get_kind("EndpointSlice", GROUP)
    for body in to_delete:
        try:
            store.delete(cluster, kind, body["metadata"]["namespace"], body["metadata"]["name"],
                         now=now)
        except NotFound:
            pass
    return created, updated, to_delete


def annotate(body, trigger):
    """addTriggerTimeAnnotation: set to the trigger time, or cleared when there is none."""
    annotations = dict(body["metadata"].get("annotations") or {})
    if trigger:
        annotations[TRIGGER_TIME] = trigger
    else:
        annotations.pop(TRIGGER_TIME, None)
    if annotations:
        body["metadata"]["annotations"] = annotations
    else:
        body["metadata"].pop("annotations", None)


# --- what the slices should hold, pure --------------------------------------------------------

def endpoint_ports(service, pod):
    """getEndpointPorts: each Service port the pod serves, in the Service's order, with its
    name ("" when unnamed), the pod's port number, protocol and appProtocol."""
    spec = service.get("spec") or {}
    ports = []
    for service_port in spec.get("ports") or []:
        number = find_port(pod, service_port)
        if number is None:
            continue
        port = {"name": service_port.get("name") or "", "port": number,
                "protocol": service_port.get("protocol") or "TCP"}
        if service_port.get("appProtocol"):
            port["appProtocol"] = service_port["appProtocol"]
        ports.append(port)
    return ports


def port_key(ports):
    """NewPortMapKey: the set of ports, whatever their order."""
    return tuple(sorted(tuple(sorted(port.items())) for port in ports))


def pod_endpoint(pod, node_labels, service, address_type):
    """podToEndpoint: the pod's addresses of this type, its conditions, node, zone, hostname
    and a reference to it."""
    serving = is_ready(pod)
    terminating = bool(pod["metadata"].get("deletionTimestamp"))
    publish = bool((service.get("spec") or {}).get("publishNotReadyAddresses"))
    endpoint = {
        "addresses": [text for family, text in map(parsed_ip, pod_ips(pod))
                      if family == address_type],
        # Ready is never true for a terminating pod, unless publishNotReadyAddresses.
        "conditions": {"ready": publish or (serving and not terminating), "serving": serving,
                       "terminating": terminating},
    }
    spec = pod.get("spec") or {}
    if should_set_hostname(pod, service):
        endpoint["hostname"] = spec["hostname"]
    endpoint["targetRef"] = target_ref(pod)
    if spec.get("nodeName"):
        endpoint["nodeName"] = spec["nodeName"]
    if (node_labels or {}).get(ZONE):
        endpoint["zone"] = node_labels[ZONE]
    return endpoint


@functools.lru_cache(maxsize=65536)
def parsed_ip(text):
    """getEndpointAddresses' view of a pod IP: (its family, the IP as Go prints it once
    parsed), or (None, text) when it does not parse. Cached: pods keep their IPs."""
    ip = svc.parse_ip(text)
    if ip is None:
        return None, text
    ip = svc._as_v4(ip)
    return ("IPv4" if ip.version == 4 else "IPv6"), str(ip)


def endpoint_hash(endpoint):
    """The EndpointSet key (hashEndpoint): the sorted addresses, hostname and the pod it
    refers to; the rest (conditions, node, zone) may change under the same key."""
    ref = endpoint.get("targetRef") or {}
    return (tuple(sorted(endpoint.get("addresses") or [])), endpoint.get("hostname") or "",
            ref.get("namespace") or "", ref.get("name") or "")


def owned_by(body, service):
    """ownedBy: an ownerReference to this Service (by uid, kind Service, apiVersion v1)."""
    uid = service["metadata"]["uid"]
    return any(ref.get("uid") == uid and ref.get("kind") == "Service"
               and ref.get("apiVersion") == "v1"
               for ref in body["metadata"].get("ownerReferences") or [])


def slice_labels(body, service):
    """setEndpointSliceLabels: the Service's labels but the reserved ones, plus the headless,
    service-name and managed-by labels; and whether the Service's own labels differ from the
    slice's (a change of the reserved ones alone does not count)."""
    current = {k: v for k, v in (body["metadata"].get("labels") or {}).items()
               if k not in RESERVED_LABELS}
    labels = {k: v for k, v in (service["metadata"].get("labels") or {}).items()
              if k not in RESERVED_LABELS}
    changed = current != labels
    if not ip_set(service.get("spec") or {}):
        labels[HEADLESS] = ""
    labels[SERVICE_NAME] = service["metadata"]["name"]
    labels[MANAGED_BY] = CONTROLLER_NAME
    return labels, changed


def new_slice(service, ports, address_type):
    """newEndpointSlice: named by generateName, owned by the Service, with its labels."""
    meta = service["metadata"]
    prefix = meta["name"] + "-"
    body = {"apiVersion": f"{GROUP}/v1", "kind": "EndpointSlice",
            "metadata": {"generateName": prefix, "namespace": meta["namespace"],
                         "ownerReferences": [owner_reference(
                             {"apiVersion": "v1", "kind": "Service", "metadata": meta})]},
            "addressType": address_type, "endpoints": [], "ports": [dict(p) for p in ports]}
    body["metadata"]["labels"], _ = slice_labels(body, service)
    return body


def same_placeholder(body, placeholder):
    """placeholderSliceCompare: the namespace, labels, owner references, address type, and no
    endpoints or ports on either (nil and empty alike)."""
    meta, other = body["metadata"], placeholder["metadata"]
    return (meta.get("namespace") == other.get("namespace")
            and (meta.get("labels") or {}) == (other.get("labels") or {})
            and (meta.get("ownerReferences") or []) == (other.get("ownerReferences") or [])
            and body.get("addressType") == placeholder.get("addressType")
            and not body.get("endpoints") and not body.get("ports"))
