// Nodes as columns, pods as chips, and the Pending lane.
//
// Every DOM node is keyed by uid (chips) or node name (columns) and updated in place: a chip
// whose pod moves to another node is moved, not rebuilt, and a chip whose view did not change
// is not touched. One render per animation frame handles a whole batch of changes.

import { compareNames, nodeView, podKey, podView, sameView } from "./objects.js";

const FLASH_BUDGET = 120; // at most this many chips flash per frame: a burst reads as a burst
const reduceMotion = matchMedia("(prefers-reduced-motion: reduce)");

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}

function flash(node) {
  if (reduceMotion.matches || !node.animate) return;
  node.animate(
    [{ boxShadow: "0 0 0 3px rgba(240, 180, 0, 0.9)", backgroundColor: "#fff6d6" },
      { boxShadow: "0 0 0 3px rgba(240, 180, 0, 0)" }],
    // In steps: a few repaints per flash rather than one every frame, which adds up at 1,000 pods.
    { duration: 900, easing: "steps(4, end)" },
  );
}

// A sorted list of chips inside one <ul>, ordered by namespace/name as kubectl lists pods.
class Lane {
  constructor(list) {
    this.list = list;
    this.items = [];
  }

  get size() {
    return this.items.length;
  }

  position(key) {
    let lo = 0;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (compareNames(this.items[mid].key, key) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  insert(chip) {
    const i = this.position(chip.key);
    this.items.splice(i, 0, chip);
    const next = this.items[i + 1];
    this.list.insertBefore(chip.el, next ? next.el : null);
    chip.lane = this;
  }

  remove(chip) {
    let i = this.position(chip.key);
    while (i < this.items.length && this.items[i] !== chip) i += 1;
    if (i < this.items.length) this.items.splice(i, 1);
    chip.lane = null;
  }
}

class Chip {
  constructor(uid, pod) {
    this.uid = uid;
    this.key = podKey(pod);
    this.view = null;
    const li = el("li", "chip");
    li.dataset.uid = uid;
    li.dataset.name = pod.metadata?.name || "";
    li.dataset.namespace = pod.metadata?.namespace || "";
    const open = el("button", "chip-open");
    open.type = "button";
    this.ring = el("span", "ring");
    this.ringText = el("span", "visually-hidden");
    this.ring.append(this.ringText);
    this.ns = el("span", "chip-ns");
    this.name = el("span", "chip-name", pod.metadata?.name || "");
    this.phase = el("span", "chip-phase");
    this.badge = el("span", "badge restarts");
    this.badge.hidden = true;
    open.append(this.ring, this.ns, this.name, this.phase, this.badge);
    this.del = el("button", "chip-delete", "×");
    this.del.type = "button";
    this.why = el("p", "chip-why");
    li.append(open, this.del, this.why);
    this.open = open;
    this.el = li;
    const ns = pod.metadata?.namespace || "";
    if (ns && ns !== "default") setText(this.ns, `${ns}/`);
    const ref = `pod ${ns}/${pod.metadata?.name || ""}`;
    open.title = `${ns}/${pod.metadata?.name || ""}: open its YAML and events`;
    this.del.setAttribute("aria-label", `Delete ${ref}`);
    this.del.title = `Delete ${ref}`;
  }

  update(view) {
    const old = this.view || {};
    this.view = view;
    if (old.category !== view.category || old.ready !== view.ready) {
      this.el.className = `chip cat-${view.category}${view.ready ? " is-ready" : ""}`;
    }
    if (old.label !== view.label) {
      setText(this.phase, view.label);
      this.el.dataset.phase = view.label;
    }
    if (old.ready !== view.ready) {
      const text = view.ready ? "ready" : "not ready";
      setText(this.ringText, text);
      this.ring.title = view.ready ? "Ready: receiving traffic" : "Not ready";
    }
    if (old.restarts !== view.restarts) {
      this.badge.hidden = view.restarts === 0;
      setText(this.badge, `↻${view.restarts}`);
      const words = `${view.restarts} restart${view.restarts === 1 ? "" : "s"}`;
      this.badge.title = words;
      this.badge.setAttribute("aria-label", words);
    }
    if (old.why !== view.why) setText(this.why, view.why);
    if (old.terminating !== view.terminating) this.del.disabled = view.terminating;
  }
}

class Column {
  constructor(name) {
    this.name = name;
    this.node = null;
    this.view = null;
    const section = el("section", "node-col");
    section.dataset.node = name;
    section.setAttribute("aria-label", `Node ${name}`);
    const head = el("button", "node-head");
    head.type = "button";
    head.dataset.node = name;
    this.nameEl = el("span", "node-name", name);
    this.readyEl = el("span", "node-ready");
    this.podsEl = el("span", "node-pods");
    this.cordonEl = el("span", "node-cordon", "cordoned");
    this.cordonEl.hidden = true;
    head.append(this.nameEl, this.readyEl, this.podsEl, this.cordonEl);
    const list = el("ul", "pod-list");
    list.setAttribute("aria-label", `Pods on ${name}`);
    const empty = el("p", "col-empty", "no pods");
    section.append(head, list, empty);
    this.head = head;
    this.el = section;
    this.lane = new Lane(list);
    this.used = -1;
  }

  setNode(node) {
    this.node = node;
    const view = node ? nodeView(node) : { readiness: "Gone", cordoned: false, maxPods: "?" };
    const old = this.view || {};
    this.view = view;
    if (old.readiness !== view.readiness) {
      this.readyEl.dataset.state = view.readiness;
      this.el.dataset.state = view.readiness;
      const glyph = { Ready: "✓", NotReady: "✕", Unknown: "?", Gone: "–" }[view.readiness];
      setText(this.readyEl, `${glyph} ${view.readiness === "Gone" ? "deleted" : view.readiness}`);
    }
    if (old.cordoned !== view.cordoned) {
      this.cordonEl.hidden = !view.cordoned;
      this.el.classList.toggle("is-cordoned", view.cordoned);
    }
    if (old.maxPods !== view.maxPods) this.used = -1; // force the count to be redrawn
    return old.readiness !== undefined && !sameView(old, view);
  }

  updateCount() {
    let used = 0;
    for (const chip of this.lane.items) if (!chip.view.finished) used += 1;
    if (used === this.used) return false;
    this.used = used;
    const max = this.view?.maxPods ?? "?";
    setText(this.podsEl, `${used}/${max} pods`);
    this.podsEl.title = `${used} non-terminated pods; the node allows ${max}`;
    return true;
  }
}

export class BoardView {
  constructor({ nodesEl, loadingEl, pendingSection, pendingList, pendingCount }) {
    this.nodesEl = nodesEl;
    this.loadingEl = loadingEl;
    this.pendingSection = pendingSection;
    this.pendingCount = pendingCount;
    this.pending = new Lane(pendingList);
    this.columns = new Map(); // node name -> Column
    this.nodeNames = new Map(); // node uid -> name
    this.chips = new Map(); // pod uid -> Chip
    this.deleting = new Set(); // asked to delete; Terminating until the server says so too
    this.ready = false;
  }

  render(batch, flags) {
    const flashing = this.ready && !flags.snapshot;
    this.budget = flashing ? FLASH_BUDGET : 0;
    const touched = new Set();
    for (const [uid, change] of batch) {
      if (change.kind === "Node") this.renderNode(uid, change.object, touched);
    }
    for (const [uid, change] of batch) {
      if (change.kind === "Pod") this.renderPod(uid, change.object, touched);
    }
    for (const lane of touched) {
      if (lane === this.pending) continue;
      const column = this.columnOf(lane);
      if (!column) continue;
      if (!column.node && column.lane.size === 0) {
        this.removeColumn(column);
        continue;
      }
      if (column.updateCount() && this.budget-- > 0) flash(column.head);
    }
    this.updatePending();
    if (flags.snapshot && !this.ready) {
      this.ready = true;
      this.loadingEl?.remove();
    }
  }

  columnOf(lane) {
    return lane.column;
  }

  column(name) {
    let column = this.columns.get(name);
    if (column) return column;
    column = new Column(name);
    column.lane.column = column;
    column.setNode(null);
    this.columns.set(name, column);
    let before = null;
    for (const other of this.columns.values()) {
      if (other !== column && compareNames(name, other.name) < 0
          && (!before || compareNames(other.name, before.name) < 0)) before = other;
    }
    this.nodesEl.insertBefore(column.el, before ? before.el : null);
    return column;
  }

  removeColumn(column) {
    this.columns.delete(column.name);
    column.el.remove();
  }

  renderNode(uid, node, touched) {
    if (!node) {
      const name = this.nodeNames.get(uid);
      this.nodeNames.delete(uid);
      const column = name && this.columns.get(name);
      if (column) {
        column.setNode(null);
        touched.add(column.lane);
      }
      return;
    }
    const name = node.metadata?.name;
    this.nodeNames.set(uid, name);
    const column = this.column(name);
    if (column.setNode(node) && this.budget-- > 0) flash(column.head);
    touched.add(column.lane);
  }

  viewOf(uid, pod) {
    const view = podView(pod);
    if (view.terminating) this.deleting.delete(uid);
    else if (this.deleting.has(uid)) Object.assign(view, { label: "Terminating", category: "terminating", terminating: true });
    return view;
  }

  renderPod(uid, pod, touched) {
    let chip = this.chips.get(uid);
    if (!pod) {
      this.deleting.delete(uid);
      if (!chip) return;
      touched.add(chip.lane);
      chip.lane.remove(chip);
      chip.el.remove();
      this.chips.delete(uid);
      return;
    }
    const view = this.viewOf(uid, pod);
    const lane = view.nodeName ? this.column(view.nodeName).lane : this.pending;
    if (!chip) {
      chip = new Chip(uid, pod);
      this.chips.set(uid, chip);
      chip.update(view);
      lane.insert(chip);
      touched.add(lane);
      if (this.budget-- > 0) flash(chip.el);
      return;
    }
    const changed = !sameView(chip.view, view);
    if (changed) chip.update(view);
    if (chip.lane !== lane) {
      touched.add(chip.lane);
      chip.lane.remove(chip);
      lane.insert(chip);
      touched.add(lane);
    } else if (changed) {
      touched.add(lane);
    }
    if (changed && this.budget-- > 0) flash(chip.el);
  }

  // Show a pod as Terminating at once, before the server's change arrives.
  markDeleting(uid, pod, on) {
    if (on) this.deleting.add(uid);
    else this.deleting.delete(uid);
    const chip = this.chips.get(uid);
    if (chip && pod) chip.update(this.viewOf(uid, pod));
  }

  updatePending() {
    const n = this.pending.size;
    setText(this.pendingCount, String(n));
    this.pendingSection.dataset.empty = n === 0 ? "true" : "false";
  }
}
