"""The DaemonSet controller (daemonset-controller): one pod on every node that should run one.

Kubernetes 1.32 pkg/controller/daemon/daemon_controller.go. One pass per DaemonSet:
1. Claim its pods (ClaimPods): adopt orphans its selector matches, release those it no longer
   matches.
2. Plan, pure (podsShouldBeOnNode): per node, NodeShouldRunDaemonPod says whether a pod should
   start there (shouldRun) and whether one there may stay (shouldContinueRunning).
3. Create the missing pods; delete the misplaced, failed, finished and extra ones (syncNodes).
4. Write the status if it changed (updateDaemonSetStatus).

Which nodes: the template's nodeSelector and required node affinity match, and the node's
NoSchedule/NoExecute taints are tolerated by the template's tolerations plus those every daemon
pod gets (util/daemonset_util.go). So, unlike the issue's "(Ready or not, schedulable, ...)",
Kubernetes looks at taints, not conditions: a cordoned node (unschedulable taint, tolerated)
gets a pod; a NotReady or unreachable node keeps its pod (NoExecute tolerated forever) but,
tainted NoSchedule too, gets no new one, and the pod it keeps counts as misscheduled.

kubelab departs from 1.32 in three ways. The controller binds its pods itself (spec.nodeName
at creation, as before 1.12 and as the book tells it), besides the matchFields node affinity
1.32 sets for the scheduler. The failed-pod back-off, in memory in Kubernetes, is replayed from
this controller's FailedDaemonPod events. There is no rolling update (update.go): pods of an
older template stay until deleted, as with OnDelete.
"""

import datetime as dt
import json
import re

from django.db.models import Q

from cluster import selectors, store
from cluster.controllers.owned import (create_dependent, delete_dependent, is_available,
                                       is_ready, owner_reference, pod_from_template)
from cluster.controllers.scheduler import tolerates
from cluster.errors import ApiError, Conflict, NotFound
from cluster.kinds import node as node_kind
from cluster.models import ApiObject

COMPONENT = "daemonset-controller"
BURST_REPLICAS = 250                          # creations, and deletions, per set per pass
BACKOFF_INITIAL, BACKOFF_MAX = 1, 15 * 60     # apps.go: flowcontrol.NewBackOff(1s, 15m)
HASH_LABEL = "controller-revision-hash"
GENERATION_LABEL = "pod-template-generation"
GENERATION_ANNOTATION = "deprecated.daemonset.template.generation"
FAILED = re.compile(r"Found failed daemon pod \S+ on node (\S+), will try to kill it")
DAEMON_TOLERATIONS = [(node_kind.TAINT_NOT_READY, "NoExecute"),
                      (node_kind.TAINT_UNREACHABLE, "NoExecute"),
                      (node_kind.TAINT_DISK_PRESSURE, "NoSchedule"),
                      (node_kind.TAINT_MEMORY_PRESSURE, "NoSchedule"),
                      (node_kind.TAINT_PID_PRESSURE, "NoSchedule"),
                      (node_kind.TAINT_UNSCHEDULABLE, "NoSchedule")]
NODE_OPERATORS = {"In": selectors.IN, "NotIn": selectors.NOT_IN, "Exists": selectors.EXISTS,
                  "DoesNotExist": selectors.DOES_NOT_EXIST, "Gt": selectors.GREATER_THAN,
                  "Lt": selectors.LESS_THAN}


# --- which nodes, pure ------------------------------------------------------------------------

def daemon_pod_spec(template_spec):
    """The template's spec plus the daemon tolerations, none with tolerationSeconds, each
    replacing a toleration of the same key, operator, value and effect
    (AddOrUpdateDaemonPodTolerations; network-unavailable for hostNetwork pods only)."""
    spec = store.clone(template_spec or {})
    tolerations = spec.get("tolerations") or []
    for key, effect in DAEMON_TOLERATIONS + ([(node_kind.TAINT_NETWORK_UNAVAILABLE, "NoSchedule")]
                                             if spec.get("hostNetwork") else []):
        tolerations = [t for t in tolerations if (t.get("key"), t.get("operator"),
                       t.get("value") or "", t.get("effect")) != (key, "Exists", "", effect)]
        tolerations.append({"key": key, "operator": "Exists", "effect": effect})
    spec["tolerations"] = tolerations
    return spec


