"""Pod (v1): defaulting and validation as the API server applies them in Kubernetes 1.32."""

from cluster import printing, quantity
from cluster.errors import FieldError
from cluster.kinds import Kind, owner_controller_uid, register
from cluster.kinds import validation as v

RESTART_POLICIES = ("Always", "OnFailure", "Never")
DNS_POLICIES = ("ClusterFirstWithHostNet", "ClusterFirst", "Default", "None")
PULL_POLICIES = ("Always", "IfNotPresent", "Never")
PROTOCOLS = ("TCP", "UDP", "SCTP")
# The DefaultTolerationSeconds admission plugin gives every pod these two, 300 s each.
DEFAULT_TOLERATIONS = [
    {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute",
     "tolerationSeconds": 300},
    {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute",
     "tolerationSeconds": 300},
]
# What a pod update may change (ValidatePodUpdate): everything else in spec is immutable.
UPDATABLE_MESSAGE = (
    "pod updates may not change fields other than `spec.containers[*].image`,"
    "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` "
    "(only additions to existing tolerations),`spec.terminationGracePeriodSeconds` "
    "(allow it to be set to 1 if it was previously negative)"
)


def image_pull_policy(image):
    """Always for :latest or no tag, IfNotPresent otherwise (a digest counts as a tag)."""
    if "@" in image:
        return "IfNotPresent"
    last = image.rsplit("/", 1)[-1]
    if ":" not in last or last.endswith(":latest"):
        return "Always"
    return "IfNotPresent"


def default_container(container):
    image = container.get("image") or ""
    container.setdefault("imagePullPolicy", image_pull_policy(image))
    container.setdefault("terminationMessagePath", "/dev/termination-log")
    container.setdefault("terminationMessagePolicy", "File")
    container.setdefault("resources", {})
    for port in container.get("ports") or []:
        if isinstance(port, dict):
            port.setdefault("protocol", "TCP")
    for probe_name in ("livenessProbe", "readinessProbe", "startupProbe"):
        probe = container.get(probe_name)
        if isinstance(probe, dict):
            probe.setdefault("timeoutSeconds", 1)
            probe.setdefault("periodSeconds", 10)
            probe.setdefault("successThreshold", 1)
            probe.setdefault("failureThreshold", 3)
            if isinstance(probe.get("httpGet"), dict):
                probe["httpGet"].setdefault("path", "/")
                probe["httpGet"].setdefault("scheme", "HTTP")


def requests_of(container):
    """Effective requests: limits stand in for missing requests, as the API server defaults."""
    resources = container.get("resources") or {}
    requests = dict(resources.get("limits") or {})
    requests.update(resources.get("requests") or {})
    return requests


def qos_class(spec):
    containers = spec.get("containers") or []
    if all(not (c.get("resources") or {}).get("requests") and not (c.get("resources") or {}).get("limits")
           for c in containers):
        return "BestEffort"
    guaranteed = True
    for c in containers:
        res = c.get("resources") or {}
        limits, requests = res.get("limits") or {}, res.get("requests") or {}
        for name in ("cpu", "memory"):
            if name not in limits or str(requests.get(name, limits[name])) != str(limits[name]):
                guaranteed = False
    return "Guaranteed" if guaranteed else "Burstable"


def default_pod_spec(spec):
    """What the API server defaults in every PodSpec, a Pod's or a template's
    (pkg/apis/core/v1/defaults.go: SetDefaults_PodSpec, SetDefaults_Container, ...)."""
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("schedulerName", "default-scheduler")
    spec.setdefault("securityContext", {})
    for container in (spec.get("containers") or []) + (spec.get("initContainers") or []):
        if isinstance(container, dict):
            default_container(container)


