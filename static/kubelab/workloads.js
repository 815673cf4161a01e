// What the board shows of a controller (ReplicationController, ReplicaSet, DaemonSet, Job,
// CronJob) and of an object's owner, derived from the object alone. Pure: no DOM here.

import { clockTime, condition } from "./objects.js";

// In the order the Workloads tab lists them (kubectl get all's order).
export const WORKLOAD_KINDS = ["ReplicationController", "ReplicaSet", "DaemonSet", "Job", "CronJob"];

const SHORT = {
  ReplicationController: "rc", ReplicaSet: "rs", DaemonSet: "ds", Job: "job", CronJob: "cj",
  Deployment: "deploy", StatefulSet: "sts", Node: "node", Pod: "po",
};
// The resource names in the board's /workloads/<resource>/... URLs, as kubectl names them.
const RESOURCES = {
  ReplicationController: "replicationcontrollers", ReplicaSet: "replicasets",
  DaemonSet: "daemonsets", Job: "jobs", CronJob: "cronjobs",
};
// What kubectl prints before a name: `replicationcontroller/kubia`, `replicaset.apps/kubia`.
const QUALIFIED = {
  ReplicationController: "replicationcontroller", ReplicaSet: "replicaset.apps",
  DaemonSet: "daemonset.apps", Job: "job.batch", CronJob: "cronjob.batch",
};

export const isWorkload = (kind) => Object.prototype.hasOwnProperty.call(RESOURCES, kind);
export const shortKind = (kind) => SHORT[kind] || (kind || "").toLowerCase();
export const resourceOf = (kind) => RESOURCES[kind];
export const qualifiedKind = (kind) => QUALIFIED[kind] || (kind || "").toLowerCase();
export const isScalable = (kind) => kind === "ReplicationController" || kind === "ReplicaSet";

// The ownerReference marked controller, or null (what "owned by" means for the board).
export function controllerRef(obj) {
  for (const ref of obj?.metadata?.ownerReferences || []) if (ref.controller) return ref;
  return null;
}

export function controllerUid(obj) {
  return controllerRef(obj)?.uid || "";
}

// labels.FormatLabels: sorted `k=v` pairs, or <none>. (kubectl's SELECTOR for an RC.)
export function formatLabels(map) {
  const pairs = Object.entries(map || {}).map(([k, v]) => `${k}=${v}`).sort();
  return pairs.length ? pairs.join(",") : "<none>";
}

const OPERATORS = { In: "in", NotIn: "notin", Exists: "exists", DoesNotExist: "!" };

// metav1.FormatLabelSelector, as kubectl -o wide and describe print a LabelSelector:
// requirements sorted by key (matchLabels as `k=v`, `k in (a,b)`, `k notin (a,b)`, `k`, `!k`,
// values sorted); a selector that selects everything or nothing prints <none>; one that
// cannot be built, <error>. cluster/selectors.py to_string is the server's twin.
export function formatLabelSelector(selector) {
  if (!selector) return "<none>";
  const terms = [];
  for (const [key, value] of Object.entries(selector.matchLabels || {})) {
    terms.push({ key, text: `${key}=${value}` });
  }
  for (const e of selector.matchExpressions || []) {
    const op = OPERATORS[e?.operator];
    if (!op) return "<error>";
    const values = [...(e.values || [])].sort();
    const key = e.key || "";
    if (op === "exists") terms.push({ key, text: key });
    else if (op === "!") terms.push({ key, text: `!${key}` });
    else terms.push({ key, text: `${key} ${op} (${values.join(",")})` });
  }
  // A stable sort by key, as the server's: terms on one key keep their written order.
  terms.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return terms.length ? terms.map((t) => t.text).join(",") : "<none>";
}

// What the tab prints as SELECTOR for each kind (kubectl get -o wide's column).
export function selectorText(obj) {
  const spec = obj?.spec || {};
  if (obj?.kind === "ReplicationController") return formatLabels(spec.selector);
  if (obj?.kind === "CronJob") return formatLabelSelector(spec.jobTemplate?.spec?.selector);
  return formatLabelSelector(spec.selector);
}

// kubectl 1.32's Job STATUS column (printJob), in its order of precedence.
export function jobStatus(job) {
  const is = (type) => condition(job, type)?.status === "True";
  if (is("Complete")) return "Complete";
  if (is("Failed")) return "Failed";
  if (job?.metadata?.deletionTimestamp) return "Terminating";
  if (is("Suspended")) return "Suspended";
  if (is("FailureTarget")) return "FailureTarget";
  if (is("SuccessCriteriaMet")) return "SuccessCriteriaMet";
  return "Running";
}