def _term_matches(term, labels, name):
    """A nodeSelectorTerm (component-helpers nodeaffinity): every expression on the labels and
    every field (only metadata.name) holds. An empty or unparsable term matches nothing."""
    expressions, fields = term.get("matchExpressions") or [], term.get("matchFields") or []
    try:
        selector = selectors.Selector([selectors.new_requirement(
            e.get("key", ""), NODE_OPERATORS[e.get("operator")], e.get("values"))
            for e in expressions])
    except (KeyError, selectors.SelectorError):
        return False
    return bool(expressions or fields) and selector.matches(labels) and all(
        f.get("key") == "metadata.name" and f.get("operator") in ("In", "NotIn")
        and len(f.get("values") or []) == 1 and (name in f["values"]) == (f["operator"] == "In")
        for f in fields)


def should_run(spec, node):
    """NodeShouldRunDaemonPod: (shouldRun, shouldContinueRunning) of a daemon pod spec."""
    name, labels = node["metadata"]["name"], node["metadata"].get("labels") or {}
    required = ((spec.get("affinity") or {}).get("nodeAffinity") or {}).get(
        "requiredDuringSchedulingIgnoredDuringExecution")
    if spec.get("nodeName") not in (None, "", name) or \
            any(labels.get(k) != v for k, v in (spec.get("nodeSelector") or {}).items()) or \
            required is not None and not any(_term_matches(t or {}, labels, name)
                                             for t in required.get("nodeSelectorTerms") or []):
        return False, False
    untolerated = [t for t in node_kind.taints(node) if t.get("effect") in
                   ("NoSchedule", "NoExecute") and not tolerates(spec["tolerations"], t)]
    return not untolerated, not any(t["effect"] == "NoExecute" for t in untolerated)


# --- one set's pass, pure ---------------------------------------------------------------------

def oldest_first(pods):
    """podByCreationTimestampAndPhase: bound pods first, then by creation time, then name."""
    return sorted(pods, key=lambda p: (not p["spec"].get("nodeName"),
                                       p["metadata"].get("creationTimestamp", ""),
                                       p["metadata"]["name"]))


def plan(verdicts, by_node, backoff_until, now):
    """podsShouldBeOnNode over (node, shouldRun, shouldContinueRunning): (nodes needing a pod,
    pods to delete, events). `backoff_until`: node -> end of its failed-pod back-off."""
    create, delete, events = [], [], []
    for name, run, keep in verdicts:
        pods = by_node.get(name, [])
        alive = [p for p in pods if not p["metadata"].get("deletionTimestamp")]
        if run and not pods:
            create.append(name)
        elif not keep:
            delete += alive
        else:
            running = []
            for pod in alive:
                phase = (pod.get("status") or {}).get("phase")
                where = f"{pod['metadata']['namespace']}/{pod['metadata']['name']} on node {name}"
                if phase == "Failed" and now >= backoff_until.get(name, now):
                    # Backed off so as not to fight, hot, a kubelet that keeps failing its pod.
                    events.append(("Warning", "FailedDaemonPod",
                                   f"Found failed daemon pod {where}, will try to kill it"))
                    delete.append(pod)
                elif phase == "Succeeded":
                    events.append(("Normal", "SucceededDaemonPod",
                                   f"Found succeeded daemon pod {where}, will try to delete it"))
                    delete.append(pod)
                elif phase != "Failed":
                    running.append(pod)
            delete += oldest_first(running)[1:]   # no surge: the oldest stays
    return create[:BURST_REPLICAS], delete[:BURST_REPLICAS], events


def backoff_end(kills):
    """flowcontrol.Backoff replayed over the moments failed pods were killed on one node: 1 s,
    doubling to 15 min, back to 1 s after 30 min without one (hasExpired)."""
    delay = last = None
    for moment in sorted(kills):
        fresh = last is None or (moment - last).total_seconds() > 2 * BACKOFF_MAX
        delay, last = BACKOFF_INITIAL if fresh else min(delay * 2, BACKOFF_MAX), moment
    return last and last + dt.timedelta(seconds=delay)


