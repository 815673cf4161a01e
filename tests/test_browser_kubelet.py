"""The kubelet on the board, in a real browser (issue 4): logs, the exec console, container
trouble as `kubectl get pods` shows it, and the node column's controls.

Same set-up as tests/test_browser.py (whose browser fixtures this module shares). The module
works in a cluster of its own (`kubelet-lab`, 3 nodes), so adding, cordoning or powering off
nodes never changes what the other browser tests see in `demo`. Its clock runs at x10 (a pod
starts 2 simulated seconds after admission, well under a second of wall time). Screenshots go
to /tmp/kubelab-shots/kubelet-*.png.
"""

import importlib.util
import json
import re

import pytest

from tests.browser import WAIT, expect, shot, unique
from tests.live import api, create_cluster

LAB = "kubelet-lab"
BASE = f"/clusters/{LAB}"


@pytest.fixture(scope="module")
def lab(live_kubelab):
    create_cluster(live_kubelab, LAB, 3)
    return live_kubelab


def set_lab_clock(server, **spec):
    status, body = api(server, "PATCH", f"{BASE}/apis/kubelab.io/v1/clocks/cluster",
                       {"spec": spec}, "application/merge-patch+json")
    assert status == 200, body


def open_lab(page, server):
    set_lab_clock(server, paused=False, speed=10)
    page.goto(server.url + f"{BASE}/")
    expect(page.locator("#conn")).to_have_text("live")


def busybox(name, script, restart_policy=None, image="busybox"):
    policy = f"\n  restartPolicy: {restart_policy}" if restart_policy else ""
    return f"""apiVersion: v1
kind: Pod
metadata:
  name: {name}
spec:{policy}
  containers:
  - name: main
    image: {image}
    command: ["sh", "-c", {json.dumps(script)}]
"""


def apply(page, text):
    page.get_by_role("button", name="Apply YAML").click()
    page.locator("#manifest").fill(text)
    page.locator("#apply-namespace").fill("default")
    page.locator("#apply-panel").get_by_role("button", name="Apply", exact=True).click()
    expect(page.locator("#apply-result .result-head")).to_have_class(re.compile(r"\bok\b"))
    page.keyboard.press("Escape")
    expect(page.locator("#apply-panel")).to_be_hidden()


def on_node(page, name):
    return page.locator(f'.node-col .chip[data-name="{name}"]')


def column(page, node):
    return page.locator(f'.node-col[data-node="{node}"]')


def expect_cordoned(page, node):
    flag = column(page, node).locator(".node-cordon")
    expect(flag).to_be_visible()
    expect(flag).to_have_text("SchedulingDisabled")


def node_menu(page, node):
    """Open a column's ⋯ menu from the keyboard, as the ARIA menu button pattern has it."""
    button = page.get_by_role("button", name=f"Actions for node {node}")
    button.focus()
    page.keyboard.press("Enter")
    menu = page.get_by_role("menu", name=f"Actions for node {node}")
    expect(menu).to_be_visible()
    expect(menu.get_by_role("menuitem").first).to_be_focused()
    return menu


