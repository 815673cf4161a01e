"""The write path: defaults, validation, concurrency, the change log and deletion, as the
Kubernetes 1.32 API server does them."""

import datetime as dt
import re

import pytest

from cluster import kinds, store
from cluster.errors import AlreadyExists, BadRequest, Conflict, Forbidden, Invalid, NotFound
from cluster.models import ApiObject, Change
from tests.builders import make_namespace, make_pod
from tests.conftest import START

POD = kinds.get("Pod")
NAMESPACE = kinds.get("Namespace")
EVENT = kinds.get("Event")
CLOCK = kinds.get("Clock", "kubelab.io")


def create(cluster, manifest, **kwargs):
    return store.create(cluster, manifest, **kwargs).object


def get_pod(cluster, name="kubia", namespace="default"):
    return store.get(cluster, POD, namespace, name)


def refused(error_class, call, *args, **kwargs):
    with pytest.raises(error_class) as caught:
        call(*args, **kwargs)
    return caught.value


def stamp(seconds):
    return (START + dt.timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def changes(cluster):
    return Change.objects.filter(cluster=cluster).count()


# --- defaults on create ----------------------------------------------------------------------


def test_a_created_pod_gets_the_api_servers_spec_defaults(cluster):
    spec = create(cluster, make_pod())["spec"]
    assert spec["restartPolicy"] == "Always"
    assert spec["terminationGracePeriodSeconds"] == 30
    assert spec["dnsPolicy"] == "ClusterFirst"
    assert spec["schedulerName"] == "default-scheduler"


@pytest.mark.parametrize("image, policy", [
    ("luksa/kubia", "Always"),             # no tag means :latest
    ("luksa/kubia:latest", "Always"),
    ("luksa/kubia:v1", "IfNotPresent"),
    ("localhost:5000/kubia", "Always"),     # a registry port is not a tag
])
def test_image_pull_policy_defaults_to_always_only_for_latest_images(cluster, image, policy):
    pod = create(cluster, make_pod(image=image))
    assert pod["spec"]["containers"][0]["imagePullPolicy"] == policy


def test_a_container_port_defaults_to_protocol_tcp(cluster):
    pod = create(cluster, make_pod(ports=[8080]))
    assert pod["spec"]["containers"][0]["ports"] == [{"containerPort": 8080, "protocol": "TCP"}]


def test_a_pod_without_a_namespace_lands_in_default(cluster):
    assert create(cluster, make_pod())["metadata"]["namespace"] == "default"


def test_default_toleration_seconds_adds_not_ready_and_unreachable_for_300_seconds(cluster):
    tolerations = create(cluster, make_pod())["spec"]["tolerations"]
    assert tolerations == [
        {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute",
         "tolerationSeconds": 300},
        {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute",
         "tolerationSeconds": 300},
    ]


def test_a_created_object_gets_a_uid_a_simulated_creation_time_and_a_resource_version(
        cluster, clock):
    clock.tick(5)
    meta = create(cluster, make_pod())["metadata"]
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
                        meta["uid"])
    assert meta["creationTimestamp"] == stamp(5)   # the cluster's clock, not the wall clock
    assert meta["resourceVersion"].isdigit()


def test_the_status_a_client_sends_on_create_is_reset(cluster):
    manifest = make_pod()
    manifest["status"] = {"phase": "Running", "podIP": "10.0.0.9"}
    assert create(cluster, manifest)["status"] == {"phase": "Pending", "qosClass": "BestEffort"}


def test_generate_name_appends_five_characters_of_kubernetes_alphabet(cluster):
    manifest = make_pod()
    manifest["metadata"] = {"generateName": "kubia-"}
    name = create(cluster, manifest)["metadata"]["name"]
    # utilrand.String: no vowels and no look-alike characters.
    assert re.fullmatch(r"kubia-[bcdfghjklmnpqrstvwxz2456789]{5}", name)