def status_of(ds, verdicts, by_node, revision, now):
    """updateDaemonSetStatus, each node judged by its oldest pod, and the API's omitempty."""
    n = dict.fromkeys(("currentNumberScheduled", "numberMisscheduled", "desiredNumberScheduled",
                       "numberReady", "updatedNumberScheduled", "numberAvailable"), 0)
    generation = (ds["metadata"].get("annotations") or {}).get(GENERATION_ANNOTATION)
    for name, run, _keep in verdicts:
        pods = by_node.get(name)
        n["desiredNumberScheduled"] += run
        n["numberMisscheduled"] += bool(pods and not run)
        if run and pods:
            pod = oldest_first(pods)[0]
            labels = pod["metadata"].get("labels") or {}
            n["currentNumberScheduled"] += 1
            n["numberReady"] += is_ready(pod)
            n["numberAvailable"] += is_available(pod, ds["spec"].get("minReadySeconds", 0), now)
            n["updatedNumberScheduled"] += labels.get(HASH_LABEL) == revision or (
                generation is not None and labels.get(GENERATION_LABEL) == generation)
    n["numberUnavailable"] = n["desiredNumberScheduled"] - n["numberAvailable"]
    n["observedGeneration"] = ds["metadata"].get("generation", 1)
    status = {**(ds.get("status") or {}), **n}
    return {k: v for k, v in status.items() if v or k not in (
        "observedGeneration", "updatedNumberScheduled", "numberAvailable", "numberUnavailable")}


def revision_hash(ds):
    """controller.ComputeHash: FNV-32a of the template and collisionCount, written by
    rand.SafeEncodeString. (Kubernetes hashes the Go struct, so the values differ.)"""
    text = json.dumps([ds["spec"]["template"], (ds.get("status") or {}).get("collisionCount")],
                      sort_keys=True, separators=(",", ":"))
    value = 2166136261
    for byte in text.encode():
        value = ((value ^ byte) * 16777619) & 0xFFFFFFFF
    return "".join(store.GENERATE_ALPHABET[ord(c) % 27] for c in str(value))


# --- applying ---------------------------------------------------------------------------------

def reconcile(cluster, now):
    """Every DaemonSet, in three queries when nothing changes: sets, nodes, pods. A write
    that meets a Conflict is skipped and redone next pass; there is no savepoint per set, as
    rolling one back would keep the events batched for the writes it undid."""
    sets = [row for row in ApiObject.objects.filter(cluster=cluster, kind="DaemonSet",
                                                    group="apps").order_by("namespace", "name")
            if not row.deleting]   # being deleted: Kubernetes leaves it, status included
    if not sets:
        return
    nodes = list(ApiObject.objects.filter(cluster=cluster).nodes().order_by("name")
                 .values_list("body", flat=True))
    wanted = Q(owner_uid__in=[str(row.uid) for row in sets])
    for row in sets:   # and the orphans each selector matches, filtered in the database
        wanted |= Q(owner_uid="", deleting=False, namespace=row.namespace) & store.label_query(
            selectors.from_label_selector(row.body["spec"].get("selector")))
    pods = list(ApiObject.objects.filter(cluster=cluster).pods().filter(wanted).order_by("id"))
    for row in sets:
        sync(cluster, row, nodes, pods, now)


def sync(cluster, row, nodes, pods, now):
    """syncDaemonSet for one set."""
    ds, uid = row.body, str(row.uid)
    spec = daemon_pod_spec(ds["spec"]["template"].get("spec"))
    verdicts = [(node["metadata"]["name"], *should_run(spec, node)) for node in nodes]
    by_node = group_by_node(claim(cluster, ds, pods, now))
    failing = {name for name, _, _ in verdicts if any(
        (p.get("status") or {}).get("phase") == "Failed" for p in by_node.get(name, []))}
    create, delete, events = plan(verdicts, by_node, failed_backoff(cluster, ds, failing), now)
    revision = revision_hash(ds)
    for type_, reason, message in events:
        store.record_event(cluster, ds, type_, reason, message, component=COMPONENT, now=now)
    for name in create:
        create_pod(cluster, ds, spec, name, revision, now)
    for pod in delete:
        try:
            delete_dependent(cluster, ds, pod, component=COMPONENT, now=now)
        except (Conflict, NotFound):
            pass   # gone or changed meanwhile
    if create or delete:   # count what the writes left, Terminating pods included
        by_node = group_by_node(r.body for r in ApiObject.objects.filter(
            cluster=cluster, kind="Pod", group="", owner_uid=uid))
    status = status_of(ds, verdicts, by_node, revision, now)
    if status != ds.get("status"):
        try:
            store.update(cluster, {**ds, "status": status}, subresource="status", now=now,
                         current=row)
        except (Conflict, NotFound):
            pass   # the set changed meanwhile: counted again next pass


