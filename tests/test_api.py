"""The REST core: Kubernetes-shaped URLs, verbs, options and Status errors, over Django's
test client against a cluster on a manual clock."""

import json

import pytest
from django.test import Client

from tests.builders import make_namespace, make_node, make_pod

BASE = "/clusters/test"
PODS = f"{BASE}/api/v1/namespaces/default/pods"
NODES = f"{BASE}/api/v1/nodes"
NAMESPACES = f"{BASE}/api/v1/namespaces"
CLOCK = f"{BASE}/apis/kubelab.io/v1/clocks/cluster"
JSON = "application/json"
MERGE = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"
STRATEGIC = "application/strategic-merge-patch+json"
APPLY = "application/apply-patch+yaml"


def call(client, method, url, body=None, content_type=JSON):
    data = body if isinstance(body, (str, bytes)) or body is None else json.dumps(body)
    return client.generic(method, url, data or "", content_type=content_type)


def post(client, url, body, **kw):
    return call(client, "POST", url, body, **kw)


def put(client, url, body, **kw):
    return call(client, "PUT", url, body, **kw)


def patch(client, url, body, content_type=MERGE):
    return call(client, "PATCH", url, body, content_type)


def delete(client, url, body=None):
    return call(client, "DELETE", url, body)


def warnings_of(response):
    return [value for name, value in response.items() if name == "Warning"]


def assert_status(response, code, reason, message=None):
    assert response.status_code == code, response.content
    assert response["Content-Type"] == JSON
    body = response.json()
    assert body["kind"] == "Status" and body["apiVersion"] == "v1"
    assert body["status"] == "Failure"
    assert body["code"] == code and body["reason"] == reason
    if message is not None:
        assert body["message"] == message
    return body


def create_pod(client, name="web", **kw):
    response = post(client, PODS, make_pod(name, **kw))
    assert response.status_code == 201, response.content
    return response.json()


def running_pod(client, clock, name="web"):
    create_pod(client, name)
    clock.tick(1)            # scheduled and admitted
    clock.tick(3)            # containers started
    pod = client.get(f"{PODS}/{name}").json()
    assert pod["status"]["phase"] == "Running"
    return pod


# ---------------------------------------------------------------------------------------------
# Pods: create, get, list, update


def test_create_pod_returns_201_with_server_fields(client, cluster):
    response = post(client, PODS, make_pod("web"))
    assert response.status_code == 201
    pod = response.json()
    meta = pod["metadata"]
    assert pod["apiVersion"] == "v1" and pod["kind"] == "Pod"
    assert meta["namespace"] == "default"
    assert meta["uid"] and meta["resourceVersion"].isdigit()
    assert meta["creationTimestamp"] == "2026-01-01T12:00:00Z"
    assert pod["status"]["phase"] == "Pending"
    assert pod["spec"]["restartPolicy"] == "Always"       # defaulted


def test_get_pod_returns_the_stored_object(client, cluster):
    created = create_pod(client)
    response = client.get(f"{PODS}/web")
    assert response.status_code == 200
    assert response["Content-Type"] == JSON
    assert response.json() == created


def test_list_shape_and_resource_version(client, cluster):
    first = create_pod(client, "a")
    second = create_pod(client, "b")
    response = client.get(PODS)
    assert response.status_code == 200
    listing = response.json()
    assert listing["kind"] == "PodList" and listing["apiVersion"] == "v1"
    rv = listing["metadata"]["resourceVersion"]
    assert isinstance(rv, str) and int(rv) >= int(second["metadata"]["resourceVersion"])
    assert [p["metadata"]["name"] for p in listing["items"]] == ["a", "b"]
    for item in listing["items"]:
        assert item["apiVersion"] == "v1" and item["kind"] == "Pod"
    assert listing["items"][0]["metadata"]["uid"] == first["metadata"]["uid"]


