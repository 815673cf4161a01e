"""/version, API discovery and OpenAPI v3, over Django's test client: the JSON shapes and
Content-Types client-go decides by (kubectl-protocol.md, sections 0, 1 and 3)."""

import hashlib

import pytest
from django.test import Client

from cluster import kinds
from cluster.api import discovery

BASE = "/clusters/test"
JSON = "application/json"
# What kubectl 1.32 sends for /api and /apis.
KUBECTL_ACCEPT = ("application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,"
                  "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,"
                  "application/json")
V2 = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
V2BETA1 = "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList"


@pytest.fixture
def client(cluster):
    return Client()


def get(client, path, accept=JSON):
    return client.get(BASE + path, HTTP_ACCEPT=accept)


def by(items, key, value):
    found = [item for item in items if item.get(key) == value]
    assert len(found) == 1, (key, value, items)
    return found[0]


def resource(doc, group, version, plural):
    item = by(doc["items"], "metadata", {"name": group, "creationTimestamp": None})
    return by(by(item["versions"], "version", version)["resources"], "resource", plural)


# --- /version ---------------------------------------------------------------------------------

def test_version_is_a_1_32_server(client):
    response = get(client, "/version")
    assert response.status_code == 200 and response["Content-Type"] == JSON
    info = response.json()
    assert (info["major"], info["minor"], info["gitVersion"]) == ("1", "32", "v1.32.0")
    assert set(info) == {"major", "minor", "gitVersion", "gitCommit", "gitTreeState",
                         "buildDate", "goVersion", "compiler", "platform"}


def test_an_unknown_cluster_is_a_not_found_status(db):
    response = Client().get("/clusters/nope/api", HTTP_ACCEPT=KUBECTL_ACCEPT)
    assert response.status_code == 404 and response["Content-Type"] == JSON
    assert response.json()["reason"] == "NotFound"


# --- aggregated discovery ---------------------------------------------------------------------

def test_api_answers_aggregated_discovery_with_its_exact_content_type(client):
    response = get(client, "/api", KUBECTL_ACCEPT)
    assert response.status_code == 200
    # client-go decides the format by this header, not by the body.
    assert response["Content-Type"] == V2
    doc = response.json()
    assert (doc["kind"], doc["apiVersion"]) == ("APIGroupDiscoveryList", "apidiscovery.k8s.io/v2")
    assert [item["metadata"]["name"] for item in doc["items"]] == [""]
    pods = resource(doc, "", "v1", "pods")
    assert pods["responseKind"] == {"group": "", "version": "v1", "kind": "Pod"}
    assert pods["scope"] == "Namespaced" and pods["singularResource"] == "pod"
    assert pods["shortNames"] == ["po"] and pods["categories"] == ["all"]
    assert "watch" in pods["verbs"]
    subresources = {s["subresource"]: s for s in pods["subresources"]}
    assert {"status", "log", "exec", "proxy", "eviction", "binding"} <= set(subresources)
    assert subresources["eviction"]["responseKind"] == {"group": "policy", "version": "v1",
                                                        "kind": "Eviction"}
    assert subresources["exec"]["responseKind"]["kind"] == "PodExecOptions"
    assert subresources["log"]["verbs"] == ["get"]


def test_core_short_names_and_scopes(client):
    doc = get(client, "/api", KUBECTL_ACCEPT).json()
    short = {plural: resource(doc, "", "v1", plural).get("shortNames")
             for plural in ("pods", "nodes", "namespaces", "replicationcontrollers", "services",
                            "endpoints", "events")}
    assert short == {"pods": ["po"], "nodes": ["no"], "namespaces": ["ns"],
                     "replicationcontrollers": ["rc"], "services": ["svc"],
                     "endpoints": ["ep"], "events": ["ev"]}
    assert resource(doc, "", "v1", "nodes")["scope"] == "Cluster"
    nodes = {s["subresource"] for s in resource(doc, "", "v1", "nodes")["subresources"]}
    assert nodes == {"status", "proxy"}
    namespaces = resource(doc, "", "v1", "namespaces")
    assert by(namespaces["subresources"], "subresource", "finalize")["verbs"] == ["update"]
    assert namespaces["verbs"] == ["create", "delete", "get", "list", "patch", "update",
                                   "watch"]
    # Events and endpoints are not in "all", as in Kubernetes.
    assert "categories" not in resource(doc, "", "v1", "events")


