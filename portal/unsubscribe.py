"""Unsubscribe links in digest emails: a signed token naming a customer and a category.

The link works without logging in, so the token is the credential: `django.core.signing`
(HMAC with SECRET_KEY, a salt of its own) with an expiry. Opening it shows a confirmation page;
only its POST changes anything (mail scanners follow links). A tampered or expired token gets
a 400 page that says so.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.core import signing
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from crm import services
from crm.models import Customer
from portal import updates

SALT = "portal.unsubscribe"
ALL = "*"  # the token's topic for "no digest emails at all" (List-Unsubscribe, the email's last link)


def token_for(customer_id: int, topic: str) -> str:
    return signing.dumps({"c": customer_id, "t": topic}, salt=SALT)


def url_for(customer_id: int, topic: str) -> str:
    """The absolute unsubscribe address for an email."""
    path = reverse("portal:unsubscribe", args=[token_for(customer_id, topic)])
    return f"{settings.PORTAL_BASE_URL}{path}"


def _read(token: str) -> tuple[Customer, str] | str:
    """(customer, topic), or the reason the token is refused."""
    max_age = dt.timedelta(days=settings.NOTIFY_UNSUBSCRIBE_DAYS)
    try:
        data: Any = signing.loads(token, salt=SALT, max_age=max_age)
    except signing.SignatureExpired:
        return "This unsubscribe link has expired. You can change which emails you get under Profile in your portal."
    except signing.BadSignature:
        return "This unsubscribe link is not valid. Please use the link from the email as it is, or change which emails you get under Profile in your portal."
    topic = data.get("t") if isinstance(data, dict) else None
    customer_id = data.get("c") if isinstance(data, dict) else None
    known = isinstance(topic, str) and (topic in updates.CATEGORIES or topic == ALL)
    if not isinstance(topic, str) or not known or not isinstance(customer_id, int):
        return "This unsubscribe link is not valid."
    customer = Customer.objects.filter(pk=customer_id).first()
    if customer is None:
        return "This unsubscribe link is not valid."
    return customer, topic


# No CSRF check: the signed token in the address is the credential, and mail clients' one-click
# unsubscribe (RFC 8058, the List-Unsubscribe-Post header) POSTs here without a form.
@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    found = _read(token)
    if isinstance(found, str):
        return render(request, "portal/unsubscribe.html", {"error": found}, status=400)
    customer, topic = found
    every = topic == ALL
    category = "your updates" if every else updates.CATEGORY_NAMES[topic]
    context = {"category": category, "all": every, "token": token, "done": False}
    if request.method == "POST":
        flag = "email_digests" if every else updates.CATEGORIES[topic]
        services.update_preferences(customer=customer, preferences={flag: False})
        context["done"] = True
    return render(request, "portal/unsubscribe.html", context)
