"""Kubernetes protobuf request bodies (cluster.api.protobuf) read as the JSON of the same
object: bodies captured from real kubectl 1.32, a small encoder for the rules one at a time,
and the API answering a body it cannot read with 400, never 500."""

import base64
import json
import random
import struct

import pytest

from cluster.api import protobuf
from cluster.api.protobuf_messages import MESSAGES
from cluster.errors import BadRequest

PROTOBUF = protobuf.MEDIA_TYPE

# --- bodies real kubectl 1.32 POSTed (through a recording proxy), and the JSON kubectl prints
# for the same object (`kubectl create ... --dry-run=client -o json`), which is what a JSON
# body would have carried.

CAPTURED = {
    "create namespace abc": (
        "azhzAAoPCgJ2MRIJTmFtZXNwYWNlEhsKEwoDYWJjEgAaACIAKgAyADgAQgASABoCCgAaACIA",
        {"kind": "Namespace", "apiVersion": "v1",
         "metadata": {"name": "abc", "creationTimestamp": None}, "spec": {}, "status": {}}),
    "create service nodeport web --tcp=80:8080": (
        "azhzAAoNCgJ2MRIHU2VydmljZRJoCh8KA3dlYhIAGgAiACoAMgA4AEIAWgoKA2FwcBIDd2ViEkEKGwoHODAt"
        "ODA4MBIDVENQGFAiBwgAEJA/GgAoABIKCgNhcHASA3dlYhoAIghOb2RlUG9ydDoAQgBSAFoAYABoABoCCgAa"
        "ACIA",
        {"kind": "Service", "apiVersion": "v1",
         "metadata": {"name": "web", "creationTimestamp": None, "labels": {"app": "web"}},
         "spec": {"ports": [{"name": "80-8080", "protocol": "TCP", "port": 80,
                             "targetPort": 8080}],
                  "selector": {"app": "web"}, "type": "NodePort"},
         "status": {"loadBalancer": {}}}),
    "create job j1 --image=busybox -- sh -c 'echo hi'": (
        "azhzAAoPCghiYXRjaC92MRIDSm9iEosBChIKAmoxEgAaACIAKgAyADgAQgASazJpChAKABIAGgAiACoAMgA4"
        "AEIAElUSMgoCajESB2J1c3lib3gaAnNoGgItYxoHZWNobyBoaSoAQgBqAHIAgAEAiAEAkAEAogEAGgVOZXZl"
        "cjIAQgBKAFIAWABgAGgAggEAigEAmgEAwgEAGgggACgAMAA6ABoAIgA=",
        {"kind": "Job", "apiVersion": "batch/v1",
         "metadata": {"name": "j1", "creationTimestamp": None},
         "spec": {"template": {"metadata": {"creationTimestamp": None},
                               "spec": {"containers": [{"name": "j1", "image": "busybox",
                                                        "command": ["sh", "-c", "echo hi"],
                                                        "resources": {}}],
                                        "restartPolicy": "Never"}}},
         "status": {}}),
    "create cronjob c1 --image=busybox --schedule='*/5 * * * *'": (
        "azhzAAoTCghiYXRjaC92MRIHQ3JvbkpvYhKeAQoSCgJjMRIAGgAiACoAMgA4AEIAEoUBCgsqLzUgKiAqICog"
        "KhoAKnQKEgoCYzESABoAIgAqADIAOABCABJeMlwKEAoAEgAaACIAKgAyADgAQgASSBIhCgJjMRIHYnVzeWJv"
        "eCoAQgBqAHIAgAEAiAEAkAEAogEAGglPbkZhaWx1cmUyAEIASgBSAFgAYABoAIIBAIoBAJoBAMIBABoAGgAi"
        "AA==",
        {"kind": "CronJob", "apiVersion": "batch/v1",
         "metadata": {"name": "c1", "creationTimestamp": None},
         "spec": {"schedule": "*/5 * * * *",
                  "jobTemplate": {
                      "metadata": {"name": "c1", "creationTimestamp": None},
                      "spec": {"template": {
                          "metadata": {"creationTimestamp": None},
                          "spec": {"containers": [{"name": "c1", "image": "busybox",
                                                   "resources": {}}],
                                   "restartPolicy": "OnFailure"}}}}},
         "status": {}}),
    "create ingress tls --rule=foo.com/*=web:80,tls=sec --default-backend=web:80": (
        "azhzAAofChRuZXR3b3JraW5nLms4cy5pby92MRIHSW5ncmVzcxJlChMKA3RscxIAGgAiACoAMgA4AEIAEkoK"
        "DSILCgN3ZWISBAoAEFASDgoHZm9vLmNvbRIDc2VjGikKB2Zvby5jb20SHgocChoKAS8SDSILCgN3ZWISBAoA"
        "EFAaBlByZWZpeBoCCgAaACIA",
        {"kind": "Ingress", "apiVersion": "networking.k8s.io/v1",
         "metadata": {"name": "tls", "creationTimestamp": None},
         "spec": {"defaultBackend": {"service": {"name": "web", "port": {"number": 80}}},
                  "tls": [{"hosts": ["foo.com"], "secretName": "sec"}],
                  "rules": [{"host": "foo.com", "http": {"paths": [
                      {"path": "/", "pathType": "Prefix",
                       "backend": {"service": {"name": "web", "port": {"number": 80}}}}]}}]},
         "status": {"loadBalancer": {}}}),
    # The CronJob's template as the API server defaulted it, and a controller reference.
    "create job j2 --from=cronjob/c1": (
        "azhzAAoPCghiYXRjaC92MRIDSm9iEq8CCoABCgJqMhIAGgAiACoAMgA4AEIAYisKIWNyb25qb2Iua3ViZXJu"
        "ZXRlcy5pby9pbnN0YW50aWF0ZRIGbWFudWFsaj8KB0Nyb25Kb2IaAmMxIiRmNmY4MTJhMS0zYTEyLTRjODQt"
        "OWJjOC0zMmQxYWJmMTgwOWMqCGJhdGNoL3YxMAESnwEynAEKEAoAEgAaACIAKgAyADgAQgAShwESPwoCYzES"
        "B2J1c3lib3gqAEIAahQvZGV2L3Rlcm1pbmF0aW9uLWxvZ3IGQWx3YXlzgAEAiAEAkAEAogEERmlsZRoJT25G"
        "YWlsdXJlIB4yDENsdXN0ZXJGaXJzdEIASgBSAFgAYABoAHIAggEAigEAmgERZGVmYXVsdC1zY2hlZHVsZXLC"
        "AQAaCCAAKAAwADoAGgAiAA==",
        {"kind": "Job", "apiVersion": "batch/v1",
         "metadata": {"name": "j2", "creationTimestamp": None,
                      "annotations": {"cronjob.kubernetes.io/instantiate": "manual"},
                      "ownerReferences": [{"apiVersion": "batch/v1", "kind": "CronJob",
                                           "name": "c1",
                                           "uid": "f6f812a1-3a12-4c84-9bc8-32d1abf1809c",
                                           "controller": True}]},
         "spec": {"template": {
             "metadata": {"creationTimestamp": None},
             "spec": {"containers": [{"name": "c1", "image": "busybox", "resources": {},
                                      "terminationMessagePath": "/dev/termination-log",
                                      "terminationMessagePolicy": "File",
                                      "imagePullPolicy": "Always"}],
                      "restartPolicy": "OnFailure", "terminationGracePeriodSeconds": 30,
                      "dnsPolicy": "ClusterFirst", "securityContext": {},
                      "schedulerName": "default-scheduler"}}},
         "status": {}}),
}


