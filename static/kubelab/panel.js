// The detail panel: one object's YAML as stored, its labels and annotations (editable) and its
// events, following live changes.

import { Drawer } from "./drawer.js";
import { getJSON } from "./http.js";
import { MetaEditor } from "./metaeditor.js";
import { clockDate, clockTime, condition, describePath, eventTime, nodeView, podView } from "./objects.js";

const REFRESH_DELAY = 250; // ms: a burst of changes to one object costs one fetch

function row(dl, term, value) {
  if (value === "" || value === undefined || value === null) return;
  const dt = document.createElement("dt");
  dt.textContent = term;
  const dd = document.createElement("dd");
  dd.textContent = String(value);
  dl.append(dt, dd);
}

export class DetailPanel {
  constructor(element, { apiBase }) {
    this.apiBase = apiBase;
    this.drawer = new Drawer(element, { onClose: () => this.reset() });
    this.kindEl = element.querySelector("#detail-kind");
    this.title = element.querySelector("#detail-title");
    this.gone = element.querySelector("#detail-gone");
    this.summary = element.querySelector("#detail-summary");
    this.eventsEl = element.querySelector("#detail-events");
    this.yaml = element.querySelector("#detail-yaml code");
    this.meta = new MetaEditor(element.querySelector("#detail-meta"), { apiBase });
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
    this.drawer.show(opener, this.title);
    this.fetch();
  }

  reset() {
    clearTimeout(this.timer);
    this.timer = 0;
    this.abort?.abort();
    this.target = null;
    this.meta.reset();
  }

  // Called once per rendered batch: re-fetch when the object or one of its events changed.
  follow(batch) {
    const target = this.target;
    if (!target?.uid) return;
    let refresh = false;
    for (const [uid, change] of batch) {
      if (uid === target.uid) {
        if (!change.object) {
          this.gone.hidden = false;
          target.deleted = true;
          this.meta.setGone(true);
          return;
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
        this.gone.hidden = false;
        target.deleted = true;
        this.meta.setGone(true);
        if (!this.yaml.textContent) this.eventsEl.replaceChildren();
        return;
      }
      this.eventsEl.replaceChildren(Object.assign(document.createElement("p"),
        { className: "form-error", textContent: `Could not load: ${err.message}` }));
      return;
    }
    if (seq !== this.seq || this.target !== target) return;
    target.uid = answer.object?.metadata?.uid || target.uid;
    this.renderSummary(answer.object);
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
      row(dl, "Status", view.readiness + (view.cordoned ? ", SchedulingDisabled" : ""));
      row(dl, "Max pods", view.maxPods);
      row(dl, "CPU", view.cpu);
      row(dl, "Memory", view.memory);
      const ip = (obj.status?.addresses || []).find((a) => a.type === "InternalIP");
      row(dl, "Internal IP", ip?.address);
      row(dl, "Ready since", condition(obj, "Ready")?.lastTransitionTime);
    }
    row(dl, "Created", obj.metadata?.creationTimestamp);
    this.summary.replaceWith(dl);
    dl.id = "detail-summary";
    this.summary = dl;
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
