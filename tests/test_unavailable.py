"""Database timeouts and outages answer 503 with Retry-After, wherever they happen."""

from __future__ import annotations

from django.db import OperationalError
from django.test import RequestFactory

from config.middleware import server_error


def test_a_database_error_outside_a_view_is_a_503():
    """A session or user load in a middleware fails before any view runs: handler500 sees it."""
    request = RequestFactory().get("/portal/", HTTP_ACCEPT="application/json")
    try:
        raise OperationalError("couldn't get a connection after 3.00 sec")
    except OperationalError:
        response = server_error(request)
    assert response.status_code == 503 and response["Retry-After"] == "2"


def test_any_other_error_stays_a_500():
    request = RequestFactory().get("/portal/")
    try:
        raise ValueError("a bug")
    except ValueError:
        response = server_error(request)
    assert response.status_code == 500
