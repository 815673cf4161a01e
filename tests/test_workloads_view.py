"""The Workloads tab's endpoints: scale (`kubectl scale`), delete with a cascade (`kubectl delete
--cascade=...`) and a CronJob's next run, each refusing in the API server's (or kubectl's) words."""

import datetime as dt

import pytest
from django.test import Client

from cluster import apply, kinds, store
from cluster.models import ApiObject
from dashboard import examples, workload_views

RC = kinds.get("ReplicationController")
RS = kinds.get("ReplicaSet", "apps")
CRONJOB = kinds.get("CronJob", "batch")
BASE = "/clusters/test/workloads"

CRONJOB_YAML = """apiVersion: batch/v1
kind: CronJob
metadata:
  name: every-fifteen
spec:
  schedule: "0,15,30,45 * * * *"
  startingDeadlineSeconds: 15
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers:
          - name: main
            image: luksa/batch-job
"""


def example(slug):
    return next(e["text"] for e in examples.all_examples() if e["slug"] == slug)


@pytest.fixture
def kubia_rc(cluster):
    """The seed's ReplicationController, applied from the Examples menu's copy."""
    assert apply.apply_text(cluster, example("seed-kubia-rc")).ok
    return store.get(cluster, RC, "default", "kubia")


def owned_pod(cluster, owner, name):
    """A pod claimed by `owner`, as its controller would make it."""
    ref = {"apiVersion": owner["apiVersion"], "kind": owner["kind"],
           "name": owner["metadata"]["name"], "uid": owner["metadata"]["uid"],
           "controller": True, "blockOwnerDeletion": True}
    return store.create(cluster, {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "labels": {"app": "kubia"}, "ownerReferences": [ref]},
        "spec": {"containers": [{"name": "kubia", "image": "luksa/kubia"}]}}).object


# --- scale ---------------------------------------------------------------------------------------

def test_scale_patches_spec_replicas_and_answers_as_kubectl_scale_prints(client, cluster,
                                                                        kubia_rc):
    response = client.post(f"{BASE}/replicationcontrollers/default/kubia/scale", {"replicas": "4"})
    assert response.status_code == 200
    body = response.json()
    assert body["message"] == "replicationcontroller/kubia scaled"
    assert body["replicas"] == 4
    stored = store.get(cluster, RC, "default", "kubia")
    assert stored["spec"]["replicas"] == 4
    assert body["resourceVersion"] == stored["metadata"]["resourceVersion"]
    assert stored["metadata"]["generation"] == 2  # a spec change, as the API server counts it


def test_a_replicaset_is_named_with_its_group(client, cluster):
    assert apply.apply_text(cluster, example("seed-kubia-rs")).ok
    response = client.post(f"{BASE}/replicasets/default/kubia/scale", {"replicas": "0"})
    assert response.json()["message"] == "replicaset.apps/kubia scaled"
    assert store.get(cluster, RS, "default", "kubia")["spec"]["replicas"] == 0


def test_a_negative_count_is_refused_in_the_api_servers_words(client, kubia_rc):
    response = client.post(f"{BASE}/replicationcontrollers/default/kubia/scale", {"replicas": "-1"})
    assert response.status_code == 422
    assert response.json()["message"] == (
        'ReplicationController "kubia" is invalid: spec.replicas: Invalid value: -1: '
        "must be greater than or equal to 0")


def test_a_count_that_is_not_a_number_is_refused_as_kubectl_refuses_it(client, kubia_rc):
    response = client.post(f"{BASE}/replicationcontrollers/default/kubia/scale",
                           {"replicas": "abc"})
    assert response.status_code == 400
    assert response.json()["message"] == ('invalid argument "abc" for "--replicas" flag: '
                                          'strconv.ParseInt: parsing "abc": invalid syntax')


def test_scaling_a_missing_controller_is_a_404_status(client, cluster):
    response = client.post(f"{BASE}/replicationcontrollers/default/nope/scale", {"replicas": "2"})
    assert response.status_code == 404
    assert response.json()["message"] == 'replicationcontrollers "nope" not found'


def test_only_replica_counts_scale(client, cluster):
    response = client.post(f"{BASE}/jobs/default/batch-job/scale", {"replicas": "2"})
    assert response.status_code == 400
    assert "only ReplicationControllers and ReplicaSets" in response.json()["message"]


def test_scale_needs_the_csrf_token(cluster, kubia_rc):
    strict = Client(enforce_csrf_checks=True)
    response = strict.post(f"{BASE}/replicationcontrollers/default/kubia/scale", {"replicas": "5"})
    assert response.status_code == 403
    assert store.get(cluster, RC, "default", "kubia")["spec"]["replicas"] == 3


# --- delete --------------------------------------------------------------------------------------

