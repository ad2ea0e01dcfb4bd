"""The snapshot API under /api/portal/: what a customer sees, with the `seq` it is consistent with.

Every response carries `seq`; a client that applies change frames after subscribing with
`since` = that seq misses nothing and applies nothing twice (docs/protocol.md).
`/api/portal/snapshot/` gives several topics' first pages at one seq; the per-topic endpoints
page on by id with DRF's cursor pagination.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.db.models import QuerySet
from django.urls import reverse
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.pagination import Cursor, CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from realtime import access, registry
from realtime.registry import SyncedModel
from realtime.snapshot import consistent_read

DEFAULT_LIMIT = 50
MAX_LIMIT = 1000


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


class IdPagination(CursorPagination):
    """Pages in id order, `limit` rows at a time, with an opaque `cursor` for the next page.

    Pages follow ids, not offsets: a row deleted between two page requests cannot shift another
    row onto a page already read (docs/protocol.md, "Paging"). Bad input is a 400 naming the
    parameter, where DRF would quietly use the default size or answer 404.
    """

    ordering = "pk"
    page_size = DEFAULT_LIMIT
    page_size_query_param = "limit"
    max_page_size = MAX_LIMIT

    def get_page_size(self, request: Request) -> int:
        raw = request.query_params.get("limit")
        if raw is None:
            return DEFAULT_LIMIT
        try:
            limit = int(raw)
        except ValueError:
            limit = 0
        if not 1 <= limit <= MAX_LIMIT:
            raise ValidationError({"limit": f"Must be a whole number between 1 and {MAX_LIMIT}."})
        return limit

    def decode_cursor(self, request: Request) -> Cursor | None:
        try:
            return super().decode_cursor(request)
        except NotFound:
            raise ValidationError({"cursor": "Not a cursor this API gave out; use the `next` URL."}) from None

    def page_of(
        self, rows: QuerySet[Any], request: Request, entry: SyncedModel[Any], *, base_url: str | None = None
    ) -> dict[str, Any]:
        """One page of these rows: `count` and the topic's summary cover all of them.
        `next` continues from `base_url` (default: the request's own URL)."""
        results = self.paginate_queryset(rows, request) or []
        if base_url is not None:
            self.base_url = base_url
        summary = entry.summary(rows) if entry.summary else {}
        return {
            "count": rows.count(),
            "next": self.get_next_link(),
            **summary,
            "results": entry.serializer(results, many=True).data,
        }


def _list_entry(topic: str) -> SyncedModel[Any]:
    entry = registry.for_topic(topic)
    if entry is None or entry.model is registry.owner().model:
        raise NotFound(f"Unknown topic {topic!r}.")
    return entry


class TopicSnapshotView(APIView):
    """GET a topic's rows, a page at a time in id order (`limit`, `cursor`), plus `seq`."""

    def get(self, request: Request, topic: str) -> Response:
        entry = _list_entry(topic)
        customer_id = requested_customer_id(request)
        pagination = IdPagination()
        with consistent_read(customer_id) as seq:
            page = pagination.page_of(entry.visible_rows(customer_id), request, entry)
        return Response({"seq": seq, **page})


class ProfileSnapshotView(APIView):
    def get(self, request: Request) -> Response:
        customer_id = requested_customer_id(request)
        with consistent_read(customer_id) as seq:
            profile = _profile(customer_id)
        return Response({"seq": seq, "profile": profile})


def _profile(customer_id: int) -> dict[str, Any]:
    owner = registry.for_model(registry.owner().model)
    assert owner is not None, "the owner model is registered in portal/sync.py"  # noqa: S101
    customer = owner.visible_rows(customer_id).first()
    if customer is None:
        raise NotFound("No such customer.")
    return owner.represent(customer)


class SnapshotView(APIView):
    """GET several topics at one `seq`: `?topics=jobs,invoices,profile` (default: all).

    Each list topic gives its first page (`limit` applies to each) with `count`, `next` and
    its summary; `profile` gives the row. One read, one seq: subscribe with `since` = it.
    """

    def get(self, request: Request) -> Response:
        raw = request.query_params.get("topics")
        topics = registry.topics() if raw is None else [t for t in raw.split(",") if t]
        unknown = sorted(set(topics) - set(registry.topics()))
        if unknown or not topics:
            raise ValidationError({"topics": f"Unknown topics {unknown}; known: {registry.topics()}."})
        customer_id = requested_customer_id(request)
        body: dict[str, Any] = {}
        with consistent_read(customer_id) as seq:
            for topic in dict.fromkeys(topics):
                if topic == _profile_topic():
                    body[topic] = _profile(customer_id)
                    continue
                entry = _list_entry(topic)
                # Later pages come from the topic's own endpoint, and carry their own seq.
                base_url = _topic_url(request, topic)
                body[topic] = IdPagination().page_of(
                    entry.visible_rows(customer_id), request, entry, base_url=base_url
                )
        return Response({"seq": seq, "topics": body})


def _profile_topic() -> str | None:
    entry = registry.for_model(registry.owner().model)
    return entry.topic if entry is not None else None


def _topic_url(request: Request, topic: str) -> str:
    """The topic's own endpoint, with the paging and customer parameters of this request."""
    kept = {
        name: request.query_params[name] for name in ("limit", "customer") if name in request.query_params
    }
    path = reverse("portal-api:topic", kwargs={"topic": topic})
    return request.build_absolute_uri(f"{path}?{urlencode(kept)}" if kept else path)