def test_creating_a_name_twice_is_already_exists(cluster):
    create(cluster, make_pod())
    error = refused(AlreadyExists, store.create, cluster, make_pod())
    assert (error.code, error.message) == (409, 'pods "kubia" already exists')


# --- updates and optimistic concurrency -------------------------------------------------------


def test_an_update_from_a_stale_resource_version_is_a_conflict(cluster):
    stale = create(cluster, make_pod())
    fresh = {**stale, "metadata": {**stale["metadata"], "labels": {"app": "kubia"}}}
    store.update(cluster, fresh)
    stale["metadata"]["labels"] = {"app": "other"}
    error = refused(Conflict, store.update, cluster, stale)
    assert error.message == (
        'Operation cannot be fulfilled on pods "kubia": the object has been modified; '
        "please apply your changes to the latest version and try again")


def test_an_update_without_a_resource_version_is_unconditional(cluster):
    pod = create(cluster, make_pod())
    del pod["metadata"]["resourceVersion"]
    pod["metadata"]["labels"] = {"app": "kubia"}
    written = store.update(cluster, pod)
    assert written.action == "configured"
    assert get_pod(cluster)["metadata"]["labels"] == {"app": "kubia"}


def test_an_update_that_changes_nothing_keeps_the_resource_version(cluster):
    pod = create(cluster, make_pod())
    before = changes(cluster)
    written = store.update(cluster, pod)
    assert written.action == "unchanged"
    assert written.object["metadata"]["resourceVersion"] == pod["metadata"]["resourceVersion"]
    assert changes(cluster) == before


def test_the_status_subresource_ignores_changes_to_spec(cluster):
    pod = create(cluster, make_pod())
    pod["spec"]["containers"][0]["image"] = "nginx"
    pod["status"] = {"phase": "Running"}
    written = store.update(cluster, pod, subresource="status").object
    assert written["status"] == {"phase": "Running"}
    assert written["spec"]["containers"][0]["image"] == "luksa/kubia"


def test_the_main_resource_ignores_changes_to_status(cluster):
    pod = create(cluster, make_pod())
    pod["status"] = {"phase": "Running"}
    pod["metadata"]["labels"] = {"app": "kubia"}
    written = store.update(cluster, pod).object
    assert written["status"]["phase"] == "Pending"
    assert written["metadata"]["labels"] == {"app": "kubia"}


def test_changing_a_pods_port_is_forbidden_as_validate_pod_update_forbids_it(cluster):
    pod = create(cluster, make_pod(ports=[8080]))
    pod["spec"]["containers"][0]["ports"][0]["containerPort"] = 9090
    error = refused(Invalid, store.update, cluster, pod)
    cause = error.details["causes"][0]
    assert (cause["field"], cause["reason"]) == ("spec", "FieldValueForbidden")
    assert cause["message"].startswith(
        "Forbidden: pod updates may not change fields other than `spec.containers[*].image`,"
        "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` "
        "(only additions to existing tolerations),`spec.terminationGracePeriodSeconds` "
        "(allow it to be set to 1 if it was previously negative)")


def test_changing_a_pods_image_is_allowed(cluster):
    pod = create(cluster, make_pod())
    pod["spec"]["containers"][0]["image"] = "luksa/kubia:v2"
    written = store.update(cluster, pod).object
    assert written["spec"]["containers"][0]["image"] == "luksa/kubia:v2"


# --- validation ------------------------------------------------------------------------------


def test_a_pod_name_must_be_a_dns1123_subdomain_in_kubernetes_words(cluster):
    manifest = make_pod("Kubia_1", containers=[{"name": "kubia", "image": "luksa/kubia"}])
    error = refused(Invalid, store.create, cluster, manifest)
    assert error.code == 422
    assert error.message == (
        'Pod "Kubia_1" is invalid: metadata.name: Invalid value: "Kubia_1": a lowercase RFC 1123 '
        "subdomain must consist of lower case alphanumeric characters, '-' or '.', and must "
        "start and end with an alphanumeric character (e.g. 'example.com', regex used for "
        r"validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")


