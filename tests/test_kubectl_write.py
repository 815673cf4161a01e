"""Real kubectl 1.32 writing to a live kubelab: apply (client- and server-side), create, replace,
edit, patch, label, annotate and delete print what they print against a 1.32 cluster, and the
objects end up as a real API server would leave them.

The module works in a cluster of its own (`write-lab`); each test uses its own object names.
"""

import json

import pytest
import yaml

from tests import live
from tests.live import set_clock, until
from tests.kubectl import Kubectl
from tests.live import create_cluster

LAB = "write-lab"
BASE = f"/clusters/{LAB}"


def api(server, method, path, body=None, content_type="application/json"):
    return live.api(server, method, BASE + path, body, content_type)


def get_pod(server, name):
    status, body = api(server, "GET", f"/api/v1/namespaces/default/pods/{name}")
    return body if status == 200 else None


def pod(name, labels=None, image="nginx:1.27", **container):
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "labels": labels or {}},
            "spec": {"containers": [{"name": "main", "image": image, **container}]}}


def replicaset(name, replicas=1):
    labels = {"app": name}
    return {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": name},
            "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels},
                                  "spec": {"containers": [{"name": "main",
                                                           "image": "nginx:1.27"}]}}}}


def service(name, labels=None):
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "labels": labels or {}},
            "spec": {"selector": {"app": name}, "ports": [{"port": 80}]}}


def pods_of(server, app):
    status, body = api(server, "GET", f"/api/v1/namespaces/default/pods?labelSelector=app%3D{app}")
    return body["items"]


@pytest.fixture(scope="module")
def lab(live_kubelab):
    create_cluster(live_kubelab, LAB, 2)
    # x10: a deleted pod's 30 s grace period (foreground deletion waits it out) takes 3 s.
    set_clock(live_kubelab, LAB, speed=10)
    return live_kubelab


@pytest.fixture(scope="module")
def k(lab, tmp_path_factory):
    return Kubectl(lab, LAB, tmp_path_factory.mktemp("k"))


@pytest.fixture
def manifest(tmp_path):
    """write(obj, name) -> the path of a YAML file holding obj."""
    def write(obj, name="m.yaml"):
        path = tmp_path / name
        path.write_text(yaml.safe_dump(obj))
        return str(path)
    return write


# --- apply ------------------------------------------------------------------------------------

def test_apply_creates_configures_then_is_unchanged(lab, k, manifest):
    path = manifest(pod("ap-1", {"app": "web", "tier": "front"}))
    assert k("apply", "-f", path).strip() == "pod/ap-1 created"
    stored = get_pod(lab, "ap-1")
    applied = json.loads(stored["metadata"]["annotations"]
                         ["kubectl.kubernetes.io/last-applied-configuration"])
    assert applied["metadata"]["labels"] == {"app": "web", "tier": "front"}
    assert k("apply", "-f", path).strip() == "pod/ap-1 unchanged"
    path = manifest(pod("ap-1", {"app": "web"}, image="nginx:1.28"))
    assert k("apply", "-f", path).strip() == "pod/ap-1 configured"
    stored = get_pod(lab, "ap-1")
    assert stored["metadata"]["labels"] == {"app": "web"}       # three-way: tier removed
    assert stored["spec"]["containers"][0]["image"] == "nginx:1.28"


def test_apply_keeps_what_others_wrote(lab, k, manifest):
    path = manifest(pod("ap-2", {"app": "web"}))
    k("apply", "-f", path)
    k("label", "pod", "ap-2", "owner=ops")
    k("apply", "-f", manifest(pod("ap-2", {"app": "web"}, image="nginx:1.28")))
    stored = get_pod(lab, "ap-2")
    assert stored["metadata"]["labels"] == {"app": "web", "owner": "ops"}
    # The defaults the server filled in (restartPolicy, the container's pull policy) stay.
    assert stored["spec"]["restartPolicy"] == "Always"
    assert stored["spec"]["containers"][0]["image"] == "nginx:1.28"


