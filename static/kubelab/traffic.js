// The Services tab's traffic panel: a burst of requests from a client IP to a Service (each
// "flies" to the pod that answered it, and per-pod hit counts are written out), and an ingress
// request (host + path) that shows the route taken or why there is none.
//
// The server does the routing (dashboard/traffic_views.py); this only asks and shows.

import { el } from "./chips.js";
import { csrfToken } from "./http.js";

const reduceMotion = matchMedia("(prefers-reduced-motion: reduce)");
const FLIGHTS = 30; // at most this many dots per burst: the counts tell the rest

async function post(url, body) {
  let response;
  try {
    response = await fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify(body),
    });
  } catch (err) {
    throw new Error(`the server did not answer (${err.message})`);
  }
  let answer = null;
  try { answer = await response.json(); } catch { /* not JSON */ }
  if (!response.ok) {
    throw new Error(`${response.status}: ${answer?.message || response.statusText || "request failed"}`);
  }
  return answer;
}

// A dot from `from` to `to` (elements), over the page; nothing when motion is unwelcome.
function fly(from, to, delay, ok) {
  if (reduceMotion.matches || !from || !to || !document.body.animate) return;
  const a = from.getBoundingClientRect();
  const b = to.getBoundingClientRect();
  if (!b.width) return;
  const dot = el("span", `traffic-dot${ok ? "" : " is-error"}`);
  dot.setAttribute("aria-hidden", "true");
  dot.style.left = `${a.left + a.width / 2}px`;
  dot.style.top = `${a.top + a.height / 2}px`;
  document.body.append(dot);
  const dx = b.left + 12 - (a.left + a.width / 2);
  const dy = b.top + b.height / 2 - (a.top + a.height / 2);
  const anim = dot.animate([{ transform: "translate(0, 0)", opacity: 1 },
    { transform: `translate(${dx}px, ${dy}px)`, opacity: 0.9 }],
  { duration: 600, delay, easing: "ease-in", fill: "both" });
  anim.onfinish = () => dot.remove();
  anim.oncancel = () => dot.remove();
}

export class TrafficPanel {
  constructor(root, { postBase, services, notify }) {
    this.root = root;
    this.postBase = postBase;
    this.services = services; // the ServicesView: its cards are where requests land
    this.notify = notify;
    const q = (sel) => root.querySelector(sel);
    this.form = q("#traffic-form");
    this.serviceSelect = q("#traffic-service");
    this.portSelect = q("#traffic-port");
    this.client = q("#traffic-client");
    this.count = q("#traffic-count");
    this.send = q("#traffic-send");
    this.result = q("#traffic-result");
    this.hitsEl = q("#traffic-hits");
    this.log = q("#traffic-log");
    this.hitsEmpty = q("#traffic-hits-empty");
    this.ingressForm = q("#ingress-form");
    this.ingressResult = q("#ingress-result");
    this.list = [];
    this.form.addEventListener("submit", (e) => { e.preventDefault(); this.sendBurst(); });
    this.serviceSelect.addEventListener("change", () => this.fillPorts());
    this.ingressForm.addEventListener("submit", (e) => { e.preventDefault(); this.sendIngress(); });
  }

  // The Services the picker offers: the namespace shown's, kept in step with the store.
  setServices(services) {
    const key = (s) => `${s.metadata.namespace}/${s.metadata.name}`;
    const before = this.serviceSelect.value;
    const ports = new Map(services.map((s) => [key(s), s.spec?.ports || []]));
    const same = this.list.length === services.length && services.every((s, i) => key(s) === this.list[i]);
    this.ports = ports;
    if (!same) {
      this.list = services.map(key);
      this.serviceSelect.replaceChildren(...services.map((s) => {
        const opt = el("option", "", `${s.metadata.namespace}/${s.metadata.name}`);
        opt.value = key(s);
        return opt;
      }));
      if (this.list.includes(before)) this.serviceSelect.value = before;
    }
    this.send.disabled = services.length === 0;
    this.fillPorts();
  }

  fillPorts() {
    const ports = this.ports?.get(this.serviceSelect.value) || [];
    const before = this.portSelect.value;
    const values = ports.map((p) => String(p.name || p.port));
    const current = [...this.portSelect.options].map((o) => o.value);
    if (values.join() !== current.join()) {
      this.portSelect.replaceChildren(...ports.map((p) => {
        const opt = el("option", "", p.name ? `${p.name} (${p.port})` : String(p.port));
        opt.value = String(p.name || p.port);
        return opt;
      }));
      if (values.includes(before)) this.portSelect.value = before;
    }
    this.portSelect.disabled = ports.length < 2;
  }

