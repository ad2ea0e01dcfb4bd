"""Who may open the portal: a logged-in customer, on their own data only.

Staff are sent to the admin (their tool); a login with no customer gets a 403 page that says
so. Every portal view, fragment and action goes through `customer_required`, so a request can
only ever name rows of `request.customer_id`.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, cast

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render

from crm.models import User
from realtime import access

View = Callable[..., HttpResponse]


class PortalRequest(HttpRequest):
    """A request `customer_required` let through: a logged-in customer's, naming their customer."""

    user: User
    customer_id: int


def wants_json(request: HttpRequest) -> bool:
    """The portal's own scripts ask for JSON; plain form posts get a page back."""
    return "application/json" in request.headers.get("Accept", "")


def customer_required(view: View) -> View:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if not user.is_authenticated:
            if wants_json(request):
                return JsonResponse({"error": "Please log in again."}, status=401)
            return redirect_to_login(request.get_full_path())
        if user.is_staff:
            return redirect("admin:index")
        customer_id = access.customer_for(user)
        if customer_id is None:
            if wants_json(request):
                return JsonResponse({"error": "This login has no customer account."}, status=403)
            return render(request, "portal/no_customer.html", status=403)
        portal_request = cast(PortalRequest, request)
        portal_request.customer_id = customer_id
        return view(portal_request, *args, **kwargs)

    return wrapper
