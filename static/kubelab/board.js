// The board page: wires the live store to its views and the controls to the server.

import { ApplyPanel } from "./apply.js";
import { BoardView } from "./boardview.js";
import { ownerHighlight } from "./chips.js";
import { ClockControls } from "./clock.js";
import { EventsView, sortedEvents } from "./events.js";
import { PodFilter } from "./filter.js";
import { NamespacePicker, SelectorBox } from "./filterbar.js";
import { deleteObject } from "./http.js";
import { LabelsView } from "./labelsview.js";
import { LiveConnection, ObjectStore } from "./live.js";
import { NodeActions, NodeMenu, dialogConfirm } from "./nodeactions.js";
import { DetailPanel } from "./panel.js";
import { ServicesView } from "./servicesview.js";
import { TrafficPanel } from "./traffic.js";
import { readState, writeState } from "./urlstate.js";
import { WorkloadActions } from "./workloadactions.js";
import { WorkloadsView } from "./workloadsview.js";

const root = document.getElementById("board-root");
const cluster = root.dataset.cluster;
const apiBase = root.dataset.apiBase;
const $ = (id) => document.getElementById(id);

// A short message in the tab bar: what just happened, or what went wrong.
const noticeEl = $("notice");
let noticeTimer = 0;
function notify(text, kind = "info") {
  noticeEl.textContent = text;
  noticeEl.title = text; // a long one is cut short on the line
  noticeEl.dataset.kind = kind;
  noticeEl.hidden = false;
  clearTimeout(noticeTimer);
  noticeTimer = setTimeout(() => { noticeEl.hidden = true; }, kind === "error" ? 10000 : 4000);
}

const initial = readState();
const store = new ObjectStore();
// Which pods every view shows (one namespace or all) and highlights (the selector box).
const filter = new PodFilter();
filter.namespace = initial.ns;
const board = new BoardView({
  nodesEl: $("nodes"),
  loadingEl: $("nodes-loading"),
  pendingSection: $("pending-lane"),
  pendingList: $("pending-list"),
  pendingCount: $("pending-count"),
  filter,
  tailEl: $("add-node-col"),
});
const labels = new LabelsView({
  select: $("label-key"),
  groupsEl: $("label-groups"),
  summaryEl: $("labels-summary"),
  emptyEl: $("labels-empty"),
  filter,
  store,
  viewOf: (uid, pod) => board.viewOf(uid, pod),
  initialKey: initial.key,
  onKey: (key) => writeState({ key }),
  onSelect: (text) => selector.set(text),
});
// The readiness of a node by name, as its column shows it ("" for no node, "Gone" once deleted).
const nodeState = (name) => (name ? board.columns.get(name)?.view?.readiness || "Gone" : "");
const workloads = new WorkloadsView({
  listEl: $("workloads-list"),
  emptyEl: $("workloads-empty"),
  emptyTextEl: $("workloads-empty-text"),
  summaryEl: $("workloads-summary"),
  countEl: $("workloads-count"),
  filter,
  store,
  viewOf: (uid, pod) => board.viewOf(uid, pod),
  nodeState,
  apiBase,
  actions: new WorkloadActions({ apiBase, notify, dialog: $("delete-dialog") }),
  focusFallback: $("tab-workloads"),
});
// The Services tab and its traffic panel: the panel offers the Services the view lists.
const services = new ServicesView({
  listEl: $("services-list"),
  emptyEl: $("services-empty"),
  summaryEl: $("services-summary"),
  countEl: $("services-count"),
  filter,
  store,
  onServices: (list) => traffic.setServices(list), // called only once the page is wired
});
const traffic = new TrafficPanel($("traffic-panel"), { postBase: apiBase, services, notify });
// Hovering or focusing a chip's owner tag ("rs/kubia") lights up that owner's other pods.
ownerHighlight($("view-board"), () => board.chips.values());
ownerHighlight($("label-groups"), () => labels.chips.values());
const strip = new EventsView($("events-strip"), 50);
const allEvents = new EventsView($("events-all"), 500);
allEvents.visible = false;
// Node controls: the ⋯ menu on each column, the node panel's buttons, and Add node.
const nodeActions = new NodeActions({
  apiBase, notify, store, confirm: dialogConfirm($("confirm-dialog")),
});
const nodeMenu = new NodeMenu($("node-menu"), {
  actions: nodeActions,
  nodeOf: (name) => board.columns.get(name)?.node,
});
nodeMenu.attach($("nodes"));
$("add-node").addEventListener("click", async (e) => {
  const button = e.currentTarget;
  button.disabled = true;
  reveal = await nodeActions.add();
  button.disabled = false;
});
// A node just added: bring its column into view when it arrives (columns are in name order).
let reveal = "";
function revealColumn() {
  const column = reveal && board.columns.get(reveal);
  if (!column) return;
  reveal = "";
  column.el.scrollIntoView({ block: "nearest", inline: "nearest" });
}
const panel = new DetailPanel($("detail-panel"), {
  apiBase, actions: nodeActions, lookup: (uid) => store.get(uid),
});
const clock = new ClockControls(root, { apiBase, notify });
const applyPanel = new ApplyPanel($("apply-panel"), {
  openButton: $("apply-open"), notify, examplesMenu: $("examples-menu"),
  examples: JSON.parse($("examples-data").textContent),
});
$("workloads-apply").addEventListener("click", (e) => applyPanel.open(e.currentTarget));

