"""Chromium (Debian's, headless) driven by Playwright's sync API against a real daphne process.

Tests create their data with the ORM under `django_db(transaction=True)`: it commits, so the
daphne process, which shares the PostgreSQL test database, sees it, and publishes reach it
through the same Redis.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from tests.browser.data import staff_group
from tests.browser.pages import LATENCIES, LIVE_TIMEOUT_MS, PASSWORD, log_in_to_admin, log_in_to_portal
from tests.conftest import ROOT, chromium_path, missing_service

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOT_DIR = ROOT / "docs" / "img"
ASYNC_UNSAFE = "DJANGO_ALLOW_ASYNC_UNSAFE"
# Every page reports what the Content-Security-Policy blocked: Chromium logs "Refused to ..."
# itself, and this init script (which the policy does not apply to) adds the event's details.
CSP_REPORTER = """
document.addEventListener("securitypolicyviolation", (event) => {
  console.error(`CSP violation: ${event.effectiveDirective} blocked ${event.blockedURI || "inline code"}`
    + ` at ${event.sourceFile || location.href}:${event.lineNumber}`);
});
"""


@pytest.fixture(scope="package")
def _orm_beside_playwright(daphne_server):
    """Let this process's own ORM calls run while Playwright's sync API is alive.

    Playwright's sync API keeps an asyncio loop running in the main thread, so Django refuses
    every sync ORM call the tests (and pytest-django's flush) make, although they never run
    concurrently with that loop. The switch is scoped to this package, and the daphne
    processes never inherit it: the shared server was started before it was set (it depends on
    `daphne_server`), and `dedicated_server` passes it empty, so daphne keeps Django's check.
    """
    previous = os.environ.get(ASYNC_UNSAFE)
    os.environ[ASYNC_UNSAFE] = "true"
    yield
    if previous is None:
        os.environ.pop(ASYNC_UNSAFE, None)
    else:
        os.environ[ASYNC_UNSAFE] = previous


@pytest.fixture(scope="package")
def chromium(_orm_beside_playwright) -> Browser:
    """One headless Chromium for the browser suite.

    Package-scoped rather than session-scoped: Playwright's loop stays running in the main
    thread while it is alive, which would break the async suites collected after this one.
    """
    path = chromium_path()
    if not path:
        missing_service("needs Chromium: apt-get install chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def server(daphne_server):
    """The shared daphne process, restarted for this test.

    Each transactional test ends with a flush that recreates content types and permissions
    under new ids; a daphne process that outlived it would write admin log entries against its
    cached, now missing content type ids. A restart takes about half a second.
    """
    daphne_server.env.pop(ASYNC_UNSAFE, None)
    daphne_server.restart()
    return daphne_server


@pytest.fixture
def dedicated_server(daphne_factory):
    """A daphne process of this test's own, to stop and start (the port stays the same)."""
    return daphne_factory(**{ASYNC_UNSAFE: ""})


def is_csp_violation(text: str) -> bool:
    return text.startswith(("Refused to", "CSP violation")) or "Content Security Policy" in text


def watch_csp(context: BrowserContext, violations: list[str]) -> None:
    """Record in `violations` what the Content-Security-Policy blocks on any page of `context`."""
    context.add_init_script(CSP_REPORTER)
    context.on(
        "page",
        lambda page: page.on(
            "console", lambda message: is_csp_violation(message.text) and violations.append(message.text)
        ),
    )


@pytest.fixture
def new_page(chromium, server):
    """`new_page()` opens a page in a fresh browser context (its own cookies, so its own user).

    The test fails if any page of its contexts breaks the Content-Security-Policy.
    """
    contexts: list[BrowserContext] = []
    violations: list[str] = []

    def open_page(*, base_url: str | None = None, **options) -> Page:
        options.setdefault("viewport", {"width": 1280, "height": 900})
        context = chromium.new_context(base_url=base_url or server.url, **options)
        context.set_default_timeout(LIVE_TIMEOUT_MS)
        watch_csp(context, violations)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()
    assert not violations, "Content-Security-Policy violations:\n" + "\n".join(violations)


@pytest.fixture
def portal(new_page):
    """`portal(user, path="/portal/")`: a customer's logged-in, live portal page."""

    def open_portal(user, path: str = "/portal/", *, password: str = PASSWORD, **options) -> Page:
        return log_in_to_portal(new_page(**options), user.username, password, path=path)

    return open_portal


@pytest.fixture
def staff_user(make_user):
    user = make_user("sam", staff=True, first_name="Sam", last_name="Staff")
    user.groups.add(staff_group())
    return user


@pytest.fixture
def admin_page(new_page, staff_user):
    """A second browser context: staff logged into the Django admin."""
    return log_in_to_admin(new_page(), staff_user.username)


def pytest_terminal_summary(terminalreporter):
    if LATENCIES:
        terminalreporter.section("browser: staff action to customer page")
        for what, seconds in LATENCIES:
            terminalreporter.write_line(f"{seconds * 1000:7.0f} ms  {what}")


# --- screenshots --------------------------------------------------------------------------------


@pytest.fixture
def screenshot_dir(tmp_path) -> Path:
    """docs/img/ with SAVE_SCREENSHOTS=1 (to refresh the documented images), else a temp dir."""
    if os.environ.get("SAVE_SCREENSHOTS", "") in {"1", "true", "yes"}:
        SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
        return SCREENSHOT_DIR
    return tmp_path
