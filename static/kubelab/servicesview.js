// The Services tab: each Service in the namespace shown as a card (type, ClusterIP, ports,
// selector), its Endpoints' addresses (ready and not ready, each naming and opening its pod)
// and the Ingress rules that send traffic to it, live from the websocket's store.
//
// Services are few, so a change to a Service, Endpoints or Ingress re-renders the cards
// (while the tab is shown; hidden, it only notes that it is stale).

import { el } from "./chips.js";
import { compareNames } from "./objects.js";
import { serviceView } from "./services.js";

// Pods are not watched: what the cards say of them comes from the Endpoints objects.
const WATCHED = new Set(["Service", "Endpoints", "Ingress"]);
// A card lists this many addresses (ready first) and counts the rest: a Service over 1,000
// pods stays a card, not a page.
const ADDRESSES_SHOWN = 100;

function fact(label, value, key) {
  const div = el("div", "svc-fact");
  div.dataset.fact = key;
  div.append(el("dt", "", label), el("dd", "", value));
  return div;
}

export class ServicesView {
  constructor({ listEl, emptyEl, summaryEl, countEl, filter, store, onServices }) {
    Object.assign(this, { listEl, emptyEl, summaryEl, countEl, filter, store, onServices });
    this.visible = false;
    this.stale = true;
    // The traffic panel's last burst: which Service ("namespace/name") and its hits per pod.
    this.hitsFor = "";
    this.hits = new Map();
    this.lit = "";
    // Hovering or focusing an endpoint lights every mention of its pod (here and in the hits).
    const light = (uid) => this.light(uid);
    const epOf = (node) => node?.closest?.("[data-pod-uid]") || null;
    listEl.addEventListener("pointerover", (e) => light(epOf(e.target)?.dataset.podUid || ""));
    listEl.addEventListener("pointerleave", () => light(epOf(document.activeElement)?.dataset.podUid || ""));
    listEl.addEventListener("focusin", (e) => light(epOf(e.target)?.dataset.podUid || ""));
    listEl.addEventListener("focusout", (e) => { if (!epOf(e.relatedTarget)) light(""); });
  }

  light(uid) {
    if (uid === this.lit) return;
    this.lit = uid;
    this.listEl.classList.toggle("is-pod-lit", Boolean(uid));
    for (const node of document.querySelectorAll("[data-pod-uid]")) {
      node.classList.toggle("is-lit", Boolean(uid) && node.dataset.podUid === uid);
    }
  }

  setVisible(on) {
    this.visible = on;
    if (on && this.stale) this.renderAll();
  }

  render(batch, flags) {
    let touched = flags.snapshot;
    for (const change of batch.values()) if (WATCHED.has(change.kind)) touched = true;
    if (!touched) return;
    this.stale = true;
    this.updateCount();
    if (this.visible) this.renderAll();
  }

  applyFilter() {
    this.stale = true;
    this.updateCount();
    if (this.visible) this.renderAll();
  }

  // Services in the namespace shown, by namespace then name as kubectl lists them.
  services() {
    const list = [...this.store.ofKind("Service")].filter((s) => this.filter.shows(s.metadata?.namespace || ""));
    list.sort((a, b) => compareNames(a.metadata.namespace || "", b.metadata.namespace || "")
      || compareNames(a.metadata.name, b.metadata.name));
    return list;
  }

  updateCount() {
    const services = this.services();
    this.countEl.textContent = services.length ? String(services.length) : "";
    this.onServices?.(services);
  }

  setHits(namespace, service, hits) {
    this.hitsFor = `${namespace}/${service}`;
    this.hits = new Map(Object.entries(hits || {}));
    if (this.visible) this.renderAll();
    else this.stale = true;
  }

  renderAll() {
    this.stale = false;
    const endpoints = new Map();
    for (const ep of this.store.ofKind("Endpoints")) {
      endpoints.set(`${ep.metadata.namespace}/${ep.metadata.name}`, ep);
    }
    const ingresses = [...this.store.ofKind("Ingress")];
    const services = this.services();
    const cards = services.map((svc) => this.card(serviceView(svc,
      endpoints.get(`${svc.metadata.namespace}/${svc.metadata.name}`), ingresses)));
    // Keep focus where it was across a re-render (an endpoint being read from the keyboard).
    const focused = document.activeElement && this.listEl.contains(document.activeElement)
      ? document.activeElement.dataset.focusKey : "";
    this.listEl.replaceChildren(...cards);
    if (focused) this.listEl.querySelector(`[data-focus-key="${CSS.escape(focused)}"]`)?.focus();
    this.emptyEl.hidden = services.length > 0;
    const ready = cards.reduce((n, c) => n + Number(c.dataset.ready), 0);
    this.summaryEl.textContent = services.length
      ? `${services.length} Service${services.length === 1 ? "" : "s"}, ${ready} ready endpoint${ready === 1 ? "" : "s"}`
      : "";
    if (this.lit) { const uid = this.lit; this.lit = ""; this.light(uid); }
  }