def test_apply_removes_a_container_and_merges_env_by_name(lab, k, manifest):
    # kubectl sends a strategic merge patch: `$setElementOrder/containers` and a
    # `$patch: delete` element for the container the file no longer has.
    rs = replicaset("ap-rs", 0)
    template = rs["spec"]["template"]["spec"]
    template["containers"][0]["env"] = [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]
    template["containers"].append({"name": "side", "image": "busybox:1.37"})
    k("apply", "-f", manifest(rs))
    template["containers"].pop()
    template["containers"][0]["env"] = [{"name": "B", "value": "3"}]
    assert k("apply", "-f", manifest(rs)).strip() == "replicaset.apps/ap-rs configured"
    status, stored = api(lab, "GET", "/apis/apps/v1/namespaces/default/replicasets/ap-rs")
    containers = stored["spec"]["template"]["spec"]["containers"]
    assert [c["name"] for c in containers] == ["main"]
    assert containers[0]["env"] == [{"name": "B", "value": "3"}]


def test_apply_dry_run_server_persists_nothing(lab, k, manifest):
    out = k("apply", "--dry-run=server", "-f", manifest(pod("ap-3")))
    assert out.strip() == "pod/ap-3 created (server dry run)"
    assert get_pod(lab, "ap-3") is None


def test_server_side_apply_creates_then_updates(lab, k, manifest):
    assert k("apply", "--server-side", "-f", manifest(pod("ssa-1", {"a": "1"}))).strip() \
        == "pod/ssa-1 serverside-applied"
    k("apply", "--server-side", "-f", manifest(pod("ssa-1", {"a": "1", "b": "2"})))
    stored = get_pod(lab, "ssa-1")
    assert stored["metadata"]["labels"] == {"a": "1", "b": "2"}
    assert "kubectl.kubernetes.io/last-applied-configuration" not in \
        (stored["metadata"].get("annotations") or {})
    entry, = [m for m in stored["metadata"]["managedFields"] if m["manager"] == "kubectl"]
    assert entry["operation"] == "Apply"
    assert entry["fieldsV1"]["f:metadata"]["f:labels"] == {"f:a": {}, "f:b": {}}
    # A label the manifest no longer sets is removed; one another manager set stays.
    k("label", "pod", "ssa-1", "ops=yes")
    k("apply", "--server-side", "-f", manifest(pod("ssa-1", {"b": "2"})))
    assert get_pod(lab, "ssa-1")["metadata"]["labels"] == {"b": "2", "ops": "yes"}
    assert k("apply", "--server-side", "--dry-run=server", "-f",
             manifest(pod("ssa-1", {"c": "3"}))).strip() \
        == "pod/ssa-1 serverside-applied (server dry run)"
    assert get_pod(lab, "ssa-1")["metadata"]["labels"] == {"b": "2", "ops": "yes"}


def test_server_side_apply_conflicts_between_managers(lab, k, manifest):
    k("apply", "--server-side", "-f", manifest(pod("ssa-2", {"team": "a"})))
    result = k.run("apply", "--server-side", "--field-manager=other",
                   "-f", manifest(pod("ssa-2", {"team": "b"})))
    assert not result.ok
    assert result.stderr.startswith(
        'error: Apply failed with 1 conflict: conflict with "kubectl": .metadata.labels.team')
    assert "--force-conflicts" in result.stderr
    # The same value is no conflict: both managers own it then.
    k("apply", "--server-side", "--field-manager=other",
      "-f", manifest(pod("ssa-2", {"team": "a"})))
    out = k("apply", "--server-side", "--field-manager=other", "--force-conflicts",
            "-f", manifest(pod("ssa-2", {"team": "b"})))
    assert out.strip() == "pod/ssa-2 serverside-applied"
    stored = get_pod(lab, "ssa-2")
    assert stored["metadata"]["labels"] == {"team": "b"}
    first, = [m for m in stored["metadata"]["managedFields"] if m["manager"] == "kubectl"]
    assert "f:team" not in first["fieldsV1"].get("f:metadata", {}).get("f:labels", {})


