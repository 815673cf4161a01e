"""labelSelector on every list of the REST core: the full `kubectl -l` language."""

import pytest

from cluster import store
from tests.builders import make_pod

PODS = "/clusters/test/api/v1/namespaces/default/pods"

LABELS = {
    "prod-web": {"env": "prod", "app": "web"},
    "devel-web": {"env": "devel", "app": "web"},
    "qa-pc": {"env": "qa", "app": "pc"},
    "bare": {},
}


@pytest.fixture
def labelled(cluster):
    for name, labels in LABELS.items():
        store.create(cluster, make_pod(name, labels=labels or None))
    return cluster


@pytest.mark.parametrize("selector,names", [
    ("env in (prod,devel)", ["devel-web", "prod-web"]),
    ("env notin (prod,devel)", ["bare", "qa-pc"]),      # notin also matches a missing key
    ("!env", ["bare"]),
    ("env", ["devel-web", "prod-web", "qa-pc"]),
    ("app=pc", ["qa-pc"]),
    ("app!=web", ["bare", "qa-pc"]),
    ("app==web,env=prod", ["prod-web"]),
    ("", ["bare", "devel-web", "prod-web", "qa-pc"]),
])
def test_label_selectors_select_as_kubernetes_does(client, labelled, selector, names):
    response = client.get(PODS, {"labelSelector": selector})
    assert response.status_code == 200
    assert sorted(p["metadata"]["name"] for p in response.json()["items"]) == names


def test_a_bad_selector_is_a_400_with_kubernetes_wording(client, labelled):
    response = client.get(PODS, {"labelSelector": "env in (prod"})
    assert response.status_code == 400
    body = response.json()
    assert body["reason"] == "BadRequest"
    assert body["message"].startswith("unable to parse requirement") or "expected" in body["message"]


def test_an_unsupported_field_is_a_400(client, labelled):
    response = client.get(PODS, {"fieldSelector": "spec.containers=x"})
    assert response.status_code == 400
    assert response.json()["message"] == "field label not supported: spec.containers"


def test_prefixed_keys_and_numeric_bounds_select_correctly(client, cluster):
    store.create(cluster, make_pod("a", labels={"app.kubernetes.io/name": "web", "tier": "3"}))
    store.create(cluster, make_pod("b", labels={"app.kubernetes.io/name": "db", "tier": "10"}))
    store.create(cluster, make_pod("c", labels={"app.kubernetes.io/name": "web.v2"}))

    def names(selector):
        items = client.get(PODS, {"labelSelector": selector}).json()["items"]
        return sorted(p["metadata"]["name"] for p in items)

    assert names("app.kubernetes.io/name=web") == ["a"]
    assert names("app.kubernetes.io/name in (web,web.v2)") == ["a", "c"]
    assert names("app.kubernetes.io/name!=web") == ["b", "c"]
    assert names("tier>5") == ["b"]
    assert names("tier<5") == ["a"]
    assert names("!tier") == ["c"]
