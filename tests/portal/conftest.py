"""Portal fixtures: Alice and Bob with their own data, staff, and a logged-in client per person."""

from __future__ import annotations

from html.parser import HTMLParser

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


class _FormFields(HTMLParser):
    """The successful controls of one form as a browser would post it untouched."""

    def __init__(self, form_id: str) -> None:
        super().__init__()
        self.form_id, self.inside, self.fields = form_id, False, {}
        self._textarea: str | None = None
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.inside = attrs.get("id") == self.form_id
        if not self.inside:
            return
        name = attrs.get("name")
        if tag == "input" and name and attrs.get("type") not in {"submit", "button"}:
            if attrs.get("type") == "checkbox":
                if "checked" in attrs:
                    self.fields[name] = attrs.get("value") or "on"
            else:
                self.fields[name] = attrs.get("value") or ""
        elif tag == "textarea" and name:
            self._textarea, self.fields[name] = name, ""
        elif tag == "select" and name:
            self._select = name
        elif tag == "option" and self._select and "selected" in attrs:
            self.fields[self._select] = attrs.get("value", "")

    def handle_data(self, data):
        if self.inside and self._textarea:
            self.fields[self._textarea] += data

    def handle_endtag(self, tag):
        if tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None
        elif tag == "form":
            self.inside = False


@pytest.fixture
def rendered_form():
    """`rendered_form(client, url, form_id)`: what the page's form posts if nothing is touched."""

    def read(client, url: str, form_id: str) -> dict[str, str]:
        parser = _FormFields(form_id)
        parser.feed(client.get(url).content.decode())
        assert parser.fields, f"no #{form_id} on {url}"
        return parser.fields

    return read