def test_list_across_namespaces(client, cluster):
    post(client, NAMESPACES, make_namespace("team"))
    create_pod(client, "a")
    post(client, f"{NAMESPACES}/team/pods", make_pod("b"))
    everywhere = client.get(f"{BASE}/api/v1/pods").json()
    assert {(p["metadata"]["namespace"], p["metadata"]["name"]) for p in everywhere["items"]} \
        == {("default", "a"), ("team", "b")}
    only_team = client.get(f"{NAMESPACES}/team/pods").json()
    assert [p["metadata"]["name"] for p in only_team["items"]] == ["b"]


def test_list_in_an_empty_namespace_is_an_empty_list(client, cluster):
    listing = client.get(f"{NAMESPACES}/kube-public/pods").json()
    assert listing["kind"] == "PodList" and listing["items"] == []


def test_put_updates_the_object(client, cluster):
    pod = create_pod(client)
    pod["metadata"]["labels"] = {"app": "web"}
    response = put(client, f"{PODS}/web", pod)
    assert response.status_code == 200
    updated = response.json()
    assert updated["metadata"]["labels"] == {"app": "web"}
    assert int(updated["metadata"]["resourceVersion"]) > int(pod["metadata"]["resourceVersion"])


def test_body_without_apiversion_and_kind_takes_the_urls(client, cluster):
    body = make_pod("bare")
    del body["apiVersion"], body["kind"]
    response = post(client, PODS, body)
    assert response.status_code == 201
    assert response.json()["kind"] == "Pod"


def test_body_of_another_kind_is_refused(client, cluster):
    assert_status(post(client, PODS, make_node("node-9")), 400, "BadRequest")


def test_post_accepts_yaml(client, cluster):
    text = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: from-yaml\nspec:\n  containers:\n" \
           "  - name: c\n    image: nginx\n"
    response = post(client, PODS, text, content_type="application/yaml")
    assert response.status_code == 201, response.content
    assert response.json()["metadata"]["name"] == "from-yaml"


def test_views_need_no_csrf_token(cluster):
    strict = Client(enforce_csrf_checks=True)
    response = post(strict, PODS, make_pod("web"))
    assert response.status_code == 201


# ---------------------------------------------------------------------------------------------
# Nodes, namespaces, events


def test_node_crud(client, cluster):
    response = post(client, NODES, make_node("node-4", labels={"disk": "ssd"}))
    assert response.status_code == 201
    node = response.json()
    assert "namespace" not in node["metadata"]
    assert client.get(f"{NODES}/node-4").json()["metadata"]["labels"] == {"disk": "ssd"}
    listing = client.get(NODES).json()
    assert listing["kind"] == "NodeList"
    assert [n["metadata"]["name"] for n in listing["items"]] == \
        ["node-1", "node-2", "node-3", "node-4"]
    node["metadata"]["labels"]["disk"] = "hdd"
    assert put(client, f"{NODES}/node-4", node).json()["metadata"]["labels"]["disk"] == "hdd"
    response = delete(client, f"{NODES}/node-4")
    assert response.status_code == 200
    assert response.json()["metadata"]["name"] == "node-4"
    assert_status(client.get(f"{NODES}/node-4"), 404, "NotFound", 'nodes "node-4" not found')


def test_namespace_crud(client, cluster):
    response = post(client, NAMESPACES, make_namespace("team"))
    assert response.status_code == 201
    ns = response.json()
    assert ns["status"]["phase"] == "Active"
    assert client.get(f"{NAMESPACES}/team").json()["metadata"]["uid"] == ns["metadata"]["uid"]
    names = [n["metadata"]["name"] for n in client.get(NAMESPACES).json()["items"]]
    assert "team" in names and "default" in names
    response = delete(client, f"{NAMESPACES}/team")
    assert response.status_code == 200
    assert response.json()["status"]["phase"] == "Terminating"
    assert response.json()["metadata"]["deletionTimestamp"]