def test_unknown_field_is_a_strict_decoding_error(lab, k, manifest):
    bad = pod("ap-4")
    bad["spec"]["containers"][0]["commad"] = ["sleep"]
    result = k.run("apply", "-f", manifest(bad, "bad.yaml"))
    assert not result.ok
    assert result.stderr.startswith(
        'Error from server (BadRequest): error when creating "' )
    assert 'Pod in version "v1" cannot be handled as a Pod: strict decoding error: ' \
           'unknown field "spec.containers[0].commad"' in result.stderr
    assert "kubelab hint: did you mean" in result.stderr


def test_invalid_object_is_printed_with_its_field(lab, k, manifest):
    result = k.run("apply", "-f", manifest(pod("ap-5", image="")))
    assert not result.ok
    assert 'The Pod "ap-5" is invalid: spec.containers[0].image: Required value' \
        in result.stderr


# --- create, replace, edit --------------------------------------------------------------------

def test_create_twice_is_already_exists(lab, k, manifest):
    path = manifest(pod("cr-1"), "cr-1.yaml")
    assert k("create", "-f", path).strip() == "pod/cr-1 created"
    result = k.run("create", "-f", path)
    assert result.returncode == 1
    assert result.stderr.strip() == ('Error from server (AlreadyExists): error when creating '
                                     f'"{path}": pods "cr-1" already exists')


def test_create_dry_run_server_persists_nothing(lab, k, manifest):
    out = k("create", "--dry-run=server", "-f", manifest(pod("cr-2")))
    assert out.strip() == "pod/cr-2 created (server dry run)"
    assert get_pod(lab, "cr-2") is None


def test_replace_and_a_stale_replace_conflicts(lab, k, manifest):
    # A Service: no controller writes it meanwhile, so its resourceVersion stays put.
    k("create", "-f", manifest(service("rp-1", {"v": "1"})))
    status, current = api(lab, "GET", "/api/v1/namespaces/default/services/rp-1")
    newer = json.loads(json.dumps(current))
    newer["metadata"]["labels"] = {"v": "2"}
    assert k("replace", "-f", manifest(newer, "newer.yaml")).strip() == "service/rp-1 replaced"
    status, stored = api(lab, "GET", "/api/v1/namespaces/default/services/rp-1")
    assert stored["metadata"]["labels"] == {"v": "2"}
    current["metadata"]["labels"] = {"v": "3"}     # still at the old resourceVersion
    result = k.run("replace", "-f", manifest(current, "stale.yaml"))
    assert not result.ok
    assert 'Error from server (Conflict): error when replacing "' in result.stderr
    assert 'Operation cannot be fulfilled on services "rp-1": the object has been modified; ' \
           "please apply your changes to the latest version and try again" in result.stderr


def test_edit_with_an_editor_command(lab, k, manifest):
    k("create", "-f", manifest(pod("ed-1", {"stage": "draft"})))
    out = k("edit", "pod", "ed-1", env={"EDITOR": "sed -i s/stage:\\ draft/stage:\\ final/"})
    assert out.strip() == "pod/ed-1 edited"
    assert get_pod(lab, "ed-1")["metadata"]["labels"] == {"stage": "final"}


# --- patch ------------------------------------------------------------------------------------

def test_patch_strategic_merges_containers_by_name(lab, k, manifest):
    k("create", "-f", manifest(pod("pt-1")))
    out = k("patch", "pod", "pt-1", "-p",
            '{"spec":{"containers":[{"name":"main","image":"nginx:1.28"}]}}')
    assert out.strip() == "pod/pt-1 patched"
    containers = get_pod(lab, "pt-1")["spec"]["containers"]
    assert len(containers) == 1
    assert containers[0]["image"] == "nginx:1.28" and containers[0]["name"] == "main"