  async sendBurst() {
    const [namespace, service] = this.serviceSelect.value.split("/");
    if (!service) return;
    const port = this.portSelect.value;
    const body = { namespace, service, clientIP: this.client.value.trim(), count: Number(this.count.value) };
    if (port) body.port = /^\d+$/.test(port) ? Number(port) : port;
    this.send.disabled = true;
    this.result.textContent = "Sending…";
    try {
      const answer = await post(`${this.postBase}/traffic`, body);
      this.show(namespace, service, answer);
    } catch (err) {
      this.result.textContent = err.message;
      this.result.dataset.kind = "error";
    } finally {
      this.send.disabled = false;
    }
  }

  show(namespace, service, answer) {
    const requests = answer.requests || [];
    const hits = answer.hits || {};
    const failed = requests.filter((r) => r.error).length;
    this.result.dataset.kind = failed === requests.length && requests.length ? "error" : "ok";
    this.result.textContent = `${requests.length} request${requests.length === 1 ? "" : "s"} to ${service}: `
      + `${requests.length - failed} answered${failed ? `, ${failed} failed` : ""}.`;
    this.services.setHits(namespace, service, hits);
    // The hit counts, as text: the pod, how many requests it answered.
    const pods = Object.entries(hits).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
    this.hitsEl.replaceChildren(...pods.map(([pod, n]) => {
      const li = el("li", "traffic-hit");
      li.dataset.pod = pod;
      const uid = [...document.querySelectorAll(".svc-ep-pod")].find((b) => b.dataset.name === pod
        && b.dataset.namespace === namespace)?.dataset.uid;
      if (uid) li.dataset.podUid = uid;
      li.append(el("span", "traffic-hit-pod", pod), el("span", "traffic-hit-n", `${n} hit${n === 1 ? "" : "s"}`));
      const bar = el("span", "traffic-bar");
      bar.style.setProperty("--share", String(n / Math.max(1, requests.length)));
      bar.setAttribute("aria-hidden", "true");
      li.append(bar);
      return li;
    }));
    this.hitsEmpty.hidden = pods.length > 0;
    this.log.replaceChildren(...requests.slice(0, 50).map((r) => {
      const li = el("li", `traffic-req${r.error ? " is-error" : ""}`);
      li.textContent = r.error ? `#${r.n} ✕ ${r.error}`
        : `#${r.n} → ${r.pod} ${r.status}: ${String(r.body || "").trim()}`;
      li.title = r.error ? `from ${r.client || ""}` : `from ${r.client} to ${r.endpoint} on ${r.node}`;
      return li;
    }));
    // The flights, from the Send button to each answering pod's endpoint on its card.
    const card = this.services.listEl.querySelector(
      `.svc-card[data-namespace="${CSS.escape(namespace)}"][data-name="${CSS.escape(service)}"]`);
    requests.slice(0, FLIGHTS).forEach((r, i) => {
      const target = r.pod && card?.querySelector(`.svc-ep-pod[data-name="${CSS.escape(r.pod)}"]`);
      fly(this.send, target || card, i * 60, !r.error);
    });
  }

  async sendIngress() {
    const host = this.ingressForm.querySelector("#ingress-host").value.trim();
    const path = this.ingressForm.querySelector("#ingress-path").value.trim() || "/";
    const out = this.ingressResult;
    out.textContent = "Sending…";
    try {
      const answer = await post(`${this.postBase}/traffic/ingress`, { host, path });
      const status = el("p", "ingress-status");
      status.dataset.status = String(answer.status);
      status.textContent = `${answer.status} ${answer.status < 400 ? "✓" : "✕"} ${host || "(no host)"}${path}`;
      const route = el("ol", "ingress-route");
      for (const step of answer.route || []) {
        const li = el("li", "ingress-step");
        li.dataset.step = step.step;
        li.textContent = step.step === "ingress" ? `Ingress ${step.name}: rule ${step.rule}`
          : step.step === "service" ? `Service ${step.name} port ${step.port}`
            : `Pod ${step.name} on ${step.node} (${step.endpoint})`;
        route.append(li);
      }
      const parts = [status, route];
      if (answer.reason) parts.push(el("p", "ingress-reason", `Why: ${answer.reason}`));
      if (answer.body) parts.push(el("pre", "ingress-body", String(answer.body)));
      out.replaceChildren(...parts);
    } catch (err) {
      out.replaceChildren(el("p", "ingress-reason", err.message));
    }
  }
}