def test_namespaces_status_is_the_namespace_subresource(client, cluster):
    response = client.get(f"{NAMESPACES}/default/status")
    assert response.status_code == 200
    assert response.json()["kind"] == "Namespace"


def test_events_list_and_get(client, clock):
    create_pod(client)
    clock.tick(1)
    listing = client.get(f"{NAMESPACES}/default/events").json()
    assert listing["kind"] == "EventList"
    scheduled = [e for e in listing["items"] if e["reason"] == "Scheduled"]
    assert len(scheduled) == 1
    assert scheduled[0]["involvedObject"]["name"] == "web"
    name = scheduled[0]["metadata"]["name"]
    response = client.get(f"{NAMESPACES}/default/events/{name}")
    assert response.status_code == 200 and response.json()["reason"] == "Scheduled"


def test_event_create_and_delete(client, cluster):
    event = {"apiVersion": "v1", "kind": "Event", "metadata": {"name": "hello.1"},
             "involvedObject": {"kind": "Pod", "name": "web", "namespace": "default"},
             "reason": "Greeting", "message": "hello", "type": "Normal"}
    response = post(client, f"{NAMESPACES}/default/events", event)
    assert response.status_code == 201
    assert delete(client, f"{NAMESPACES}/default/events/hello.1").status_code == 200
    assert client.get(f"{NAMESPACES}/default/events/hello.1").status_code == 404


# ---------------------------------------------------------------------------------------------
# Errors as metav1.Status


def test_not_found(client, cluster):
    body = assert_status(client.get(f"{PODS}/nope"), 404, "NotFound", 'pods "nope" not found')
    assert body["details"] == {"name": "nope", "kind": "pods"}


def test_already_exists(client, cluster):
    create_pod(client)
    assert_status(post(client, PODS, make_pod("web")), 409, "AlreadyExists",
                  'pods "web" already exists')


def test_conflict_on_stale_resource_version(client, cluster):
    pod = create_pod(client)
    fresh = dict(pod, metadata={**pod["metadata"], "labels": {"v": "1"}})
    assert put(client, f"{PODS}/web", fresh).status_code == 200
    stale = dict(pod, metadata={**pod["metadata"], "labels": {"v": "2"}})
    assert_status(put(client, f"{PODS}/web", stale), 409, "Conflict",
                  'Operation cannot be fulfilled on pods "web": the object has been modified; '
                  "please apply your changes to the latest version and try again")


def test_invalid_pod_has_causes_with_field(client, cluster):
    body = assert_status(post(client, PODS, make_pod("web", image="")), 422, "Invalid")
    assert body["details"]["kind"] == "Pod" and body["details"]["name"] == "web"
    fields = [c["field"] for c in body["details"]["causes"]]
    assert "spec.containers[0].image" in fields
    assert body["message"].startswith('Pod "web" is invalid: ')


def test_strict_field_validation_refuses_unknown_fields(client, cluster):
    pod = make_pod("web")
    pod["spec"]["contianers"] = []
    response = post(client, f"{PODS}?fieldValidation=Strict", pod)
    body = assert_status(response, 400, "BadRequest")
    # The API server's words, then kubelab's hint.
    assert body["message"] == ('Pod in version "v1" cannot be handled as a Pod: strict decoding '
                               'error: unknown field "spec.contianers" (kubelab hint: did you '
                               'mean "containers"?)')
    assert client.get(f"{PODS}/web").status_code == 404


def test_default_field_validation_is_warn_prunes_and_warns(client, cluster):
    pod = make_pod("web")
    pod["spec"]["foo"] = 1
    response = post(client, PODS, pod)
    assert response.status_code == 201
    assert "foo" not in response.json()["spec"]
    assert warnings_of(response) == ['299 - "unknown field \\"spec.foo\\""']


def test_ignore_field_validation_prunes_silently(client, cluster):
    pod = make_pod("web")
    pod["spec"]["foo"] = 1
    response = post(client, f"{PODS}?fieldValidation=Ignore", pod)
    assert response.status_code == 201
    assert "foo" not in response.json()["spec"] and warnings_of(response) == []


