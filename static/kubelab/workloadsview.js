// The Workloads tab: every controller in the namespace shown (ReplicationControllers,
// ReplicaSets, DaemonSets, Jobs, CronJobs), each a card with its numbers as `kubectl get`
// prints them, its selector, its pods as the board's chips, scale and delete controls, and its
// latest events, live. A CronJob's card holds its Jobs (and their pods) and counts down to its
// next run on the simulated clock.
//
// Pods belong to a card by ownerReference (the controller's uid), as Kubernetes' controllers
// claim them, not by selector. The view keeps two small indexes from the change batches
// (owner uid -> pods and jobs, object uid -> events), so a change touches only its cards.
// Hidden, it only notes that it is stale and catches up from the store when shown again.

import { Chip, Lane, el, flash, setText } from "./chips.js";
import { getJSON } from "./http.js";
import { clockDate, clockTime, compareNames, eventOrder, eventTime, sameView } from "./objects.js";
import { scaleCommand } from "./workloadactions.js";
import {
  WORKLOAD_KINDS, agoText, controllerUid, countdown, isScalable, isWorkload, jobDuration,
  qualifiedKind, resourceOf, secondsBetween, workloadView,
} from "./workloads.js";

const EVENTS_SHOWN = 4;
const JOBS_SHOWN = 5; // a CronJob keeps 3 succeeded and 1 failed by default
const FLASH_BUDGET = 40;
const REFETCH_AFTER = 2000; // ms: a next run that has passed is asked for again at most this often
const KIND_ORDER = new Map(WORKLOAD_KINDS.map((k, i) => [k, i]));
const KIND_WORDS = {
  ReplicationController: "ReplicationController", ReplicaSet: "ReplicaSet", DaemonSet: "DaemonSet",
  Job: "Job", CronJob: "CronJob",
};

function track(map, key, uid, add) {
  if (!key) return;
  let set = map.get(key);
  if (add) {
    if (!set) map.set(key, (set = new Set()));
    set.add(uid);
  } else if (set) {
    set.delete(uid);
    if (!set.size) map.delete(key);
  }
}

function sortKey(obj) {
  return [KIND_ORDER.get(obj.kind) ?? 9, obj.metadata?.namespace || "", obj.metadata?.name || ""];
}

function compareCards(a, b) {
  for (let i = 0; i < 3; i += 1) {
    if (a[i] !== b[i]) return typeof a[i] === "number" ? a[i] - b[i] : compareNames(a[i], b[i]);
  }
  return 0;
}

// A sorted lane of pod chips that follows a list of pods: chips are keyed by uid and updated
// in place, so a pod's chip changes rather than being rebuilt.
class PodList {
  constructor(list) {
    this.lane = new Lane(list);
    this.chips = new Map();
  }

  sync(pods, ctx) {
    const seen = new Set();
    for (const pod of pods) {
      const uid = pod.metadata.uid;
      seen.add(uid);
      const view = ctx.viewOf(uid, pod);
      let chip = this.chips.get(uid);
      if (!chip) {
        chip = new Chip(uid, pod, { where: true });
        this.chips.set(uid, chip);
        chip.update(view);
        this.lane.insert(chip);
        if (ctx.budget.n-- > 0) flash(chip.el);
      } else if (!sameView(chip.view, view)) {
        chip.update(view);
        if (ctx.budget.n-- > 0) flash(chip.el);
      }
      chip.labels = pod.metadata?.labels || {};
      chip.setMatch(ctx.filter.highlights(chip.namespace, chip.labels));
      chip.setNodeState(view.nodeName ? ctx.nodeState(view.nodeName) : "");
    }
    for (const [uid, chip] of this.chips) {
      if (seen.has(uid)) continue;
      this.lane.remove(chip);
      chip.el.remove();
      this.chips.delete(uid);
    }
    return this.chips.size;
  }
}

