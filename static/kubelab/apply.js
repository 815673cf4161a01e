// The Apply YAML panel: paste, load or pick an example manifest, apply it all or nothing, read
// the outcome.

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
  // A whole-text problem (a tab, bad YAML) says where itself, with the column.
  if (where.length && !/^document \d/.test(String(error.message))) parts.push(where.join(", "));
  // The server's message often names the field already; say it once.
  if (error.field && !String(error.message).includes(error.field)) parts.push(error.field);
  parts.push(error.message);
  return parts.join(": ");
}

// The Examples menu: the seed's manifests as written (and a few from the book), grouped. A menu
// button as the ARIA pattern has it: Enter, Space or ↓ opens on the first item, ↑ on the last;
// arrows, Home and End move; Escape closes and goes back to the button; Tab closes.
class ExamplesMenu {
  constructor(menu, button, examples, onPick) {
    this.menu = menu;
    this.button = button;
    this.onPick = onPick;
    this.examples = new Map(examples.map((e) => [e.slug, e]));
    let group = null;
    for (const example of examples) {
      if (example.group !== group?.dataset.group) {
        group = document.createElement("div");
        group.setAttribute("role", "group");
        group.dataset.group = example.group;
        const heading = document.createElement("div");
        heading.className = "menu-heading";
        heading.id = `examples-group-${menu.children.length}`;
        heading.textContent = example.group;
        heading.setAttribute("role", "presentation");
        group.setAttribute("aria-labelledby", heading.id);
        group.append(heading);
        menu.append(group);
      }
      const item = document.createElement("button");
      item.type = "button";
      item.className = "menu-item";
      item.setAttribute("role", "menuitem");
      item.tabIndex = -1;
      item.dataset.slug = example.slug;
      const label = document.createElement("span");
      label.className = "menu-label";
      label.textContent = example.title;
      const hint = document.createElement("span");
      hint.className = "menu-hint";
      hint.textContent = example.where;
      hint.setAttribute("aria-hidden", "true");
      item.append(label, hint);
      group.append(item);
    }
    button.addEventListener("click", () => (menu.hidden ? this.open(0) : this.close(true)));
    button.addEventListener("keydown", (e) => {
      if (e.key !== "ArrowDown" && e.key !== "ArrowUp") return;
      e.preventDefault();
      this.open(e.key === "ArrowUp" ? -1 : 0);
    });
    menu.addEventListener("click", (e) => {
      const item = e.target.closest("[role=menuitem]");
      if (item) this.choose(item.dataset.slug);
    });
    menu.addEventListener("keydown", (e) => this.keydown(e));
    document.addEventListener("pointerdown", (e) => {
      if (menu.hidden || menu.contains(e.target) || button.contains(e.target)) return;
      this.close(false);
    });
    window.addEventListener("resize", () => this.close(false));
  }

  items() {
    return [...this.menu.querySelectorAll("[role=menuitem]")];
  }

  open(focus) {
    this.menu.hidden = false;
    this.button.setAttribute("aria-expanded", "true");
    const rect = this.button.getBoundingClientRect();
    const width = this.menu.offsetWidth;
    const height = this.menu.offsetHeight;
    this.menu.style.left = `${Math.max(8, Math.min(rect.right - width, innerWidth - width - 8))}px`;
    const below = rect.bottom + 4;
    this.menu.style.top = `${below + height > innerHeight - 8 ? Math.max(8, innerHeight - height - 8) : below}px`;
    this.items().at(focus)?.focus();
  }

  close(restoreFocus) {
    if (this.menu.hidden) return;
    this.menu.hidden = true;
    this.button.setAttribute("aria-expanded", "false");
    if (restoreFocus) this.button.focus();
  }

  choose(slug) {
    this.close(false);
    const example = this.examples.get(slug);
    if (example) this.onPick(example);
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

export class ApplyPanel {
  constructor(element, { openButton, notify, examplesMenu, examples }) {
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
      this.open(openButton);
    });
    this.note = element.querySelector("#example-note");
    this.loaded = null; // the example last put in the textarea, and what it replaced
    if (examplesMenu && examples?.length) {
      this.examples = new ExamplesMenu(examplesMenu, element.querySelector("#examples-open"),
        examples, (example) => this.pick(example));
    }
    this.note.addEventListener("click", (e) => {
      if (e.target.closest("[data-restore]")) this.restore();
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

  open(opener) {
    this.openButton.setAttribute("aria-expanded", "true");
    this.drawer.show(opener, this.textarea);
  }

  // An example fills the textarea as written, ready to read, apply, or fix first. What was
  // there before can be put back (once), so a slip of the menu costs nothing.
  pick(example) {
    const current = this.textarea.value;
    const replaced = current.trim() && current !== this.loaded?.text ? current : null;
    this.textarea.value = example.text;
    this.loaded = { text: example.text, replaced: replaced ?? this.loaded?.replaced ?? null };
    const source = example.source === "seed" ? `the seed's notes, ${example.where}` : `the book, ${example.where}`;
    this.note.replaceChildren();
    const title = document.createElement("strong");
    title.textContent = example.title;
    this.note.append(title, ` (from ${source}). ${example.note}`);
    if (this.loaded.replaced) {
      const undo = document.createElement("button");
      undo.type = "button";
      undo.className = "link";
      undo.dataset.restore = "";
      undo.textContent = "Put back what you had";
      this.note.append(" ", undo);
    }
    this.note.hidden = false;
    this.result.replaceChildren();
    this.textarea.scrollTop = 0;
    this.textarea.focus();
    this.textarea.setSelectionRange(0, 0);
  }

  restore() {
    if (!this.loaded?.replaced) return;
    this.textarea.value = this.loaded.replaced;
    this.loaded = null;
    this.note.hidden = true;
    this.textarea.focus();
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
    this.result.replaceChildren(...appliedReport(applied));
    this.notify?.(`Applied ${applied.map((a) => `${a.kind.toLowerCase()}/${a.name}`).join(", ")}`);
  }

  showErrors(errors, status) {
    this.result.replaceChildren(...errorReport(errors, status, { jumps: true }));
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

// What an apply did, as the heading and list the Apply panel (and a lesson) shows.
export function appliedReport(applied) {
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
  return [heading, list];
}

// Why an apply was refused: each problem with its line and kubelab's hint. With `jumps`, a
// "go to line" button per problem (the Apply panel selects that line of its text).
export function errorReport(errors, status, { jumps = false } = {}) {
  const list = document.createElement("ul");
  list.className = "result-list errors";
  for (const error of errors) {
    const li = document.createElement("li");
    li.className = "error";
    const text = document.createElement("span");
    text.className = "error-text";
    text.textContent = errorText(error);
    li.append(text);
    if (jumps && error.line) {
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
    textContent: status === 422 || status === 413
      ? `✕ Nothing was applied: ${n} problem${n === 1 ? "" : "s"}`
      : `✕ ${n === 1 ? "Problem" : `${n} problems`}`,
  });
  heading.setAttribute("role", "alert");
  return [heading, list];
}