// Events in the namespace shown, as `kubectl get events -n <namespace>` lists them.
function shownEvents() {
  const events = sortedEvents(store);
  return filter.namespace ? events.filter((ev) => filter.shows(ev.metadata?.namespace || "")) : events;
}

// The filter bar: a new namespace or selector toggles a class or attribute per chip in each
// view; the page-wide classes say whether chips show their namespace and whether to dim.
function filterChanged() {
  document.body.classList.toggle("is-selecting", filter.selecting);
  document.body.dataset.nsScope = filter.namespace ? "one" : "all";
  board.applyFilter();
  labels.applyFilter();
  workloads.applyFilter();
  services.applyFilter();
  updateCount();
}

function updateCount() {
  selector.showCount(filter.selecting ? filter.count(store.ofKind("Pod")) : null);
}

const namespaces = new NamespacePicker($("ns-filter"), {
  initial: initial.ns,
  onChange: (ns) => {
    filter.namespace = ns;
    writeState({ ns });
    filterChanged();
    strip.render(shownEvents());
    allEvents.render(shownEvents());
  },
});
const selector = new SelectorBox($("filterbar"), {
  apiBase,
  initial: initial.l,
  onChange: ({ text, predicate }) => {
    filter.predicate = predicate;
    filter.text = text;
    writeState({ l: text.trim() ? text : "" });
    filterChanged();
  },
});
filterChanged();
selector.run();

// A lesson beside the board re-checks its steps when the cluster changes (lesson.js).
store.subscribe(() => document.dispatchEvent(new CustomEvent("kubelab:changed")));
store.subscribe((batch, flags) => {
  board.render(batch, flags);
  revealColumn();
  labels.render(batch, flags);
  workloads.render(batch, flags);
  services.render(batch, flags);
  let eventsChanged = flags.snapshot;
  let podsChanged = flags.snapshot;
  let namespacesChanged = flags.snapshot;
  for (const change of batch.values()) {
    if (change.kind === "Event") eventsChanged = true;
    else if (change.kind === "Pod") podsChanged = true;
    else if (change.kind === "Namespace") namespacesChanged = true;
  }
  if (namespacesChanged) namespaces.update([...store.ofKind("Namespace")]);
  if (podsChanged && filter.selecting) updateCount();
  if (eventsChanged) {
    const events = shownEvents();
    strip.render(events);
    allEvents.render(events);
  }
  panel.follow(batch);
});

// Clicks on chips, node headers and event objects: one listener for the whole page.
function openObject(target, opener) {
  panel.open(target, opener);
}

async function deletePod(uid, button) {
  const pod = store.get(uid);
  if (!pod) return;
  const { namespace, name } = pod.metadata;
  board.markDeleting(uid, pod, true);
  labels.markDeleting(uid, pod);
  workloads.markDeleting(uid, pod);
  try {
    await deleteObject(`${apiBase}/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(name)}`);
    notify(`pod "${name}" deleted`);
  } catch (err) {
    board.markDeleting(uid, store.get(uid), false);
    labels.markDeleting(uid, store.get(uid));
    workloads.markDeleting(uid, store.get(uid));
    notify(`Could not delete pod ${name}: ${err.message}`, "error");
    if (button.isConnected) button.focus();
  }
}

