"""The YAML form's apply: all documents or none, every error with its line; its Examples menu."""

from pathlib import Path

import pytest

from cluster import apply, kinds, store
from cluster.models import ApiObject

POD = """apiVersion: v1
kind: Pod
metadata:
  name: kubia-manual
  labels:
    app: kubia
spec:
  containers:
  - image: luksa/kubia
    name: kubia
    ports:
    - containerPort: 8080
      protocol: TCP
"""

# A learner's slip: ReplicaSets are served in apps/v1, never in v1.
RS_IN_V1 = """apiVersion: v1
kind: ReplicaSet
metadata:
  name: kubia
spec:
  selector:
    matchLabels:
      app: kubia
"""


def pods(cluster):
    return sorted(ApiObject.objects.filter(cluster=cluster, kind="Pod").values_list("name", flat=True))


def test_a_pod_is_created_then_configured_then_unchanged(cluster):
    first = apply.apply_text(cluster, POD)
    assert first.ok and [a.action for a in first.applied] == ["created"]
    again = apply.apply_text(cluster, POD)
    assert [a.action for a in again.applied] == ["unchanged"]
    relabelled = apply.apply_text(cluster, POD.replace("app: kubia", "app: kubia\n    env: prod"))
    assert [a.action for a in relabelled.applied] == ["configured"]
    pod = store.get(cluster, kinds.get("Pod"), "default", "kubia-manual")
    assert pod["metadata"]["labels"] == {"app": "kubia", "env": "prod"}


def test_a_label_removed_from_the_manifest_is_removed_from_the_pod(cluster):
    apply.apply_text(cluster, POD.replace("app: kubia", "app: kubia\n    env: prod"))
    apply.apply_text(cluster, POD)
    pod = store.get(cluster, kinds.get("Pod"), "default", "kubia-manual")
    assert pod["metadata"]["labels"] == {"app": "kubia"}


def test_changing_a_pods_port_is_refused_as_kubernetes_refuses_it(cluster):
    apply.apply_text(cluster, POD)
    report = apply.apply_text(cluster, POD.replace("8080", "9090"))
    assert not report.ok
    assert "pod updates may not change fields" in report.problems[0].message


def test_one_bad_document_applies_nothing_and_reports_every_error(cluster):
    text = POD + "---\n" + POD.replace("kubia-manual", "second").replace(
        "    name: kubia\n", "    name: kubia\n    imagePullPolicy: Sometimes\n") + "---\n" + \
        POD.replace("kubia-manual", "third").replace("image: luksa/kubia", "imagePullSecret: x")
    report = apply.apply_text(cluster, text)
    assert not report.ok
    assert pods(cluster) == []
    by_doc = {(p.document, p.field) for p in report.problems}
    assert (2, "spec.containers[0].imagePullPolicy") in by_doc
    assert any(p.document == 3 for p in report.problems)
    second = next(p for p in report.problems if p.document == 2)
    assert second.line == 25   # 13 lines of POD, "---", then line 11 of the second
    assert 'Unsupported value: "Sometimes"' in second.message


def test_a_kind_in_a_version_that_does_not_serve_it_is_refused_on_its_line(cluster):
    # (This used the seed's Service until Services were served.) kubectl's own words.
    report = apply.apply_text(cluster, RS_IN_V1)
    [problem] = report.problems
    assert (problem.line, problem.message) == (2, 'no matches for kind "ReplicaSet" in version "v1"')


def test_a_comment_without_a_space_before_the_hash_is_explained_on_its_line(cluster):
    report = apply.apply_text(cluster, POD.replace("containerPort: 8080", "containerPort: 8080# http"))
    assert not report.ok
    [problem] = report.problems
    assert problem.line == 12
    assert problem.field == "spec.containers[0].ports[0].containerPort"
    assert "space before #" in problem.hint


def test_a_tab_is_named_as_a_tab(cluster):
    report = apply.apply_text(cluster, POD.replace("  name: kubia-manual", "\tname: kubia-manual"))
    assert not report.ok
    assert "tab" in report.problems[0].message
    assert report.problems[0].line == 4