def test_patch_merge_and_json(lab, k, manifest):
    k("create", "-f", manifest(pod("pt-2", {"a": "1"})))
    k("patch", "pod", "pt-2", "--type", "merge", "-p", '{"metadata":{"labels":{"b":"2"}}}')
    k("patch", "pod", "pt-2", "--type", "json",
      "-p", '[{"op":"remove","path":"/metadata/labels/a"}]')
    assert get_pod(lab, "pt-2")["metadata"]["labels"] == {"b": "2"}
    # "(no change)" compares kubectl's read with the patch's answer: wait until the kubelet
    # has nothing more to write about the pod (Running and ready), or it may write between.
    until("pt-2 to run and be ready", lambda: all(
        c.get("ready") for c in (get_pod(lab, "pt-2").get("status") or {}).get(
            "containerStatuses") or [{}]))
    # kubectl patch sends no fieldValidation: the server's default (Warn) drops the field.
    result = k.run("patch", "pod", "pt-2", "--type", "merge", "-p", '{"spec":{"foo":1}}')
    assert result.ok
    assert result.stderr.strip() == 'Warning: unknown field "spec.foo"'
    assert result.stdout.strip() == "pod/pt-2 patched (no change)"


def test_patch_that_changes_nothing_and_a_dry_run(lab, k, manifest):
    # A Service: no controller writes it between kubectl's read and its patch.
    k("create", "-f", manifest(service("pt-3", {"a": "1"})))
    out = k("patch", "svc", "pt-3", "-p", '{"metadata":{"labels":{"a":"1"}}}')
    assert out.strip() == "service/pt-3 patched (no change)"
    out = k("patch", "svc", "pt-3", "--dry-run=server", "-p", '{"metadata":{"labels":{"a":"2"}}}')
    assert out.strip() == "service/pt-3 patched"     # kubectl patch prints no dry-run suffix
    status, stored = api(lab, "GET", "/api/v1/namespaces/default/services/pt-3")
    assert stored["metadata"]["labels"] == {"a": "1"}


def test_patch_of_a_missing_pod_is_not_found(lab, k):
    result = k.run("patch", "pod", "nope", "-p", '{"metadata":{"labels":{"a":"1"}}}')
    assert result.stderr.strip() == 'Error from server (NotFound): pods "nope" not found'


# --- label, annotate --------------------------------------------------------------------------

def test_label_overwrite_and_remove(lab, k, manifest):
    k("create", "-f", manifest(pod("lb-1", {"tier": "front"})))
    result = k.run("label", "pod", "lb-1", "tier=back")
    assert not result.ok
    assert "'tier' already has a value (front), and --overwrite is false" in result.stderr
    assert k("label", "pod", "lb-1", "tier=back", "--overwrite").strip() == "pod/lb-1 labeled"
    assert get_pod(lab, "lb-1")["metadata"]["labels"] == {"tier": "back"}
    assert k("label", "pod", "lb-1", "tier-").strip() == "pod/lb-1 unlabeled"
    assert not get_pod(lab, "lb-1")["metadata"].get("labels")


def test_annotate(lab, k, manifest):
    k("create", "-f", manifest(pod("an-1")))
    assert k("annotate", "pod", "an-1", "note=hi").strip() == "pod/an-1 annotated"
    assert get_pod(lab, "an-1")["metadata"]["annotations"]["note"] == "hi"
    k("annotate", "pod", "an-1", "note-")
    assert "note" not in (get_pod(lab, "an-1")["metadata"].get("annotations") or {})


def test_an_invalid_label_value_is_invalid(lab, k, manifest):
    k("create", "-f", manifest(pod("lb-2")))
    # kubectl label checks values itself; a patch reaches the server's validation.
    result = k.run("patch", "pod", "lb-2", "--type", "merge",
                   "-p", '{"metadata":{"labels":{"x":"-bad-"}}}')
    assert not result.ok
    assert 'The Pod "lb-2" is invalid: metadata.labels: Invalid value: "-bad-"' in result.stderr


