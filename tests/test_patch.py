"""Strategic merge patch (cluster.patch): how each list of a kind merges, and the directives."""

import pytest

from cluster.errors import BadRequest
from cluster.patch import (
    fields_v1, leaf_paths, path_text, strategic_merge, value_at, with_removals, without_paths,
)


def pod(**spec):
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "web", "labels": {"app": "web", "tier": "front"}},
            "spec": spec}


def container(name, image="nginx:1.27", **more):
    return {"name": name, "image": image, **more}


def test_maps_merge_and_null_deletes():
    got = strategic_merge(pod(), {"metadata": {"labels": {"tier": None, "env": "prod"}}}, "V1Pod")
    assert got["metadata"]["labels"] == {"app": "web", "env": "prod"}


def test_inputs_are_not_changed():
    original = pod(containers=[container("web")])
    strategic_merge(original, {"spec": {"containers": [{"name": "web", "image": "x"}]}}, "V1Pod")
    assert original["spec"]["containers"][0]["image"] == "nginx:1.27"


def test_containers_merge_by_name():
    original = pod(containers=[container("web"), container("log", "busybox")])
    got = strategic_merge(original, {"spec": {"containers": [{"name": "log", "image": "alpine"}]}},
                          "V1Pod")
    assert got["spec"]["containers"] == [container("web"), container("log", "alpine")]


def test_a_new_container_is_appended():
    got = strategic_merge(pod(containers=[container("web")]),
                          {"spec": {"containers": [container("side", "busybox")]}}, "V1Pod")
    assert [c["name"] for c in got["spec"]["containers"]] == ["web", "side"]


def test_patch_delete_removes_one_element():
    original = pod(containers=[container("web"), container("log")])
    got = strategic_merge(original, {"spec": {"containers": [{"name": "log", "$patch": "delete"}]}},
                          "V1Pod")
    assert got["spec"]["containers"] == [container("web")]


def test_patch_replace_in_a_list_replaces_the_list():
    original = pod(containers=[container("web"), container("log")])
    patch = {"spec": {"containers": [{"$patch": "replace"}, container("only")]}}
    assert strategic_merge(original, patch, "V1Pod")["spec"]["containers"] == [container("only")]


def test_patch_replace_on_a_map_replaces_the_map():
    got = strategic_merge(pod(), {"metadata": {"labels": {"$patch": "replace", "x": "1"}}},
                          "V1Pod")
    assert got["metadata"]["labels"] == {"x": "1"}


def test_patch_delete_on_a_map_removes_it():
    original = pod(securityContext={"runAsUser": 1000})
    got = strategic_merge(original, {"spec": {"securityContext": {"$patch": "delete"}}}, "V1Pod")
    assert "securityContext" not in got["spec"]


def test_unknown_patch_directive_is_a_bad_request():
    with pytest.raises(BadRequest):
        strategic_merge(pod(), {"spec": {"$patch": "sideways"}}, "V1Pod")


def test_env_merges_by_name_inside_a_container():
    original = pod(containers=[container("web", env=[{"name": "A", "value": "1"},
                                                     {"name": "B", "value": "2"}])])
    patch = {"spec": {"containers": [{"name": "web", "env": [{"name": "B", "value": "3"}]}]}}
    env = strategic_merge(original, patch, "V1Pod")["spec"]["containers"][0]["env"]
    assert env == [{"name": "A", "value": "1"}, {"name": "B", "value": "3"}]


def test_volume_mounts_merge_by_mount_path():
    mounts = [{"name": "data", "mountPath": "/data"}]
    original = pod(containers=[container("web", volumeMounts=mounts)])
    patch = {"spec": {"containers": [{"name": "web", "volumeMounts": [
        {"name": "data", "mountPath": "/data", "readOnly": True},
        {"name": "cache", "mountPath": "/cache"}]}]}}
    got = strategic_merge(original, patch, "V1Pod")["spec"]["containers"][0]["volumeMounts"]
    assert got == [{"name": "data", "mountPath": "/data", "readOnly": True},
                   {"name": "cache", "mountPath": "/cache"}]


