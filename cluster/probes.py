"""Liveness, readiness and startup probes, as the kubelet's prober runs them (1.32).

Each probe of a running container has its own schedule and counters, kept in the runtime's
Container row: the first run `initialDelaySeconds` after the container started, then one every
`periodSeconds`; `failureThreshold` failures in a row make it fail, `successThreshold`
successes in a row make it succeed. A liveness failure kills the container (it restarts per
restartPolicy); a readiness failure only makes it not Ready. Messages are the kubelet's.
"""

KINDS = (("startupProbe", "Startup"), ("livenessProbe", "Liveness"), ("readinessProbe", "Readiness"))


def first_run(anchor, period, earliest):
    """The first tick of a probe's ticker (anchor + k * period) at or after `earliest`."""
    if earliest <= anchor:
        return anchor
    ticks = -(-(earliest - anchor) // period)     # ceiling division
    return anchor + ticks * period


def next_tick(previous, period, now):
    """The ticker's first tick after `now`, on the grid `previous` + k * period."""
    return previous + period * (int((now - previous) // period) + 1)


def schedule(spec, row, started, anchor):
    """Set the first run of each probe the container has.

    The kubelet's prober ticks every periodSeconds from when it took the pod (`anchor`, the
    pod's startTime), skipping ticks before initialDelaySeconds have passed since the container
    started. A restarted container keeps its pod's ticker."""
    probes = {}
    for kind, _label in KINDS:
        if spec.get(kind):
            period = spec[kind].get("periodSeconds") or 10
            earliest = started + (spec[kind].get("initialDelaySeconds") or 0)
            probes[kind] = {"next": first_run(anchor, period, earliest), "failures": 0,
                            "successes": 0}
    row.data["probes"] = probes
    # Ready only once a readiness probe has succeeded; with none, at once.
    row.data["ready"] = not spec.get("readinessProbe")


def next_due(row):
    times = [p["next"] for p in (row.data.get("probes") or {}).values() if p["next"] is not None]
    return min(times) if times else None


def resolve_port(spec, port):
    """A probe's port: a number, or the name of one of the container's ports."""
    if isinstance(port, int):
        return port
    for declared in spec.get("ports") or []:
        if declared.get("name") == port:
            return declared.get("containerPort")
    return None


def run(pod_runtime, spec, probe, t):
    """(succeeded, failure message) of one run of `probe` against the container."""
    pod_ip = pod_runtime.pod["status"].get("podIP") or ""
    if "httpGet" in probe:
        get = probe["httpGet"]
        port, path = resolve_port(spec, get.get("port")), get.get("path") or "/"
        url = f"{(get.get('scheme') or 'HTTP').lower()}://{pod_ip}:{port}{path}"
        try:
            reply = pod_runtime.http(port, path, node_side_ip(pod_runtime), t,
                                     agent="kube-probe/1.32")
        except ConnectionRefusedError:
            return False, f'Get "{url}": dial tcp {pod_ip}:{port}: connect: connection refused'
        if 200 <= reply.status < 400:
            return True, ""
        return False, f"HTTP probe failed with statuscode: {reply.status}"
    if "tcpSocket" in probe:
        port = resolve_port(spec, probe["tcpSocket"].get("port"))
        try:
            pod_runtime.http(port, "/", node_side_ip(pod_runtime), t, agent="kube-probe/1.32")
            return True, ""
        except ConnectionRefusedError:
            return False, f"dial tcp {pod_ip}:{port}: connect: connection refused"
    if "exec" in probe:
        argv = probe["exec"].get("command") or []
        timeout = probe.get("timeoutSeconds") or 1
        code, out, err = pod_runtime.exec(spec, argv, t, limit=timeout)
        if code is None:
            return False, f"command {shell_words(argv)} timed out"
        if code == 0:
            return True, ""
        return False, "\n".join(out + err)
    return False, "probe has no handler"


def node_side_ip(pod_runtime):
    """Probes come from the node: the kubelet connects from the node's pod bridge (.1)."""
    ip = pod_runtime.pod["status"].get("podIP") or "10.244.0.2"
    return ip.rsplit(".", 1)[0] + ".1"


def shell_words(argv):
    return "'" + " ".join(argv) + "'"


def record(state, ok, probe):
    """Count a result; return "failed" / "succeeded" when a threshold is crossed, else None."""
    if ok:
        state["failures"] = 0
        state["successes"] += 1
        if state["successes"] >= (probe.get("successThreshold") or 1):
            return "succeeded"
        return None
    state["successes"] = 0
    state["failures"] += 1
    if state["failures"] >= (probe.get("failureThreshold") or 3):
        return "failed"
    return None

