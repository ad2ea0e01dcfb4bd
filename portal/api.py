"""The snapshot API under /api/portal/: what a customer sees, with the `seq` it is consistent with.

Every response carries `seq`; a client that applies change frames after subscribing with
`since` = that seq misses nothing and applies nothing twice (docs/protocol.md).
"""

from __future__ import annotations

from django.http import Http404
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param
from rest_framework.views import APIView

from realtime import access, registry
from realtime.snapshot import consistent_read


def requested_customer_id(request: Request) -> int:
    """The customer this request may read, or a 403/400; staff pass `?customer=<id>`."""
    raw = request.query_params.get("customer")
    requested = None
    if raw is not None:
        try:
            requested = int(raw)
        except ValueError:
            raise ValidationError({"customer": "Must be a customer id."}) from None
    customer_id = access.customer_for(request.user, requested)
    if customer_id is None:
        raise PermissionDenied("You may not read this customer's portal data.")
    return customer_id


DEFAULT_LIMIT = 50
MAX_LIMIT = 1000


class TopicSnapshotView(APIView):
    """GET a topic's rows, a page at a time in id order (`limit`, `after`), plus `seq`.

    Pages follow ids, not offsets: a row deleted between two page requests cannot shift
    another row onto a page already read (docs/protocol.md, "Paging").
    """

    def get(self, request: Request, topic: str) -> Response:
        entry = registry.for_topic(topic)
        if entry is None or entry.model is registry.owner().model:
            raise NotFound(f"Unknown topic {topic!r}.")
        limit = _whole_number(request, "limit", DEFAULT_LIMIT, smallest=1, largest=MAX_LIMIT)
        after = _whole_number(request, "after", 0, smallest=0)
        customer_id = requested_customer_id(request)
        with consistent_read(customer_id) as seq:
            rows = entry.visible_rows(customer_id)
            count = rows.count()
            page = list(rows.filter(pk__gt=after).order_by("pk")[: limit + 1])
            data = entry.serializer(page[:limit], many=True).data
            summary = entry.summary(rows) if entry.summary else {}
        next_url = None
        if len(page) > limit:
            next_url = replace_query_param(request.build_absolute_uri(), "after", page[limit - 1].pk)
        return Response({"seq": seq, "count": count, "next": next_url, **summary, "results": data})


def _whole_number(
    request: Request, name: str, default: int, *, smallest: int, largest: int | None = None
) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = smallest - 1
    if value < smallest or (largest is not None and value > largest):
        bounds = f"between {smallest} and {largest}" if largest is not None else f"at least {smallest}"
        raise ValidationError({name: f"Must be a whole number {bounds}."})
    return value


class ProfileSnapshotView(APIView):
    def get(self, request: Request) -> Response:
        entry = registry.for_model(registry.owner().model)
        customer_id = requested_customer_id(request)
        with consistent_read(customer_id) as seq:
            customer = entry.visible_rows(customer_id).first()
            if customer is None:
                raise Http404
            data = entry.represent(customer)
        return Response({"seq": seq, "profile": data})