def test_logs_follow_the_pod_and_the_exec_console_runs_commands_in_it(lab, page):
    open_lab(page, lab)
    name = unique("talk")
    apply(page, busybox(name, f"echo hello from {name}; sleep 3600"))
    chip = on_node(page, name)
    expect(chip.locator(".chip-phase")).to_have_text("Running")

    chip.locator(".chip-open").click()
    logs = page.locator("#detail-logs")
    expect(logs).to_be_visible()
    expect(logs.locator("#logs-text")).to_have_text(f"hello from {name}\n")
    expect(logs.locator("#logs-cmd")).to_have_text(f"kubectl logs {name} -f")
    expect(logs.locator("#logs-state")).to_contain_text("following")
    # One container: nothing to choose.
    expect(page.locator("#logs-container-label")).to_be_hidden()
    logs.get_by_label("Timestamps").check()
    expect(logs.locator(".log-time")).to_have_text(re.compile(r"^\d{4}-\d\d-\d\dT[\d:.]+Z$"))
    logs.get_by_label("Timestamps").uncheck()
    # Nothing before the first restart: the API server's own words.
    logs.get_by_role("button", name="Previous").click()
    expect(logs.locator("#logs-note")).to_have_text(
        f'Nothing to show yet: previous terminated container "main" in pod "{name}" not found')
    logs.get_by_role("button", name="Current").click()
    expect(logs.locator("#logs-text")).to_have_text(f"hello from {name}\n")

    console = page.locator("#detail-exec")
    command = console.get_by_label("Command to run in the container")
    command.fill("touch /tmp/x && ls /tmp")
    command.press("Enter")
    entry = console.locator(".exec-entry").last
    expect(entry.locator(".exec-exit")).to_have_text("exit code 0")
    expect(entry.locator(".exec-out .stdout")).to_have_text(["x"])
    expect(command).to_have_value("")
    expect(command).to_be_focused()

    command.fill("ls /nowhere; echo fine")
    command.press("Enter")
    entry = console.locator(".exec-entry").last
    expect(entry.locator(".exec-exit")).to_have_text("exit code 0")
    expect(entry.locator(".exec-out .stderr")).to_have_count(1)
    expect(entry.locator(".exec-out .stderr")).to_contain_text("/nowhere")
    expect(entry.locator(".exec-out .stdout")).to_have_text(["fine"])
    # ↑ recalls the commands run, newest first; ↓ goes back towards the empty line.
    command.press("ArrowUp")
    expect(command).to_have_value("ls /nowhere; echo fine")
    command.press("ArrowUp")
    expect(command).to_have_value("touch /tmp/x && ls /tmp")
    command.press("ArrowDown")
    command.press("ArrowDown")
    expect(command).to_have_value("")
    shot(page, "kubelet-exec")

    # `kill 1` ends the main process: the container exits, the kubelet restarts it.
    console.get_by_role("button", name="kill 1").click()
    expect(chip.locator(".badge.restarts")).to_have_text("↻1")
    card = page.locator('#containers-list .ctr[data-container="main"]')
    expect(card.locator(".ctr-restarts")).to_have_text("1")
    expect(card).to_contain_text("Last state")
    expect(card).to_have_attribute("data-state", "Running")
    # The new instance logs its line again; the old one is --previous.
    logs.get_by_role("button", name="Previous").click()
    expect(logs.locator("#logs-text")).to_have_text(f"hello from {name}\n")
    expect(logs.locator("#logs-cmd")).to_have_text(f"kubectl logs {name} --previous")
    # A fresh container: the file touched in the old one is gone.
    command.fill("ls /tmp")
    command.press("Enter")
    entry = console.locator(".exec-entry").last
    expect(entry.locator(".exec-exit")).to_have_text("exit code 0")
    expect(entry.locator(".exec-out")).to_have_count(0)
    shot(page, "kubelet-after-kill")


def test_logs_follow_a_running_container_and_keep_the_readers_place(lab, page):
    open_lab(page, lab)
    name = unique("ticker")
    apply(page, busybox(name, "i=0; while true; do i=$((i+1)); echo tick $i; sleep 1; done"))
    chip = on_node(page, name)
    expect(chip.locator(".chip-phase")).to_have_text("Running")
    chip.locator(".chip-open").click()
    log = page.locator("#logs-text")
    expect(log).to_contain_text("tick 3\n")
    # New lines arrive without the pod object changing (a poll every ~2 s), and the view
    # stays at the newest while the reader is there.
    expect(log).to_contain_text("tick 60\n", timeout=WAIT)
    at_bottom = "t => t.scrollHeight - t.scrollTop - t.clientHeight < 24"
    assert log.evaluate(at_bottom)
    # Scrolled up to read, the reader stays put; a button offers the newest lines.
    log.evaluate("t => { t.scrollTop = 0; }")
    seen = log.evaluate("t => t.textContent.length")
    page.wait_for_function(
        "n => document.querySelector('#logs-text').textContent.length > n", arg=seen)
    assert log.evaluate("t => t.scrollTop") == 0
    latest = page.get_by_role("button", name="↓ Newest lines")
    expect(latest).to_be_visible()
    shot(page, "kubelet-logs-follow")
    latest.click()
    assert log.evaluate(at_bottom)
    expect(latest).to_be_hidden()
    page.keyboard.press("Escape")