# --- delete -----------------------------------------------------------------------------------

def test_delete_force_now(lab, k, manifest):
    k("create", "-f", manifest(pod("dl-1")))
    result = k.run("delete", "pod", "dl-1", "--force", "--grace-period=0", "--wait=false")
    assert result.ok, result.stderr
    assert result.stdout.strip() == 'pod "dl-1" force deleted'
    assert "Immediate deletion does not wait for confirmation" in result.stderr
    assert get_pod(lab, "dl-1") is None


def test_delete_by_label_and_by_file(lab, k, manifest):
    k("create", "-f", manifest(pod("dl-2", {"batch": "x"}), "a.yaml"))
    k("create", "-f", manifest(pod("dl-3", {"batch": "x"}), "b.yaml"))
    path = manifest(pod("dl-4"), "c.yaml")
    k("create", "-f", path)
    out = k("delete", "pods", "-l", "batch=x", "--grace-period=0", "--force", "--wait=false")
    assert sorted(out.split("\n")) == ["", 'pod "dl-2" force deleted', 'pod "dl-3" force deleted']
    out = k("delete", "-f", path, "--wait=false")
    assert out.strip() == 'pod "dl-4" deleted'


def test_delete_waits_for_the_object_to_go(lab, k, manifest):
    # kubectl's default --wait watches the object until its DELETED event.
    k("create", "-f", manifest(service("dl-6")))
    result = k.run("delete", "svc", "dl-6", timeout=30)
    assert result.ok, result.stderr
    assert result.stdout.strip() == 'service "dl-6" deleted'


def test_delete_a_running_pod_waits_for_its_kubelet(lab, k, manifest):
    k("create", "-f", manifest(pod("dl-7")))
    until("the live server to catch up", lambda: (get_pod(lab, "dl-7") or {}).get("status", {}).get("phase") == "Running")
    # kubectl's default --wait: it returns once the kubelet has finished the pod (its list or
    # the watch's DELETED says so), even when the pod goes before kubectl lists it.
    result = k.run("delete", "pod", "dl-7", "--grace-period=1", timeout=60)
    assert result.ok, result.stderr
    assert result.stdout.strip() == 'pod "dl-7" deleted'
    assert get_pod(lab, "dl-7") is None


def test_delete_dry_run_server_keeps_the_object(lab, k, manifest):
    k("create", "-f", manifest(pod("dl-5")))
    out = k("delete", "pod", "dl-5", "--dry-run=server", "--wait=false")
    assert out.strip() == 'pod "dl-5" deleted (server dry run)'
    stored = get_pod(lab, "dl-5")
    assert stored is not None and not stored["metadata"].get("deletionTimestamp")


def test_delete_missing_is_not_found(lab, k):
    result = k.run("delete", "pod", "ghost", "--wait=false")
    assert result.stderr.strip() == 'Error from server (NotFound): pods "ghost" not found'


def test_delete_orphan_keeps_the_pods(lab, k, manifest):
    k("create", "-f", manifest(replicaset("orph", 1)))
    until("the live server to catch up", lambda: pods_of(lab, "orph"))
    out = k("delete", "rs", "orph", "--cascade=orphan", "--wait=false")
    assert out.strip() == 'replicaset.apps "orph" deleted'
    until("the live server to catch up", lambda: api(lab, "GET", "/apis/apps/v1/namespaces/default/replicasets/orph")[0] == 404)
    pod_left, = until("the live server to catch up", lambda: [p for p in pods_of(lab, "orph")
                               if not p["metadata"].get("ownerReferences")])
    assert not pod_left["metadata"].get("deletionTimestamp")


