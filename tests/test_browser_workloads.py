"""The Workloads tab in a real browser: the seed's kubia ReplicationController, picked from the
Apply form's Examples menu, runs three pods the reconciler makes in real time, scales to four
from the keyboard, and is deleted with --cascade=orphan; a CronJob counts down to its next run
on the simulated clock and shows the Job it starts.

Same set-up as tests/test_browser.py (whose browser fixtures this module shares), in a cluster
of its own (`workloads-lab`, 3 nodes), so the RC's selector app=kubia never meets the pods the
other browser tests make in `demo`. Its clock runs at x10. Everything waits on what the page
shows, never on the wall clock. The screenshot goes to /tmp/workloads.png.
"""

import re

import pytest

from tests.browser import WAIT, expect, shot
from tests.live import set_clock
from tests.live import create_cluster

LAB = "workloads-lab"
BASE = f"/clusters/{LAB}"


@pytest.fixture(scope="module")
def lab(live_kubelab):
    create_cluster(live_kubelab, LAB, 3)
    set_clock(live_kubelab, LAB, paused=False, speed=10)
    return live_kubelab


def pick_example(page, title):
    """The Examples menu from the keyboard, as the ARIA menu button pattern has it."""
    page.get_by_role("button", name="Apply YAML").click()
    button = page.get_by_role("button", name="Examples")
    button.focus()
    page.keyboard.press("Enter")
    menu = page.get_by_role("menu", name="Examples")
    expect(menu).to_be_visible()
    expect(menu.get_by_role("menuitem").first).to_be_focused()
    item = menu.get_by_role("menuitem", name=title, exact=True)
    while not item.evaluate("el => el === document.activeElement"):
        page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(menu).to_be_hidden()


def test_the_seeds_rc_from_the_examples_menu_runs_three_pods_and_scales_to_four(lab, page):
    page.goto(lab.url + f"{BASE}/")
    expect(page.locator("#conn")).to_have_text("live")

    pick_example(page, "ReplicationController kubia")
    # As the seed writes it, its Korean comments included.
    expect(page.locator("#manifest")).to_have_value(re.compile(
        r"^apiVersion: v1\nkind: ReplicationController # RC의 manifest 정의\n"))
    expect(page.locator("#example-note")).to_contain_text("section 4, lines 60-77")
    page.locator("#apply-panel").get_by_role("button", name="Apply", exact=True).click()
    expect(page.locator("#apply-result")).to_contain_text("replicationcontroller/kubia created")
    page.keyboard.press("Escape")
    expect(page.locator("#apply-panel")).to_be_hidden()

    page.get_by_role("tab", name=re.compile(r"^Workloads")).click()
    card = page.locator('.wl-card[data-kind="ReplicationController"][data-name="kubia"]')
    stat = lambda key: card.locator(f'.wl-stat[data-stat="{key}"] dd')  # noqa: E731
    expect(stat("desired")).to_have_text("3")
    expect(stat("ready")).to_have_text("3", timeout=WAIT)  # the reconciler, in real time
    expect(card.locator(".wl-pod-list .chip.is-ready")).to_have_count(3)
    expect(card.locator(".wl-state").first).to_have_text("3 of 3 ready")
    expect(card.locator('.wl-fact[data-fact="selector"] dd')).to_have_text("app=kubia")
    expect(card.locator('.wl-event[data-reason="SuccessfulCreate"]')).to_have_count(3)

    plus = card.get_by_role("button", name="One replica more for replicationcontroller/kubia")
    plus.focus()
    page.keyboard.press("Enter")
    expect(stat("desired")).to_have_text("4")
    expect(card.get_by_role("spinbutton", name="Replicas")).to_have_value("4")
    expect(stat("ready")).to_have_text("4", timeout=WAIT)
    expect(card.locator(".wl-pod-list .chip.is-ready")).to_have_count(4)
    expect(card.locator(".wl-state").first).to_have_text("4 of 4 ready")
    expect(card.locator('.wl-event[data-reason="SuccessfulCreate"]')).to_have_count(4)
    page.mouse.move(0, 0)
    page.screenshot(path="/tmp/workloads.png")

    # The name opens the detail panel: YAML as stored and the controller's events.
    card.get_by_role("button", name="ReplicationController kubia", exact=True).click()
    detail = page.locator("#detail-panel")
    expect(detail.locator("#detail-kind")).to_have_text("ReplicationController")
    expect(detail.locator("#detail-yaml")).to_contain_text("replicas: 4")
    expect(detail.locator('#detail-events tr[data-reason="SuccessfulCreate"]')).to_have_count(4)
    expect(detail.locator("#detail-summary")).to_contain_text("4 of 4 ready")
    shot(page, "workloads-rc-panel")
    page.keyboard.press("Escape")
    expect(detail).to_be_hidden()

    # On the board, each of its pods says who owns it; the tag lights up its siblings.
    page.get_by_role("tab", name="Board").click()
    tags = page.locator(".node-col .chip-owner", has_text="rc/kubia")
    expect(tags).to_have_count(4)
    tags.first.focus()
    expect(page.locator(".node-col .chip.is-sibling")).to_have_count(4)
    shot(page, "workloads-owner-lit")

    # kubectl delete rc kubia --cascade=orphan: the controller goes, its pods stay, unowned.
    page.get_by_role("tab", name=re.compile(r"^Workloads")).click()
    card.get_by_role("button", name="Delete replicationcontroller/kubia…").click()
    dialog = page.get_by_role("dialog", name="Delete replicationcontroller kubia?")
    expect(dialog.get_by_role("radio", name=re.compile(r"^background"))).to_be_checked()
    dialog.get_by_role("radio", name=re.compile(r"^orphan")).check()
    expect(dialog.locator("#delete-cmd")).to_have_text("kubectl delete rc kubia --cascade=orphan")
    dialog.get_by_role("button", name="Delete").click()
    expect(card).to_have_count(0, timeout=WAIT)
    expect(page.locator("#workloads-empty")).to_be_visible()
    page.get_by_role("tab", name="Board").click()
    expect(page.locator(".node-col .chip")).to_have_count(4)
    expect(page.locator(".node-col .chip-owner")).to_have_count(0)