def test_unknown_field_validation_value_is_invalid(client, cluster):
    body = assert_status(post(client, f"{PODS}?fieldValidation=strict", make_pod("web")), 422,
                         "Invalid")
    assert body["details"]["causes"][0]["field"] == "fieldValidation"


def test_malformed_json_is_a_bad_request(client, cluster):
    body = assert_status(post(client, PODS, '{"apiVersion": "v1", "kind": '), 400, "BadRequest")
    assert "not valid JSON" in body["message"] and "line 1" in body["message"]


@pytest.mark.parametrize("text", ["", "[1, 2]", "NaN", '"a string"', "\xff"])
def test_bodies_that_are_not_objects_are_bad_requests(client, cluster, text):
    assert_status(post(client, PODS, text.encode("latin-1")), 400, "BadRequest")


def test_malformed_patch_is_a_bad_request(client, cluster):
    create_pod(client)
    assert_status(patch(client, f"{PODS}/web", "{nope"), 400, "BadRequest")


def test_unsupported_content_type_is_415(client, cluster):
    response = post(client, PODS, "x", content_type="text/plain")
    assert_status(response, 415, "UnsupportedMediaType")
    create_pod(client)
    assert_status(patch(client, f"{PODS}/web", "{}", content_type=JSON), 415,
                  "UnsupportedMediaType")


def test_body_over_3_mib_is_413(client, cluster):
    pod = make_pod("web")
    pod["metadata"]["annotations"] = {"big": "x" * (3 * 1024 * 1024)}
    assert_status(post(client, PODS, pod), 413, "RequestEntityTooLarge")


def test_unknown_cluster_is_404(client, cluster):
    body = assert_status(client.get("/clusters/nope/api/v1/namespaces/default/pods"), 404,
                         "NotFound")
    assert "nope" in body["message"]


@pytest.mark.parametrize("url", [
    f"{BASE}/api/v1/widgets",
    f"{BASE}/api/v2/pods",                              # not a served version
    f"{BASE}/apis/apps/v1/pods",                        # pods are in the core group
    f"{BASE}/api/v1/pods/web",                          # a pod needs its namespace
    f"{BASE}/api/v1/namespaces/default/nodes",          # nodes are cluster-scoped
    f"{BASE}/api/v1/namespaces/default/pods/web/exec/x",
    f"{BASE}/api/v1/namespaces/default/pods/web/bogus",
    f"{BASE}/api/v1/namespaces/default/events/e/status",   # events have no status
    f"{BASE}/apis/apps/v1/namespaces/default/widgets",
])
def test_unknown_resource_is_a_404_status(client, cluster, url):
    assert_status(client.get(url), 404, "NotFound",
                  "the server could not find the requested resource")


@pytest.mark.parametrize("method,url", [
    ("POST", f"{PODS}/web"),
    ("PUT", PODS),
    ("PATCH", PODS),
    ("POST", f"{BASE}/api/v1/pods"),                     # all namespaces: list only
    ("POST", f"{BASE}/apis/kubelab.io/v1/clocks"),       # the clock is never created
    ("DELETE", CLOCK),                                   # ...nor deleted
    ("OPTIONS", PODS),
    ("DELETE", f"{PODS}/web/status"),
])
def test_unsupported_method_is_405(client, cluster, method, url):
    assert_status(call(client, method, url, "{}"), 405, "MethodNotAllowed")


def test_namespace_in_body_must_match_the_url(client, cluster):
    assert_status(post(client, PODS, make_pod("web", namespace="kube-system")), 400,
                  "BadRequest")


def test_name_in_body_must_match_the_url(client, cluster):
    pod = create_pod(client)
    pod["metadata"]["name"] = "other"
    assert_status(put(client, f"{PODS}/web", pod), 400, "BadRequest")


