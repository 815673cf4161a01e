"""What the board's Services tab is built on, server side: the page's tab and traffic panel
markup, the websocket's snapshot and deltas carrying Services, Endpoints and Ingresses, and the
seed's Service and Ingress in the Apply form's Examples menu, verbatim.

The tab itself is tested in a browser in tests/test_browser_services.py."""

import re

from django.test import Client

from cluster import live, store
from dashboard import examples
from tests.builders import KUBIA_RC, KUBIA_SERVICE, apply_ok, seed_manifest

RC_AND_SERVICE = KUBIA_RC.format(replicas=2, probe="") + "---\n" + KUBIA_SERVICE.format(
    target=8080) + """---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: kubia
spec:
  rules:
  - host: kubia.example.com
    http:
      paths:
      - path: /
        pathType: Prefix
        backend:
          service:
            name: kubia
            port:
              number: 80
"""


def test_the_services_tab_sits_between_workloads_and_events_with_its_panel(cluster):
    page = Client().get(f"/clusters/{cluster.name}/").content.decode()
    tabs = re.findall(r'role="tab" id="tab-(\w+)"', page)
    assert tabs == ["board", "labels", "workloads", "services", "events"]
    assert re.search(r'<section id="view-services"[^>]*role="tabpanel"[^>]*aria-labelledby="tab-services"'
                     r"[^>]*hidden", page)
    # Every control of the traffic panel and the ingress form has a label.
    for control in ("traffic-service", "traffic-port", "traffic-client", "traffic-count",
                    "ingress-host", "ingress-path"):
        assert f'<label for="{control}">' in page, control
    assert "kubelab/services.css" in page


def test_the_snapshot_and_the_change_log_carry_services_endpoints_and_ingresses(cluster, clock):
    before = store.current_rv(cluster)
    apply_ok(cluster, RC_AND_SERVICE)
    clock.run(10)
    objects = live.snapshot(cluster)["objects"]
    by_kind = {(o["kind"], o["metadata"]["name"]) for o in objects}
    assert {("Service", "kubia"), ("Endpoints", "kubia"), ("Ingress", "kubia")} <= by_kind
    endpoints = next(o for o in objects if o["kind"] == "Endpoints")
    addresses = endpoints["subsets"][0]["addresses"]
    assert len(addresses) == 2 and all(a["targetRef"]["kind"] == "Pod" for a in addresses)

    events, _ = live.changes_since(cluster, int(before))
    kinds = {e["object"]["kind"] for e in events}
    assert {"Service", "Endpoints", "Ingress"} <= kinds


def test_the_seeds_service_and_ingress_are_in_the_examples_menu_verbatim():
    by_title = {e["title"]: e for e in examples.all_examples()}
    assert by_title["Service kubia"]["text"] == seed_manifest("Service")
    assert by_title["Ingress kubia"]["text"] == seed_manifest("Ingress")
    assert by_title["Ingress kubia"]["group"] == examples.GROUPS[examples.SEED]