def validate_pod_spec(spec, path):
    """Field errors of a PodSpec at `path` ("spec", or "spec.template.spec" in a template)."""
    errors = []
    containers = spec.get("containers")
    if not containers:
        errors.append(FieldError.required(f"{path}.containers"))
    names = set()
    ports_seen = {}
    host_ports = set()
    for list_name in ("initContainers", "containers"):
        for i, c in enumerate(spec.get(list_name) or []):
            here = f"{path}.{list_name}[{i}]"
            name = c.get("name")
            if not name:
                errors.append(FieldError.required(f"{here}.name"))
            else:
                errors += v.each(f"{here}.name", name, v.dns1123_label(name))
                if name in names:
                    errors.append(FieldError.duplicate(f"{here}.name", name))
                names.add(name)
            if not c.get("image"):
                errors.append(FieldError.required(f"{here}.image"))
            policy = c.get("imagePullPolicy")
            if policy not in PULL_POLICIES:
                errors.append(FieldError.not_supported(f"{here}.imagePullPolicy", policy,
                                                       PULL_POLICIES))
            errors += _validate_ports(here, c, list_name, ports_seen, host_ports)
            errors += _validate_resources(here, c)
    policy = spec.get("restartPolicy")
    if policy not in RESTART_POLICIES:
        errors.append(FieldError.not_supported(f"{path}.restartPolicy", policy, RESTART_POLICIES))
    if spec.get("dnsPolicy") not in DNS_POLICIES:
        errors.append(FieldError.not_supported(f"{path}.dnsPolicy", spec.get("dnsPolicy"),
                                               DNS_POLICIES))
    grace = spec.get("terminationGracePeriodSeconds")
    if isinstance(grace, int) and grace < 0:
        errors.append(FieldError.invalid(f"{path}.terminationGracePeriodSeconds", grace,
                                         "must be greater than or equal to 0"))
    errors += v.labels(f"{path}.nodeSelector", spec.get("nodeSelector"))
    return errors


def _terminated_reason(terminated, prefix=""):
    """A terminated container's word: its reason, else Signal:N or ExitCode:N."""
    if terminated.get("reason"):
        return prefix + terminated["reason"]
    if terminated.get("signal"):
        return f"{prefix}Signal:{terminated['signal']}"
    return f"{prefix}ExitCode:{terminated.get('exitCode') or 0}"


def _last_finished(container_status):
    """When the container's previous run ended (lastState.terminated.finishedAt), or None."""
    last = (container_status.get("lastState") or {}).get("terminated")
    return printing.parse_time(last.get("finishedAt")) if isinstance(last, dict) else None


def _later(a, b):
    return b if a is None or (b is not None and b > a) else a


def printed_status(pod):
    """(ready, containers, STATUS, restarts, last restart) as `kubectl get pods` shows a pod.

    Kubernetes 1.32's printPod: the phase (or status.reason) unless a container says more:
    an init container not done yet gives Init:N/M or Init:<reason>; otherwise the last app
    container with a waiting or terminated reason wins (ContainerCreating, CrashLoopBackOff,
    Completed, Error); a deleted pod is Terminating, or Unknown when its node was lost.
    Sidecars (init containers with restartPolicy Always) count as containers.
    """
    spec, status, meta = pod.get("spec") or {}, pod.get("status") or {}, pod["metadata"]
    phase = status.get("phase") or ""
    reason = status.get("reason") or phase
    true_conditions = set()        # one pass: `kubectl get` over 10,000 pods must stay fast
    for cond in status.get("conditions") or []:
        if cond.get("status") == "True":
            true_conditions.add(cond.get("type"))
        if cond.get("type") == "PodScheduled" and cond.get("reason") == "SchedulingGated":
            reason = "SchedulingGated"
    init_specs = [c for c in spec.get("initContainers") or [] if isinstance(c, dict)]
    sidecars = {c.get("name") for c in init_specs if c.get("restartPolicy") == "Always"}
    total = len(spec.get("containers") or []) + len(sidecars)
    ready = restarts = sidecar_restarts = 0
    last_restart = sidecar_last_restart = None

    initializing = False
    for i, cs in enumerate(status.get("initContainerStatuses") or []):
        restarts += cs.get("restartCount") or 0
        finished = _last_finished(cs)
        last_restart = _later(last_restart, finished)
        sidecar = cs.get("name") in sidecars
        if sidecar:
            sidecar_restarts += cs.get("restartCount") or 0
            sidecar_last_restart = _later(sidecar_last_restart, finished)
        state = cs.get("state") or {}
        terminated, waiting = state.get("terminated"), state.get("waiting")
        if terminated is not None and (terminated.get("exitCode") or 0) == 0:
            continue
        if sidecar and cs.get("started"):
            ready += 1 if cs.get("ready") else 0
            continue
        if terminated is not None:
            reason = _terminated_reason(terminated, "Init:")
        elif waiting and waiting.get("reason") and waiting["reason"] != "PodInitializing":
            reason = "Init:" + waiting["reason"]
        else:
            reason = f"Init:{i}/{len(init_specs)}"
        initializing = True
        break

    if not initializing or "Initialized" in true_conditions:
        restarts, last_restart = sidecar_restarts, sidecar_last_restart
        has_running = False
        # From the last container back: the first one listed with something to say wins.
        for cs in reversed(status.get("containerStatuses") or []):
            restarts += cs.get("restartCount") or 0
            last_restart = _later(last_restart, _last_finished(cs))
            state = cs.get("state") or {}
            terminated, waiting = state.get("terminated"), state.get("waiting")
            if waiting and waiting.get("reason"):
                reason = waiting["reason"]
            elif terminated is not None:
                reason = _terminated_reason(terminated)
            elif cs.get("ready") and state.get("running") is not None:
                has_running = True
                ready += 1
        # A finished container beside a running one: the pod still runs.
        if reason == "Completed" and has_running:
            reason = "Running" if "Ready" in true_conditions else "NotReady"

    if meta.get("deletionTimestamp"):
        if status.get("reason") == "NodeLost":
            reason = "Unknown"
        elif phase not in ("Succeeded", "Failed"):
            reason = "Terminating"
    return ready, total, reason, restarts, last_restart


