// Labels and annotations in the detail panel, as editable rows: change a value, remove a row,
// add one. Save sends one JSON merge patch, as `kubectl label --overwrite k=v` and
// `kubectl label k-` would (null removes a key). The server validates: a 422 shows its Status
// message and marks the rows it names; nothing is half-applied and the edits stay.

import { el } from "./chips.js";
import { mergePatch } from "./http.js";
import { LAST_APPLIED } from "./objects.js";
import { resourceOf } from "./workloads.js";

// Where the controllers' REST paths start: the API group and version each is served in.
const WORKLOAD_APIS = {
  ReplicationController: "api/v1", ReplicaSet: "apis/apps/v1", DaemonSet: "apis/apps/v1",
  Job: "apis/batch/v1", CronJob: "apis/batch/v1",
};

const FIELDS = {
  labels: { singular: "label", multiline: false },
  annotations: { singular: "annotation", multiline: true },
};

// The REST path of an object whose metadata the panel can edit, or null.
export function objectPath(apiBase, kind, namespace, name) {
  const enc = encodeURIComponent;
  if (kind === "Pod") return `${apiBase}/api/v1/namespaces/${enc(namespace)}/pods/${enc(name)}`;
  if (kind === "Node") return `${apiBase}/api/v1/nodes/${enc(name)}`;
  const api = WORKLOAD_APIS[kind];
  if (api) return `${apiBase}/${api}/namespaces/${enc(namespace)}/${resourceOf(kind)}/${enc(name)}`;
  return null;
}

function fitRows(textarea) {
  textarea.rows = Math.min(6, Math.max(1, textarea.value.split("\n").length));
}

class Row {
  // original: the stored value, or undefined for a row the user is adding.
  constructor(field, key, original) {
    const { singular, multiline } = FIELDS[field];
    this.field = field;
    this.original = original;
    this.isNew = original === undefined;
    this.removed = false;
    const row = el("div", "kv-row");
    row.dataset.field = field;
    if (this.isNew) {
      row.classList.add("is-new");
      this.keyInput = el("input", "kv-key-input");
      Object.assign(this.keyInput, { type: "text", placeholder: "key", spellcheck: false,
        autocomplete: "off" });
      this.keyInput.setAttribute("aria-label", `New ${singular} key`);
      row.append(this.keyInput);
    } else {
      row.dataset.key = key;
      this.keyText = el("span", "kv-key", key);
      this.keyText.title = key;
      row.append(this.keyText);
    }
    row.append(el("span", "kv-eq", "="));
    this.value = el(multiline ? "textarea" : "input", "kv-value");
    if (!multiline) this.value.type = "text";
    this.value.spellcheck = false;
    this.value.autocomplete = "off";
    this.value.value = original ?? "";
    this.value.placeholder = this.isNew ? "value" : "(empty)";
    if (multiline) {
      this.value.rows = 1;
      fitRows(this.value);
    }
    this.remove = el("button", "button icon kv-remove");
    this.remove.type = "button";
    row.append(this.value, this.remove);
    this.el = row;
    this.key = key;
    this.singular = singular;
    this.label();
  }

  get currentKey() {
    return this.isNew ? this.keyInput.value.trim() : this.key;
  }

  label() {
    const what = `${this.singular} ${this.isNew ? "being added" : this.key}`;
    this.value.setAttribute("aria-label", this.isNew ? `New ${this.singular} value` : `Value of ${what}`);
    this.remove.textContent = this.removed ? "Undo" : "✕";
    this.remove.classList.toggle("icon", !this.removed);
    const action = this.removed ? `Keep ${what}` : `Remove ${what}`;
    this.remove.setAttribute("aria-label", action);
    this.remove.title = action;
  }

  toggleRemoved() {
    this.removed = !this.removed;
    this.el.classList.toggle("is-removed", this.removed);
    this.value.disabled = this.removed;
    this.label();
  }

  // What this row puts in the merge patch: [key, value|null], or null for nothing.
  change() {
    if (this.isNew) {
      const key = this.currentKey;
      if (!key && !this.value.value) return null;
      return [key, this.value.value];
    }
    if (this.removed) return [this.key, null];
    if (this.value.value !== this.original) return [this.key, this.value.value];
    return null;
  }

