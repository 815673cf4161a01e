"""Performing a lesson step's `do` actions as a learner would, through the HTTP API.

Each action goes through the same door the learner's tool would use: the Kubernetes API for
deletes, labels, patches, scaling and nodes (what kubectl sends), the board's apply form for a
manifest and its exec endpoint for a command in a container. Nothing here writes the store
directly, so a lesson whose steps pass here can be done from the outside.
"""

import json

from lessons import checks

MERGE = "application/merge-patch+json"
POWER = "kubelab.io/power"


class StepPerformer:
    def __init__(self, client, cluster, lesson):
        self.client, self.cluster, self.lesson = client, cluster, lesson
        self.auth = {"HTTP_AUTHORIZATION": f"Bearer {cluster.token}"}

    def perform(self, action):
        (verb, arg), = action.items()
        getattr(self, f"_{verb}")(arg)

    # --- the API's URLs ---

    def _url(self, kind, namespace, name=None):
        base = f"/clusters/{self.cluster.name}"
        root = f"{base}/apis/{kind.group}/{kind.version}" if kind.group else f"{base}/api/v1"
        where = f"{root}/namespaces/{namespace}" if kind.namespaced else root
        return f"{where}/{kind.plural}" + (f"/{name}" if name else "")

    def _one(self, spec):
        """The first object (by name) that the action's selection picks."""
        selection = checks._selection({k: v for k, v in spec.items()
                                       if k in checks.SELECTION_KEYS}, "action")
        namespace = selection.namespace or "default"
        query = {}
        if not selection.selector.empty:
            query["labelSelector"] = str(selection.selector)
        response = self.client.get(self._url(selection.kind, namespace), query, **self.auth)
        assert response.status_code == 200, response.content
        items = [obj for obj in response.json()["items"] if selection.matches(obj)]
        assert items, f"nothing matches {spec} to perform the step on"
        first = sorted(items, key=lambda obj: obj["metadata"]["name"])[0]
        return selection.kind, first["metadata"].get("namespace", ""), first

    def _patch(self, spec, body=None):
        kind, namespace, obj = self._one(spec)
        body = body if body is not None else spec["merge"]
        response = self.client.patch(self._url(kind, namespace, obj["metadata"]["name"]),
                                     json.dumps(body), content_type=MERGE, **self.auth)
        assert response.status_code == 200, response.content

    # --- the actions ---

    def _apply(self, manifest_id):
        manifest = self.lesson.manifest(manifest_id)
        response = self.client.post(f"/clusters/{self.cluster.name}/apply",
                                    {"manifest": manifest.text})
        assert response.status_code == 200, response.json()

    def _delete(self, spec):
        kind, namespace, obj = self._one(spec)
        response = self.client.delete(self._url(kind, namespace, obj["metadata"]["name"]),
                                      **self.auth)
        assert response.status_code in (200, 202), response.content

    def _label(self, spec):
        self._patch(spec, {"metadata": {"labels": spec["labels"]}})

    def _scale(self, spec):
        self._patch(spec, {"spec": {"replicas": spec["replicas"]}})

    def _exec(self, spec):
        _kind, namespace, pod = self._one({**spec, "kind": "Pod"})
        response = self.client.post(f"/clusters/{self.cluster.name}/exec", {
            "namespace": namespace, "pod": pod["metadata"]["name"],
            "container": spec.get("container", ""), "command": spec["command"]})
        assert response.status_code == 200, response.content
        assert response.json()["exitCode"] == spec.get("exit", 0), response.json()

    def _power(self, spec):
        value = None if spec.get("state", "off") == "on" else "off"
        self._patch({"kind": "Node", "name": spec["node"]},
                    {"metadata": {"annotations": {POWER: value}}})

    def _add_node(self, spec):
        node = {"apiVersion": "v1", "kind": "Node",
                "metadata": {"name": spec["node"], "labels": spec.get("labels") or {}}}
        response = self.client.post(f"/clusters/{self.cluster.name}/api/v1/nodes",
                                    json.dumps(node), content_type="application/json",
                                    **self.auth)
        assert response.status_code == 201, response.content

