"""`{% staff_inbox_link %}`: the admin header's inbox link with its live open count."""

from __future__ import annotations

from typing import Any

from django import template

from crm.inbox_reads import open_count_at_seq
from crm.live.consumer import staff_may_watch

register = template.Library()


@register.inclusion_tag("admin/crm/_inbox_link.html", takes_context=True)
def staff_inbox_link(context: dict[str, Any]) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    if not staff_may_watch(user):
        return {"show": False}
    count, seq = open_count_at_seq()
    return {"show": True, "count": count, "seq": seq}
