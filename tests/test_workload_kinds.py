"""The workload kinds (ReplicationController, ReplicaSet, DaemonSet, Job, CronJob): defaults,
validation and old apiVersions as the Kubernetes 1.32 API server has them, worded as it words
them. Each rule's source is named in the kind's module."""

import re

import pytest

from cluster import apply, kinds, store
from cluster.errors import Invalid
from tests.builders import seed_manifest

RC = kinds.get("ReplicationController")
RS = kinds.get("ReplicaSet", "apps")
DS = kinds.get("DaemonSet", "apps")
JOB = kinds.get("Job", "batch")
CRONJOB = kinds.get("CronJob", "batch")
KUBIA = {"app": "kubia"}


# --- builders ----------------------------------------------------------------------------------

def pod_template(labels=KUBIA, restart_policy=None, image="luksa/kubia", **spec):
    template = {"spec": {"containers": [{"name": "main", "image": image}], **spec}}
    if labels is not None:
        template["metadata"] = {"labels": dict(labels)}
    if restart_policy:
        template["spec"]["restartPolicy"] = restart_policy
    return template


def make_rc(name="kubia", *, selector=None, template=None, **spec):
    spec = {"template": template or pod_template(), **spec}
    if selector is not None:
        spec["selector"] = selector
    return {"apiVersion": "v1", "kind": "ReplicationController", "metadata": {"name": name},
            "spec": spec}


def make_rs(name="kubia", *, api_version="apps/v1", selector=None, template=None, **spec):
    spec = {"selector": {"matchLabels": dict(KUBIA)} if selector is None else selector,
            "template": template or pod_template(), **spec}
    if selector == "absent":
        del spec["selector"]
    return {"apiVersion": api_version, "kind": "ReplicaSet", "metadata": {"name": name},
            "spec": spec}


def make_ds(name="monitor", *, api_version="apps/v1", selector=None, template=None, **spec):
    rs = make_rs(name, api_version=api_version, selector=selector, template=template, **spec)
    return {**rs, "kind": "DaemonSet"}


def make_job(name="batch-job", *, template=None, **spec):
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name},
            "spec": {"template": template or pod_template({"app": "batch-job"}, "OnFailure",
                                                          image="luksa/batch-job"), **spec}}


def make_cronjob(name="every-fifteen", *, api_version="batch/v1", job_spec=None, **spec):
    job_spec = job_spec or {"template": pod_template({"app": "periodic"}, "OnFailure",
                                                     image="luksa/batch-job")}
    return {"apiVersion": api_version, "kind": "CronJob", "metadata": {"name": name},
            "spec": {"schedule": "0,15,30,45 * * * *", "jobTemplate": {"spec": job_spec},
                     **spec}}


def create(cluster, manifest):
    return store.create(cluster, manifest).object


def refusal(cluster, manifest):
    """The Invalid message the API server answers a create with."""
    with pytest.raises(Invalid) as caught:
        store.create(cluster, manifest)
    return caught.value.message


def update_refusal(cluster, obj):
    with pytest.raises(Invalid) as caught:
        store.update(cluster, obj)
    return caught.value.message


# --- pod templates -----------------------------------------------------------------------------

def test_a_template_gets_the_pod_spec_defaults_but_not_what_only_pods_get(cluster):
    spec = create(cluster, make_rc())["spec"]["template"]["spec"]
    assert spec["restartPolicy"] == "Always"
    assert spec["dnsPolicy"] == "ClusterFirst"
    assert spec["terminationGracePeriodSeconds"] == 30
    assert spec["schedulerName"] == "default-scheduler"
    assert spec["securityContext"] == {}
    assert spec["containers"][0]["imagePullPolicy"] == "Always"
    assert spec["containers"][0]["terminationMessagePath"] == "/dev/termination-log"
    # Admission plugins and SetDefaults_Pod touch Pods only.
    for pod_only in ("tolerations", "priority", "enableServiceLinks", "serviceAccountName"):
        assert pod_only not in spec


def test_a_template_container_error_names_the_template_path(cluster):
    template = pod_template()
    del template["spec"]["containers"][0]["image"]
    assert refusal(cluster, make_rc(template=template)) == (
        'ReplicationController "kubia" is invalid: '
        "spec.template.spec.containers[0].image: Required value")


def test_template_labels_are_checked_at_the_path_kubernetes_names(cluster):
    # ValidatePodTemplateSpec reports `<template>.labels`, not `.metadata.labels`.
    message = refusal(cluster, make_rc(template=pod_template({"app": "bad value!"}),
                                       selector={"app": "kubia"}))
    assert 'spec.template.labels: Invalid value: "bad value!": a valid label must' in message


