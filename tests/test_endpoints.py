"""The endpoints controller: one Endpoints per Service with a selector, as Kubernetes 1.32's
pkg/controller/endpoint does, on a manual clock."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cluster import kinds, store
from cluster.controllers import endpoints as controller
from cluster.controllers.kubelet import exec_command
from cluster.errors import NotFound
from cluster.models import ApiObject, Change
from tests.builders import (KUBIA_READINESS, KUBIA_RC, KUBIA_SERVICE, apply_ok,
                            kubia_behind_a_service, make_pod)

POD = kinds.get("Pod")
RC = kinds.get("ReplicationController")
SERVICE = kinds.get("Service")
ENDPOINTS = kinds.get("Endpoints")


@pytest.fixture
def clock(committed_clock):
    return committed_clock


def endpoints(cluster, name="kubia", namespace="default"):
    return store.get(cluster, ENDPOINTS, namespace, name)


def pods(cluster):
    return sorted((row.body for row in ApiObject.objects.filter(cluster=cluster, kind="Pod")),
                  key=lambda pod: pod["metadata"]["name"])


def ips(addresses):
    return sorted(a["ip"] for a in addresses or [])


def test_endpoints_list_the_ready_pods_with_the_target_port(cluster, clock):
    kubia_behind_a_service(cluster, clock)
    ep = endpoints(cluster)
    running = pods(cluster)
    assert len(running) == 3
    assert len(ep["subsets"]) == 1
    subset = ep["subsets"][0]
    assert ips(subset["addresses"]) == sorted(p["status"]["podIP"] for p in running)
    assert "notReadyAddresses" not in subset
    assert subset["ports"] == [{"port": 8080, "protocol": "TCP"}]
    # Sorted by IP (as a string), each naming its pod and node.
    assert [a["ip"] for a in subset["addresses"]] == sorted(a["ip"] for a in subset["addresses"])
    by_name = {p["metadata"]["name"]: p for p in running}
    for address in subset["addresses"]:
        pod = by_name[address["targetRef"]["name"]]
        assert address["nodeName"] == pod["spec"]["nodeName"]
        assert address["targetRef"] == {"kind": "Pod", "namespace": "default",
                                        "name": pod["metadata"]["name"],
                                        "uid": pod["metadata"]["uid"]}
    # The Service's labels, and the trigger time: the Service's creation when first synced.
    assert ep["metadata"]["labels"] == {"tier": "web"}
    service = store.get(cluster, SERVICE, "default", "kubia")
    assert ep["metadata"]["annotations"][controller.TRIGGER_TIME] in (
        service["metadata"]["creationTimestamp"],
        *[c["lastTransitionTime"] for p in running for c in p["status"]["conditions"]
          if c["type"] == "Ready"])


def test_a_pod_failing_readiness_moves_to_not_ready_addresses_and_back(cluster, clock):
    kubia_behind_a_service(cluster, clock, replicas=2, probe=KUBIA_READINESS)
    subset = endpoints(cluster)["subsets"][0]
    assert "addresses" not in subset
    assert len(subset["notReadyAddresses"]) == 2
    first, second = pods(cluster)
    exec_command(cluster, "default", first["metadata"]["name"], "kubia", ["touch", "/var/ready"])
    clock.run(3)
    ep = endpoints(cluster)
    subset = ep["subsets"][0]
    assert ips(subset["addresses"]) == [first["status"]["podIP"]]
    assert ips(subset["notReadyAddresses"]) == [second["status"]["podIP"]]
    # The trigger time is the ready transition that changed it.
    ready_at = next(c["lastTransitionTime"] for c in pods(cluster)[0]["status"]["conditions"]
                    if c["type"] == "Ready")
    assert ep["metadata"]["annotations"][controller.TRIGGER_TIME] == ready_at
    exec_command(cluster, "default", first["metadata"]["name"], "kubia", ["rm", "/var/ready"])
    clock.run(5)
    subset = endpoints(cluster)["subsets"][0]
    assert "addresses" not in subset
    assert len(subset["notReadyAddresses"]) == 2


def test_publish_not_ready_addresses_lists_every_pod_as_ready(cluster, clock):
    kubia_behind_a_service(cluster, clock, replicas=2, probe=KUBIA_READINESS)
    service = store.get(cluster, SERVICE, "default", "kubia")
    service["spec"]["publishNotReadyAddresses"] = True
    store.update(cluster, service)
    clock.tick(1)
    subset = endpoints(cluster)["subsets"][0]
    assert len(subset["addresses"]) == 2 and "notReadyAddresses" not in subset


def named_pod(name, port=None):
    pod = make_pod(name, labels={"app": "kubia"})
    if port:
        pod["spec"]["containers"][0]["ports"] = [{"name": "http", "containerPort": port}]
    return pod


def test_a_named_target_port_is_resolved_per_pod(cluster, clock):
    # Bare pods (an RC would adopt the odd ones and scale them away).
    for name, port in (("a", 8080), ("b", 8080), ("c", 9090), ("portless", None)):
        store.create(cluster, named_pod(name, port))
    apply_ok(cluster, KUBIA_SERVICE.format(target="http"))
    clock.run(5)
    subsets = endpoints(cluster)["subsets"]
    # A pod whose `http` port is another number goes to a subset of its own; one without the
    # port serves nothing.
    assert len(subsets) == 2
    by_port = {s["ports"][0]["port"]: s for s in subsets}
    assert by_port[8080]["ports"] == [{"port": 8080, "protocol": "TCP"}]
    assert sorted(a["targetRef"]["name"] for a in by_port[8080]["addresses"]) == ["a", "b"]
    assert [a["targetRef"]["name"] for a in by_port[9090]["addresses"]] == ["c"]
    assert "portless" not in {a["targetRef"]["name"] for s in subsets for a in s["addresses"]}
    # A UDP service port does not match a TCP container port of that name.
    assert controller.find_port(named_pod("d", 8080), {"targetPort": "http",
                                                       "protocol": "UDP"}) is None


def test_scaling_the_rc_changes_the_addresses(cluster, clock):
    kubia_behind_a_service(cluster, clock, replicas=2)
    assert len(endpoints(cluster)["subsets"][0]["addresses"]) == 2
    rc = store.get(cluster, RC, "default", "kubia")
    rc["spec"]["replicas"] = 4
    store.update(cluster, rc)
    clock.run(10)
    assert len(endpoints(cluster)["subsets"][0]["addresses"]) == 4
    rc = store.get(cluster, RC, "default", "kubia")
    rc["spec"]["replicas"] = 1
    store.update(cluster, rc)
    clock.tick(1)   # terminating pods leave the endpoints at once
    assert len(endpoints(cluster)["subsets"][0]["addresses"]) == 1
    rc = store.get(cluster, RC, "default", "kubia")
    rc["spec"]["replicas"] = 0
    store.update(cluster, rc)
    clock.run(40)
    assert "subsets" not in endpoints(cluster)


def test_a_service_without_a_selector_keeps_the_users_endpoints(cluster, clock):
    apply_ok(cluster, """apiVersion: v1