def test_a_container_without_an_image_is_required_value_at_its_path(cluster):
    manifest = make_pod(containers=[{"name": "kubia"}])
    error = refused(Invalid, store.create, cluster, manifest)
    assert [str(e) for e in error.errors] == ["spec.containers[0].image: Required value"]


def test_two_containers_with_one_name_are_a_duplicate_value(cluster):
    manifest = make_pod(containers=[{"name": "web", "image": "nginx"},
                                    {"name": "web", "image": "busybox"}])
    error = refused(Invalid, store.create, cluster, manifest)
    assert [str(e) for e in error.errors] == ['spec.containers[1].name: Duplicate value: "web"']


def test_an_unknown_restart_policy_lists_the_supported_values(cluster):
    error = refused(Invalid, store.create, cluster, make_pod(restartPolicy="Sometimes"))
    assert [str(e) for e in error.errors] == [
        'spec.restartPolicy: Unsupported value: "Sometimes": supported values: '
        '"Always", "OnFailure", "Never"']


def test_a_malformed_quantity_is_refused_with_the_quantity_regex(cluster):
    manifest = make_pod(requests={"cpu": "lots"})
    error = refused(Invalid, store.create, cluster, manifest)
    assert "spec.containers[0].resources.requests[cpu]" in error.message
    assert "quantities must match the regular expression " \
           "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'" in error.message


def test_a_request_above_its_limit_is_invalid(cluster):
    manifest = make_pod()
    manifest["spec"]["containers"][0]["resources"] = {"requests": {"cpu": "2"},
                                                      "limits": {"cpu": "1"}}
    error = refused(Invalid, store.create, cluster, manifest)
    # ValidateResourceRequirements reports it at the requests map, not the key.
    assert [str(e) for e in error.errors] == [
        'spec.containers[0].resources.requests: Invalid value: "2": '
        "must be less than or equal to cpu limit of 1"]


def test_two_containers_listening_on_one_port_are_a_duplicate(cluster):
    # kubelab's teaching rule: the containers of a pod share one network namespace.
    manifest = make_pod(containers=[
        {"name": "web", "image": "nginx", "ports": [{"containerPort": 80}]},
        {"name": "proxy", "image": "nginx", "ports": [{"containerPort": 80}]},
    ])
    error = refused(Invalid, store.create, cluster, manifest)
    assert [(e.field, e.type) for e in error.errors] == [
        ("spec.containers[1].ports[0].containerPort", "FieldValueDuplicate")]


# --- namespaces ------------------------------------------------------------------------------


def test_creating_in_a_missing_namespace_is_not_found(cluster):
    error = refused(NotFound, store.create, cluster, make_pod(namespace="nowhere"))
    assert (error.code, error.message) == (404, 'namespaces "nowhere" not found')


@pytest.mark.parametrize("name", ["default", "kube-system", "kube-public"])
def test_the_system_namespaces_cannot_be_deleted(cluster, name):
    error = refused(Forbidden, store.delete, cluster, NAMESPACE, None, name)
    assert error.message == f'namespaces "{name}" is forbidden: this namespace may not be deleted'


def test_a_deleted_namespace_turns_terminating(cluster):
    create(cluster, make_namespace("team"))
    store.delete(cluster, NAMESPACE, None, "team")
    namespace = store.get(cluster, NAMESPACE, None, "team")
    assert namespace["status"]["phase"] == "Terminating"
    assert namespace["metadata"]["deletionTimestamp"] == stamp(0)


def test_a_deleted_namespace_is_emptied_then_goes(cluster, clock):
    create(cluster, make_namespace("team"))
    create(cluster, make_pod(namespace="team"))
    store.delete(cluster, NAMESPACE, None, "team")
    clock.tick(1)
    assert not ApiObject.objects.filter(cluster=cluster, namespace="team").exists()
    clock.tick(1)
    refused(NotFound, store.get, cluster, NAMESPACE, None, "team")


