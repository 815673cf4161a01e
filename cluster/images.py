"""The catalog of simulated container images: what each one does when it runs.

No container really runs. An image here is data: its size and digest (what the kubelet
reports on pulling it), the program its container runs when the pod gives no command, the
HTTP server it answers with, and the tags that exist. A learner can predict every behaviour:

- luksa/kubia: answers HTTP on 8080 with "You've hit <pod name>", logging each request.
- luksa/kubia-unhealthy: the same, but from the sixth request on answers 500.
- luksa/batch-job: logs its start, works 120 s, logs its end, exits 0.
- busybox, alpine: run the pod's command through a small shell (cluster.shell); with no
  command, `sh` finds no terminal and exits at once, as the real ones do.
- nginx: answers HTTP on 80 with its welcome page.
- any other image: runs forever and answers on the ports the pod declares.
- an image from a registry kubelab does not know, or a catalog image with a tag that does
  not exist (nginx:1.277), cannot be pulled: ErrImagePull, then ImagePullBackOff.
"""

import hashlib
from dataclasses import dataclass, field

# Registries a simulated node can pull from; anything else fails to resolve.
REGISTRIES = ("docker.io", "index.docker.io", "registry.k8s.io", "gcr.io", "quay.io",
              "ghcr.io", "mcr.microsoft.com", "public.ecr.aws")


@dataclass(frozen=True)
class Image:
    repository: str
    size: int
    # The image's ENTRYPOINT and CMD (argv for cluster.shell): a container without `command`
    # runs the entrypoint followed by its `args`, or by CMD when it has no args either.
    entrypoint: tuple = ()
    cmd: tuple = ()
    # Which simulated HTTP server the main process runs, and on which port.
    server: str = ""
    port: int = 0
    # Lines logged when the main process starts (before its program runs).
    banner: tuple = ()
    # Tags that exist; empty means any tag does.
    tags: frozenset = field(default_factory=frozenset)
    # The base filesystem (cluster.shell's image layers): which commands exist inside.
    layer: str = "debian"


CATALOG = {image.repository: image for image in (
    Image("luksa/kubia", 244_395_410, server="kubia", port=8080,
          banner=("Kubia server starting...",), tags=frozenset({"latest"}), layer="node"),
    Image("luksa/kubia-unhealthy", 244_395_432, server="kubia-unhealthy", port=8080,
          banner=("Kubia server starting...",), tags=frozenset({"latest"}), layer="node"),
    Image("luksa/batch-job", 243_807_015,
          entrypoint=("sh", "-c", 'echo "$(date) Batch job starting"; sleep 120; '
                                  'echo "$(date) Finished succesfully"'),
          tags=frozenset({"latest"}), layer="node"),
    # busybox and alpine have no ENTRYPOINT, only CMD: so `kubectl run --image=busybox --
    # sh -c '...'` (args only) runs `sh -c '...'`, not `sh sh -c '...'`.
    Image("busybox", 2_167_176, cmd=("sh",),
          tags=frozenset({"latest", "1.36", "1.36.1", "1.37", "1.37.0", "stable", "musl",
                          "glibc", "uclibc"}), layer="busybox"),
    Image("alpine", 3_623_807, cmd=("/bin/sh",),
          tags=frozenset({"latest", "3", "3.19", "3.20", "3.21", "3.22", "edge"}),
          layer="alpine"),
    Image("nginx", 72_099_410, server="nginx", port=80,
          banner=("/docker-entrypoint.sh: Configuration complete; ready for start up",),
          tags=frozenset({"latest", "stable", "mainline", "alpine", "1.25", "1.26", "1.27",
                          "1.27.3", "1.27.4", "1.28", "1.29", "stable-alpine",
                          "mainline-alpine"}), layer="nginx"),
)}
UNKNOWN_SIZE = 50_000_000


def split(image):
    """(registry, repository, tag) of an image reference; digests count as a tag."""
    name, _, digest = image.partition("@")
    registry = "docker.io"
    first, _, rest = name.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        registry, name = first, rest
    last = name.rsplit("/", 1)[-1]
    tag = "latest"
    if ":" in last:
        tag = last.split(":", 1)[1]
        name = name[: len(name) - len(last)] + last.split(":", 1)[0]
    if digest:
        tag = "@" + digest
    if registry in ("docker.io", "index.docker.io") and name.startswith("library/"):
        name = name[len("library/"):]
    return registry, name, tag


def repository(image):
    """'luksa/kubia:latest' -> 'luksa/kubia'; 'docker.io/library/nginx:1.27' -> 'nginx'."""
    return split(image)[1]


def lookup(image):
    """The catalog entry, or a generic image that runs forever."""
    registry, repo, _tag = split(image)
    known = CATALOG.get(repo) if registry in ("docker.io", "index.docker.io") else None
    return known or Image(repo, UNKNOWN_SIZE)


def pull_error(image):
    """Why `image` cannot be pulled (the kubelet's ErrImagePull message), or None."""
    registry, repo, tag = split(image)
    if registry not in REGISTRIES:
        return (f'failed to pull and unpack image "{image}": failed to resolve reference '
                f'"{image}": failed to do request: dial tcp: lookup {registry}: no such host')
    entry = CATALOG.get(repo) if registry in ("docker.io", "index.docker.io") else None
    if entry and entry.tags and not tag.startswith("@") and tag not in entry.tags:
        qualified = f"docker.io/{repo if '/' in repo else 'library/' + repo}:{tag}"
        return (f'failed to pull and unpack image "{qualified}": failed to resolve reference '
                f'"{qualified}": {qualified}: not found')
    return None


def size(image):
    return lookup(image).size


def image_id(image):
    """The fully qualified repository with a stable digest, as containerd reports imageID."""
    registry, repo, _tag = split(image)
    if registry in ("docker.io", "index.docker.io"):
        qualified = f"docker.io/{repo if '/' in repo else 'library/' + repo}"
    else:
        qualified = f"{registry}/{repo}"
    digest = hashlib.sha256(image.encode()).hexdigest()
    return f"{qualified}@sha256:{digest}"