def test_create_in_missing_namespace_is_404(client, cluster):
    assert_status(post(client, f"{NAMESPACES}/nope/pods", make_pod("web")), 404, "NotFound",
                  'namespaces "nope" not found')


def test_deleting_default_namespace_is_forbidden(client, cluster):
    assert_status(delete(client, f"{NAMESPACES}/default"), 403, "Forbidden")
    assert client.get(f"{NAMESPACES}/default").json()["status"]["phase"] == "Active"


# ---------------------------------------------------------------------------------------------
# Patch


def test_merge_patch_adds_and_removes_labels(client, cluster):
    create_pod(client, labels={"app": "web", "tier": "front"})
    response = patch(client, f"{PODS}/web",
                     {"metadata": {"labels": {"env": "prod", "tier": None}}})
    assert response.status_code == 200
    assert response.json()["metadata"]["labels"] == {"app": "web", "env": "prod"}
    assert client.get(f"{PODS}/web").json()["metadata"]["labels"] == {"app": "web", "env": "prod"}


def test_json_patch_of_labels(client, cluster):
    create_pod(client, labels={"app": "web"})
    ops = [{"op": "add", "path": "/metadata/labels/env", "value": "prod"},
           {"op": "remove", "path": "/metadata/labels/app"}]
    response = patch(client, f"{PODS}/web", ops, content_type=JSON_PATCH)
    assert response.status_code == 200
    assert response.json()["metadata"]["labels"] == {"env": "prod"}


def test_json_patch_that_does_not_apply_is_refused(client, cluster):
    create_pod(client)
    ops = [{"op": "remove", "path": "/metadata/labels/nope"}]
    assert patch(client, f"{PODS}/web", ops, content_type=JSON_PATCH).status_code == 422


def test_strategic_merge_patch_merges_labels(client, cluster):
    create_pod(client, labels={"app": "web"})
    response = patch(client, f"{PODS}/web", {"metadata": {"labels": {"tier": "backend"}}},
                     content_type=STRATEGIC)
    assert response.json()["metadata"]["labels"] == {"app": "web", "tier": "backend"}


def test_patch_of_missing_object_is_404(client, cluster):
    assert_status(patch(client, f"{PODS}/nope", {"metadata": {"labels": {"a": "b"}}}), 404,
                  "NotFound")


def test_apply_patch_creates_then_updates(client, cluster):
    text = ("apiVersion: v1\nkind: Pod\nmetadata:\n  name: applied\n  labels:\n    app: a\n"
            "spec:\n  containers:\n  - name: c\n    image: nginx\n")
    url = f"{PODS}/applied?fieldManager=kubectl&fieldValidation=Strict&force=false"
    response = patch(client, url, text, content_type=APPLY)
    assert response.status_code == 201, response.content
    assert response.json()["metadata"]["labels"] == {"app": "a"}
    # The same manager's next manifest: what it leaves out it no longer owns, so it keeps spec.
    manifest = {"apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": "applied", "labels": {"app": "b"}},
                "spec": {"containers": [{"name": "c", "image": "nginx"}]}}
    response = patch(client, url, manifest, content_type=APPLY)   # JSON is YAML too
    assert response.status_code == 200
    assert response.json()["metadata"]["labels"] == {"app": "b"}


def test_apply_patch_needs_a_field_manager(client, cluster):
    body = assert_status(patch(client, f"{PODS}/x", make_pod("x"), content_type=APPLY), 422,
                         "Invalid")
    assert body["details"]["causes"][0]["field"] == "fieldManager"


def test_force_is_only_for_apply(client, cluster):
    create_pod(client)
    assert_status(patch(client, f"{PODS}/web?force=true", {}), 422, "Invalid")


# ---------------------------------------------------------------------------------------------
# Delete


