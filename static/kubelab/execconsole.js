// The pod panel's Exec console: `kubectl exec <pod> -c <container> -- sh -c '<command>'`, its
// stdout and stderr told apart, and its exit code. ↑ and ↓ recall earlier commands, as a shell
// does; the history is the page's, shared by every pod.

import { postForm } from "./http.js";
import { fillPicker } from "./podlogs.js";

const HISTORY_LIMIT = 100;
const TRANSCRIPT_LIMIT = 50; // entries kept on screen per pod
const history = [];

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function shellQuote(text) {
  return `'${text.replace(/'/g, "'\\''")}'`;
}

export class ExecConsole {
  constructor(section, { apiBase }) {
    this.apiBase = apiBase;
    this.section = section;
    this.form = section.querySelector("#exec-form");
    this.select = section.querySelector("#exec-container");
    this.selectLabel = section.querySelector("#exec-container-label");
    this.input = section.querySelector("#exec-command");
    this.run = section.querySelector("#exec-run");
    this.output = section.querySelector("#exec-output");
    this.warning = section.querySelector("#exec-warning");
    this.target = null;
    this.pod = null;
    this.busy = false;
    this.recall = history.length; // where ↑/↓ is in the history; history.length = the draft
    this.draft = "";
    this.form.addEventListener("submit", (e) => {
      e.preventDefault();
      this.submit(this.input.value);
    });
    this.input.addEventListener("keydown", (e) => this.keydown(e));
    this.select.addEventListener("change", () => this.warn());
    section.querySelector(".exec-examples").addEventListener("click", (e) => {
      const example = e.target.closest("[data-command]");
      if (!example) return;
      this.input.value = example.dataset.command;
      this.submit(example.dataset.command);
    });
  }

  show(target, pod) {
    this.target = target;
    this.pod = null;
    this.section.hidden = false;
    this.output.replaceChildren();
    this.output.hidden = true;
    this.input.value = "";
    this.select.dataset.key = "";
    this.select.value = "";
    this.recall = history.length;
    this.setBusy(false);
    if (pod) this.update(pod);
  }

  hide() {
    this.target = null;
    this.pod = null;
    this.section.hidden = true;
  }

  update(pod) {
    if (!this.target) return;
    this.pod = pod;
    // Init containers have ended by the time exec could reach them: only app containers.
    fillPicker(this.select, this.selectLabel,
      { spec: { containers: pod.spec?.containers || [] } });
    this.warn();
  }

  gone() {
    this.pod = null;
    this.warn("The pod is gone: there is nothing left to run commands in.");
  }

  // Exec needs a running container: say so before the server does.
  warn(text) {
    let message = text || "";
    if (!message && this.pod) {
      const name = this.select.value;
      const cs = (this.pod.status?.containerStatuses || []).find((c) => c.name === name);
      const state = cs?.state || {};
      if (!state.running) {
        const why = state.waiting?.reason || (state.terminated
          ? `${state.terminated.reason || "Terminated"}, exit code ${state.terminated.exitCode}`
          : "not started");
        message = `Container ${name} is not running (${why}): exec needs a running container.`;
      }
    }
    this.warning.textContent = message;
    this.warning.hidden = !message;
  }

  keydown(e) {
    if (e.key !== "ArrowUp" && e.key !== "ArrowDown") return;
    if (e.altKey || e.ctrlKey || e.metaKey || e.shiftKey) return;
    e.preventDefault();
    if (this.recall === history.length) this.draft = this.input.value;
    const next = Math.max(0, Math.min(history.length,
      this.recall + (e.key === "ArrowUp" ? -1 : 1)));
    if (next === this.recall) return;
    this.recall = next;
    this.input.value = next === history.length ? this.draft : history[next];
    const end = this.input.value.length;
    this.input.setSelectionRange(end, end);
  }

  remember(command) {
    if (history[history.length - 1] !== command) history.push(command);
    if (history.length > HISTORY_LIMIT) history.shift();
    this.recall = history.length;
    this.draft = "";
  }

  setBusy(on) {
    this.busy = on;
    this.run.disabled = on;
    this.run.textContent = on ? "Running…" : "Run";
    this.section.setAttribute("aria-busy", String(on));
  }

  async submit(text) {
    const command = text.trim();
    const target = this.target;
    if (!command || !target || this.busy) {
      if (!command) this.input.focus();
      return;
    }
    this.remember(command);
    const container = this.select.value;
    const entry = this.entry(command, container);
    this.setBusy(true);
    let answer;
    try {
      const { response, body } = await postForm(`${this.apiBase}/exec`, {
        namespace: target.namespace, pod: target.name, container, command,
      });
      answer = response.ok ? body : { error: body?.message
        || (response.status === 403 ? "forbidden (is the page stale? reload it)"
          : `${response.status} ${response.statusText}`) };
    } catch (err) {
      answer = { error: err.message };
    }
    if (this.target !== target) return;
    this.setBusy(false);
    this.finish(entry, answer);
    this.input.value = "";
    this.input.focus({ preventScroll: true });
  }

  // One command's block in the transcript: the command as kubectl would run it, then its
  // output, then how it ended.
  entry(command, container) {
    const block = el("div", "exec-entry");
    block.dataset.command = command;
    const head = el("div", "exec-cmd");
    head.append(el("span", "prompt", "$ "), el("span", "exec-text", command));
    const { name, namespace } = this.target;
    const ns = namespace && namespace !== "default" ? ` -n ${namespace}` : "";
    head.title = `kubectl exec ${name}${ns} -c ${container} -- sh -c ${shellQuote(command)}`;
    head.append(el("span", "exec-where", `in ${container}`));
    const out = el("pre", "exec-out");
    const end = el("p", "exec-exit pending", "running…");
    block.append(head, out, end);
    this.output.hidden = false;
    this.output.append(block);
    while (this.output.children.length > TRANSCRIPT_LIMIT) this.output.firstElementChild.remove();
    this.output.scrollTop = this.output.scrollHeight;
    return block;
  }

  finish(block, answer) {
    const out = block.querySelector(".exec-out");
    const end = block.querySelector(".exec-exit");
    end.classList.remove("pending");
    if (answer.error) {
      const line = el("span", "stderr");
      line.append(el("span", "visually-hidden", "error: "), `error: ${answer.error}`);
      out.append(line, "\n");
      end.textContent = "not run";
      end.classList.add("fail");
      block.dataset.exitCode = "";
    } else {
      for (const text of answer.stdout || []) out.append(el("span", "stdout", text), "\n");
      for (const text of answer.stderr || []) {
        const line = el("span", "stderr");
        line.append(el("span", "visually-hidden", "stderr: "), text);
        out.append(line, "\n");
      }
      const code = answer.exitCode;
      block.dataset.exitCode = code === null || code === undefined ? "" : String(code);
      if (code === null || code === undefined) {
        end.textContent = "no exit code: still running when kubelab stopped waiting";
        end.classList.add("fail");
      } else {
        end.textContent = `exit code ${code}`;
        end.classList.add(code === 0 ? "ok" : "fail");
      }
    }
    if (!out.childNodes.length) out.remove();
    this.output.scrollTop = this.output.scrollHeight;
  }
}
