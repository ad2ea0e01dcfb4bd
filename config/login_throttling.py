"""Login throttling with django-axes: the client address it counts, and what a locked-out client sees.

Both logins (the portal's and the admin's) authenticate through `AxesStandaloneBackend`, which
refuses every attempt, the right password included, while the username or the address is locked
out. `AxesMiddleware` then answers with `lockout_response`: 429 with `Retry-After`, on the
login page the client used, in that page's style. The policy is in `config/settings.py` (AXES_*)
and docs/operations.md ("Login throttling").
"""

from __future__ import annotations

import datetime as dt
import math
from http import HTTPStatus
from typing import Any

from axes.helpers import get_client_username, get_cool_off
from axes.models import AccessAttempt
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.db.models import Max, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone


def client_address(request: HttpRequest) -> str | None:
    """The address a login comes from: REMOTE_ADDR, never a header the client sent.

    Behind the proxy, `daphne --proxy-headers` puts the X-Forwarded-For that the proxy set
    (docker/nginx.conf replaces the client's) into the ASGI scope, and Django into REMOTE_ADDR.
    Reading X-Forwarded-For here as well would let a client pick a new address per attempt.
    """
    return request.META.get("REMOTE_ADDR")


def retry_after(request: HttpRequest) -> dt.timedelta:
    """How long until this client's lockout ends: the cool-off after the newest failure that still
    counts against its username or its address (failures during a lockout are not recorded)."""
    cool_off = get_cool_off(request) or dt.timedelta(0)
    now = timezone.now()
    address = getattr(request, "axes_ip_address", None) or client_address(request)
    username = get_client_username(request)
    newest = (
        AccessAttempt.objects.filter(Q(ip_address=address) | Q(username=username))
        .filter(attempt_time__gte=now - cool_off)
        .aggregate(newest=Max("attempt_time"))["newest"]
    )
    return max((newest or now) + cool_off - now, dt.timedelta(seconds=1))


def lockout_response(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    """429 and Retry-After, on the login page that was used.

    axes calls this with the view's response and the credentials (or, on its async path, the
    credentials alone); neither is needed.
    """
    wait = retry_after(request)
    seconds = math.ceil(wait.total_seconds())
    lockout = {"minutes": math.ceil(seconds / 60), "retry_after": seconds}
    username = get_client_username(request) or ""
    if request.path.startswith(reverse("admin:index")):
        context = {
            **admin.site.each_context(request),
            "title": "Too many failed logins",
            "app_path": request.get_full_path(),
            "form": AdminAuthenticationForm(request, initial={"username": username}),
            "next": request.POST.get("next", ""),
            "lockout": lockout,
        }
        response = render(request, "admin/lockout.html", context, status=HTTPStatus.TOO_MANY_REQUESTS)
    else:
        context = {
            "form": AuthenticationForm(request, initial={"username": username}),
            "next": request.POST.get("next", ""),
            "lockout": lockout,
        }
        response = render(request, "portal/login.html", context, status=HTTPStatus.TOO_MANY_REQUESTS)
    response["Retry-After"] = str(seconds)
    return response
