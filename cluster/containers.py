"""A container's restarts as the kubelet decides them: pure functions over plain data.

The kubelet keeps, per container, its restart count and back-off; this module says, for a
container that has just exited, whether it restarts and when, and what the status shows
meanwhile. Kubernetes' rules (kubelet 1.32, pod-lifecycle docs):

- restartPolicy Always restarts every exit; OnFailure only a non-zero exit; Never none.
- The first crash restarts at once; then the kubelet backs off 10 s, doubling each time up to
  5 minutes, showing CrashLoopBackOff while it waits.
- A container that ran 10 minutes without trouble starts over from the first back-off.
"""

from dataclasses import dataclass

INITIAL_BACKOFF = 10.0
MAX_BACKOFF = 300.0
# flowcontrol.Backoff forgets an entry idle for twice the maximum: 10 minutes.
BACKOFF_RESET = 2 * MAX_BACKOFF


@dataclass(frozen=True)
class Backoff:
    """The kubelet's back-off entry for one container: its period and when it last grew."""

    period: float = 0.0          # 0: no entry yet (the next crash restarts at once)
    updated_at: float | None = None

    def as_dict(self):
        return {"period": self.period, "updatedAt": self.updated_at}

    @classmethod
    def from_dict(cls, data):
        data = data or {}
        return cls(data.get("period", 0.0), data.get("updatedAt"))


@dataclass(frozen=True)
class RestartDecision:
    restart: bool
    at: float | None             # simulated time of the restart (None: never)
    backoff: Backoff
    waiting_reason: str | None   # CrashLoopBackOff while waiting; None if restarting now
    period: float = 0.0          # the back-off being waited out (for the waiting message)


def should_restart(policy, exit_code):
    """Does `restartPolicy` restart a container that exited with `exit_code`?"""
    if policy == "Always":
        return True
    if policy == "OnFailure":
        return exit_code != 0
    return False


def decide_restart(policy, exit_code, finished_at, backoff):
    """What the kubelet does after a container exits at `finished_at` (seconds). Pure."""
    if not should_restart(policy, exit_code):
        return RestartDecision(False, None, backoff, None)
    if backoff.updated_at is None or finished_at - backoff.updated_at > BACKOFF_RESET:
        # No back-off yet (or it was forgotten after 10 quiet minutes): restart at once, and
        # the next crash waits the initial period.
        return RestartDecision(True, finished_at, Backoff(INITIAL_BACKOFF, finished_at), None)
    restart_at = backoff.updated_at + backoff.period
    if finished_at >= restart_at:
        # It ran past its back-off: restart now, and the period doubles for next time.
        grown = Backoff(min(backoff.period * 2, MAX_BACKOFF), finished_at)
        return RestartDecision(True, finished_at, grown, None)
    grown = Backoff(min(backoff.period * 2, MAX_BACKOFF), restart_at)
    return RestartDecision(True, restart_at, grown, "CrashLoopBackOff", backoff.period)


def crash_loop_message(container, pod_name, namespace, uid, period):
    """The waiting message the kubelet shows, e.g. 'back-off 20s restarting failed ...'."""
    return (f"back-off {format_duration(period)} restarting failed container={container} "
            f"pod={pod_name}_{namespace}({uid})")


def format_duration(seconds):
    """Go's time.Duration.String for whole seconds: 10s, 1m20s, 5m0s."""
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds}s"
    minutes, secs = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{secs}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes}m{secs}s"


def pod_phase(policy, containers):
    """The pod phase from its containers' states, as the kubelet's getPhase computes it.

    `containers` is a list of (state, exit_code, will_restart) with state one of waiting,
    running, terminated.
    """
    running = waiting = succeeded = failed = 0
    for state, exit_code, will_restart in containers:
        if state == "running":
            running += 1
        elif state == "terminated":
            if will_restart:
                running += 1        # Always/OnFailure: it will run again; the pod is Running
            elif exit_code == 0:
                succeeded += 1
            else:
                failed += 1
        else:
            waiting += 1
    if waiting:
        return "Pending" if not running and not succeeded and not failed else "Running"
    if running:
        return "Running"
    if failed:
        return "Failed"
    return "Succeeded"