// kubectl's COMPLETIONS: succeeded/completions, or "n/1 of <parallelism>" for a work queue.
export function jobCompletions(job) {
  const spec = job?.spec || {};
  const succeeded = job?.status?.succeeded || 0;
  if (spec.completions !== undefined && spec.completions !== null) {
    return `${succeeded}/${spec.completions}`;
  }
  if ((spec.parallelism || 0) > 1) return `${succeeded}/1 of ${spec.parallelism}`;
  return `${succeeded}/1`;
}

function stamp(text) {
  const ms = typeof text === "string" ? Date.parse(text) : NaN;
  return Number.isNaN(ms) ? null : ms;
}

// k8s.io/apimachinery duration.HumanDuration: what kubectl prints for AGE and LAST SCHEDULE.
export function humanDuration(seconds) {
  if (seconds < -1) return "<invalid>";
  if (seconds < 0) return "0s";
  const s = Math.floor(seconds);
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return s % 60 === 0 ? `${m}m` : `${m}m${s % 60}s`;
  if (m < 180) return `${m}m`;
  const h = Math.floor(s / 3600);
  if (h < 8) return m % 60 === 0 ? `${h}h` : `${h}h${m % 60}m`;
  if (h < 48) return `${h}h`;
  if (h < 192) return h % 24 === 0 ? `${Math.floor(h / 24)}d` : `${Math.floor(h / 24)}d${h % 24}h`;
  const d = Math.floor(h / 24);
  if (d < 730) return `${d}d`;
  const y = Math.floor(d / 365);
  if (y < 8) return d % 365 === 0 ? `${y}y` : `${y}y${d % 365}d`;
  return `${y}y`;
}