def test_container_trouble_reads_as_kubectl_get_pods_prints_it(lab, page):
    open_lab(page, lab)
    crash, bad, done, failed = (unique(p) for p in ("crash", "badimage", "done", "failed"))
    apply(page, "---\n".join([
        busybox(crash, "echo dying; exit 1"),
        busybox(bad, "sleep 3600", image="nginx:1.277"),
        busybox(done, "echo done", restart_policy="Never"),
        busybox(failed, "echo bad >&2; exit 2", restart_policy="Never"),
    ]))
    expect(on_node(page, crash).locator(".chip-phase")).to_have_text("CrashLoopBackOff")
    expect(on_node(page, crash)).to_have_class(re.compile(r"\bcat-failed\b"))
    expect(on_node(page, crash).locator(".badge.restarts")).to_be_visible()
    expect(on_node(page, bad).locator(".chip-phase")).to_have_text(
        re.compile(r"^(ErrImagePull|ImagePullBackOff)$"))
    expect(on_node(page, done).locator(".chip-phase")).to_have_text("Completed")
    expect(on_node(page, done)).to_have_class(re.compile(r"\bcat-succeeded\b"))
    expect(on_node(page, failed).locator(".chip-phase")).to_have_text("Error")
    shot(page, "kubelet-trouble-board")

    on_node(page, crash).locator(".chip-open").click()
    card = page.locator('#containers-list .ctr[data-container="main"]')
    expect(card).to_have_attribute("data-reason", "CrashLoopBackOff")
    expect(card.locator(".ctr-message").first).to_contain_text("back-off")
    expect(card.locator(".ctr-message").first).to_contain_text("restarting failed container=main")
    expect(card).to_contain_text("Error, exit code 1")  # the last state
    logs = page.locator("#detail-logs")
    logs.get_by_role("button", name="Previous").click()
    expect(logs.locator("#logs-text")).to_have_text("dying\n")
    # Exec needs a running container: the console says so, and so does the server.
    expect(page.locator("#exec-warning")).to_contain_text("is not running (CrashLoopBackOff)")
    shot(page, "kubelet-crashloop-panel")

    on_node(page, bad).locator(".chip-open").click()
    card = page.locator('#containers-list .ctr[data-container="main"]')
    expect(card).to_have_attribute("data-reason", re.compile(r"^(ErrImagePull|ImagePullBackOff)$"))
    expect(card).to_contain_text("nginx:1.277")
    expect(page.locator("#logs-note")).to_contain_text(
        f'container "main" in pod "{bad}" is waiting to start')
    console = page.locator("#detail-exec")
    command = console.get_by_label("Command to run in the container")
    command.fill("ls /")
    command.press("Enter")
    expect(console.locator(".exec-entry").last.locator(".exec-out .stderr")).to_contain_text(
        "container not found")
    shot(page, "kubelet-imagepull-panel")


