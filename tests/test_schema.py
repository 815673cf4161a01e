"""cluster.schema: Kubernetes' field schema from the official client's generated models."""

import copy
import time

import pytest

from cluster import schema

POD = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "kubia", "namespace": "default", "labels": {"app": "kubia"},
                 "annotations": {"note": "x"}, "creationTimestamp": None},
    "spec": {
        "restartPolicy": "Always",
        "nodeSelector": {"disk": "ssd"},
        "containers": [{
            "name": "kubia",
            "image": "luksa/kubia",
            "args": ["--port", "8080"],
            "env": [{"name": "A", "value": "1"}],
            "ports": [{"containerPort": 8080, "protocol": "TCP"}],
            "resources": {"limits": {"cpu": 1, "memory": "128Mi"}, "requests": {"cpu": 0.5}},
            "livenessProbe": {"httpGet": {"path": "/", "port": 8080}, "initialDelaySeconds": 15},
            "readinessProbe": {"exec": {"command": ["ls", "/var/ready"]}, "periodSeconds": 1},
        }],
    },
    "status": {"phase": "Running", "startTime": "2025-01-01T00:00:00Z",
               "conditions": [{"type": "Ready", "status": "True"}]},
}


def pod(**spec_changes):
    p = copy.deepcopy(POD)
    p["spec"].update(spec_changes)
    return p


def container(**changes):
    p = copy.deepcopy(POD)
    p["spec"]["containers"][0].update(changes)
    return p


def fields(errors):
    return [(e.type, e.field) for e in errors]


def test_a_typical_pod_is_clean():
    assert schema.check(POD, "V1Pod") == []


def test_unknown_field_with_did_you_mean():
    errors = schema.check({"apiVersion": "batch/v1", "kind": "CronJob",
                           "spec": {"schedule": "* * * * *", "startingDeadlineSecond": 15}},
                          "V1CronJob")
    assert fields(errors) == [("FieldValueUnknown", "spec.startingDeadlineSecond")]
    assert errors[0].hint == 'did you mean "startingDeadlineSeconds"?'


def test_unknown_field_other_case():
    [e] = schema.check(container(livenessprobe={}), "V1Pod")
    assert (e.field, e.hint) == ("spec.containers[0].livenessprobe", 'did you mean "livenessProbe"?')


def test_unknown_top_level_field():
    [e] = schema.check({"apiVersion": "v1", "kind": "Pod", "metdata": {}}, "V1Pod")
    assert (e.field, e.hint) == ("metdata", 'did you mean "metadata"?')


def test_indented_too_far_names_the_ancestor():
    p = copy.deepcopy(POD)
    c = p["spec"]["containers"][0]
    c["ports"][0]["readinessProbe"] = c.pop("readinessProbe")
    [e] = schema.check(p, "V1Pod")
    assert e.field == "spec.containers[0].ports[0].readinessProbe"
    assert e.hint == ("readinessProbe is a field of the container "
                      "(spec.containers[0].readinessProbe): it is indented too far, "
                      "line it up with ports")


def test_indented_too_far_up_to_the_root():
    p = copy.deepcopy(POD)
    p["spec"]["metadata"] = p.pop("metadata")
    [e] = schema.check(p, "V1Pod")
    assert e.hint == ("metadata is a field of the pod (metadata): it is indented too far, "
                      "line it up with spec")


def test_a_field_that_belongs_further_in():
    errors = schema.check({"spec": {"containers": []}}, "V1Deployment")
    assert errors[0].hint == ("containers is a field of the pod spec (spec.template.spec."
                              "containers), not of the deployment spec: put it under "
                              "template.spec")


def test_a_field_of_a_sibling():
    [e] = schema.check(pod(labels={"a": "b"}), "V1Pod")
    assert e.hint == ("labels is a field of the metadata (metadata.labels), not of the pod "
                      "spec: move it there")


def test_no_hint_for_nonsense():
    [e] = schema.check(pod(zzzqqq=1), "V1Pod")
    assert (e.field, e.hint) == ("spec.zzzqqq", "")


