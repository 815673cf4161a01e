// The detail panel: one object's YAML as stored, its labels and annotations (editable) and its
// events, following live changes.

import { Drawer } from "./drawer.js";
import { ExecConsole } from "./execconsole.js";
import { getJSON } from "./http.js";
import { MetaEditor } from "./metaeditor.js";
import { nodeActions } from "./nodeactions.js";
import {
  clockDate, clockTime, condition, containerState, describePath, eventTime, nodeView, podView,
  taintText,
} from "./objects.js";
import { PodLogs } from "./podlogs.js";
import { controllerRef, isWorkload, jobDuration, qualifiedKind, workloadView } from "./workloads.js";

const REFRESH_DELAY = 250; // ms: a burst of changes to one object costs one fetch

function row(dl, term, value) {
  if (value === "" || value === undefined || value === null) return null;
  const dt = document.createElement("dt");
  dt.textContent = term;
  const dd = document.createElement("dd");
  dd.textContent = String(value);
  dl.append(dt, dd);
  return dd;
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

// One container as `kubectl describe pod` tells it: state, reason, message, exit code, last
// state, ready, restart count.
function containerCard(spec, cs, init) {
  const card = el("div", "ctr");
  card.dataset.container = spec.name;
  const now = containerState(cs?.state);
  const before = containerState(cs?.lastState);
  card.dataset.state = now.state || "Waiting";
  card.dataset.reason = now.reason;
  const head = el("div", "ctr-head");
  head.append(el("span", "ctr-name", spec.name));
  if (init) head.append(el("span", "ctr-tag", "init"));
  head.append(el("code", "ctr-image", spec.image || ""));
  const badge = el("span", `ctr-state state-${(now.state || "waiting").toLowerCase()}`,
    now.reason || now.state || "Waiting");
  if (now.reason === "Completed") badge.classList.add("is-done");
  head.append(badge);
  card.append(head);
  const dl = el("dl", "ctr-facts");
  const state = row(dl, "State", now.state || (cs ? "" : "Waiting (no status yet)"));
  if (state && now.detail) state.append(el("span", "muted", ` ${now.detail}`));
  row(dl, "Reason", now.reason);
  const message = row(dl, "Message", now.message);
  if (message) message.className = "ctr-message";
  if (before.state) {
    const last = row(dl, "Last state", before.state);
    const words = [before.reason, before.detail].filter(Boolean).join(", ");
    if (words) last.append(el("span", "muted", ` ${words}`));
    if (before.message) last.append(el("span", "ctr-message", ` ${before.message}`));
  }
  row(dl, "Ready", cs ? (cs.ready ? "True" : "False") : "");
  const restarts = row(dl, "Restart count", cs ? String(cs.restartCount || 0) : "");
  if (restarts) restarts.className = "ctr-restarts";
  card.append(dl);
  return card;
}

export class DetailPanel {
  constructor(element, { apiBase, actions, lookup }) {
    this.apiBase = apiBase;
    this.actions = actions;
    this.lookup = lookup || (() => null);
    this.drawer = new Drawer(element, { onClose: () => this.reset() });
    this.kindEl = element.querySelector("#detail-kind");
    this.title = element.querySelector("#detail-title");
    this.gone = element.querySelector("#detail-gone");
    this.summary = element.querySelector("#detail-summary");
    this.eventsEl = element.querySelector("#detail-events");
    this.yaml = element.querySelector("#detail-yaml code");
    this.meta = new MetaEditor(element.querySelector("#detail-meta"), { apiBase });
    this.nodeSection = element.querySelector("#detail-node");
    this.nodeActionsEl = element.querySelector("#node-actions");
    this.taintsEl = element.querySelector("#node-taints");
    this.conditionsEl = element.querySelector("#node-conditions");
    this.containersSection = element.querySelector("#detail-containers");
    this.containersEl = element.querySelector("#containers-list");
    this.logs = new PodLogs(element.querySelector("#detail-logs"), { apiBase });
    this.exec = new ExecConsole(element.querySelector("#detail-exec"), { apiBase });
    this.nodeActionsEl.addEventListener("click", (e) => {
      const button = e.target.closest("[data-action]");
      if (button && this.target?.kind === "Node") {
        this.actions?.run(button.dataset.action, this.target.name);
      }
    });
    this.target = null;
    this.timer = 0;
    this.seq = 0;
    this.abort = null;
  }

  // target: {kind, namespace, name, uid?}
  open(target, opener) {
    this.target = { ...target };
    this.kindEl.textContent = target.kind;
    this.title.textContent = target.namespace ? `${target.namespace}/${target.name}` : target.name;
    this.gone.hidden = true;
    this.summary.replaceChildren();
    this.eventsEl.replaceChildren(Object.assign(document.createElement("p"),
      { className: "muted", textContent: "Loading…" }));
    this.yaml.textContent = "";
    this.meta.reset();
    this.meta.setGone(false);
    this.nodeSection.hidden = true;
    this.containersSection.hidden = true;
    this.logs.hide();
    this.exec.hide();
    if (target.kind === "Pod") {
      const pod = target.uid ? this.lookup(target.uid) : null;
      this.logs.show(this.target, pod);
      this.exec.show(this.target, pod);
    }
    this.drawer.show(opener, this.title);
    this.fetch();
  }

  reset() {
    clearTimeout(this.timer);
    this.timer = 0;
    this.abort?.abort();
    this.target = null;
    this.meta.reset();
    this.logs.hide();
    this.exec.hide();
  }

  markGone() {
    this.gone.hidden = false;
    this.target.deleted = true;
    this.meta.setGone(true);
    if (this.target.kind === "Pod") {
      this.logs.gone();
      this.exec.gone();
    }
    this.nodeActionsEl.querySelectorAll("button").forEach((b) => { b.disabled = true; });
  }

  // Called once per rendered batch: re-fetch when the object or one of its events changed.
  follow(batch) {
    const target = this.target;
    if (!target?.uid) return;
    let refresh = false;
    for (const [uid, change] of batch) {
      if (uid === target.uid) {
        if (!change.object) {
          this.markGone();
          return;
        }
        if (target.kind === "Pod") {
          this.logs.update(change.object);
          this.exec.update(change.object);
        }
        refresh = true;
      } else if (change.kind === "Event" && change.object?.involvedObject?.uid === target.uid) {
        refresh = true;
      }
    }
    // Throttled, not debounced: an object that changes every tick must still be re-read.
    if (refresh && !target.deleted && !this.timer) {
      this.timer = setTimeout(() => {
        this.timer = 0;
        this.fetch();
      }, REFRESH_DELAY);
    }
  }

  async fetch() {
    const target = this.target;
    if (!target) return;
    this.abort?.abort();
    const abort = new AbortController();
    this.abort = abort;
    const seq = ++this.seq;
    let answer;
    try {
      answer = await getJSON(describePath(this.apiBase, target.kind, target.namespace, target.name),
        abort.signal);
    } catch (err) {
      if (err.name === "AbortError" || seq !== this.seq) return;
      if (err.status === 404) {
        this.markGone();
        if (!this.yaml.textContent) this.eventsEl.replaceChildren();
        return;
      }
      this.eventsEl.replaceChildren(Object.assign(document.createElement("p"),
        { className: "form-error", textContent: `Could not load: ${err.message}` }));
      return;
    }
    if (seq !== this.seq || this.target !== target) return;
    const first = !target.uid;
    target.uid = answer.object?.metadata?.uid || target.uid;
    this.renderSummary(answer.object);
    if (answer.object?.kind === "Pod") {
      this.renderContainers(answer.object);
      if (first || !this.logs.pod) {
        this.logs.update(answer.object);
        this.exec.update(answer.object);
      }
    } else if (answer.object?.kind === "Node") {
      this.renderNode(answer.object);
    }
    this.meta.show(target, answer.object);
    this.renderEvents(answer.events || []);
    this.yaml.textContent = answer.yaml || "";
  }

  renderSummary(obj) {
    const dl = document.createElement("dl");
    dl.className = "summary";
    if (obj.kind === "Pod") {
      const view = podView(obj);
      row(dl, "Status", view.label);
      row(dl, "Ready", view.ready ? "yes" : "no");
      row(dl, "Restarts", view.restarts);
      row(dl, "Node", view.nodeName || "(not scheduled)");
      row(dl, "Pod IP", obj.status?.podIP);
      if (!view.nodeName) row(dl, "Why pending", view.why);
    } else if (obj.kind === "Node") {
      const view = nodeView(obj);
      const status = row(dl, "Status", view.readiness + (view.cordoned ? ",SchedulingDisabled" : ""));
      status.className = `node-status state-${view.readiness}`;
      const ready = condition(obj, "Ready");
      if (view.readiness !== "Ready" && ready?.reason) {
        row(dl, "Why", `${ready.reason}: ${ready.message || ""}`.replace(/: $/, ""));
      }
      row(dl, "Power", view.poweredOff ? "off (kubelab.io/power: off): the kubelet posts no status"
        : "on");
      row(dl, "Max pods", view.maxPods);
      row(dl, "CPU", view.cpu);
      row(dl, "Memory", view.memory);
      const ip = (obj.status?.addresses || []).find((a) => a.type === "InternalIP");
      row(dl, "Internal IP", ip?.address);
      row(dl, `${view.readiness} since`, ready?.lastTransitionTime);
    } else if (isWorkload(obj.kind)) {
      const view = workloadView(obj);
      const state = row(dl, "Status", view.state.text);
      state.className = `wl-state`;
      state.dataset.tone = view.state.tone;
      for (const stat of view.stats) row(dl, stat.label, stat.value);
      row(dl, "Selector", view.selector);
      if (obj.kind === "DaemonSet") row(dl, "Node selector", view.nodeSelector);
      if (obj.kind === "CronJob") {
        row(dl, "Schedule", view.schedule + (view.timeZone ? ` (${view.timeZone})` : ""));
        row(dl, "Last schedule", view.lastSchedule || "never");
      }
      if (obj.kind === "Job" && obj.status?.completionTime) row(dl, "Duration", jobDuration(obj));
    }
    if (obj.metadata?.deletionTimestamp) {
      row(dl, "Deleting since", obj.metadata.deletionTimestamp);
      row(dl, "Finalizers", (obj.metadata.finalizers || []).join(", "));
    }
    const owner = controllerRef(obj);
    if (owner) row(dl, "Controlled by", `${qualifiedKind(owner.kind)}/${owner.name}`);
    row(dl, "Created", obj.metadata?.creationTimestamp);
    this.summary.replaceWith(dl);
    dl.id = "detail-summary";
    this.summary = dl;
  }

  renderContainers(pod) {
    const statuses = new Map();
    for (const cs of pod.status?.initContainerStatuses || []) statuses.set(`i:${cs.name}`, cs);
    for (const cs of pod.status?.containerStatuses || []) statuses.set(`c:${cs.name}`, cs);
    const cards = [
      ...(pod.spec?.initContainers || []).map((c) => containerCard(c, statuses.get(`i:${c.name}`), true)),
      ...(pod.spec?.containers || []).map((c) => containerCard(c, statuses.get(`c:${c.name}`), false)),
    ];
    this.containersEl.replaceChildren(...cards);
    this.containersSection.hidden = false;
  }

  renderNode(node) {
    this.nodeSection.hidden = false;
    const buttons = nodeActions(node).map((action) => {
      const button = el("button", `button${action.danger ? " danger" : ""}`, action.label);
      button.type = "button";
      button.dataset.action = action.id;
      button.title = action.hint;
      button.disabled = Boolean(this.target?.deleted);
      return button;
    });
    const focused = this.nodeActionsEl.contains(document.activeElement)
      ? [...this.nodeActionsEl.children].indexOf(document.activeElement) : -1;
    this.nodeActionsEl.replaceChildren(...buttons);
    if (focused >= 0) buttons[focused]?.focus(); // Cordon becomes Uncordon under the keyboard
    const taints = node.spec?.taints || [];
    if (!taints.length) {
      this.taintsEl.replaceChildren(el("li", "muted none", "none"));
    } else {
      this.taintsEl.replaceChildren(...taints.map((t) => {
        const li = el("li", "taint");
        li.append(el("code", "", taintText(t)));
        if (t.timeAdded) li.append(el("span", "muted", ` since ${clockTime(t.timeAdded)}`));
        return li;
      }));
    }
    const conditions = node.status?.conditions || [];
    const table = el("table", "events-table conditions");
    table.innerHTML = "<thead><tr><th scope='col'>Type</th><th scope='col'>Status</th>"
      + "<th scope='col'>Reason</th><th scope='col'>Message</th>"
      + "<th scope='col'>Last heartbeat</th></tr></thead>";
    const body = el("tbody");
    for (const c of conditions) {
      const tr = el("tr");
      tr.dataset.type = c.type;
      tr.dataset.status = c.status;
      const bad = c.type === "Ready" ? c.status !== "True" : c.status === "True";
      if (bad) tr.className = "is-bad";
      for (const [text, cls, title] of [
        [c.type, "cond-type"], [c.status, "cond-status"], [c.reason || "", "cond-reason"],
        [c.message || "", "cond-message"],
        [clockTime(c.lastHeartbeatTime), "ev-time", clockDate(c.lastHeartbeatTime)],
      ]) {
        const td = el("td", cls, text);
        if (title) td.title = title;
        tr.append(td);
      }
      body.append(tr);
    }
    table.append(body);
    this.conditionsEl.replaceChildren(table);
  }

  renderEvents(events) {
    if (!events.length) {
      this.eventsEl.replaceChildren(Object.assign(document.createElement("p"),
        { className: "muted", textContent: "No events." }));
      return;
    }
    const table = document.createElement("table");
    table.className = "events-table detail-events";
    table.innerHTML = "<thead><tr><th scope='col'>Type</th><th scope='col'>Reason</th>"
      + "<th scope='col'>Message</th><th scope='col' class='num'>Count</th>"
      + "<th scope='col'>Last seen</th></tr></thead>";
    const body = document.createElement("tbody");
    for (const ev of events) {
      const tr = document.createElement("tr");
      tr.dataset.type = ev.type || "Normal";
      tr.dataset.reason = ev.reason || "";
      const when = eventTime(ev);
      for (const [text, cls, title] of [
        [ev.type === "Warning" ? "⚠ Warning" : (ev.type || "Normal"), "ev-type"],
        [ev.reason || "", "ev-reason"],
        [ev.message || "", "ev-message"],
        [String(ev.count || 1), "num"],
        [clockTime(when), "ev-time", clockDate(when)],
      ]) {
        const td = document.createElement("td");
        td.className = cls;
        td.textContent = text;
        if (title) td.title = title;
        tr.append(td);
      }
      body.append(tr);
    }
    table.append(body);
    this.eventsEl.replaceChildren(table);
  }
}
