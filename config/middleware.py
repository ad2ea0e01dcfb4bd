"""Answers for when the database cannot serve a request in time."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable

from django.db import OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse

from portal.write_slots import CustomerBusy

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 2


def service_unavailable(
    request: HttpRequest, message: str, retry_after: int = RETRY_AFTER_SECONDS
) -> HttpResponse:
    """503 with Retry-After: JSON for scripts and the API, a line of text for a browser."""
    wants_json = "application/json" in request.headers.get("Accept", "") or request.path.startswith("/api/")
    response: HttpResponse = (
        JsonResponse({"error": message}, status=503)
        if wants_json
        else HttpResponse(message, status=503, content_type="text/plain; charset=utf-8")
    )
    response["Retry-After"] = str(retry_after)
    return response


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: what a middleware's exception (a session or user load, say) becomes, where
    `process_exception` below does not see it: 503 when the database is the cause."""
    error = sys.exc_info()[1]
    if isinstance(error, OperationalError | CustomerBusy):
        return service_unavailable(request, "The service is busy. Please try again in a moment.")
    return HttpResponse("Server error. We have been told; please try again later.", status=500)


class DatabaseUnavailableMiddleware:
    """A lock or statement timeout, a full connection pool, an unreachable database or a customer
    with too many writes under way: 503 with Retry-After (try again shortly) instead of a 500."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, CustomerBusy):
            return service_unavailable(
                request, "Your previous changes are still being saved. Please try again in a moment."
            )
        if not isinstance(exception, OperationalError):
            return None
        logger.warning("database unavailable for %s %s: %s", request.method, request.path, exception)
        return service_unavailable(request, "The service is busy. Please try again in a moment.")
