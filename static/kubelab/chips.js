// Pod chips and the sorted lanes that hold them: shared by the Board and the Labels view.
//
// A chip is keyed by its pod's uid and updated in place. Filtering (namespace) and
// highlighting (selector) are one class or attribute per chip, touched only when they change,
// so a new selector over 1,000 pods costs a few class toggles, not a re-render.

import { compareNames, podKey } from "./objects.js";

const reduceMotion = matchMedia("(prefers-reduced-motion: reduce)");

export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

export function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}

export function flash(node) {
  if (reduceMotion.matches || !node.animate) return;
  node.animate(
    [{ boxShadow: "0 0 0 3px rgba(240, 180, 0, 0.9)", backgroundColor: "#fff6d6" },
      { boxShadow: "0 0 0 3px rgba(240, 180, 0, 0)" }],
    // In steps: a few repaints per flash rather than one every frame, which adds up at 1,000 pods.
    { duration: 900, easing: "steps(4, end)" },
  );
}

// A sorted list of chips inside one <ul>, ordered by namespace/name as kubectl lists pods.
export class Lane {
  constructor(list) {
    this.list = list;
    this.items = [];
  }

  get size() {
    return this.items.length;
  }

  // Chips not hidden by the namespace filter.
  get shown() {
    let n = 0;
    for (const chip of this.items) if (chip.shown) n += 1;
    return n;
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

export class Chip {
  constructor(uid, pod) {
    this.uid = uid;
    this.key = podKey(pod);
    this.view = null;
    this.match = false;
    this.shown = true;
    const ns = pod.metadata?.namespace || "";
    const name = pod.metadata?.name || "";
    this.namespace = ns;
    this.labels = pod.metadata?.labels || {};
    const li = el("li", "chip");
    li.dataset.uid = uid;
    li.dataset.name = name;
    li.dataset.namespace = ns;
    const open = el("button", "chip-open");
    open.type = "button";
    this.ring = el("span", "ring");
    this.ringText = el("span", "visually-hidden");
    this.ring.append(this.ringText);
    // Shown only while all namespaces are (a CSS rule on the page), so it is always filled in.
    // Inside the name, unbroken, with a break allowed after it: a name too long for one line
    // goes whole to the next rather than losing its distinguishing tail.
    this.ns = el("span", "chip-ns", `${ns}/`);
    this.name = el("span", "chip-name");
    this.name.append(this.ns, document.createElement("wbr"), name);
    this.phase = el("span", "chip-phase");
    this.badge = el("span", "badge restarts");
    this.badge.hidden = true;
    // STATUS and restarts stay together: a long STATUS wraps under the name as one piece.
    const status = el("span", "chip-status");
    status.append(this.phase, this.badge);
    open.append(this.ring, this.name, status);
    this.del = el("button", "chip-delete", "×");
    this.del.type = "button";
    this.why = el("p", "chip-why");
    li.append(open, this.del, this.why);
    this.open = open;
    this.el = li;
    const ref = `pod ${ns}/${name}`;
    open.title = `${ns}/${name}: open its YAML and events`;
    this.del.setAttribute("aria-label", `Delete ${ref}`);
    this.del.title = `Delete ${ref}`;
  }

  paint() {
    const view = this.view || {};
    this.el.className = `chip cat-${view.category}${view.ready ? " is-ready" : ""}`
      + `${this.match ? " is-match" : ""}`;
  }

  update(view) {
    const old = this.view || {};
    this.view = view;
    if (old.category !== view.category || old.ready !== view.ready) this.paint();
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

  // Highlighted by the selector box. Returns whether anything changed.
  setMatch(on) {
    if (this.match === on) return false;
    this.match = on;
    this.el.classList.toggle("is-match", on);
    return true;
  }

  // Hidden by the namespace filter. Returns whether anything changed.
  setShown(on) {
    if (this.shown === on) return false;
    this.shown = on;
    this.el.hidden = !on;
    return true;
  }

  // Both, from the page's filter: what a new pod, a relabelled pod or a new filter needs.
  applyFilter(filter) {
    const shown = this.setShown(filter.shows(this.namespace));
    const match = this.setMatch(filter.highlights(this.namespace, this.labels));
    return shown || match;
  }
}
