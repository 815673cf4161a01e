"""Who hears of a write: the change notice goes to every listener after commit, and a write
from outside the reconciler also wakes the in-process reconciler (publish.on_outside_write),
so controllers react to it at once; the reconciler's own writes do not wake it."""

import pytest
from django.db import transaction

from cluster import bootstrap, engine, publish, store
from tests.builders import make_pod

# Real commits: the notices are sent from on-commit callbacks.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def heard():
    names = []
    remove = publish.on_outside_write(names.append)
    yield names
    remove()


def test_an_outside_write_wakes_the_reconciler_and_its_own_ticks_do_not(heard):
    cluster = bootstrap.create_cluster("lab", 1)
    heard.clear()                      # creating the cluster wrote its namespaces and node
    store.create(cluster, make_pod("web"))
    assert heard == ["lab"]
    engine.tick(cluster, 1)            # schedules and starts the pod: the reconciler's own
    engine.tick(cluster, 1)
    assert heard == ["lab"]
    store.delete(cluster, store.kind_or_404("Pod"), "default", "web")
    assert heard == ["lab", "lab"]


def test_one_transaction_wakes_once_and_a_rolled_back_one_not_at_all(heard):
    cluster = bootstrap.create_cluster("lab", 1)
    heard.clear()
    with transaction.atomic():
        store.create(cluster, make_pod("a"))
        store.create(cluster, make_pod("b"))
    assert heard == ["lab"]
    try:
        with transaction.atomic():
            store.create(cluster, make_pod("c"))
            raise RuntimeError("undo")
    except RuntimeError:
        pass
    assert heard == ["lab"]
