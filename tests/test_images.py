"""The image catalog: names as containerd reads them, and which pulls fail."""

import pytest

from cluster import images


@pytest.mark.parametrize("ref,parts", [
    ("nginx", ("docker.io", "nginx", "latest")),
    ("nginx:1.27", ("docker.io", "nginx", "1.27")),
    ("docker.io/library/nginx:1.27", ("docker.io", "nginx", "1.27")),
    ("luksa/kubia", ("docker.io", "luksa/kubia", "latest")),
    ("registry.k8s.io/pause:3.9", ("registry.k8s.io", "pause", "3.9")),
    ("localhost:5000/app", ("localhost:5000", "app", "latest")),
])
def test_references_split_as_containerd_reads_them(ref, parts):
    assert images.split(ref) == parts


def test_catalog_images_have_their_behaviour_and_others_run_forever():
    assert images.lookup("luksa/kubia").server == "kubia"
    assert images.lookup("luksa/kubia").port == 8080
    assert images.lookup("nginx:1.27").port == 80
    assert images.lookup("myorg/app:v1").server == "" and images.lookup("myorg/app").entrypoint == ()


@pytest.mark.parametrize("ref,fails", [
    ("nginx:1.27", False), ("nginx:1.277", True), ("luksa/kubia", False),
    ("luksa/kubia:v9", True), ("myorg/anything:v1", False), ("registry.example.com/app", True),
    ("busybox@sha256:abc", False),
])
def test_which_images_cannot_be_pulled(ref, fails):
    assert (images.pull_error(ref) is not None) is fails


def test_a_missing_tag_reads_like_containerds_not_found():
    assert images.pull_error("nginx:1.277").endswith("docker.io/library/nginx:1.277: not found")


def test_image_ids_are_qualified_with_a_stable_digest():
    first, again = images.image_id("luksa/kubia"), images.image_id("luksa/kubia")
    assert first == again and first.startswith("docker.io/luksa/kubia@sha256:")
    assert images.image_id("nginx:1.27").startswith("docker.io/library/nginx@sha256:")
