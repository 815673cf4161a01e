"""The endpoints controller (endpoint-controller): one Endpoints per Service with a selector.

Kubernetes 1.32 pkg/controller/endpoint/endpoints_controller.go (syncService), with the helpers
it calls: podToEndpointAddressForService, addEndpointSubset, endpointPortFromServicePort,
truncateEndpoints; endpointslice/util ShouldPodBeInEndpoints and ShouldSetHostname;
pkg/api/v1/pod FindPort; pkg/api/v1/endpoints RepackSubsets; and the TriggerTimeTracker behind
the `endpoints.kubernetes.io/last-change-trigger-time` annotation (those the EndpointSlice
controller shares live in endpointutil). One sync of a Service:

1. An ExternalName Service, or one without a selector, gets nothing from this controller: the
   user's own Endpoints of that name are left alone.
2. The namespace's pods the selector matches are in when they are not Succeeded or Failed,
   have an IP of the Service's first IP family, and are not terminating (publishNotReadyAddresses
   keeps terminating ones, and counts every pod as ready).
3. Each pod gives one address (ip, nodeName, targetRef to the pod; hostname when the pod's
   subdomain names the Service) per Service port: a named targetPort is looked up among the
   containers' (and restartable init containers') ports by name and protocol; a pod without it
   serves none of that port. A headless Service without ports takes the addresses alone.
4. RepackSubsets: the addresses that serve the same ports, ready or not, share a subset; pods
   whose named port resolves to different numbers land in different subsets.
5. Write only when the subsets, the labels (the Service's, plus service.kubernetes.io/headless
   for a headless Service) or the over-capacity annotation differ. The Endpoints is created with
   the Service's name and labels.

A deleted Service's Endpoints is deleted (syncService on a Service that is gone). Kubernetes
hears of that by its informer; here a pass reads the change log since the last pass. A pass
without that cursor (a new worker, a compacted log) does what the controller does when it
starts (checkLeftoverEndpoints): it deletes every Endpoints that has no Service, but a
leader-election record.

Departures: RepackSubsets sorts ports and subsets by the md5 of their Go-printed form, an
order with no meaning; kubelab sorts ports by (name, port, protocol) and subsets by their
first address. Addresses are sorted as Kubernetes sorts them (IP as a string, then pod uid).
No FailedToCreateEndpoint/FailedToUpdateEndpoint events are recorded (a failed write is simply
tried again on the next pass).
"""

import functools
import logging
import math

from django.db import transaction

from cluster import store
from cluster.controllers.endpointutil import (HEADLESS, TRIGGER_TIME, find_port, forget_services,
                                              ip_set, pod_ips, selected_pods, selects,
                                              should_be_in_endpoints, should_set_hostname,
                                              target_ref, trigger_time)
from cluster.controllers.owned import is_ready
from cluster.errors import ApiError, Forbidden, NotFound
from cluster.kinds import get as get_kind
from cluster.kinds import service as svc
from cluster.models import ApiObject, Change, Cluster

log = logging.getLogger(__name__)

OVER_CAPACITY = "endpoints.kubernetes.io/over-capacity"             # v1.EndpointsOverCapacity
LEADER = "control-plane.alpha.kubernetes.io/leader"   # resourcelock.LeaderElectionRecord...
MAX_CAPACITY = 1000                                                 # maxCapacity

_seen = {}       # cluster pk -> the change id a committed pass read the log up to
_triggers = {}   # cluster pk -> {service uid: (service trigger time, {pod name: time})}


def reconcile(cluster, now):
    services = {(row.namespace, row.name): row for row in ApiObject.objects.filter(
        cluster=cluster, kind="Service", group="")}
    endpoints = {(row.namespace, row.name): row for row in ApiObject.objects.filter(
        cluster=cluster, kind="Endpoints", group="")}
    cursor = store.current_rv(cluster)
    _delete_leftovers(cluster, services, endpoints, cursor, now)
    selected = sorted((row for row in services.values() if selects(row.body)),
                      key=lambda r: r.pk)
    tracker = _triggers.setdefault(cluster.pk, {})
    pods = selected_pods(cluster, selected)
    for row in selected:
        try:
            sync(cluster, row.body, pods[(row.namespace, row.name)],
                 endpoints.get((row.namespace, row.name)), tracker, now)
        except ApiError as exc:
            log.info("endpoints of service %s/%s not written: %s", row.namespace,
                     row.name, exc.message)
    forget_services(tracker, services.values())


