// The simulated clock in the header: time, pause/resume, step (while paused) and speed.

import { mergePatch, postForm } from "./http.js";
import { clockDate, clockTime } from "./objects.js";

export class ClockControls {
  constructor(root, { apiBase, notify }) {
    this.apiBase = apiBase;
    this.notify = notify;
    this.now = root.querySelector("#clock-now");
    this.toggle = root.querySelector("#clock-toggle");
    this.steps = [...root.querySelectorAll("[data-step]")];
    this.speeds = [...root.querySelectorAll("[data-speed]")];
    this.clock = null;
    this.toggle.addEventListener("click", () => this.patch({ paused: !this.clock?.spec?.paused }));
    for (const button of this.speeds) {
      button.addEventListener("click", () => this.patch({ speed: Number(button.dataset.speed) }));
    }
    for (const button of this.steps) {
      button.addEventListener("click", () => this.step(Number(button.dataset.step)));
    }
  }

  get url() {
    return `${this.apiBase}/apis/kubelab.io/v1/clocks/cluster`;
  }

  // A clock object from the websocket or from a PATCH answer; an older one is ignored.
  update(clock) {
    if (!clock?.spec) return;
    const rv = Number(clock.metadata?.resourceVersion);
    const held = Number(this.clock?.metadata?.resourceVersion);
    if (this.clock && rv < held) return;
    this.clock = clock;
    const now = clock.status?.now || "";
    const time = clockTime(now);
    if (this.now.textContent !== time) {
      this.now.textContent = time;
      this.now.dateTime = now;
      this.now.title = `${clockDate(now)} (simulated)`;
    }
    const paused = Boolean(clock.spec.paused);
    this.toggle.disabled = false;
    this.toggle.setAttribute("aria-pressed", String(paused));
    this.toggle.querySelector(".label").textContent = paused ? "Resume" : "Pause";
    this.toggle.querySelector(".glyph").textContent = paused ? "▶" : "❚❚";
    this.toggle.title = paused ? "Resume the simulated clock" : "Pause the simulated clock";
    this.now.closest(".clock").dataset.paused = String(paused);
    for (const button of this.steps) button.disabled = !paused;
    for (const button of this.speeds) {
      button.disabled = false;
      button.setAttribute("aria-pressed", String(Number(button.dataset.speed) === clock.spec.speed));
    }
  }

  async patch(spec) {
    try {
      this.update(await mergePatch(this.url, { spec }));
    } catch (err) {
      this.notify(`Could not change the clock: ${err.message}`, "error");
    }
  }

  async step(seconds) {
    try {
      const { response, body } = await postForm(`${this.apiBase}/clock/step`, { seconds });
      if (!response.ok) throw new Error(body?.message || `${response.status}`);
    } catch (err) {
      this.notify(`Could not step the clock: ${err.message}`, "error");
    }
  }
}