function statBlock(stat) {
  const div = el("div", "wl-stat");
  div.dataset.stat = stat.key;
  const dt = el("dt", "", stat.label);
  const dd = el("dd", "", stat.value);
  div.title = stat.title;
  div.append(dt, dd);
  return { div, dd };
}

function eventItem(ev) {
  const li = el("li", "wl-event");
  li.dataset.reason = ev.reason || "";
  li.dataset.type = ev.type || "Normal";
  const when = eventTime(ev);
  const time = el("time", "wl-ev-time", clockTime(when));
  time.title = clockDate(when);
  if (when) time.dateTime = when;
  const reason = el("span", "wl-ev-reason", `${ev.type === "Warning" ? "⚠ " : ""}${ev.reason || ""}`);
  const message = el("span", "wl-ev-message", ev.message || "");
  li.append(time, reason, message);
  if ((ev.count || 1) > 1) {
    const count = el("span", "badge count", `×${ev.count}`);
    count.title = `happened ${ev.count} times`;
    li.append(count);
  }
  return li;
}

// One of a CronJob's Jobs: name (opens it), status, completions, duration, and its pods.
class JobRow {
  constructor(job) {
    this.uid = job.metadata.uid;
    this.el = el("li", "wl-job");
    this.el.dataset.uid = this.uid;
    const head = el("div", "wl-job-head");
    this.open = el("button", "link wl-open", job.metadata.name);
    this.open.type = "button";
    Object.assign(this.open.dataset, { kind: "Job", namespace: job.metadata.namespace || "", name: job.metadata.name, uid: this.uid });
    this.open.title = `job ${job.metadata.name}: open its YAML and events`;
    this.stateEl = el("span", "wl-state");
    this.durationEl = el("span", "muted wl-duration");
    head.append(this.open, this.stateEl, this.durationEl);
    const list = el("ul", "pod-list wl-pod-list");
    list.setAttribute("aria-label", `Pods of job ${job.metadata.name}`);
    this.pods = new PodList(list);
    this.el.append(head, list);
  }

  update(job, pods, ctx) {
    const view = workloadView(job);
    setText(this.stateEl, view.state.text);
    this.stateEl.dataset.tone = view.state.tone;
    this.job = job;
    this.tick(ctx.now);
    this.pods.sync(pods, ctx);
  }

  tick(now) {
    const took = jobDuration(this.job, now);
    const done = Boolean(this.job?.status?.completionTime);
    setText(this.durationEl, took ? `${done ? "took" : "running"} ${took}` : "");
  }
}