EVERY_MINUTE = """apiVersion: batch/v1
kind: CronJob
metadata:
  name: every-minute
spec:
  schedule: "* * * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers:
          - name: main
            image: busybox
            command: ["sh", "-c", "sleep 5"]
"""


def test_a_cronjob_counts_down_to_its_next_run_and_shows_the_job_it_starts(lab, page):
    # At x10 a minute boundary comes every 6 s of wall time: the clock stays paused until the
    # card has shown "never", or a run could land before the first look.
    set_clock(lab, LAB, paused=True)
    page.goto(lab.url + f"{BASE}/#workloads")
    expect(page.locator("#conn")).to_have_text("live")
    page.get_by_role("button", name="Open Apply YAML").click()
    page.locator("#manifest").fill(EVERY_MINUTE)
    page.locator("#apply-panel").get_by_role("button", name="Apply", exact=True).click()
    expect(page.locator("#apply-result")).to_contain_text("cronjob/every-minute created")
    page.keyboard.press("Escape")

    card = page.locator('.wl-card[data-kind="CronJob"][data-name="every-minute"]')
    expect(card.locator('.wl-fact[data-fact="schedule"] dd')).to_have_text("* * * * *")
    expect(card.locator('.wl-fact[data-fact="last"] dd')).to_have_text("never")
    countdown = card.locator('.wl-fact[data-fact="next"] dd')
    expect(countdown).to_have_text(re.compile(r"^\d\d:\d\d:00 · in \d+s$"))
    first = countdown.text_content()
    set_clock(lab, LAB, paused=False)
    expect(countdown).not_to_have_text(first)  # it counts down with the clock
    # The run comes: a Job with its pod in the card, and the CronJob's own events.
    expect(card.locator(".wl-job")).to_have_count(1, timeout=WAIT)
    expect(card.locator(".wl-job .chip")).to_have_count(1, timeout=WAIT)
    expect(card.locator('.wl-fact[data-fact="last"] dd')).to_have_text(re.compile(r"ago\)$"))
    expect(card.locator('.wl-event[data-reason="SuccessfulCreate"]')).to_contain_text(
        "Created job every-minute-")
    expect(countdown).to_have_text(re.compile(r" · in \d+s$"))  # the run after that
    shot(page, "workloads-cronjob")
