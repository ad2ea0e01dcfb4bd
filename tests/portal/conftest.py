"""Portal fixtures: Alice and Bob with their own data, staff, and a logged-in client per person."""

from __future__ import annotations

import pytest

from crm import services


@pytest.fixture
def alice(make_customer, tomorrow_window):
    customer = make_customer("Alice Example", login="alice", phone="+1 555 0100", address="1 Main St")
    start, end = tomorrow_window()
    services.schedule_job(customer=customer, service_type="Carpet cleaning", start=start, end=end)
    invoice = services.create_invoice(customer=customer, total="120.50")
    services.send_invoice(invoice=invoice)
    services.post_message(customer=customer, body="Hello from the team", author=None)
    services.award_points(customer=customer, points=120, description="Welcome bonus", bonus=True)
    return customer


@pytest.fixture
def bob(make_customer):
    return make_customer("Bob Example", login="bob")


@pytest.fixture
def client_for(client):
    def login(customer_or_user):
        user = getattr(customer_or_user, "portal_user", customer_or_user)
        client.force_login(user)
        return client

    return login


@pytest.fixture
def json_headers():
    return {"HTTP_ACCEPT": "application/json"}