def test_delete_of_scheduled_pod_leaves_it_terminating_until_grace_passes(client, clock):
    running_pod(client, clock)
    response = delete(client, f"{PODS}/web", {"propagationPolicy": "Background"})
    assert response.status_code == 200
    deleted = response.json()
    assert deleted["metadata"]["deletionTimestamp"] == "2026-01-01T12:00:34Z"   # now + 30 s
    assert deleted["metadata"]["deletionGracePeriodSeconds"] == 30
    clock.tick(10)
    still = client.get(f"{PODS}/web")
    assert still.status_code == 200 and still.json()["metadata"]["deletionTimestamp"]
    clock.tick(25)
    assert client.get(f"{PODS}/web").status_code == 404


def test_delete_of_unscheduled_pod_removes_it_at_once(client, cluster):
    create_pod(client)               # no tick: the scheduler has not bound it
    response = delete(client, f"{PODS}/web")
    assert response.status_code == 200
    assert response.json()["metadata"]["name"] == "web"
    assert client.get(f"{PODS}/web").status_code == 404


def test_delete_with_grace_period_zero_removes_a_running_pod_at_once(client, clock):
    running_pod(client, clock)
    response = delete(client, f"{PODS}/web", {"gracePeriodSeconds": 0})
    assert response.status_code == 200
    assert client.get(f"{PODS}/web").status_code == 404


def test_delete_options_as_query_parameters(client, clock):
    running_pod(client, clock)
    response = delete(client, f"{PODS}/web?gracePeriodSeconds=5")
    assert response.json()["metadata"]["deletionGracePeriodSeconds"] == 5
    clock.tick(6)
    assert client.get(f"{PODS}/web").status_code == 404


def test_delete_precondition_on_uid(client, cluster):
    create_pod(client)
    response = delete(client, f"{PODS}/web", {"preconditions": {"uid": "not-it"}})
    assert_status(response, 409, "Conflict")
    assert client.get(f"{PODS}/web").status_code == 200


def test_delete_with_bad_propagation_policy_is_invalid(client, cluster):
    create_pod(client)
    body = assert_status(delete(client, f"{PODS}/web", {"propagationPolicy": "Sideways"}), 422,
                         "Invalid")
    assert body["details"]["kind"] == "DeleteOptions"


def test_delete_of_missing_object_is_404(client, cluster):
    assert_status(delete(client, f"{PODS}/nope"), 404, "NotFound", 'pods "nope" not found')


def test_delete_collection_by_label(client, cluster):
    create_pod(client, "a", labels={"app": "x"})
    create_pod(client, "b", labels={"app": "y"})
    response = delete(client, f"{PODS}?labelSelector=app%3Dx")
    assert response.status_code == 200
    assert [p["metadata"]["name"] for p in response.json()["items"]] == ["a"]
    assert [p["metadata"]["name"] for p in client.get(PODS).json()["items"]] == ["b"]


# ---------------------------------------------------------------------------------------------
# dryRun


def test_dry_run_persists_nothing(client, cluster):
    before = client.get(PODS).json()["metadata"]["resourceVersion"]
    response = post(client, f"{PODS}?dryRun=All", make_pod("web"))
    assert response.status_code == 201
    assert response.json()["metadata"]["name"] == "web"
    assert client.get(f"{PODS}/web").status_code == 404

    create_pod(client, labels={"app": "web"})
    after_create = client.get(PODS).json()["metadata"]["resourceVersion"]
    assert int(after_create) > int(before)
    response = patch(client, f"{PODS}/web?dryRun=All", {"metadata": {"labels": {"app": "x"}}})
    assert response.json()["metadata"]["labels"] == {"app": "x"}
    response = delete(client, f"{PODS}/web", {"dryRun": ["All"]})
    assert response.status_code == 200
    pod = client.get(f"{PODS}/web").json()
    assert pod["metadata"]["labels"] == {"app": "web"}
    assert client.get(PODS).json()["metadata"]["resourceVersion"] == after_create


def test_unknown_dry_run_value_is_invalid(client, cluster):
    body = assert_status(post(client, f"{PODS}?dryRun=Some", make_pod("web")), 422, "Invalid")
    assert body["details"]["causes"][0]["field"] == "dryRun"