$("main").addEventListener("click", (e) => {
  const del = e.target.closest(".chip-delete");
  if (del) {
    deletePod(del.closest(".chip").dataset.uid, del);
    return;
  }
  // A chip's owner tag, a controller's name in the Workloads tab, a CronJob's job.
  const owned = e.target.closest(".chip-owner, .wl-open");
  if (owned) {
    const { kind, namespace, name, uid } = owned.dataset;
    openObject({ kind, namespace, name, uid }, owned);
    return;
  }
  const chip = e.target.closest(".chip");
  if (chip) {
    const pod = store.get(chip.dataset.uid);
    if (pod) {
      openObject({ kind: "Pod", namespace: pod.metadata.namespace, name: pod.metadata.name,
        uid: chip.dataset.uid }, chip.querySelector(".chip-open"));
    }
    return;
  }
  const head = e.target.closest(".node-head");
  if (head) {
    const column = board.columns.get(head.dataset.node);
    openObject({ kind: "Node", namespace: "", name: head.dataset.node,
      uid: column?.node?.metadata?.uid }, head);
    return;
  }
  const ev = e.target.closest(".ev-open");
  if (ev) {
    const { kind, namespace, name } = ev.dataset;
    let uid;
    for (const obj of store.ofKind(kind)) {
      if (obj.metadata.name === name && (obj.metadata.namespace || "") === namespace) {
        uid = obj.metadata.uid;
        break;
      }
    }
    openObject({ kind, namespace, name, uid }, ev);
  }
});

// Tabs: Board, Labels, Workloads and Events (arrow keys move between them, as the ARIA tabs pattern has
// it). The view is the address's #fragment; the board has none.
const tabs = [...document.querySelectorAll("[role=tab]")];
function selectTab(tab, focus = false) {
  for (const t of tabs) {
    const selected = t === tab;
    t.setAttribute("aria-selected", String(selected));
    t.tabIndex = selected ? 0 : -1;
    $(t.getAttribute("aria-controls")).hidden = !selected;
  }
  allEvents.setVisible(tab.id === "tab-events", () => shownEvents());
  strip.setVisible(tab.id === "tab-board", () => shownEvents());
  labels.setVisible(tab.id === "tab-labels");
  workloads.setVisible(tab.id === "tab-workloads");
  services.setVisible(tab.id === "tab-services");
  if (focus) tab.focus();
  writeState({ view: tab.id === "tab-board" ? "" : tab.id.slice("tab-".length) });
}
for (const tab of tabs) {
  tab.addEventListener("click", () => selectTab(tab));
  tab.addEventListener("keydown", (e) => {
    const i = tabs.indexOf(tab);
    const next = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: tabs.length - 1 }[e.key];
    if (next === undefined) return;
    e.preventDefault();
    selectTab(tabs[(next + tabs.length) % tabs.length], true);
  });
}
{
  const tab = initial.view ? $(`tab-${initial.view}`) : null;
  if (tab?.getAttribute("role") === "tab") selectTab(tab);
}

// "/" jumps to the selector box, as in many search boxes, unless the user is typing.
document.addEventListener("keydown", (e) => {
  if (e.key !== "/" || e.ctrlKey || e.metaKey || e.altKey || e.defaultPrevented) return;
  if (e.target.closest?.("input, textarea, select, [contenteditable]")) return;
  e.preventDefault();
  selector.input.focus();
  selector.input.select();
});

$("cluster-switch").addEventListener("change", (e) => {
  if (e.target.value) location.assign(e.target.value);
});

const conn = $("conn");
const connection = new LiveConnection(`/ws/clusters/${encodeURIComponent(cluster)}/`, {
  store,
  onClock: (c) => {
    clock.update(c);
    workloads.tick(clock.clock?.status?.now);
  },
  onState: (state, wait) => {
    conn.dataset.state = state;
    conn.textContent = {
      connecting: "connecting…",
      syncing: "syncing…",
      live: "live",
      reconnecting: `reconnecting in ${Math.round(wait / 1000) || 1} s…`,
      gone: "this cluster no longer exists",
    }[state];
  },
});
connection.connect();

// For the browser tests and the curious: the board's state, read-only by convention.
window.kubelab = { store, board, labels, workloads, services, traffic, filter, connection };
