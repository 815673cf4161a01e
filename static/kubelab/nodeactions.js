// What a learner can do to a node, and the column menu that offers it.
//
// Each action is what kubectl (or kubelab's power switch) does, through the same API: power
// is the annotation kubelab.io/power on the Node; cordon and uncordon patch
// spec.unschedulable; drain is the board's /nodes/<name>/drain; remove deletes the Node; add
// creates one. The board shows the outcome when the change arrives on the websocket.

import { deleteObject, mergePatch, postForm, postJSON } from "./http.js";
import { POWER, compareNames } from "./objects.js";

// The menu's entries for a node, in order: {id, label, hint (the command it amounts to)}.
export function nodeActions(node) {
  const name = node?.metadata?.name || "";
  const off = node?.metadata?.annotations?.[POWER] === "off";
  const cordoned = Boolean(node?.spec?.unschedulable);
  return [
    off ? { id: "power-on", label: "Power on", hint: "the kubelet starts posting status again" }
      : { id: "power-off", label: "Power off", hint: "the kubelet stops posting status" },
    cordoned ? { id: "uncordon", label: "Uncordon", hint: `kubectl uncordon ${name}` }
      : { id: "cordon", label: "Cordon", hint: `kubectl cordon ${name}` },
    { id: "drain", label: "Drain", hint: `kubectl drain ${name}` },
    { id: "remove", label: "Remove node", hint: `kubectl delete node ${name}`, danger: true },
  ];
}

export class NodeActions {
  constructor({ apiBase, notify, confirm, store }) {
    this.apiBase = apiBase;
    this.notify = notify;
    this.confirm = confirm;
    this.store = store;
  }

  nodeUrl(name) {
    return `${this.apiBase}/api/v1/nodes/${encodeURIComponent(name)}`;
  }

  async run(id, name) {
    try {
      await this[id.replace(/-(\w)/g, (_, c) => c.toUpperCase())](name);
    } catch (err) {
      this.notify(`Could not ${id.replace("-", " ")} node ${name}: ${err.message}`, "error");
    }
  }

  async powerOff(name) {
    await mergePatch(this.nodeUrl(name), { metadata: { annotations: { [POWER]: "off" } } });
    this.notify(`node/${name} powered off: its kubelet no longer posts status`);
  }

  async powerOn(name) {
    await mergePatch(this.nodeUrl(name), { metadata: { annotations: { [POWER]: null } } });
    this.notify(`node/${name} powered on`);
  }

  async cordon(name) {
    await mergePatch(this.nodeUrl(name), { spec: { unschedulable: true } });
    this.notify(`node/${name} cordoned`);
  }

  async uncordon(name) {
    await mergePatch(this.nodeUrl(name), { spec: { unschedulable: null } });
    this.notify(`node/${name} uncordoned`);
  }

  async drain(name) {
    // One field at least: an empty multipart body is one Django refuses to parse.
    const { response, body } = await postForm(
      `${this.apiBase}/nodes/${encodeURIComponent(name)}/drain`, { node: name });
    if (!response.ok) {
      throw new Error(body?.message || `${response.status} ${response.statusText}`);
    }
    // What kubectl drain prints: cordoned, warnings, one line per evicted pod.
    const lines = body?.lines?.length ? body.lines : [`node/${name} drained`];
    this.notify(lines.join(" · "));
  }

  async remove(name) {
    let pods = 0;
    for (const pod of this.store.ofKind("Pod")) if (pod.spec?.nodeName === name) pods += 1;
    const sure = await this.confirm({
      title: `Remove node ${name}?`,
      text: `Like kubectl delete node ${name}: the Node object is deleted and the node leaves the `
        + `cluster. ${pods ? `Its ${pods} pod${pods === 1 ? "" : "s"} ${pods === 1 ? "loses its" : "lose their"} kubelet, and the pod garbage collector deletes ${pods === 1 ? "it" : "them"}.`
          : "No pod is bound to it."}`,
      ok: "Remove node",
    });
    if (!sure) return;
    await deleteObject(this.nodeUrl(name));
    this.notify(`node "${name}" deleted`);
  }

  // The next free name in the node-<n> series: node-4 after node-1..node-3.
  nextName() {
    const names = new Set();
    let top = 0;
    for (const node of this.store.ofKind("Node")) {
      const name = node.metadata?.name || "";
      names.add(name);
      const m = /^node-(\d+)$/.exec(name);
      if (m) top = Math.max(top, Number(m[1]));
    }
    let n = top + 1;
    while (names.has(`node-${n}`)) n += 1;
    return `node-${n}`;
  }

  async add() {
    const name = this.nextName();
    try {
      await postJSON(`${this.apiBase}/api/v1/nodes`, {
        apiVersion: "v1", kind: "Node",
        metadata: { name, labels: { "kubernetes.io/hostname": name } },
      });
      this.notify(`node/${name} created`);
    } catch (err) {
      this.notify(`Could not add node ${name}: ${err.message}`, "error");
    }
    return name;
  }
}

