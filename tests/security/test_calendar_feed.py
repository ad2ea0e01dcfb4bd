"""Who can read a calendar: an appointment's `.ics` only its owner, a feed only with its current
token (a 404 for anything else, however close), and the token never in a frame or the API."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from crm import services
from crm.models import CalendarFeed
from realtime.models import OutboxEvent
from tests.realtime import helpers

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("require_postgres")]


@pytest.fixture
def alice(make_customer, tomorrow_window):
    customer = make_customer("Alice Example", login="alice")
    start, end = tomorrow_window()
    services.schedule_job(customer=customer, service_type="Alice's carpets", start=start, end=end)
    return customer


@pytest.fixture
def bob(make_customer, tomorrow_window):
    customer = make_customer("Bob Example", login="bob")
    start, end = tomorrow_window(days=2)
    services.schedule_job(customer=customer, service_type="Bob's windows", start=start, end=end)
    return customer


def client_for(customer) -> Client:
    client = Client()
    client.force_login(customer.portal_user)
    return client


def feed(token: str):
    return Client().get(reverse("portal:calendar_feed", args=[token]))


def test_the_token_is_long_random_and_url_safe(alice):
    tokens = {services.regenerate_calendar_token(customer=alice).token for _ in range(3)}
    assert len(tokens) == 3
    for token in tokens:
        assert re.fullmatch(r"[A-Za-z0-9_-]{59}", token)  # 96 bits of key, 256 of secret
    assert CalendarFeed.objects.filter(customer=alice).count() == 1


def test_only_the_current_token_opens_a_feed_and_only_its_customers(alice, bob):
    token = services.regenerate_calendar_token(customer=alice).token
    assert feed(token).status_code == 200 and b"Alice's carpets" in feed(token).content
    bobs = feed(services.regenerate_calendar_token(customer=bob).token).content
    assert b"Bob's windows" in bobs and b"Alice" not in bobs
    key, secret = token[: CalendarFeed.KEY_LENGTH], token[CalendarFeed.KEY_LENGTH :]
    wrong_secret = secret[:-1] + ("A" if secret[-1] != "A" else "B")
    for wrong in (key + wrong_secret, key, key + secret[:-1], token + "x", "x" * 59, secret + key, "a"):
        response = feed(wrong)
        assert response.status_code == 404, wrong
        assert b"BEGIN:VCALENDAR" not in response.content


def test_a_new_token_ends_the_old_feed_url_at_once(alice):
    old = services.regenerate_calendar_token(customer=alice).token
    assert feed(old).status_code == 200
    client_for(alice).post(reverse("portal:new_calendar_address"))
    new = CalendarFeed.objects.get(customer=alice).token
    assert new != old
    assert feed(old).status_code == 404
    assert feed(new).status_code == 200


def test_a_feed_ends_with_its_customers_portal_access(alice):
    token = services.regenerate_calendar_token(customer=alice).token
    user = alice.portal_user
    user.is_active = False
    user.save(update_fields=["is_active"])
    assert feed(token).status_code == 404
    user.is_active = True
    user.save(update_fields=["is_active"])
    assert feed(token).status_code == 200
    alice.portal_user = None
    alice.save(update_fields=["portal_user", "updated_at"])
    assert feed(token).status_code == 404


def test_no_customer_reads_another_customers_appointment_file(alice, bob, make_user):
    url = reverse("portal:appointment_file", args=[alice.jobs.get().pk])
    response = client_for(bob).get(url)
    assert response.status_code == 404 and b"BEGIN:VCALENDAR" not in response.content
    assert client_for(alice).get(url).status_code == 200
    anonymous = Client().get(url)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith(reverse("portal:login"))
    staff = Client()
    staff.force_login(make_user("sam", staff=True))
    assert staff.get(url)["Location"] == reverse("admin:index")


def test_a_new_address_takes_a_logged_in_post_with_the_csrf_token(alice):
    url = reverse("portal:new_calendar_address")
    assert Client().post(url).status_code == 302  # to the login page; nothing made
    forged = Client(enforce_csrf_checks=True)
    forged.force_login(alice.portal_user)
    assert forged.post(url).status_code == 403  # another site's form cannot replace the token
    assert forged.get(url).status_code == 405
    assert not CalendarFeed.objects.filter(customer=alice).exists()


def test_the_token_never_reaches_the_outbox_or_the_snapshot_api(alice):
    before = OutboxEvent.objects.count()
    tokens = [services.regenerate_calendar_token(customer=alice).token for _ in range(2)]
    assert OutboxEvent.objects.count() == before  # not synced: no frame carries it
    assert "calendar_feed" in helpers.FORBIDDEN_TEXT  # every recorded frame is checked for it
    client = client_for(alice)
    for path in ("/api/portal/snapshot/", "/api/portal/profile/", "/api/portal/jobs/"):
        body = client.get(path).content.decode()
        assert not [token for token in tokens if token in body] and "calendar_feed" not in body, path