def test_container_ports_merge_by_container_port():
    original = pod(containers=[container("web", ports=[{"containerPort": 80}])])
    patch = {"spec": {"containers": [{"name": "web", "ports": [
        {"containerPort": 80, "name": "http"}, {"containerPort": 443}]}]}}
    ports = strategic_merge(original, patch, "V1Pod")["spec"]["containers"][0]["ports"]
    assert ports == [{"containerPort": 80, "name": "http"}, {"containerPort": 443}]


def test_service_ports_merge_by_port():
    svc = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
           "spec": {"ports": [{"port": 80, "targetPort": 8080}, {"port": 443}]}}
    got = strategic_merge(svc, {"spec": {"ports": [{"port": 80, "targetPort": 9090}]}},
                          "V1Service")
    assert got["spec"]["ports"] == [{"port": 80, "targetPort": 9090}, {"port": 443}]


def test_tolerations_args_and_command_are_replaced_whole():
    original = pod(tolerations=[{"key": "a", "operator": "Exists"}],
                   containers=[container("web", args=["-a", "-b"], command=["run"])])
    patch = {"spec": {"tolerations": [{"key": "b", "operator": "Exists"}],
                      "containers": [{"name": "web", "args": ["-c"]}]}}
    got = strategic_merge(original, patch, "V1Pod")
    assert got["spec"]["tolerations"] == [{"key": "b", "operator": "Exists"}]
    assert got["spec"]["containers"][0]["args"] == ["-c"]
    assert got["spec"]["containers"][0]["command"] == ["run"]


def test_finalizers_are_a_set_union():
    original = pod()
    original["metadata"]["finalizers"] = ["a", "b"]
    got = strategic_merge(original, {"metadata": {"finalizers": ["b", "c"]}}, "V1Pod")
    assert got["metadata"]["finalizers"] == ["a", "b", "c"]


def test_delete_from_primitive_list():
    original = pod()
    original["metadata"]["finalizers"] = ["a", "b", "c"]
    patch = {"metadata": {"$deleteFromPrimitiveList/finalizers": ["b"]}}
    assert strategic_merge(original, patch, "V1Pod")["metadata"]["finalizers"] == ["a", "c"]


def test_owner_references_merge_by_uid():
    original = pod()
    original["metadata"]["ownerReferences"] = [{"uid": "1", "kind": "ReplicaSet", "name": "a"}]
    patch = {"metadata": {"ownerReferences": [{"uid": "2", "kind": "ReplicaSet", "name": "b"}]}}
    refs = strategic_merge(original, patch, "V1Pod")["metadata"]["ownerReferences"]
    assert [r["uid"] for r in refs] == ["1", "2"]


def test_pod_conditions_merge_by_type():
    original = pod()
    original["status"] = {"conditions": [{"type": "Ready", "status": "False"},
                                         {"type": "PodScheduled", "status": "True"}]}
    patch = {"status": {"conditions": [{"type": "Ready", "status": "True"}]}}
    conditions = strategic_merge(original, patch, "V1Pod")["status"]["conditions"]
    assert conditions == [{"type": "Ready", "status": "True"},
                          {"type": "PodScheduled", "status": "True"}]


def test_set_element_order_reorders_the_merged_list():
    original = pod(containers=[container("a"), container("b")])
    patch = {"spec": {"$setElementOrder/containers": [{"name": "b"}, {"name": "a"}],
                      "containers": [{"name": "a", "image": "x"}]}}
    got = strategic_merge(original, patch, "V1Pod")["spec"]["containers"]
    assert got == [container("b"), container("a", "x")]


def test_set_element_order_keeps_unlisted_elements_after_their_neighbour():
    original = pod(containers=[container("a"), container("server-added"), container("b")])
    patch = {"spec": {"$setElementOrder/containers": [{"name": "b"}, {"name": "a"}]}}
    got = [c["name"] for c in strategic_merge(original, patch, "V1Pod")["spec"]["containers"]]
    assert got == ["b", "a", "server-added"]