# --- ReplicationController ---------------------------------------------------------------------

def test_rc_defaults_replicas_to_1_and_selector_and_labels_to_the_template_labels(cluster):
    rc = create(cluster, make_rc())
    assert rc["spec"]["replicas"] == 1
    assert rc["spec"]["selector"] == KUBIA
    assert rc["metadata"]["labels"] == KUBIA


def test_rc_starts_with_status_replicas_0_and_generation_1(cluster):
    rc = create(cluster, make_rc())
    assert rc["status"] == {"replicas": 0}
    assert rc["metadata"]["generation"] == 1


def test_rc_names_and_short_name():
    assert (RC.api_version, RC.plural, RC.short_names, RC.categories) == (
        "v1", "replicationcontrollers", ("rc",), ("all",))


def test_rc_template_labels_must_match_the_selector(cluster):
    message = refusal(cluster, make_rc(selector={"app": "web"}))
    assert message == (
        'ReplicationController "kubia" is invalid: spec.template.metadata.labels: Invalid '
        'value: map[string]string{"app":"kubia"}: `selector` does not match template `labels`')


def test_rc_without_a_template_needs_a_selector_and_a_template(cluster):
    manifest = {"apiVersion": "v1", "kind": "ReplicationController", "metadata": {"name": "x"},
                "spec": {"replicas": 2}}
    assert refusal(cluster, manifest) == (
        'ReplicationController "x" is invalid: [spec.selector: Required value, '
        "spec.template: Required value]")


def test_rc_pods_must_restart_always(cluster):
    message = refusal(cluster, make_rc(template=pod_template(restart_policy="Never")))
    assert message.endswith('spec.template.spec.restartPolicy: Unsupported value: "Never": '
                            'supported values: "Always"')


def test_rc_refuses_negative_replicas_and_an_active_deadline(cluster):
    template = pod_template(activeDeadlineSeconds=30)
    assert refusal(cluster, make_rc(replicas=-1, template=template)) == (
        'ReplicationController "kubia" is invalid: [spec.replicas: Invalid value: -1: must be '
        "greater than or equal to 0, spec.template.spec.activeDeadlineSeconds: Invalid value: "
        "30: must not be specified]")


def test_rc_selector_may_change(cluster):
    rc = create(cluster, make_rc())
    rc["spec"]["selector"] = {"app": "kubia", "tier": "web"}
    rc["spec"]["template"]["metadata"]["labels"]["tier"] = "web"
    updated = store.update(cluster, rc).object
    assert updated["spec"]["selector"] == {"app": "kubia", "tier": "web"}
    assert updated["metadata"]["generation"] == 2


def test_the_seeds_rc_applies_as_written(cluster):
    report = apply.apply_text(cluster, seed_manifest("ReplicationController"))
    assert report.ok, report.problems
    rc = store.get(cluster, RC, "default", "kubia")
    assert rc["spec"]["replicas"] == 3
    assert rc["spec"]["template"]["spec"]["containers"][0]["ports"] == [
        {"containerPort": 8080, "protocol": "TCP"}]


# --- ReplicaSet --------------------------------------------------------------------------------

def test_rs_defaults_replicas_to_1_and_leaves_its_labels_alone(cluster):
    rs = create(cluster, make_rs())
    assert rs["spec"]["replicas"] == 1
    assert "labels" not in rs["metadata"]
    assert rs["status"] == {"replicas": 0}
    assert (RS.api_version, RS.short_names, RS.categories) == ("apps/v1", ("rs",), ("all",))


def test_rs_in_apps_v1_requires_a_selector(cluster):
    assert refusal(cluster, make_rs(selector="absent")) == (
        'ReplicaSet.apps "kubia" is invalid: [spec.selector: Required value, '
        "spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"kubia\"}: "
        "`selector` does not match template `labels`]")


def test_rs_refuses_an_empty_selector_in_the_words_kubernetes_uses(cluster):
    # ValidateReplicaSetSpec says "deployment": the message was copied there long ago.
    assert refusal(cluster, make_rs(selector={})) == (
        'ReplicaSet.apps "kubia" is invalid: spec.selector: Invalid value: '
        "v1.LabelSelector{MatchLabels:map[string]string(nil), "
        "MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: "
        "empty selector is invalid for deployment")


