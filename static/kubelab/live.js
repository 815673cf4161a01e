// The board's copy of the cluster: objects by uid, kept current by the websocket.
//
// Changes are applied to the Map as they arrive, but views hear of them at most once per
// animation frame, as one batch (uid -> {kind, object, previous}), so a burst of a thousand
// changes costs one render.

const EVENT_LIMIT = 500; // the board shows recent events, not a cluster's whole history

export class ObjectStore {
  constructor() {
    this.objects = new Map();
    this.events = new Set(); // uids of Events, oldest first, to forget the oldest beyond the limit
    this.pending = new Map();
    this.listeners = new Set();
    this.frame = 0;
    this.resourceVersion = null;
    this.generation = 0; // bumped on each snapshot: views can tell a reload from a change
  }

  subscribe(listener) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get(uid) {
    return this.objects.get(uid);
  }

  *ofKind(kind) {
    for (const obj of this.objects.values()) if (obj.kind === kind) yield obj;
  }

  snapshot(objects, resourceVersion) {
    const seen = new Set();
    this.generation += 1;
    for (const obj of objects) {
      const uid = obj.metadata?.uid;
      if (!uid) continue;
      seen.add(uid);
      this.put(uid, obj);
    }
    for (const [uid, obj] of this.objects) {
      if (!seen.has(uid)) this.remove(uid, obj);
    }
    this.resourceVersion = resourceVersion;
    this.schedule({ snapshot: true });
  }

  changes(events, resourceVersion) {
    for (const { type, object } of events) {
      const uid = object?.metadata?.uid;
      if (!uid) continue;
      if (type === "DELETED") this.remove(uid, object);
      else this.put(uid, object);
    }
    this.resourceVersion = resourceVersion;
    this.schedule({});
  }

  put(uid, obj) {
    const previous = this.objects.get(uid);
    // The same resourceVersion is the same object: a snapshot after a reconnect repeats most.
    if (previous && previous.metadata?.resourceVersion === obj.metadata?.resourceVersion
        && previous.metadata?.resourceVersion !== undefined) return;
    this.objects.set(uid, obj);
    this.mark(uid, obj.kind, obj, previous);
    if (obj.kind === "Event") {
      this.events.delete(uid);
      this.events.add(uid);
      if (this.events.size > EVENT_LIMIT) {
        const oldest = this.events.values().next().value;
        this.forget(oldest);
      }
    }
  }

  remove(uid, obj) {
    const previous = this.objects.get(uid);
    if (!previous) return;
    this.objects.delete(uid);
    this.events.delete(uid);
    this.mark(uid, previous.kind || obj?.kind, null, previous);
  }

  // Dropped from the board's memory only (old events), not deleted in the cluster.
  forget(uid) {
    const previous = this.objects.get(uid);
    this.objects.delete(uid);
    this.events.delete(uid);
    if (previous) this.mark(uid, previous.kind, null, previous);
  }

  mark(uid, kind, object, previous) {
    const earlier = this.pending.get(uid);
    this.pending.set(uid, { kind, object, previous: earlier ? earlier.previous : previous });
  }

  schedule(flags) {
    this.flags = { ...this.flags, ...flags };
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => this.flush());
  }

  flush() {
    this.frame = 0;
    const batch = this.pending;
    const flags = this.flags || {};
    this.pending = new Map();
    this.flags = {};
    for (const listener of this.listeners) {
      try {
        listener(batch, flags);
      } catch (err) {
        console.error("kubelab: a view failed to render", err);
      }
    }
  }
}

// The websocket: snapshot, then changes; on close, reconnect with back-off, resuming from the
// last resourceVersion seen so the server sends only what was missed.
export class LiveConnection {
  constructor(path, { store, onClock, onState }) {
    this.path = path;
    this.store = store;
    this.onClock = onClock;
    this.onState = onState;
    this.delay = 500;
    this.timer = 0;
    this.socket = null;
    this.stopped = false;
  }

  url() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const rv = this.store.resourceVersion;
    const query = rv ? `?resourceVersion=${encodeURIComponent(rv)}` : "";
    return `${scheme}://${location.host}${this.path}${query}`;
  }

  connect() {
    clearTimeout(this.timer);
    this.onState("connecting");
    const socket = new WebSocket(this.url());
    this.socket = socket;
    socket.addEventListener("open", () => this.onState("syncing"));
    let synced = false;
    socket.addEventListener("message", (e) => {
      const type = this.receive(e.data);
      // "live" once the first snapshot or catch-up is in; and back-off resets only then, so a
      // server that accepts and then drops the connection is not hammered every half second.
      if (!synced && (type === "snapshot" || type === "changes")) {
        synced = true;
        this.delay = 500;
        this.onState("live");
      }
    });
    socket.addEventListener("close", (e) => {
      if (this.socket !== socket || this.stopped) return;
      if (e.code === 4404) {
        this.onState("gone");
        return;
      }
      const wait = this.delay;
      this.delay = Math.min(this.delay * 2, 15000);
      this.onState("reconnecting", wait);
      this.timer = setTimeout(() => this.connect(), wait);
    });
  }

  receive(data) {
    let message;
    try {
      message = JSON.parse(data);
    } catch {
      return null;
    }
    if (message.type === "snapshot") {
      this.store.snapshot(message.objects || [], message.resourceVersion);
      if (message.clock) this.onClock(message.clock);
    } else if (message.type === "changes") {
      this.store.changes(message.events || [], message.resourceVersion);
    } else if (message.type === "clock") {
      this.onClock(message.clock);
    }
    return message.type;
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    this.socket?.close();
  }
}
