// What the board shows of an object, derived from the object alone. Pure: no DOM here.

const collator = new Intl.Collator("en", { numeric: true });
export const compareNames = collator.compare;

export function condition(obj, type) {
  return (obj?.status?.conditions || []).find((c) => c.type === type) || null;
}

// "2026-01-01T12:00:05Z" -> "12:00:05". Simulated times are UTC; read them as text, not as the
// browser's local time.
export function clockTime(stamp) {
  return typeof stamp === "string" && stamp.length >= 19 ? stamp.slice(11, 19) : "";
}

export function clockDate(stamp) {
  return typeof stamp === "string" && stamp.length >= 10 ? `${stamp.slice(0, 10)} UTC` : "";
}

// What `kubectl get pods` prints in STATUS, by its own rules (printPod in kubectl 1.32's
// pkg/printers/internalversion/printers.go): the phase or status.reason, then the first init
// container not done ("Init:0/1", "Init:CrashLoopBackOff"), then each app container from the
// last to the first (so the first container's trouble wins): its waiting reason
// (CrashLoopBackOff, ErrImagePull, ImagePullBackOff, ContainerCreating), its terminated reason
// (Completed, Error, OOMKilled) or "ExitCode:N"; "Completed" with a container still running
// reads "Running" (or "NotReady"); a pod being deleted is "Terminating" ("Unknown" when its node
// was lost).
export function podStatusText(pod) {
  const spec = pod.spec || {};
  const status = pod.status || {};
  let reason = status.reason || status.phase || "Pending";
  let initializing = false;
  const inits = status.initContainerStatuses || [];
  for (let i = 0; i < inits.length; i += 1) {
    const state = inits[i].state || {};
    const t = state.terminated;
    const w = state.waiting;
    if (t && t.exitCode === 0) continue;
    if (t) {
      reason = t.reason ? `Init:${t.reason}`
        : t.signal ? `Init:Signal:${t.signal}` : `Init:ExitCode:${t.exitCode}`;
    } else if (w?.reason && w.reason !== "PodInitializing") {
      reason = `Init:${w.reason}`;
    } else {
      reason = `Init:${i}/${(spec.initContainers || []).length}`;
    }
    initializing = true;
    break;
  }
  if (!initializing || condition(pod, "Initialized")?.status === "True") {
    let hasRunning = false;
    const statuses = status.containerStatuses || [];
    for (let i = statuses.length - 1; i >= 0; i -= 1) {
      const cs = statuses[i];
      const state = cs.state || {};
      if (state.waiting?.reason) reason = state.waiting.reason;
      else if (state.terminated?.reason) reason = state.terminated.reason;
      else if (state.terminated) {
        reason = state.terminated.signal ? `Signal:${state.terminated.signal}`
          : `ExitCode:${state.terminated.exitCode}`;
      } else if (cs.ready && state.running) hasRunning = true;
    }
    if (reason === "Completed" && hasRunning) {
      reason = condition(pod, "Ready")?.status === "True" ? "Running" : "NotReady";
    }
  }
  if (pod.metadata?.deletionTimestamp) {
    reason = status.reason === "NodeLost" ? "Unknown" : "Terminating";
  }
  return reason;
}

// The colour family of a STATUS text; the text itself is always shown too.
export function statusCategory(label) {
  if (label === "Running" || label === "NotReady") return "running";
  if (label === "Pending") return "pending";
  if (label === "Succeeded" || label === "Completed") return "succeeded";
  if (label === "Terminating") return "terminating";
  if (label === "Unknown") return "unknown";
  if (label === "ContainerCreating" || label === "PodInitializing" || /^Init:\d+\/\d+$/.test(label)) {
    return "creating";
  }
  return "failed"; // Failed, Error, CrashLoopBackOff, ErrImagePull, ImagePullBackOff, ExitCode:1, ...
}

