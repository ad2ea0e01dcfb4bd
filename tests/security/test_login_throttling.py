"""Login throttling (django-axes) on the portal's and the admin's login (issue 10, finding "Login").

The policy (config/settings.py, docs/operations.md): AXES_FAILURE_LIMIT failed logins for one
username, from any address, or from one address, for any username, lock that username or address
out of both logins for the cool-off; while locked out the right password is refused too, with 429
and Retry-After. The tests lower the limit to LIMIT. Attempts live in the database, so each test's
rollback (or flush) clears them; `reset()` afterwards says so outright.
"""

from __future__ import annotations

import datetime as dt
import http.client
import re
from http.cookies import SimpleCookie
from urllib.parse import urlencode

import pytest
from axes.models import AccessAttempt
from axes.utils import reset
from django.core.management import call_command
from django.db.models import F

pytestmark = pytest.mark.django_db

LIMIT = 3
PORTAL, ADMIN = "/portal/login/", "/admin/login/"
PASSWORD = "pw-for-tests"  # make_user's
ATTACKER, OTHER = "203.0.113.7", "198.51.100.23"


@pytest.fixture(autouse=True)
def low_limit(settings):
    settings.AXES_FAILURE_LIMIT = LIMIT
    yield
    reset()


@pytest.fixture
def alice(make_customer):
    return make_customer("Alice Example", login="alice").portal_user


@pytest.fixture
def sam(make_user):
    return make_user("sam", staff=True)


def log_in(client, url: str, username: str, password: str = PASSWORD, address: str = ATTACKER, **headers):
    return client.post(url, {"username": username, "password": password}, REMOTE_ADDR=address, **headers)


def logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def fail_until_locked_out(client, url: str, username: str, address: str = ATTACKER):
    for _attempt in range(LIMIT - 1):
        assert log_in(client, url, username, "wrong", address).status_code == 200  # the form, again
    locked = log_in(client, url, username, "wrong", address)
    assert locked.status_code == 429
    return locked


def retry_after(response) -> int:
    return int(response["Retry-After"])


@pytest.mark.parametrize(
    ("url", "user", "page_marks"),
    [
        (PORTAL, "alice", ['class="card login-card"', "Log in to your portal"]),
        (ADMIN, "sam", ['id="login-form"', 'class="errornote"', "CRM"]),
    ],
    ids=["portal", "admin"],
)
def test_once_locked_out_the_right_password_is_refused_with_429_and_retry_after(
    client, alice, sam, url, user, page_marks
):
    fail_until_locked_out(client, url, user)

    refused = log_in(client, url, user, PASSWORD)
    assert refused.status_code == 429
    assert not logged_in(client)
    cool_off = 15 * 60  # AXES_COOLOFF_MINUTES' default
    assert cool_off - 5 <= retry_after(refused) <= cool_off
    page = refused.content.decode()
    assert "Too many failed logins" in page and "try again in 15 minutes" in page.lower()
    for mark in page_marks:  # the login page of the site that was used, in its own style
        assert mark in page


def test_both_logins_share_the_count(client, alice):
    log_in(client, PORTAL, "alice", "wrong")
    log_in(client, ADMIN, "alice", "wrong")
    assert log_in(client, PORTAL, "alice", "wrong").status_code == 429
    assert log_in(client, ADMIN, "alice", PASSWORD).status_code == 429


def test_a_locked_out_address_is_refused_for_every_username(client, alice, make_user):
    """Per address: guessing across usernames from one address is limited like one username."""
    make_user("bob")
    for n in range(LIMIT - 1):
        assert log_in(client, PORTAL, f"guess-{n}", "wrong").status_code == 200
    assert log_in(client, PORTAL, "guess-last", "wrong").status_code == 429

    assert log_in(client, PORTAL, "bob", PASSWORD).status_code == 429  # right password, same address
    assert log_in(client, PORTAL, "alice", PASSWORD, OTHER).status_code == 302  # elsewhere: fine
    assert logged_in(client)


def test_a_username_guessed_from_many_addresses_is_locked_out_from_all(client, alice):
    for n in range(LIMIT - 1):
        assert log_in(client, PORTAL, "alice", "wrong", f"192.0.2.{n}").status_code == 200
    assert log_in(client, PORTAL, "alice", "wrong", "192.0.2.99").status_code == 429
    assert log_in(client, PORTAL, "alice", PASSWORD, OTHER).status_code == 429
    assert not logged_in(client)


def test_an_x_forwarded_for_that_the_client_sent_does_not_change_its_address(client):
    for n in range(LIMIT - 1):
        response = log_in(client, PORTAL, f"guess-{n}", "wrong", HTTP_X_FORWARDED_FOR=f"192.0.2.{n}")
        assert response.status_code == 200
    assert log_in(client, PORTAL, "guess-last", "wrong", HTTP_X_FORWARDED_FOR="192.0.2.50").status_code == 429
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {ATTACKER}