class Card {
  constructor(obj, { actions, onScaled, apiBase, getNow }) {
    const uid = obj.metadata.uid;
    this.uid = uid;
    this.kind = obj.kind;
    this.sort = sortKey(obj);
    this.actions = actions;
    this.onScaled = onScaled;
    this.apiBase = apiBase;
    this.getNow = getNow;
    this.obj = obj;
    this.view = null;
    const meta = obj.metadata;
    const ref = `${qualifiedKind(obj.kind)}/${meta.name}`;
    const card = el("article", "wl-card");
    card.dataset.uid = uid;
    card.dataset.kind = obj.kind;
    card.dataset.name = meta.name;
    card.dataset.namespace = meta.namespace || "";
    const titleId = `wl-title-${uid}`;
    card.setAttribute("aria-labelledby", titleId);

    const head = el("header", "wl-head");
    const kind = el("span", "wl-kind", KIND_WORDS[obj.kind] || obj.kind);
    const title = el("h3", "wl-title");
    title.id = titleId;
    this.open = el("button", "wl-open wl-name");
    this.open.type = "button";
    Object.assign(this.open.dataset, { kind: obj.kind, namespace: meta.namespace || "", name: meta.name, uid });
    this.open.title = `${ref}: open its YAML and events`;
    this.nsEl = el("span", "wl-ns", meta.namespace || "");
    this.nsEl.title = "namespace";
    this.open.append(el("span", "visually-hidden", `${KIND_WORDS[obj.kind]} `), meta.name);
    title.append(this.open, this.nsEl);
    this.stateEl = el("p", "wl-state");
    head.append(kind, title, this.stateEl);

    this.statsEl = el("dl", "wl-stats");
    this.statEls = new Map();

    // Controls: scale (RC and RS) and delete.
    const controls = el("div", "wl-controls");
    if (isScalable(obj.kind)) {
      const group = el("div", "wl-scale");
      group.setAttribute("role", "group");
      group.setAttribute("aria-label", `Scale ${ref}`);
      const label = el("label", "wl-scale-label", "Replicas");
      const inputId = `wl-replicas-${uid}`;
      label.htmlFor = inputId;
      this.minus = el("button", "button wl-minus", "−");
      this.minus.type = "button";
      this.minus.setAttribute("aria-label", `One replica fewer for ${ref}`);
      this.input = el("input", "wl-replicas");
      Object.assign(this.input, { type: "number", min: "0", step: "1", id: inputId, inputMode: "numeric" });
      this.input.setAttribute("aria-describedby", `wl-scale-error-${uid}`);
      this.plus = el("button", "button wl-plus", "+");
      this.plus.type = "button";
      this.plus.setAttribute("aria-label", `One replica more for ${ref}`);
      group.append(label, this.minus, this.input, this.plus);
      controls.append(group);
      this.minus.addEventListener("click", () => this.step(-1));
      this.plus.addEventListener("click", () => this.step(1));
      this.input.addEventListener("keydown", (e) => {
        if (e.key === "Enter") {
          e.preventDefault();
          this.commit();
        } else if (e.key === "Escape" && this.input.value !== String(this.view?.replicas)) {
          e.preventDefault(); // put the count back rather than close a drawer
          e.stopPropagation();
          this.input.value = String(this.view?.replicas ?? "");
        }
      });
      this.input.addEventListener("change", () => this.commit());
      this.pending = 0; // scale requests in flight
      this.expected = null; // {replicas, rv}: asked for, not yet seen on the websocket
    }
    this.deleteButton = el("button", "button subtle danger wl-delete", "Delete…");
    this.deleteButton.type = "button";
    this.deleteButton.setAttribute("aria-label", `Delete ${ref}…`);
    this.deleteButton.title = `kubectl delete ${ref}: choose what happens to its dependents`;
    this.deleteButton.addEventListener("click", () => {
      this.actions.delete(obj.kind, meta.namespace || "", meta.name);
    });
    controls.append(this.deleteButton);
    this.errorEl = el("p", "wl-error");
    this.errorEl.id = `wl-scale-error-${uid}`;
    this.errorEl.setAttribute("role", "alert");
    this.errorEl.hidden = true;

    // Facts: selector, node selector, schedule, last and next run, duration.
    this.facts = el("dl", "wl-facts");
    this.factEls = new Map();

    const body = el("div", "wl-body");
    const top = el("div", "wl-top");
    top.append(this.statsEl, controls);
    body.append(top, this.errorEl, this.facts);

    // Pods (or, for a CronJob, its Jobs and their pods).
    const podsId = `wl-pods-${uid}`;
    const podsSection = el("section", "wl-pods");
    podsSection.setAttribute("aria-labelledby", podsId);
    const podsTitle = el("h4", "wl-sub");
    podsTitle.id = podsId;
    this.podsCount = el("span", "badge count", "0");
    if (obj.kind === "CronJob") {
      podsTitle.append("Jobs ", this.podsCount);
      this.jobsEl = el("ul", "wl-jobs");
      this.jobRows = new Map();
      podsSection.append(podsTitle, this.jobsEl);
    } else {
      podsTitle.append("Pods ", this.podsCount);
      const list = el("ul", "pod-list wl-pod-list");
      list.setAttribute("aria-label", `Pods of ${ref}`);
      this.pods = new PodList(list);
      podsSection.append(podsTitle, list);
    }
    this.podsEmpty = el("p", "wl-none");
    podsSection.append(this.podsEmpty);

    const eventsId = `wl-events-${uid}`;
    const events = el("section", "wl-events");
    events.setAttribute("aria-labelledby", eventsId);
    const eventsTitle = el("h4", "wl-sub", "Latest events");
    eventsTitle.id = eventsId;
    this.eventsEl = el("ol", "wl-event-list");
    this.eventsEmpty = el("p", "wl-none", "No events yet.");
    events.append(eventsTitle, this.eventsEl, this.eventsEmpty);
    this.eventsSignature = "";

    card.append(head, body, podsSection, events);
    this.el = card;
    this.next = null; // a CronJob's next run: {next, message, rv, asked}
  }

