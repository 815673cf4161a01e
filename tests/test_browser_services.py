"""The Services tab in a real browser: a Service over an RC's two ready pods and one pod whose
readiness probe fails, a NodePort Service, and an Ingress, each card live from the websocket;
the traffic panel sends a burst and writes the hits per pod; the ingress form shows the route
taken and the 404 reason.

In a cluster of its own (`services-lab`, 2 nodes, clock at x10), so app=kubia never meets the
pods other browser tests make. Everything waits on what the page shows. Screenshots go to
/tmp/kubelab-shots/services*.png.
"""

import re

import pytest

from tests.browser import WAIT, expect, shot
from tests.live import api, set_clock
from tests.live import create_cluster

LAB = "services-lab"
BASE = f"/clusters/{LAB}"
NS = f"{BASE}/api/v1/namespaces/default"

KUBIA = {"name": "kubia", "image": "luksa/kubia", "ports": [{"name": "http", "containerPort": 8080}]}


def create(server, path, body):
    status, answer = api(server, "POST", path, body)
    assert status == 201, answer


@pytest.fixture(scope="module")
def lab(live_kubelab):
    create_cluster(live_kubelab, LAB, 2)
    set_clock(live_kubelab, LAB, paused=False, speed=10)
    create(live_kubelab, f"{NS}/replicationcontrollers", {
        "apiVersion": "v1", "kind": "ReplicationController", "metadata": {"name": "kubia"},
        "spec": {"replicas": 2, "selector": {"app": "kubia", "rc": "kubia"}, "template": {
            "metadata": {"labels": {"app": "kubia", "rc": "kubia"}}, "spec": {"containers": [KUBIA]}}}})
    # Never ready: its probe looks for a file nobody makes, so it stays in notReadyAddresses.
    # (Without the RC's rc=kubia label, so the RC does not adopt it and scale it away.)
    create(live_kubelab, f"{NS}/pods", {
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "kubia-unready", "labels": {"app": "kubia"}},
        "spec": {"containers": [{**KUBIA, "readinessProbe": {
            "exec": {"command": ["ls", "/var/ready"]}, "periodSeconds": 1}}]}})
    create(live_kubelab, f"{NS}/services", {
        "apiVersion": "v1", "kind": "Service", "metadata": {"name": "kubia"},
        "spec": {"ports": [{"port": 80, "targetPort": 8080}], "selector": {"app": "kubia"}}})
    create(live_kubelab, f"{NS}/services", {
        "apiVersion": "v1", "kind": "Service", "metadata": {"name": "kubia-nodeport"},
        "spec": {"type": "NodePort", "selector": {"app": "kubia"},
                 "ports": [{"port": 80, "targetPort": 8080, "nodePort": 30123}]}})
    create(live_kubelab, f"{BASE}/apis/networking.k8s.io/v1/namespaces/default/ingresses", {
        "apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": "kubia"},
        "spec": {"rules": [{"host": "kubia.example.com", "http": {"paths": [{
            "path": "/", "pathType": "Prefix",
            "backend": {"service": {"name": "kubia-nodeport", "port": {"number": 80}}}}]}}]}})
    return live_kubelab


def open_services(page, lab):
    page.goto(lab.url + f"{BASE}/")
    expect(page.locator("#conn")).to_have_text("live")
    # From the keyboard, as the ARIA tabs pattern has it: Workloads, then right to Services.
    page.get_by_role("tab", name=re.compile(r"^Workloads")).click()
    page.keyboard.press("ArrowRight")
    tab = page.get_by_role("tab", name=re.compile(r"^Services"))
    expect(tab).to_be_focused()
    expect(tab).to_have_attribute("aria-selected", "true")
    expect(page.get_by_role("tabpanel", name=re.compile(r"^Services"))).to_be_visible()
    assert page.url.endswith("#services") or "services" in page.url


# Counts the flying dots the page adds, however briefly they live.
WATCH_DOTS = """() => {
  window.dotsSeen = 0;
  new MutationObserver((records) => {
    for (const r of records) for (const n of r.addedNodes) {
      if (n.classList?.contains("traffic-dot")) window.dotsSeen += 1;
    }
  }).observe(document.body, { childList: true });
}"""


def card(page, name):
    return page.locator(f'.svc-card[data-namespace="default"][data-name="{name}"]')


