// The pod panel's Logs: `kubectl logs` for a chosen container, current or previous instance,
// with or without timestamps, following live while the pod runs.
//
// Re-read when the pod changes (a restart, a new state) and every couple of seconds of wall
// time while it is Running (a container can write without the pod object changing). The view
// stays at the newest line unless the reader has scrolled up to read.

import { getText } from "./http.js";

const POLL_MS = 2000;
const TAIL_LINES = 1000;
const NEAR_BOTTOM = 24; // px: "at the bottom" allows for a part-line

function quote(word) {
  return /^[\w./:=@-]+$/.test(word) ? word : `'${word.replace(/'/g, "'\\''")}'`;
}

// The pod's containers as the picker lists them: app containers, then init containers.
export function containerNames(pod) {
  const spec = pod?.spec || {};
  return [
    ...(spec.containers || []).map((c) => ({ name: c.name, init: false })),
    ...(spec.initContainers || []).map((c) => ({ name: c.name, init: true })),
  ];
}

export function fillPicker(select, label, pod) {
  const names = containerNames(pod);
  const keep = select.value;
  const key = names.map((c) => `${c.init ? "i" : "c"}:${c.name}`).join(",");
  if (select.dataset.key !== key) {
    select.dataset.key = key;
    select.replaceChildren(...names.map((c) => {
      const option = document.createElement("option");
      option.value = c.name;
      option.textContent = c.init ? `${c.name} (init)` : c.name;
      return option;
    }));
    if (names.some((c) => c.name === keep)) select.value = keep;
  }
  label.hidden = names.length < 2; // one container needs no choosing
}

export class PodLogs {
  constructor(section, { apiBase }) {
    this.apiBase = apiBase;
    this.section = section;
    this.select = section.querySelector("#logs-container");
    this.selectLabel = section.querySelector("#logs-container-label");
    this.current = section.querySelector("#logs-current");
    this.previous = section.querySelector("#logs-previous");
    this.timestamps = section.querySelector("#logs-timestamps");
    this.state = section.querySelector("#logs-state");
    this.text = section.querySelector("#logs-text");
    this.note = section.querySelector("#logs-note");
    this.latest = section.querySelector("#logs-latest");
    this.cmd = section.querySelector("#logs-cmd");
    this.pod = null;
    this.target = null;
    this.wantPrevious = false;
    this.timer = 0;
    this.inflight = null;
    this.again = false;
    this.shown = null; // the text on screen, so an unchanged log touches nothing
    this.select.addEventListener("change", () => this.reload());
    this.current.addEventListener("click", () => this.setPrevious(false));
    this.previous.addEventListener("click", () => this.setPrevious(true));
    this.timestamps.addEventListener("change", () => this.reload());
    this.text.addEventListener("scroll", () => {
      if (this.atBottom()) this.latest.hidden = true;
    });
    this.latest.addEventListener("click", () => {
      this.toBottom();
      this.text.focus({ preventScroll: true });
    });
    document.addEventListener("visibilitychange", () => this.schedule());
  }

  show(target, pod) {
    this.hide();
    this.target = target;
    this.section.hidden = false;
    this.wantPrevious = false;
    this.current.setAttribute("aria-pressed", "true");
    this.previous.setAttribute("aria-pressed", "false");
    this.select.dataset.key = "";
    this.select.value = "";
    this.text.hidden = true;
    this.text.textContent = "";
    this.shown = null;
    this.latest.hidden = true;
    this.setNote("Loading…");
    this.pod = null;
    if (pod) this.update(pod);
  }

  hide() {
    clearInterval(this.timer);
    this.timer = 0;
    this.inflight?.abort();
    this.inflight = null;
    this.target = null;
    this.pod = null;
    this.section.hidden = true;
  }

  // The pod changed (or was read for the first time): re-read its log.
  update(pod) {
    if (!this.target) return;
    const first = !this.pod;
    this.pod = pod;
    fillPicker(this.select, this.selectLabel, pod);
    this.schedule();
    if (first) this.describeCommand();
    this.fetch();
  }

  // The pod is gone: its logs went with it, as in Kubernetes.
  gone() {
    clearInterval(this.timer);
    this.timer = 0;
    this.inflight?.abort();
    this.setState("not following: the pod is gone, and its logs with it");
  }

  running() {
    return this.pod?.status?.phase === "Running" && !this.pod?.metadata?.deletionTimestamp;
  }

  // Poll while the pod runs and the page is seen; not otherwise.
  schedule() {
    const want = Boolean(this.target) && this.running() && !document.hidden;
    if (want && !this.timer) this.timer = setInterval(() => this.fetch(), POLL_MS);
    else if (!want && this.timer) {
      clearInterval(this.timer);
      this.timer = 0;
    }
  }

