"""Add to calendar: an appointment's `.ics` file and the customer's feed, read back with the
`icalendar` library as a calendar app would, following reschedules and cancellations."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from crm import services
from crm.models import Job
from portal.ical import job_uid
from tests.realtime.helpers import INTERNAL_NOTE

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("require_postgres")]


def parse(response) -> Calendar:
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    return Calendar.from_ical(response.content)


@pytest.fixture
def feed_of():
    """`feed_of(customer)`: their feed, fetched as a calendar app does: no session, only the URL."""
    tokens: dict[int, str] = {}

    def fetch(customer) -> Calendar:
        if customer.pk not in tokens:
            tokens[customer.pk] = services.regenerate_calendar_token(customer=customer).token
        return parse(Client().get(reverse("portal:calendar_feed", args=[tokens[customer.pk]])))

    return fetch


def event_of(calendar: Calendar, job: Job):
    found = [event for event in calendar.events if event.uid == str(job_uid(job.pk))]
    assert len(found) == 1, [event.uid for event in calendar.events]
    return found[0]


def to_the_second(moment: dt.datetime) -> dt.datetime:
    return moment.replace(microsecond=0)


def test_an_appointment_downloads_as_an_ics_file_with_the_job(client_for, alice):
    job = alice.jobs.get()
    services.update_job(
        job=job, technician="Dana Rivers", customer_notes="Ring twice", internal_notes=INTERNAL_NOTE
    )
    job.refresh_from_db()
    response = client_for(alice).get(reverse("portal:appointment_file", args=[job.pk]))
    calendar = parse(response)
    assert response["Content-Disposition"].startswith('attachment; filename="appointment-')
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]
    event = event_of(calendar, job)
    assert (event.start, event.end) == (to_the_second(job.scheduled_start), to_the_second(job.scheduled_end))
    assert f"DTSTART:{job.scheduled_start.astimezone(dt.UTC):%Y%m%dT%H%M%S}Z" in response.content.decode()
    assert event.summary == "Carpet cleaning (Dirt Free)"
    assert event.location == "1 Main St"
    assert str(event.status) == "CONFIRMED"
    assert event.sequence == job.calendar_sequence == 1  # the detail edit was a revision
    assert event.stamp == event.last_modified == to_the_second(job.updated_at)
    assert event.url == f"http://testserver/portal/appointments/#job-{job.pk}"
    assert "Technician: Dana Rivers" in event.description and "Ring twice" in event.description
    assert b"INTERNAL" not in response.content and b"VTIMEZONE" not in response.content


def test_open_appointment_rows_link_to_their_file_and_finished_ones_do_not(
    client_for, alice, tomorrow_window
):
    open_job = alice.jobs.get()
    start, end = tomorrow_window(days=3)
    done = services.complete_job(
        job=services.schedule_job(customer=alice, service_type="Windows", start=start, end=end)
    )
    html = client_for(alice).get(reverse("portal:appointments")).content.decode()
    rows = {pk: html.split(f'id="job-{pk}"', 1)[1].split("</li>", 1)[0] for pk in (open_job.pk, done.pk)}
    link = reverse("portal:appointment_file", args=[open_job.pk])
    assert f'href="{link}" data-link="calendar">Add to calendar' in rows[open_job.pk]
    assert 'data-link="calendar"' not in rows[done.pk]


def test_the_feed_lists_upcoming_and_recent_appointments(feed_of, alice, tomorrow_window):
    now = timezone.now()
    recent = services.schedule_job(
        customer=alice,
        service_type="Recent",
        start=now - dt.timedelta(days=30),
        end=now - dt.timedelta(days=30, hours=-1),
    )
    old = services.schedule_job(
        customer=alice,
        service_type="Old",
        start=now - dt.timedelta(days=200),
        end=now - dt.timedelta(days=200, hours=-1),
    )
    calendar = feed_of(alice)
    uids = {event.uid for event in calendar.events}
    assert uids == {str(job_uid(alice.jobs.get(service_type="Carpet cleaning").pk)), str(job_uid(recent.pk))}
    assert str(job_uid(old.pk)) not in uids
    assert calendar.calendar_name == "Dirt Free appointments"
    assert calendar.refresh_interval == dt.timedelta(hours=1)
    assert "REFRESH-INTERVAL;VALUE=DURATION:PT1H" in calendar.to_ical().decode()


def test_the_feed_follows_a_reschedule_with_a_higher_sequence_and_the_same_uid(
    feed_of, alice, tomorrow_window
):
    job = alice.jobs.get()
    before = event_of(feed_of(alice), job)
    start, end = tomorrow_window(days=5, hours=3)
    services.reschedule_job(job=job, start=start, end=end)
    after = event_of(feed_of(alice), job)
    assert after.uid == before.uid
    assert (after.start, after.end) == (start, end)
    assert after.sequence > before.sequence
    assert after.last_modified >= before.last_modified and after.stamp == after.last_modified


def test_a_cancelled_appointment_stays_in_the_feed_as_cancelled(feed_of, alice):
    job = alice.jobs.get()
    before = event_of(feed_of(alice), job)
    services.cancel_job(job=job)
    after = event_of(feed_of(alice), job)
    assert str(after.status) == "CANCELLED"
    assert after.sequence > before.sequence


def test_the_feed_costs_two_queries_for_any_number_of_appointments(
    alice, tomorrow_window, django_assert_num_queries
):
    feed = services.regenerate_calendar_token(customer=alice)
    url = reverse("portal:calendar_feed", args=[feed.token])
    for day in range(5):
        start, end = tomorrow_window(days=day + 2)
        services.schedule_job(customer=alice, service_type=f"Clean {day}", start=start, end=end)
    with django_assert_num_queries(2):  # the token's feed, the jobs
        response = Client().get(url)
    assert len(parse(response).events) == 6


def test_the_profile_page_makes_and_remakes_the_feed_address(client_for, alice):
    client = client_for(alice)
    html = client.get(reverse("portal:profile")).content.decode()
    assert "Get my calendar address" in html and "/portal/calendar/" not in html
    response = client.post(reverse("portal:new_calendar_address"))
    assert response.status_code == 302 and response["Location"] == reverse("portal:profile") + "#calendar"
    html = client.get(reverse("portal:profile")).content.decode()
    first = alice.calendar_feed.token
    assert f'value="http://testserver/portal/calendar/{first}.ics"' in html
    assert f'href="webcal://testserver/portal/calendar/{first}.ics"' in html
    assert "Make a new address" in html
    client.post(reverse("portal:new_calendar_address"))
    alice.calendar_feed.refresh_from_db()
    assert alice.calendar_feed.token != first
    html = client.get(reverse("portal:profile")).content.decode()
    assert first not in html and re.search(r"The old one no longer works", html)
