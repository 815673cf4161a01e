"""Lesson checks: predicates on objects, events and changes, written as data (lessons/checks.py)."""

import pytest

from cluster import kinds, store
from lessons.checks import CheckError, compile_check, parse_path, values_at
from tests.builders import make_pod

POD = {"metadata": {"name": "kubia"},
       "status": {"phase": "Running",
                  "conditions": [{"type": "PodScheduled", "status": "True"},
                                 {"type": "Ready", "status": "False"}],
                  "containerStatuses": [{"name": "a", "restartCount": 0},
                                        {"name": "b", "restartCount": 2}]}}


@pytest.mark.parametrize("path,values", [
    ("status.phase", ["Running"]),
    ("status.conditions[type=Ready].status", ["False"]),
    ("status.containerStatuses[1].restartCount", [2]),
    ("status.containerStatuses[*].restartCount", [0, 2]),
    ("status.containerStatuses[5].restartCount", []),
    ("spec.nodeName", []),
])
def test_a_field_path_reaches_every_value_it_names(path, values):
    assert values_at(POD, parse_path(path)) == values


def test_a_path_that_cannot_be_read_is_refused():
    with pytest.raises(CheckError, match=r"\[x y\]"):
        parse_path("status.conditions[x y]")


def _holds(spec, obj=POD):
    check = compile_check({"exists": {"kind": "Pod", "where": spec}})
    return all(c.holds(obj) for c in check.selection.where)


@pytest.mark.parametrize("spec,expected", [
    ({"status.phase": "Running"}, True),
    ({"status.phase": {"not": "Running"}}, False),
    ({"status.phase": {"in": ["Pending", "Running"]}}, True),
    ({"status.containerStatuses[*].restartCount": {"min": 1}}, True),
    ({"status.containerStatuses[*].restartCount": {"min": 3}}, False),
    ({"status.containerStatuses[0].restartCount": {"max": 0}}, True),
    ({"status.conditions[type=Ready].status": False}, True),       # YAML false, Kubernetes "False"
    ({"spec.nodeName": {"exists": False}}, True),
    ({"spec.nodeName": {"not": "node-2"}}, True),                  # absent is not node-2
    ({"status.conditions": {"length_min": 2}}, True),
    ({"metadata.name": {"contains": "ubi"}}, True),
])
def test_conditions(spec, expected):
    assert _holds(spec) is expected


@pytest.mark.parametrize("spec,where", [
    ({"exist": {"kind": "Pod"}}, "check"),
    ({"count": {"kind": "Pod"}}, "check.count"),
    ({"count": {"kind": "Pod", "min": -1}}, "check.count.min"),
    ({"exists": {"kind": "Pod", "size": 1}}, "check.exists.size"),
    ({"event": {"reason": "Killing", "type": "Error"}}, "check.event.type"),
    ({"change": {"type": "REMOVED", "kind": "Pod"}}, "check.change.type"),
    ({"all": []}, "check.all"),
    ({"any": [{"exists": {"kind": "Pod"}}, {"exists": {}}]}, "check.any[1].exists.kind"),
])
def test_a_wrong_check_names_the_field(spec, where):
    with pytest.raises(CheckError) as caught:
        compile_check(spec)
    assert caught.value.path == where


def test_count_and_selector_against_the_store(cluster, clock):
    for i in range(3):
        store.create(cluster, make_pod(f"kubia-{i}", labels={"app": "kubia"}))
    store.create(cluster, make_pod("other", labels={"app": "other"}))
    running = compile_check({"count": {"kind": "Pod", "selector": "app=kubia",
                                       "where": {"status.phase": "Running"}, "min": 3}})
    assert not running.holds(cluster, 0)
    clock.run(10)
    assert running.holds(cluster, 0)
    assert compile_check({"count": {"kind": "Pod", "selector": "app in (kubia,other)",
                                    "max": 4, "min": 4}}).holds(cluster, 0)
    assert compile_check({"absent": {"kind": "Pod", "namespace": "kube-system"}}).holds(cluster, 0)


def test_events_and_changes_count_only_after_since(cluster, clock):
    store.create(cluster, make_pod("kubia", labels={"app": "kubia"}))
    clock.run(5)
    since = store.current_rv(cluster)
    scheduled = compile_check({"event": {"reason": "Scheduled", "kind": "Pod", "name": "kubia"}})
    deleted = compile_check({"change": {"type": "DELETED", "kind": "Pod", "selector": "app=kubia"}})
    assert scheduled.holds(cluster, 0) and not scheduled.holds(cluster, since)
    assert not deleted.holds(cluster, since)
    store.delete(cluster, kinds.get("Pod"), "default", "kubia", grace_period=0)
    clock.run(2)
    assert deleted.holds(cluster, since)
    assert compile_check({"not": {"exists": {"kind": "Pod", "name": "kubia"}}}).holds(cluster, since)


def test_terminating_objects_count_only_when_asked(cluster, clock):
    store.create(cluster, make_pod("kubia"))
    clock.run(5)
    store.delete(cluster, kinds.get("Pod"), "default", "kubia", grace_period=30)
    assert store.get(cluster, kinds.get("Pod"), "default", "kubia")["metadata"]["deletionTimestamp"]
    assert not compile_check({"exists": {"kind": "Pod", "name": "kubia"}}).holds(cluster, 0)
    assert compile_check({"exists": {"kind": "Pod", "name": "kubia", "terminating": True}}).holds(
        cluster, 0)