@register
class Pod(Kind):
    kind = "Pod"
    plural, singular = "pods", "pod"
    short_names = ("po",)
    categories = ("all",)
    model = "V1Pod"
    subresources = ("status", "log")
    discovery_subresources = ("status", "log", "exec", "proxy", "eviction", "binding")

    def default(self, obj, ctx):
        spec = obj.setdefault("spec", {})
        default_pod_spec(spec)
        # What only a Pod gets, never a template: SetDefaults_Pod (enableServiceLinks) and the
        # admission plugins (Priority, ServiceAccount, DefaultTolerationSeconds).
        spec.setdefault("enableServiceLinks", True)
        spec.setdefault("preemptionPolicy", "PreemptLowerPriority")
        spec.setdefault("priority", 0)
        spec.setdefault("serviceAccountName", spec.get("serviceAccount") or "default")
        spec.setdefault("serviceAccount", spec["serviceAccountName"])
        tolerations = spec.setdefault("tolerations", [])
        if isinstance(tolerations, list):
            present = {(t.get("key"), t.get("effect")) for t in tolerations if isinstance(t, dict)}
            for toleration in DEFAULT_TOLERATIONS:
                if (toleration["key"], toleration["effect"]) not in present:
                    tolerations.append(dict(toleration))

    def prepare_create(self, obj, ctx):
        # The API server ignores a client's status on create.
        obj["status"] = {"phase": "Pending", "qosClass": qos_class(obj.get("spec") or {})}

    def validate(self, obj, ctx):
        return validate_pod_spec(obj.get("spec") or {}, "spec")

    def validate_update(self, old, new, ctx):
        old_spec, new_spec = dict(old.get("spec") or {}), dict(new.get("spec") or {})
        # Only the fields ValidatePodUpdate allows may differ; images are compared apart.
        for spec in (old_spec, new_spec):
            for key in ("containers", "initContainers"):
                spec[key] = [{**c, "image": None} for c in spec.get(key) or []]
            spec.pop("activeDeadlineSeconds", None)
            spec.pop("tolerations", None)
        if old_spec != new_spec:
            return [FieldError.forbidden("spec", UPDATABLE_MESSAGE)]
        return []

    # kubectl get pods: the columns of Kubernetes 1.32's pod printer (printPod).
    columns = (
        printing.NAME,
        printing.Column("Ready", description="The aggregate readiness state of this pod for "
                                             "accepting traffic."),
        printing.Column("Status", description="The aggregate status of the containers in this "
                                              "pod."),
        printing.Column("Restarts", description="The number of times the containers in this pod "
                                                "have been restarted and when the last container "
                                                "in this pod has restarted."),
        printing.AGE,
        printing.Column("IP", description=("V1PodStatus", "podIP"), priority=1),
        printing.Column("Node", description=("V1PodSpec", "nodeName"), priority=1),
        printing.Column("Nominated Node", description=("V1PodStatus", "nominatedNodeName"),
                        priority=1),
        printing.Column("Readiness Gates", description=("V1PodSpec", "readinessGates"),
                        priority=1),
    )

    def printer_row(self, obj, now):
        spec, status = obj.get("spec") or {}, obj.get("status") or {}
        ready, total, reason, restarts, last_restart = printed_status(obj)
        restarts_cell = str(restarts)
        if restarts and last_restart is not None:
            restarts_cell = f"{restarts} ({printing.human_duration(now - last_restart)} ago)"
        ips = [entry.get("ip") for entry in status.get("podIPs") or [] if isinstance(entry, dict)]
        # v1 -> internal conversion fills podIPs from a lone podIP.
        pod_ip = (ips[0] if ips else status.get("podIP")) or printing.NONE
        gates = spec.get("readinessGates") or []
        gates_cell = printing.NONE
        if gates:
            true_types = {c.get("type") for c in status.get("conditions") or []
                          if c.get("status") == "True"}
            passed = sum(1 for gate in gates if gate.get("conditionType") in true_types)
            gates_cell = f"{passed}/{len(gates)}"
        return [obj["metadata"].get("name", ""), f"{ready}/{total}", reason, restarts_cell,
                printing.age(obj, now), pod_ip, spec.get("nodeName") or printing.NONE,
                status.get("nominatedNodeName") or printing.NONE, gates_cell]

    def row_conditions(self, obj):
        phase = (obj.get("status") or {}).get("phase")
        if phase == "Succeeded":
            return [{"type": "Completed", "status": "True", "reason": "Succeeded",
                     "message": "The pod has completed successfully."}]
        if phase == "Failed":
            return [{"type": "Completed", "status": "True", "reason": "Failed",
                     "message": "The pod failed."}]
        return []

    def index(self, obj):
        return {
            "node_name": (obj.get("spec") or {}).get("nodeName") or "",
            "phase": (obj.get("status") or {}).get("phase") or "",
            "owner_uid": owner_controller_uid(obj),
        }