def test_node_controls_cordon_add_power_and_remove(lab, page):
    open_lab(page, lab)
    expect(page.locator(".node-col")).to_have_count(3)

    # Cordon from the keyboard: the menu opens on its first item; ↓ moves to Cordon.
    menu = node_menu(page, "node-1")
    page.keyboard.press("ArrowDown")
    expect(menu.get_by_role("menuitem", name="Cordon")).to_be_focused()
    shot(page, "kubelet-node-menu")
    page.keyboard.press("Enter")
    expect(menu).to_be_hidden()
    expect(page.get_by_role("button", name="Actions for node node-1")).to_be_focused()
    expect_cordoned(page, "node-1")
    expect(column(page, "node-1").locator(".node-ready")).to_have_text("✓ Ready")
    status, node = api(lab, "GET", f"{BASE}/api/v1/nodes/node-1")
    assert node["spec"].get("unschedulable") is True, node
    # A pod applied now goes elsewhere.
    name = unique("placed")
    apply(page, busybox(name, "sleep 3600"))
    expect(on_node(page, name).locator(".chip-phase")).to_have_text("Running")
    assert column(page, "node-1").locator(f'.chip[data-name="{name}"]').count() == 0
    shot(page, "kubelet-cordoned")

    # The node panel says it too, with the button to undo it.
    column(page, "node-1").locator(".node-head").click()
    detail = page.locator("#detail-panel")
    expect(detail.locator(".node-status")).to_have_text("Ready,SchedulingDisabled")
    ready = detail.locator("#node-conditions tr[data-type='Ready'] .cond-status")
    expect(ready).to_have_text("True")
    detail.locator("#node-actions").get_by_role("button", name="Uncordon").click()
    expect(column(page, "node-1").locator(".node-cordon")).to_be_hidden()
    expect(detail.locator(".node-status")).to_have_text("Ready")
    page.keyboard.press("Escape")

    # Add node: its column appears after node-3 and turns Ready when its kubelet registers.
    page.get_by_role("button", name="+ Add node").click()
    expect(page.locator(".node-col")).to_have_count(4)
    expect(page.locator(".node-col").nth(3)).to_have_attribute("data-node", "node-4")
    expect(column(page, "node-4").locator(".node-ready")).to_have_attribute("data-state", "Ready")
    shot(page, "kubelet-node-added")

    # Power off: the annotation, shown on the column; the kubelet stops posting status, and
    # after the node monitor grace period (50 s in 1.32; 5 s of wall time at x10) the node
    # controller marks it Unknown and taints it unreachable.
    menu = node_menu(page, "node-2")
    menu.get_by_role("menuitem", name="Power off").click()
    node2 = column(page, "node-2")
    expect(node2.locator(".node-power")).to_be_visible()
    status, node = api(lab, "GET", f"{BASE}/api/v1/nodes/node-2")
    assert node["metadata"].get("annotations", {}).get("kubelab.io/power") == "off", node
    expect(node2.locator(".node-ready")).to_have_attribute("data-state", "Unknown", timeout=WAIT)
    expect(node2.locator(".node-ready")).to_have_text("? Unknown")
    expect(node2.locator(".node-why")).to_have_text("Kubelet stopped posting node status.")
    node2.locator(".node-head").click()
    expect(detail.locator(".node-status")).to_have_text("Unknown")
    expect(detail.locator("#detail-summary")).to_contain_text("off (kubelab.io/power: off)")
    expect(detail.locator("#detail-summary")).to_contain_text(
        "NodeStatusUnknown: Kubelet stopped posting node status.")
    expect(detail.locator("#node-conditions tr[data-type='Ready'] .cond-status")).to_have_text(
        "Unknown")
    expect(detail.locator("#node-taints")).to_contain_text(
        "node.kubernetes.io/unreachable:NoSchedule")
    shot(page, "kubelet-powered-off")
    detail.locator("#node-actions").get_by_role("button", name="Power on").click()
    expect(node2.locator(".node-power")).to_be_hidden()
    expect(node2.locator(".node-ready")).to_have_attribute("data-state", "Ready")
    expect(node2.locator(".node-why")).to_be_hidden()
    expect(detail.locator("#node-taints")).not_to_contain_text("unreachable")
    page.keyboard.press("Escape")

    # Remove asks first; Cancel keeps the node.
    menu = node_menu(page, "node-4")
    menu.get_by_role("menuitem", name="Remove node").click()
    dialog = page.get_by_role("dialog", name="Remove node node-4?")
    expect(dialog).to_be_visible()
    shot(page, "kubelet-remove-dialog")
    dialog.get_by_role("button", name="Cancel").click()
    expect(page.locator(".node-col")).to_have_count(4)
    menu = node_menu(page, "node-4")
    page.keyboard.press("End")
    expect(menu.get_by_role("menuitem", name="Remove node")).to_be_focused()
    page.keyboard.press("Enter")
    dialog.get_by_role("button", name="Remove node").click()
    expect(page.locator(".node-col")).to_have_count(3)
    expect(column(page, "node-4")).to_have_count(0)


