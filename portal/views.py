"""The portal's pages. Each renders inside `consistent_read`, so `<body data-seq>` is the seq
the page's data is consistent with and the client subscribes from it without missing a change.

Live updates reuse the row fragments these pages include (`portal/_*_row.html`); see
`portal/live.py`. Customer actions are in `portal/actions.py`. Two small GET endpoints serve
rows on their own: a dashboard list refilled after a row left it (`dashboard_section`), and
the next page of a long list (`older_rows`, the "Show older" control).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages as flash
from django.contrib.auth import views as auth_views
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_safe

from crm.rewards import POINT_VALUE
from portal import selectors
from portal.calendar import feed_urls
from portal.forms import ContactForm, MessageForm, PreferencesForm, RedeemForm
from portal.lists import LISTS, PAGE_SIZES
from portal.permissions import PortalRequest, customer_required
from realtime import registry
from realtime.snapshot import consistent_read

# Dashboard sections show the latest few; the client trims lists to these after a live insert
# and asks `dashboard_section` to refill one that a row left.
DASHBOARD_LIMITS = {"upcoming": 5, "past": 3, "invoices": 5, "messages": 3, "loyalty": 4}

Loader = Callable[[int, dt.datetime], dict[str, Any]]

# Each dashboard list: (its context name on the dashboard, how to load it).
DASHBOARD_LISTS: dict[str, tuple[str, Callable[[int, dt.datetime], list[Any]]]] = {
    "jobs-upcoming": (
        "upcoming_jobs",
        lambda customer_id, now: selectors.upcoming_jobs(customer_id, now, DASHBOARD_LIMITS["upcoming"]),
    ),
    "jobs-past": (
        "past_jobs",
        lambda customer_id, now: selectors.past_jobs(customer_id, now, DASHBOARD_LIMITS["past"]),
    ),
    "invoice-list": (
        "invoices",
        lambda customer_id, now: selectors.invoices(customer_id, DASHBOARD_LIMITS["invoices"]),
    ),
    "message-list": (
        "thread",
        lambda customer_id, now: selectors.messages(customer_id, latest=DASHBOARD_LIMITS["messages"]),
    ),
    "loyalty-list": (
        "loyalty",
        lambda customer_id, now: selectors.loyalty_transactions(customer_id, DASHBOARD_LIMITS["loyalty"]),
    ),
}


def render_page(
    request: PortalRequest, template: str, *, page: str, topics: tuple[str, ...], load: Loader
) -> HttpResponse:
    """Run every query of the page in one consistent read and stamp the page with its seq."""
    now = timezone.now()
    with consistent_read(request.customer_id) as seq:
        context = load(request.customer_id, now)
        context["customer"] = selectors.customer(request.customer_id)
        # The nav's unread badge, on every page (live on every page: each hears every topic).
        context["nav_unread"] = (
            context["unread_count"]
            if "unread_count" in context
            else selectors.unread_count(request.customer_id)
        )
        # The points figure beside the nav's Loyalty link, on every page (live everywhere).
        context["nav_points"] = (
            context["points_balance"]
            if "points_balance" in context
            else selectors.points_balance(request.customer_id)
        )
    context.update(seq=seq, topics=" ".join(topics), page=page, now=now)
    return render(request, template, context)


def _paged(list_id: str, customer_id: int) -> dict[str, Any]:
    """The newest page of a long list, oldest first for the thread, and its "Show older" cursor."""
    row_list = LISTS[list_id]
    page = selectors.latest(row_list.topic, customer_id, PAGE_SIZES[list_id])
    rows = page.rows if row_list.descending else page.rows[::-1]
    return {"rows": rows, "older": page.older}


class LoginView(auth_views.LoginView):
    template_name = "portal/login.html"
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    """Log out and say so on the (plain) login page the tab lands on."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = super().post(request, *args, **kwargs)
        flash.info(request, "You have been logged out.")
        return response


@require_safe
@customer_required
def dashboard(request: PortalRequest) -> HttpResponse:
    def load(customer_id: int, now: dt.datetime) -> dict[str, Any]:
        context: dict[str, Any] = {name: rows(customer_id, now) for name, rows in DASHBOARD_LISTS.values()}
        context.update(
            unread_count=selectors.unread_count(customer_id),
            points_balance=selectors.points_balance(customer_id),
            limits=DASHBOARD_LIMITS,
        )
        return context

    return render_page(
        request, "portal/dashboard.html", page="dashboard", topics=tuple(registry.topics()), load=load
    )


@require_safe
@customer_required
def dashboard_section(request: PortalRequest, list_id: str) -> HttpResponse:
    """One dashboard list's rows as the dashboard shows them now: the client refills a list with
    it after a live change took a row out of it (the server decides what the list shows)."""
    if list_id not in DASHBOARD_LISTS:
        raise Http404
    _, rows = DASHBOARD_LISTS[list_id]
    return render(
        request,
        "portal/_rows.html",
        {"rows": rows(request.customer_id, timezone.now()), "template": LISTS[list_id].template},
    )


