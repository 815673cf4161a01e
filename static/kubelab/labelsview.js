// The Labels view: pods grouped by the value of one label key, one column per value and one for
// pods without the key, live as labels change.
//
// Chips are keyed by uid, as on the board: a relabelled pod's chip moves to its new group (and
// flashes), it is not rebuilt. Only pods the namespace filter shows are placed. While the view
// is hidden it only notes that it is stale, and catches up from the store when shown again.

import { Chip, Lane, el, flash, setText } from "./chips.js";
import { compareNames, sameView } from "./objects.js";

const FLASH_BUDGET = 120;
const NONE = Symbol("no label"); // the group of pods without the key

function sameLabels(a, b) {
  if (a === b) return true;
  const ka = Object.keys(a || {});
  const kb = Object.keys(b || {});
  if (ka.length !== kb.length) return false;
  for (const k of ka) if (a[k] !== b?.[k]) return false;
  return true;
}

// The selector that picks exactly one group's pods: what clicking its header types.
export function groupSelector(key, value) {
  return value === NONE ? `!${key}` : `${key}=${value}`;
}

class Group {
  constructor(key, value) {
    this.value = value;
    const none = value === NONE;
    const section = el("section", `group-col${none ? " is-none" : ""}`);
    section.dataset.key = key;
    section.dataset.value = none ? "" : value;
    if (none) section.dataset.none = "true";
    const head = el("button", "group-head");
    head.type = "button";
    const selector = groupSelector(key, value);
    head.dataset.selector = selector;
    head.title = `Highlight these pods: -l ${selector}`;
    const title = el("span", "group-title");
    if (none) {
      title.textContent = `(no ${key} label)`;
    } else {
      title.append(el("span", "group-key", `${key}=`), el("span", "group-value", value === "" ? '""' : value));
    }
    this.countEl = el("span", "badge count group-count", "0");
    head.append(title, this.countEl);
    const list = el("ul", "pod-list");
    list.setAttribute("aria-label", none ? `Pods without a ${key} label` : `Pods labelled ${key}=${value}`);
    section.setAttribute("aria-label", none ? `No ${key} label` : `${key}=${value}`);
    section.append(head, list);
    this.el = section;
    this.lane = new Lane(list);
    this.lane.group = this;
  }

  updateCount() {
    const n = this.lane.size;
    setText(this.countEl, String(n));
    this.countEl.setAttribute("aria-label", `${n} pod${n === 1 ? "" : "s"}`);
  }
}

export class LabelsView {
  constructor({ select, groupsEl, summaryEl, emptyEl, filter, store, viewOf, initialKey, onKey,
    onSelect }) {
    this.select = select;
    this.groupsEl = groupsEl;
    this.summaryEl = summaryEl;
    this.emptyEl = emptyEl;
    this.filter = filter;
    this.store = store;
    this.viewOf = viewOf;
    this.onKey = onKey;
    this.key = initialKey || "";
    this.chips = new Map(); // pod uid -> Chip (pods the namespace filter shows)
    this.groups = new Map(); // label value (or NONE) -> Group
    this.keysSignature = null;
    this.visible = false;
    this.stale = true;
    this.namespace = filter.namespace;
    this.budget = 0;
    select.addEventListener("change", () => this.setKey(select.value, true));
    groupsEl.addEventListener("click", (e) => {
      const head = e.target.closest(".group-head");
      if (head) onSelect(head.dataset.selector);
    });
  }

  setVisible(visible) {
    this.visible = visible;
    if (visible && this.stale) this.sync();
  }

  render(batch, flags) {
    if (!this.visible) {
      for (const change of batch.values()) {
        if (change.kind === "Pod") {
          this.stale = true;
          break;
        }
      }
      return;
    }
    if (this.stale) {
      this.sync();
      return;
    }
    this.budget = flags.snapshot ? 0 : FLASH_BUDGET;
    let relabelled = Boolean(flags.snapshot);
    const touched = new Set();
    for (const [uid, change] of batch) {
      if (change.kind !== "Pod") continue;
      if (!change.object || !change.previous
          || !sameLabels(change.object.metadata?.labels, change.previous.metadata?.labels)) {
        relabelled = true;
      }
      this.place(uid, change.object, touched);
    }
    this.finish(touched);
    if (relabelled) this.updateKeys();
  }

  // Everything from the store: on show, after a new namespace or key. Chips are kept.
  sync() {
    this.stale = false;
    this.budget = 0;
    this.namespace = this.filter.namespace;
    if (this.updateKeys()) return; // it chose a key, and synced for it
    const touched = new Set();
    const seen = new Set();
    for (const pod of this.store.ofKind("Pod")) {
      const uid = pod.metadata?.uid;
      seen.add(uid);
      this.place(uid, pod, touched);
    }
    for (const uid of [...this.chips.keys()]) if (!seen.has(uid)) this.place(uid, null, touched);
    this.finish(touched);
  }

