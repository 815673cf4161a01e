"""The catalog of simulated container images.

For now: what the kubelet reports when it pulls one (its size and digest). The kubelet issue
adds each image's behaviour (what it serves, logs and how it exits).
"""

import hashlib

# Compressed sizes in bytes, close to the real images on Docker Hub.
SIZES = {
    "luksa/kubia": 244_395_410,
    "luksa/kubia-unhealthy": 244_395_432,
    "luksa/batch-job": 243_807_015,
    "busybox": 2_167_176,
    "alpine": 3_623_807,
    "nginx": 72_099_410,
}
UNKNOWN_SIZE = 50_000_000


def repository(image):
    """'luksa/kubia:latest' -> 'luksa/kubia'; 'docker.io/library/nginx:1.27' -> 'nginx'."""
    name = image.split("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        name = name[: len(name) - len(last)] + last.split(":", 1)[0]
    for prefix in ("docker.io/library/", "docker.io/", "index.docker.io/"):
        if name.startswith(prefix):
            name = name[len(prefix):]
    return name


def size(image):
    return SIZES.get(repository(image), UNKNOWN_SIZE)


def image_id(image):
    """The fully qualified repository with a stable digest, as containerd reports imageID."""
    repo = repository(image)
    qualified = f"docker.io/{repo}" if "/" in repo and "." not in repo.split("/")[0] else (
        repo if "/" in repo else f"docker.io/library/{repo}")
    digest = hashlib.sha256(image.encode()).hexdigest()
    return f"{qualified}@sha256:{digest}"