@pytest.mark.parametrize("expression, labels", [
    ({"key": "app", "operator": "In", "values": ["kubia", "web"]}, {"app": "web"}),
    ({"key": "env", "operator": "NotIn", "values": ["prod"]}, {"app": "kubia"}),
    ({"key": "app", "operator": "Exists"}, {"app": "kubia"}),
    ({"key": "env", "operator": "DoesNotExist"}, {"app": "kubia"}),
])
def test_rs_match_expressions_take_the_four_operators(cluster, expression, labels):
    rs = create(cluster, make_rs(selector={"matchExpressions": [expression]},
                                 template=pod_template(labels)))
    assert rs["spec"]["selector"]["matchExpressions"] == [expression]


def test_rs_in_without_values_is_refused_twice_as_kubernetes_does(cluster):
    selector = {"matchExpressions": [{"key": "app", "operator": "In"}]}
    assert refusal(cluster, make_rs(selector=selector)) == (
        'ReplicaSet.apps "kubia" is invalid: [spec.selector.matchExpressions[0].values: '
        "Required value: must be specified when `operator` is 'In' or 'NotIn', "
        "spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), "
        "MatchExpressions:[]v1.LabelSelectorRequirement{v1.LabelSelectorRequirement{"
        'Key:"app", Operator:"In", Values:[]string(nil)}}}: invalid label selector]')


def test_rs_exists_with_values_is_forbidden(cluster):
    selector = {"matchExpressions": [{"key": "app", "operator": "Exists",
                                      "values": ["kubia"]}]}
    message = refusal(cluster, make_rs(selector=selector))
    assert ("spec.selector.matchExpressions[0].values: Forbidden: may not be specified when "
            "`operator` is 'Exists' or 'DoesNotExist'") in message


def test_rs_unknown_operator_is_not_a_valid_selector_operator(cluster):
    selector = {"matchExpressions": [{"key": "app", "operator": "Equals",
                                      "values": ["kubia"]}]}
    message = refusal(cluster, make_rs(selector=selector))
    assert ('spec.selector.matchExpressions[0].operator: Invalid value: "Equals": not a valid '
            "selector operator") in message


def test_rs_expression_values_must_be_label_values(cluster):
    selector = {"matchExpressions": [{"key": "app", "operator": "In", "values": ["a b"]}]}
    message = refusal(cluster, make_rs(selector=selector))
    assert 'spec.selector.matchExpressions[0].values[0]: Invalid value: "a b": a valid label' \
        in message


def test_rs_selector_must_match_its_template(cluster):
    selector = {"matchExpressions": [{"key": "app", "operator": "NotIn", "values": ["kubia"]}]}
    message = refusal(cluster, make_rs(selector=selector))
    assert message == (
        'ReplicaSet.apps "kubia" is invalid: spec.template.metadata.labels: Invalid value: '
        'map[string]string{"app":"kubia"}: `selector` does not match template `labels`')


def test_rs_pods_restart_always_and_have_no_deadline(cluster):
    template = pod_template(restart_policy="OnFailure", activeDeadlineSeconds=10)
    assert refusal(cluster, make_rs(template=template)) == (
        'ReplicaSet.apps "kubia" is invalid: [spec.template.spec.restartPolicy: Unsupported '
        'value: "OnFailure": supported values: "Always", '
        "spec.template.spec.activeDeadlineSeconds: Forbidden: activeDeadlineSeconds in "
        "ReplicaSet is not Supported]")


def test_rs_selector_is_immutable(cluster):
    rs = create(cluster, make_rs(template=pod_template({"app": "kubia", "tier": "web"})))
    rs["spec"]["selector"] = {"matchLabels": {"tier": "web"}}
    assert update_refusal(cluster, rs) == (
        'ReplicaSet.apps "kubia" is invalid: spec.selector: Invalid value: '
        'v1.LabelSelector{MatchLabels:map[string]string{"tier":"web"}, '
        "MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable")


def test_rs_replicas_may_change_and_bump_the_generation(cluster):
    rs = create(cluster, make_rs())
    rs["spec"]["replicas"] = 5
    assert store.update(cluster, rs).object["metadata"]["generation"] == 2


def test_rs_in_apps_v1beta2_is_converted_with_the_deprecation_warning(cluster):
    written = store.create(cluster, make_rs(api_version="apps/v1beta2"))
    assert written.object["apiVersion"] == "apps/v1"
    assert written.warnings == [
        "apps/v1beta2 ReplicaSet is deprecated in v1.9+, unavailable in v1.16+; "
        "use apps/v1 ReplicaSet"]


def test_rs_in_extensions_v1beta1_defaults_its_selector_from_the_template():
    manifest = make_rs(api_version="extensions/v1beta1", selector="absent")
    converted = RS.convert(manifest, "extensions/v1beta1")
    assert converted["apiVersion"] == "apps/v1"
    assert converted["spec"]["selector"] == {"matchLabels": KUBIA}
    assert converted["metadata"]["labels"] == KUBIA
    assert RS.deprecated_versions["extensions/v1beta1"] == (
        "extensions/v1beta1 ReplicaSet is deprecated in v1.8+, unavailable in v1.16+; "
        "use apps/v1 ReplicaSet")


