"""The changes a customer made themselves in the portal, remembered in their session.

A change the customer made is already on their page (the optimistic update), so its realtime
echo must not toast as if staff had done it. Messages and profile edits tell by themselves
(direction, event); a redemption does not, since staff can redeem points in the admin too, so
the portal's redeem action remembers the transaction here and `portal/live.py` asks.
"""

from __future__ import annotations

from django.http import HttpRequest

SESSION_KEY = "portal.own_changes"
KEEP = 50  # the latest few are enough: an echo arrives within seconds


def remember(request: HttpRequest, topic: str, object_id: int) -> None:
    own = [entry for entry in request.session.get(SESSION_KEY, []) if entry != [topic, object_id]]
    request.session[SESSION_KEY] = [*own, [topic, object_id]][-KEEP:]


def recalled(request: HttpRequest) -> set[tuple[str, int]]:
    return {(topic, object_id) for topic, object_id in request.session.get(SESSION_KEY, [])}