def test_delete_background_takes_the_pods(lab, k, manifest):
    k("create", "-f", manifest(replicaset("bg", 1)))
    until("the live server to catch up", lambda: pods_of(lab, "bg"))
    assert k("delete", "rs", "bg", "--wait=false").strip() == 'replicaset.apps "bg" deleted'
    until("the live server to catch up", lambda: all(p["metadata"].get("deletionTimestamp") for p in pods_of(lab, "bg")))


def test_delete_foreground_waits_for_the_pods_first(lab, k, manifest):
    k("create", "-f", manifest(replicaset("fg", 1)))
    until("the live server to catch up", lambda: pods_of(lab, "fg"))
    out = k("delete", "rs", "fg", "--cascade=foreground", "--wait=false")
    assert out.strip() == 'replicaset.apps "fg" deleted'
    status, rs = api(lab, "GET", "/apis/apps/v1/namespaces/default/replicasets/fg")
    if status == 200:   # the garbage collector may not have emptied it yet
        assert "foregroundDeletion" in rs["metadata"]["finalizers"]
        assert rs["metadata"]["deletionTimestamp"]
    until("the foreground-deleted ReplicaSet to go",
          lambda: api(lab, "GET", "/apis/apps/v1/namespaces/default/replicasets/fg")[0] == 404,
          seconds=60)


def test_reapplying_with_an_unknown_field_is_refused(lab, k, manifest):
    k("apply", "-f", manifest(pod("ap-6")))
    bad = pod("ap-6")
    bad["spec"]["containers"][0]["imagePullPolicyy"] = "Always"
    result = k.run("apply", "-f", manifest(bad, "bad.yaml"))
    assert not result.ok
    # kubectl shows the patch it sent, then the server's message for it.
    assert result.stderr.startswith("Error from server (BadRequest): error when applying patch:")
    assert '"$setElementOrder/containers":[{"name":"main"}]' in result.stderr
    assert 'strict decoding error: unknown field "spec.containers[0].imagePullPolicyy"' \
        in result.stderr


def test_apply_changes_service_ports_by_port(lab, k, manifest):
    svc = service("ap-svc")
    svc["spec"]["ports"] = [{"name": "http", "port": 80}, {"name": "https", "port": 443}]
    k("apply", "-f", manifest(svc))
    svc["spec"]["ports"] = [{"name": "https", "port": 443, "targetPort": 8443}]
    assert k("apply", "-f", manifest(svc)).strip() == "service/ap-svc configured"
    status, stored = api(lab, "GET", "/api/v1/namespaces/default/services/ap-svc")
    ports = stored["spec"]["ports"]
    assert [(p["port"], p["targetPort"]) for p in ports] == [(443, 8443)]
    assert stored["spec"]["clusterIP"]          # allocated by the server, kept by the patch


def test_diff_shows_what_apply_would_change(lab, k, manifest):
    k("apply", "-f", manifest(service("df-1", {"v": "1"})))
    result = k.run("diff", "-f", manifest(service("df-1", {"v": "2"})))
    assert result.returncode == 1, result.stderr       # 1: there are differences
    assert "-    v: \"1\"" in result.stdout and "+    v: \"2\"" in result.stdout
    assert k.run("diff", "-f", manifest(service("df-1", {"v": "1"}))).returncode == 0
    status, stored = api(lab, "GET", "/api/v1/namespaces/default/services/df-1")
    assert stored["metadata"]["labels"] == {"v": "1"}


def test_replace_force_recreates(lab, k, manifest):
    k("create", "-f", manifest(service("rf-1")))
    status, before = api(lab, "GET", "/api/v1/namespaces/default/services/rf-1")
    out = k("replace", "--force", "-f", manifest(service("rf-1", {"v": "2"})), timeout=60)
    assert out.split("\n")[:2] == ['service "rf-1" deleted', "service/rf-1 replaced"]
    status, after = api(lab, "GET", "/api/v1/namespaces/default/services/rf-1")
    assert after["metadata"]["uid"] != before["metadata"]["uid"]
    assert after["metadata"]["labels"] == {"v": "2"}