kind: Service
metadata:
  name: external-service
spec:
  ports:
  - port: 80
---
apiVersion: v1
kind: Endpoints
metadata:
  name: external-service
subsets:
- addresses:
  - ip: 11.11.11.11
  - ip: 22.22.22.22
  ports:
  - port: 80
""")
    before = endpoints(cluster, "external-service")
    clock.run(3)
    assert endpoints(cluster, "external-service") == before


def test_deleting_the_service_deletes_its_endpoints(cluster, clock):
    kubia_behind_a_service(cluster, clock, replicas=1)
    store.delete(cluster, SERVICE, "default", "kubia")
    clock.tick(1)
    try:
        endpoints(cluster)
    except NotFound:
        pass
    else:
        raise AssertionError("the endpoints outlived their service")


def test_endpoints_without_a_service_are_left_alone_while_the_controller_runs(cluster, clock):
    clock.tick(1)
    assert cluster.pk in controller._seen     # the change log is read from here on
    apply_ok(cluster, """apiVersion: v1
kind: Endpoints
metadata:
  name: lonely
subsets:
- addresses:
  - ip: 11.11.11.11
""")
    clock.run(3)
    assert endpoints(cluster, "lonely")["subsets"][0]["addresses"] == [{"ip": "11.11.11.11"}]


def test_a_new_worker_deletes_endpoints_left_without_a_service(cluster, clock):
    kubia_behind_a_service(cluster, clock, replicas=1)
    store.delete(cluster, SERVICE, "default", "kubia")
    controller._seen.clear()            # a new worker: no cursor, checkLeftoverEndpoints
    clock.tick(1)
    assert not ApiObject.objects.filter(cluster=cluster, kind="Endpoints").exists()


def test_a_headless_service_is_labelled_and_may_have_no_ports(cluster, clock):
    apply_ok(cluster, KUBIA_RC.format(replicas=2, probe=""))
    apply_ok(cluster, """apiVersion: v1