def test_nothing_can_be_created_in_a_terminating_namespace(cluster):
    create(cluster, make_namespace("team"))
    create(cluster, make_pod("keep", namespace="team"))
    store.delete(cluster, NAMESPACE, None, "team")
    error = refused(Forbidden, store.create, cluster, make_pod(namespace="team"))
    assert error.message == ('pods "kubia" is forbidden: unable to create new content in '
                             "namespace team because it is being terminated")


# --- the change log --------------------------------------------------------------------------


def test_every_write_appends_a_change_whose_id_is_the_resource_version(cluster):
    created = create(cluster, make_pod())
    created["metadata"]["labels"] = {"app": "kubia"}
    updated = store.update(cluster, created).object
    status = store.update(cluster, {**updated, "status": {"phase": "Running"}},
                          subresource="status").object
    log = list(Change.objects.filter(cluster=cluster, kind="Pod").order_by("id"))
    assert [(c.type, str(c.id)) for c in log] == [
        ("ADDED", created["metadata"]["resourceVersion"]),
        ("MODIFIED", updated["metadata"]["resourceVersion"]),
        ("MODIFIED", status["metadata"]["resourceVersion"]),
    ]


def test_the_deleted_change_carries_the_final_object(cluster):
    pod = create(cluster, make_pod(labels={"app": "kubia"}))
    store.delete(cluster, POD, "default", "kubia")
    last = Change.objects.filter(cluster=cluster, kind="Pod").latest("id")
    event = last.as_event()
    assert event["type"] == "DELETED"
    assert event["object"]["metadata"]["uid"] == pod["metadata"]["uid"]
    assert event["object"]["metadata"]["labels"] == {"app": "kubia"}
    assert event["object"]["metadata"]["resourceVersion"] == str(last.id)


# --- deletion --------------------------------------------------------------------------------


def test_an_unscheduled_pod_is_deleted_at_once(cluster):
    create(cluster, make_pod())
    store.delete(cluster, POD, "default", "kubia")
    refused(NotFound, get_pod, cluster)


def test_a_scheduled_pod_gets_a_deletion_timestamp_of_now_plus_its_grace_and_stays(
        cluster, clock):
    create(cluster, make_pod(node_name="node-1"))
    clock.tick(10)
    store.delete(cluster, POD, "default", "kubia")
    meta = get_pod(cluster)["metadata"]
    assert meta["deletionTimestamp"] == stamp(10 + 30)
    assert meta["deletionGracePeriodSeconds"] == 30


def test_a_scheduled_pod_deleted_with_grace_zero_goes_at_once(cluster):
    create(cluster, make_pod(node_name="node-1"))
    store.delete(cluster, POD, "default", "kubia", grace_period=0)
    refused(NotFound, get_pod, cluster)


def test_a_delete_with_a_wrong_uid_precondition_is_a_conflict(cluster):
    pod = create(cluster, make_pod())
    error = refused(Conflict, store.delete, cluster, POD, "default", "kubia",
                    preconditions={"uid": "not-the-uid"})
    # rest.BeforeDelete's words; it names the resource by its kind.
    assert error.message == (
        'Operation cannot be fulfilled on Pod "kubia": the UID in the precondition '
        f"(not-the-uid) does not match the UID in record ({pod['metadata']['uid']}). "
        "The object might have been deleted and then recreated")


def test_a_pod_survives_a_delete_refused_by_its_preconditions(cluster):
    create(cluster, make_pod())
    refused(Conflict, store.delete, cluster, POD, "default", "kubia",
            preconditions={"uid": "not-the-uid"})
    assert get_pod(cluster)["metadata"].get("deletionTimestamp") is None


def test_a_delete_with_a_stale_resource_version_precondition_is_a_conflict(cluster):
    pod = create(cluster, make_pod())
    rv = pod["metadata"]["resourceVersion"]
    error = refused(Conflict, store.delete, cluster, POD, "default", "kubia",
                    preconditions={"resourceVersion": "1"})
    assert error.message == (
        'Operation cannot be fulfilled on Pod "kubia": the ResourceVersion in the precondition '
        f"(1) does not match the ResourceVersion in record ({rv}). "
        "The object might have been modified")