// A countdown to the second: "4m 05s", "1h 02m 30s", "12s".
export function countdown(seconds) {
  const s = Math.max(0, Math.ceil(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  const pad = (n) => String(n).padStart(2, "0");
  if (h) return `${h}h ${pad(m)}m ${pad(r)}s`;
  if (m) return `${m}m ${pad(r)}s`;
  return `${r}s`;
}

// Seconds from `from` to `to` (both timestamps), or null when either is missing.
export function secondsBetween(from, to) {
  const a = stamp(from);
  const b = stamp(to);
  return a === null || b === null ? null : (b - a) / 1000;
}

// The numbers a controller is read by, each {label, value, title}: what `kubectl get` prints.
function stats(obj) {
  const spec = obj.spec || {};
  const status = obj.status || {};
  const n = (v) => String(v ?? 0);
  switch (obj.kind) {
    case "ReplicationController":
    case "ReplicaSet":
      return [
        { key: "desired", label: "Desired", value: n(spec.replicas), title: "spec.replicas" },
        { key: "current", label: "Current", value: n(status.replicas), title: "status.replicas: pods it has" },
        { key: "ready", label: "Ready", value: n(status.readyReplicas), title: "status.readyReplicas" },
      ];
    case "DaemonSet":
      return [
        { key: "desired", label: "Desired", value: n(status.desiredNumberScheduled), title: "status.desiredNumberScheduled: nodes that should run its pod" },
        { key: "current", label: "Current", value: n(status.currentNumberScheduled), title: "status.currentNumberScheduled: nodes running its pod" },
        { key: "ready", label: "Ready", value: n(status.numberReady), title: "status.numberReady" },
        { key: "updated", label: "Up-to-date", value: n(status.updatedNumberScheduled), title: "status.updatedNumberScheduled" },
        { key: "available", label: "Available", value: n(status.numberAvailable), title: "status.numberAvailable" },
      ];
    case "Job": {
      const rows = [
        { key: "completions", label: "Completions", value: spec.completions == null ? "–" : n(spec.completions), title: "spec.completions: pods that must succeed" },
        { key: "succeeded", label: "Succeeded", value: n(status.succeeded), title: "status.succeeded" },
        { key: "active", label: "Active", value: n(status.active), title: "status.active: pods running or pending" },
      ];
      if (status.failed) rows.push({ key: "failed", label: "Failed", value: n(status.failed), title: "status.failed" });
      return rows;
    }
    case "CronJob":
      return [
        { key: "suspend", label: "Suspend", value: spec.suspend ? "True" : "False", title: "spec.suspend" },
        { key: "active", label: "Active", value: n((status.active || []).length), title: "status.active: its jobs still running" },
      ];
    default:
      return [];
  }
}

// {text, tone}: one line that says how the controller is doing. Tones: ok, progress, failed,
// idle, deleting. The text always carries the meaning; the tone only colours it.
function state(obj) {
  const spec = obj.spec || {};
  const status = obj.status || {};
  const meta = obj.metadata || {};
  if (meta.deletionTimestamp) {
    const finalizers = meta.finalizers || [];
    const how = finalizers.includes("orphan") ? "releasing its pods (orphan)"
      : finalizers.includes("foregroundDeletion") ? "deleting its dependents first (foreground)" : "being deleted";
    return { text: `Deleting: ${how}`, tone: "deleting" };
  }
  switch (obj.kind) {
    case "ReplicationController":
    case "ReplicaSet": {
      const want = spec.replicas ?? 1;
      const have = status.replicas || 0;
      const ready = status.readyReplicas || 0;
      if (want === 0 && have === 0) return { text: "Scaled to 0", tone: "idle" };
      if (have < want) return { text: `Scaling up: ${have} of ${want} pods`, tone: "progress" };
      if (have > want) return { text: `Scaling down: ${have} pods, ${want} wanted`, tone: "progress" };
      return { text: `${ready} of ${want} ready`, tone: ready >= want ? "ok" : "progress" };
    }
    case "DaemonSet": {
      const want = status.desiredNumberScheduled || 0;
      const ready = status.numberReady || 0;
      if (want === 0) {
        const selector = spec.template?.spec?.nodeSelector;
        return { text: selector ? `No node matches its nodeSelector (${formatLabels(selector)})` : "No node to run on", tone: "idle" };
      }
      return { text: `${ready} of ${want} nodes ready`, tone: ready >= want ? "ok" : "progress" };
    }
    case "Job": {
      const text = jobStatus(obj);
      const tone = { Complete: "ok", Failed: "failed", Suspended: "idle", FailureTarget: "failed" }[text] || "progress";
      const failedCondition = condition(obj, "Failed");
      const why = text === "Failed" && failedCondition?.reason ? ` (${failedCondition.reason})` : "";
      return { text: `${text}${why} · ${jobCompletions(obj)} completed`, tone };
    }
    case "CronJob": {
      if (spec.suspend) return { text: "Suspended", tone: "idle" };
      const active = (status.active || []).length;
      return active ? { text: `${active} job${active === 1 ? "" : "s"} running`, tone: "progress" }
        : { text: "Waiting for its schedule", tone: "idle" };
    }
    default:
      return { text: "", tone: "idle" };
  }
}

// Everything the tab's card shows that depends on the object alone.
export function workloadView(obj) {
  const meta = obj.metadata || {};
  const spec = obj.spec || {};
  const status = obj.status || {};
  return {
    kind: obj.kind,
    short: shortKind(obj.kind),
    name: meta.name || "",
    namespace: meta.namespace || "",
    selector: selectorText(obj),
    nodeSelector: obj.kind === "DaemonSet" ? formatLabels(spec.template?.spec?.nodeSelector) : "",
    stats: stats(obj),
    state: state(obj),
    deleting: Boolean(meta.deletionTimestamp),
    replicas: isScalable(obj.kind) ? (spec.replicas ?? 1) : null,
    schedule: obj.kind === "CronJob" ? spec.schedule || "" : "",
    timeZone: obj.kind === "CronJob" ? spec.timeZone || "" : "",
    lastSchedule: obj.kind === "CronJob" ? status.lastScheduleTime || "" : "",
    startTime: obj.kind === "Job" ? status.startTime || "" : "",
    completionTime: obj.kind === "Job" ? status.completionTime || "" : "",
  };
}

// kubectl's DURATION for a Job: running time so far, or start to completion.
export function jobDuration(job, now) {
  const start = job?.status?.startTime;
  if (!start) return "";
  const end = job.status.completionTime || now;
  const seconds = secondsBetween(start, end);
  return seconds === null ? "" : humanDuration(seconds);
}

// "12:45:00 (4m ago)": a past moment on the simulated clock.
export function agoText(when, now) {
  if (!when) return "never";
  const seconds = secondsBetween(when, now);
  return seconds === null ? clockTime(when) : `${clockTime(when)} (${humanDuration(seconds)} ago)`;
}
