"""The simulated ingress controller: host and path matching as the Ingress API defines it,
routing to a Service and a ready pod, the route in headers and JSON, and 404s that say why."""

import json
import random

import pytest

from cluster import apply, ingress_controller as ic, traffic
from tests.builders import apply_ok

APP_TEXT = """apiVersion: v1
kind: ReplicationController
metadata:
  name: {name}
spec:
  replicas: 1
  selector:
    app: {name}
  template:
    metadata:
      labels:
        app: {name}
    spec:
      containers:
      - name: main
        image: luksa/kubia
        ports:
        - name: http
          containerPort: 8080
---
apiVersion: v1
kind: Service
metadata:
  name: {name}
spec:
  ports:
  - name: web
    port: 80
    targetPort: http
  selector:
    app: {name}
"""

INGRESS_TEXT = """apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: kubia
spec:
  defaultBackend:
    service:
      name: fallback
      port:
        number: 80
  rules:
  - host: kubia.example.com
    http:
      paths:
      - path: /
        pathType: Prefix
        backend:
          service:
            name: kubia
            port:
              number: 80
      - path: /foo
        pathType: Prefix
        backend:
          service:
            name: foo
            port:
              name: web
      - path: /foo/exact
        pathType: Exact
        backend:
          service:
            name: kubia
            port:
              number: 80
  - host: "*.example.com"
    http:
      paths:
      - path: /
        pathType: ImplementationSpecific
        backend:
          service:
            name: foo
            port:
              number: 80
"""


def ingress(rules, default=None):
    spec = {"rules": rules}
    if default:
        spec["defaultBackend"] = default
    return {"metadata": {"name": "ing", "namespace": "default"}, "spec": spec}


def rule(host, *paths):
    return {"host": host, "http": {"paths": [
        {"path": p, "pathType": t, "backend": {"service": {"name": name,
                                                           "port": {"number": 80}}}}
        for p, t, name in paths]}}


def chosen_service(ingresses, host, path):
    found = ic.choose(ingresses, host, path)
    return found and found[1]["service"]["name"]


@pytest.mark.parametrize("rule_host,host,matches", [
    ("foo.example.com", "foo.example.com", True),
    ("*.example.com", "foo.example.com", True),
    ("*.example.com", "example.com", False),
    ("*.example.com", "a.b.example.com", False),
    ("", "anything.io", True),
])
def test_host_matching_exact_and_one_label_wildcards(rule_host, host, matches):
    assert ic.host_matches(rule_host, host) is matches


@pytest.mark.parametrize("path_type,rule_path,path,matches", [
    ("Prefix", "/foo", "/foo", True),
    ("Prefix", "/foo", "/foo/", True),
    ("Prefix", "/foo", "/foo/bar", True),
    ("Prefix", "/foo", "/foobar", False),
    ("Prefix", "/foo/", "/foo", True),
    ("Prefix", "/", "/anything", True),
    ("Exact", "/foo", "/foo", True),
    ("Exact", "/foo", "/foo/", False),
    ("ImplementationSpecific", "/foo", "/foo/bar", True),
])
def test_path_matching_is_element_wise_for_prefix(path_type, rule_path, path, matches):
    assert (ic.path_matches(path_type, rule_path, path) is not None) is matches


def test_longest_path_wins_and_exact_beats_prefix_at_equal_length():
    ingresses = [ingress([rule("h", ("/", "Prefix", "root"), ("/a", "Prefix", "a"),
                               ("/a/b", "Prefix", "ab-prefix"), ("/a/b", "Exact", "ab-exact"))])]
    assert chosen_service(ingresses, "h", "/a/b") == "ab-exact"
    assert chosen_service(ingresses, "h", "/a/b/c") == "ab-prefix"
    assert chosen_service(ingresses, "h", "/a/x") == "a"
    assert chosen_service(ingresses, "h", "/zzz") == "root"


