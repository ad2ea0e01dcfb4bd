"""Template context for every portal page and live fragment: the header bell's count, and the
"while you were away" toast of the first page after a login. Both are computed only when a
template shows them (a callable in the context is called on use), so other pages pay nothing."""

from __future__ import annotations

import functools
from typing import Any

from django.http import HttpRequest

from portal import own_changes, updates
from portal.feed import login_toast as first_page_toast


def portal_updates(request: HttpRequest) -> dict[str, Any]:
    customer_id: int | None = getattr(request, "customer_id", None)
    if customer_id is None:  # set by `customer_required`: not on the login page or the admin
        return {}

    @functools.cache
    def bell() -> int:
        return updates.unseen_count(customer_id, own_changes.recalled(request))

    @functools.cache
    def login_toast() -> Any:
        return first_page_toast(request, customer_id)

    return {"updates_bell": bell, "away_login_toast": login_toast}
