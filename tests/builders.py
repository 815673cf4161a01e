"""Builders for manifests: the smallest objects that say what a test is about."""

import re

# The seed's study notes (English digest beside them): its manifests and their mistakes are
# test material.
SEED = "/work/shared/seed/000_3812b945b6df1cdf.txt"


def seed_manifest(kind):
    """One manifest of the seed's notes as a learner pastes it (the notes around it left out)."""
    lines = open(SEED, encoding="utf-8").read().splitlines()
    start = next(i for i, line in enumerate(lines) if re.match(rf"kind: {kind}\b", line)) - 1
    end = next(i for i in range(start, len(lines))
               if not lines[i].strip() or lines[i].startswith("  •"))
    return "\n".join(lines[start:end]) + "\n"


def make_pod(name="kubia", *, namespace=None, image="luksa/kubia", labels=None, node_name=None,
             requests=None, node_selector=None, ports=None, containers=None, **spec):
    metadata = {"name": name}
    if namespace:
        metadata["namespace"] = namespace
    if labels:
        metadata["labels"] = labels
    container = {"name": name.split("-")[0][:63] or "main", "image": image}
    if requests:
        container["resources"] = {"requests": requests}
    if ports:
        container["ports"] = [{"containerPort": p} for p in ports]
    pod_spec = {"containers": containers or [container], **spec}
    if node_name:
        pod_spec["nodeName"] = node_name
    if node_selector:
        pod_spec["nodeSelector"] = node_selector
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": pod_spec}


def make_node(name, *, labels=None, capacity=None, unschedulable=False):
    node = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name}, "spec": {}}
    if labels:
        node["metadata"]["labels"] = labels
    if capacity:
        node["status"] = {"capacity": capacity}
    if unschedulable:
        node["spec"]["unschedulable"] = True
    return node


def make_namespace(name):
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}


# The book's kubia ReplicationController with a named container port (`http`), as the
# Services tests use it: format with `replicas` and `probe` (KUBIA_READINESS or "").
KUBIA_RC = """apiVersion: v1
kind: ReplicationController
metadata:
  name: kubia
spec:
  replicas: {replicas}
  selector:
    app: kubia
  template:
    metadata:
      labels:
        app: kubia
    spec:
      containers:
      - name: kubia
        image: luksa/kubia
        ports:
        - name: http
          containerPort: 8080
{probe}"""

KUBIA_READINESS = """        readinessProbe:
          exec:
            command: ["ls", "/var/ready"]
          periodSeconds: 1
"""


# The Service in front of the kubia RC's pods ({target}: its targetPort, a number or a name).
KUBIA_SERVICE = """apiVersion: v1
kind: Service
metadata:
  name: kubia
  labels:
    tier: web
spec:
  ports:
  - port: 80
    targetPort: {target}
  selector:
    app: kubia
"""


def apply_ok(cluster, text):
    """Apply a manifest through the YAML form's path, insisting it applies."""
    from cluster import apply

    report = apply.apply_text(cluster, text)
    assert report.ok, report.as_dict()


def kubia_behind_a_service(cluster, clock, *, replicas=3, probe="", target=8080, seconds=10):
    """The kubia RC and its Service, ticked `seconds` so the pods run and are selected."""
    apply_ok(cluster, KUBIA_RC.format(replicas=replicas, probe=probe))
    apply_ok(cluster, KUBIA_SERVICE.format(target=target))
    clock.run(seconds)