  fact(key, label) {
    let item = this.factEls.get(key);
    if (!item) {
      const div = el("div", "wl-fact");
      div.dataset.fact = key;
      const dt = el("dt", "", label);
      const dd = el("dd");
      div.append(dt, dd);
      this.facts.append(div);
      item = { div, dd };
      this.factEls.set(key, item);
    }
    return item.dd;
  }

  update(obj, ctx) {
    this.obj = obj;
    const view = workloadView(obj);
    const old = this.view;
    this.view = view;
    // Header line.
    setText(this.stateEl, view.state.text);
    if (this.stateEl.dataset.tone !== view.state.tone) this.stateEl.dataset.tone = view.state.tone;
    this.el.dataset.tone = view.state.tone;
    this.el.classList.toggle("is-deleting", view.deleting);
    // Stats, flashing the ones that changed.
    for (const stat of view.stats) {
      let item = this.statEls.get(stat.key);
      if (!item) {
        item = statBlock(stat);
        this.statEls.set(stat.key, item);
        this.statsEl.append(item.div);
      } else if (item.dd.textContent !== stat.value) {
        item.dd.textContent = stat.value;
        if (ctx.budget.n-- > 0) flash(item.div);
      }
    }
    // Controls.
    if (this.input) {
      // The count asked for stays shown until the websocket brings the object that has it.
      if (this.expected && Number(obj.metadata.resourceVersion) >= this.expected.rv) this.expected = null;
      if (document.activeElement !== this.input && !this.pending && !this.expected) {
        this.input.value = String(view.replicas);
      }
      this.minus.disabled = view.deleting || Number(this.input.value) <= 0;
      this.plus.disabled = view.deleting;
      this.input.disabled = view.deleting;
      this.titles();
    }
    this.deleteButton.disabled = view.deleting;
    // Facts.
    const selector = this.fact("selector", "Selector");
    if (!old || old.selector !== view.selector) {
      selector.replaceChildren(el("code", "", view.selector));
      selector.title = obj.kind === "ReplicationController" ? "spec.selector (a plain label map)"
        : obj.kind === "CronJob" ? "spec.jobTemplate.spec.selector" : "spec.selector, as kubectl get -o wide prints it";
    }
    if (obj.kind === "DaemonSet") {
      const nodes = this.fact("nodeSelector", "Node selector");
      if (!old || old.nodeSelector !== view.nodeSelector) nodes.replaceChildren(el("code", "", view.nodeSelector));
    }
    if (obj.kind === "CronJob") {
      const schedule = this.fact("schedule", "Schedule");
      if (!old || old.schedule !== view.schedule || old.timeZone !== view.timeZone) {
        schedule.replaceChildren(el("code", "", view.schedule));
        if (view.timeZone) schedule.append(el("span", "muted", ` (${view.timeZone})`));
      }
      this.fact("last", "Last schedule");
      this.fact("next", "Next run");
      if (this.next?.rv !== obj.metadata.resourceVersion) this.fetchNext();
    }
    if (obj.kind === "Job") this.fact("duration", "Duration");
    this.tick(ctx.now);
    this.renderEvents(ctx.events);
  }

