"""Appointments as iCalendar (RFC 5545), built with the `icalendar` library: one job as an `.ics`
download, and a customer's subscribed calendar feed.

Each job is one VEVENT whose UID never changes (a UUID derived from the job's id), so a calendar
app replaces its copy when the job changes rather than adding a second one. SEQUENCE is the job's
calendar revision, which `crm.services` raise with every change a calendar shows; DTSTAMP and
LAST-MODIFIED are the job's last change (no METHOD: a published calendar, not an invitation). A
cancelled job stays, with STATUS:CANCELLED, so apps strike or drop it. Times are UTC (`...Z`),
which needs no VTIMEZONE and reads the same in every app.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterable

from django.conf import settings
from icalendar import Calendar, Event, vDuration
from icalendar.enums import STATUS

from crm.models import Job

MEDIA_TYPE = "text/calendar; charset=utf-8"
# The feed's UIDs are UUIDs in this namespace (RFC 7986 advises UUIDs over host names): the same
# job has the same UID on every request, in every process, and in the `.ics` download.
UID_NAMESPACE = uuid.UUID("c6c96171-41f1-41ac-a4cf-971392cb1add")
# How often subscribed apps should fetch the feed again (a hint: most apps choose for themselves).
REFRESH_INTERVAL = dt.timedelta(hours=1)


def job_uid(job_id: int) -> uuid.UUID:
    return uuid.uuid5(UID_NAMESPACE, f"job:{job_id}")


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC)


def _description(job: Job, url: str) -> str:
    lines = [f"Status: {job.get_status_display()}"]
    if job.technician:
        lines.append(f"Technician: {job.technician}")
    if job.customer_notes:
        lines += ["", job.customer_notes]
    contact = " · ".join(part for part in (settings.BUSINESS_PHONE, settings.BUSINESS_EMAIL) if part)
    lines += ["", f"Your appointment: {url}"]
    if contact:
        lines.append(f"Questions: {contact}")
    return "\n".join(lines)


def job_event(job: Job, *, url: str) -> Event:
    """The job as an event; `url` is its place in the portal (absolute)."""
    return Event.new(
        uid=job_uid(job.pk),
        summary=f"{job.service_type} ({settings.BUSINESS_NAME})",
        start=_utc(job.scheduled_start),
        end=_utc(job.scheduled_end),
        location=job.address or None,
        description=_description(job, url),
        status=STATUS.CANCELLED if job.status == Job.Status.CANCELLED else STATUS.CONFIRMED,
        sequence=job.calendar_sequence,
        stamp=_utc(job.updated_at),
        created=_utc(job.created_at),
        last_modified=_utc(job.updated_at),
        url=url,
    )


def _calendar(events: Iterable[Event], *, uid: uuid.UUID, name: str | None = None) -> Calendar:
    return Calendar.new(
        prodid=f"-//{settings.BUSINESS_NAME}//Customer portal//EN",
        calscale="GREGORIAN",
        name=name,
        uid=uid,  # without one the library makes a random UID, and every response would differ
        subcomponents=list(events),
    )


def _bytes(calendar: Calendar) -> bytes:
    body: bytes = calendar.to_ical()  # typed as Any by the library
    return body


def appointment_file(job: Job, *, url: str) -> bytes:
    """One job as an `.ics` file to open or import."""
    return _bytes(_calendar([job_event(job, url=url)], uid=uuid.uuid5(UID_NAMESPACE, f"file:{job.pk}")))


def feed(jobs: Iterable[Job], *, customer_id: int, url_for: Callable[[Job], str]) -> bytes:
    """A customer's calendar feed of `jobs`, each linking to `url_for(job)`."""
    calendar = _calendar(
        (job_event(job, url=url_for(job)) for job in jobs),
        uid=uuid.uuid5(UID_NAMESPACE, f"feed:{customer_id}"),
        name=f"{settings.BUSINESS_NAME} appointments",
    )
    # RFC 7986 requires VALUE=DURATION here, which the library's `refresh_interval` leaves out;
    # Outlook reads X-PUBLISHED-TTL instead.
    calendar.add("REFRESH-INTERVAL", REFRESH_INTERVAL, parameters={"VALUE": "DURATION"})
    calendar.add("X-PUBLISHED-TTL", vDuration(REFRESH_INTERVAL))
    return _bytes(calendar)