def _delete_leftovers(cluster, services, endpoints, cursor, now):
    """Delete the Endpoints of the Services deleted since the last pass; without a cursor, every
    Endpoints without a Service (checkLeftoverEndpoints)."""
    seen = _seen.get(cluster.pk)
    if seen is not None and (seen > cursor or seen < Cluster.objects.filter(
            pk=cluster.pk).values_list("compacted_rv", flat=True).get()):
        seen = None
    if seen is None:
        gone = [key for key, row in endpoints.items() if key not in services
                and LEADER not in (row.body["metadata"].get("annotations") or {})]
    elif cursor > seen:
        gone = {(namespace, name) for namespace, name in Change.objects.filter(
            cluster=cluster, id__gt=seen, kind="Service", group="",
            type=Change.DELETED).values_list("namespace", "name")}
        gone = [key for key in sorted(gone) if key in endpoints and key not in services]
    else:
        gone = []
    kind = get_kind("Endpoints")
    for namespace, name in gone:
        try:
            store.delete(cluster, kind, namespace, name, now=now)
        except NotFound:
            pass
        endpoints.pop((namespace, name), None)
    transaction.on_commit(functools.partial(_seen.__setitem__, cluster.pk, cursor))


def sync(cluster, service, pods, current, tracker, now):
    """syncService for a Service with a selector, its matching pods and its Endpoints row (or
    None). Returns the Endpoints written, or None when nothing changed."""
    meta, spec = service["metadata"], service.get("spec") or {}
    trigger = trigger_time(tracker, service, pods)
    subsets = desired_subsets(service, pods)
    labels = dict(meta.get("labels") or {})
    if current is not None:
        body = current.body
        compare = {k: v for k, v in (body["metadata"].get("labels") or {}).items()
                   if k != HEADLESS}
        if (body.get("subsets") or []) == subsets and compare == labels and \
                _capacity_annotation_correct(body):
            return None
        new = store.clone(body)
    else:
        new = {"apiVersion": "v1", "kind": "Endpoints",
               "metadata": {"name": meta["name"], "namespace": meta["namespace"]}}
    if subsets:
        new["subsets"] = subsets
    else:
        new.pop("subsets", None)
    annotations = dict(new["metadata"].get("annotations") or {})
    if trigger:
        annotations[TRIGGER_TIME] = trigger
    else:
        annotations.pop(TRIGGER_TIME, None)
    if truncate(new):
        annotations[OVER_CAPACITY] = "truncated"
    else:
        annotations.pop(OVER_CAPACITY, None)
    if annotations:
        new["metadata"]["annotations"] = annotations
    else:
        new["metadata"].pop("annotations", None)
    if not ip_set(spec):
        labels[HEADLESS] = ""
    if labels:
        new["metadata"]["labels"] = labels
    else:
        new["metadata"].pop("labels", None)
    if current is None:
        try:
            return store.create(cluster, new, now=now).object
        except Forbidden as exc:
            if "being terminated" in exc.message or any(
                    c.get("reason") == "NamespaceTerminating"
                    for c in (exc.details or {}).get("causes") or []):
                return None   # the namespace is going: creates would go on failing
            raise
    return store.update(cluster, new, current=current, now=now).object


# --- what the Endpoints should hold, pure ------------------------------------------------------

def endpoint_address(service, pod):
    """podToEndpointAddressForService: the pod's IP of the Service's (first) family, or None."""
    spec, status = service.get("spec") or {}, pod.get("status") or {}
    families = spec.get("ipFamilies") or []
    if families:
        family = families[0]
    elif spec.get("clusterIP") and spec.get("clusterIP") != svc.NONE:
        family = svc.family_of(spec["clusterIP"])
    else:
        family = svc.family_of(status.get("podIP") or "")
    ip = next((ip for ip in pod_ips(pod) if svc.family_of(ip) == family), None)
    if ip is None:
        return None
    address = {"ip": ip}
    if should_set_hostname(pod, service):
        address["hostname"] = pod["spec"]["hostname"]
    address["nodeName"] = (pod.get("spec") or {}).get("nodeName") or ""
    address["targetRef"] = target_ref(pod)
    return address