  // Marks the key or the value as refused (message), or clears both (no arguments).
  invalid(message = "", part = "value") {
    this.el.classList.toggle("is-invalid", Boolean(message));
    for (const input of [this.keyInput, this.value]) input?.removeAttribute("aria-invalid");
    this.invalidInput = null;
    this.el.title = message;
    if (!message) return;
    this.invalidInput = part === "key" && this.keyInput ? this.keyInput : this.value;
    this.invalidInput.setAttribute("aria-invalid", "true");
  }
}

export class MetaEditor {
  constructor(root, { apiBase, onSaved }) {
    this.root = root;
    this.apiBase = apiBase;
    this.onSaved = onSaved;
    this.form = root.querySelector("form");
    this.fieldset = root.querySelector("fieldset");
    this.lists = { labels: root.querySelector("#meta-labels"), annotations: root.querySelector("#meta-annotations") };
    this.lastApplied = root.querySelector("#meta-last-applied");
    this.errorEl = root.querySelector("#meta-error");
    this.statusEl = root.querySelector("#meta-status");
    this.save = root.querySelector("#meta-save");
    this.discard = root.querySelector("#meta-discard");
    this.rows = [];
    this.object = null; // what the rows were drawn from
    this.latest = null; // the newest copy seen, drawn once the user's edits are saved or discarded
    this.target = null;
    this.saving = false;
    root.addEventListener("input", (e) => {
      if (e.target.tagName === "TEXTAREA") fitRows(e.target);
      this.status("");
      this.refresh();
    });
    root.addEventListener("click", (e) => {
      const add = e.target.closest("[data-add]");
      if (add) {
        this.addRow(add.dataset.add).keyInput.focus();
        return;
      }
      const remove = e.target.closest(".kv-remove");
      if (remove) this.removeRow(remove.closest(".kv-row"));
    });
    // Escape in a changed field puts its stored value back (a second Escape closes the panel),
    // so a reflex Escape does not throw away edits.
    root.addEventListener("keydown", (e) => {
      if (e.key !== "Escape") return;
      const row = this.rows.find((r) => r.value === e.target);
      if (!row || row.isNew || row.value.value === row.original) return;
      e.preventDefault();
      row.value.value = row.original;
      this.refresh();
    });
    this.form.addEventListener("submit", (e) => {
      e.preventDefault();
      this.submit();
    });
    this.discard.addEventListener("click", () => {
      this.draw(this.latest || this.object);
      this.status("Changes discarded.");
    });
  }

  // The panel opened something else: forget the old rows.
  reset() {
    this.target = null;
    this.object = null;
    this.latest = null;
    this.rows = [];
    this.root.hidden = true;
  }

  // A fresh copy from the server. Drawn at once unless the user has unsaved edits.
  show(target, obj) {
    this.target = target;
    if (!objectPath(this.apiBase, target.kind, target.namespace, target.name)) {
      this.root.hidden = true;
      return;
    }
    this.root.hidden = false;
    const rv = Number(obj.metadata?.resourceVersion) || 0;
    if (this.latest && rv < (Number(this.latest.metadata?.resourceVersion) || 0)) return;
    this.latest = obj;
    if (this.editing || this.saving) return;
    if (this.object && this.object.metadata?.resourceVersion === obj.metadata?.resourceVersion) return;
    this.draw(obj);
  }

  // The object is gone: nothing left to edit.
  setGone(gone) {
    this.fieldset.disabled = gone;
  }

  draw(obj) {
    const focus = this.focused();
    this.object = obj;
    this.rows = [];
    this.error(null);
    const meta = obj?.metadata || {};
    for (const field of Object.keys(FIELDS)) {
      const values = { ...(meta[field] || {}) };
      if (field === "annotations") delete values[LAST_APPLIED];
      const list = this.lists[field];
      list.replaceChildren();
      const keys = Object.keys(values).sort();
      for (const key of keys) this.append(new Row(field, key, String(values[key])));
      list.dataset.empty = String(!keys.length);
    }
    const applied = meta.annotations?.[LAST_APPLIED];
    this.lastApplied.hidden = !applied;
    if (applied) {
      let text = applied;
      try {
        text = JSON.stringify(JSON.parse(applied), null, 2);
      } catch { /* shown as stored */ }
      this.lastApplied.querySelector("pre code").textContent = text;
    }
    this.refresh();
    if (focus) this.restoreFocus(focus);
  }

  append(row) {
    this.rows.push(row);
    this.lists[row.field].append(row.el);
    this.lists[row.field].dataset.empty = "false";
    return row;
  }

  addRow(field) {
    const row = this.append(new Row(field, "", undefined));
    this.refresh();
    return row;
  }

