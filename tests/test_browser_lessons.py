"""A learner walks the ReplicationController lesson in Chromium through the board alone: from
/lessons/ to a fresh cluster beside its board, each step done with the board's own controls
(the lesson's Apply button, a chip's delete button, the label editor, the node menu's power
switch, the Workloads tab's + button), each ticking off by itself, to "Lesson complete".

Everything waits on what the page shows, never on the wall clock; the lesson's clock runs at
x5 and the learner speeds it to x100 to wait out the node's eviction, as the step suggests.
The screenshot goes to /tmp/kubelab-shots/lesson-*.png.
"""

import re

from tests.browser import WAIT, expect, shot

LESSON = "replicationcontroller"


def step(page, step_id):
    return page.locator(f'#lesson-steps [data-step="{step_id}"]')


def expect_done(page, step_id, timeout=WAIT):
    expect(step(page, step_id)).to_have_class(re.compile(r"\bis-done\b"), timeout=timeout)


def kubia_chips(page):
    return page.locator('#view-board .node-col .chip[data-name^="kubia-"]:not(.cat-terminating)')


def test_the_replicationcontroller_lesson_walked_through_the_board(live_kubelab, page):
    page.goto(live_kubelab.url + "/lessons/")
    card = page.locator(f'.lesson-card[data-lesson="{LESSON}"]')
    expect(card).to_contain_text("not started")
    card.get_by_role("link").click()
    page.get_by_role("button", name="Start the lesson").click()
    expect(page).to_have_url(re.compile(rf"/lessons/{LESSON}/$"))
    expect(page.locator("#conn")).to_have_text("live")
    panel = page.locator("#lesson-panel")
    expect(panel.locator("#lesson-count")).to_have_text("0 of 5")
    expect(page.locator("#clock-speed [data-speed='5']")).to_have_attribute("aria-pressed", "true")
    expect(page.locator(".node-col")).to_have_count(3)
    expect(step(page, "apply-rc")).to_have_attribute("aria-current", "step")

    # 1. One click applies the seed's RC: three pods, Running.
    step(page, "apply-rc").get_by_role("button", name=re.compile("^Apply ReplicationController")).click()
    expect(step(page, "apply-rc")).to_contain_text("replicationcontroller/kubia created")
    expect_done(page, "apply-rc")
    expect(kubia_chips(page)).to_have_count(3)
    expect(step(page, "delete-a-pod")).to_have_attribute("aria-current", "step")
    shot(page, "lesson-rc-applied")

    # 2. Delete one pod from its chip: the RC replaces it.
    doomed = kubia_chips(page).first.get_attribute("data-name")
    page.get_by_role("button", name=f"Delete pod default/{doomed}").click()
    expect_done(page, "delete-a-pod")
    expect(page.locator(f'.chip[data-name="{doomed}"]')).to_have_count(0)

    # 3. Relabel a pod in the panel's label editor: app=foo, out of the selector.
    stolen = kubia_chips(page).first
    stolen_name = stolen.get_attribute("data-name")
    stolen.locator(".chip-open").click()
    detail = page.locator("#detail-panel")
    expect(detail.locator("#detail-title")).to_have_text(f"default/{stolen_name}")
    detail.get_by_label("Value of label app", exact=True).fill("foo")
    detail.get_by_role("button", name="Save").click()
    expect_done(page, "relabel-a-pod")
    page.keyboard.press("Escape")
    expect(detail).to_be_hidden()

    # 4. Power node-2 off from its column's menu and hurry the clock through the eviction.
    button = page.get_by_role("button", name="Actions for node node-2")
    button.focus()
    page.keyboard.press("Enter")
    page.get_by_role("menu", name="Actions for node node-2").get_by_role(
        "menuitem", name="Power off").click()
    page.get_by_role("button", name="x100").click()
    expect_done(page, "power-off-node", timeout=3 * WAIT)
    page.get_by_role("button", name="x5", exact=True).click()

    # 5. Scale to five in the Workloads tab.
    page.get_by_role("tab", name=re.compile(r"^Workloads")).click()
    plus = page.get_by_role("button", name="One replica more for replicationcontroller/kubia")
    plus.click()
    expect(page.locator('.wl-card[data-name="kubia"] .wl-stat[data-stat="desired"] dd')).to_have_text("4")
    plus.click()
    expect_done(page, "scale-up")
    expect(panel.locator("#lesson-finished")).to_be_visible()
    expect(panel.locator("#lesson-count")).to_have_text("5 of 5")
    shot(page, "lesson-rc-complete")

    # The list remembers this learner's progress.
    page.goto(live_kubelab.url + "/lessons/")
    expect(card).to_contain_text("done")


def test_a_seed_mistake_is_applied_as_written_explained_and_fixed_in_one_click(live_kubelab,
                                                                               page):
    page.goto(live_kubelab.url + "/lessons/services/")
    page.get_by_role("button", name="Start the lesson").click()
    expect(page.locator("#conn")).to_have_text("live")
    mistake = page.locator('.lesson-manifest[data-manifest="seed-kubia-service"]')
    explained = mistake.locator(".mistake-explained")
    expect(explained).to_be_hidden()
    mistake.get_by_role("button", name="Apply as written").click()
    outcome = mistake.locator('[data-outcome="seed-kubia-service"]')
    expect(outcome).to_contain_text("Nothing was applied")
    expect(outcome).to_contain_text("a comment needs a space before #")
    expect(explained).to_be_visible()
    explained.get_by_role("button", name=re.compile("^Apply the fix")).click()
    expect(explained.locator('[data-outcome="kubia-service"]')).to_contain_text("service/kubia created")
    expect(step(page, "apply-service")).to_have_class(re.compile(r"\bis-done\b"))
    shot(page, "lesson-services-mistake")