def test_rs_in_extensions_v1beta1_is_accepted_through_the_store(cluster):
    written = store.create(cluster, make_rs(api_version="extensions/v1beta1",
                                            selector="absent"))
    assert written.object["apiVersion"] == "apps/v1"
    assert written.object["spec"]["selector"] == {"matchLabels": KUBIA}
    assert written.warnings == [RS.deprecated_versions["extensions/v1beta1"]]


def test_the_seeds_rs_applies_with_the_apps_v1beta2_warning(cluster):
    report = apply.apply_text(cluster, seed_manifest("ReplicaSet"))
    assert report.ok, report.problems
    assert report.applied[0].warnings == [RS.deprecated_versions["apps/v1beta2"]]
    rs = store.get(cluster, RS, "default", "kubia")
    assert rs["apiVersion"] == "apps/v1"
    assert rs["spec"]["selector"] == {
        "matchExpressions": [{"key": "app", "operator": "In", "values": ["kubia"]}]}


# --- DaemonSet ---------------------------------------------------------------------------------

def test_ds_defaults_a_rolling_update_of_one_pod_and_ten_revisions(cluster):
    ds = create(cluster, make_ds())
    assert ds["spec"]["updateStrategy"] == {
        "type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}}
    assert ds["spec"]["revisionHistoryLimit"] == 10
    assert ds["status"] == {"currentNumberScheduled": 0, "numberMisscheduled": 0,
                            "desiredNumberScheduled": 0, "numberReady": 0}
    assert (DS.api_version, DS.short_names, DS.categories) == ("apps/v1", ("ds",), ("all",))


def test_ds_on_delete_gets_no_rolling_update(cluster):
    ds = create(cluster, make_ds(updateStrategy={"type": "OnDelete"}))
    assert ds["spec"]["updateStrategy"] == {"type": "OnDelete"}


def test_ds_without_a_selector_only_mismatches_and_kubelab_says_why(cluster):
    with pytest.raises(Invalid) as caught:
        store.create(cluster, make_ds(selector="absent"))
    assert caught.value.message == (
        'DaemonSet.apps "monitor" is invalid: spec.template.metadata.labels: Invalid value: '
        'map[string]string{"app":"kubia"}: `selector` does not match template `labels`')
    assert "spec.selector is missing" in caught.value.errors[0].hint


def test_ds_refuses_an_empty_selector(cluster):
    assert refusal(cluster, make_ds(selector={})).endswith(
        "empty selector is invalid for daemonset")


def test_ds_pods_restart_always(cluster):
    message = refusal(cluster, make_ds(template=pod_template(restart_policy="Never")))
    assert message == (
        'DaemonSet.apps "monitor" is invalid: spec.template.spec.restartPolicy: Unsupported '
        'value: "Never": supported values: "Always"')


@pytest.mark.parametrize("rolling, error", [
    ({"maxUnavailable": 0, "maxSurge": 0},
     "spec.updateStrategy.rollingUpdate.maxUnavailable: Required value: cannot be 0 when "
     "maxSurge is 0"),
    ({"maxUnavailable": 1, "maxSurge": 1},
     "spec.updateStrategy.rollingUpdate.maxSurge: Invalid value: intstr.IntOrString{Type:0, "
     'IntVal:1, StrVal:""}: may not be set when maxUnavailable is non-zero'),
    ({"maxUnavailable": "150%", "maxSurge": 0},
     "spec.updateStrategy.rollingUpdate.maxUnavailable: Invalid value: intstr.IntOrString{"
     'Type:1, IntVal:0, StrVal:"150%"}: must not be greater than 100%'),
    ({"maxUnavailable": "half", "maxSurge": 0},
     "spec.updateStrategy.rollingUpdate.maxUnavailable: Invalid value: intstr.IntOrString{"
     "Type:1, IntVal:0, StrVal:\"half\"}: a valid percent string must be a numeric string "
     "followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is "
     "'[0-9]+%')"),
])
def test_ds_rolling_update_bounds(cluster, rolling, error):
    manifest = make_ds(updateStrategy={"type": "RollingUpdate", "rollingUpdate": rolling})
    assert error in refusal(cluster, manifest)


def test_ds_refuses_an_unknown_update_strategy(cluster):
    assert refusal(cluster, make_ds(updateStrategy={"type": "Recreate"})) == (
        'DaemonSet.apps "monitor" is invalid: spec.updateStrategy: Unsupported value: '
        'apps.DaemonSetUpdateStrategy{Type:"Recreate", '
        "RollingUpdate:(*apps.RollingUpdateDaemonSet)(nil)}: supported values: "
        '"RollingUpdate", "OnDelete"')


def test_ds_selector_is_immutable(cluster):
    ds = create(cluster, make_ds())
    ds["spec"]["selector"] = {"matchLabels": {"app": "kubia"},
                              "matchExpressions": [{"key": "tier", "operator": "DoesNotExist"}]}
    assert update_refusal(cluster, ds).endswith("field is immutable")


def test_ds_in_apps_v1beta2_is_converted_with_the_deprecation_warning(cluster):
    written = store.create(cluster, make_ds(api_version="apps/v1beta2"))
    assert written.object["apiVersion"] == "apps/v1"
    assert written.warnings == [
        "apps/v1beta2 DaemonSet is deprecated in v1.9+, unavailable in v1.16+; "
        "use apps/v1 DaemonSet"]


def test_ds_in_extensions_v1beta1_defaulted_its_selector_and_on_delete():
    converted = DS.convert(make_ds(api_version="extensions/v1beta1", selector="absent"),
                           "extensions/v1beta1")
    assert converted["spec"]["selector"] == {"matchLabels": KUBIA}
    assert converted["spec"]["updateStrategy"] == {"type": "OnDelete"}


# --- Job ---------------------------------------------------------------------------------------

def test_job_defaults(cluster):
    spec = create(cluster, make_job())["spec"]
    assert {k: spec[k] for k in ("completions", "parallelism", "backoffLimit", "completionMode",
                                 "suspend", "podReplacementPolicy", "manualSelector")} == {
        "completions": 1, "parallelism": 1, "backoffLimit": 6, "completionMode": "NonIndexed",
        "suspend": False, "podReplacementPolicy": "TerminatingOrFailed",
        "manualSelector": False}
    assert (JOB.api_version, JOB.short_names, JOB.categories) == ("batch/v1", (), ("all",))


def test_job_with_only_parallelism_keeps_completions_unset(cluster):
    spec = create(cluster, make_job(parallelism=3))["spec"]
    assert spec["parallelism"] == 3
    assert "completions" not in spec


def test_job_with_only_completions_runs_one_pod_at_a_time(cluster):
    spec = create(cluster, make_job(completions=5))["spec"]
    assert (spec["completions"], spec["parallelism"]) == (5, 1)


def test_job_backoff_limit_per_index_lifts_the_job_backoff_limit(cluster):
    spec = create(cluster, make_job(completionMode="Indexed", completions=3,
                                    backoffLimitPerIndex=1,
                                    template=pod_template({}, "Never")))["spec"]
    assert spec["backoffLimit"] == 2147483647


def test_job_with_a_pod_failure_policy_replaces_only_failed_pods(cluster):
    spec = create(cluster, make_job(
        podFailurePolicy={"rules": [{"action": "FailJob",
                                     "onExitCodes": {"operator": "In", "values": [42]}}]},
        template=pod_template({}, "Never")))["spec"]
    assert spec["podReplacementPolicy"] == "Failed"


def test_job_gets_its_generated_selector_and_labels_from_its_uid(cluster):
    job = create(cluster, make_job())
    uid = job["metadata"]["uid"]
    assert job["spec"]["selector"] == {
        "matchLabels": {"batch.kubernetes.io/controller-uid": uid}}
    expected = {"app": "batch-job", "batch.kubernetes.io/controller-uid": uid,
                "batch.kubernetes.io/job-name": "batch-job", "controller-uid": uid,
                "job-name": "batch-job"}
    assert job["spec"]["template"]["metadata"]["labels"] == expected
    # The Job's own labels default to the template's, which share the generated ones.
    assert job["metadata"]["labels"] == expected
    assert job["status"] == {}


def test_job_keeps_its_own_labels_when_it_has_some(cluster):
    manifest = make_job()
    manifest["metadata"]["labels"] = {"team": "data"}
    assert create(cluster, manifest)["metadata"]["labels"] == {"team": "data"}


def test_job_refuses_a_selector_of_its_own_unless_manual(cluster):
    message = refusal(cluster, make_job(selector={"matchLabels": {"app": "batch-job"}}))
    assert re.fullmatch(
        r'Job.batch "batch-job" is invalid: spec.selector: Invalid value: v1.LabelSelector\{'
        r'MatchLabels:map\[string\]string\{"app":"batch-job", '
        r'"batch.kubernetes.io/controller-uid":"[0-9a-f-]{36}"\}, '
        r"MatchExpressions:\[\]v1.LabelSelectorRequirement\(nil\)\}: "
        r"`selector` not auto-generated", message)


def test_job_with_a_manual_selector_keeps_it(cluster):
    job = create(cluster, make_job(manualSelector=True,
                                   selector={"matchLabels": {"app": "batch-job"}}))
    assert job["spec"]["selector"] == {"matchLabels": {"app": "batch-job"}}
    assert job["spec"]["template"]["metadata"]["labels"] == {"app": "batch-job"}


def test_job_with_a_manual_selector_must_write_one(cluster):
    assert refusal(cluster, make_job(manualSelector=True)) == (
        'Job.batch "batch-job" is invalid: [spec.selector: Required value, '
        "spec.template.metadata.labels: Invalid value: "
        'map[string]string{"app":"batch-job"}: `selector` does not match template `labels`]')


def test_job_generated_label_written_wrong_is_refused(cluster):
    template = pod_template({"job-name": "other"}, "Never")
    message = refusal(cluster, make_job(template=template))
    assert "spec.template.metadata.labels[job-name]: Invalid value: map[string]string{" in message
    assert "must be 'batch-job'" in message


def test_job_pods_must_not_restart_always(cluster):
    # The PodSpec default (Always) is refused as a choice not made.
    template = pod_template({"app": "batch-job"})
    assert refusal(cluster, make_job(template=template)) == (
        'Job.batch "batch-job" is invalid: spec.template.spec.restartPolicy: Required value: '
        'valid values: "OnFailure", "Never"')


def test_job_unknown_restart_policy_is_unsupported_twice(cluster):
    template = pod_template({"app": "batch-job"}, "Sometimes")
    assert refusal(cluster, make_job(template=template)) == (
        'Job.batch "batch-job" is invalid: [spec.template.spec.restartPolicy: Unsupported '
        'value: "Sometimes": supported values: "Always", "OnFailure", "Never", '
        'spec.template.spec.restartPolicy: Unsupported value: "Sometimes": supported values: '
        '"OnFailure", "Never"]')


def test_job_refuses_negative_counts(cluster):
    assert refusal(cluster, make_job(activeDeadlineSeconds=-5, backoffLimit=-1)) == (
        'Job.batch "batch-job" is invalid: [spec.activeDeadlineSeconds: Invalid value: -5: '
        "must be greater than or equal to 0, spec.backoffLimit: Invalid value: -1: must be "
        "greater than or equal to 0]")


def test_job_completion_mode_is_non_indexed_or_indexed(cluster):
    assert refusal(cluster, make_job(completionMode="Ordered")).endswith(
        'spec.completionMode: Unsupported value: "Ordered": supported values: "NonIndexed", '
        '"Indexed"')


def test_indexed_job_needs_completions(cluster):
    message = refusal(cluster, make_job(completionMode="Indexed", parallelism=2))
    assert message.endswith("spec.completions: Required value: when completion mode is Indexed")


def test_job_pod_template_is_immutable(cluster):
    job = create(cluster, make_job())
    job["spec"]["template"]["spec"]["containers"][0]["image"] = "luksa/batch-job:v2"
    with pytest.raises(Invalid) as caught:
        store.update(cluster, job)
    assert caught.value.message == (
        'Job.batch "batch-job" is invalid: spec.template: Invalid value: '
        "core.PodTemplateSpec{...}: field is immutable")
    assert "delete the Job" in caught.value.errors[0].hint


def test_suspended_job_that_never_ran_may_move_its_pods(cluster):
    job = create(cluster, make_job(suspend=True))
    job["spec"]["template"]["spec"]["nodeSelector"] = {"disk": "ssd"}
    updated = store.update(cluster, job).object
    assert updated["spec"]["template"]["spec"]["nodeSelector"] == {"disk": "ssd"}


def test_running_job_may_not_move_its_pods(cluster):
    job = create(cluster, make_job())
    job["spec"]["template"]["spec"]["nodeSelector"] = {"disk": "ssd"}
    assert update_refusal(cluster, job).endswith("spec.template: Invalid value: "
                                                 "core.PodTemplateSpec{...}: field is immutable")


def test_job_completions_and_selector_are_immutable(cluster):
    job = create(cluster, make_job(manualSelector=True,
                                   selector={"matchLabels": {"app": "batch-job"}}))
    job["spec"]["completions"] = 3
    job["spec"]["selector"] = {"matchLabels": {"app": "batch-job", "x": "y"}}
    job["spec"]["template"]["metadata"]["labels"]["x"] = "y"
    message = update_refusal(cluster, job)
    assert "spec.completions: Invalid value: 3: field is immutable" in message
    assert ("spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"
            '"app":"batch-job", "x":"y"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: '
            "field is immutable") in message


def test_job_may_be_resumed(cluster):
    job = create(cluster, make_job(suspend=True))
    job["spec"]["suspend"] = False
    assert store.update(cluster, job).object["spec"]["suspend"] is False


def test_job_owned_by_a_cronjob_is_indexed_by_its_owner(cluster):
    cronjob = create(cluster, make_cronjob())
    manifest = make_job("every-fifteen-29450000")
    manifest["metadata"]["ownerReferences"] = [{
        "apiVersion": "batch/v1", "kind": "CronJob", "name": "every-fifteen",
        "uid": cronjob["metadata"]["uid"], "controller": True}]
    job = create(cluster, manifest)
    row = store.get_row(cluster, JOB, "default", job["metadata"]["name"])
    assert row.owner_uid == cronjob["metadata"]["uid"]


def test_the_seeds_job_applies_as_written(cluster):
    report = apply.apply_text(cluster, seed_manifest("Job"))
    assert report.ok, report.problems
    job = store.get(cluster, JOB, "default", "batch-job")
    assert job["spec"]["template"]["metadata"]["labels"]["batch.kubernetes.io/job-name"] == \
        "batch-job"


# --- CronJob -----------------------------------------------------------------------------------

def test_cronjob_defaults(cluster):
    spec = create(cluster, make_cronjob())["spec"]
    assert {k: spec[k] for k in ("concurrencyPolicy", "suspend", "successfulJobsHistoryLimit",
                                 "failedJobsHistoryLimit")} == {
        "concurrencyPolicy": "Allow", "suspend": False, "successfulJobsHistoryLimit": 3,
        "failedJobsHistoryLimit": 1}
    job_spec = spec["jobTemplate"]["spec"]
    # Job defaults wait for the Job; only the pod template inside is defaulted now.
    assert "backoffLimit" not in job_spec and "completions" not in job_spec
    assert job_spec["template"]["spec"]["dnsPolicy"] == "ClusterFirst"
    assert (CRONJOB.api_version, CRONJOB.short_names, CRONJOB.categories) == (
        "batch/v1", ("cj",), ("all",))


def test_cronjob_starts_with_an_empty_status(cluster):
    assert create(cluster, make_cronjob())["status"] == {}


def test_cronjob_concurrency_policy_values(cluster):
    assert refusal(cluster, make_cronjob(concurrencyPolicy="Sometimes")) == (
        'CronJob.batch "every-fifteen" is invalid: spec.concurrencyPolicy: Unsupported value: '
        '"Sometimes": supported values: "Allow", "Forbid", "Replace"')


def test_cronjob_job_template_errors_name_their_path(cluster):
    job_spec = {"template": pod_template({"app": "periodic"})}
    del job_spec["template"]["spec"]["containers"][0]["image"]
    assert refusal(cluster, make_cronjob(job_spec=job_spec)) == (
        'CronJob.batch "every-fifteen" is invalid: ['
        "spec.jobTemplate.spec.template.spec.containers[0].image: Required value, "
        "spec.jobTemplate.spec.template.spec.restartPolicy: Required value: valid values: "
        '"OnFailure", "Never"]')


def test_cronjob_job_template_gets_its_selector_generated(cluster):
    job_spec = {"template": pod_template({"app": "periodic"}, "Never"), "manualSelector": True,
                "selector": {"matchLabels": {"app": "periodic"}}}
    assert refusal(cluster, make_cronjob(job_spec=job_spec)) == (
        'CronJob.batch "every-fifteen" is invalid: [spec.jobTemplate.spec.selector: Invalid '
        'value: v1.LabelSelector{MatchLabels:map[string]string{"app":"periodic"}, '
        "MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: `selector` will be "
        "auto-generated, spec.jobTemplate.spec.manualSelector: Unsupported value: true: "
        'supported values: "nil", "false"]')


def test_cronjob_name_leaves_room_for_the_job_suffix(cluster):
    name = "c" * 53
    assert refusal(cluster, make_cronjob(name)) == (
        f'CronJob.batch "{name}" is invalid: metadata.name: Invalid value: "{name}": must be '
        "no more than 52 characters")


def test_cronjob_history_limits_are_not_negative(cluster):
    assert refusal(cluster, make_cronjob(failedJobsHistoryLimit=-1)).endswith(
        "spec.failedJobsHistoryLimit: Invalid value: -1: must be greater than or equal to 0")


def test_cronjob_in_batch_v1beta1_is_converted_with_the_deprecation_warning(cluster):
    written = store.create(cluster, make_cronjob(api_version="batch/v1beta1"))
    assert written.object["apiVersion"] == "batch/v1"
    assert written.warnings == [
        "batch/v1beta1 CronJob is deprecated in v1.21+, unavailable in v1.25+; "
        "use batch/v1 CronJob"]


def test_cronjob_may_be_suspended(cluster):
    cronjob = create(cluster, make_cronjob())
    cronjob["spec"]["suspend"] = True
    assert store.update(cluster, cronjob).object["spec"]["suspend"] is True


def test_cronjob_refuses_a_schedule_robfig_cron_cannot_read(cluster):
    pytest.importorskip("cluster.cron")
    assert refusal(cluster, make_cronjob(schedule="61 * * * *")) == (
        'CronJob.batch "every-fifteen" is invalid: spec.schedule: Invalid value: '
        '"61 * * * *": end of range (61) above maximum (59): 61')


def test_cronjob_schedule_is_required(cluster):
    pytest.importorskip("cluster.cron")
    manifest = make_cronjob()
    del manifest["spec"]["schedule"]
    assert refusal(cluster, manifest) == (
        'CronJob.batch "every-fifteen" is invalid: spec.schedule: Required value')


def test_cronjob_time_zone_goes_in_its_own_field(cluster):
    pytest.importorskip("cluster.cron")
    message = refusal(cluster, make_cronjob(schedule="CRON_TZ=UTC 0 * * * *"))
    assert message == (
        'CronJob.batch "every-fifteen" is invalid: spec.schedule: Invalid value: '
        '"CRON_TZ=UTC 0 * * * *": cannot use TZ or CRON_TZ in schedule, use timeZone field '
        "instead")


def test_cronjob_time_zone_must_be_known(cluster):
    pytest.importorskip("cluster.cron")
    assert refusal(cluster, make_cronjob(timeZone="Mars/Olympus")) == (
        'CronJob.batch "every-fifteen" is invalid: spec.timeZone: Invalid value: '
        '"Mars/Olympus": unknown time zone Mars/Olympus')
    assert create(cluster, make_cronjob(timeZone="Asia/Seoul"))["spec"]["timeZone"] == \
        "Asia/Seoul"


def test_the_seeds_cronjob_stops_at_its_tab(cluster):
    report = apply.apply_text(cluster, seed_manifest("CronJob"))
    assert not report.ok
    assert report.problems[0].line == 7
    assert "tab" in report.problems[0].message


def test_the_seeds_cronjob_without_the_tab_is_told_the_field_name(cluster):
    text = seed_manifest("CronJob").replace("\tstartingDeadlineSecond: 15 #",
                                            "  startingDeadlineSecond: 15")
    problem, = apply.apply_text(cluster, text).problems
    assert problem.message == ('strict decoding error: unknown field '
                               '"spec.startingDeadlineSecond"')
    assert problem.hint == 'did you mean "startingDeadlineSeconds"?'


def test_the_seeds_cronjob_corrected_applies_with_the_batch_v1beta1_warning(cluster):
    text = seed_manifest("CronJob").replace("\tstartingDeadlineSecond: 15 #",
                                            "  startingDeadlineSeconds: 15")
    report = apply.apply_text(cluster, text)
    assert report.ok, report.problems
    assert report.applied[0].warnings == [CRONJOB.deprecated_versions["batch/v1beta1"]]
    cronjob = store.get(cluster, CRONJOB, "default", "batch-job-every-fifteen-minutes")
    assert cronjob["spec"]["startingDeadlineSeconds"] == 15


def test_ds_counts_template_changes_in_the_template_generation_annotation(cluster):
    annotation = "deprecated.daemonset.template.generation"
    ds = create(cluster, make_ds())
    assert ds["metadata"]["annotations"][annotation] == "1"
    ds["spec"]["template"]["spec"]["containers"][0]["image"] = "busybox:1.36"
    ds = store.update(cluster, ds).object
    assert ds["metadata"]["annotations"][annotation] == "2"
    ds["metadata"]["labels"] = {"team": "ops"}    # not the template: no new generation
    ds = store.update(cluster, ds).object
    assert ds["metadata"]["annotations"][annotation] == "2"


def test_reapplying_an_old_version_warns_once(cluster):
    text = seed_manifest("ReplicaSet")
    apply.apply_text(cluster, text)
    changed = text.replace("replicas: 3", "replicas: 4")
    assert changed != text
    report = apply.apply_text(cluster, changed)
    assert report.ok, report.problems
    assert report.applied[0].warnings == [RS.deprecated_versions["apps/v1beta2"]]