@pytest.mark.parametrize("command", CAPTURED)
def test_kubectl_bodies_read_as_the_json_kubectl_would_send(command):
    body, expected = CAPTURED[command]
    decoded = protobuf.decode(base64.b64decode(body))
    assert decoded == expected
    # Go's field order too (kind and apiVersion first), as kubectl's JSON has it.
    assert json.dumps(decoded) == json.dumps(expected)


# --- a small encoder ----------------------------------------------------------------------------


def varint(value):
    value &= (1 << 64) - 1                 # negative numbers: 64-bit two's complement
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def field(number, value):
    """int -> varint, bytes/str -> length-delimited, float -> fixed64 double."""
    if isinstance(value, bool) or isinstance(value, int):
        return varint(number << 3) + varint(int(value))
    if isinstance(value, float):
        return varint(number << 3 | 1) + struct.pack("<d", value)
    data = value.encode() if isinstance(value, str) else value
    return varint(number << 3 | 2) + varint(len(data)) + data


def message(*fields):
    return b"".join(fields)


def body(api_version, kind, raw):
    type_meta = message(field(1, api_version), field(2, kind))
    return protobuf.MAGIC + message(field(1, type_meta), field(2, raw), field(3, ""),
                                    field(4, ""))


def meta(name, *more):
    return field(1, message(field(1, name), *more))