  removeRow(rowEl) {
    const row = this.rows.find((r) => r.el === rowEl);
    if (!row) return;
    if (row.isNew) {
      // A row being added just goes; focus moves to its section's "Add" button.
      this.rows.splice(this.rows.indexOf(row), 1);
      row.el.remove();
      this.root.querySelector(`[data-add="${row.field}"]`).focus();
    } else {
      row.toggleRemoved();
    }
    this.status("");
    this.refresh();
  }

  patch() {
    const patch = {};
    for (const row of this.rows) {
      const change = row.change();
      if (!change) continue;
      patch[row.field] = patch[row.field] || {};
      patch[row.field][change[0]] = change[1];
    }
    return Object.keys(patch).length ? { metadata: patch } : null;
  }

  get dirty() {
    return this.patch() !== null;
  }

  // Anything the user has started, even a row added and still empty: a redraw would lose it.
  get editing() {
    return this.dirty || this.rows.some((r) => r.isNew);
  }

  refresh() {
    const dirty = this.dirty;
    this.save.disabled = !dirty || this.saving;
    this.discard.disabled = !this.editing || this.saving;
    this.root.dataset.dirty = String(dirty);
  }

  async submit() {
    const patch = this.patch();
    const target = this.target;
    if (!patch || this.saving || !target) return;
    const url = objectPath(this.apiBase, target.kind, target.namespace, target.name);
    this.saving = true;
    this.refresh();
    this.status("Saving…");
    let answer;
    try {
      answer = await mergePatch(url, patch);
    } catch (err) {
      this.saving = false;
      if (this.target !== target) return;
      this.refresh();
      this.status("");
      this.error(err.body?.kind === "Status" ? err.body : { message: err.message });
      return;
    }
    this.saving = false;
    if (this.target !== target) return;
    this.latest = answer;
    this.draw(answer);
    const changed = Object.values(patch.metadata).reduce((n, m) => n + Object.keys(m).length, 0);
    this.status(`Saved ${changed} change${changed === 1 ? "" : "s"}.`);
    this.onSaved?.(answer);
  }

  // A metav1.Status (or just a message): shown above the buttons, with the rows it names marked.
  error(status) {
    for (const row of this.rows) row.invalid("");
    if (!status) {
      this.errorEl.hidden = true;
      this.errorEl.replaceChildren();
      return;
    }
    const head = el("p", "meta-error-head", "Not saved. ");
    head.append(el("span", "", status.message || "the server refused the change"));
    this.errorEl.replaceChildren(head);
    const causes = status.details?.causes || [];
    let marked = 0;
    for (const cause of causes) {
      // "Invalid value: \"bad value!\": ..." names the key or value it refused.
      const field = (cause.field || "").replace(/^metadata\./, "");
      const quoted = /Invalid value: "((?:[^"\\]|\\.)*)"/.exec(cause.message || "");
      const value = quoted ? JSON.parse(`"${quoted[1]}"`) : null;
      for (const row of this.rows) {
        if (row.field !== field || value === null) continue;
        const part = row.currentKey === value ? "key"
          : !row.removed && row.value.value === value ? "value" : null;
        if (part && row.change()) { // only rows the user changed can be at fault
          row.invalid(`${cause.field}: ${cause.message}`, part);
          marked += 1;
        }
      }
    }
    if (causes.length) {
      const fields = [...new Set(causes.map((c) => c.field).filter(Boolean))];
      if (fields.length) {
        const p = el("p", "meta-error-fields", "Field: ");
        fields.forEach((f, i) => p.append(i ? ", " : "", el("code", "", f)));
        this.errorEl.append(p);
      }
    }
    this.errorEl.hidden = false;
    // Focus the first refused input, as a form does; the alert above says why.
    if (marked) this.rows.find((r) => r.invalidInput)?.invalidInput.focus();
  }

  status(text) {
    if (this.statusEl.textContent !== text) this.statusEl.textContent = text;
  }

  // Which row's input has focus, to give it back after the rows are redrawn.
  focused() {
    const active = document.activeElement;
    const rowEl = active?.closest?.(".kv-row");
    if (!rowEl || !this.root.contains(rowEl)) return null;
    const row = this.rows.find((r) => r.el === rowEl);
    return row ? { field: row.field, key: row.currentKey } : null;
  }

  restoreFocus({ field, key }) {
    const row = this.rows.find((r) => r.field === field && r.key === key);
    if (row) row.value.focus();
    else this.root.querySelector("h3")?.focus();
  }
}
