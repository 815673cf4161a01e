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

// A pod's display state, close to what `kubectl get pods` prints in STATUS.
// `category` picks the colour; `label` is always shown as text.
export function podView(pod) {
  const meta = pod.metadata || {};
  const spec = pod.spec || {};
  const status = pod.status || {};
  const phase = status.phase || "Pending";
  const statuses = status.containerStatuses || [];
  let label = status.reason || phase;
  let category = phase.toLowerCase();
  for (const cs of statuses) {
    const waiting = cs.state?.waiting?.reason;
    const terminated = cs.state?.terminated;
    if (waiting) {
      label = waiting;
    } else if (terminated && phase !== "Succeeded" && phase !== "Failed") {
      label = terminated.reason || `ExitCode:${terminated.exitCode}`;
    }
  }
  if (label !== phase) {
    category = /BackOff|Err|Invalid|Failed|Error|OOMKilled/.test(label) ? "failed"
      : label === "ContainerCreating" || label === "PodInitializing" ? "creating" : category;
  }
  if (!["pending", "creating", "running", "succeeded", "failed", "unknown"].includes(category)) {
    category = "unknown";
  }
  const terminating = Boolean(meta.deletionTimestamp);
  if (terminating && status.reason !== "NodeLost") {
    label = "Terminating";
    category = "terminating";
  }
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

// "Ready" / "NotReady" / "Unknown", as `kubectl get nodes` prints STATUS.
export function nodeView(node) {
  const ready = condition(node, "Ready");
  const readiness = ready?.status === "True" ? "Ready" : ready?.status === "False" ? "NotReady"
    : "Unknown";
  const allocatable = node.status?.allocatable || {};
  return {
    name: node.metadata?.name || "",
    readiness,
    cordoned: Boolean(node.spec?.unschedulable),
    maxPods: allocatable.pods ?? "?",
    cpu: allocatable.cpu ?? "",
    memory: allocatable.memory ?? "",
  };
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
