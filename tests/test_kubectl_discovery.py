"""Real kubectl 1.32 discovers kubelab: api-resources, short names, `get all`, explain,
apply and create with kubectl's default --validate=strict (which reads /openapi/v3), and the
unknown-type error. The module works in a cluster of its own (`disco-lab`)."""

import json
import re

import pytest

from tests.builders import seed_manifest
from tests.kubectl import Kubectl
from tests.live import create_cluster

LAB = "disco-lab"

POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: {name}
spec:
  containers:
  - name: kubia
    image: luksa/kubia
    ports:
    - containerPort: 8080
"""

RC = """\
apiVersion: v1
kind: ReplicationController
metadata:
  name: kubia
spec:
  replicas: 1
  selector:
    app: kubia
  template:
    metadata:
      labels:
        app: kubia
    spec:
      containers:
      - name: kubia
        image: luksa/kubia
"""

# The seed's ReplicaSet, in the apiVersion the book uses (removed from real clusters in 1.16).
OLD_RS = """\
apiVersion: apps/v1beta2
kind: ReplicaSet
metadata:
  name: kubia-old
spec:
  replicas: 1
  selector:
    matchLabels:
      app: kubia-old
  template:
    metadata:
      labels:
        app: kubia-old
    spec:
      containers:
      - name: kubia
        image: luksa/kubia
"""


@pytest.fixture(scope="module")
def k(live_kubelab, tmp_path_factory):
    create_cluster(live_kubelab, LAB, 2)
    return Kubectl(live_kubelab, LAB, tmp_path_factory.mktemp("k"))


def rows(output):
    """The table's rows, split on runs of spaces; the header row first."""
    return [re.split(r"\s{2,}", line.strip()) for line in output.strip().splitlines()]


def test_version_reports_a_1_32_server(k):
    out = k("version")
    assert "Server Version: v1.32.0" in out
    # The dispatcher ran the bundled kubectl 1.32, so no version-skew warning.
    assert "WARNING" not in out


def test_api_resources_lists_kinds_with_short_names(k):
    table = rows(k("api-resources"))
    assert table[0] == ["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"]
    assert ["pods", "po", "v1", "true", "Pod"] in table
    assert ["nodes", "no", "v1", "false", "Node"] in table
    assert ["replicationcontrollers", "rc", "v1", "true", "ReplicationController"] in table
    assert ["replicasets", "rs", "apps/v1", "true", "ReplicaSet"] in table
    assert ["cronjobs", "cj", "batch/v1", "true", "CronJob"] in table
    assert ["ingresses", "ing", "networking.k8s.io/v1", "true", "Ingress"] in table
    # EndpointSlices have no short name in Kubernetes 1.32.
    assert ["endpointslices", "discovery.k8s.io/v1", "true", "EndpointSlice"] in table
    # kubelab's own Clock, with no short name.
    assert ["clocks", "kubelab.io/v1", "false", "Clock"] in table


def test_api_versions_include_the_deprecated_ones_kubelab_accepts(k):
    versions = k("api-versions").split()
    assert {"v1", "apps/v1", "apps/v1beta2", "batch/v1", "batch/v1beta1", "extensions/v1beta1",
            "networking.k8s.io/v1", "kubelab.io/v1"} <= set(versions)


def test_patch_kubelabs_clock_by_its_resource_name(k):
    assert k("patch", "clock", "cluster", "--type=merge",
             "-p", '{"spec":{"speed":7}}').strip() == "clock.kubelab.io/cluster patched"
    assert k("get", "clock", "cluster", "-o", "jsonpath={.spec.speed}") == "7"


def test_get_by_short_name(k):
    nodes = rows(k("get", "no"))
    assert nodes[0][0] == "NAME" and len(nodes) == 3
    assert {row[0] for row in nodes[1:]} == {"node-1", "node-2"}
    for short in ("po", "rc", "svc", "ep", "ev", "cj", "ds", "rs", "ing"):
        result = k.run("get", short)
        assert result.ok, (short, result.stderr)
    assert "default" in k("get", "ns")


def test_apply_with_default_validation_creates(k, tmp_path):
    manifest = tmp_path / "pod.yaml"
    manifest.write_text(POD.format(name="disco-pod"))
    result = k.run("apply", "-f", str(manifest))
    assert result.ok, result.stderr
    assert result.stdout.strip() == "pod/disco-pod created"
    assert result.stderr == ""