# ---------------------------------------------------------------------------------------------
# Status subresource


def test_put_status_changes_only_status(client, cluster):
    pod = create_pod(client)
    pod["metadata"]["labels"] = {"sneaky": "yes"}
    pod["status"] = {"phase": "Pending", "message": "set through /status"}
    response = put(client, f"{PODS}/web/status", pod)
    assert response.status_code == 200
    stored = client.get(f"{PODS}/web").json()
    assert stored["status"]["message"] == "set through /status"
    assert "labels" not in stored["metadata"]


def test_put_of_main_resource_keeps_status(client, cluster):
    pod = create_pod(client)
    pod["status"] = {"phase": "Running"}
    pod["metadata"]["labels"] = {"a": "b"}
    updated = put(client, f"{PODS}/web", pod).json()
    assert updated["status"]["phase"] == "Pending"
    assert updated["metadata"]["labels"] == {"a": "b"}


def test_patch_and_get_status(client, cluster):
    create_pod(client)
    response = patch(client, f"{PODS}/web/status", {"status": {"message": "patched"}})
    assert response.status_code == 200
    assert client.get(f"{PODS}/web/status").json()["status"]["message"] == "patched"


# ---------------------------------------------------------------------------------------------
# Selectors and watch


def test_field_selector_by_name(client, cluster):
    create_pod(client, "a")
    create_pod(client, "b")
    names = lambda q: [p["metadata"]["name"] for p in client.get(f"{PODS}?{q}").json()["items"]]
    assert names("fieldSelector=metadata.name%3Da") == ["a"]
    assert names("fieldSelector=metadata.name%3D%3Da") == ["a"]
    assert names("fieldSelector=metadata.name%21%3Da") == ["b"]
    assert names("fieldSelector=metadata.namespace%3Ddefault") == ["a", "b"]


def test_field_selector_by_node_and_phase(client, clock):
    running_pod(client, clock, "a")
    create_pod(client, "b")                # not yet scheduled
    node = client.get(f"{PODS}/a").json()["spec"]["nodeName"]
    names = lambda q: [p["metadata"]["name"]
                       for p in client.get(f"{BASE}/api/v1/pods?{q}").json()["items"]]
    assert names(f"fieldSelector=spec.nodeName%3D{node}") == ["a"]
    assert names("fieldSelector=spec.nodeName%3D") == ["b"]
    assert names("fieldSelector=status.phase%3DPending") == ["b"]
    assert names("fieldSelector=status.phase%3DRunning,metadata.name%3Da") == ["a"]


def test_unsupported_field_label_is_400(client, cluster):
    assert_status(client.get(f"{PODS}?fieldSelector=spec.image%3Dx"), 400, "BadRequest",
                  "field label not supported: spec.image")
    assert_status(client.get(f"{NODES}?fieldSelector=spec.nodeName%3Dx"), 400, "BadRequest",
                  "field label not supported: spec.nodeName")


def test_label_selector_equality(client, cluster):
    create_pod(client, "a", labels={"app": "web", "env": "prod"})
    create_pod(client, "b", labels={"app": "web", "env": "dev"})
    create_pod(client, "c")
    names = lambda q: [p["metadata"]["name"] for p in client.get(f"{PODS}?{q}").json()["items"]]
    assert names("labelSelector=app%3Dweb") == ["a", "b"]
    assert names("labelSelector=app%3Dweb%2Cenv%3D%3Dprod") == ["a"]


# ---------------------------------------------------------------------------------------------
# The clock


def test_clock_get_and_list(client, cluster):
    clock_obj = client.get(CLOCK).json()
    assert clock_obj["kind"] == "Clock" and clock_obj["apiVersion"] == "kubelab.io/v1"
    assert clock_obj["spec"] == {"paused": False, "speed": 1}
    assert clock_obj["status"]["now"] == "2026-01-01T12:00:00Z"
    listing = client.get(f"{BASE}/apis/kubelab.io/v1/clocks").json()
    assert listing["kind"] == "ClockList" and listing["apiVersion"] == "kubelab.io/v1"
    assert [c["metadata"]["name"] for c in listing["items"]] == ["cluster"]