def entry(key, value):
    return message(field(1, key), field(2, value))


def replicaset(spec):
    return protobuf.decode(body("apps/v1", "ReplicaSet", message(meta("rs"), field(2, spec))))


# --- the rules --------------------------------------------------------------------------------


def test_a_pointer_keeps_its_zero_and_a_non_pointer_omitempty_zero_is_dropped():
    # ReplicaSetSpec: replicas *int32 (omitempty), minReadySeconds int32 (omitempty).
    spec = replicaset(message(field(1, 0), field(4, 0)))["spec"]
    assert spec["replicas"] == 0
    assert "minReadySeconds" not in spec
    # A non-pointer struct is always written, as encoding/json writes it.
    assert spec["template"] == {"metadata": {"creationTimestamp": None},
                                "spec": {"containers": None}}


def test_a_field_without_omitempty_is_written_even_when_zero():
    # ServicePort.port has no omitempty; protocol does.
    svc = protobuf.decode(body("v1", "Service", message(
        meta("s"), field(2, message(field(1, message(field(2, ""), field(3, 0))))))))
    assert svc["spec"]["ports"] == [{"port": 0, "targetPort": 0}]


def test_negative_varints_are_signed_int32_and_int64():
    # Container.ports[].containerPort (int32) and PodSpec.activeDeadlineSeconds (*int64).
    port = message(field(3, -1))
    container = message(field(1, "c"), field(6, port))
    pod = protobuf.decode(body("v1", "Pod", message(
        meta("p"), field(2, message(field(2, container), field(5, -30))))))
    assert pod["spec"]["containers"][0]["ports"] == [{"containerPort": -1}]
    assert pod["spec"]["activeDeadlineSeconds"] == -30


def test_time_and_micro_time_are_rfc3339_and_the_zero_time_is_null():
    moment = message(field(1, 1767268800), field(2, 123456789))       # 2026-01-01T12:00:00Z
    event = protobuf.decode(body("v1", "Event", message(
        meta("e", field(8, moment)), field(6, moment), field(10, moment),
        field(7, message(field(1, -62135596800))))))
    assert event["metadata"]["creationTimestamp"] == "2026-01-01T12:00:00Z"
    assert event["firstTimestamp"] == "2026-01-01T12:00:00Z"
    assert event["eventTime"] == "2026-01-01T12:00:00.123456Z"
    assert event["lastTimestamp"] is None