def test_apis_lists_every_group_with_the_current_version_preferred(client):
    doc = get(client, "/apis", KUBECTL_ACCEPT).json()
    names = [item["metadata"]["name"] for item in doc["items"]]
    assert "" not in names
    assert {"apps", "batch", "networking.k8s.io", "kubelab.io", "extensions"} <= set(names)
    # A group of deprecated versions only comes after those serving current ones, so
    # kubectl's resource priority picks networking.k8s.io for `ing`, apps for `rs`.
    assert names.index("extensions") > names.index("networking.k8s.io")
    assert names.index("extensions") > names.index("apps")
    apps = by(doc["items"], "metadata", {"name": "apps", "creationTimestamp": None})
    assert [v["version"] for v in apps["versions"]] == ["v1", "v1beta2"]
    rs = resource(doc, "apps", "v1", "replicasets")
    assert rs["shortNames"] == ["rs"] and rs["categories"] == ["all"]
    scale = by(rs["subresources"], "subresource", "scale")
    assert scale["responseKind"] == {"group": "autoscaling", "version": "v1", "kind": "Scale"}
    assert scale["verbs"] == ["get", "patch", "update"]
    assert resource(doc, "batch", "v1", "cronjobs")["shortNames"] == ["cj"]
    assert resource(doc, "apps", "v1", "daemonsets")["shortNames"] == ["ds"]
    assert resource(doc, "networking.k8s.io", "v1", "ingresses")["shortNames"] == ["ing"]
    assert resource(doc, "batch", "v1", "jobs")["categories"] == ["all"]
    slices = resource(doc, "discovery.k8s.io", "v1", "endpointslices")
    assert slices["scope"] == "Namespaced" and slices["singularResource"] == "endpointslice"
    assert "shortNames" not in slices and "categories" not in slices


def test_deprecated_versions_are_served_without_short_names_or_categories(client):
    doc = get(client, "/apis", KUBECTL_ACCEPT).json()
    old = resource(doc, "apps", "v1beta2", "replicasets")
    assert old["responseKind"] == {"group": "apps", "version": "v1beta2", "kind": "ReplicaSet"}
    # Otherwise `kubectl get all` would list each ReplicaSet once per version.
    assert "shortNames" not in old and "categories" not in old
    ingress = resource(doc, "extensions", "v1beta1", "ingresses")
    assert ingress["responseKind"]["group"] == "extensions"
    assert resource(doc, "batch", "v1beta1", "cronjobs")["responseKind"]["version"] == "v1beta1"


def test_every_registered_kind_is_discoverable_with_an_openapi_schema(client):
    core = get(client, "/api", KUBECTL_ACCEPT).json()
    named = get(client, "/apis", KUBECTL_ACCEPT).json()
    index = get(client, "/openapi/v3").json()["paths"]
    for kind in kinds.all_kinds():
        found = resource(named if kind.group else core, kind.group, kind.version, kind.plural)
        assert found["responseKind"]["kind"] == kind.kind
        path = f"apis/{kind.group}/{kind.version}" if kind.group else f"api/{kind.version}"
        doc = client.get(BASE + index[path]["serverRelativeURL"]).json()
        gvks = [s.get("x-kubernetes-group-version-kind")
                for s in doc["components"]["schemas"].values()]
        assert [{"group": kind.group, "version": kind.version, "kind": kind.kind}] in gvks


def test_kubelabs_clock_is_discoverable(client):
    doc = get(client, "/apis", KUBECTL_ACCEPT).json()
    clocks = resource(doc, "kubelab.io", "v1", "clocks")
    assert clocks["scope"] == "Cluster" and clocks["singularResource"] == "clock"
    assert clocks["verbs"] == ["get", "list", "patch", "update"]
    assert "subresources" not in clocks


def test_v2beta1_when_only_that_is_asked_for(client):
    response = get(client, "/apis", V2BETA1 + ",application/json")
    assert response["Content-Type"] == V2BETA1
    assert response.json()["apiVersion"] == "apidiscovery.k8s.io/v2beta1"


def test_plain_json_first_gets_the_legacy_shape(client):
    response = get(client, "/apis", "application/json, " + V2)
    assert response["Content-Type"] == JSON
    assert response.json()["kind"] == "APIGroupList"


@pytest.mark.parametrize("accept", [
    "", "*/*", "application/json;g", "application/json;as=APIGroupDiscoveryList;v=v9",
    "application/vnd.kubernetes.protobuf;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList",
])
def test_other_accept_headers_get_the_legacy_shape(client, accept):
    response = get(client, "/apis", accept)
    assert response.status_code == 200 and response["Content-Type"] == JSON
    assert response.json()["kind"] == "APIGroupList"


# --- legacy discovery -------------------------------------------------------------------------