DRAIN = importlib.util.find_spec("cluster.nodes_admin") is not None


@pytest.mark.skipif(not DRAIN, reason="cluster/nodes_admin.py (drain) has not landed yet")
def test_drain_from_the_column_cordons_the_node_and_evicts_its_pods(lab, page):
    open_lab(page, lab)
    name = unique("evicted")
    apply(page, busybox(name, "sleep 3600"))
    chip = on_node(page, name)
    expect(chip.locator(".chip-phase")).to_have_text("Running")
    node = chip.evaluate("c => c.closest('.node-col').dataset.node")
    menu = node_menu(page, node)
    menu.get_by_role("menuitem", name="Drain").click()
    expect_cordoned(page, node)
    set_lab_clock(lab, speed=100)  # the 30 s grace period
    expect(page.locator(f'.chip[data-name="{name}"]')).to_have_count(0)
    set_lab_clock(lab, speed=10)
    api(lab, "PATCH", f"{BASE}/api/v1/nodes/{node}", {"spec": {"unschedulable": None}},
        "application/merge-patch+json")


# The endpoints behind the console and the Drain item, through Django's test client (no
# browser): what the page gets back in each case.

def test_the_exec_endpoint_answers_output_and_exit_code(client, cluster, clock):
    from cluster import store
    from tests.builders import make_pod

    store.create(cluster, make_pod("kubia"))
    clock.run(4)
    response = client.post("/clusters/test/exec", {
        "namespace": "default", "pod": "kubia", "container": "kubia",
        "command": "touch /tmp/x && ls /tmp; ls /nowhere"})
    assert response.status_code == 200
    assert response.json() == {"exitCode": 1, "stdout": ["x"], "stderr": [
        "ls: /nowhere: No such file or directory"]}


def test_the_exec_endpoint_refuses_in_kubernetes_words(client, cluster, clock):
    from cluster import store
    from tests.builders import make_pod

    store.create(cluster, make_pod("kubia"))
    clock.tick(1)   # admitted, still ContainerCreating
    response = client.post("/clusters/test/exec", {"pod": "kubia", "command": "ls"})
    assert response.status_code == 400
    assert response.json()["message"] == \
        'unable to upgrade connection: container not found ("kubia")'
    response = client.post("/clusters/test/exec", {"pod": "nope", "command": "ls"})
    assert response.status_code == 404 and response.json()["kind"] == "Status"
    response = client.post("/clusters/test/exec", {"pod": "kubia", "command": "  "})
    assert response.status_code == 400
    assert response.json()["message"] == "you must specify at least one command for the container"


def test_the_exec_endpoint_needs_the_csrf_token(cluster):
    from django.test import Client

    response = Client(enforce_csrf_checks=True).post(
        "/clusters/test/exec", {"pod": "kubia", "command": "ls"})
    assert response.status_code == 403


@pytest.mark.skipif(not DRAIN, reason="cluster/nodes_admin.py (drain) has not landed yet")
def test_the_drain_endpoint_answers_what_kubectl_drain_prints(client, cluster, clock):
    from cluster import store
    from tests.builders import make_pod

    store.create(cluster, make_pod("kubia", node_name="node-1"))
    clock.run(4)
    response = client.post("/clusters/test/nodes/node-1/drain", {"node": "node-1"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["ok"] is True and body["evicted"] == ["default/kubia"]
    assert body["lines"][0] == "node/node-1 cordoned"
    response = client.post("/clusters/test/nodes/node-9/drain", {"node": "node-9"})
    assert response.status_code == 404
