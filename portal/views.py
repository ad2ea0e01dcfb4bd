"""The portal's pages. Each renders inside `consistent_read`, so `<body data-seq>` is the seq
the page's data is consistent with and the client subscribes from it without missing a change.

Live updates reuse the row fragments these pages include (`portal/_*_row.html`); see
`portal/live.py`. Customer actions are in `portal/actions.py`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from portal import selectors
from portal.forms import ContactForm, MessageForm, PreferencesForm, RedeemForm
from portal.permissions import PortalRequest, customer_required
from realtime.snapshot import consistent_read

ALL_TOPICS = ("jobs", "invoices", "messages", "loyalty", "profile")

# Dashboard sections show the latest few; the client trims lists to these after a live insert.
DASHBOARD_LIMITS = {"upcoming": 5, "past": 3, "invoices": 5, "messages": 3, "loyalty": 4}

Loader = Callable[[int, dt.datetime], dict[str, Any]]


def render_page(
    request: PortalRequest, template: str, *, page: str, topics: tuple[str, ...], load: Loader
) -> HttpResponse:
    """Run every query of the page in one consistent read and stamp the page with its seq."""
    now = timezone.now()
    with consistent_read(request.customer_id) as seq:
        context = load(request.customer_id, now)
        context["customer"] = selectors.customer(request.customer_id)
    context.update(seq=seq, topics=" ".join(topics), page=page, now=now)
    return render(request, template, context)


class LoginView(auth_views.LoginView):
    template_name = "portal/login.html"
    redirect_authenticated_user = True


@require_GET
@customer_required
def dashboard(request: PortalRequest) -> HttpResponse:
    limits = DASHBOARD_LIMITS

    def load(customer_id: int, now: dt.datetime) -> dict[str, Any]:
        return {
            "upcoming_jobs": selectors.upcoming_jobs(customer_id, now, limits["upcoming"]),
            "past_jobs": selectors.past_jobs(customer_id, now, limits["past"]),
            "invoices": selectors.invoices(customer_id, limits["invoices"]),
            "thread": selectors.messages(customer_id, latest=limits["messages"]),
            "unread_count": selectors.unread_count(customer_id),
            "loyalty": selectors.loyalty_transactions(customer_id, limits["loyalty"]),
            "points_balance": selectors.points_balance(customer_id),
            "limits": limits,
        }

    return render_page(request, "portal/dashboard.html", page="dashboard", topics=ALL_TOPICS, load=load)


@require_GET
@customer_required
def appointments(request: PortalRequest) -> HttpResponse:
    def load(customer_id: int, now: dt.datetime) -> dict[str, Any]:
        return {
            "upcoming_jobs": selectors.upcoming_jobs(customer_id, now),
            "past_jobs": selectors.past_jobs(customer_id, now),
        }

    return render_page(request, "portal/appointments.html", page="appointments", topics=("jobs",), load=load)


@require_GET
@customer_required
def invoices(request: PortalRequest) -> HttpResponse:
    def load(customer_id: int, now: dt.datetime) -> dict[str, Any]:
        return {
            "invoices": selectors.invoices(customer_id),
            "amount_due": selectors.amount_due(customer_id),
        }

    return render_page(request, "portal/invoices.html", page="invoices", topics=("invoices",), load=load)


@require_GET
@customer_required
def messages(request: PortalRequest) -> HttpResponse:
    def load(customer_id: int, now: dt.datetime) -> dict[str, Any]:
        return {
            "thread": selectors.messages(customer_id),
            "unread_count": selectors.unread_count(customer_id),
            "form": MessageForm(),
        }

    return render_page(request, "portal/messages.html", page="messages", topics=("messages",), load=load)


@require_GET
@customer_required
def loyalty(request: PortalRequest) -> HttpResponse:
    def load(customer_id: int, now: dt.datetime) -> dict[str, Any]:
        return {
            "loyalty": selectors.loyalty_transactions(customer_id),
            "points_balance": selectors.points_balance(customer_id),
            "form": RedeemForm(),
        }

    return render_page(request, "portal/loyalty.html", page="loyalty", topics=("loyalty",), load=load)


@require_GET
@customer_required
def profile(request: PortalRequest) -> HttpResponse:
    def load(customer_id: int, now: dt.datetime) -> dict[str, Any]:
        customer = selectors.customer(customer_id)
        return {
            "contact_form": ContactForm.for_customer(customer),
            "preferences_form": PreferencesForm.for_customer(customer),
        }

    return render_page(request, "portal/profile.html", page="profile", topics=("profile",), load=load)


@require_GET
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
            "all_live": dict.fromkeys(ALL_TOPICS, "live"),
            "mixed": {
                "jobs": "live",
                "invoices": "live",
                "messages": "reconnecting",
                "loyalty": "live",
                "profile": "error",
            },
            "one_live": {"jobs": "live"},
        },
    )
