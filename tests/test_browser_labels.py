"""Labels, selectors and namespaces on the board, in a real browser (issue 3).

Same set-up as tests/test_browser.py (whose browser fixtures this module shares): Debian's
Chromium through Playwright against a live server; any script error on the page fails the test.
Each test makes its own namespace and uniquely named pods, so it does not care what else the
demo cluster holds. Screenshots go to /tmp/kubelab-shots/labels-*.png.
"""

import re
import urllib.parse

from tests.browser import expect, shot, unique
from tests.live import api, set_clock

DEMO = "/clusters/demo"


def make_namespace(server, name):
    status, body = api(server, "POST", f"{DEMO}/api/v1/namespaces",
                       {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    assert status == 201, body


def pod_document(name, labels):
    lines = "".join(f"\n    {k}: {v}" for k, v in labels.items())
    return f"""apiVersion: v1
kind: Pod
metadata:
  name: {name}
  labels:
    app: shop{lines}
spec:
  containers:
  - name: shop
    image: luksa/kubia
"""


def apply_in(page, namespace, documents):
    """Apply documents through the YAML form into `namespace`, then close the form."""
    page.get_by_role("button", name="Apply YAML").click()
    page.locator("#manifest").fill("---\n".join(documents))
    page.locator("#apply-namespace").fill(namespace)
    page.locator("#apply-panel").get_by_role("button", name="Apply", exact=True).click()
    result = page.locator("#apply-result")
    expect(result.locator(".result-head")).to_have_class(re.compile(r"\bok\b"))
    page.keyboard.press("Escape")
    expect(page.locator("#apply-panel")).to_be_hidden()


def server_says(server, selector):
    """The selector endpoint's answer: the same parser and wording the page shows."""
    status, body = api(server, "GET", f"{DEMO}/selector?q={urllib.parse.quote(selector)}")
    assert status == 200, body
    return body


def board_chip(page, name):
    return page.locator(f'#view-board .chip[data-name="{name}"]')


def highlighted_names(page, view="#view-board"):
    return sorted(page.locator(f"{view} .chip.is-match").evaluate_all(
        "chips => chips.map(c => c.dataset.name)"))


def type_selector(page, text):
    box = page.get_by_label("Label selector (kubectl -l)")
    box.fill("")
    box.press_sequentially(text, delay=15)  # as a person types: debounced, stale answers dropped


def test_the_selector_highlights_matching_pods_and_follows_a_relabel_made_in_the_panel(
        live_kubelab, page):
    set_clock(live_kubelab, paused=False, speed=10)
    ns = unique("shop")
    make_namespace(live_kubelab, ns)
    prod, devel, qa, plain = (unique(p) for p in ("prod", "devel", "qa", "plain"))
    outsider = unique("outsider")
    page.goto(live_kubelab.url + f"{DEMO}/")
    expect(page.locator("#conn")).to_have_text("live")
    apply_in(page, ns, [pod_document(prod, {"env": "prod"}), pod_document(devel, {"env": "devel"}),
                        pod_document(qa, {"env": "qa"}), pod_document(plain, {})])
    apply_in(page, "default", [pod_document(outsider, {})])
    for name in (prod, devel, qa, plain, outsider):
        expect(board_chip(page, name).locator(".chip-phase")).to_have_text("Running")
    # All namespaces shown: each chip says which it is in.
    expect(board_chip(page, prod).locator(".chip-ns")).to_have_text(f"{ns}/")
    expect(board_chip(page, prod).locator(".chip-ns")).to_be_visible()

    # Typing highlights exactly the matching pods; the rest are dimmed, not hidden.
    type_selector(page, "env in (prod,devel)")
    expect(page.locator(f'#view-board .chip.is-match[data-name="{devel}"]')).to_have_count(1)
    assert highlighted_names(page) == sorted([prod, devel])
    expect(page.locator("body")).to_have_class(re.compile(r"\bis-selecting\b"))
    expect(page.locator("#selector-count")).to_have_text(re.compile(r"^2 of \d+ pods$"))
    expect(board_chip(page, qa)).to_be_visible()
    assert "l=env+in+%28prod%2Cdevel%29" in page.url
    expect(page.get_by_role("button", name="env in (prod,devel)", exact=True)).to_have_attribute(
        "aria-pressed", "true")
    shot(page, "labels-selector")

    # A parse error shows under the box in Kubernetes' words, and nothing stays highlighted.
    type_selector(page, "env in (prod")
    refusal = server_says(live_kubelab, "env in (prod")
    assert not refusal["ok"]
    expect(page.locator("#selector-error")).to_have_text(refusal["error"])
    expect(page.get_by_label("Label selector (kubectl -l)")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#view-board .chip.is-match")).to_have_count(0)
    shot(page, "labels-selector-error")

    # One click on an example fixes it.
    page.get_by_role("button", name="env in (prod,devel)", exact=True).click()
    expect(page.locator("#selector-error")).to_have_text("")
    expect(page.locator("#view-board .chip.is-match")).to_have_count(2)

    # The panel's label editor: an invalid value is refused with the API server's message and
    # the field, and nothing changes.
    board_chip(page, qa).locator(".chip-open").click()
    panel = page.locator("#detail-panel")
    expect(panel.locator("#detail-title")).to_have_text(f"{ns}/{qa}")
    env = panel.get_by_label("Value of label env", exact=True)
    expect(env).to_have_value("qa")
    expect(panel.locator("#meta-last-applied")).to_be_visible()  # applied through the form
    expect(panel.locator('.kv-row[data-key="kubectl.kubernetes.io/last-applied-configuration"]')
           ).to_have_count(0)
    env.fill("not valid!")
    panel.get_by_role("button", name="Save").click()
    alert = panel.get_by_role("alert")
    expect(alert).to_contain_text("Invalid value: \"not valid!\"")
    expect(alert).to_contain_text("a valid label must be an empty string or consist of alphanumeric")
    expect(alert).to_contain_text("metadata.labels")
    expect(env).to_have_attribute("aria-invalid", "true")
    expect(env).to_be_focused()
    status, pod = api(live_kubelab, "GET", f"{DEMO}/api/v1/namespaces/{ns}/pods/{qa}")
    assert pod["metadata"]["labels"] == {"app": "shop", "env": "qa"}
    shot(page, "labels-panel-error")

    # Relabel qa to env=prod and add a label, in one merge patch: the highlight follows.
    env.fill("prod")
    panel.get_by_role("button", name="+ Add label").click()
    panel.get_by_label("New label key").fill("tier")
    panel.get_by_label("New label value").fill("web")
    panel.get_by_role("button", name="Save").click()
    expect(panel.locator("#meta-status")).to_have_text("Saved 2 changes.")
    expect(alert).to_be_hidden()
    expect(panel.get_by_label("Value of label tier", exact=True)).to_have_value("web")
    expect(page.locator(f'#view-board .chip.is-match[data-name="{qa}"]')).to_have_count(1)
    assert highlighted_names(page) == sorted([prod, devel, qa])
    expect(page.locator("#selector-count")).to_have_text(re.compile(r"^3 of \d+ pods$"))
    status, pod = api(live_kubelab, "GET", f"{DEMO}/api/v1/namespaces/{ns}/pods/{qa}")
    assert pod["metadata"]["labels"] == {"app": "shop", "env": "prod", "tier": "web"}
    shot(page, "labels-panel")

    # Removing a row sends null, as `kubectl label tier-` does.
    panel.get_by_role("button", name="Remove label tier").click()
    panel.get_by_role("button", name="Save").click()
    expect(panel.locator("#meta-status")).to_have_text("Saved 1 change.")
    expect(panel.get_by_label("Value of label tier", exact=True)).to_have_count(0)
    status, pod = api(live_kubelab, "GET", f"{DEMO}/api/v1/namespaces/{ns}/pods/{qa}")
    assert pod["metadata"]["labels"] == {"app": "shop", "env": "prod"}
    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()


def test_the_labels_view_groups_pods_by_value_live_and_the_namespace_filter_hides_the_rest(
        live_kubelab, page):
    set_clock(live_kubelab, paused=False, speed=10)
    ns = unique("team")
    make_namespace(live_kubelab, ns)
    prod1, prod2, devel, plain = (unique(p) for p in ("prod", "prod", "devel", "plain"))
    outsider = unique("outsider")
    page.goto(live_kubelab.url + f"{DEMO}/")
    expect(page.locator("#conn")).to_have_text("live")
    apply_in(page, ns, [pod_document(prod1, {"env": "prod"}), pod_document(prod2, {"env": "prod"}),
                        pod_document(devel, {"env": "devel"}), pod_document(plain, {})])
    apply_in(page, "default", [pod_document(outsider, {"env": "prod"})])
    expect(board_chip(page, outsider)).to_have_count(1)

    # One namespace: the demo's other pods are hidden on the board, and chips drop the prefix.
    page.locator("#ns-filter").select_option(ns)
    expect(board_chip(page, outsider)).to_be_hidden()
    expect(board_chip(page, prod1)).to_be_visible()
    expect(board_chip(page, prod1).locator(".chip-ns")).to_be_hidden()
    assert f"ns={ns}" in page.url
    shot(page, "labels-namespace")

    # The Labels tab, grouped by env: one column per value and one for pods without it.
    page.get_by_role("tab", name="Labels").click()
    page.get_by_label("Group pods by label").select_option("env")
    view = page.locator("#view-labels")
    group = lambda value: view.locator(f'.group-col[data-value="{value}"]')  # noqa: E731
    none = view.locator('.group-col[data-none="true"]')
    expect(group("prod").locator(".group-count")).to_have_text("2")
    expect(group("prod").locator(".group-title")).to_have_text("env=prod")
    expect(group("devel").locator(".group-count")).to_have_text("1")
    expect(none.locator(".group-title")).to_have_text("(no env label)")
    expect(none.locator(".group-count")).to_have_text("1")  # app=shop only: other namespaces hidden
    expect(view.locator(f'.chip[data-name="{outsider}"]')).to_have_count(0)
    expect(group("prod").locator(".chip")).to_have_count(2)
    assert "key=env" in page.url and page.url.endswith("#labels")
    shot(page, "labels-groups")

    # Relabelled through the API, a pod's chip moves to its new group: the same element.
    moving = group("devel").locator(f'.chip[data-name="{devel}"]')
    moving.evaluate("chip => { chip.kubelabProbe = true; }")
    status, body = api(live_kubelab, "PATCH", f"{DEMO}/api/v1/namespaces/{ns}/pods/{devel}",
                       {"metadata": {"labels": {"env": "prod"}}}, "application/merge-patch+json")
    assert status == 200, body
    moved = group("prod").locator(f'.chip[data-name="{devel}"]')
    expect(moved).to_have_count(1)
    assert moved.evaluate("chip => chip.kubelabProbe === true"), "the chip was rebuilt, not moved"
    expect(group("prod").locator(".group-count")).to_have_text("3")
    expect(group("devel")).to_have_count(0)  # an empty group goes

    # A group's header puts its selector in the box: the highlight covers every view.
    none.locator(".group-head").click()
    expect(page.get_by_label("Label selector (kubectl -l)")).to_have_value("!env")
    expect(view.locator(".chip.is-match")).to_have_count(1)
    assert highlighted_names(page, "#view-labels") == [plain]
    expect(page.locator("#selector-count")).to_have_text("1 of 4 pods")
    shot(page, "labels-tab")

    # A reload keeps the namespace, the selector, the key and the view.
    page.reload()
    expect(page.locator("#conn")).to_have_text("live")
    expect(page.locator("#ns-filter")).to_have_value(ns)
    expect(page.get_by_label("Label selector (kubectl -l)")).to_have_value("!env")
    expect(page.get_by_role("tab", name="Labels")).to_have_attribute("aria-selected", "true")
    expect(page.get_by_label("Group pods by label")).to_have_value("env")
    expect(view.locator(".chip.is-match")).to_have_count(1)
    page.get_by_role("tab", name="Board").click()
    assert highlighted_names(page) == [plain]
    expect(board_chip(page, outsider)).to_be_hidden()

    # Back to all namespaces, the selector cleared: the normal view.
    page.locator("#ns-filter").select_option("")
    page.get_by_role("button", name="Clear the selector").click()
    expect(board_chip(page, outsider)).to_be_visible()
    expect(page.locator("#view-board .chip.is-match")).to_have_count(0)
    expect(page.locator("body")).not_to_have_class(re.compile(r"\bis-selecting\b"))
    assert "ns=" not in page.url and "l=" not in page.url


# Label sets and selectors where the rules differ most: a missing key under != and notin, an
# empty value, integer comparison (Gt/Lt parse the label as an int64: "007" is 7, while "x" and
# a number past int64 never match).
LABEL_SETS = [{}, {"env": "prod"}, {"env": "devel"}, {"env": "qa", "tier": "web"}, {"n": "5"},
              {"n": "12"}, {"n": "007"}, {"n": "x"}, {"n": "9223372036854775808"},
              {"key1": "value1"}, {"key1": ""}]
SELECTORS = ["env in (prod,devel)", "env notin (prod,devel)", "env!=prod", "env=prod",
             "env==prod", "!env", "env", "n>4", "n<4", "n>6", "tier=web,env", "key1=",
             "env notin (prod),!tier", "key1 in (value1,)", ""]


def test_the_pages_matching_agrees_with_the_api_servers_label_selector(live_kubelab, page):
    ns = unique("match")
    make_namespace(live_kubelab, ns)
    for i, labels in enumerate(LABEL_SETS):
        status, body = api(live_kubelab, "POST", f"{DEMO}/api/v1/namespaces/{ns}/pods", {
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": f"p{i}", "labels": {"set": str(i), **labels}},
            "spec": {"containers": [{"name": "c", "image": "busybox"}]}})
        assert status == 201, body
    page.goto(live_kubelab.url + f"{DEMO}/")
    for selector in SELECTORS:
        query = urllib.parse.quote(selector)
        status, listed = api(live_kubelab, "GET",
                             f"{DEMO}/api/v1/namespaces/{ns}/pods?labelSelector={query}")
        assert status == 200, listed
        by_server = sorted(p["metadata"]["name"] for p in listed["items"])
        requirements = server_says(live_kubelab, selector)["requirements"]
        by_page = page.evaluate("""async ([requirements, sets]) => {
            const { compileSelector } = await import("/static/kubelab/filter.js");
            const matches = compileSelector(requirements);
            return sets.map((labels, i) => [`p${i}`, matches({ set: String(i), ...labels })])
              .filter(([, hit]) => hit).map(([name]) => name).sort();
        }""", [requirements, LABEL_SETS])
        assert by_page == by_server, f"-l {selector!r}: page {by_page}, API server {by_server}"
