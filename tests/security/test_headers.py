"""Browser security headers (issue 10, finding "Headers").

- Content-Security-Policy on the portal, the admin and the API: `default-src 'self'`, nothing
  inline or evaluated, the page's own WebSocket origin in `connect-src`. That the pages really
  work under it, htmx and the client modules included, is the browser suite's to prove: every
  browser test fails on a policy violation (tests/browser/conftest.py).
- `Cache-Control: no-store, private` on whatever a logged-in user is answered, and on the API;
  static files stay cacheable.
"""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from crm import services
from tests.conftest import ROOT

pytestmark = pytest.mark.django_db

PORTAL_PAGES = ("dashboard", "appointments", "invoices", "messages", "loyalty", "profile")


@pytest.fixture
def alice(make_customer, tomorrow_window):
    customer = make_customer("Alice Example", login="alice")
    start, end = tomorrow_window()
    services.schedule_job(customer=customer, service_type="Carpet cleaning", start=start, end=end)
    return customer


@pytest.fixture
def staff(make_user):
    return make_user("sam", staff=True, is_superuser=True)


def policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    directives = [part.strip().split() for part in header.split(";") if part.strip()]
    return {name: sources for name, *sources in directives}


def assert_strict(found: dict[str, list[str]], host: str = "testserver", scheme: str = "ws") -> None:
    assert found["default-src"] == ["'self'"]
    # Scripts and styles fall back to default-src: this origin's files, nothing inline or eval'd.
    for directive in ("script-src", "script-src-elem", "script-src-attr", "style-src", "style-src-attr"):
        assert directive not in found, directive
    assert not any("unsafe" in source for sources in found.values() for source in sources), found
    assert found["connect-src"] == ["'self'", f"{scheme}://{host}"]  # the realtime socket
    assert found["object-src"] == ["'none'"] and found["frame-ancestors"] == ["'none'"]


def test_portal_pages_carry_the_strict_policy(client, alice):
    assert_strict(policy(client.get(reverse("portal:login"))))
    client.force_login(alice.portal_user)
    for page in PORTAL_PAGES:
        response = client.get(reverse(f"portal:{page}"))
        assert response.status_code == 200
        assert_strict(policy(response))


def test_admin_pages_and_the_api_carry_it_too(client, alice, staff):
    assert_strict(policy(client.get(reverse("admin:login"))))
    client.force_login(staff)
    job = alice.jobs.get()
    for url in (reverse("admin:index"), reverse("admin:crm_job_change", args=[job.pk])):
        assert_strict(policy(client.get(url)))
    client.force_login(alice.portal_user)
    assert_strict(policy(client.get(reverse("portal-api:snapshot"))))


def test_the_socket_origin_follows_the_host_and_the_scheme(client, alice, settings):
    settings.ALLOWED_HOSTS = ["portal.example.com"]
    response = client.get(reverse("portal:login"), HTTP_HOST="portal.example.com", secure=True)
    assert_strict(policy(response), host="portal.example.com", scheme="wss")


# Inline code the policy would block: a <script> without src, an on* handler, a style attribute
# or element. The admin's own templates have none (Django 5.2 and 6.0).
INLINE = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|\son[a-z]+=|\sstyle=|<style", re.IGNORECASE)


def test_our_templates_have_no_inline_script_or_style():
    offending = {
        str(path.relative_to(ROOT)): INLINE.findall(path.read_text())
        for path in (ROOT / "templates").rglob("*.html")
        if INLINE.search(path.read_text())
    }
    assert offending == {}


def test_htmx_is_configured_for_the_policy():
    """No indicator stylesheet of htmx's own; no hx-on or js: expressions, which need eval."""
    base = (ROOT / "templates" / "portal" / "base.html").read_text()
    assert '"includeIndicatorCSS": false' in base
    for path in (ROOT / "templates").rglob("*.html"):
        assert not re.search(r"hx-on|js:|hx-vals=['\"]js", path.read_text()), path


def no_store(response) -> bool:
    directives = {part.strip() for part in response.get("Cache-Control", "").split(",")}
    return {"no-store", "private"} <= directives


def test_authenticated_pages_fragments_and_the_api_are_not_stored(client, alice, staff):
    client.force_login(alice.portal_user)
    for page in PORTAL_PAGES:
        assert no_store(client.get(reverse(f"portal:{page}"))), page
    assert no_store(client.get(reverse("portal:dashboard_section", args=["jobs-upcoming"])))
    assert no_store(client.get(reverse("portal-api:snapshot")))
    assert no_store(client.get(reverse("portal-api:topic", args=["jobs"])))
    client.force_login(staff)
    assert no_store(client.get(reverse("admin:crm_customer_change", args=[alice.pk])))


def test_the_api_is_not_stored_even_when_it_refuses(client):
    response = client.get(reverse("portal-api:snapshot"))
    assert response.status_code == 403 and no_store(response)


def test_static_files_stay_cacheable(client, alice):
    client.force_login(alice.portal_user)
    response = client.get("/static/portal/portal.css")
    assert response.status_code == 200
    assert not no_store(response) and "Content-Security-Policy" not in response