  setPrevious(on) {
    if (this.wantPrevious === on) return;
    this.wantPrevious = on;
    this.current.setAttribute("aria-pressed", String(!on));
    this.previous.setAttribute("aria-pressed", String(on));
    this.reload();
  }

  reload() {
    this.shown = null;
    this.stick = true; // a new choice starts at the newest line
    this.describeCommand();
    this.fetch();
  }

  describeCommand() {
    const pod = this.pod;
    if (!pod) return;
    const parts = ["kubectl", "logs", quote(pod.metadata.name)];
    if (pod.metadata.namespace && pod.metadata.namespace !== "default") {
      parts.push("-n", quote(pod.metadata.namespace));
    }
    if (containerNames(pod).length > 1 && this.select.value) parts.push("-c", quote(this.select.value));
    if (this.wantPrevious) parts.push("--previous");
    if (this.timestamps.checked) parts.push("--timestamps");
    if (!this.wantPrevious && this.running()) parts.push("-f");
    this.cmd.textContent = parts.join(" ");
  }

  url() {
    const { namespace, name } = this.target;
    const query = new URLSearchParams({ tailLines: String(TAIL_LINES) });
    if (this.select.value) query.set("container", this.select.value);
    if (this.wantPrevious) query.set("previous", "true");
    if (this.timestamps.checked) query.set("timestamps", "true");
    return `${this.apiBase}/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/`
      + `${encodeURIComponent(name)}/log?${query}`;
  }

  async fetch() {
    const target = this.target;
    if (!target || target.deleted) return;
    if (this.inflight) {
      this.again = true; // one more read when this one is in: never two at once
      return;
    }
    const abort = new AbortController();
    this.inflight = abort;
    const url = this.url();
    let text = null;
    let error = null;
    try {
      text = await getText(url, abort.signal);
    } catch (err) {
      if (err.name === "AbortError") return;
      error = err;
    } finally {
      if (this.inflight === abort) this.inflight = null;
    }
    if (this.target !== target || url !== this.url()) {
      if (this.target === target) this.fetch(); // the choice changed meanwhile
      return;
    }
    if (error) this.showError(error);
    else this.showText(text);
    this.describeCommand();
    if (this.again) {
      this.again = false;
      this.fetch();
    }
  }

  showError(err) {
    this.text.hidden = true;
    this.shown = null;
    this.latest.hidden = true;
    // The API server's own sentence: `container "main" in pod "x" is waiting to start: ...`.
    const message = err.body?.message || err.message;
    if (err.status === 404 && this.target) {
      this.setNote(`Nothing to show: pods "${this.target.name}" not found. A pod's logs go with it.`);
    } else {
      this.setNote(`Nothing to show yet: ${message}`);
    }
    this.setState(this.running() ? "following" : "");
  }

  showText(text) {
    const lines = text ? text.replace(/\n$/, "").split("\n") : [];
    if (!text) {
      this.text.hidden = true;
      this.shown = null;
      this.setNote(this.wantPrevious ? "The previous instance wrote nothing."
        : "No output yet: the container has written nothing to stdout or stderr.");
    } else {
      this.setNote("");
      const stick = this.stick || this.text.hidden || this.atBottom();
      this.stick = false;
      this.text.hidden = false;
      if (text !== this.shown) {
        this.render(lines);
        this.shown = text;
        if (stick) this.toBottom();
        else this.latest.hidden = false; // new lines below where the reader is
      }
    }
    const count = `${lines.length} line${lines.length === 1 ? "" : "s"}`
      + (lines.length >= TAIL_LINES ? ` (the last ${TAIL_LINES})` : "");
    const following = !this.wantPrevious && this.running();
    this.setState(following ? `${count} · following` : count);
  }

  render(lines) {
    const stamped = this.timestamps.checked;
    const frag = document.createDocumentFragment();
    for (const line of lines) {
      const row = document.createElement("span");
      row.className = "log-line";
      const space = stamped ? line.indexOf(" ") : -1;
      if (space > 0) {
        const stamp = document.createElement("span");
        stamp.className = "log-time";
        stamp.textContent = line.slice(0, space);
        row.append(stamp, line.slice(space));
      } else {
        row.textContent = line;
      }
      frag.append(row, "\n");
    }
    this.text.replaceChildren(frag);
  }

  setNote(text) {
    this.note.textContent = text;
    this.note.hidden = !text;
  }

  setState(text) {
    if (this.state.textContent !== text) this.state.textContent = text;
  }

  atBottom() {
    const t = this.text;
    return t.scrollHeight - t.scrollTop - t.clientHeight < NEAR_BOTTOM;
  }

  toBottom() {
    this.text.scrollTop = this.text.scrollHeight;
    this.latest.hidden = true;
  }
}
