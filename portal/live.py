"""POST /portal/live/: the fragments that bring an open page up to date after change frames.

The client collects the `seq`s of the change frames it received (every topic: each page listens
to all of them for notifications) and posts them here with its page's own `topics`; only those
get rows. The view reads those outbox events of the requester's own customer (never
anyone else's: the seqs are looked up under `request.customer_id`), renders each affected
record's current row with the same fragment the page uses, as htmx out-of-band swaps (delete
the old row, upsert the new one into its list in sorted position), plus the counters, the
profile fields and forms and at most one toast; with `feed=1` (the updates feed's first page is
open) the new feed entries too. Rows come from the database's current state, so a batch
applied twice, or out of order with a later one, still ends in the right page.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_POST

from crm import notifications
from crm.models import Job
from portal import feed, own_changes, selectors, toasts
from portal.forms import ContactForm, PreferencesForm
from portal.lists import LISTS, ROW_PREFIX, ROW_TEMPLATES
from portal.permissions import PortalRequest, customer_required
from realtime import registry
from realtime.models import OutboxEvent

MAX_SEQS = 1000


@dataclass
class Upsert:
    """Rows to insert into one list (`hx-upsert`), in the list's sort order."""

    list_id: str
    template: str
    descending: bool
    rows: list[Any] = field(default_factory=list)


def parse_seqs(raw: str) -> list[int] | None:
    try:
        seqs = sorted({int(part) for part in raw.replace(" ", "").split(",") if part})
    except ValueError:
        return None
    return seqs[:MAX_SEQS] if all(seq > 0 for seq in seqs) else None


def parse_topics(raw: str | None) -> frozenset[str] | None:
    """The page's own topics (space or comma separated); all of them when the client sends none."""
    known = registry.topics()
    if raw is None:
        return frozenset(known)
    topics = frozenset(part for part in raw.replace(",", " ").split() if part)
    return topics if topics <= set(known) else None


def _list_for(topic: str, row: Any, now: dt.datetime) -> tuple[str, bool]:
    if topic == "jobs":
        assert isinstance(row, Job)  # noqa: S101  (the jobs topic holds jobs)
        list_id = "jobs-past" if selectors.is_past_job(row, now) else "jobs-upcoming"
    else:
        list_id = f"{ROW_PREFIX[topic]}-list"
    return list_id, LISTS[list_id].descending


@require_POST
@customer_required
def live_fragments(request: PortalRequest) -> HttpResponse:
    seqs = parse_seqs(request.POST.get("seqs", ""))
    if seqs is None:
        return HttpResponseBadRequest("seqs must be a comma-separated list of positive integers")
    page_topics = parse_topics(request.POST.get("topics"))
    if page_topics is None:
        return HttpResponseBadRequest(f"topics must name known topics: {', '.join(registry.topics())}")
    customer_id = request.customer_id
    events = list(OutboxEvent.objects.filter(customer_id=customer_id, seq__in=seqs).order_by("seq"))
    touched: dict[str, set[int]] = defaultdict(set)
    for event in events:
        touched[event.topic].add(event.object_id)

    if "requests" in touched:
        # A request shows on its appointment's row: re-render those rows.
        requests = selectors.rows_by_id("requests", customer_id, touched["requests"]).values()
        touched["jobs"].update(request.job_id for request in requests)  # type: ignore[attr-defined]

    now = timezone.now()
    deleted: list[str] = []
    upserts: dict[str, Upsert] = {}
    for topic, ids in touched.items():
        # Every page hears every topic (for toasts and the nav's counts), but only the page's
        # own topics have lists to put rows in.
        if topic not in ROW_TEMPLATES or topic not in page_topics:
            continue
        current = selectors.rows_by_id(topic, customer_id, ids)
        for object_id in sorted(ids):
            # Always remove the old row first: a job may move between upcoming and past, and
            # a re-sorted row must land in its new place, not stay where it was.
            deleted.append(f"{ROW_PREFIX[topic]}-{object_id}")
            row = current.get(object_id)
            if row is None:
                continue
            list_id, descending = _list_for(topic, row, now)
            upsert = upserts.setdefault(list_id, Upsert(list_id, ROW_TEMPLATES[topic], descending))
            upsert.rows.append(row)

    customer = selectors.customer(customer_id)
    own = own_changes.recalled(request)
    # The updates feed's first page is open: its new entries, marked seen before the bell renders.
    feed_entries = feed.live_entries(customer, events, own) if request.POST.get("feed") == "1" else []
    context: dict[str, Any] = {
        "deleted": deleted,
        "upserts": list(upserts.values()),
        # The preferences as stored now: a save in any tab mutes the very next batch everywhere.
        "toast": toasts.toast_for(events, own=own, muted=notifications.muted_topics(customer)),
        "feed_entries": feed_entries,
        "seq": events[-1].seq if events else None,
    }
    if "messages" in touched:
        context["unread_count"] = selectors.unread_count(customer_id)
    if "invoices" in touched:
        context["amount_due"] = selectors.amount_due(customer_id)
    if "loyalty" in touched:
        context["points_balance"] = selectors.points_balance(customer_id)
    if "profile" in touched:
        context["customer"] = customer  # the header's name, on every page
    if "profile" in touched and "profile" in page_topics:
        # The profile page's forms too: its script merges them field by field, keeping what the
        # customer is editing (static/portal/portal.js, "live form merge").
        context.update(
            profile_page=True,
            contact_form=ContactForm.for_customer(customer),
            preferences_form=PreferencesForm.for_customer(customer),
        )
    return render(request, "portal/_live.html", context)