def test_int_or_string_quantity_and_maps():
    # targetPort as a name; resources.limits a map of Quantity.
    svc = protobuf.decode(body("v1", "Service", message(
        meta("s"), field(2, message(field(1, message(field(3, 80), field(4, message(
            field(1, 1), field(3, "http"))))))))))
    assert svc["spec"]["ports"][0]["targetPort"] == "http"
    limits = message(field(1, entry("cpu", message(field(1, "500m")))),
                     field(1, entry("memory", message(field(1, "64Mi")))),
                     field(1, entry("ephemeral-storage", b"")))
    container = message(field(1, "c"), field(8, limits))
    pod = protobuf.decode(body("v1", "Pod", message(meta("p"), field(2, message(
        field(2, container))))))
    assert pod["spec"]["containers"][0]["resources"] == {
        "limits": {"cpu": "500m", "memory": "64Mi", "ephemeral-storage": "0"}}


def test_an_inline_struct_reads_into_its_parent():
    # Volume{name, VolumeSource inline}: emptyDir sits beside name, as in JSON.
    volume = message(field(1, "cache"), field(2, message(field(2, message(field(1, "Memory"))))))
    pod = protobuf.decode(body("v1", "Pod", message(meta("p"), field(2, message(
        field(1, volume))))))
    assert pod["spec"]["volumes"] == [{"name": "cache", "emptyDir": {"medium": "Memory"}}]


def test_packed_repeated_scalars_and_unknown_fields():
    # PodSecurityContext.supplementalGroups (repeated int64), packed; field 999 is unknown.
    packed = varint(1000) + varint(2000)
    security = message(field(4, packed))
    pod = protobuf.decode(body("v1", "Pod", message(
        meta("p", field(999, "ignored")), field(2, message(field(14, security))),
        field(77, 5))))
    assert pod["spec"]["securityContext"] == {"supplementalGroups": [1000, 2000]}
    assert pod["metadata"] == {"name": "p", "creationTimestamp": None}


def test_fields_v1_is_its_raw_json():
    managed = message(field(1, "kubectl"), field(2, "Update"), field(
        7, message(field(1, b'{"f:metadata":{}}'))))
    ns = protobuf.decode(body("v1", "Namespace", meta("n", field(17, managed))))
    assert ns["metadata"]["managedFields"] == [
        {"manager": "kubectl", "operation": "Update", "fieldsV1": {"f:metadata": {}}}]


def test_eviction_with_delete_options_and_scale_subresource_bodies():
    options = message(field(1, 0), field(4, "Foreground"))   # gracePeriodSeconds *int64
    eviction = protobuf.decode(body("policy/v1", "Eviction", message(
        meta("web"), field(2, options))))
    assert eviction == {"kind": "Eviction", "apiVersion": "policy/v1",
                        "metadata": {"name": "web", "creationTimestamp": None},
                        "deleteOptions": {"gracePeriodSeconds": 0,
                                          "propagationPolicy": "Foreground"}}
    scale = protobuf.decode(body("autoscaling/v1", "Scale", message(
        meta("rs"), field(2, message(field(1, 3))))))
    assert scale["spec"] == {"replicas": 3}
    assert scale["status"] == {"replicas": 0}


@pytest.mark.parametrize("nanoseconds, text", [
    (0, "0s"), (1, "1ns"), (1_500, "1.5µs"), (1_500_000, "1.5ms"), (1_000_000_000, "1s"),
    (90_000_000_000, "1m30s"), (3_600_000_000_000, "1h0m0s"),
    (3_723_500_000_000, "1h2m3.5s"), (-2_000_000_000, "-2s")])
def test_durations_read_as_go_writes_them(nanoseconds, text):
    assert protobuf.go_duration(nanoseconds) == text


def test_the_table_covers_the_kinds_kubelab_serves():
    for name in ["k8s.io.api.core.v1.Pod", "k8s.io.api.core.v1.Node",
                 "k8s.io.api.core.v1.Namespace", "k8s.io.api.core.v1.Event",
                 "k8s.io.api.core.v1.Service", "k8s.io.api.core.v1.Endpoints",
                 "k8s.io.api.discovery.v1.EndpointSlice",
                 "k8s.io.api.core.v1.ReplicationController", "k8s.io.api.apps.v1.ReplicaSet",
                 "k8s.io.api.apps.v1.DaemonSet", "k8s.io.api.batch.v1.Job",
                 "k8s.io.api.batch.v1.CronJob", "k8s.io.api.networking.v1.Ingress",
                 "k8s.io.api.policy.v1.Eviction", "k8s.io.api.autoscaling.v1.Scale",
                 "k8s.io.apimachinery.pkg.apis.meta.v1.DeleteOptions"]:
        assert name in MESSAGES, name
    assert protobuf.message_of("v1", "DeleteOptions").endswith("meta.v1.DeleteOptions")
    assert protobuf.message_of("extensions/v1beta1", "Ingress") == \
        "k8s.io.api.extensions.v1beta1.Ingress"


