"""What the browser tests do on a page: log in, find the portal's parts (docs/components.md's
DOM contract), drive the admin, and time a staff action against its effect on another page."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from urllib.parse import urlparse

from playwright.sync_api import Locator, Page, expect

PASSWORD = "pw-for-tests"  # make_user's default
LIVE_TIMEOUT_MS = 10_000  # page load, socket open, subscribe: not what the 1 s promise is about
LATENCIES: list[tuple[str, float]] = []  # reported at the end of the run (conftest)


# --- the portal's parts -------------------------------------------------------------------------


def badge(page: Page) -> Locator:
    """The connection badge in the page header."""
    return page.locator('[data-connection-status][data-variant="badge"]').first


def toasts(page: Page, kind: str | None = None) -> Locator:
    selector = f'#toasts .toast[data-toast-type="{kind}"]' if kind else "#toasts .toast"
    return page.locator(selector)


def field_of(page: Page, row_id: str, name: str = "status") -> Locator:
    return page.locator(f'#{row_id} [data-field="{name}"]')


def message_rows(page: Page, body: str) -> Locator:
    """Messages in the thread that show `body`: rows of a record, and optimistic ones."""
    return page.locator("#message-list > .message", has_text=body)


def watch_for_errors(page: Page) -> list[str]:
    """Collect uncaught script errors and console errors: a page that only looks right is no proof."""
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(f"page error: {error}"))
    page.on("console", lambda message: message.type == "error" and errors.append(f"console: {message.text}"))
    return errors


def number_in(locator: Locator) -> int:
    return int(locator.inner_text().strip().replace(",", ""))


# --- logging in ---------------------------------------------------------------------------------


def log_in_to_portal(page: Page, username: str, password: str = PASSWORD, *, path: str = "/portal/") -> Page:
    """Fill the portal's login form, open `path` and wait until its socket is live."""
    page.goto(f"/portal/login/?next={path}")
    page.locator('input[name="username"]').fill(username)
    page.locator('input[name="password"]').fill(password)
    page.locator('form:has(input[name="password"]) [type="submit"]').click()
    page.wait_for_url(lambda url: "/login/" not in url)
    if urlparse(page.url).path != path:
        page.goto(path)
    wait_live(page)
    return page


def wait_live(page: Page, timeout: float = LIVE_TIMEOUT_MS) -> None:
    expect(badge(page)).to_have_attribute("data-state", "live", timeout=timeout)


def log_in_to_admin(page: Page, username: str, password: str = PASSWORD) -> Page:
    page.goto("/admin/login/?next=/admin/")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(password)
    page.locator('#login-form [type="submit"]').click()
    expect(page.locator("#user-tools")).to_be_visible()
    return page


# --- timing a staff action ----------------------------------------------------------------------


@dataclass
class Deadline:
    """A time budget that starts when a staff action's response has come back."""

    what: str
    seconds: float = 1.0
    started: float = field(default_factory=time.monotonic)

    def ms(self) -> float:
        """What is left of the budget, as a Playwright timeout."""
        return max(1.0, (self.seconds - (time.monotonic() - self.started)) * 1000)

    def done(self) -> float:
        elapsed = time.monotonic() - self.started
        LATENCIES.append((self.what, elapsed))
        assert elapsed <= self.seconds, f"{self.what}: {elapsed:.3f}s > {self.seconds}s"
        return elapsed


def admin_submit(page: Page, button: Locator, what: str, *, seconds: float = 1.0) -> Deadline:
    """Click an admin form's button; the clock starts when the POST's response has arrived.

    The admin answers a successful save or action with a redirect; a 200 is the form again,
    with its errors.
    """
    with page.expect_response(lambda response: response.request.method == "POST") as posted:
        button.click()
    deadline = Deadline(what, seconds)
    if posted.value.status != 302:
        page.wait_for_load_state()
        errors = page.locator(".errornote, .errorlist, .messagelist .error").all_inner_texts()
        raise AssertionError(f"{what}: the admin answered {posted.value.status}: {errors}")
    return deadline


def admin_save(page: Page, path: str, fill, what: str) -> Deadline:
    """Open an admin change or add form, let `fill(page)` edit it, and press Save."""
    page.goto(path)
    fill(page)
    return admin_submit(page, page.locator('input[name="_save"]'), what)


def admin_action(page: Page, changelist: str, pk: int, action: str, what: str) -> Deadline:
    """Select one row on an admin changelist and run an action on it."""
    page.goto(changelist)
    page.locator(f'input[name="_selected_action"][value="{pk}"]').check()
    page.locator('select[name="action"]').select_option(action)
    return admin_submit(page, page.locator('button[name="index"]'), what)


# --- the socket, through Playwright -------------------------------------------------------------


class SocketSwitch:
    """Routes a browser context's realtime sockets through Playwright to the real server.

    `down()` closes the open ones (code 1011, as a crashed proxy would) and refuses new ones, so
    the page's client goes to "reconnecting" and keeps retrying; `up()` lets them through again.
    Install it before the page opens its socket.
    """

    def __init__(self, context) -> None:
        self.open = True
        self.routes: list = []
        context.route_web_socket("**/ws/realtime/**", self._route)

    def _route(self, socket) -> None:
        if self.open:
            socket.connect_to_server()
            self.routes.append(socket)
        else:
            socket.close(code=1011, reason="down")

    def down(self) -> None:
        self.open = False
        for socket in self.routes:
            socket.close(code=1011, reason="down")
        self.routes.clear()

    def up(self) -> None:
        self.open = True