  titles() {
    const n = Number(this.input.value);
    const { kind, name } = this.view;
    const ok = Number.isInteger(n);
    this.minus.title = ok ? scaleCommand(kind, name, Math.max(0, n - 1)) : "";
    this.plus.title = ok ? scaleCommand(kind, name, n + 1) : "";
    this.input.title = "Type a count and press Enter: kubectl scale --replicas=<count>";
  }

  // − and +: from the count shown (so quick presses add up), one patch each.
  step(delta) {
    const shown = Number(this.input.value);
    const base = Number.isInteger(shown) ? shown : this.view.replicas;
    const next = Math.max(0, base + delta);
    this.input.value = String(next);
    this.scale(next);
  }

  commit() {
    const text = this.input.value.trim();
    if (text === String(this.view.replicas)) return;
    // Sent as typed: a count the API refuses comes back in its own words.
    this.scale(text === "" ? "" : text);
  }

  async scale(replicas) {
    this.pending += 1;
    this.el.setAttribute("aria-busy", "true");
    this.minus.disabled = Number(replicas) <= 0;
    this.titles();
    try {
      const answer = await this.actions.scale(this.view.kind, this.view.namespace, this.view.name, replicas);
      this.expected = { replicas: answer.replicas, rv: Number(answer.resourceVersion) || 0 };
      this.errorEl.hidden = true;
      this.errorEl.textContent = "";
    } catch (err) {
      this.errorEl.textContent = `Could not scale: ${err.message}`;
      this.errorEl.hidden = false;
      this.input.value = String(this.view.replicas);
    } finally {
      this.pending -= 1;
      if (!this.pending) {
        this.el.removeAttribute("aria-busy");
        this.onScaled(this.uid);
      }
    }
  }

  renderEvents(events) {
    const shown = events.slice(0, EVENTS_SHOWN);
    const signature = `${events.length}:`
      + shown.map((e) => `${e.metadata.uid}:${e.metadata.resourceVersion}`).join(",");
    if (signature === this.eventsSignature) return;
    this.eventsSignature = signature;
    this.eventsEl.replaceChildren(...shown.map(eventItem));
    this.eventsEmpty.hidden = shown.length > 0;
    if (events.length > shown.length) {
      const more = el("li", "wl-more");
      const link = el("button", "link wl-open", `${events.length - shown.length} earlier event${events.length - shown.length === 1 ? "" : "s"} in its panel`);
      link.type = "button";
      Object.assign(link.dataset, this.open.dataset);
      more.append(link);
      this.eventsEl.append(more);
    }
  }

  setPods(pods, ctx) {
    const n = this.pods.sync(pods, ctx);
    setText(this.podsCount, String(n));
    this.podsCount.setAttribute("aria-label", `${n} pod${n === 1 ? "" : "s"}`);
    this.podsEmpty.hidden = n > 0;
    if (!n) setText(this.podsEmpty, this.kind === "DaemonSet" ? "No pods: no node matches yet." : "No pods.");
  }

  setJobs(jobs, podsOf, ctx) {
    const shown = jobs.slice(0, JOBS_SHOWN);
    const keep = new Set();
    let cursor = this.jobsEl.firstElementChild;
    for (const job of shown) {
      const uid = job.metadata.uid;
      keep.add(uid);
      let row = this.jobRows.get(uid);
      if (!row) {
        row = new JobRow(job);
        this.jobRows.set(uid, row);
        if (ctx.budget.n-- > 0) flash(row.el);
      }
      row.update(job, podsOf(uid), ctx);
      if (row.el !== cursor) this.jobsEl.insertBefore(row.el, cursor);
      else cursor = cursor.nextElementSibling;
    }
    for (const [uid, row] of this.jobRows) {
      if (keep.has(uid)) continue;
      row.el.remove();
      this.jobRows.delete(uid);
    }
    setText(this.podsCount, String(jobs.length));
    this.podsCount.setAttribute("aria-label", `${jobs.length} job${jobs.length === 1 ? "" : "s"}`);
    this.podsEmpty.hidden = jobs.length > 0;
    if (!jobs.length) setText(this.podsEmpty, "No jobs yet: the first starts at its next run.");
  }