def test_legacy_api_and_apis(client):
    versions = get(client, "/api").json()
    assert versions["kind"] == "APIVersions" and versions["versions"] == ["v1"]
    assert versions["serverAddressByClientCIDRs"][0]["clientCIDR"] == "0.0.0.0/0"
    groups = get(client, "/apis").json()
    assert (groups["kind"], groups["apiVersion"]) == ("APIGroupList", "v1")
    apps = by(groups["groups"], "name", "apps")
    assert apps["preferredVersion"] == {"groupVersion": "apps/v1", "version": "v1"}
    assert {"groupVersion": "apps/v1beta2", "version": "v1beta2"} in apps["versions"]
    extensions = by(groups["groups"], "name", "extensions")
    assert extensions["preferredVersion"]["groupVersion"] == "extensions/v1beta1"


def test_legacy_resource_list_names_subresources_after_their_resource(client):
    response = get(client, "/api/v1")
    assert response.status_code == 200 and response["Content-Type"] == JSON
    body = response.json()
    assert (body["kind"], body["groupVersion"]) == ("APIResourceList", "v1")
    names = [r["name"] for r in body["resources"]]
    assert names.index("pods/log") == names.index("pods") + 2     # after pods/status
    pods = by(body["resources"], "name", "pods")
    assert pods["namespaced"] is True and pods["shortNames"] == ["po"]
    log = by(body["resources"], "name", "pods/log")
    assert log == {"name": "pods/log", "singularName": "", "namespaced": True, "kind": "Pod",
                   "verbs": ["get"]}
    scale = by(body["resources"], "name", "replicationcontrollers/scale")
    assert (scale["group"], scale["version"], scale["kind"]) == ("autoscaling", "v1", "Scale")


def test_legacy_group_version_lists(client):
    old = get(client, "/apis/apps/v1beta2").json()
    assert old["groupVersion"] == "apps/v1beta2"
    assert {r["name"] for r in old["resources"] if "/" not in r["name"]} == {
        "daemonsets", "replicasets"}
    clocks = by(get(client, "/apis/kubelab.io/v1").json()["resources"], "name", "clocks")
    assert clocks["namespaced"] is False and clocks["kind"] == "Clock"
    group = get(client, "/apis/apps").json()
    assert group["kind"] == "APIGroup" and group["preferredVersion"]["version"] == "v1"


@pytest.mark.parametrize("path", ["/apis/apps/v9", "/apis/nothing.io/v1", "/api/v2",
                                  "/apis/nothing.io"])
def test_unknown_group_versions_are_not_found(client, path):
    response = get(client, path)
    assert response.status_code == 404 and response["Content-Type"] == JSON
    assert response.json()["reason"] == "NotFound"


def test_version_priority_puts_ga_before_beta_before_alpha():
    versions = ["v1alpha1", "v1beta1", "v2", "v1", "v1beta2", "v2beta1"]
    assert sorted(versions, key=discovery.version_priority) == [
        "v2", "v1", "v2beta1", "v1beta2", "v1beta1", "v1alpha1"]


# --- OpenAPI v3 -------------------------------------------------------------------------------

def test_openapi_index_points_at_each_document_by_hash(client):
    response = get(client, "/openapi/v3")
    assert response.status_code == 200 and response["Content-Type"] == JSON
    index = response.json()["paths"]
    assert {"api/v1", "apis/apps/v1", "apis/apps/v1beta2", "apis/batch/v1",
            "apis/networking.k8s.io/v1", "apis/extensions/v1beta1",
            "apis/kubelab.io/v1"} <= set(index)
    url = index["api/v1"]["serverRelativeURL"]
    # Rooted at /openapi/v3, so client-go keeps the /clusters/{cluster} prefix.
    assert url.startswith("/openapi/v3/api/v1?hash=")
    document = client.get(BASE + url)
    assert document.status_code == 200 and document["Content-Type"] == JSON
    assert url.endswith(hashlib.sha512(document.content).hexdigest().upper())


def test_openapi_core_document_has_real_schemas(client):
    doc = get(client, "/openapi/v3/api/v1").json()
    assert doc["openapi"].startswith("3.0") and doc["info"]["version"] == "v1.32.0"
    schemas = doc["components"]["schemas"]
    pod = schemas["io.k8s.api.core.v1.Pod"]
    assert pod["x-kubernetes-group-version-kind"] == [{"group": "", "version": "v1",
                                                       "kind": "Pod"}]
    assert pod["properties"]["spec"]["allOf"] == [{"$ref": "#/components/schemas/"
                                                           "io.k8s.api.core.v1.PodSpec"}]
    assert pod["properties"]["metadata"]["allOf"][0]["$ref"].endswith(
        "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta")
    container = schemas["io.k8s.api.core.v1.Container"]
    assert "name" in container["required"]
    probe = container["properties"]["livenessProbe"]
    assert probe["allOf"][0]["$ref"].endswith("io.k8s.api.core.v1.Probe")
    delay = schemas["io.k8s.api.core.v1.Probe"]["properties"]["initialDelaySeconds"]
    assert delay["type"] == "integer" and "container has started" in delay["description"]
    ports = container["properties"]["ports"]
    assert ports["type"] == "array"
    assert ports["x-kubernetes-patch-merge-key"] == "containerPort"
    assert ports["x-kubernetes-patch-strategy"] == "merge"
    assert schemas["io.k8s.api.core.v1.PodSpec"]["properties"]["containers"][
        "x-kubernetes-patch-merge-key"] == "name"
    port = schemas["io.k8s.api.core.v1.HTTPGetAction"]["properties"]["port"]
    assert port["allOf"][0]["$ref"].endswith("io.k8s.apimachinery.pkg.util.intstr.IntOrString")
    limits = schemas["io.k8s.api.core.v1.ResourceRequirements"]["properties"]["limits"]
    assert limits["additionalProperties"]["$ref"].endswith("resource.Quantity")