def test_retain_keys_clears_the_other_members_of_a_union():
    deploy = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
              "spec": {"strategy": {"type": "RollingUpdate",
                                    "rollingUpdate": {"maxSurge": 1}}}}
    patch = {"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}}
    got = strategic_merge(deploy, patch, "V1Deployment")
    assert got["spec"]["strategy"] == {"type": "Recreate"}


def test_volumes_merge_by_name_in_a_pod_template():
    deploy = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
              "spec": {"template": {"spec": {"volumes": [{"name": "a", "emptyDir": {}}]}}}}
    patch = {"spec": {"template": {"spec": {"volumes": [
        {"name": "b", "configMap": {"name": "cfg"}}]}}}}
    volumes = strategic_merge(deploy, patch, "V1Deployment")["spec"]["template"]["spec"]["volumes"]
    assert [v["name"] for v in volumes] == ["a", "b"]


def test_a_merge_list_element_without_its_key_is_refused():
    with pytest.raises(BadRequest, match="merge key: name"):
        strategic_merge(pod(containers=[container("a")]),
                        {"spec": {"containers": [{"image": "x"}]}}, "V1Pod")


def test_a_new_list_loses_its_directives():
    got = strategic_merge(pod(), {"spec": {"containers": [
        {"name": "a", "image": "x", "$setElementOrder/env": [{"name": "E"}],
         "env": [{"name": "E", "value": "1"}]}]}}, "V1Pod")
    assert got["spec"]["containers"] == [{"name": "a", "image": "x",
                                          "env": [{"name": "E", "value": "1"}]}]


def test_unknown_model_falls_back_to_replacing_lists():
    got = strategic_merge({"items": [1, 2]}, {"items": [3]}, None)
    assert got == {"items": [3]}


# --- server-side apply: the fields a manifest sets, and what dropping one removes -------------

def test_fields_v1_of_a_manifest():
    manifest = pod(containers=[container("web", env=[{"name": "A", "value": "1"}])])
    manifest["metadata"]["finalizers"] = ["x"]
    fields = fields_v1(manifest, "V1Pod")
    assert "f:apiVersion" not in fields and "f:name" not in fields["f:metadata"]
    assert fields["f:metadata"]["f:labels"] == {"f:app": {}, "f:tier": {}}
    assert fields["f:metadata"]["f:finalizers"] == {'v:"x"': {}}
    web = fields["f:spec"]["f:containers"]['k:{"name":"web"}']
    assert web["."] == {} and web["f:image"] == {}
    assert web["f:env"]['k:{"name":"A"}'] == {".": {}, "f:name": {}, "f:value": {}}


def test_apply_removes_what_the_previous_manifest_set():
    before = pod(containers=[container("web", env=[{"name": "A", "value": "1"}]),
                 container("side")])
    before["metadata"]["finalizers"] = ["x"]
    after = pod(containers=[container("web")])
    after["metadata"]["labels"] = {"app": "web"}
    body = with_removals(fields_v1(before, "V1Pod"), after, "V1Pod")
    got = strategic_merge(before, body, "V1Pod")
    assert got["metadata"]["labels"] == {"app": "web"}
    assert "finalizers" not in got["metadata"]
    assert got["spec"]["containers"] == [container("web")]


def test_apply_leaves_fields_it_never_set():
    current = pod(containers=[container("web")], restartPolicy="Always")
    manifest = pod(containers=[container("web", "nginx:1.28")])
    body = with_removals(fields_v1(manifest, "V1Pod"), manifest, "V1Pod")
    got = strategic_merge(current, body, "V1Pod")
    assert got["spec"]["restartPolicy"] == "Always"
    assert got["spec"]["containers"][0]["image"] == "nginx:1.28"


def test_leaf_paths_and_their_values():
    manifest = pod(containers=[container("web")])
    paths = set(leaf_paths(fields_v1(manifest, "V1Pod")))
    image = ("f:spec", "f:containers", 'k:{"name":"web"}', "f:image")
    assert image in paths and ("f:metadata", "f:labels", "f:app") in paths
    assert value_at(manifest, image) == "nginx:1.27"
    assert path_text(image) == '.spec.containers[name="web"].image'


def test_without_paths_drops_emptied_parents():
    fields = fields_v1({"metadata": {"labels": {"a": "1"}}, "spec": {"x": 1}}, "V1Pod")
    left = without_paths(fields, [("f:metadata", "f:labels", "f:a")])
    assert left == {"f:spec": {"f:x": {}}}


# --- through the store: what kubectl's writes reach ----------------------------------------