# --- what cannot be read ----------------------------------------------------------------------

GOOD = base64.b64decode(CAPTURED["create namespace abc"][0])


@pytest.mark.parametrize("raw, words", [
    (b"", "empty"),
    (b'{"kind": "Namespace"}', "must begin with"),
    (GOOD[:-5], "cut short"),
    (protobuf.MAGIC + b"\x0b", "wire type 3"),
    (protobuf.MAGIC + b"\x0a\x80", "cut short"),
    (protobuf.MAGIC + b"\x08\x01", "typeMeta has wire type 0"),
    (body("v1", "Secret", b""), 'no kind "Secret" is registered for version "v1"'),
    (body("", "Namespace", b""), "apiVersion and kind"),
    (body("v1", "Namespace", meta("n", field(8, 5))), "metadata.creationTimestamp"),
    (body("v1", "Service", message(meta("s"), field(2, field(1, field(4, field(1, 7)))))),
     "IntOrString of type 7"),
    (body("v1", "Namespace", meta("n", field(1, 5))), "metadata.name: wire type 0"),
    (body("apps/v1", "ReplicaSet", message(meta("rs"), field(2, field(1, b"")))),
     "spec.replicas: wire type 2"),
])
def test_a_body_that_cannot_be_read_is_a_bad_request_naming_why(raw, words):
    with pytest.raises(BadRequest) as error:
        protobuf.decode(raw)
    assert words in str(error.value.status()["message"])


def test_mangled_kubectl_bodies_are_read_or_refused_never_crash():
    rng = random.Random(1132)
    captured = [base64.b64decode(raw) for raw, _expected in CAPTURED.values()]
    for _ in range(3000):
        mangled = bytearray(rng.choice(captured))
        for _edit in range(rng.randint(1, 4)):
            at = rng.randrange(len(protobuf.MAGIC), len(mangled))
            edit = rng.choice(("flip", "drop", "insert"))
            if edit == "flip":
                mangled[at] = rng.randrange(256)
            elif edit == "drop":
                del mangled[at]
            else:
                mangled.insert(at, rng.randrange(256))
        try:
            assert isinstance(protobuf.decode(bytes(mangled)), dict)
        except BadRequest:
            pass


# --- through the API --------------------------------------------------------------------------

NAMESPACES = "/clusters/test/api/v1/namespaces"


def post(client, url, raw, content_type=PROTOBUF):
    return client.generic("POST", url, raw, content_type=content_type,
                          HTTP_ACCEPT=f"{PROTOBUF},application/json")


def test_a_protobuf_create_is_answered_in_json_and_stored(client, cluster):
    response = post(client, f"{NAMESPACES}?fieldManager=kubectl-create&fieldValidation=Strict",
                    GOOD)
    assert response.status_code == 201, response.content
    assert response["Content-Type"] == "application/json"
    assert response.json()["metadata"]["name"] == "abc"
    assert client.get(f"{NAMESPACES}/abc").json()["status"]["phase"] == "Active"


def test_a_protobuf_body_that_cannot_be_read_is_400_and_nothing_is_created(client, cluster):
    response = post(client, NAMESPACES, GOOD[:-5])
    assert response.status_code == 400, response.content
    assert response.json()["reason"] == "BadRequest"
    assert client.get(f"{NAMESPACES}/abc").status_code == 404
