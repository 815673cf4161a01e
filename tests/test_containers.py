"""Restart decisions and back-off, as kubelet 1.32 makes them (pure, no database)."""

import pytest

from cluster.containers import (
    Backoff, crash_loop_message, decide_restart, format_duration, pod_phase, should_restart,
)


@pytest.mark.parametrize("policy,code,restarts", [
    ("Always", 0, True), ("Always", 1, True), ("OnFailure", 0, False), ("OnFailure", 2, True),
    ("Never", 0, False), ("Never", 1, False)])
def test_restart_policy_decides_which_exits_restart(policy, code, restarts):
    assert should_restart(policy, code) is restarts


def crash_times(run_seconds, crashes):
    """Restart times of a container that crashes `run_seconds` after each start."""
    backoff, now, restarts = Backoff(), 0.0, []
    for _ in range(crashes):
        finished = now + run_seconds
        decision = decide_restart("Always", 1, finished, backoff)
        restarts.append(decision.at - finished)
        backoff, now = decision.backoff, decision.at
    return restarts


def test_the_first_crash_restarts_at_once_then_back_off_doubles_to_five_minutes():
    assert crash_times(1, 8) == [0, 9, 19, 39, 79, 159, 299, 299]


def test_waiting_for_a_restart_shows_crash_loop_back_off():
    first = decide_restart("Always", 1, 5.0, Backoff())
    second = decide_restart("Always", 1, 6.0, first.backoff)
    assert first.waiting_reason is None and second.waiting_reason == "CrashLoopBackOff"
    assert second.at == 15.0


def test_ten_quiet_minutes_reset_the_back_off():
    backoff = Backoff(160.0, 1000.0)
    decision = decide_restart("Always", 1, 1000.0 + 601, backoff)
    assert decision.at == 1601.0 and decision.backoff == Backoff(10.0, 1601.0)


def test_the_crash_loop_message_reads_as_the_kubelets():
    assert crash_loop_message("kubia", "kubia-x", "default", "u-1", 20) == \
        "back-off 20s restarting failed container=kubia pod=kubia-x_default(u-1)"
    assert format_duration(300) == "5m0s" and format_duration(80) == "1m20s"


@pytest.mark.parametrize("policy,containers,phase", [
    ("Always", [("waiting", None, False)], "Pending"),
    ("Always", [("running", None, False)], "Running"),
    ("Always", [("terminated", 1, True)], "Running"),
    ("Never", [("terminated", 0, False)], "Succeeded"),
    ("Never", [("terminated", 1, False)], "Failed"),
    ("Never", [("terminated", 0, False), ("running", None, False)], "Running"),
    ("OnFailure", [("terminated", 0, False), ("terminated", 0, False)], "Succeeded"),
])
def test_pod_phase_follows_its_containers(policy, containers, phase):
    assert pod_phase(policy, containers) == phase