  // What depends on the clock: a Job's duration, a CronJob's last and next run.
  tick(now) {
    if (!this.view) return;
    if (this.kind === "Job") setText(this.fact("duration", "Duration"), jobDuration(this.obj, now) || "not started");
    if (this.kind !== "CronJob") return;
    for (const row of this.jobRows.values()) row.tick(now);
    setText(this.fact("last", "Last schedule"), agoText(this.view.lastSchedule, now));
    const dd = this.fact("next", "Next run");
    const next = this.next;
    let text;
    let state = "";
    if (!next || next.loading) text = "…";
    else if (next.error) {
      text = next.error;
      state = "unknown";
    } else if (!next.next) {
      text = this.view.state.text === "Suspended" ? "none while suspended" : (next.message || "none");
      state = "none";
    } else {
      const left = secondsBetween(now, next.next);
      if (left === null) text = clockTime(next.next);
      else if (left > 0) text = `${clockTime(next.next)} · in ${countdown(left)}`;
      else {
        text = `${clockTime(next.next)} · due now`;
        state = "due";
        if (Date.now() - next.asked > REFETCH_AFTER) this.fetchNext();
      }
    }
    setText(dd, text);
    if (dd.dataset.state !== state) dd.dataset.state = state;
  }

  // GET .../cronjobs/<ns>/<name>/next: when the controller will start the next Job. Asked
  // again when the CronJob changes, and when the moment passes without a change.
  async fetchNext() {
    const rv = this.obj.metadata.resourceVersion;
    const asked = Date.now();
    this.next = { ...(this.next || {}), rv, asked, loading: !this.next || this.next.loading };
    const { namespace, name } = this.obj.metadata;
    const url = `${this.apiBase}/workloads/${resourceOf("CronJob")}/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}/next`;
    try {
      const answer = await getJSON(url);
      if (this.next.asked !== asked) return; // a newer question is out
      this.next = { rv, asked, next: answer.next, message: answer.message || "" };
    } catch (err) {
      if (this.next.asked !== asked) return;
      this.next = { rv, asked, error: err.status === 501 ? "not available yet" : `unknown (${err.message})` };
    }
    this.tick(this.getNow());
  }
}

export class WorkloadsView {
  constructor({ listEl, emptyEl, emptyTextEl, summaryEl, countEl, filter, store, viewOf, nodeState,
    actions, apiBase, focusFallback }) {
    this.listEl = listEl;
    this.emptyEl = emptyEl;
    this.emptyTextEl = emptyTextEl;
    this.summaryEl = summaryEl;
    this.countEl = countEl;
    this.filter = filter;
    this.store = store;
    this.viewOf = viewOf;
    this.nodeState = nodeState;
    this.actions = actions;
    this.apiBase = apiBase;
    this.cards = new Map(); // controller uid -> Card
    this.children = new Map(); // owner uid -> uids of its pods and jobs
    this.eventsOf = new Map(); // object uid -> uids of its events
    this.dirty = new Set();
    this.visible = false;
    this.stale = true;
    this.now = "";
    this.focusFallback = focusFallback; // where focus goes when the last card goes
  }

  setVisible(visible) {
    this.visible = visible;
    if (visible) this.stale ? this.sync() : this.flush();
  }