def test_exact_hosts_before_wildcards_before_any_host_then_the_default_backend():
    default = {"service": {"name": "fallback", "port": {"number": 80}}}
    ingresses = [ingress([rule("", ("/", "Prefix", "any")),
                          rule("*.example.com", ("/", "Prefix", "wild")),
                          rule("foo.example.com", ("/only", "Exact", "exact"))], default)]
    assert chosen_service(ingresses, "foo.example.com", "/only") == "exact"
    assert chosen_service(ingresses, "foo.example.com", "/other") == "wild"
    assert chosen_service(ingresses, "bar.io", "/x") == "any"
    assert chosen_service([ingress([rule("h", ("/a", "Exact", "a"))], default)],
                          "h", "/b") == "fallback"
    assert ic.choose([ingress([rule("h", ("/a", "Exact", "a"))])], "h", "/b") is None


# --- routing through the cluster ----------------------------------------------------------

@pytest.fixture
def clock(committed_clock):
    return committed_clock


@pytest.fixture
def routed(cluster, clock):
    random.seed(5)
    traffic.reset_affinity()
    for text in (APP_TEXT.format(name="kubia"), APP_TEXT.format(name="foo"), INGRESS_TEXT):
        apply_ok(cluster, text)
    clock.run(10)
    return cluster


def test_a_request_is_routed_to_the_rules_service_and_a_pod(routed):
    route = ic.route(routed, "kubia.example.com", "/foo/bar")
    assert route.status == 200 and route.body.startswith("You've hit foo-")
    steps = route.steps
    assert [s["step"] for s in steps] == ["ingress", "service", "pod"]
    assert steps[0]["rule"] == "kubia.example.com/foo (Prefix)"
    assert steps[1] == {"step": "service", "name": "default/foo", "port": 80}
    assert steps[2]["endpoint"].endswith(":8080") and steps[2]["name"].startswith("foo-")
    assert ic.route(routed, "kubia.example.com", "/foo/exact").body.startswith("You've hit kubia-")
    assert ic.route(routed, "kubia.example.com", "/").body.startswith("You've hit kubia-")
    assert ic.route(routed, "www.example.com", "/x").body.startswith("You've hit foo-")


def test_no_rule_and_no_ready_endpoint_answer_404_with_why(routed, clock):
    # The default backend's Service does not exist.
    route = ic.route(routed, "other.io", "/")
    assert route.status == 404 and 'service "default/fallback" does not exist' in route.reason
    apply.apply_text(routed, INGRESS_TEXT.replace("""  defaultBackend:
    service:
      name: fallback
      port:
        number: 80
""", ""))
    route = ic.route(routed, "other.io", "/x")
    assert route.status == 404 and route.reason == "no rule matched host other.io path /x"
    # The foo Service now selects no pod: after a tick its endpoints are empty.
    apply.apply_text(routed, APP_TEXT.format(name="foo").split("---")[1]
                     .replace("    app: foo\n", "    app: nobody\n"))
    clock.tick(1)
    route = ic.route(routed, "kubia.example.com", "/foo")
    assert route.status == 404 and route.reason == 'service "default/foo" has no ready endpoint'
    assert route.steps[-1]["step"] == "service"


def test_the_ingress_url_answers_with_the_route_in_a_header(client, routed):
    response = client.get("/clusters/test/ingress/foo?host=kubia.example.com")
    assert response.status_code == 200
    assert response.content.decode().startswith("You've hit foo-")
    assert response["X-Kubelab-Route"].startswith(
        "ingress kubia rule kubia.example.com/foo (Prefix) -> service default/foo:80 -> pod foo-")
    response = client.get("/clusters/test/ingress/?host=kubia.example.com")
    assert response.content.decode().startswith("You've hit kubia-")


def test_the_boards_ingress_form_gets_json(client, routed):
    response = client.post("/clusters/test/traffic/ingress",
                           json.dumps({"host": "kubia.example.com", "path": "/foo"}),
                           content_type="application/json")
    answer = response.json()
    assert answer["status"] == 200 and [s["step"] for s in answer["route"]] == [
        "ingress", "service", "pod"]
    response = client.post("/clusters/test/traffic/ingress", json.dumps({"host": 5}),
                           content_type="application/json")
    assert response.status_code == 400 and "host" in response.json()["message"]
