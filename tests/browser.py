"""Shared pieces of the browser tests: Chromium, pages that fail on script errors, the API.

The `browser` and `page` fixtures are registered for every test module by tests/conftest.py.
"""

import json
import urllib.request
import uuid
from pathlib import Path

import pytest

from tests.tools import require_tool

# Playwright is a test dependency (pyproject's `test` extra): missing, it fails, never skips.
from playwright import sync_api as playwright  # noqa: E402

expect = playwright.expect

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
SHOTS = Path("/tmp/kubelab-shots")
WAIT = 20_000  # ms: the longest anything here may take


def need_chromium():
    return require_tool(CHROMIUM, "the browser tests drive Debian's Chromium through Playwright")


@pytest.fixture(scope="module")
def browser():
    need_chromium()
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    """A fresh page; any uncaught script error on it fails the test."""
    need_chromium()
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.set_default_timeout(WAIT)
    yield page
    context.close()
    assert not errors, f"script errors on the page: {errors}"


def shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def api(server, method, path, body=None, content_type="application/json"):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(server.url + path, data=data, method=method,
                                     headers={"Content-Type": content_type})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def set_clock(server, cluster="demo", **spec):
    status, body = api(server, "PATCH", f"/clusters/{cluster}/apis/kubelab.io/v1/clocks/cluster",
                       {"spec": spec}, "application/merge-patch+json")
    assert status == 200, body


def unique(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:6]}"