def endpoint_port(service_port, number):
    """endpointPortFromServicePort: name (omitted when empty), port, protocol, appProtocol."""
    port = {}
    if service_port.get("name"):
        port["name"] = service_port["name"]
    port["port"] = number
    port["protocol"] = service_port.get("protocol") or "TCP"
    if service_port.get("appProtocol"):
        port["appProtocol"] = service_port["appProtocol"]
    return port


def desired_subsets(service, pods):
    """The subsets syncService computes for these pods, repacked and sorted."""
    spec = service.get("spec") or {}
    publish = bool(spec.get("publishNotReadyAddresses"))
    ports = spec.get("ports") or []
    entries = []   # (address, ready, port or None): addEndpointSubset's one-address subsets
    for pod in pods:
        if not should_be_in_endpoints(pod, publish):
            continue
        address = endpoint_address(service, pod)
        if address is None:
            continue
        ready = publish or is_ready(pod)
        if not ports:
            if spec.get("clusterIP") == svc.NONE:
                entries.append((address, ready, None))
            continue
        for service_port in ports:
            number = find_port(pod, service_port)
            if number is None:
                continue
            entries.append((address, ready, endpoint_port(service_port, number)))
    return repack(entries)


def _address_key(address):
    return address["ip"], (address.get("targetRef") or {}).get("uid") or ""


def _port_key(port):
    return tuple(sorted(port.items())) if port is not None else None


def repack(entries):
    """RepackSubsets: map each port to the addresses that offer it (not ready trumps ready),
    then group the ports by the same set of (address, ready); a port-less address stays, with
    no ports."""
    addresses, by_port = {}, {}
    for address, ready, port in entries:
        key = _address_key(address)
        addresses.setdefault(key, address)
        offered = by_port.setdefault(_port_key(port), {})
        if offered.get(key, True):
            offered[key] = ready
    groups = {}
    for port, offered in by_port.items():
        group = groups.setdefault(frozenset(offered.items()), [])
        if port is not None:
            group.append(dict(port))
    subsets = []
    for members, ports in groups.items():
        subset = {}
        ready = sorted(key for key, is_ready_ in members if is_ready_)
        not_ready = sorted(key for key, is_ready_ in members if not is_ready_)
        if ready:
            subset["addresses"] = [addresses[key] for key in ready]
        if not_ready:
            subset["notReadyAddresses"] = [addresses[key] for key in not_ready]
        if ports:
            subset["ports"] = sorted(ports, key=lambda p: (p.get("name", ""), p["port"],
                                                           p["protocol"]))
        subsets.append(subset)
    return sorted(subsets, key=lambda s: (
        _address_key((s.get("addresses") or s.get("notReadyAddresses"))[0]),
        [(p.get("name", ""), p["port"]) for p in s.get("ports") or []]))


def truncate(endpoints):
    """truncateEndpoints: past 1000 addresses, keep a share of each subset, ready first.
    Returns whether it cut."""
    subsets = endpoints.get("subsets") or []
    total_ready = sum(len(s.get("addresses") or []) for s in subsets)
    total_not_ready = sum(len(s.get("notReadyAddresses") or []) for s in subsets)
    if total_ready + total_not_ready <= MAX_CAPACITY:
        return False
    truncate_ready = total_ready > MAX_CAPACITY
    maximum = MAX_CAPACITY if truncate_ready else MAX_CAPACITY - total_ready
    total = total_ready if truncate_ready else total_not_ready
    room = maximum
    for subset in subsets:
        field = "addresses" if truncate_ready else "notReadyAddresses"
        count = len(subset.get(field) or [])
        take = min(math.ceil(count / total * maximum), room)
        if subset.get(field):
            subset[field] = subset[field][:take]
        if truncate_ready:
            subset.pop("notReadyAddresses", None)
        room -= len(subset.get(field) or [])
    return True


def _capacity_annotation_correct(body):
    """capacityAnnotationSetCorrectly."""
    count = sum(len(s.get("addresses") or []) + len(s.get("notReadyAddresses") or [])
                for s in body.get("subsets") or [])
    if count > MAX_CAPACITY:
        return False
    return OVER_CAPACITY not in (body["metadata"].get("annotations") or {})
