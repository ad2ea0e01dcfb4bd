"""The staff inbox at /admin/inbox/: a page of the admin site (its look, nav and login).

What customers did in the portal, newest first, live (static/crm/staff-live.js adds and removes
rows as the staff stream says). Staff open the customer or the conversation, reply inline,
mark an item handled, and accept or decline appointment requests, all through `crm.services`.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import URLPattern, path
from django.utils.dateparse import parse_datetime
from django.utils.timezone import get_current_timezone, is_naive, make_aware
from django.views.decorators.http import require_POST

from crm import services
from crm.inbox_reads import PAGE_SIZE, items, open_count_at_seq
from crm.models import User
from crm.staff_models import InboxItem

VIEW = "crm.view_customer"
# What each action needs beyond seeing the inbox.
ACTION_PERMISSIONS = {
    "handle": VIEW,
    "reply": "crm.add_message",
    "accept": "crm.change_job",
    "decline": "crm.change_job",
}


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


@permission_required(VIEW, raise_exception=True)
def inbox(request: HttpRequest) -> HttpResponse:
    handled = request.GET.get("handled") == "1"
    count, seq = open_count_at_seq()
    context: dict[str, Any] = {
        **admin.site.each_context(request),
        "title": "Staff inbox",
        "subtitle": "Handled" if handled else None,
        "items": list(items(handled=handled)[:PAGE_SIZE]),
        "showing_handled": handled,
        "open_count": count,
        "staff_seq": seq,
    }
    return render(request, "admin/crm/inbox.html", context)


@permission_required(VIEW, raise_exception=True)
def item_fragment(request: HttpRequest, item_id: int) -> HttpResponse:
    """One item's row, for the live page to insert."""
    rows = InboxItem.objects.select_related("customer", "request__job", "message", "handled_by")
    item = get_object_or_404(rows, pk=item_id)
    return render(request, "admin/crm/_inbox_item.html", {"item": item})


def _moment(raw: str) -> Any:
    moment = parse_datetime(raw or "")
    if moment is not None and is_naive(moment):
        moment = make_aware(moment, get_current_timezone())
    return moment


@require_POST
@permission_required(VIEW, raise_exception=True)
def act(request: HttpRequest, item_id: int, action: str) -> HttpResponse:
    if action not in ACTION_PERMISSIONS:
        return JsonResponse({"error": f"Unknown action {action!r}."}, status=404)
    if not request.user.has_perm(ACTION_PERMISSIONS[action]):
        raise PermissionDenied
    item = get_object_or_404(InboxItem.objects.select_related("customer", "request"), pk=item_id)
    user = request.user
    assert isinstance(user, User)  # noqa: S101  (admin views need a login)
    reply = request.POST.get("reply", "")
    try:
        if action == "handle":
            services.mark_handled(item=item, by=user)
            done = "Marked handled."
        elif action == "reply":
            services.reply_to_customer(item=item, body=request.POST.get("body", ""), by=user)
            done = f"Reply sent to {item.customer.name}."
        elif item.request is None:
            return _answer(request, "That item is not an appointment request.", 422)
        elif action == "accept":
            start = _moment(request.POST.get("start", ""))
            services.accept_request(request=item.request, by=user, start=start, reply=reply)
            done = "Request accepted."
        else:
            services.decline_request(request=item.request, by=user, reply=reply)
            done = "Request declined."
    except services.DomainError as error:
        return _answer(request, error.message, 422)
    return _answer(request, done, 200)


def _answer(request: HttpRequest, text: str, status: int) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse({"ok": True, "notice": text} if status == 200 else {"error": text}, status=status)
    (messages.success if status == 200 else messages.error)(request, text)
    return redirect("staff_inbox")


def urlpatterns() -> list[URLPattern]:
    view = admin.site.admin_view  # the admin's login redirect and staff check
    return [
        path("admin/inbox/", view(inbox), name="staff_inbox"),
        path("admin/inbox/items/<int:item_id>/", view(item_fragment), name="staff_inbox_item"),
        path("admin/inbox/items/<int:item_id>/<slug:action>/", view(act), name="staff_inbox_act"),
    ]