def test_an_update_carrying_the_uid_of_a_deleted_object_is_a_conflict(cluster):
    # The uid in an update's body is a precondition (defaultUpdatedObjectInfo.Preconditions):
    # a client holding the old object must not overwrite the one recreated under its name.
    old = create(cluster, make_pod())
    store.delete(cluster, POD, "default", "kubia")
    new = create(cluster, make_pod())
    del old["metadata"]["resourceVersion"]
    old["metadata"]["labels"] = {"stale": "yes"}
    error = refused(Conflict, store.update, cluster, old)
    assert (f"Precondition failed: UID in precondition: {old['metadata']['uid']}, "
            f"UID in object meta: {new['metadata']['uid']}") in error.message


# --- dry run ---------------------------------------------------------------------------------


def test_a_dry_run_create_persists_nothing(cluster):
    before = changes(cluster)
    written = store.create(cluster, make_pod(), dry_run=True)
    assert written.object["metadata"]["name"] == "kubia"
    assert changes(cluster) == before
    refused(NotFound, get_pod, cluster)


def test_a_dry_run_update_persists_nothing(cluster):
    pod = create(cluster, make_pod())
    before = changes(cluster)
    pod["metadata"]["labels"] = {"app": "kubia"}
    store.update(cluster, pod, dry_run=True)
    assert changes(cluster) == before
    assert "labels" not in get_pod(cluster)["metadata"]


def test_a_dry_run_delete_persists_nothing(cluster):
    create(cluster, make_pod())
    before = changes(cluster)
    store.delete(cluster, POD, "default", "kubia", dry_run=True)
    assert changes(cluster) == before
    assert get_pod(cluster)


def test_a_dry_run_create_of_an_existing_name_is_already_exists(cluster):
    # A dry run goes through every check a real request does; only the storage write is skipped.
    create(cluster, make_pod())
    refused(AlreadyExists, store.create, cluster, make_pod(), dry_run=True)


def test_a_dry_run_create_in_a_missing_namespace_is_not_found(cluster):
    refused(NotFound, store.create, cluster, make_pod(namespace="nowhere"), dry_run=True)


# --- events ----------------------------------------------------------------------------------


def test_record_event_writes_a_core_v1_event_about_the_object(cluster):
    pod = create(cluster, make_pod())
    event = store.record_event(cluster, pod, "Normal", "Pulling", 'Pulling image "luksa/kubia"',
                               component="kubelet", host="node-1")
    assert event["involvedObject"] == {
        "kind": "Pod", "namespace": "default", "name": "kubia", "apiVersion": "v1",
        "uid": pod["metadata"]["uid"], "resourceVersion": pod["metadata"]["resourceVersion"]}
    assert event["source"] == {"component": "kubelet", "host": "node-1"}
    assert (event["firstTimestamp"], event["lastTimestamp"]) == (stamp(0), stamp(0))
    assert (event["count"], event["type"], event["reason"]) == (1, "Normal", "Pulling")
    assert event["metadata"]["namespace"] == "default"


def test_an_aggregated_repeat_counts_up_one_event(cluster):
    pod = create(cluster, make_pod())
    later = START + dt.timedelta(seconds=7)
    for now in (START, later):
        event = store.record_event(cluster, pod, "Warning", "FailedScheduling", "no room",
                                   component="default-scheduler", aggregate=True, now=now)
    assert (event["count"], event["firstTimestamp"], event["lastTimestamp"]) == \
        (2, stamp(0), stamp(7))
    about_pod = ApiObject.objects.filter(cluster=cluster, kind="Event",
                                         owner_uid=pod["metadata"]["uid"])
    assert about_pod.count() == 1


# --- patch and apply -------------------------------------------------------------------------


