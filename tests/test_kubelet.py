"""The simulated kubelets: a bound pod gets its IPs, its containers start after the cluster's
container start time, and a deleted pod is stopped and removed after its grace period."""

import datetime as dt
import ipaddress
import re

from cluster import kinds, store
from cluster.errors import NotFound
from cluster.models import ApiObject
from tests.builders import make_namespace, make_pod
from tests.conftest import START

POD = kinds.get("Pod")
NODE = kinds.get("Node")
NAMESPACE = kinds.get("Namespace")


def get_pod(cluster, name="kubia", namespace="default"):
    return store.get(cluster, POD, namespace, name)


def get_node(cluster, name):
    return store.get(cluster, NODE, None, name)


def stamp(seconds):
    return (START + dt.timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def conditions(pod):
    return {c["type"]: c["status"] for c in pod["status"].get("conditions") or []}


def events_of(cluster, pod):
    rows = ApiObject.objects.filter(cluster=cluster, kind="Event",
                                    owner_uid=pod["metadata"]["uid"]).order_by("resource_version")
    return [(r.body["reason"], r.body["message"]) for r in rows]


def scheduled(cluster, clock, manifest=None):
    """Create a pod and run the tick that binds and admits it (at START)."""
    manifest = manifest or make_pod()
    store.create(cluster, manifest)
    clock.tick(0)
    meta = manifest["metadata"]
    return get_pod(cluster, meta["name"], meta.get("namespace", "default"))


def running(cluster, clock, manifest=None):
    """A pod bound at START and running since START + 2 s."""
    pod = scheduled(cluster, clock, manifest)
    clock.tick(2)
    return get_pod(cluster, pod["metadata"]["name"], pod["metadata"]["namespace"])


def set_ready(cluster, node_name, status):
    node = get_node(cluster, node_name)
    node["status"]["conditions"] = [
        {**c, "status": status} if c["type"] == "Ready" else c
        for c in node["status"]["conditions"]]
    store.update(cluster, node, subresource="status")


# --- admission: IPs --------------------------------------------------------------------------


def test_a_bound_pod_gets_an_ip_from_its_nodes_pod_cidr(cluster, clock):
    pod = scheduled(cluster, clock)
    node = get_node(cluster, pod["spec"]["nodeName"])
    assert ipaddress.ip_address(pod["status"]["podIP"]) in \
        ipaddress.ip_network(node["spec"]["podCIDR"])
    assert pod["status"]["podIPs"] == [{"ip": pod["status"]["podIP"]}]


def test_pod_ips_are_unique_across_the_cluster(cluster, clock):
    for i in range(30):
        store.create(cluster, make_pod(f"web-{i}"))
    clock.tick(0)
    clock.tick(0)
    ips = [p["status"].get("podIP") for p in (r.body for r in ApiObject.objects.filter(
        cluster=cluster, kind="Pod"))]
    assert None not in ips
    assert len(set(ips)) == 30


def test_a_bound_pod_gets_its_nodes_internal_ip_as_host_ip(cluster, clock):
    pod = scheduled(cluster, clock)
    node = get_node(cluster, pod["spec"]["nodeName"])
    internal = next(a["address"] for a in node["status"]["addresses"]
                    if a["type"] == "InternalIP")
    assert pod["status"]["hostIP"] == internal
    assert pod["status"]["hostIPs"] == [{"ip": internal}]


# --- the container lifecycle -----------------------------------------------------------------


def test_an_admitted_pod_is_pending_with_containers_creating(cluster, clock):
    pod = scheduled(cluster, clock)
    assert pod["status"]["phase"] == "Pending"
    assert pod["status"]["startTime"] == stamp(0)
    [container] = pod["status"]["containerStatuses"]
    assert container["state"] == {"waiting": {"reason": "ContainerCreating"}}
    assert (container["ready"], container["restartCount"]) == (False, 0)


def test_an_admitted_pod_is_initialized_but_not_ready(cluster, clock):
    pod = scheduled(cluster, clock)
    assert conditions(pod) == {
        "PodReadyToStartContainers": "True", "Initialized": "True", "PodScheduled": "True",
        "ContainersReady": "False", "Ready": "False"}
    ready = next(c for c in pod["status"]["conditions"] if c["type"] == "Ready")
    assert (ready["reason"], ready["message"]) == (
        "ContainersNotReady", "containers with unready status: [kubia]")


def test_containers_are_still_creating_before_the_start_delay_has_passed(cluster, clock):
    scheduled(cluster, clock)
    clock.tick(1)
    pod = get_pod(cluster)
    assert pod["status"]["phase"] == "Pending"
    assert "waiting" in pod["status"]["containerStatuses"][0]["state"]


def test_a_pod_bound_to_a_node_runs_after_the_start_delay(cluster, clock):
    pod = running(cluster, clock)
    assert pod["status"]["phase"] == "Running"
    [container] = pod["status"]["containerStatuses"]
    assert container["state"] == {"running": {"startedAt": stamp(2)}}
    assert (container["ready"], container["started"], container["restartCount"]) == \
        (True, True, 0)


def test_a_running_container_reports_its_image_and_image_id(cluster, clock):
    [container] = running(cluster, clock)["status"]["containerStatuses"]
    assert container["image"] == "luksa/kubia"
    assert container["imageID"].startswith("docker.io/luksa/kubia")
    assert container["containerID"].startswith("containerd://")


def test_a_running_pod_is_ready(cluster, clock):
    pod = running(cluster, clock)
    assert set(conditions(pod).values()) == {"True"}
    assert {"PodScheduled", "Initialized", "ContainersReady", "Ready"} <= set(conditions(pod))


def test_the_start_delay_is_the_clusters_container_start_seconds(cluster, clock):
    cluster.container_start_seconds = 5
    cluster.save()
    scheduled(cluster, clock)
    clock.tick(4)
    assert get_pod(cluster)["status"]["phase"] == "Pending"
    clock.tick(1)
    assert get_pod(cluster)["status"]["phase"] == "Running"


# --- events ----------------------------------------------------------------------------------


def test_starting_a_pod_records_kubernetes_events_in_order(cluster, clock):
    pod = running(cluster, clock)
    events = events_of(cluster, pod)
    assert [reason for reason, _ in events] == [
        "Scheduled", "Pulling", "Pulled", "Created", "Started"]
    messages = dict(events)
    assert messages["Scheduled"].startswith(
        f"Successfully assigned default/kubia to {pod['spec']['nodeName']}")
    assert messages["Pulling"] == 'Pulling image "luksa/kubia"'
    assert messages["Created"] == "Created container kubia"
    assert messages["Started"] == "Started container kubia"


def test_the_pulled_event_says_how_long_the_pull_took_and_the_image_size(cluster, clock):
    # kubelet 1.30+: Successfully pulled image %q in %v (%v including waiting). Image size: %v
    # bytes.
    pod = running(cluster, clock)
    pulled = dict(events_of(cluster, pod))["Pulled"]
    assert re.fullmatch(r'Successfully pulled image "luksa/kubia" in 2s \(2s including waiting\)'
                        r"\. Image size: \d+ bytes\.", pulled)


def test_kubelet_events_name_the_kubelet_and_its_node(cluster, clock):
    pod = running(cluster, clock)
    rows = ApiObject.objects.filter(cluster=cluster, kind="Event",
                                    owner_uid=pod["metadata"]["uid"])
    started = next(r.body for r in rows if r.body["reason"] == "Started")
    assert started["source"] == {"component": "kubelet", "host": pod["spec"]["nodeName"]}


# --- termination -----------------------------------------------------------------------------


def test_deleting_a_running_pod_stops_its_containers(cluster, clock):
    running(cluster, clock)
    store.delete(cluster, POD, "default", "kubia")
    clock.tick(1)
    pod = get_pod(cluster)
    assert ("Killing", "Stopping container kubia") in events_of(cluster, pod)
    assert conditions(pod)["Ready"] == "False"
    assert pod["status"]["containerStatuses"][0]["ready"] is False


def test_a_deleted_running_pod_lives_through_its_grace_period(cluster, clock):
    running(cluster, clock)
    store.delete(cluster, POD, "default", "kubia")
    clock.tick(29)
    assert get_pod(cluster)["metadata"]["deletionTimestamp"] == stamp(2 + 30)


def test_a_deleted_running_pod_is_gone_after_termination_grace_period_seconds(cluster, clock):
    running(cluster, clock)
    store.delete(cluster, POD, "default", "kubia")
    clock.tick(29)
    clock.tick(1)
    try:
        get_pod(cluster)
    except NotFound:
        return
    raise AssertionError("the pod is still there 30 s after its deletion")


def test_a_shorter_grace_period_ends_the_pod_sooner(cluster, clock):
    running(cluster, clock, make_pod(terminationGracePeriodSeconds=5))
    store.delete(cluster, POD, "default", "kubia")
    clock.tick(5)
    assert not ApiObject.objects.filter(cluster=cluster, kind="Pod").exists()


def test_a_namespace_with_a_running_pod_goes_once_the_pod_has_stopped(cluster, clock):
    store.create(cluster, make_namespace("team"))
    running(cluster, clock, make_pod(namespace="team"))
    store.delete(cluster, NAMESPACE, None, "team")
    # The namespace controller deletes the pod a tick later (grace 30 s), then needs a tick
    # or two to see the namespace empty.
    clock.run(40, step=1)
    assert not ApiObject.objects.filter(cluster=cluster, namespace="team").exists()
    assert not ApiObject.objects.filter(cluster=cluster, kind="Namespace", name="team").exists()


# --- nodes that are not ready ----------------------------------------------------------------


def test_pods_on_a_node_that_is_not_ready_do_not_start(cluster, clock):
    set_ready(cluster, "node-1", "False")
    store.create(cluster, make_pod(node_name="node-1"))
    clock.run(10, step=1)
    pod = get_pod(cluster)
    assert pod["status"]["phase"] == "Pending"
    assert "podIP" not in pod["status"]


def test_pods_waiting_on_a_node_start_once_it_is_ready_again(cluster, clock):
    set_ready(cluster, "node-1", "False")
    store.create(cluster, make_pod(node_name="node-1"))
    clock.tick(1)
    set_ready(cluster, "node-1", "True")
    clock.tick(0)
    clock.tick(2)
    assert get_pod(cluster)["status"]["phase"] == "Running"