def _validate_ports(path, container, list_name, ports_seen, host_ports):
    errors = []
    for j, port in enumerate(container.get("ports") or []):
        ppath = f"{path}.ports[{j}]"
        number = port.get("containerPort")
        if number is None:
            errors.append(FieldError.required(f"{ppath}.containerPort"))
        else:
            errors += v.each(f"{ppath}.containerPort", number, v.port_number(number))
        if port.get("name"):
            errors += v.each(f"{ppath}.name", port["name"], v.iana_svc_name(port["name"]))
        if port.get("protocol") not in PROTOCOLS:
            errors.append(FieldError.not_supported(f"{ppath}.protocol", port.get("protocol"),
                                                   PROTOCOLS))
        if port.get("hostPort"):
            key = (port["hostPort"], port.get("protocol"))
            if key in host_ports:
                errors.append(FieldError.duplicate(f"{ppath}.hostPort", port["hostPort"]))
            host_ports.add(key)
        if list_name == "containers" and number is not None:
            # kubelab's teaching rule: a pod's containers share one network namespace, so
            # two of them cannot both listen on one port (the second would fail to bind).
            key = (number, port.get("protocol"))
            if key in ports_seen and ports_seen[key] != container.get("name"):
                errors.append(FieldError.duplicate(
                    f"{ppath}.containerPort", number,
                    hint=f"container {ports_seen[key]!r} already uses port {number}: the "
                         "containers of a pod share one IP and port space"))
            ports_seen.setdefault(key, container.get("name"))
    return errors


def _validate_resources(path, container):
    errors = []
    resources = container.get("resources") or {}
    parsed = {}
    for section in ("limits", "requests"):
        for name, value in (resources.get(section) or {}).items():
            field = f"{path}.resources.{section}[{name}]"
            try:
                parsed[(section, name)] = quantity.parse(value)
            except ValueError as exc:
                errors.append(FieldError.invalid(field, value, str(exc)))
                continue
            if parsed[(section, name)] < 0:
                errors.append(FieldError.invalid(field, value,
                                                 "must be greater than or equal to 0"))
    for (section, name), value in parsed.items():
        limit = parsed.get(("limits", name))
        if section == "requests" and limit is not None and value > limit:
            errors.append(FieldError.invalid(
                f"{path}.resources.requests", resources["requests"][name],
                f"must be less than or equal to {name} limit of {resources['limits'][name]}"))
    return errors