def _stored_pod(cluster, name="web", **labels):
    from cluster import store
    from tests.builders import make_pod
    return store.create(cluster, make_pod(name, labels=labels or {"app": "web"})).object


def test_store_patch_merges_containers_strategically(cluster):
    from cluster import kinds, store
    _stored_pod(cluster)
    patch = {"spec": {"$setElementOrder/containers": [{"name": "web"}],
                      "containers": [{"name": "web", "image": "nginx:1.28"}]}}
    written = store.patch(cluster, kinds.get("Pod"), "default", "web", patch,
                          store.STRATEGIC_PATCH)
    container, = written.object["spec"]["containers"]
    assert container["image"] == "nginx:1.28"
    assert container["imagePullPolicy"]            # the defaulted field survives the patch


def test_store_patch_dry_run_persists_nothing(cluster):
    from cluster import kinds, store
    _stored_pod(cluster)
    store.patch(cluster, kinds.get("Pod"), "default", "web",
                {"metadata": {"labels": {"app": "other"}}}, store.STRATEGIC_PATCH, dry_run=True)
    assert store.get(cluster, kinds.get("Pod"), "default", "web")["metadata"]["labels"] == \
        {"app": "web"}


def test_strict_decoding_wording_for_create_and_for_patch(cluster):
    from cluster import kinds, store
    from cluster.errors import StrictDecodingError
    from tests.builders import make_pod
    bad = make_pod("web")
    bad["spec"]["contianers"] = []
    with pytest.raises(StrictDecodingError) as created:
        store.create(cluster, bad)
    assert created.value.message == (
        'Pod in version "v1" cannot be handled as a Pod: strict decoding error: '
        'unknown field "spec.contianers" (kubelab hint: did you mean "containers"?)')
    _stored_pod(cluster)
    with pytest.raises(StrictDecodingError) as patched:
        store.patch(cluster, kinds.get("Pod"), "default", "web", {"spec": {"foo": 1}},
                    store.MERGE_PATCH)
    assert patched.value.message == 'strict decoding error: unknown field "spec.foo"'


def test_server_side_apply_conflict_then_force(cluster):
    from cluster import kinds, store
    from cluster.errors import Conflict
    from tests.builders import make_pod
    pod_kind = kinds.get("Pod")
    store.server_side_apply(cluster, pod_kind, "default", "web",
                            make_pod("web", labels={"team": "a"}), "first")
    with pytest.raises(Conflict) as refused:
        store.server_side_apply(cluster, pod_kind, "default", "web",
                                make_pod("web", labels={"team": "b"}), "second")
    assert refused.value.message == \
        'Apply failed with 1 conflict: conflict with "first": .metadata.labels.team'
    assert refused.value.details["causes"] == [{"reason": "FieldManagerConflict",
                                                "message": 'conflict with "first"',
                                                "field": ".metadata.labels.team"}]
    written = store.server_side_apply(cluster, pod_kind, "default", "web",
                                      make_pod("web", labels={"team": "b"}), "second",
                                      force=True)
    assert written.object["metadata"]["labels"] == {"team": "b"}
    managers = [m["manager"] for m in written.object["metadata"]["managedFields"]]
    assert managers == ["first", "second"]


def test_server_side_apply_of_the_same_manifest_is_unchanged(cluster):
    from cluster import kinds, store
    from tests.builders import make_pod
    pod_kind = kinds.get("Pod")
    first = store.server_side_apply(cluster, pod_kind, "default", "web", make_pod("web"), "m")
    again = store.server_side_apply(cluster, pod_kind, "default", "web", make_pod("web"), "m")
    assert again.action == "unchanged"
    assert again.object["metadata"]["resourceVersion"] == \
        first.object["metadata"]["resourceVersion"]


def test_form_apply_keeps_a_services_allocated_node_port(cluster):
    from cluster import store
    svc = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "np"},
           "spec": {"type": "NodePort", "selector": {"app": "web"}, "ports": [{"port": 80}]}}
    first = store.apply(cluster, svc).object
    svc["metadata"]["labels"] = {"v": "2"}
    again = store.apply(cluster, svc).object
    assert again["spec"]["ports"][0]["nodePort"] == first["spec"]["ports"][0]["nodePort"]
