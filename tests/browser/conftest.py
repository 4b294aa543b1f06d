"""Browser journeys: Playwright driving Debian's Chromium, with axe-core checking every page visited.

Chromium cannot be downloaded here, so Playwright launches /usr/bin/chromium. Without it the browser tests skip
on a developer's machine, but never in CI (CI=true), where a missing browser is a failure.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make are still synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
# Chromium's background services try to reach Google; this machine's network refuses them.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
# WCAG 2.2 AA, and everything below it. https://github.com/dequelabs/axe-core/blob/develop/doc/API.md#axe-core-tags
AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]},
    "resultTypes": ["violations"],
}
_axe = Axe()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    browser_items = [item for item in items if "tests/browser/" in str(item.path)]
    for item in browser_items:
        item.add_marker(pytest.mark.browser)
    if browser_items and not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        if os.environ.get("CI") == "true":
            raise pytest.UsageError(f"CI=true but there is no Chromium at {CHROMIUM}: .ci/run must install it")
        for item in browser_items:
            item.add_marker(pytest.mark.skip(reason=f"no Chromium at {CHROMIUM} (apt-get install chromium)"))


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


# Every page reports what the Content-Security-Policy blocked, through a binding the browser calls.
_CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", (event) => {
  const where = document.location.pathname;
  window.__cspViolation(`${event.violatedDirective} blocked ${event.blockedURI || "inline"} on ${where}`);
});
"""


@pytest.fixture
def page(browser: Any, live_server: Any) -> Iterator[Any]:
    """A page in a fresh context. When the test ends, no Content-Security-Policy violation may have been reported
    on any page it opened (neither the DOM event nor the console's "Refused to ..." message)."""
    context = browser.new_context(base_url=live_server.url, locale="en-GB", timezone_id="Europe/London")
    context.set_default_timeout(15_000)
    violations: list[str] = []
    context.expose_function("__cspViolation", lambda text: violations.append(text))
    context.add_init_script(_CSP_LISTENER)
    page = context.new_page()
    page.on(
        "console",
        lambda message: (
            violations.append(message.text)
            if message.type == "error" and "Content Security Policy" in message.text
            else None
        ),
    )
    yield page
    context.close()
    assert not violations, "Content-Security-Policy violations:\n" + "\n".join(violations)


def follow(page: Any, target: Any) -> None:
    """Click a link or a submit button and wait until the page it leads to has loaded. A bare click returns once
    the click is dispatched: an axe check straight after it would read the old page, or fail on a document that
    is half-way through being replaced."""
    with page.expect_navigation():
        target.click()


def assert_accessible(page: Any, context: str | None = None) -> None:
    """No axe violations (WCAG 2.2 AA) on the page as it is now, once it has loaded."""
    page.wait_for_load_state()
    results = _axe.run(page, context=context, options=AXE_OPTIONS)
    violations = results.response["violations"]
    details = [f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:5]}" for v in violations]
    assert not violations, f"axe found {len(violations)} violation(s) on {page.url}:\n" + "\n".join(details)


@pytest.fixture
def sign_in(page: Any) -> Any:
    """Sign in through the real login page. Users come from tests.factories (password factories.PASSWORD)."""
    from tests.factories import PASSWORD

    def _sign_in(username: str, password: str = PASSWORD) -> None:
        """Both steps: the password, then a code from the user's authenticator app (made for them if they have
        none; demo accounts have the demo's)."""
        from django.contrib.auth import get_user_model

        from tests.conftest import second_factor_device, totp_code

        device = second_factor_device(get_user_model().objects.get(username=username))
        page.goto("/accounts/login/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(password)
        follow(page, page.get_by_role("button", name="Sign in"))
        page.get_by_label("Security code").fill(totp_code(device))
        follow(page, page.get_by_role("button", name="Continue"))

    return _sign_in


def upload_signed_copy(page: Any) -> None:
    """From an agreement's page: follow its readiness checklist's link, and upload a (tiny, genuine) signed PDF, as
    submitting and approving require."""
    from tests.factories import TINY_PDF

    page.get_by_role("link", name="Upload the signed copy").click()
    page.get_by_label("Title").fill("Signed copy")
    page.get_by_label("Upload a PDF").set_input_files(
        files=[{"name": "signed.pdf", "mimeType": "application/pdf", "buffer": TINY_PDF}]
    )
    page.get_by_role("button", name="Upload document").click()
    page.locator(".nhsuk-notification-banner").get_by_text("Document Signed copy added").wait_for()