def test_a_merge_patch_with_null_deletes_a_label(cluster):
    create(cluster, make_pod(labels={"app": "kubia", "env": "prod"}))
    store.patch(cluster, POD, "default", "kubia", {"metadata": {"labels": {"env": None}}},
                store.MERGE_PATCH)
    assert get_pod(cluster)["metadata"]["labels"] == {"app": "kubia"}


def test_a_json_patch_applies_its_operations(cluster):
    create(cluster, make_pod(labels={"app": "kubia"}))
    store.patch(cluster, POD, "default", "kubia", [
        {"op": "add", "path": "/metadata/labels/env", "value": "prod"},
        {"op": "replace", "path": "/spec/containers/0/image", "value": "luksa/kubia:v2"},
    ], store.JSON_PATCH)
    pod = get_pod(cluster)
    assert pod["metadata"]["labels"] == {"app": "kubia", "env": "prod"}
    assert pod["spec"]["containers"][0]["image"] == "luksa/kubia:v2"


def test_apply_removes_an_annotation_dropped_from_the_manifest(cluster):
    manifest = make_pod()
    manifest["metadata"]["annotations"] = {"team": "blue", "owner": "ana"}
    store.apply(cluster, manifest)
    manifest["metadata"]["annotations"] = {"team": "blue"}
    store.apply(cluster, manifest)
    annotations = get_pod(cluster)["metadata"]["annotations"]
    assert {k: v for k, v in annotations.items() if k != store.LAST_APPLIED} == {"team": "blue"}


def test_apply_leaves_alone_what_others_wrote(cluster):
    store.apply(cluster, make_pod(labels={"app": "kubia"}))
    store.patch(cluster, POD, "default", "kubia", {"metadata": {"labels": {"seen": "yes"}}},
                store.MERGE_PATCH)
    store.apply(cluster, make_pod(labels={"app": "kubia", "env": "prod"}))
    assert get_pod(cluster)["metadata"]["labels"] == {"app": "kubia", "env": "prod", "seen": "yes"}


# --- the clock -------------------------------------------------------------------------------


def get_clock(cluster):
    return store.get(cluster, CLOCK, None, "cluster")


def test_the_clock_speed_can_be_set(cluster):
    clock_object = get_clock(cluster)
    clock_object["spec"]["speed"] = 50
    written = store.update(cluster, clock_object).object
    assert written["spec"]["speed"] == 50
    assert get_clock(cluster)["spec"]["speed"] == 50


@pytest.mark.parametrize("speed", [0, 101])
def test_a_clock_speed_outside_1_to_100_is_invalid(cluster, speed):
    clock_object = get_clock(cluster)
    clock_object["spec"]["speed"] = speed
    error = refused(Invalid, store.update, cluster, clock_object)
    assert [(e.field, e.type) for e in error.errors] == [("spec.speed", "FieldValueInvalid")]


def test_a_clock_update_from_a_stale_resource_version_is_a_conflict(cluster):
    stale = get_clock(cluster)
    fresh = get_clock(cluster)
    fresh["spec"]["paused"] = True
    store.update(cluster, fresh)
    stale["spec"]["speed"] = 10
    refused(Conflict, store.update, cluster, stale)


def test_a_null_container_is_refused_not_crashed_on(cluster):
    pod = make_pod("kubia")
    pod["spec"]["containers"] = [None]
    with pytest.raises(Invalid) as caught:
        store.create(cluster, pod)
    assert caught.value.errors[0].field == "spec.containers[0]"


def test_a_patch_that_turns_metadata_into_a_list_is_a_bad_request(cluster):
    store.create(cluster, make_pod("kubia"))
    with pytest.raises(BadRequest):
        store.patch(cluster, kinds.get("Pod"), "default", "kubia", {"metadata": []},
                    store.MERGE_PATCH)


def test_a_generated_name_keeps_within_63_characters(cluster):
    pod = make_pod("x")
    del pod["metadata"]["name"]
    pod["metadata"]["generateName"] = "a" * 70 + "-"
    name = create(cluster, pod)["metadata"]["name"]
    assert len(name) == 63 and name.startswith("a" * 58)