// A pod's display state, derived from the object alone.
export function podView(pod) {
  const meta = pod.metadata || {};
  const spec = pod.spec || {};
  const status = pod.status || {};
  const phase = status.phase || "Pending";
  const statuses = status.containerStatuses || [];
  const label = podStatusText(pod);
  const category = statusCategory(label);
  const terminating = Boolean(meta.deletionTimestamp);
  const ready = condition(pod, "Ready")?.status === "True";
  const restarts = statuses.reduce((n, cs) => n + (cs.restartCount || 0), 0);
  const scheduled = condition(pod, "PodScheduled");
  let why = "";
  if (!spec.nodeName) {
    why = scheduled?.status === "False" ? (scheduled.message || scheduled.reason || "")
      : "waiting for the scheduler";
  }
  return {
    name: meta.name || "",
    namespace: meta.namespace || "",
    nodeName: spec.nodeName || "",
    label,
    category,
    terminating,
    ready,
    restarts,
    why,
    finished: phase === "Succeeded" || phase === "Failed",
  };
}

export function sameView(a, b) {
  if (!a || !b) return false;
  for (const k in a) if (a[k] !== b[k]) return false;
  return true;
}

export const POWER = "kubelab.io/power";

// "Ready" / "NotReady" / "Unknown", as `kubectl get nodes` prints STATUS (with
// ",SchedulingDisabled" when cordoned), and what the board adds: why it is not Ready, and
// whether kubelab's power switch is off.
export function nodeView(node) {
  const ready = condition(node, "Ready");
  const readiness = ready?.status === "True" ? "Ready" : ready?.status === "False" ? "NotReady"
    : "Unknown";
  const allocatable = node.status?.allocatable || {};
  const taints = node.spec?.taints || [];
  return {
    name: node.metadata?.name || "",
    readiness,
    // Why not Ready, in the node's own words ("Kubelet stopped posting node status.").
    why: readiness === "Ready" ? "" : (ready?.message || ready?.reason
      || "the kubelet has not posted a Ready condition yet"),
    cordoned: Boolean(node.spec?.unschedulable),
    poweredOff: node.metadata?.annotations?.[POWER] === "off",
    taints: taints.map(taintText).join(", "),
    maxPods: allocatable.pods ?? "?",
    cpu: allocatable.cpu ?? "",
    memory: allocatable.memory ?? "",
  };
}

// "key=value:Effect", as `kubectl describe node` lists taints.
export function taintText(taint) {
  const value = taint.value ? `=${taint.value}` : "";
  return `${taint.key}${value}:${taint.effect}`;
}

// One container's state as a sentence's parts: {state, reason, message, detail}.
export function containerState(state) {
  if (!state) return { state: "", reason: "", message: "", detail: "" };
  if (state.running) {
    return { state: "Running", reason: "", message: "",
      detail: state.running.startedAt ? `since ${clockTime(state.running.startedAt)}` : "" };
  }
  if (state.waiting) {
    return { state: "Waiting", reason: state.waiting.reason || "", message: state.waiting.message || "",
      detail: "" };
  }
  if (state.terminated) {
    const t = state.terminated;
    const parts = [`exit code ${t.exitCode}`];
    if (t.signal) parts.push(`signal ${t.signal}`);
    if (t.startedAt) parts.push(`started ${clockTime(t.startedAt)}`);
    if (t.finishedAt) parts.push(`finished ${clockTime(t.finishedAt)}`);
    return { state: "Terminated", reason: t.reason || "", message: t.message || "",
      detail: parts.join(", ") };
  }
  return { state: "", reason: "", message: "", detail: "" };
}

export function podKey(pod) {
  return `${pod.metadata?.namespace || ""}/${pod.metadata?.name || ""}`;
}

// The moment an Event last happened: what "newest first" orders by.
export function eventTime(ev) {
  return ev.lastTimestamp || ev.eventTime || ev.firstTimestamp || ev.metadata?.creationTimestamp
    || "";
}

export function eventOrder(a, b) {
  const ta = eventTime(a);
  const tb = eventTime(b);
  if (ta !== tb) return ta < tb ? 1 : -1;
  return (Number(b.metadata?.resourceVersion) || 0) - (Number(a.metadata?.resourceVersion) || 0);
}

export function objectRef(involved) {
  const kind = (involved?.kind || "").toLowerCase();
  return kind ? `${kind}/${involved.name || ""}` : involved?.name || "";
}

export function describePath(apiBase, kind, namespace, name) {
  const parts = [apiBase, "describe", kind];
  if (namespace) parts.push(namespace);
  parts.push(name);
  return parts.map((p, i) => (i === 0 ? p : encodeURIComponent(p))).join("/");
}

// The annotation `kubectl apply` keeps: the board shows it read-only, never edits it.
export const LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration";