  // Keep the indexes (always: cheap), note what changed, draw it if shown.
  render(batch, flags) {
    if (flags.snapshot) this.reindex();
    let counted = Boolean(flags.snapshot);
    for (const [uid, change] of batch) {
      const { kind, object, previous } = change;
      if (!flags.snapshot) this.index(uid, kind, object, previous);
      if (isWorkload(kind)) {
        counted = true;
        this.dirty.add(uid);
        // A CronJob's card shows its Jobs.
        if (kind === "Job") for (const o of [object, previous]) if (o) this.dirty.add(controllerUid(o));
      } else if (kind === "Pod") {
        for (const o of [object, previous]) if (o) this.markOwner(controllerUid(o));
      } else if (kind === "Event") {
        for (const o of [object, previous]) if (o?.involvedObject?.uid) this.dirty.add(o.involvedObject.uid);
      } else if (kind === "Node") {
        for (const id of this.cards.keys()) this.dirty.add(id); // chips say when their node is not Ready
      }
    }
    if (counted) this.updateCount();
    if (!this.visible) {
      // Caught up from the store when shown: nothing piles up meanwhile.
      if (flags.snapshot || this.dirty.size) this.stale = true;
      this.dirty.clear();
      return;
    }
    if (flags.snapshot || this.stale) this.sync();
    else this.flush(FLASH_BUDGET);
  }

  // A pod's owner, and the owner's owner when it is a CronJob's Job.
  markOwner(uid) {
    if (!uid) return;
    this.dirty.add(uid);
    const owner = this.store.get(uid);
    if (owner?.kind === "Job") {
      const up = controllerUid(owner);
      if (up) this.dirty.add(up);
    }
  }

  index(uid, kind, object, previous) {
    if (kind === "Pod" || kind === "Job") {
      const before = previous ? controllerUid(previous) : "";
      const after = object ? controllerUid(object) : "";
      if (before !== after || !object) track(this.children, before, uid, false);
      if (object) track(this.children, after, uid, true);
    } else if (kind === "Event") {
      const before = previous?.involvedObject?.uid || "";
      const after = object?.involvedObject?.uid || "";
      if (before !== after || !object) track(this.eventsOf, before, uid, false);
      if (object) track(this.eventsOf, after, uid, true);
    }
  }

  reindex() {
    this.children.clear();
    this.eventsOf.clear();
    for (const [uid, obj] of this.store.objects) this.index(uid, obj.kind, obj, null);
  }

  // Top-level cards: every controller shown but a CronJob's Jobs (they sit in its card).
  isTopLevel(obj) {
    if (!isWorkload(obj.kind) || !this.filter.shows(obj.metadata?.namespace || "")) return false;
    if (obj.kind !== "Job") return true;
    const owner = this.store.get(controllerUid(obj));
    return owner?.kind !== "CronJob";
  }

  updateCount() {
    let n = 0;
    for (const kind of WORKLOAD_KINDS) for (const obj of this.store.ofKind(kind)) if (this.isTopLevel(obj)) n += 1;
    this.count = n;
    setText(this.countEl, n ? String(n) : "");
  }

  // Everything from the store: on show, after a snapshot or a new namespace. Cards are kept.
  sync() {
    this.stale = false;
    this.dirty.clear();
    const seen = new Set();
    for (const kind of WORKLOAD_KINDS) {
      for (const obj of this.store.ofKind(kind)) {
        if (!this.isTopLevel(obj)) continue;
        seen.add(obj.metadata.uid);
        this.dirty.add(obj.metadata.uid);
      }
    }
    for (const uid of this.cards.keys()) if (!seen.has(uid)) this.dirty.add(uid);
    this.flush(0);
  }

  flush(budget = 0) {
    if (!this.dirty.size) {
      this.summarize();
      return;
    }
    const ctx = this.context(budget);
    const dirty = this.dirty;
    this.dirty = new Set();
    for (const uid of dirty) {
      const obj = this.store.get(uid);
      const card = this.cards.get(uid);
      if (!obj || !this.isTopLevel(obj)) {
        if (card) this.removeCard(card);
        continue;
      }
      this.place(obj, ctx);
    }
    this.summarize();
  }