def test_openapi_patch_operations_carry_the_kind_and_field_validation(client):
    doc = get(client, "/openapi/v3/api/v1").json()
    patch = doc["paths"]["/api/v1/namespaces/{namespace}/pods/{name}"]["patch"]
    assert patch["x-kubernetes-group-version-kind"] == {"group": "", "version": "v1",
                                                        "kind": "Pod"}
    assert "fieldValidation" in [p["name"] for p in patch["parameters"]]
    # No requestBody: kubectl then computes strategic merge patches from its own types.
    assert "requestBody" not in patch
    nodes = doc["paths"]["/api/v1/nodes/{name}"]["patch"]
    assert nodes["x-kubernetes-group-version-kind"]["kind"] == "Node"
    assert "/api/v1/pods" in doc["paths"]        # list across namespaces


def test_openapi_named_group_and_kubelab_clock(client):
    apps = get(client, "/openapi/v3/apis/apps/v1").json()
    rs = apps["components"]["schemas"]["io.k8s.api.apps.v1.ReplicaSet"]
    assert rs["x-kubernetes-group-version-kind"][0]["group"] == "apps"
    # A ReplicaSet's pod template is core's type, named as the API server names it.
    assert "io.k8s.api.core.v1.PodTemplateSpec" in apps["components"]["schemas"]
    networking = get(client, "/openapi/v3/apis/networking.k8s.io/v1").json()
    assert "io.k8s.api.networking.v1.IngressSpec" in networking["components"]["schemas"]
    discovery_doc = get(client, "/openapi/v3/apis/discovery.k8s.io/v1").json()
    # discovery's own EndpointPort, apart from core's; the targetRef is core's ObjectReference.
    assert {"io.k8s.api.discovery.v1.EndpointSlice", "io.k8s.api.discovery.v1.Endpoint",
            "io.k8s.api.discovery.v1.EndpointPort", "io.k8s.api.core.v1.ObjectReference"} <= \
        set(discovery_doc["components"]["schemas"])
    clock = get(client, "/openapi/v3/apis/kubelab.io/v1").json()
    schemas = clock["components"]["schemas"]
    assert schemas["io.kubelab.v1.Clock"]["x-kubernetes-group-version-kind"] == [
        {"group": "kubelab.io", "version": "v1", "kind": "Clock"}]
    spec = schemas["io.kubelab.v1.Clock"]["properties"]["spec"]
    assert spec["description"] == "What the learner sets: pause and speed."
    assert schemas["io.kubelab.v1.ClockSpec"]["properties"]["speed"]["type"] == "integer"
    patch = clock["paths"]["/apis/kubelab.io/v1/clocks/{name}"]["patch"]
    assert patch["x-kubernetes-group-version-kind"]["kind"] == "Clock"
    # The clock is created by kubelab, never by a client.
    assert "post" not in clock["paths"].get("/apis/kubelab.io/v1/clocks", {})


def test_openapi_deprecated_versions_have_their_paths(client):
    doc = get(client, "/openapi/v3/apis/extensions/v1beta1").json()
    patch = doc["paths"]["/apis/extensions/v1beta1/namespaces/{namespace}/ingresses/{name}"][
        "patch"]
    assert patch["x-kubernetes-group-version-kind"] == {
        "group": "extensions", "version": "v1beta1", "kind": "Ingress"}
    assert "fieldValidation" in [p["name"] for p in patch["parameters"]]


@pytest.mark.parametrize("path", ["/openapi/v3/apis/nothing.io/v1", "/openapi/v2"])
def test_openapi_unknown_documents_are_not_found_statuses(client, path):
    response = get(client, path)
    assert response.status_code == 404 and response["Content-Type"] == JSON
    assert response.json()["kind"] == "Status"
