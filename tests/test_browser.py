"""The board in a real browser: Debian's Chromium driven by Playwright against a live server.

Each test speeds the demo cluster's clock up (x10: a pod starts 2 simulated seconds after it
is admitted, so in well under a second of wall time) and waits on what the page shows, never
on the wall clock. Screenshots go to /tmp/kubelab-shots/ for a human to look at.
"""

import re

from tests.browser import expect, shot, unique
from tests.live import api, set_clock


def pod_manifest(name, cpu=None):
    resources = f"""
    resources:
      requests:
        cpu: "{cpu}\"""" if cpu else ""
    return f"""apiVersion: v1
kind: Pod
metadata:
  name: {name}
  labels:
    app: kubia
spec:
  containers:
  - name: kubia
    image: luksa/kubia
    ports:
    - containerPort: 8080{resources}
"""


def open_board(page, server):
    page.goto(server.url + "/clusters/demo/")
    expect(page.locator("#conn")).to_have_text("live")


def apply_yaml(page, text):
    panel = page.locator("#apply-panel")
    if not panel.is_visible():
        page.get_by_role("button", name="Apply YAML").click()
    expect(panel).to_be_visible()
    page.locator("#manifest").fill(text)
    page.locator("#apply-namespace").fill("default")
    panel.get_by_role("button", name="Apply", exact=True).click()
    return page.locator("#apply-result")


def chip(page, name):
    return page.locator(f'.chip[data-name="{name}"]')


def running_pod(page, server, name):
    """Apply a pod through the form and wait until its chip sits on a node, Running."""
    result = apply_yaml(page, pod_manifest(name))
    expect(result).to_contain_text(f"pod/{name} created")
    page.keyboard.press("Escape")
    expect(page.locator("#apply-panel")).to_be_hidden()
    on_node = page.locator(f'.node-col .chip[data-name="{name}"]')
    expect(on_node.locator(".chip-phase")).to_have_text("Running")
    return on_node


def test_a_pod_applied_through_the_form_lands_on_a_node_and_opens_to_its_yaml_and_events(
        live_kubelab, page):
    set_clock(live_kubelab, paused=False, speed=10)
    open_board(page, live_kubelab)
    columns = page.locator(".node-col")
    expect(columns).to_have_count(3)
    for i in range(3):
        expect(columns.nth(i).locator(".node-ready")).to_have_attribute("data-state", "Ready")
        expect(columns.nth(i).locator(".node-ready")).to_have_text(re.compile(r"\bReady$"))
    expect(page.locator("#clock-now")).to_have_text(re.compile(r"^\d\d:\d\d:\d\d$"))

    name = unique("web")
    result = apply_yaml(page, pod_manifest(name))
    expect(result).to_contain_text(f"pod/{name} created")
    expect(chip(page, name)).to_have_count(1)  # in the Pending lane or already on a node
    on_node = page.locator(f'.node-col .chip[data-name="{name}"]')
    expect(on_node.locator(".chip-phase")).to_have_text("Running")
    expect(on_node).to_have_class(re.compile(r"\bis-ready\b"))
    expect(on_node.locator(".ring")).to_contain_text("ready")
    page.keyboard.press("Escape")
    shot(page, "board-running")

    on_node.locator(".chip-open").click()
    detail = page.locator("#detail-panel")
    expect(detail).to_be_visible()
    expect(detail.locator("#detail-title")).to_have_text(f"default/{name}")
    expect(detail.locator("#detail-yaml")).to_contain_text("nodeName:")
    events = detail.locator("#detail-events")
    expect(events.locator('tr[data-reason="Scheduled"]')).to_have_count(1)
    expect(events.locator('tr[data-reason="Started"]')).to_have_count(1)
    shot(page, "pod-panel")
    page.keyboard.press("Escape")
    expect(detail).to_be_hidden()
    expect(on_node.locator(".chip-open")).to_be_focused()  # focus goes back to the chip

    page.locator(".node-col .node-head").first.press("Enter")
    expect(detail.locator("#detail-kind")).to_have_text("Node")
    expect(detail.locator("#detail-yaml")).to_contain_text("allocatable:")
    detail.get_by_role("button", name="Close details").click()
    expect(detail).to_be_hidden()