@pytest.mark.parametrize("change, path, detail", [
    (container(ports=[{"containerPort": "8080"}]), "spec.containers[0].ports[0].containerPort",
     "expected an integer, got a string"),
    (container(ports=[{"containerPort": 80.5}]), "spec.containers[0].ports[0].containerPort",
     "expected an integer, got a number with a fraction"),
    (container(ports={"containerPort": 80}), "spec.containers[0].ports",
     "expected a list, got a map"),
    (container(args="--port 8080"), "spec.containers[0].args", "expected a list, got a string"),
    (container(resources=["cpu"]), "spec.containers[0].resources", "expected a map, got a list"),
    (container(stdin="yes"), "spec.containers[0].stdin",
     "expected a boolean (true or false), got a string"),
    (container(stdin=1), "spec.containers[0].stdin",
     "expected a boolean (true or false), got an integer"),
    (container(image=5), "spec.containers[0].image", "expected a string, got an integer"),
    (pod(nodeSelector={"disk": True}), "spec.nodeSelector[disk]",
     "expected a string, got a boolean"),
    (container(livenessProbe={"tcpSocket": {"port": True}}),
     "spec.containers[0].livenessProbe.tcpSocket.port",
     "expected an integer or a string, got a boolean"),
    (container(resources={"limits": {"cpu": False}}), "spec.containers[0].resources.limits[cpu]",
     'expected a quantity (a number, or a string such as "500m" or "1Gi"), got a boolean'),
])
def test_wrong_types(change, path, detail):
    errors = schema.check(change, "V1Pod")
    assert [(e.type, e.field, e.detail) for e in errors] == [
        ("FieldValueTypeInvalid", path, detail)]


def test_type_error_wording_and_value():
    [e] = schema.check(container(ports=[{"containerPort": "8080"}]), "V1Pod")
    assert str(e) == ('spec.containers[0].ports[0].containerPort: Invalid value: "8080": '
                      "expected an integer, got a string")
    [e] = schema.check(container(resources=["cpu"]), "V1Pod")
    assert not e.has_value       # containers are described, not dumped


def test_replicas_as_a_string():
    errors = schema.check({"spec": {"replicas": "3"}}, "V1ReplicationController")
    assert [(e.field, e.value, e.detail) for e in errors] == [
        ("spec.replicas", "3", "expected an integer, got a string")]


