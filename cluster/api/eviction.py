"""POST /api/v1/namespaces/{ns}/pods/{name}/eviction: the policy/v1 Eviction `kubectl drain`
sends for each pod it moves off a node.

As the API server's EvictionREST (pkg/registry/core/pod/storage/eviction.go) with no
PodDisruptionBudgets (kubelab has none yet): an eviction is the pod's deletion with the
Eviction's deleteOptions (grace period, preconditions, dryRun), so the pod terminates with its
grace period as any deleted pod does. The answer is 201 with a Success Status; kubectl then
polls the pod until it is gone.
"""

from cluster import store
from cluster.api import options, wire
from cluster.errors import BadRequest

API_VERSIONS = ("policy/v1", "policy/v1beta1")


def evict(request, cluster, target):
    """Evict one pod: 1. read and check the Eviction; 2. delete the pod with its
    deleteOptions (through cluster.store); 3. answer Success."""
    eviction = wire.decode_object(request)
    if not isinstance(eviction, dict):
        raise BadRequest("the body must be an Eviction object (a JSON map)")
    kind, api_version = eviction.get("kind", "Eviction"), eviction.get("apiVersion", "policy/v1")
    if kind != "Eviction" or api_version not in API_VERSIONS:
        raise BadRequest(f"the body must be an Eviction of policy/v1, not {kind} of "
                         f"{api_version}")
    meta = eviction.get("metadata") or {}
    if not isinstance(meta, dict):
        raise BadRequest("Eviction.metadata must be an object")
    if meta.get("name") not in (None, "", target.name):
        # The API server's own words for a body naming another pod.
        raise BadRequest("name in URL does not match name in Eviction object")
    delete_options = eviction.get("deleteOptions")
    opts = options.delete_options(request.GET, delete_options if delete_options is not None
                                  else {}, "delete")
    dry_run = opts.dry_run or options.write_options(request, "create").dry_run
    store.delete(cluster, target.kind, target.namespace, target.name,
                 grace_period=opts.grace_period, propagation=opts.propagation,
                 preconditions=opts.preconditions, dry_run=dry_run)
    return wire.respond({"kind": "Status", "apiVersion": "v1", "metadata": {},
                         "status": "Success"}, 201)
