"""Real kubectl 1.32 describes Services and Ingresses from EndpointSlices.

kubectl 1.32's `describe service` lists the EndpointSlices labelled
`kubernetes.io/service-name=<svc>` and prints each port's `Endpoints:` line from their ready
endpoints (ip:port, the first three, then "+ N more..."); `describe ingress` does the same for
each backend's Service. The module works in a cluster of its own (`describe-lab`) whose clock
runs at x10: the book's kubia ReplicationController, the `kubia` Service, and the seed's
extensions/v1beta1 Ingress with the `kubia-nodeport` Service it routes to.
"""

import json
import re

import pytest

from tests import live
from tests.builders import KUBIA_RC
from tests.kubectl import Kubectl
from tests.live import create_cluster, until

LAB = "describe-lab"
BASE = f"/clusters/{LAB}"
SLICES = f"{BASE}/apis/discovery.k8s.io/v1/namespaces/default/endpointslices"
INGRESS = (live.ROOT / "dashboard/examples/seed-kubia-ingress.yaml").read_text(encoding="utf-8")

SERVICES = """\
apiVersion: v1
kind: Service
metadata:
  name: kubia
spec:
  ports:
  - port: 80
    targetPort: 8080
  selector:
    app: kubia
---
apiVersion: v1
kind: Service
metadata:
  name: kubia-nodeport
spec:
  type: NodePort
  ports:
  - port: 80
    targetPort: 8080
    nodePort: 30123
  selector:
    app: kubia
"""


def slice_of(server, service):
    status, body = live.api(server, "GET",
                            f"{SLICES}?labelSelector=kubernetes.io/service-name%3D{service}")
    assert status == 200, body
    return body["items"]


def ready_addresses(server, service):
    """The ready endpoints' addresses, in the order of the slices and their endpoints."""
    return [endpoint["addresses"][0] for piece in slice_of(server, service)
            for endpoint in piece["endpoints"] or []
            if endpoint["conditions"].get("ready", True)]


@pytest.fixture(scope="module")
def k(live_kubelab, tmp_path_factory):
    create_cluster(live_kubelab, LAB, 3)
    live.set_clock(live_kubelab, LAB, paused=False, speed=10)
    kubectl = Kubectl(live_kubelab, LAB, tmp_path_factory.mktemp("kubectl-describe"))
    kubectl("apply", "-f", "-", input=KUBIA_RC.format(replicas=3, probe=""))
    kubectl("apply", "-f", "-", input=SERVICES)
    kubectl("apply", "-f", "-", input=INGRESS)
    for service in ("kubia", "kubia-nodeport"):
        until(f"three ready endpoints of {service}",
              lambda s=service: len(ready_addresses(live_kubelab, s)) == 3)
    kubectl.server = live_kubelab
    return kubectl


def field(output, name):
    """The value of a `Name:   value` line of kubectl describe."""
    found = re.search(rf"^{re.escape(name)}:\s+(.*)$", output, re.MULTILINE)
    assert found, f"no {name!r} line in:\n{output}"
    return found.group(1).strip()


def test_describe_service_prints_the_ready_endpoints_of_its_slices(k):
    out = k("describe", "svc", "kubia")
    expected = ",".join(f"{ip}:8080" for ip in ready_addresses(k.server, "kubia"))
    assert field(out, "Endpoints") == expected
    assert re.fullmatch(r"(10\.244\.\d+\.\d+:8080,){2}10\.244\.\d+\.\d+:8080", expected)
    assert field(out, "Port") == "<unset>  80/TCP"
    assert field(out, "TargetPort") == "8080/TCP"


def test_describe_ingress_shows_its_backends_endpoints(k):
    out = k("describe", "ing", "kubia")
    endpoints = ",".join(f"{ip}:8080" for ip in ready_addresses(k.server, "kubia-nodeport"))
    assert field(out, "Default backend") == "<default>"
    assert "kubia.example.com" in out
    assert re.search(rf"^\s+/\s+kubia-nodeport:80 \({re.escape(endpoints)}\)$", out,
                     re.MULTILINE), out


def test_get_endpointslices_prints_address_type_ports_and_endpoints(k):
    out = k("get", "endpointslices", "-l", "kubernetes.io/service-name=kubia")
    header, row = out.splitlines()
    assert header.split() == ["NAME", "ADDRESSTYPE", "PORTS", "ENDPOINTS", "AGE"]
    name, address_type, ports, endpoints, _age = row.split()
    [piece] = slice_of(k.server, "kubia")
    assert name == piece["metadata"]["name"] and name.startswith("kubia-")
    assert (address_type, ports) == ("IPv4", "8080")
    assert endpoints == ",".join(e["addresses"][0] for e in piece["endpoints"])
    owner = json.loads(k("get", "endpointslice", name, "-o", "json"))["metadata"][
        "ownerReferences"]
    assert [(o["kind"], o["name"], o["controller"]) for o in owner] == [
        ("Service", "kubia", True)]
