// The filter bar under the header: the namespace filter and the `kubectl -l` selector box.

import { compileSelector } from "./filter.js";
import { getJSON } from "./http.js";

const DEBOUNCE = 120; // ms: one request per pause in typing, not one per key

// "all namespaces" or one, from the live Namespace objects.
export class NamespacePicker {
  constructor(select, { initial, onChange }) {
    this.select = select;
    this.onChange = onChange;
    this.signature = null;
    this.value = initial || "";
    this.update([]); // the chosen namespace is an option before the snapshot arrives
    select.addEventListener("change", () => {
      this.value = select.value;
      this.onChange(this.value);
    });
  }

  // namespaces: Namespace objects, as the board holds them.
  update(namespaces) {
    const rows = namespaces.map((ns) => ({
      name: ns.metadata?.name || "",
      state: ns.metadata?.deletionTimestamp || ns.status?.phase === "Terminating" ? "Terminating" : "",
    })).filter((r) => r.name).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    // A namespace chosen in the address but not (or no longer) in the cluster stays chosen.
    if (this.value && !rows.some((r) => r.name === this.value)) {
      rows.push({ name: this.value, state: this.signature === null ? "" : "not found" });
    }
    const signature = JSON.stringify(rows);
    if (signature === this.signature) return;
    this.signature = signature;
    const options = [new Option("all namespaces", "")];
    for (const { name, state } of rows) {
      const option = new Option(state ? `${name} (${state})` : name, name);
      if (state) option.dataset.state = state;
      options.push(option);
    }
    this.select.replaceChildren(...options);
    this.select.value = this.value;
    const chosen = rows.find((r) => r.name === this.value);
    this.select.dataset.state = chosen?.state || "";
  }
}

// The selector box: parse as you type (by the server, for Kubernetes' own errors), answer with
// a predicate, show errors inline. Answers to older text are ignored.
export class SelectorBox {
  constructor(root, { apiBase, initial, onChange }) {
    this.apiBase = apiBase;
    this.onChange = onChange;
    this.input = root.querySelector("#selector-input");
    this.clear = root.querySelector("#selector-clear");
    this.error = root.querySelector("#selector-error");
    this.countEl = root.querySelector("#selector-count");
    this.examples = [...root.querySelectorAll("[data-example]")];
    this.timer = 0;
    this.seq = 0;
    this.abort = null;
    this.input.addEventListener("input", () => this.schedule());
    this.input.addEventListener("keydown", (e) => {
      if (e.key === "Escape" && this.input.value) {
        e.preventDefault(); // clear the box rather than close a drawer
        this.set("");
      } else if (e.key === "Enter") {
        e.preventDefault();
        this.run();
      }
    });
    this.clear.addEventListener("click", () => {
      this.set("");
      this.input.focus();
    });
    for (const button of this.examples) {
      button.addEventListener("click", () => {
        const text = button.dataset.example;
        this.set(this.input.value.trim() === text ? "" : text);
      });
    }
    this.input.value = initial || ""; // the caller runs it once the page is wired
    this.mark();
  }

  get text() {
    return this.input.value;
  }

  set(text) {
    this.input.value = text;
    this.run();
  }

  schedule() {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.run(), DEBOUNCE);
    this.mark();
  }

  // The example matching the box is shown pressed; the clear button only when there is text.
  mark() {
    const text = this.input.value.trim();
    for (const button of this.examples) {
      button.setAttribute("aria-pressed", String(button.dataset.example === text));
    }
    this.clear.hidden = !this.input.value;
  }

  async run() {
    clearTimeout(this.timer);
    this.timer = 0;
    this.mark();
    this.abort?.abort();
    const text = this.input.value;
    const seq = ++this.seq;
    if (!text.trim()) {
      this.showError("");
      this.onChange({ text: "", predicate: null });
      return;
    }
    const abort = new AbortController();
    this.abort = abort;
    let answer;
    try {
      answer = await getJSON(`${this.apiBase}/selector?q=${encodeURIComponent(text)}`, abort.signal);
    } catch (err) {
      if (err.name === "AbortError" || seq !== this.seq) return;
      this.showError(`Could not check the selector: ${err.message}`);
      this.onChange({ text, predicate: null });
      return;
    }
    if (seq !== this.seq) return; // the box has changed since: a newer answer is coming
    if (!answer.ok) {
      this.showError(answer.error);
      this.onChange({ text, predicate: null });
      return;
    }
    this.showError("");
    this.input.title = answer.selector ? `as Kubernetes reads it: ${answer.selector}` : "";
    this.onChange({ text, predicate: compileSelector(answer.requirements || []) });
  }

  showError(message) {
    // Never hidden, only emptied: a live region must stay in the page to be heard.
    if (this.error.textContent !== message) this.error.textContent = message;
    if (message) this.input.setAttribute("aria-invalid", "true");
    else this.input.removeAttribute("aria-invalid");
  }

  // "3 of 7 pods", or nothing while nothing is highlighted.
  showCount(counts) {
    const text = counts ? `${counts.matched} of ${counts.shown} pod${counts.shown === 1 ? "" : "s"}` : "";
    if (this.countEl.textContent !== text) this.countEl.textContent = text;
  }
}
