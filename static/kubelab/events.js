// Event tables (the strip under the board, and the Events tab): newest first, rows keyed by
// uid and reordered in place, so an aggregated event (count 2, 3, ...) moves to the top.

import { clockDate, clockTime, eventOrder, eventTime, objectRef, sameView } from "./objects.js";

const OPENABLE = new Set(["Pod", "Node", "ReplicationController", "ReplicaSet", "DaemonSet", "Job",
  "CronJob"]);

function eventView(ev) {
  const involved = ev.involvedObject || {};
  const when = eventTime(ev);
  return {
    time: clockTime(when),
    date: clockDate(when),
    type: ev.type || "Normal",
    reason: ev.reason || "",
    kind: involved.kind || "",
    namespace: involved.namespace || "",
    name: involved.name || "",
    ref: objectRef(involved),
    message: ev.message || "",
    count: ev.count || 1,
  };
}

function cell(className) {
  const td = document.createElement("td");
  td.className = className;
  return td;
}

class Row {
  constructor(uid) {
    this.tr = document.createElement("tr");
    this.tr.dataset.uid = uid;
    this.time = cell("ev-time");
    this.type = cell("ev-type");
    this.reason = cell("ev-reason");
    this.object = cell("ev-object");
    this.message = cell("ev-message");
    this.tr.append(this.time, this.type, this.reason, this.object, this.message);
    this.view = null;
  }

  update(view) {
    if (sameView(this.view, view)) return false;
    this.view = view;
    this.tr.dataset.type = view.type;
    this.tr.dataset.reason = view.reason;
    this.time.textContent = view.time;
    this.time.title = view.date;
    this.type.textContent = view.type === "Warning" ? "⚠ Warning" : view.type;
    this.reason.textContent = view.reason;
    this.object.replaceChildren();
    const label = view.namespace && view.namespace !== "default"
      ? `${view.ref} (${view.namespace})` : view.ref;
    if (OPENABLE.has(view.kind)) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "link ev-open";
      button.dataset.kind = view.kind;
      button.dataset.namespace = view.kind === "Node" ? "" : view.namespace;
      button.dataset.name = view.name;
      button.textContent = label;
      button.title = `${label}: open its YAML and events`;
      this.object.append(button);
    } else {
      this.object.textContent = label;
    }
    this.message.textContent = view.message;
    if (view.count > 1) {
      const count = document.createElement("span");
      count.className = "badge count";
      count.textContent = `×${view.count}`;
      count.title = `happened ${view.count} times`;
      this.message.append(" ", count);
    }
    return true;
  }
}

export class EventsView {
  constructor(tbody, limit) {
    this.tbody = tbody;
    this.limit = limit;
    this.rows = new Map();
    this.stale = true;
    this.visible = true;
  }

  setVisible(visible, events) {
    this.visible = visible;
    if (visible && this.stale) this.render(events());
  }

  // `events`: every Event the board holds, already sorted newest first.
  render(events) {
    if (!this.visible) {
      this.stale = true;
      return;
    }
    this.stale = false;
    const shown = events.slice(0, this.limit);
    const keep = new Set();
    let cursor = this.tbody.firstElementChild;
    for (const ev of shown) {
      const uid = ev.metadata.uid;
      keep.add(uid);
      let row = this.rows.get(uid);
      if (!row) {
        row = new Row(uid);
        this.rows.set(uid, row);
      }
      row.update(eventView(ev));
      if (row.tr !== cursor) this.tbody.insertBefore(row.tr, cursor);
      else cursor = cursor.nextElementSibling;
    }
    for (const [uid, row] of this.rows) {
      if (!keep.has(uid)) {
        row.tr.remove();
        this.rows.delete(uid);
      }
    }
  }
}

export function sortedEvents(store) {
  const events = [];
  for (const uid of store.events) {
    const ev = store.get(uid);
    if (ev) events.push(ev);
  }
  return events.sort(eventOrder);
}
