// The Apply YAML panel: paste or load a manifest, apply it all or nothing, read the outcome.

import { Drawer } from "./drawer.js";
import { postForm } from "./http.js";

function line(className, text) {
  const li = document.createElement("li");
  li.className = className;
  li.textContent = text;
  return li;
}

// "document 2, line 7: spec.ports[0].targetPort: ..." (only the parts the server knows).
export function errorText(error) {
  const where = [];
  if (error.document) where.push(`document ${error.document}`);
  if (error.line) where.push(`line ${error.line}`);
  const parts = [];
  if (where.length) parts.push(where.join(", "));
  // The server's message often names the field already; say it once.
  if (error.field && !String(error.message).includes(error.field)) parts.push(error.field);
  parts.push(error.message);
  return parts.join(": ");
}

export class ApplyPanel {
  constructor(element, { openButton, notify }) {
    this.el = element;
    this.openButton = openButton;
    this.notify = notify;
    this.drawer = new Drawer(element, {
      onClose: () => openButton.setAttribute("aria-expanded", "false"),
    });
    this.form = element.querySelector("#apply-form");
    this.textarea = element.querySelector("#manifest");
    this.file = element.querySelector("#manifest-file");
    this.submit = element.querySelector("#apply-submit");
    this.result = element.querySelector("#apply-result");
    openButton.addEventListener("click", () => {
      if (this.drawer.isOpen) {
        this.drawer.close();
        return;
      }
      openButton.setAttribute("aria-expanded", "true");
      this.drawer.show(openButton, this.textarea);
    });
    this.file.addEventListener("change", () => this.load());
    this.form.addEventListener("submit", (e) => {
      e.preventDefault();
      this.apply();
    });
    this.result.addEventListener("click", (e) => {
      const target = e.target.closest("[data-line]");
      if (target) this.selectLine(Number(target.dataset.line));
    });
  }

  // The file is read here, into the textarea, so it can be read and corrected before applying.
  async load() {
    const file = this.file.files[0];
    if (!file) return;
    if (file.size > 1024 * 1024) {
      this.showErrors([{ message: `${file.name} is ${(file.size / 1048576).toFixed(1)} MiB; the limit is 1 MiB`, hint: "apply it in smaller files" }], 413);
      this.file.value = "";
      return;
    }
    this.textarea.value = await file.text();
    this.result.replaceChildren(Object.assign(document.createElement("p"), {
      className: "muted", textContent: `Loaded ${file.name}. Check it, then Apply.`,
    }));
    this.file.value = "";
    this.textarea.focus();
  }

  async apply() {
    if (!this.textarea.value.trim()) {
      this.showErrors([{ message: "the manifest is empty", hint: "paste YAML or load a file" }]);
      return;
    }
    this.submit.disabled = true;
    this.submit.textContent = "Applying…";
    try {
      const { response, body } = await postForm(this.form.action, new FormData(this.form));
      if (body && Array.isArray(body.errors)) {
        if (body.ok) this.showApplied(body.applied || []);
        else this.showErrors(body.errors, response.status);
      } else {
        this.showErrors([{ message: `the server answered ${response.status} ${response.statusText}`,
          hint: response.status === 403 ? "the page may be stale: reload it" : "" }], response.status);
      }
    } catch (err) {
      this.showErrors([{ message: err.message }]);
    } finally {
      this.submit.disabled = false;
      this.submit.textContent = "Apply";
    }
  }

  showApplied(applied) {
    const list = document.createElement("ul");
    list.className = "result-list ok";
    for (const item of applied) {
      const ns = item.namespace && item.namespace !== "default" ? ` (namespace ${item.namespace})` : "";
      list.append(line("applied", `${item.kind.toLowerCase()}/${item.name} ${item.action}${ns}`));
      for (const warning of item.warnings || []) {
        const text = typeof warning === "string" ? warning : warning.message || JSON.stringify(warning);
        list.append(line("warning", `Warning: ${text}`));
      }
    }
    const heading = Object.assign(document.createElement("p"), {
      className: "result-head ok",
      textContent: `✓ Applied ${applied.length} object${applied.length === 1 ? "" : "s"}`,
    });
    this.result.replaceChildren(heading, list);
    this.notify?.(`Applied ${applied.map((a) => `${a.kind.toLowerCase()}/${a.name}`).join(", ")}`);
  }

  showErrors(errors, status) {
    const list = document.createElement("ul");
    list.className = "result-list errors";
    for (const error of errors) {
      const li = document.createElement("li");
      li.className = "error";
      const text = document.createElement("span");
      text.className = "error-text";
      text.textContent = errorText(error);
      li.append(text);
      if (error.line) {
        const jump = document.createElement("button");
        jump.type = "button";
        jump.className = "link jump";
        jump.dataset.line = error.line;
        jump.textContent = `go to line ${error.line}`;
        li.append(" ", jump);
      }
      if (error.hint) {
        const hint = document.createElement("p");
        hint.className = "hint";
        hint.textContent = error.hint;
        li.append(hint);
      }
      list.append(li);
    }
    const n = errors.length;
    const heading = Object.assign(document.createElement("p"), {
      className: "result-head error",
      role: "alert",
      textContent: status === 422 || status === 413
        ? `✕ Nothing was applied: ${n} problem${n === 1 ? "" : "s"}`
        : `✕ ${n === 1 ? "Problem" : `${n} problems`}`,
    });
    heading.setAttribute("role", "alert");
    this.result.replaceChildren(heading, list);
  }

  selectLine(number) {
    const lines = this.textarea.value.split("\n");
    let start = 0;
    for (let i = 0; i < number - 1 && i < lines.length; i += 1) start += lines[i].length + 1;
    const end = start + (lines[number - 1] || "").length;
    this.textarea.focus();
    this.textarea.setSelectionRange(start, end);
    const lineHeight = parseFloat(getComputedStyle(this.textarea).lineHeight) || 18;
    this.textarea.scrollTop = Math.max(0, (number - 3) * lineHeight);
  }
}