@require_safe
@customer_required
def older_rows(request: PortalRequest, list_id: str) -> HttpResponse:
    """The next page of a long list, older than the cursor, and the next "Show older" control."""
    if list_id not in PAGE_SIZES:
        raise Http404
    cursor = selectors.Cursor.parse(request.GET.get("before"), request.GET.get("id"))
    if cursor is None:
        return HttpResponseBadRequest("before (ISO 8601 with offset) and id are required")
    row_list = LISTS[list_id]
    page = selectors.latest(row_list.topic, request.customer_id, PAGE_SIZES[list_id], before=cursor)
    return render(
        request,
        "portal/_older.html",
        {
            "list": row_list,
            "list_id": list_id,
            "rows": page.rows,
            "template": row_list.template,
            "older": page.older,
        },
    )


@require_safe
@customer_required
def appointments(request: PortalRequest) -> HttpResponse:
    def load(customer_id: int, now: dt.datetime) -> dict[str, Any]:
        return {
            "upcoming_jobs": selectors.upcoming_jobs(customer_id, now),
            "past_jobs": selectors.past_jobs(customer_id, now),
        }

    return render_page(
        request, "portal/appointments.html", page="appointments", topics=("jobs", "requests"), load=load
    )


@require_safe
@customer_required
def invoices(request: PortalRequest) -> HttpResponse:
    def load(customer_id: int, now: dt.datetime) -> dict[str, Any]:
        page = _paged("invoice-list", customer_id)
        return {
            "invoices": page["rows"],
            "older": page["older"],
            "amount_due": selectors.amount_due(customer_id),
        }

    return render_page(request, "portal/invoices.html", page="invoices", topics=("invoices",), load=load)


@require_safe
@customer_required
def invoice(request: PortalRequest, invoice_id: int) -> HttpResponse:
    """One invoice as a document to print or save as PDF; another customer's, or a draft, is a 404.

    A document as of its loading: no socket (no topics), so nothing changes it while printing.
    """

    def load(customer_id: int, now: dt.datetime) -> dict[str, Any]:
        found = selectors.invoice(customer_id, invoice_id)
        if found is None:
            raise Http404
        return {
            "invoice": found,
            "amount_due": selectors.invoice_amount_due(found),
            "business": {
                "name": settings.BUSINESS_NAME,
                "address": settings.BUSINESS_ADDRESS,
                "phone": settings.BUSINESS_PHONE,
                "email": settings.BUSINESS_EMAIL,
            },
        }

    return render_page(request, "portal/invoice.html", page="invoices", topics=(), load=load)


@require_safe
@customer_required
def messages(request: PortalRequest) -> HttpResponse:
    def load(customer_id: int, now: dt.datetime) -> dict[str, Any]:
        page = _paged("message-list", customer_id)
        return {
            "thread": page["rows"],
            "older": page["older"],
            "unread_count": selectors.unread_count(customer_id),
            "form": MessageForm(),
        }

    return render_page(request, "portal/messages.html", page="messages", topics=("messages",), load=load)


@require_safe
@customer_required
def loyalty(request: PortalRequest) -> HttpResponse:
    def load(customer_id: int, now: dt.datetime) -> dict[str, Any]:
        page = _paged("loyalty-list", customer_id)
        balance = selectors.points_balance(customer_id)
        return {
            "loyalty": page["rows"],
            "older": page["older"],
            "points_balance": balance,
            "form": RedeemForm.for_balance(balance),
            "point_cents": int(POINT_VALUE * 100),
        }

    return render_page(request, "portal/loyalty.html", page="loyalty", topics=("loyalty",), load=load)


@require_safe
@customer_required
def profile(request: PortalRequest) -> HttpResponse:
    def load(customer_id: int, now: dt.datetime) -> dict[str, Any]:
        customer = selectors.customer(customer_id)
        feed = selectors.calendar_feed(customer_id)
        return {
            "contact_form": ContactForm.for_customer(customer),
            "preferences_form": PreferencesForm.for_customer(customer),
            **(feed_urls(request, feed.token) if feed else {}),
        }

    return render_page(request, "portal/profile.html", page="profile", topics=("profile",), load=load)


@require_safe
def components(request: HttpRequest) -> HttpResponse:
    """Every component in every state, for docs/components.md's screenshots (DEBUG or staff)."""
    if not (settings.DEBUG or (request.user.is_authenticated and request.user.is_staff)):
        raise PermissionDenied
    return render(
        request,
        "portal/components.html",
        {
            "states": ["connecting", "live", "reconnecting", "offline", "error"],
            "variants": ["default", "compact", "badge"],
            "toast_types": ["job", "invoice", "message", "loyalty", "info"],
            "all_live": dict.fromkeys(registry.topics(), "live"),
            # What one shared socket can show: the page's topics live, a topic a script added
            # with `portalRealtime.subscribe()` waiting for the server's `subscribed`, the rest
            # not on this page.
            "mixed": {"jobs": "live", "invoices": "live", "messages": "connecting"},
            "one_live": {"jobs": "live"},
        },
    )