def test_clock_patch_speed(client, cluster):
    response = patch(client, CLOCK, {"spec": {"speed": 50}})
    assert response.status_code == 200
    assert response.json()["spec"]["speed"] == 50
    assert client.get(CLOCK).json()["spec"]["speed"] == 50


def test_clock_speed_zero_is_invalid(client, cluster):
    body = assert_status(patch(client, CLOCK, {"spec": {"speed": 0}}), 422, "Invalid")
    assert [c["field"] for c in body["details"]["causes"]] == ["spec.speed"]
    assert client.get(CLOCK).json()["spec"]["speed"] == 1


def test_clock_put_pauses(client, cluster):
    clock_obj = client.get(CLOCK).json()
    clock_obj["spec"]["paused"] = True
    response = put(client, CLOCK, clock_obj)
    assert response.status_code == 200 and response.json()["spec"]["paused"] is True


def test_clock_other_names_are_404(client, cluster):
    assert client.get(f"{BASE}/apis/kubelab.io/v1/clocks/other").status_code == 404


# ---------------------------------------------------------------------------------------------
# A pod's life through the API


def test_pod_lifecycle_through_the_api(client, clock):
    created = create_pod(client, "kubia", ports=[8080])
    assert created["status"]["phase"] == "Pending"
    assert "nodeName" not in created["spec"]

    clock.tick(1)
    pod = client.get(f"{PODS}/kubia").json()
    assert pod["spec"]["nodeName"] in ("node-1", "node-2", "node-3")
    assert pod["status"]["phase"] == "Pending"

    clock.tick(3)
    pod = client.get(f"{PODS}/kubia").json()
    status = pod["status"]
    assert status["phase"] == "Running"
    assert status["podIP"] and status["hostIP"]
    conditions = {c["type"]: c["status"] for c in status["conditions"]}
    assert conditions["Ready"] == "True" and conditions["PodScheduled"] == "True"
    [container] = status["containerStatuses"]
    assert container["name"] == "kubia" and container["ready"] is True
    assert "running" in container["state"]

    reasons = [e["reason"] for e in client.get(
        f"{NAMESPACES}/default/events?fieldSelector=involvedObject.name%3Dkubia").json()["items"]]
    assert "Scheduled" in reasons and "Started" in reasons


# --- deleting owners ----------------------------------------------------------------------------

JOB = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "batch-job"},
       "spec": {"template": {"metadata": {"labels": {"app": "batch-job"}},
                             "spec": {"restartPolicy": "OnFailure",
                                      "containers": [{"name": "main",
                                                      "image": "luksa/batch-job"}]}}}}


def test_deleting_a_job_without_a_policy_orphans_its_pods_and_warns(client, cluster):
    url = "/clusters/test/apis/batch/v1/namespaces/default/jobs"
    assert post(client, url, JOB).status_code == 201
    response = delete(client, f"{url}/batch-job")
    assert response.status_code == 200
    assert warnings_of(response) == [
        '299 - "child pods are preserved by default when jobs are deleted; set '
        'propagationPolicy=Background to remove them or set propagationPolicy=Orphan to '
        'suppress this warning"']
    assert response.json()["metadata"]["finalizers"] == ["orphan"]


def test_deleting_a_job_in_the_background_says_nothing_more(client, cluster):
    url = "/clusters/test/apis/batch/v1/namespaces/default/jobs"
    post(client, url, JOB)
    response = delete(client, f"{url}/batch-job", {"propagationPolicy": "Background"})
    assert response.status_code == 200
    assert warnings_of(response) == []
    assert call(client, "GET", f"{url}/batch-job").status_code == 404
