"""The garbage collector and delete propagation: dependents follow their owner as
propagationPolicy says (Background, Foreground, Orphan), as in Kubernetes 1.32.

Any object may own another; these tests use pods owning pods so they need no controller.
"""

from cluster import kinds, store
from cluster.controllers.owned import owner_reference
from cluster.models import ApiObject
from tests.builders import make_pod

POD = kinds.get("Pod")


def create(cluster, manifest):
    return store.create(cluster, manifest).object


def owned_by(owner, name, block=True):
    pod = make_pod(name)
    ref = owner_reference(owner)
    ref["blockOwnerDeletion"] = block
    pod["metadata"]["ownerReferences"] = [ref]
    return pod


def exists(cluster, name):
    return ApiObject.objects.filter(cluster=cluster, kind="Pod", name=name).exists()


def body(cluster, name):
    return store.get(cluster, POD, "default", name)


def test_background_deletion_removes_dependents_after_the_owner(cluster, clock):
    owner = create(cluster, make_pod("owner"))
    create(cluster, owned_by(owner, "child"))
    store.delete(cluster, POD, "default", "owner", propagation="Background")
    assert not exists(cluster, "owner")     # unscheduled: goes at once
    assert exists(cluster, "child")          # until the collector runs
    clock.tick(1)
    assert not exists(cluster, "child")


def test_a_dependent_with_another_live_owner_only_loses_the_dangling_reference(cluster, clock):
    first = create(cluster, make_pod("first"))
    second = create(cluster, make_pod("second"))
    child = owned_by(first, "child")
    other = owner_reference(second)
    other["controller"] = False
    child["metadata"]["ownerReferences"].append(other)
    create(cluster, child)
    store.delete(cluster, POD, "default", "first")
    clock.tick(1)
    refs = body(cluster, "child")["metadata"]["ownerReferences"]
    assert [r["name"] for r in refs] == ["second"]


def test_orphan_propagation_releases_dependents_then_lets_the_owner_go(cluster, clock):
    owner = create(cluster, make_pod("owner"))
    create(cluster, owned_by(owner, "child"))
    store.delete(cluster, POD, "default", "owner", propagation="Orphan")
    held = body(cluster, "owner")
    assert held["metadata"]["finalizers"] == ["orphan"]
    assert held["metadata"]["deletionTimestamp"]
    clock.tick(1)
    assert "ownerReferences" not in body(cluster, "child")["metadata"]
    assert not exists(cluster, "owner")
    clock.tick(1)
    assert exists(cluster, "child")          # lives on, unmanaged


def test_foreground_propagation_keeps_the_owner_until_blocking_dependents_are_gone(cluster, clock):
    owner = create(cluster, make_pod("owner"))
    create(cluster, owned_by(owner, "child"))
    store.delete(cluster, POD, "default", "owner", propagation="Foreground")
    assert body(cluster, "owner")["metadata"]["finalizers"] == ["foregroundDeletion"]
    clock.tick(1)
    # The child (scheduled and started by now, or gone at once if not) is deleted first...
    assert not exists(cluster, "child") or body(cluster, "child")["metadata"].get(
        "deletionTimestamp")
    clock.run(40)
    # ...and then the owner goes too.
    assert not exists(cluster, "child")
    assert not exists(cluster, "owner")


def test_foreground_does_not_wait_for_dependents_that_do_not_block(cluster, clock):
    owner = create(cluster, make_pod("owner"))
    create(cluster, owned_by(owner, "child", block=False))
    store.delete(cluster, POD, "default", "owner", propagation="Foreground")
    clock.tick(1)
    assert not exists(cluster, "owner")


def test_events_about_an_object_are_not_its_dependents(cluster, clock):
    owner = create(cluster, make_pod("owner"))
    store.record_event(cluster, owner, "Normal", "Testing", "an event about the owner",
                       component="test")
    store.delete(cluster, POD, "default", "owner")
    clock.tick(1)
    assert ApiObject.objects.filter(cluster=cluster, kind="Event", body__reason="Testing").exists()

