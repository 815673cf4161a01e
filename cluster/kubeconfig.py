"""The kubeconfig of one cluster, as `kind get kubeconfig` writes one: what kubectl and the
Python client need to reach that cluster's API over HTTPS with its token.

`manage.py kubeconfig --cluster demo` prints it; the board's kubeconfig button downloads it.
"""

import base64
import ipaddress

import yaml
from django.conf import settings

from cluster import tls


def context_name(cluster):
    """`kubelab-demo`, as kind names its clusters, users and contexts `kind-<name>`."""
    return f"kubelab-{cluster.name}"


def server_url(cluster, host=None, port=None):
    host = host or settings.API_HOST
    try:
        if ipaddress.ip_address(host.strip("[]")).version == 6:
            host = f"[{host.strip('[]')}]"
    except ValueError:
        pass                            # a DNS name
    return f"https://{host}:{port or settings.HTTPS_PORT}/clusters/{cluster.name}"


def build(cluster, namespace="default"):
    """The kubeconfig as a dict: one cluster (server URL and kubelab's CA), one user (the
    cluster's bearer token), one context, made current."""
    ca_pem = tls.ca_pem(settings.TLS_DIR)
    name = context_name(cluster)
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": name, "cluster": {
            "server": server_url(cluster),
            "certificate-authority-data": base64.b64encode(ca_pem).decode("ascii"),
        }}],
        "users": [{"name": name, "user": {"token": cluster.token}}],
        "contexts": [{"name": name, "context": {"cluster": name, "user": name,
                                                "namespace": namespace}}],
        "current-context": name,
        "preferences": {},
    }


def render(cluster, namespace="default"):
    """The kubeconfig as YAML text."""
    return yaml.safe_dump(build(cluster, namespace), sort_keys=False)