  card(view) {
    const card = el("article", "svc-card");
    card.dataset.namespace = view.namespace;
    card.dataset.name = view.name;
    card.dataset.ready = String(view.ready);
    card.setAttribute("aria-labelledby", `svc-${view.namespace}-${view.name}`);
    const head = el("header", "svc-head");
    const title = el("h3", "svc-title");
    title.id = `svc-${view.namespace}-${view.name}`;
    const open = el("button", "wl-open svc-open", view.name);
    open.type = "button";
    Object.assign(open.dataset, { kind: "Service", namespace: view.namespace, name: view.name, uid: view.uid,
      focusKey: `svc/${view.namespace}/${view.name}` });
    open.setAttribute("aria-label", `Service ${view.name}`);
    title.append(el("span", "svc-kind", "svc/"), open);
    const type = el("span", "badge svc-type", view.type);
    type.dataset.type = view.type;
    head.append(title, type);
    if (this.filter.namespace === "") head.append(el("span", "muted svc-ns", view.namespace));

    const facts = el("dl", "svc-facts");
    facts.append(fact("ClusterIP", view.clusterIP || "None", "clusterIP"));
    const ports = el("div", "svc-fact");
    ports.dataset.fact = "ports";
    const dd = el("dd", "svc-ports");
    for (const p of view.ports) {
      const span = el("span", "svc-port", `${p.name ? `${p.name} ` : ""}${p.text}`);
      if (p.nodePort) span.append(el("span", "svc-nodeport", ` nodePort ${p.nodePort}`));
      dd.append(span);
    }
    if (!view.ports.length) dd.textContent = "none";
    ports.append(el("dt", "", "Ports"), dd);
    ports.title = "port:targetPort/protocol";
    facts.append(ports, fact("Selector", view.selector || "none (Endpoints kept by hand)", "selector"));

    const eps = el("section", "svc-endpoints");
    const epTitle = el("h4", "", `Endpoints `);
    epTitle.append(el("span", "muted", `${view.ready} ready${view.addresses.length > view.ready
      ? `, ${view.addresses.length - view.ready} not ready` : ""}`));
    eps.append(epTitle);
    if (!view.addresses.length) {
      eps.append(el("p", "muted svc-none", view.hasSelector
        ? "No pod matches the selector yet (or none has an IP)." : "No addresses."));
    } else {
      const ul = el("ul", "svc-ep-list");
      const hits = this.hitsFor === `${view.namespace}/${view.name}` ? this.hits : null;
      for (const a of view.addresses.slice(0, ADDRESSES_SHOWN)) ul.append(this.endpoint(a, view.namespace, hits));
      eps.append(ul);
      const more = view.addresses.length - ADDRESSES_SHOWN;
      if (more > 0) eps.append(el("p", "muted svc-more", `… and ${more} more address${more === 1 ? "" : "es"}`));
    }

    const ing = el("section", "svc-ingress");
    ing.append(el("h4", "", "Ingress rules"));
    if (!view.routes.length) ing.append(el("p", "muted svc-none", "No Ingress points here."));
    else {
      const ul = el("ul", "svc-route-list");
      for (const r of view.routes) {
        const li = el("li", "svc-route");
        li.dataset.ingress = r.ingress;
        li.append(el("code", "", `${r.host} ${r.path}`), el("span", "arrow", " → "),
          el("code", "", `${view.name}:${r.port}`), el("span", "muted", ` ing/${r.ingress}`));
        ul.append(li);
      }
      ing.append(ul);
    }
    card.append(head, facts, eps, ing);
    return card;
  }

  endpoint(a, namespace, hits) {
    const li = el("li", "svc-ep");
    li.dataset.ready = String(a.ready);
    li.dataset.ip = a.ip;
    if (a.podUid) li.dataset.podUid = a.podUid;
    const state = el("span", "svc-ep-state", a.ready ? "ready" : "not ready");
    li.append(state);
    const podNs = a.namespace || namespace;
    if (a.pod) {
      const open = el("button", "wl-open svc-ep-pod", a.pod);
      open.type = "button";
      Object.assign(open.dataset, { kind: "Pod", namespace: podNs, name: a.pod, uid: a.podUid,
        focusKey: `ep/${a.podUid || a.ip}` });
      open.title = `Open pod ${a.pod}`;
      li.append(open);
    }
    li.append(el("code", "svc-ep-ip", `${a.ip}${a.ports ? `:${a.ports}` : ""}`));
    if (a.node) li.append(el("span", "muted svc-ep-node", `on ${a.node}`));
    const n = hits?.get(a.pod);
    if (n) li.append(el("span", "badge svc-ep-hits", `${n} hit${n === 1 ? "" : "s"}`));
    return li;
  }
}