def test_the_lockout_ends_with_the_cool_off_and_retry_after_says_when(client, alice, settings):
    fail_until_locked_out(client, PORTAL, "alice")
    cool_off = settings.AXES_COOLOFF_TIME

    # A minute before the end (the failures moved back in time): still locked, for about a minute.
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - (cool_off - dt.timedelta(minutes=1)))
    almost = log_in(client, PORTAL, "alice", PASSWORD)
    assert almost.status_code == 429
    assert 55 <= retry_after(almost) <= 60
    assert "try again in 1 minute." in almost.content.decode()

    AccessAttempt.objects.update(attempt_time=F("attempt_time") - dt.timedelta(minutes=1))
    assert log_in(client, PORTAL, "alice", PASSWORD).status_code == 302
    assert logged_in(client)


def test_a_lockout_does_not_grow_with_attempts_during_it(client, alice):
    fail_until_locked_out(client, PORTAL, "alice")
    failures = list(AccessAttempt.objects.values_list("failures_since_start", "attempt_time"))
    for _attempt in range(5):
        assert log_in(client, PORTAL, "alice", "wrong").status_code == 429
    assert list(AccessAttempt.objects.values_list("failures_since_start", "attempt_time")) == failures


@pytest.mark.parametrize(
    "command", [("axes_reset_username", "alice"), ("axes_reset_ip", ATTACKER), ("axes_reset",)]
)
def test_a_reset_lifts_the_lockout(client, alice, command):
    fail_until_locked_out(client, PORTAL, "alice")
    call_command(*command)
    assert log_in(client, PORTAL, "alice", PASSWORD).status_code == 302


def test_the_admin_lists_lockouts_and_deleting_one_lifts_it(client, alice, make_user):
    fail_until_locked_out(client, PORTAL, "alice")
    admin = make_user("root", staff=True, is_superuser=True)
    client.force_login(admin)
    listing = client.get("/admin/axes/accessattempt/?locked_out=yes").content.decode()
    assert "alice" in listing and ATTACKER in listing

    attempt = AccessAttempt.objects.get()
    deleted = client.post(f"/admin/axes/accessattempt/{attempt.pk}/delete/", {"post": "yes"})
    assert deleted.status_code == 302
    client.logout()
    assert log_in(client, PORTAL, "alice", PASSWORD).status_code == 302


# --- behind the proxy: daphne --proxy-headers -----------------------------------------------------


def post_form(port: int, path: str, fields: dict, forwarded_for: str, cookies: dict) -> tuple[int, dict, str]:
    """A browser behind the proxy: the proxy's X-Forwarded-For, the session's cookies."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    headers = {"X-Forwarded-For": forwarded_for, "Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())}
    body = None
    if fields:
        body = urlencode({**fields, "csrfmiddlewaretoken": cookies.get("csrftoken", "")})
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    connection.request("POST" if fields else "GET", path, body=body, headers=headers)
    response = connection.getresponse()
    for header in response.headers.get_all("Set-Cookie") or []:
        cookies.update({name: morsel.value for name, morsel in SimpleCookie(header).items()})
    text = response.read().decode()
    connection.close()
    return response.status, dict(response.headers), text


@pytest.mark.django_db(transaction=True)
def test_behind_the_proxy_the_address_is_the_one_the_proxy_forwarded(daphne_factory, alice):
    """daphne --proxy-headers takes the client's address from the proxy's X-Forwarded-For into
    REMOTE_ADDR, which axes counts; the lockout answer comes from daphne's async path too."""
    server = daphne_factory("--proxy-headers", AXES_FAILURE_LIMIT=str(LIMIT))
    try:
        cookies: dict = {}
        assert post_form(server.port, PORTAL, {}, ATTACKER, cookies)[0] == 200  # the CSRF cookie
        statuses = [
            post_form(server.port, PORTAL, {"username": f"guess-{n}", "password": "wrong"}, ATTACKER, cookies)
            for n in range(LIMIT)
        ]
        assert [status for status, _headers, _text in statuses] == [200] * (LIMIT - 1) + [429]
        _status, headers, text = statuses[-1]
        assert int(headers["Retry-After"]) > 0
        assert re.search(r"Too many failed logins", text)
        assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {ATTACKER}

        right = {"username": "alice", "password": PASSWORD}
        assert post_form(server.port, PORTAL, right, ATTACKER, cookies)[0] == 429
        assert post_form(server.port, PORTAL, right, OTHER, cookies)[0] == 302  # another client
    finally:
        server.stop()