def test_an_unknown_field_is_refused_with_a_did_you_mean(cluster):
    report = apply.apply_text(cluster, POD.replace("    name: kubia\n", "    name: kubia\n    imagePullPolicyy: Always\n"))
    assert not report.ok
    [problem] = report.problems
    assert problem.field == "spec.containers[0].imagePullPolicyy"
    assert problem.line == 11
    assert "imagePullPolicy" in problem.hint


def test_namespace_then_pod_in_it_apply_together(cluster):
    text = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: custom\n---\n" + \
        POD.replace("  name: kubia-manual", "  name: kubia-manual\n  namespace: custom")
    report = apply.apply_text(cluster, text)
    assert report.ok, report.as_dict()
    assert [(a.kind, a.namespace) for a in report.applied] == [("Namespace", ""), ("Pod", "custom")]


def test_a_pod_in_a_missing_namespace_is_refused(cluster):
    report = apply.apply_text(cluster, POD.replace("  name: kubia-manual", "  name: kubia-manual\n  namespace: nope"))
    assert not report.ok
    assert report.problems[0].message == 'namespaces "nope" not found'


# --- the Examples menu ---------------------------------------------------------------------------

SEED_FILE = "/work/shared/seed/000_3812b945b6df1cdf.txt"
EXAMPLE_KINDS = {  # what each example is, for the menu's promise of what it holds
    "seed-kubia-rc": "ReplicationController", "seed-kubia-rs": "ReplicaSet",
    "seed-batch-job": "Job", "seed-cronjob": "CronJob", "seed-kubia-service": "Service",
    "seed-kubia-ingress": "Ingress", "book-kubia-manual": "Pod",
    "book-kubia-manual-with-labels": "Pod", "book-kubia-liveness": "Pod",
    "book-ssd-monitor-daemonset": "DaemonSet", "book-kubia-rc-readinessprobe":
    "ReplicationController",
}


def examples_list(client):
    response = client.get("/examples")
    assert response.status_code == 200
    return {e["slug"]: e for e in response.json()["examples"]}


def test_the_examples_list_holds_the_seeds_manifests_then_the_books(client, db):
    found = examples_list(client)
    assert list(found)[:8] == ["seed-liveness-probe", "seed-kubia-rc", "seed-kubia-rs",
                               "seed-batch-job", "seed-cronjob", "seed-kubia-service",
                               "seed-kubia-ingress", "seed-readiness-probe"]
    for slug, kind in EXAMPLE_KINDS.items():
        assert f"kind: {kind}" in found[slug]["text"], slug
    for example in found.values():
        assert example["title"] and example["note"] and example["where"]
        assert example["group"].startswith("The seed's" if example["source"] == "seed"
                                           else "Kubernetes in Action")


@pytest.mark.skipif(not Path(SEED_FILE).exists(), reason="the seed file is not on this machine")
def test_the_seeds_examples_are_the_seed_verbatim_mistakes_included(client, db):
    seed = Path(SEED_FILE).read_text(encoding="utf-8")
    found = examples_list(client)
    seeds = [e for e in found.values() if e["source"] == "seed"]
    assert len(seeds) == 8
    for example in seeds:
        assert example["text"] in seed, example["slug"]
    assert "\tstartingDeadlineSecond: 15 #" in found["seed-cronjob"]["text"]
    assert "targetPort: 8080# " in found["seed-kubia-service"]["text"]


def test_the_seeds_rc_example_applies_and_its_cronjob_example_is_taught(client, cluster):
    found = examples_list(client)
    response = client.post("/clusters/test/apply", {"manifest": found["seed-kubia-rc"]["text"]})
    assert response.json()["applied"][0]["kind"] == "ReplicationController"
    response = client.post("/clusters/test/apply", {"manifest": found["seed-cronjob"]["text"]})
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert error["line"] == 7 and "tab" in error["message"]


def test_the_board_embeds_the_examples_for_its_menu(client, cluster):
    page = client.get("/clusters/test/").content.decode()
    assert 'id="examples-open"' in page and 'aria-haspopup="menu"' in page
    assert '<script id="examples-data" type="application/json">' in page
    assert "batch-job-every-fifteen-minutes" in page