  // A new namespace regroups from the store; a new selector only toggles highlights.
  applyFilter() {
    if (!this.visible) {
      this.stale = true;
      return;
    }
    if (this.filter.namespace !== this.namespace) {
      this.sync();
      return;
    }
    for (const chip of this.chips.values()) chip.setMatch(this.filter.matches(chip.labels));
  }

  setKey(key, byUser) {
    if (key === this.key) return;
    this.key = key;
    if (byUser) this.onKey(key);
    // Chips stay; only the groups are new.
    for (const group of this.groups.values()) group.el.remove();
    this.groups.clear();
    for (const chip of this.chips.values()) chip.lane = null;
    this.sync();
  }

  valueOf(pod) {
    const labels = pod.metadata?.labels || {};
    return Object.prototype.hasOwnProperty.call(labels, this.key) ? labels[this.key] : NONE;
  }

  place(uid, pod, touched) {
    let chip = this.chips.get(uid);
    if (!pod || !this.key || !this.filter.shows(pod.metadata?.namespace || "")) {
      if (!chip) return;
      if (chip.lane) {
        touched.add(chip.lane.group);
        chip.lane.remove(chip);
      }
      chip.el.remove();
      this.chips.delete(uid);
      return;
    }
    const group = this.group(this.valueOf(pod));
    const view = this.viewOf(uid, pod);
    const labels = pod.metadata?.labels || {};
    if (!chip) {
      chip = new Chip(uid, pod);
      this.chips.set(uid, chip);
    }
    if (!sameView(chip.view, view)) chip.update(view);
    chip.setOwner(pod);
    chip.labels = labels;
    chip.setMatch(this.filter.matches(labels));
    if (chip.lane !== group.lane) {
      const moved = Boolean(chip.lane);
      if (chip.lane) {
        touched.add(chip.lane.group);
        chip.lane.remove(chip);
      }
      group.lane.insert(chip);
      touched.add(group);
      if (moved && this.budget-- > 0) flash(chip.el);
    }
  }

  group(value) {
    let group = this.groups.get(value);
    if (group) return group;
    group = new Group(this.key, value);
    this.groups.set(value, group);
    // Values in name order, the pods without the key last: a steady layout as pods come and go.
    let before = null;
    if (value !== NONE) {
      for (const other of this.groups.values()) {
        if (other === group || other.value === NONE) continue;
        if (compareNames(value, other.value) < 0
            && (!before || compareNames(other.value, before.value) < 0)) before = other;
      }
      before = before || this.groups.get(NONE) || null;
    }
    this.groupsEl.insertBefore(group.el, before ? before.el : null);
    return group;
  }

  finish(touched) {
    for (const group of touched) {
      if (!group) continue;
      if (group.lane.size === 0) {
        group.el.remove();
        if (this.groups.get(group.value) === group) this.groups.delete(group.value);
      } else {
        group.updateCount();
      }
    }
    const pods = this.chips.size;
    const values = [...this.groups.keys()].filter((v) => v !== NONE).length;
    setText(this.summaryEl, this.key
      ? `${pods} pod${pods === 1 ? "" : "s"}, ${values} value${values === 1 ? "" : "s"} of ${this.key}`
      : "");
    this.emptyEl.hidden = pods > 0;
    if (pods === 0) {
      setText(this.emptyEl, this.key ? "No pods here yet."
        : "No pod here has a label yet. Give one a label from its detail panel, or apply a manifest with labels.");
    }
  }

  // The key select: every key on the pods shown, most common first (ties by name).
  // Returns whether it chose a key (and so regrouped).
  updateKeys() {
    const counts = new Map();
    for (const pod of this.store.ofKind("Pod")) {
      if (!this.filter.shows(pod.metadata?.namespace || "")) continue;
      for (const k of Object.keys(pod.metadata?.labels || {})) counts.set(k, (counts.get(k) || 0) + 1);
    }
    const keys = [...counts].sort((a, b) => b[1] - a[1] || compareNames(a[0], b[0]));
    if (this.key && !counts.has(this.key)) keys.push([this.key, 0]); // a chosen key stays chosen
    const signature = JSON.stringify(keys);
    if (signature !== this.keysSignature) {
      this.keysSignature = signature;
      const options = keys.map(([k, n]) => new Option(`${k}  (${n} pod${n === 1 ? "" : "s"})`, k));
      if (!options.length) options.push(new Option("no labels yet", ""));
      this.select.replaceChildren(...options);
      this.select.disabled = !keys.length;
    }
    // No key chosen yet: the most common one, once there is one.
    if (!this.key && keys.length) {
      this.select.value = keys[0][0];
      this.setKey(keys[0][0], false);
      return true;
    }
    if (this.select.value !== this.key) this.select.value = this.key;
    return false;
  }

  markDeleting(uid, pod) {
    const chip = this.chips.get(uid);
    if (chip && pod) chip.update(this.viewOf(uid, pod));
  }
}
