"""Which changes deserve a toast, decided on the server (the seed's best practice 4).

Only significant events toast: a job scheduled, rescheduled or changing status, an invoice
arriving or paid or overdue, a message from the team, points earned, given as a bonus or
redeemed in the office. Edits nobody needs to be interrupted for (a note, a read receipt, the
customer's own message, redemption or profile edit) stay silent. Several changes of one record
in a batch make one toast; several records changing together collapse into one "N updates"
toast.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Set
from dataclasses import dataclass, replace

from django.urls import reverse
from django.utils import formats
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.text import Truncator
from django.utils.timezone import localtime

from crm.models import Job
from realtime.events import Event
from realtime.models import OutboxEvent


@dataclass(frozen=True)
class Toast:
    type: str  # job | invoice | message | loyalty | info
    title: str
    message: str
    action_url: str = ""
    action_label: str = "View details"
    # The record it is about (`jobs:17`): a newer toast with the same key replaces the older one
    # on the page (static/portal/toasts.js). Empty for a toast about several records.
    key: str = ""


Own = Set[tuple[str, int]]

_NOUNS = {"job": "appointment", "invoice": "invoice", "message": "message", "loyalty": "loyalty update"}


def _when(value: str | None) -> str:
    moment = parse_datetime(value) if value else None
    # With the zone ("09:00 UTC"): a toast has no page around it to say which zone it means.
    return formats.date_format(localtime(moment), "D j M, H:i T") if moment else ""


def _due(value: str | None) -> str:
    day = parse_date(value) if value else None
    return formats.date_format(day, "j M Y") if day else ""


def _url(name: str, anchor: str) -> str:
    return f"{reverse(name)}#{anchor}"


def _job_toast(event: OutboxEvent) -> Toast:
    job = event.new or {}
    service = job.get("service_type", "Your appointment")
    url = _url("portal:appointments", f"job-{event.object_id}")
    when = _when(job.get("scheduled_start"))
    if event.event == Event.JOB_SCHEDULED:
        return Toast("job", "New appointment", f"{service} scheduled for {when}.", url)
    if event.event == Event.JOB_RESCHEDULED:
        return Toast("job", "Appointment rescheduled", f"{service} moved to {when}.", url)
    label = Job.Status(job["status"]).label if job.get("status") in Job.Status.values else job.get("status")
    if event.event == Event.JOB_COMPLETED:
        return Toast("job", "Appointment completed", f"{service} is completed. Thank you!", url)
    if event.event == Event.JOB_CANCELLED:
        return Toast("job", "Appointment cancelled", f"{service} on {when} is cancelled.", url)
    label = str(label).lower()
    return Toast("job", f"Appointment {label}", f"{service} is now {label}.", url)


def _invoice_toast(event: OutboxEvent) -> Toast:
    invoice = event.new or {}
    number, total = invoice.get("number", ""), invoice.get("total", "")
    url = _url("portal:invoices", f"invoice-{event.object_id}")
    if event.event == Event.INVOICE_PAID:
        return Toast("invoice", "Payment received", f"Invoice {number} (${total}) is paid. Thank you!", url)
    if event.event == Event.INVOICE_OVERDUE:
        return Toast("invoice", "Invoice overdue", f"Invoice {number} (${total}) is past its due date.", url)
    due = _due(invoice.get("due_date"))
    return Toast(
        "invoice", "New invoice", f"Invoice {number} for ${total}" + (f", due {due}." if due else "."), url
    )


def _message_toast(event: OutboxEvent) -> Toast:
    body = Truncator((event.new or {}).get("body", "")).chars(120)
    return Toast("message", "New message", body, _url("portal:messages", f"message-{event.object_id}"))


def _loyalty_toast(event: OutboxEvent) -> Toast:
    row = event.new or {}
    points = abs(int(row.get("points", 0)))
    description = row.get("description") or ""
    url = _url("portal:loyalty", f"loyalty-{event.object_id}")
    if event.event == Event.LOYALTY_REDEEMED:
        return Toast(
            "loyalty",
            "Points redeemed",
            f"{points} points redeemed" + (f": {description}." if description else "."),
            url,
        )
    title = f"+{points} bonus points!" if event.event == Event.LOYALTY_BONUS else f"+{points} points!"
    return Toast("loyalty", title, description or "Points added to your balance.", url)


def _request_toast(event: OutboxEvent, job: OutboxEvent | None = None) -> Toast:
    """An answer to the customer's request; `job` is the move or cancellation it made, when it
    came in the same batch (its toast is folded into this one)."""
    request = event.new or {}
    url = _url("portal:appointments", f"job-{request.get('job')}")
    move = request.get("kind") == "reschedule"
    reply = Truncator(request.get("reply") or "").chars(120)
    if event.event == Event.REQUEST_ACCEPTED:
        when = _when((job.new or {}).get("scheduled_start")) if job is not None else ""
        words = "We've cancelled your appointment."
        if move:
            words = f"We've moved your appointment to {when}." if when else "We've moved your appointment."
        return Toast("job", "Request accepted", f"{words} {reply}".strip(), url)
    asked = "move" if move else "cancel"
    return Toast("job", "Request declined", f"We couldn't {asked} your appointment. {reply}".strip(), url)


def significant(event: OutboxEvent, own: Own = frozenset()) -> Toast | None:
    """The toast one event deserves on its own, or None for a change that should stay quiet.

    `own` names the changes the customer made themselves (`portal.own_changes`): their page
    already shows them.
    """
    if (event.topic, event.object_id) in own:
        return None
    toast = _significant(event)
    return replace(toast, key=f"{event.topic}:{event.object_id}") if toast else None


JOB_EVENTS = frozenset(
    {
        Event.JOB_SCHEDULED,
        Event.JOB_RESCHEDULED,
        Event.JOB_STATUS_CHANGED,
        Event.JOB_COMPLETED,
        Event.JOB_CANCELLED,
    }
)
INVOICE_EVENTS = frozenset(
    {Event.INVOICE_CREATED, Event.INVOICE_SENT, Event.INVOICE_PAID, Event.INVOICE_OVERDUE}
)
LOYALTY_EVENTS = frozenset({Event.LOYALTY_EARNED, Event.LOYALTY_BONUS, Event.LOYALTY_REDEEMED})
# Every event that may toast (a message only when staff sent it): `portal.updates` builds its
# SQL filter from this, so the feed and the toasts cannot disagree.
REQUEST_EVENTS = frozenset({Event.REQUEST_ACCEPTED, Event.REQUEST_DECLINED})
TOASTING = JOB_EVENTS | INVOICE_EVENTS | LOYALTY_EVENTS | REQUEST_EVENTS


def _significant(event: OutboxEvent) -> Toast | None:
    name = event.event
    if name in JOB_EVENTS:
        return _job_toast(event)
    if name in INVOICE_EVENTS:
        return _invoice_toast(event)
    if name == Event.MESSAGE_RECEIVED and (event.new or {}).get("direction") == "to_customer":
        return _message_toast(event)
    if name in LOYALTY_EVENTS:
        return _loyalty_toast(event)
    if name in REQUEST_EVENTS:
        return _request_toast(event)
    return None


def _completion_award(event: OutboxEvent, completed_jobs: set[int]) -> bool:
    # Points for a job completed in the same batch belong to that job's toast, not a second one.
    return event.event == Event.LOYALTY_EARNED and (event.new or {}).get("job") in completed_jobs


def toast_for(
    events: Iterable[OutboxEvent], own: Own = frozenset(), muted: Set[str] = frozenset()
) -> Toast | None:
    """One toast for a batch of events (in seq order), or None if nothing significant happened.

    `muted` names the topics the customer turned notifications off for
    (`crm.notifications.muted_topics`): their changes never toast.
    """
    events = [event for event in events if event.topic not in muted]
    completed = {e.object_id for e in events if e.event == Event.JOB_COMPLETED}
    awards = {
        (e.new or {}).get("job"): abs(int((e.new or {}).get("points", 0)))
        for e in events
        if _completion_award(e, completed)
    }
    # A move or cancellation that answers a request in the batch toasts as that answer.
    answers = {(e.new or {}).get("job") for e in events if e.event == Event.REQUEST_ACCEPTED}
    answered = {
        e.object_id: e
        for e in events
        if e.topic == "jobs"
        and e.object_id in answers
        and e.event in {Event.JOB_RESCHEDULED, Event.JOB_CANCELLED}
    }
    by_record: dict[tuple[str, int], list[Toast]] = {}
    for event in events:
        if _completion_award(event, completed) or (event.topic == "jobs" and event.object_id in answered):
            continue
        toast = significant(event, own)
        if event.event == Event.REQUEST_ACCEPTED and toast is not None:
            job_event = answered.get(int((event.new or {}).get("job") or 0))
            toast = replace(_request_toast(event, job_event), key=toast.key)
        if toast is None:
            continue
        if event.event == Event.JOB_COMPLETED and event.object_id in awards:
            points = awards[event.object_id]
            toast = replace(toast, message=f"{toast.message} You earned {points} points.")
        by_record.setdefault((event.topic, event.object_id), []).append(toast)
    if not by_record:
        return None
    # One record changed twice in a batch (staff moved a job and confirmed it in one save) is one
    # update: the latest title, and every message, in order.
    toasts = [_merged(record_toasts) for record_toasts in by_record.values()]
    if len(toasts) == 1:
        return toasts[0]
    kinds = Counter(toast.type for toast in toasts)
    parts = [f"{count} {_NOUNS[kind]}{'' if count == 1 else 's'}" for kind, count in kinds.most_common()]
    kind = next(iter(kinds)) if len(kinds) == 1 else "info"
    return Toast(kind, f"{len(toasts)} updates", ", ".join(parts).capitalize() + ".")


def _merged(toasts: list[Toast]) -> Toast:
    last = toasts[-1]
    messages = list(dict.fromkeys(toast.message for toast in toasts))
    return replace(last, message=" ".join(messages))
