"""Shared pieces of the browser tests: Chromium, pages that fail on script errors, the API.

The `browser` and `page` fixtures are registered for every test module by tests/conftest.py.
"""

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


def unique(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:6]}"