def test_delete_background_removes_the_controller_and_the_collector_its_pods(client, kubia_rc,
                                                                            cluster, clock):
    owned_pod(cluster, kubia_rc, "kubia-aaaaa")
    response = client.post(f"{BASE}/replicationcontrollers/default/kubia/delete",
                           {"cascade": "background"})
    assert response.status_code == 200
    assert response.json()["message"] == 'replicationcontroller "kubia" deleted'
    assert response.json()["propagationPolicy"] == "Background"
    assert not ApiObject.objects.filter(cluster=cluster, kind="ReplicationController").exists()
    clock.tick(1)
    # The garbage collector deleted it (at once: it was on no node yet).
    pod = ApiObject.objects.filter(cluster=cluster, kind="Pod", name="kubia-aaaaa").first()
    assert pod is None or pod.body["metadata"].get("deletionTimestamp")


def test_delete_orphan_keeps_the_pods_and_releases_them(client, kubia_rc, cluster, clock):
    owned_pod(cluster, kubia_rc, "kubia-bbbbb")
    response = client.post(f"{BASE}/replicationcontrollers/default/kubia/delete",
                           {"cascade": "orphan"})
    assert response.json()["propagationPolicy"] == "Orphan"
    rc = store.get(cluster, RC, "default", "kubia")
    assert rc["metadata"]["deletionTimestamp"] and rc["metadata"]["finalizers"] == ["orphan"]
    clock.tick(1)
    pod = ApiObject.objects.get(cluster=cluster, kind="Pod", name="kubia-bbbbb").body
    assert "ownerReferences" not in pod["metadata"] and not pod["metadata"].get("deletionTimestamp")
    assert not ApiObject.objects.filter(cluster=cluster, kind="ReplicationController").exists()


def test_delete_foreground_keeps_the_controller_until_its_pods_are_gone(client, kubia_rc, cluster):
    owned_pod(cluster, kubia_rc, "kubia-ccccc")
    client.post(f"{BASE}/replicationcontrollers/default/kubia/delete", {"cascade": "foreground"})
    rc = store.get(cluster, RC, "default", "kubia")
    assert rc["metadata"]["finalizers"] == ["foregroundDeletion"]


def test_an_unknown_cascade_is_refused_in_kubectls_words(client, cluster, kubia_rc):
    response = client.post(f"{BASE}/replicationcontrollers/default/kubia/delete",
                           {"cascade": "yes"})
    assert response.status_code == 400
    assert response.json()["message"] == ('invalid cascade value (yes). Must be "background", '
                                          '"foreground", or "orphan".')
    assert store.get(cluster, RC, "default", "kubia")


def test_deleting_an_unknown_resource_is_a_404_status(client, cluster):
    response = client.post(f"{BASE}/services/default/kubia/delete", {"cascade": "background"})
    assert response.status_code == 404


# --- a CronJob's next run ------------------------------------------------------------------------

@pytest.fixture
def cronjob(cluster):
    assert apply.apply_text(cluster, CRONJOB_YAML).ok
    return store.get(cluster, CRONJOB, "default", "every-fifteen")


def test_next_run_answers_what_the_controllers_helper_says(client, cronjob, monkeypatch):
    asked = []

    def helper(obj, now):
        asked.append((obj["metadata"]["name"], now))
        return now.replace(minute=15, second=0)

    monkeypatch.setattr(workload_views, "next_schedule_time", helper)
    body = client.get(f"{BASE}/cronjobs/default/every-fifteen/next").json()
    assert asked == [("every-fifteen", dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.timezone.utc))]
    assert body["now"] == "2026-01-01T12:00:00Z"
    assert body["next"] == "2026-01-01T12:15:00Z"
    assert body["schedule"] == "0,15,30,45 * * * *" and body["suspend"] is False


def test_next_run_is_null_when_there_is_none(client, cronjob, monkeypatch):
    monkeypatch.setattr(workload_views, "next_schedule_time", lambda obj, now: None)
    assert client.get(f"{BASE}/cronjobs/default/every-fifteen/next").json()["next"] is None


def test_next_run_of_a_schedule_that_never_fires_says_why(client, cronjob, monkeypatch):
    from cluster.cron import TOO_CLOSE, CronError

    def never(obj, now):
        raise CronError(TOO_CLOSE)

    monkeypatch.setattr(workload_views, "next_schedule_time", never)
    body = client.get(f"{BASE}/cronjobs/default/every-fifteen/next").json()
    assert body["next"] is None and body["message"] == TOO_CLOSE


def test_next_run_of_a_missing_cronjob_is_a_404_status(client, cluster, monkeypatch):
    monkeypatch.setattr(workload_views, "next_schedule_time", lambda obj, now: None)
    response = client.get(f"{BASE}/cronjobs/default/nope/next")
    assert response.status_code == 404
    assert response.json()["message"] == 'cronjobs.batch "nope" not found'


def test_next_run_with_the_cronjob_controllers_own_helper(client, cronjob):
    body = client.get(f"{BASE}/cronjobs/default/every-fifteen/next").json()
    # Created at 12:00:00 with "0,15,30,45 * * * *": the first start is a quarter past.
    assert body["next"] == "2026-01-01T12:15:00Z"