def claim(cluster, ds, pods, now):
    """ClaimPods: the set's pods, after adopting orphans its selector matches (controller
    reference added) and releasing owned pods it no longer matches (reference removed)."""
    selector = selectors.from_label_selector(ds["spec"].get("selector"))
    uid, mine = ds["metadata"]["uid"], []
    for row in pods:
        pod, matches = row.body, selector.matches(row.labels)
        if row.owner_uid == uid and matches:
            mine.append(pod)
        elif row.owner_uid == uid or matches and not row.owner_uid and \
                row.namespace == ds["metadata"]["namespace"]:
            meta = {k: v for k, v in pod["metadata"].items() if k != "ownerReferences"}
            refs = [r for r in pod["metadata"].get("ownerReferences") or [] if r.get("uid") != uid]
            refs += [owner_reference(ds)] if matches else []
            try:
                pod = store.update(cluster, {**pod, "metadata": {**meta, "ownerReferences": refs}
                                             if refs else meta}, now=now, current=row).object
            except (Conflict, NotFound):
                continue   # changed meanwhile: claimed, or not, next pass
            mine += [pod] if matches else []
    return mine


def group_by_node(pods):
    """Pods by node. kubelab's daemon pods are bound at creation; Kubernetes also reads the
    node of a pending one from its matchFields term (GetTargetNodeName)."""
    by_node = {}
    for pod in pods:
        if pod["spec"].get("nodeName"):
            by_node.setdefault(pod["spec"]["nodeName"], []).append(pod)
    return by_node


def failed_backoff(cluster, ds, nodes):
    """node -> when its back-off ends, from the set's FailedDaemonPod events on those nodes."""
    if not nodes:
        return {}
    kills = {}
    for event in ApiObject.objects.filter(cluster=cluster, kind="Event", owner_uid=ds[
            "metadata"]["uid"], body__reason="FailedDaemonPod").values_list("body", flat=True):
        found = FAILED.fullmatch(event.get("message", ""))
        if found and found.group(1) in nodes:
            kills.setdefault(found.group(1), []).append(
                store.parse_timestamp(event["firstTimestamp"]))
    return {node: backoff_end(moments) for node, moments in kills.items()}


def create_pod(cluster, ds, spec, node_name, revision, now):
    """A pod for one node: CreatePodTemplate's labels and tolerations, the required node
    affinity replaced by the node's name (ReplaceDaemonSetPodNodeNameNodeAffinity), bound."""
    pod = pod_from_template(ds, {**ds["spec"]["template"], "spec": store.clone(spec)})
    pod["metadata"]["labels"][HASH_LABEL] = revision
    generation = (ds["metadata"].get("annotations") or {}).get(GENERATION_ANNOTATION)
    if generation is not None:
        pod["metadata"]["labels"][GENERATION_LABEL] = generation
    node_affinity = pod["spec"].setdefault("affinity", {}).setdefault("nodeAffinity", {})
    node_affinity["requiredDuringSchedulingIgnoredDuringExecution"] = {"nodeSelectorTerms": [
        {"matchFields": [{"key": "metadata.name", "operator": "In", "values": [node_name]}]}]}
    pod["spec"]["nodeName"] = node_name   # kubelab: bound here; the scheduler never sees it
    try:
        create_dependent(cluster, ds, pod, component=COMPONENT, now=now)
    except ApiError as exc:   # tried again next pass; no event for a namespace being deleted
        if "is being terminated" not in exc.message:
            store.record_event(cluster, ds, "Warning", "FailedCreate",
                               f"Error creating: {exc.message}", component=COMPONENT,
                               aggregate=True, now=now)
