// Pod chips and the sorted lanes that hold them: shared by the Board and the Labels view.
//
// A chip is keyed by its pod's uid and updated in place. Filtering (namespace) and
// highlighting (selector) are one class or attribute per chip, touched only when they change,
// so a new selector over 1,000 pods costs a few class toggles, not a re-render.

import { compareNames, podKey } from "./objects.js";
import { controllerRef, shortKind } from "./workloads.js";

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
  // options.where: say which node the pod is on (the Workloads tab, where chips are grouped by
  // owner); otherwise say who owns it (the board and the Labels view).
  constructor(uid, pod, { where = false } = {}) {
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
    // Under the name: who owns the pod (a button: hover or focus lights its siblings, a click
    // opens the owner), or where it runs; and, on a node that is not Ready, that it is.
    this.meta = el("div", "chip-meta");
    this.ownerEl = null;
    this.owner = null;
    this.ownerUid = "";
    this.whereEl = where ? el("span", "chip-where") : null;
    if (this.whereEl) this.meta.append(this.whereEl);
    this.nodeEl = el("span", "chip-node");
    this.nodeEl.hidden = true;
    this.nodeState = "Ready";
    this.meta.append(this.nodeEl);
    li.append(open, this.del, this.meta, this.why);
    this.open = open;
    this.el = li;
    const ref = `pod ${ns}/${name}`;
    open.title = `${ns}/${name}: open its YAML and events`;
    this.del.setAttribute("aria-label", `Delete ${ref}`);
    this.del.title = `Delete ${ref}`;
    if (!where) this.setOwner(pod);
  }

  // The pod's controller, from its ownerReferences: shown as "rs/kubia". Orphaning removes it.
  setOwner(pod) {
    if (this.whereEl) return false;
    const ref = controllerRef(pod);
    const uid = ref?.uid || "";
    if (uid === this.ownerUid && (!ref || ref.name === this.owner?.name)) return false;
    this.owner = ref;
    this.ownerUid = uid;
    if (!ref) {
      this.ownerEl?.remove();
      this.ownerEl = null;
      return true;
    }
    if (!this.ownerEl) {
      this.ownerEl = el("button", "chip-owner");
      this.ownerEl.type = "button";
      this.meta.prepend(this.ownerEl);
    }
    const text = `${shortKind(ref.kind)}/${ref.name}`;
    const b = this.ownerEl;
    b.textContent = text;
    Object.assign(b.dataset, { kind: ref.kind, name: ref.name, uid, namespace: this.namespace });
    b.title = `Owned by ${ref.kind} ${ref.name}: hover or focus to light up its other pods, click to open it`;
    b.setAttribute("aria-label", `Owner ${text}, open it`);
    return true;
  }

  // The readiness of the node the pod is bound to ("" for none): a pod on a node that is not
  // Ready greys out and says so, since its kubelet no longer reports on it.
  setNodeState(readiness) {
    const state = readiness || "Ready";
    if (state === this.nodeState) return false;
    this.nodeState = state;
    const stale = state !== "Ready";
    this.el.classList.toggle("is-stale", stale);
    this.nodeEl.hidden = !stale;
    const words = { NotReady: "node NotReady", Unknown: "node not reporting", Gone: "node deleted" };
    setText(this.nodeEl, stale ? `⚠ ${words[state] || `node ${state}`}` : "");
    this.nodeEl.title = stale ? "The node this pod is bound to is not Ready: its status may be stale, "
      + "and after the eviction timeout the pod is deleted and a controller replaces it elsewhere" : "";
    return true;
  }

  paint() {
    const view = this.view || {};
    this.el.className = `chip cat-${view.category}${view.ready ? " is-ready" : ""}`
      + `${this.match ? " is-match" : ""}${this.nodeState !== "Ready" ? " is-stale" : ""}`
      + `${this.el.classList.contains("is-sibling") ? " is-sibling" : ""}`;
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
    if (this.whereEl && old.nodeName !== view.nodeName) {
      setText(this.whereEl, view.nodeName ? `on ${view.nodeName}` : "not on a node yet");
    }
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

// Hovering or focusing an owner tag ("rs/kubia") lights up every chip with the same owner in
// `root`, and dims the rest: a replacement on another node reads as the same controller's.
// `chips()` lists the view's chips; one pass per owner change, a class per chip.
export function ownerHighlight(root, chips) {
  let current = "";
  const light = (uid) => {
    if (uid === current) return;
    current = uid;
    root.classList.toggle("is-owner-lit", Boolean(uid));
    for (const chip of chips()) chip.el.classList.toggle("is-sibling", Boolean(uid) && chip.ownerUid === uid);
  };
  const tagOf = (node) => node?.closest?.(".chip-owner") || null;
  root.addEventListener("pointerover", (e) => light(tagOf(e.target)?.dataset.uid || ""));
  root.addEventListener("pointerleave", () => light(tagOf(document.activeElement)?.dataset.uid || ""));
  root.addEventListener("focusin", (e) => light(tagOf(e.target)?.dataset.uid || ""));
  root.addEventListener("focusout", (e) => {
    if (!tagOf(e.relatedTarget)) light("");
  });
  return { refresh: () => { const uid = current; current = ""; light(uid); } };
}