  // A card going away with the keyboard inside it (its Delete button) hands focus on: to the
  // next card's name, or the previous one's, or the tab itself.
  removeCard(card) {
    const focused = card.el.contains(document.activeElement);
    const next = card.el.nextElementSibling || card.el.previousElementSibling;
    card.el.remove();
    this.cards.delete(card.uid);
    if (focused) (next?.querySelector(".wl-name") || this.focusFallback)?.focus();
  }

  context(budget) {
    return {
      viewOf: this.viewOf,
      nodeState: this.nodeState,
      filter: this.filter,
      now: this.now,
      apiBase: this.apiBase,
      budget: { n: budget },
      events: [],
    };
  }

  place(obj, ctx) {
    const uid = obj.metadata.uid;
    let card = this.cards.get(uid);
    if (!card) {
      card = new Card(obj, {
        actions: this.actions, apiBase: this.apiBase, getNow: () => this.now,
        onScaled: (id) => this.refresh(id),
      });
      this.cards.set(uid, card);
      let before = null;
      for (const other of this.cards.values()) {
        if (other !== card && compareCards(card.sort, other.sort) < 0
            && (!before || compareCards(other.sort, before.sort) < 0)) before = other;
      }
      this.listEl.insertBefore(card.el, before ? before.el : null);
    }
    ctx.events = this.eventsFor(uid);
    card.update(obj, ctx);
    if (obj.kind === "CronJob") {
      const jobs = this.objectsOf(uid, "Job").sort((a, b) => compareNames(
        b.metadata.creationTimestamp || "", a.metadata.creationTimestamp || "") || compareNames(b.metadata.name, a.metadata.name));
      card.setJobs(jobs, (jobUid) => this.objectsOf(jobUid, "Pod"), ctx);
    } else {
      card.setPods(this.objectsOf(uid, "Pod"), ctx);
    }
  }

  // After a scale request settles, the card shows the stored count again.
  refresh(uid) {
    this.dirty.add(uid);
    if (this.visible) this.flush();
  }

  objectsOf(ownerUid, kind) {
    const out = [];
    for (const uid of this.children.get(ownerUid) || []) {
      const obj = this.store.get(uid);
      if (obj?.kind === kind) out.push(obj);
    }
    return out; // a lane keeps its chips in name order
  }

  eventsFor(uid) {
    const out = [];
    for (const id of this.eventsOf.get(uid) || []) {
      const ev = this.store.get(id);
      if (ev) out.push(ev);
    }
    return out.sort(eventOrder);
  }

  summarize() {
    const n = this.cards.size;
    const where = this.filter.namespace ? `namespace ${this.filter.namespace}` : "all namespaces";
    let pods = 0;
    for (const card of this.cards.values()) {
      if (card.pods) pods += card.pods.chips.size;
      else for (const row of card.jobRows.values()) pods += row.pods.chips.size;
    }
    setText(this.summaryEl, n
      ? `${n} controller${n === 1 ? "" : "s"} in ${where}, owning ${pods} pod${pods === 1 ? "" : "s"}`
      : "");
    this.emptyEl.hidden = n > 0;
    if (!n) setText(this.emptyTextEl, `No controller in ${where} yet.`);
  }

  // The live clock: countdowns, durations and "ago" move with simulated time.
  tick(now) {
    if (!now || now === this.now) return;
    this.now = now;
    if (!this.visible) return;
    for (const card of this.cards.values()) {
      if (card.kind === "CronJob" || card.kind === "Job") card.tick(now);
    }
  }

  // A new namespace rebuilds from the store; a new selector only relights chips.
  applyFilter() {
    this.updateCount();
    if (!this.visible) {
      this.stale = true;
      return;
    }
    this.sync();
  }

  // A pod asked to be deleted: its chip turns Terminating at once (viewOf knows).
  markDeleting(uid, pod) {
    if (!pod) return;
    this.markOwner(controllerUid(pod));
    if (this.visible) this.flush();
  }
}
