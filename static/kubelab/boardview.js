// Nodes as columns, pods as chips, and the Pending lane.
//
// Every DOM node is keyed by uid (chips) or node name (columns) and updated in place: a chip
// whose pod moves to another node is moved, not rebuilt, and a chip whose view did not change
// is not touched. One render per animation frame handles a whole batch of changes.

import { Chip, Lane, el, flash, setText } from "./chips.js";
import { compareNames, nodeView, podView, sameView } from "./objects.js";

const FLASH_BUDGET = 120; // at most this many chips flash per frame: a burst reads as a burst

class Column {
  constructor(name) {
    this.name = name;
    this.node = null;
    this.view = null;
    const section = el("section", "node-col");
    section.dataset.node = name;
    section.setAttribute("aria-label", `Node ${name}`);
    const top = el("div", "node-top");
    const head = el("button", "node-head");
    head.type = "button";
    head.dataset.node = name;
    head.title = `node ${name}: open its conditions, taints, YAML and events`;
    this.nameEl = el("span", "node-name", name);
    this.readyEl = el("span", "node-ready");
    this.podsEl = el("span", "node-pods");
    this.flagsEl = el("span", "node-flags");
    // As `kubectl get nodes` prints a cordoned node's STATUS: "Ready,SchedulingDisabled".
    this.cordonEl = el("span", "node-cordon", "SchedulingDisabled");
    this.cordonEl.title = "Cordoned (spec.unschedulable): the scheduler places no new pods here";
    this.cordonEl.hidden = true;
    this.powerEl = el("span", "node-power", "powered off");
    this.powerEl.title = "kubelab.io/power: off: the node's kubelet posts no status";
    this.powerEl.hidden = true;
    this.flagsEl.append(this.cordonEl, this.powerEl);
    this.whyEl = el("span", "node-why");
    this.whyEl.hidden = true;
    head.append(this.nameEl, this.readyEl, this.podsEl, this.flagsEl, this.whyEl);
    const menu = el("button", "node-menu-button", "⋯");
    menu.type = "button";
    menu.dataset.node = name;
    menu.setAttribute("aria-haspopup", "menu");
    menu.setAttribute("aria-expanded", "false");
    menu.setAttribute("aria-label", `Actions for node ${name}`);
    menu.title = "Power, cordon, drain, remove";
    top.append(head, menu);
    const list = el("ul", "pod-list");
    list.setAttribute("aria-label", `Pods on ${name}`);
    this.emptyEl = el("p", "col-empty", "no pods");
    section.append(top, list, this.emptyEl);
    this.head = head;
    this.menuButton = menu;
    this.el = section;
    this.lane = new Lane(list);
    this.used = -1;
    this.shown = -1;
    this.namespace = "";
  }

  // How many chips the namespace filter leaves: none shows "no pods (in <namespace>)". The
  // count in the header stays the node's (what counts against its pod limit).
  updateShown(filter) {
    const shown = this.lane.shown;
    const text = shown === 0 && this.lane.size > 0 && filter.namespace
      ? `no pods in ${filter.namespace}` : "no pods";
    setText(this.emptyEl, text);
    const namespace = filter.namespace;
    if (shown === this.shown && namespace === this.namespace) return;
    this.shown = shown;
    this.namespace = namespace;
    this.el.dataset.shown = String(shown);
    this.drawPods();
  }

  drawPods() {
    if (this.used < 0) return;
    const max = this.view?.maxPods ?? "?";
    const filtered = this.namespace && this.shown !== this.lane.size;
    setText(this.podsEl, `${this.used}/${max} pods${filtered ? ` · ${this.shown} shown` : ""}`);
    this.podsEl.title = `${this.used} non-terminated pods; the node allows ${max}`
      + (filtered ? `. ${this.shown} of its pods are in ${this.namespace}.` : "");
  }

  setNode(node) {
    this.node = node;
    const view = node ? nodeView(node)
      : { readiness: "Gone", cordoned: false, poweredOff: false, why: "", maxPods: "?" };
    const old = this.view || {};
    this.view = view;
    if (old.readiness !== view.readiness) {
      this.readyEl.dataset.state = view.readiness;
      this.el.dataset.state = view.readiness;
      const glyph = { Ready: "✓", NotReady: "✕", Unknown: "?", Gone: "–" }[view.readiness];
      setText(this.readyEl, `${glyph} ${view.readiness === "Gone" ? "deleted" : view.readiness}`);
    }
    if (old.why !== view.why) {
      setText(this.whyEl, view.why);
      this.whyEl.hidden = !view.why;
      this.readyEl.title = view.why ? `${view.readiness}: ${view.why}` : "";
    }
    if (old.cordoned !== view.cordoned) {
      this.cordonEl.hidden = !view.cordoned;
      this.el.classList.toggle("is-cordoned", view.cordoned);
    }
    if (old.poweredOff !== view.poweredOff) {
      this.powerEl.hidden = !view.poweredOff;
      this.el.classList.toggle("is-off", view.poweredOff);
    }
    this.menuButton.disabled = !node;
    if (old.readiness !== view.readiness) {
      for (const chip of this.lane.items) chip.setNodeState(view.readiness);
    }
    if (old.maxPods !== view.maxPods) this.used = -1; // force the count to be redrawn
    return old.readiness !== undefined && !sameView(old, view);
  }

  updateCount() {
    let used = 0;
    for (const chip of this.lane.items) if (!chip.view.finished) used += 1;
    if (used === this.used) return false;
    this.used = used;
    this.drawPods();
    return true;
  }
}

export class BoardView {
  constructor({ nodesEl, loadingEl, pendingSection, pendingList, pendingCount, filter, tailEl }) {
    this.filter = filter;
    this.nodesEl = nodesEl;
    this.tailEl = tailEl || null; // stays after the last column (the Add node button)
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
      column.updateShown(this.filter);
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
    this.nodesEl.insertBefore(column.el, before ? before.el : this.tailEl);
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
    const column = view.nodeName ? this.column(view.nodeName) : null;
    const lane = column ? column.lane : this.pending;
    if (!chip) {
      chip = new Chip(uid, pod);
      this.chips.set(uid, chip);
      chip.setNodeState(column?.view?.readiness);
      chip.update(view);
      chip.applyFilter(this.filter);
      lane.insert(chip);
      touched.add(lane);
      if (this.budget-- > 0) flash(chip.el);
      return;
    }
    const changed = !sameView(chip.view, view);
    if (changed) chip.update(view);
    chip.labels = pod.metadata?.labels || {};
    chip.setMatch(this.filter.highlights(chip.namespace, chip.labels));
    chip.setOwner(pod);
    chip.setNodeState(column?.view?.readiness);
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

  // A new namespace or selector: one class or attribute per chip that changes, nothing rebuilt.
  applyFilter() {
    for (const chip of this.chips.values()) chip.applyFilter(this.filter);
    for (const column of this.columns.values()) column.updateShown(this.filter);
    this.updatePending();
  }

  updatePending() {
    const n = this.pending.shown;
    setText(this.pendingCount, String(n));
    this.pendingSection.dataset.empty = n === 0 ? "true" : "false";
  }
}
