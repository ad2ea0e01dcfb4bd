"""The updates feed (`/portal/updates/`), the header bell and the "while you were away" summary.

The feed lists the customer's significant changes from the outbox, newest first, in the toasts'
own sentences (`portal.toasts.significant`) with their links, paged by Django's paginator.
Opening it marks everything up to the newest change seen (`crm.services.mark_updates_seen`): a
profile change, so the bell clears in every open tab with the next live fragments.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.signals import user_logged_in
from django.core.paginator import InvalidPage, Paginator
from django.dispatch import receiver
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_safe

from crm import notifications, services
from crm.models import Customer
from portal import own_changes, selectors, updates
from portal.permissions import PortalRequest, customer_required
from portal.toasts import Own, Toast, significant
from portal.views import render_page
from realtime import attendance, registry
from realtime.models import OutboxEvent

PAGE_SIZE = 20
SUMMARY_EVENTS = 500  # a summary names a few things; it never needs to read more than this
LOGIN_SESSION_KEY = "portal.away_summary_on_login"


@dataclass(frozen=True)
class FeedEntry:
    seq: int
    at: dt.datetime
    toast: Toast
    new: bool  # arrived after the customer last opened the feed


@require_safe
@customer_required
def updates_feed(request: PortalRequest) -> HttpResponse:
    customer = selectors.customer(request.customer_id)
    seen_before = customer.updates_seen_seq
    # Read before the list: seqs commit in order, so everything up to it is on the first page.
    newest = updates.newest_seq(customer.pk)
    paginator = Paginator(updates.significant_events(customer.pk), PAGE_SIZE)
    try:
        page = paginator.page(request.GET.get("page") or 1)
    except InvalidPage as err:
        raise Http404(str(err)) from None
    own = own_changes.recalled(request)  # the customer's own changes are not news to them
    entries = [
        FeedEntry(
            event.seq,
            event.created_at,
            toast,
            event.seq > seen_before and (event.topic, event.object_id) not in own,
        )
        for event in page.object_list
        if (toast := significant(event)) is not None
    ]
    if request.method == "GET":  # a HEAD (link checkers, prefetches) must not clear the bell
        services.mark_updates_seen(customer=customer, seq=newest)

    def load(customer_id: int, now: dt.datetime) -> dict[str, Any]:
        return {"entries": entries, "page_obj": page}

    # Live on every topic: the bell and the toasts keep working while the feed is open.
    return render_page(
        request, "portal/updates.html", page="updates", topics=tuple(registry.topics()), load=load
    )


def away_toast(
    customer: Customer, *, after: int, since: dt.datetime | None = None, own: Own = frozenset()
) -> Toast | None:
    """One toast naming the significant changes after seq `after` (and, if given, recorded
    after `since`) that the customer has not seen in the feed, muted categories left out."""
    events = updates.significant_events(customer.pk).filter(seq__gt=max(after, customer.updates_seen_seq))
    if since is not None:
        events = events.filter(created_at__gt=since)
    events = events.exclude(topic__in=notifications.muted_topics(customer))
    unseen: list[OutboxEvent] = [e for e in events[:SUMMARY_EVENTS] if (e.topic, e.object_id) not in own]
    text = updates.summary(unseen)
    if not text:
        return None
    return Toast("info", "While you were away", text, reverse("portal:updates"), "See all updates")


def live_entries(customer: Customer, events: list[OutboxEvent], own: Own) -> list[FeedEntry]:
    """Entries for an open feed's first page from a batch of live changes (`portal.live`). The
    customer is looking at them, so they count as seen: the bell clears in every tab."""
    entries = [
        FeedEntry(event.seq, event.created_at, toast, (event.topic, event.object_id) not in own)
        for event in events
        if (toast := significant(event)) is not None
    ]
    if entries:
        services.mark_updates_seen(customer=customer, seq=max(entry.seq for entry in entries))
    return entries


@require_safe
@customer_required
def away_summary(request: PortalRequest) -> HttpResponse:
    """The summary toast for a tab coming back: changes after `?after=<seq>`; 204 for none."""
    after = request.GET.get("after", "")
    if not re.fullmatch(r"[0-9]{1,18}", after):
        return HttpResponseBadRequest("after must be a seq: a whole number, 0 or more")
    customer = selectors.customer(request.customer_id)
    toast = away_toast(customer, after=int(after), own=own_changes.recalled(request))
    if toast is None:
        return HttpResponse(status=204)
    return render(request, "portal/_away_summary.html", {"away_toast": toast})


@receiver(user_logged_in, dispatch_uid="portal.away_summary_on_login")
def _summary_after_login(sender: Any, request: HttpRequest | None, **kwargs: Any) -> None:
    # The first page after a login shows what arrived while no tab was open (portal.context).
    user = kwargs.get("user")
    if request is not None and hasattr(request, "session") and not getattr(user, "is_staff", False):
        request.session[LOGIN_SESSION_KEY] = True


def login_toast(request: HttpRequest, customer_id: int) -> Toast | None:
    """The summary for the first page after a login (once), or None."""
    if not request.session.pop(LOGIN_SESSION_KEY, False):
        return None
    last_seen = attendance.connected_until(customer_id)
    if last_seen is None:
        return None  # a first visit: nothing to come back to, the whole portal is new
    return away_toast(selectors.customer(customer_id), after=0, since=last_seen)
