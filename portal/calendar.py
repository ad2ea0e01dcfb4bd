"""Add to calendar: an appointment as an `.ics` file, the customer's private calendar feed, and
a new feed address from the profile page.

The download is a portal page's link (the session says whose job it may be). The feed is for
calendar apps, which have no session: the token in its URL is the only credential, so a wrong,
old or malformed token, or one whose customer lost portal access, answers 404 like any unknown
URL. Neither the token nor the feed ever reaches the realtime frames or the snapshot API.
"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages as flash
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_POST, require_safe

from crm import services
from crm.models import Job
from crm.selectors import calendar_feed_owner
from portal import ical, selectors
from portal.permissions import PortalRequest, customer_required
from portal.write_slots import one_of_few_writes

# How far back the feed reaches: recent appointments stay in the calendar for a while.
FEED_PAST = dt.timedelta(days=90)


def appointment_url(request: HttpRequest, job: Job) -> str:
    return request.build_absolute_uri(f"{reverse('portal:appointments')}#job-{job.pk}")


def feed_urls(request: HttpRequest, token: str) -> dict[str, str]:
    """The feed's address to copy, and the same as `webcal:` to open in this device's calendar app."""
    url = request.build_absolute_uri(reverse("portal:calendar_feed", args=[token]))
    return {"calendar_feed_url": url, "calendar_subscribe_url": "webcal://" + url.split("://", 1)[1]}


def _calendar_response(body: bytes, *, filename: str, attachment: bool) -> HttpResponse:
    response = HttpResponse(body, content_type=ical.MEDIA_TYPE)
    disposition = "attachment" if attachment else "inline"
    response["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    patch_cache_control(response, private=True, no_store=True)
    return response


@require_safe
@customer_required
def appointment_file(request: PortalRequest, job_id: int) -> HttpResponse:
    """One of the customer's appointments as an `.ics` file; another customer's is a 404."""
    job = selectors.job(request.customer_id, job_id)
    if job is None:
        raise Http404
    return _calendar_response(
        ical.appointment_file(job, url=appointment_url(request, job)),
        filename=f"appointment-{job.scheduled_start:%Y-%m-%d}-{job.pk}.ics",
        attachment=True,
    )


@require_safe
def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    """The feed a calendar app subscribes to: upcoming and recent appointments, cancelled ones
    included (STATUS:CANCELLED), so the app follows reschedules and cancellations."""
    customer_id = calendar_feed_owner(token)
    if customer_id is None:
        raise Http404
    jobs = selectors.calendar_jobs(customer_id, timezone.now() - FEED_PAST)
    body = ical.feed(jobs, customer_id=customer_id, url_for=lambda job: appointment_url(request, job))
    response = _calendar_response(body, filename="appointments.ics", attachment=False)
    response["X-Robots-Tag"] = "noindex"
    return response


@require_POST
@customer_required
@one_of_few_writes
def new_calendar_address(request: PortalRequest) -> HttpResponse:
    """Make the customer's feed address (or a new one: the old one stops working)."""
    had_one = selectors.calendar_feed(request.customer_id) is not None
    services.regenerate_calendar_token(customer=selectors.customer(request.customer_id))
    flash.success(
        request,
        "New calendar address made. The old one no longer works: subscribe again with this one."
        if had_one
        else "Calendar address made: add it to your calendar app.",
    )
    return redirect(f"{reverse('portal:profile')}#calendar")
