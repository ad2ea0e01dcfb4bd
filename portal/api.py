"""The snapshot API under /api/portal/: what a customer sees, with the `seq` it is consistent with.

Every response carries `seq`; a client that applies change frames after subscribing with
`since` = that seq misses nothing and applies nothing twice (docs/protocol.md).
"""

from __future__ import annotations

from django.db.models import Sum
from django.http import Http404
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request
from rest_framework.response import Response
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


class TopicSnapshotView(APIView):
    """GET a topic's rows, paginated (`limit`, `offset`), plus `seq`."""

    def get(self, request: Request, topic: str) -> Response:
        entry = registry.for_topic(topic)
        if entry is None or topic == "profile":
            raise NotFound(f"Unknown topic {topic!r}.")
        customer_id = requested_customer_id(request)
        paginator = LimitOffsetPagination()
        with consistent_read(customer_id) as seq:
            rows = entry.visible_rows(customer_id)
            page = paginator.paginate_queryset(rows, request, view=self)
            data = entry.serializer(page, many=True).data
            extra = {}
            if topic == "loyalty":
                extra["balance"] = rows.aggregate(total=Sum("points"))["total"] or 0
        return Response(
            {
                "seq": seq,
                "count": paginator.count,
                "next": paginator.get_next_link(),
                "previous": paginator.get_previous_link(),
                **extra,
                "results": data,
            }
        )


class ProfileSnapshotView(APIView):
    def get(self, request: Request) -> Response:
        entry = registry.for_topic("profile")
        customer_id = requested_customer_id(request)
        with consistent_read(customer_id) as seq:
            customer = entry.visible_rows(customer_id).first()
            if customer is None:
                raise Http404
            data = entry.represent(customer)
        return Response({"seq": seq, "profile": data})