def test_deleting_a_pod_from_its_chip_shows_terminating_until_it_is_gone(live_kubelab, page):
    set_clock(live_kubelab, paused=False, speed=10)
    open_board(page, live_kubelab)
    name = unique("doomed")
    on_node = running_pod(page, live_kubelab, name)

    # Paused, the 30 s grace period cannot run out while we look at the chip.
    page.get_by_role("button", name="Pause").click()
    expect(page.locator("#clock-toggle")).to_have_attribute("aria-pressed", "true")
    expect(page.locator('[data-step="1"]')).to_be_enabled()
    on_node.get_by_role("button", name=f"Delete pod default/{name}").click()
    expect(on_node.locator(".chip-phase")).to_have_text("Terminating")
    expect(on_node).to_have_class(re.compile(r"\bcat-terminating\b"))
    status, pod = api(live_kubelab, "GET", f"/clusters/demo/api/v1/namespaces/default/pods/{name}")
    assert status == 200 and pod["metadata"].get("deletionTimestamp"), pod
    expect(on_node.locator(".chip-phase")).to_have_text("Terminating")
    shot(page, "pod-terminating")

    page.get_by_role("button", name="x100").click()
    expect(page.get_by_role("button", name="x100")).to_have_attribute("aria-pressed", "true")
    page.get_by_role("button", name="Resume").click()
    expect(page.locator('[data-step="1"]')).to_be_disabled()
    expect(chip(page, name)).to_have_count(0)
    set_clock(live_kubelab, speed=10)


def test_a_pod_that_fits_no_node_waits_in_the_pending_lane_saying_why(live_kubelab, page):
    set_clock(live_kubelab, paused=False, speed=10)
    open_board(page, live_kubelab)
    name = unique("hungry")
    result = apply_yaml(page, pod_manifest(name, cpu="100"))
    expect(result).to_contain_text(f"pod/{name} created")
    page.keyboard.press("Escape")
    pending = page.locator(f'#pending-list .chip[data-name="{name}"]')
    expect(pending.locator(".chip-why")).to_contain_text("Insufficient cpu")
    expect(pending.locator(".chip-why")).to_contain_text("0/3 nodes are available")
    expect(pending.locator(".chip-phase")).to_have_text("Pending")
    expect(page.locator(f'.node-col .chip[data-name="{name}"]')).to_have_count(0)
    shot(page, "pending-lane")

    # An unbound pod has no kubelet to wait for: it goes at once.
    pending.get_by_role("button", name=f"Delete pod default/{name}").click()
    expect(chip(page, name)).to_have_count(0)


def test_an_invalid_manifest_shows_each_error_with_its_line_and_applies_nothing(
        live_kubelab, page):
    open_board(page, live_kubelab)
    good, bad = unique("fine"), unique("typo")
    # The seed's mistake: `8080# comment` (no space before #) is the string "8080# comment".
    text = pod_manifest(good) + "---\n" + pod_manifest(bad).replace(
        "containerPort: 8080", "containerPort: 8080# the port the app listens on")
    line = text.splitlines().index("    - containerPort: 8080# the port the app listens on") + 1
    result = apply_yaml(page, text)
    expect(result.locator(".result-head")).to_have_text(re.compile("Nothing was applied"))
    error = result.locator("li.error")
    expect(error).to_have_count(1)
    expect(error.locator(".error-text")).to_contain_text(f"document 2, line {line}: ")
    expect(error.locator(".error-text")).to_contain_text("containerPort")
    expect(error.locator(".hint")).to_contain_text("#")  # the teacher's hint, under the error
    shot(page, "apply-error")

    error.get_by_role("button", name=f"go to line {line}").click()
    expect(page.locator("#manifest")).to_be_focused()
    selected = page.evaluate("() => { const t = document.querySelector('#manifest');"
                             " return t.value.slice(t.selectionStart, t.selectionEnd); }")
    assert "containerPort: 8080#" in selected
    for name in (good, bad):
        status, _ = api(live_kubelab, "GET", f"/clusters/demo/api/v1/namespaces/default/pods/{name}")
        assert status == 404, f"{name} was applied although the manifest had an error"
    expect(chip(page, good)).to_have_count(0)


def test_the_home_page_lists_clusters_and_creates_one_with_its_nodes(live_kubelab, page):
    page.goto(live_kubelab.url + "/")
    expect(page.get_by_role("link", name="demo", exact=True)).to_be_visible()
    shot(page, "home")

    page.get_by_label("Name").fill("class-a")
    page.get_by_label("Nodes").fill("2")
    page.get_by_role("button", name="Create").click()
    expect(page).to_have_url(re.compile(r"/clusters/class-a/$"))
    expect(page.locator("h1")).to_have_text(re.compile(r"kubelab\s*/\s*class-a"))
    columns = page.locator(".node-col")
    expect(columns).to_have_count(2)
    for i in range(2):
        expect(columns.nth(i).locator(".node-ready")).to_have_attribute("data-state", "Ready")
    expect(page.locator("#cluster-switch option", has_text="demo")).to_have_count(1)
    shot(page, "class-a-board")

    # A second cluster of the same name is refused with the reason, the input kept.
    page.goto(live_kubelab.url + "/")
    page.get_by_label("Name").fill("class-a")
    page.get_by_role("button", name="Create").click()
    expect(page.get_by_role("alert")).to_contain_text("already exists")
    expect(page.get_by_label("Name")).to_have_value("class-a")