kind: Service
metadata:
  name: kubia-headless
spec:
  clusterIP: None
  selector:
    app: kubia
""")
    clock.run(10)
    ep = endpoints(cluster, "kubia-headless")
    assert ep["metadata"]["labels"] == {controller.HEADLESS: ""}
    assert ep["subsets"] == [{"addresses": ep["subsets"][0]["addresses"]}]
    assert len(ep["subsets"][0]["addresses"]) == 2


def test_an_external_name_service_gets_no_endpoints(cluster, clock):
    apply_ok(cluster, """apiVersion: v1
kind: Service
metadata:
  name: ext
spec:
  type: ExternalName
  externalName: example.com
""")
    clock.run(2)
    assert not ApiObject.objects.filter(cluster=cluster, kind="Endpoints").exists()


def test_an_idle_pass_writes_nothing(cluster, clock):
    kubia_behind_a_service(cluster, clock)
    clock.tick(1)
    rv = endpoints(cluster)["metadata"]["resourceVersion"]
    latest = Change.objects.filter(cluster=cluster).order_by("-id").first().id
    now = clock.now
    with CaptureQueriesContext(connection) as queries:
        controller.reconcile(cluster, now)
    assert not [q for q in queries if q["sql"].startswith(("INSERT", "UPDATE", "DELETE"))]
    # Services, Endpoints, the latest change, the compaction mark, the selected pods.
    assert len([q for q in queries if q["sql"].startswith("SELECT")]) == 5
    clock.run(3)
    assert endpoints(cluster)["metadata"]["resourceVersion"] == rv
    assert not Change.objects.filter(cluster=cluster, kind="Endpoints", id__gt=latest).exists()


def test_repack_groups_addresses_by_the_ports_they_serve():
    def address(ip, uid):
        return {"ip": ip, "nodeName": "n", "targetRef": {"kind": "Pod", "uid": uid}}

    http, admin = {"port": 80, "protocol": "TCP", "name": "a"}, \
        {"port": 90, "protocol": "TCP", "name": "b"}
    subsets = controller.repack([
        (address("10.0.0.2", "b"), True, http), (address("10.0.0.2", "b"), True, admin),
        (address("10.0.0.10", "a"), False, http), (address("10.0.0.10", "a"), False, admin),
        (address("10.0.0.3", "c"), True, http),
    ])
    assert subsets == [
        {"addresses": [address("10.0.0.2", "b"), address("10.0.0.3", "c")],
         "notReadyAddresses": [address("10.0.0.10", "a")], "ports": [http]},
        {"addresses": [address("10.0.0.2", "b")],
         "notReadyAddresses": [address("10.0.0.10", "a")], "ports": [admin]},
    ]
    # Not ready trumps ready for the same address and port.
    assert controller.repack([(address("10.0.0.2", "b"), True, http),
                              (address("10.0.0.2", "b"), False, http)]) == [
        {"notReadyAddresses": [address("10.0.0.2", "b")], "ports": [http]}]