def test_accepted_shapes():
    ok = [
        container(ports=[{"containerPort": 8080.0}]),           # YAML 8080.0 reaches k8s as 8080
        container(livenessProbe={"httpGet": {"port": "http"}}),  # IntOrString
        container(resources={"limits": {"cpu": "500m", "memory": 1e9}}),
        container(env=None),                                     # null means unset
        pod(containers=[{"name": "a", "image": None}]),
        {"spec": {"template": {"spec": {"containers": []}}, "strategy": {
            "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 0}}}},
    ]
    models = ["V1Pod"] * 5 + ["V1Deployment"]
    for obj, model in zip(ok, models):
        assert schema.check(obj, model) == [], obj


def test_service_target_port_int_or_string():
    svc = {"apiVersion": "v1", "kind": "Service",
           "spec": {"ports": [{"port": 80, "targetPort": "8080# the port"}]}}
    assert schema.check(svc, "V1Service") == []
    svc["spec"]["ports"][0]["targetPort"] = [8080]
    assert fields(schema.check(svc, "V1Service")) == [
        ("FieldValueTypeInvalid", "spec.ports[0].targetPort")]


def test_free_form_objects_and_datetimes():
    rev = {"apiVersion": "apps/v1", "kind": "ControllerRevision", "revision": 1,
           "data": {"anything": [1, {"goes": True}]},
           "metadata": {"creationTimestamp": "2025-01-01T00:00:00Z"}}
    assert schema.check(rev, "V1ControllerRevision") == []
    rev["metadata"]["creationTimestamp"] = 5
    [e] = schema.check(rev, "V1ControllerRevision")
    assert e.detail.startswith("expected a date-time string")


def test_event_and_node_models():
    event = {"apiVersion": "v1", "kind": "Event", "reason": "Scheduled", "count": 1,
             "involvedObject": {"kind": "Pod", "name": "p"}, "firstTimestamp": None}
    assert schema.check(event, "CoreV1Event") == []
    node = {"apiVersion": "v1", "kind": "Node", "status": {
        "capacity": {"cpu": 4, "pods": "110"}, "conditions": [{"type": "Ready", "status": "True"}]}}
    assert schema.check(node, "V1Node") == []


def test_not_a_map_at_the_root():
    [e] = schema.check(["a"], "V1Pod")
    assert (e.field, e.detail) == ("", "expected a map, got a list")


def test_unknown_model():
    with pytest.raises(KeyError):
        schema.check({}, "V1NoSuchThing")


def test_prune_drops_unknown_fields_only():
    p = copy.deepcopy(POD)
    p["spec"]["bogus"] = 1
    p["spec"]["containers"][0]["ports"][0]["readinessProbe"] = {"exec": {}}
    p["metadata"]["labels"]["keep.me/too"] = "yes"
    before = copy.deepcopy(p)
    pruned = schema.prune(p, "V1Pod")
    assert p == before                                    # the input is untouched
    assert "bogus" not in pruned["spec"]
    assert pruned["spec"]["containers"][0]["ports"][0] == {"containerPort": 8080, "protocol": "TCP"}
    assert pruned["metadata"]["labels"]["keep.me/too"] == "yes"  # map keys are data
    assert schema.check(pruned, "V1Pod") == []
    expected = copy.deepcopy(POD)
    expected["metadata"]["labels"]["keep.me/too"] = "yes"
    assert pruned == expected
    pruned["spec"]["containers"][0]["args"].append("x")
    assert p["spec"]["containers"][0]["args"] == ["--port", "8080"]   # a deep copy


def test_register_model():
    schema.register_model("KubelabTestWidgetSpec", {
        "speed": "int", "paused": "bool", "ports": "list[V1ContainerPort]",
        "budget": "int-or-string", "size": "quantity", "extra": "object",
        "note": ("str", "A note for the learner."),
    })
    schema.register_model("KubelabTestWidget", {
        "apiVersion": "str", "kind": "str", "metadata": "V1ObjectMeta",
        "spec": "KubelabTestWidgetSpec",
    })
    good = {"apiVersion": "kubelab.io/v1", "kind": "Widget", "metadata": {"name": "w"},
            "spec": {"speed": 10, "paused": False, "ports": [{"containerPort": 1}],
                     "budget": "10%", "size": 3, "extra": {"x": [1]}, "note": "hi"}}
    assert schema.check(good, "KubelabTestWidget") == []
    bad = copy.deepcopy(good)
    bad["spec"].update(speeed=1, paused="no")
    bad["spec"]["ports"][0]["containerPort"] = "1"
    errors = schema.check(bad, "KubelabTestWidget")
    assert fields(errors) == [
        ("FieldValueTypeInvalid", "spec.paused"),
        ("FieldValueTypeInvalid", "spec.ports[0].containerPort"),
        ("FieldValueUnknown", "spec.speeed"),
    ]
    assert errors[2].hint == 'did you mean "speed"?'
    assert schema.describe("KubelabTestWidget", "spec.note") == ("str", "A note for the learner.")
    assert schema.known_model("KubelabTestWidget")


def test_describe():
    t, d = schema.describe("V1Pod", "spec.containers[0].ports")
    assert t == "list[V1ContainerPort]"
    assert d.startswith("List of ports to expose from the container.")
    assert "noqa" not in d
    t, d = schema.describe("V1CronJob", "spec.startingDeadlineSeconds")
    assert t == "int" and "deadline in seconds" in d
    assert schema.describe("V1Pod", "") == ("V1Pod", "")
    assert schema.describe("V1Pod", "spec")[0] == "V1PodSpec"
    with pytest.raises(KeyError):
        schema.describe("V1Pod", "spec.nope")


def test_checking_a_typical_pod_is_fast():
    schema.check(POD, "V1Pod")                 # warm the caches
    start = time.perf_counter()
    for _ in range(1000):
        schema.check(POD, "V1Pod")
    elapsed = time.perf_counter() - start
    print(f"\nschema.check(typical pod) x1000: {elapsed * 1000:.1f} ms "
          f"({elapsed * 1e6 / 1000:.1f} us each)")


def test_an_empty_list_item_where_an_object_belongs_is_refused():
    errors = schema.check(container(ports=[None]), "V1Pod")
    assert [(e.field, e.detail) for e in errors] == [
        ("spec.containers[0].ports[0]", "expected a map, got nothing (an empty list item)")]