def test_create_with_default_validation(k, tmp_path):
    manifest = tmp_path / "pod.yaml"
    manifest.write_text(POD.format(name="disco-created"))
    assert k("create", "-f", str(manifest)).strip() == "pod/disco-created created"
    again = k.run("create", "-f", str(manifest))
    assert again.returncode == 1
    assert 'pods "disco-created" already exists' in again.stderr


def test_get_all_lists_the_all_category(k, tmp_path):
    manifest = tmp_path / "all.yaml"
    manifest.write_text(RC + "---\n" + POD.format(name="disco-all"))
    k("apply", "-f", str(manifest))
    out = k("get", "all")
    assert "replicationcontroller/kubia" in out
    assert "pod/disco-all" in out
    # Events and endpoints are not in the "all" category.
    assert "event/" not in out and "endpoints/" not in out


def test_explain_a_field_with_its_description_and_sub_fields(k):
    out = k("explain", "pod.spec.containers.livenessProbe")
    assert out.startswith("KIND:       Pod\nVERSION:    v1\n")
    assert "FIELD: livenessProbe <Probe>" in out
    assert re.search(r"initialDelaySeconds\t<integer>\n\s+Number of seconds after the "
                     r"container has started", out)
    assert "httpGet\t<HTTPGetAction>" in out
    containers = k("explain", "pod.spec.containers")
    assert "name\t<string> -required-" in containers
    assert "List of containers belonging to the pod." in containers


def test_explain_kubelabs_clock(k):
    out = k("explain", "clock.spec")
    assert "GROUP:      kubelab.io" in out and "KIND:       Clock" in out
    assert "What the learner sets: pause and speed." in out
    assert "speed\t<integer>" in out and "Simulated seconds per wall second" in out


def test_explain_endpointslice_endpoints(k):
    out = k("explain", "endpointslice.endpoints")
    assert "GROUP:      discovery.k8s.io" in out and "KIND:       EndpointSlice" in out
    assert "FIELD: endpoints <[]Endpoint>" in out
    assert "addresses\t<[]string> -required-" in out and "targetRef\t<ObjectReference>" in out


def test_explain_an_unknown_field(k):
    result = k.run("explain", "pod.spec.nope")
    assert result.returncode != 0
    assert 'field "nope" does not exist' in result.stderr


def test_unknown_resource_type(k):
    result = k.run("get", "foo")
    assert result.returncode == 1
    assert result.stderr.strip() == 'error: the server doesn\'t have a resource type "foo"'


def test_apply_of_a_seed_manifest_in_a_deprecated_version_warns(k, tmp_path):
    manifest = tmp_path / "rs.yaml"
    manifest.write_text(OLD_RS)
    result = k.run("apply", "-f", str(manifest))
    assert result.ok, result.stderr
    assert "replicaset.apps/kubia-old created" in result.stdout
    assert ("Warning: apps/v1beta2 ReplicaSet is deprecated in v1.9+, unavailable in v1.16+; "
            "use apps/v1 ReplicaSet") in result.stderr
    # The server answers in the version asked for, so the second apply finds nothing to patch.
    again = k.run("apply", "-f", str(manifest))
    assert again.ok, again.stderr
    assert "replicaset.apps/kubia-old unchanged" in again.stdout


def test_the_seeds_extensions_v1beta1_ingress_applies_and_reads_back_in_its_version(k, tmp_path):
    manifest = tmp_path / "ing.yaml"
    manifest.write_text(seed_manifest("Ingress"))
    result = k.run("apply", "-f", str(manifest))
    assert result.ok, result.stderr
    assert "ingress.extensions/kubia created" in result.stdout
    assert "extensions/v1beta1 Ingress is deprecated" in result.stderr
    old = json.loads(k("get", "ingresses.v1beta1.extensions", "kubia", "-o", "json"))
    assert old["apiVersion"] == "extensions/v1beta1"
    backend = old["spec"]["rules"][0]["http"]["paths"][0]["backend"]
    assert backend == {"serviceName": "kubia-nodeport", "servicePort": 80}
    current = json.loads(k("get", "ingress", "kubia", "-o", "json"))
    assert current["apiVersion"] == "networking.k8s.io/v1"
    assert current["spec"]["rules"][0]["http"]["paths"][0]["backend"] == {
        "service": {"name": "kubia-nodeport", "port": {"number": 80}}}