def test_a_services_card_shows_its_ports_selector_endpoints_and_ingress_rules(lab, page):
    open_services(page, lab)
    kubia = card(page, "kubia")
    expect(kubia.locator(".svc-type")).to_have_text("ClusterIP")
    expect(kubia.locator('.svc-fact[data-fact="clusterIP"] dd')).to_have_text(re.compile(r"^10\.\d+\.\d+\.\d+$"))
    expect(kubia.locator('.svc-fact[data-fact="ports"] dd')).to_have_text("80:8080/TCP")
    expect(kubia.locator('.svc-fact[data-fact="selector"] dd')).to_have_text("app=kubia")
    # Two ready addresses (the RC's pods) and the unready pod's, live as the kubelet starts them.
    expect(kubia.locator('.svc-ep[data-ready="true"]')).to_have_count(2, timeout=WAIT)
    unready = kubia.locator('.svc-ep[data-ready="false"]')
    expect(unready).to_have_count(1, timeout=WAIT)
    expect(unready.locator(".svc-ep-state")).to_have_text("not ready")
    expect(unready.locator(".svc-ep-pod")).to_have_text("kubia-unready")
    expect(kubia.locator(".svc-endpoints h4")).to_contain_text("2 ready, 1 not ready")
    expect(kubia.locator(".svc-ingress")).to_contain_text("No Ingress points here.")
    page.mouse.move(0, 0)
    shot(page, "services-unready")

    nodeport = card(page, "kubia-nodeport")
    expect(nodeport.locator(".svc-type")).to_have_text("NodePort")
    expect(nodeport.locator(".svc-nodeport")).to_have_text(" nodePort 30123")
    expect(nodeport.locator(".svc-route")).to_have_text("kubia.example.com / → kubia-nodeport:80 ing/kubia")
    expect(page.locator("#services-summary")).to_have_text("2 Services, 4 ready endpoints")
    expect(page.locator("#services-count")).to_have_text("2")

    # Focusing an endpoint lights every mention of its pod; Enter opens the pod.
    first = kubia.locator('.svc-ep[data-ready="true"] .svc-ep-pod').first
    pod = first.text_content()
    first.focus()
    expect(page.locator(f'.svc-ep.is-lit:has(.svc-ep-pod:text-is("{pod}"))')).to_have_count(2)
    expect(page.locator(".svc-ep.is-lit")).to_have_count(2)
    page.keyboard.press("Enter")
    expect(page.locator("#detail-kind")).to_have_text("Pod")
    expect(page.locator("#detail-title")).to_have_text(f"default/{pod}")
    page.keyboard.press("Escape")
    expect(page.locator("#detail-panel")).to_be_hidden()

    # The Service's name opens it in the detail panel.
    kubia.get_by_role("button", name="Service kubia", exact=True).click()
    expect(page.locator("#detail-kind")).to_have_text("Service")
    expect(page.locator("#detail-yaml")).to_contain_text("clusterIP:")
    page.keyboard.press("Escape")

    # A deleted pod leaves the endpoints, live.
    status, _ = api(lab, "DELETE", f"{NS}/pods/kubia-unready", {})
    assert status == 200
    expect(unready).to_have_count(0, timeout=WAIT)
    page.mouse.move(0, 0)
    shot(page, "services")


