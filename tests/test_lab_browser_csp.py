"""The lab's pages under its own Content-Security-Policy (no inline script, no eval), in a real
browser: every page loads, its script runs (the page fills in what it computes) and the browser
reports no CSP violation or other console error."""

from __future__ import annotations

import pytest

from tests.test_lab_browser import PAGES, browser, server  # noqa: F401  (fixtures)

pytestmark = pytest.mark.browser


def test_every_page_runs_under_the_csp(browser, server):  # noqa: F811
    context = browser.new_context(locale="en-US")  # the CSP applies
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    for name in PAGES:
        response = page.goto(f"{server}/page/{name}")
        assert "script-src 'self'" in response.headers["content-security-policy"]
        page.wait_for_load_state("networkidle")
        assert page.locator("script[src]").count() >= 1
        if name == "connectivity":  # its script ran and filled the table from the API
            page.wait_for_selector("#counts tr.match")
        assert not errors, (name, errors)
    context.close()