// A yes/no question in a modal <dialog>: resolves true when confirmed.
export function dialogConfirm(dialog) {
  const title = dialog.querySelector("#confirm-title");
  const text = dialog.querySelector("#confirm-text");
  const ok = dialog.querySelector("#confirm-ok");
  return ({ title: t, text: body, ok: label }) => new Promise((resolve) => {
    title.textContent = t;
    text.textContent = body;
    ok.textContent = label;
    dialog.returnValue = "";
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true });
    dialog.showModal();
  });
}

// The ⋯ menu on a node column: one shared popup, placed under the button that opened it (a
// column clips what overflows it). Keyboard as the ARIA menu button pattern has it: Enter,
// Space or ↓ opens on the first item, ↑ on the last; arrows, Home and End move; Escape closes
// and goes back to the button; Tab closes.
export class NodeMenu {
  constructor(menu, { actions, nodeOf }) {
    this.menu = menu;
    this.actions = actions;
    this.nodeOf = nodeOf;
    this.button = null;
    this.name = "";
    menu.addEventListener("keydown", (e) => this.keydown(e));
    menu.addEventListener("click", (e) => {
      const item = e.target.closest("[role=menuitem]");
      if (item) this.choose(item.dataset.action);
    });
    document.addEventListener("pointerdown", (e) => {
      if (this.menu.hidden || this.menu.contains(e.target) || e.target.closest?.(".node-menu-button") === this.button) return;
      this.close(false);
    });
    window.addEventListener("resize", () => this.close(false));
    document.addEventListener("scroll", () => this.close(false), true);
  }

  // From the column's button: a click toggles; keys open on the first or last item.
  attach(container) {
    container.addEventListener("click", (e) => {
      const button = e.target.closest(".node-menu-button");
      if (!button) return;
      if (!this.menu.hidden && this.button === button) this.close(true);
      else this.open(button, 0);
    });
    container.addEventListener("keydown", (e) => {
      const button = e.target.closest?.(".node-menu-button");
      if (!button || (e.key !== "ArrowDown" && e.key !== "ArrowUp")) return;
      e.preventDefault();
      this.open(button, e.key === "ArrowUp" ? -1 : 0);
    });
  }

  items() {
    return [...this.menu.querySelectorAll("[role=menuitem]")];
  }

  open(button, focus) {
    const name = button.dataset.node;
    const node = this.nodeOf(name);
    if (!node) return;
    if (this.button && this.button !== button) this.button.setAttribute("aria-expanded", "false");
    this.button = button;
    this.name = name;
    this.menu.replaceChildren();
    this.menu.setAttribute("aria-label", `Actions for node ${name}`);
    for (const action of nodeActions(node)) {
      const item = document.createElement("button");
      item.type = "button";
      item.setAttribute("role", "menuitem");
      item.tabIndex = -1;
      item.dataset.action = action.id;
      item.className = action.danger ? "menu-item danger" : "menu-item";
      const label = document.createElement("span");
      label.className = "menu-label";
      label.textContent = action.label;
      const hint = document.createElement("span");
      hint.className = "menu-hint";
      hint.id = `node-menu-hint-${action.id}`;
      hint.textContent = action.hint;
      hint.setAttribute("aria-hidden", "true");
      item.setAttribute("aria-describedby", hint.id);
      item.append(label, hint);
      this.menu.append(item);
    }
    this.menu.hidden = false;
    button.setAttribute("aria-expanded", "true");
    const rect = button.getBoundingClientRect();
    const width = this.menu.offsetWidth;
    const height = this.menu.offsetHeight;
    const left = Math.max(8, Math.min(rect.right - width, innerWidth - width - 8));
    const below = rect.bottom + 4;
    const top = below + height > innerHeight - 8 ? Math.max(8, rect.top - height - 4) : below;
    this.menu.style.left = `${left}px`;
    this.menu.style.top = `${top}px`;
    const items = this.items();
    items.at(focus)?.focus();
  }

  close(restoreFocus) {
    if (this.menu.hidden) return;
    this.menu.hidden = true;
    this.button?.setAttribute("aria-expanded", "false");
    if (restoreFocus && this.button?.isConnected) this.button.focus();
  }

  choose(id) {
    const name = this.name;
    this.close(true);
    if (id && name) this.actions.run(id, name);
  }

  keydown(e) {
    const items = this.items();
    const i = items.indexOf(document.activeElement);
    const move = { ArrowDown: i + 1, ArrowUp: i - 1, Home: 0, End: items.length - 1 }[e.key];
    if (move !== undefined) {
      e.preventDefault();
      items[(move + items.length) % items.length]?.focus();
    } else if (e.key === "Escape") {
      e.preventDefault(); // not the drawer's Escape too
      e.stopPropagation();
      this.close(true);
    } else if (e.key === "Tab") {
      this.close(false);
    }
  }
}