def test_the_traffic_panel_counts_hits_per_pod_and_the_ingress_form_shows_the_route(lab, page):
    open_services(page, lab)
    expect(card(page, "kubia").locator('.svc-ep[data-ready="true"]')).to_have_count(2, timeout=WAIT)
    panel = page.locator("#traffic-panel")
    panel.get_by_label("Service").select_option("default/kubia")
    panel.get_by_label("Requests").fill("12")
    page.evaluate(WATCH_DOTS)
    panel.get_by_role("button", name="Send").click()
    expect(page.locator("#traffic-result")).to_have_text("12 requests to kubia: 12 answered.")
    hits = page.locator("#traffic-hits .traffic-hit")
    expect(hits).to_have_count(2)  # only ready pods are sent traffic
    counts = [int(re.match(r"(\d+) hits?", t).group(1))
              for t in hits.locator(".traffic-hit-n").all_text_contents()]
    assert sum(counts) == 12
    expect(card(page, "kubia").locator(".svc-ep-hits")).to_have_count(2)
    # Only on the card of the Service the burst went to, though the pods back both.
    expect(card(page, "kubia-nodeport").locator(".svc-ep-hits")).to_have_count(0)
    assert page.evaluate("window.dotsSeen") > 0  # the requests flew
    page.locator("#traffic-log").locator("..").locator("summary").click()
    expect(page.locator("#traffic-log li")).to_have_count(12)
    expect(page.locator("#traffic-log li").first).to_contain_text("You've hit kubia-")

    # A bad client IP: the 400 names the field.
    panel.get_by_label("Client IP").fill("not-an-ip")
    panel.get_by_role("button", name="Send").click()
    expect(page.locator("#traffic-result")).to_contain_text("clientIP")
    expect(page.locator("#traffic-result")).to_have_attribute("data-kind", "error")

    form = page.locator("#ingress-form")
    form.get_by_label("Host").fill("kubia.example.com")
    form.get_by_label("Path").fill("/")
    form.get_by_role("button", name="Request").click()
    result = page.locator("#ingress-result")
    expect(result.locator(".ingress-status")).to_have_attribute("data-status", "200")
    expect(result.locator('.ingress-step[data-step="ingress"]')).to_contain_text("Ingress kubia")
    expect(result.locator('.ingress-step[data-step="service"]')).to_contain_text("kubia-nodeport port 80")
    expect(result.locator('.ingress-step[data-step="pod"]')).to_contain_text("kubia-")
    expect(result.locator(".ingress-body")).to_contain_text("You've hit kubia-")
    page.mouse.move(0, 0)
    shot(page, "services-traffic")

    form.get_by_label("Host").fill("nobody.example.com")
    form.get_by_role("button", name="Request").click()
    expect(result.locator(".ingress-status")).to_have_attribute("data-status", "404")
    expect(result.locator(".ingress-reason")).to_contain_text("no rule matched host nobody.example.com")


def test_requests_do_not_fly_when_the_reader_prefers_reduced_motion(lab, page):
    page.emulate_media(reduced_motion="reduce")
    open_services(page, lab)
    expect(card(page, "kubia").locator('.svc-ep[data-ready="true"]')).to_have_count(2, timeout=WAIT)
    panel = page.locator("#traffic-panel")
    panel.get_by_label("Service").select_option("default/kubia-nodeport")
    panel.get_by_label("Requests").fill("4")
    page.evaluate(WATCH_DOTS)
    panel.get_by_role("button", name="Send").click()
    expect(page.locator("#traffic-result")).to_have_text("4 requests to kubia-nodeport: 4 answered.")
    # The counts still tell where they went, in text.
    expect(card(page, "kubia-nodeport").locator(".svc-ep-hits")).not_to_have_count(0)
    assert page.evaluate("window.dotsSeen") == 0


def test_ingress_rules_are_read_in_both_the_v1_and_the_seeds_v1beta1_form(lab, page):
    """services.js's ingressRoutes, run in the page: the cards' Ingress section comes from it."""
    page.goto(lab.url + f"{BASE}/")
    routes = page.evaluate("""async () => {
      const { ingressRoutes } = await import("/static/kubelab/services.js");
      const ing = (name, spec, namespace = "default") => ({ metadata: { name, namespace }, spec });
      return ingressRoutes([
        ing("old", { rules: [{ host: "kubia.example.com", http: { paths: [
          { path: "/", backend: { serviceName: "kubia", servicePort: 80 } },
          { path: "/other", backend: { serviceName: "other", servicePort: 80 } }] } }] }),
        ing("new", { defaultBackend: { service: { name: "kubia", port: { name: "http" } } },
          rules: [{ http: { paths: [{ path: "/kubia", pathType: "Prefix",
            backend: { service: { name: "kubia", port: { number: 8080 } } } }] } }] }),
        ing("elsewhere", { rules: [{ host: "a", http: { paths: [
          { path: "/", backend: { service: { name: "kubia", port: { number: 80 } } } }] } }] }, "prod"),
      ], "default", "kubia");
    }""")
    assert routes == [
        {"ingress": "old", "host": "kubia.example.com", "path": "/", "port": 80},
        {"ingress": "new", "host": "*", "path": "(default backend)", "port": "http"},
        {"ingress": "new", "host": "*", "path": "/kubia", "port": 8080},
    ]
