from __future__ import annotations

import pytest
from django.urls import reverse

from crm import services
from crm.models import Message
from realtime.models import OutboxEvent

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("require_postgres")]


def test_send_message_returns_the_rendered_row_and_announces_it(client_for, alice, json_headers):
    response = client_for(alice).post(
        reverse("portal:send_message"), {"body": "  Can you come earlier? "}, **json_headers
    )
    assert response.status_code == 200
    data = response.json()
    message = Message.objects.get(pk=data["id"])
    assert (message.customer, message.direction, message.body) == (alice, "to_staff", "Can you come earlier?")
    assert f'id="message-{message.pk}"' in data["html"]
    event = OutboxEvent.objects.filter(customer_id=alice.pk).latest("seq")
    assert (event.event, event.object_id) == ("message.received", message.pk)


def test_an_empty_message_is_refused(client_for, alice, json_headers):
    response = client_for(alice).post(reverse("portal:send_message"), {"body": "   "}, **json_headers)
    assert response.status_code == 422
    assert response.json()["error"]
    assert alice.messages.count() == 1


def test_mark_read_marks_the_customers_own_staff_message(client_for, alice, json_headers):
    message = alice.messages.get()
    response = client_for(alice).post(reverse("portal:mark_read", args=[message.pk]), **json_headers)
    assert response.status_code == 200
    message.refresh_from_db()
    assert message.read_at is not None


def test_mark_read_refuses_another_customers_message(client_for, alice, bob, json_headers):
    message = alice.messages.get()
    response = client_for(bob).post(reverse("portal:mark_read", args=[message.pk]), **json_headers)
    assert response.status_code == 422
    message.refresh_from_db()
    assert message.read_at is None


def test_mark_read_refuses_the_customers_own_message(client_for, alice, json_headers):
    own = services.post_message(customer=alice, body="mine", author=None, direction="to_staff")
    response = client_for(alice).post(reverse("portal:mark_read", args=[own.pk]), **json_headers)
    assert response.status_code == 422


def test_redeem_within_the_balance(client_for, alice, json_headers):
    response = client_for(alice).post(reverse("portal:redeem"), {"points": "100"}, **json_headers)
    assert response.status_code == 200
    assert response.json()["balance"] == 20
    assert services.points_balance(alice) == 20


def test_redeem_beyond_the_balance_is_refused_with_the_domain_message(client_for, alice, json_headers):
    response = client_for(alice).post(reverse("portal:redeem"), {"points": "500"}, **json_headers)
    assert response.status_code == 422
    assert response.json()["error"] == "Not enough points: 500 asked, 120 available."
    assert services.points_balance(alice) == 120


@pytest.mark.parametrize("points", ["0", "-5", "lots", ""])
def test_redeem_needs_a_positive_whole_number(client_for, alice, json_headers, points):
    response = client_for(alice).post(reverse("portal:redeem"), {"points": points}, **json_headers)
    assert response.status_code == 422
    assert services.points_balance(alice) == 120


def test_edit_contact_details(client_for, alice, json_headers):
    data = {"name": "Alice Cooper", "email": "alice@new.example", "phone": "+1 555 0111", "address": "9 Elm"}
    response = client_for(alice).post(reverse("portal:update_contact"), data, **json_headers)
    assert response.status_code == 200
    assert response.json()["profile"] == data
    alice.refresh_from_db()
    assert (alice.name, alice.email) == ("Alice Cooper", "alice@new.example")


def test_contact_details_need_a_name_and_a_valid_email(client_for, alice, json_headers):
    client = client_for(alice)
    bad_email = {"name": "Alice", "email": "nope", "phone": "", "address": ""}
    assert client.post(reverse("portal:update_contact"), bad_email, **json_headers).status_code == 422
    no_name = {"name": " ", "email": "", "phone": "", "address": ""}
    response = client.post(reverse("portal:update_contact"), no_name, **json_headers)
    assert response.status_code == 422 and "name" in response.json()["error"].lower()
    alice.refresh_from_db()
    assert alice.name == "Alice Example"


def test_edit_preferences(client_for, alice, json_headers):
    data = {"contact_channel": "sms", "notify_appointments": "on", "notify_invoices": "on"}
    response = client_for(alice).post(reverse("portal:update_preferences"), data, **json_headers)
    assert response.status_code == 200
    alice.refresh_from_db()
    assert alice.preferences == {
        "contact_channel": "sms",
        "notify_appointments": True,
        "notify_invoices": True,
        "notify_messages": False,
        "notify_loyalty": False,
    }


def test_an_unknown_contact_channel_is_refused(client_for, alice, json_headers):
    response = client_for(alice).post(
        reverse("portal:update_preferences"), {"contact_channel": "fax"}, **json_headers
    )
    assert response.status_code == 422


def test_without_the_script_forms_redirect_back_with_a_message(client_for, alice):
    client = client_for(alice)
    response = client.post(reverse("portal:redeem"), {"points": "500"})
    assert response.status_code == 302 and response["Location"] == reverse("portal:loyalty")
    page = client.get(reverse("portal:loyalty")).content.decode()
    assert "Not enough points" in page and 'data-toast-type="info"' in page


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("send_message", []),
        ("mark_read", [1]),
        ("redeem", []),
        ("update_contact", []),
        ("update_preferences", []),
    ],
)
def test_actions_need_a_customer_and_a_post(client, make_user, json_headers, name, args):
    url = reverse(f"portal:{name}", args=args)
    assert client.post(url, **json_headers).status_code == 401
    client.force_login(make_user("nobody"))
    assert client.post(url, **json_headers).status_code == 403
    assert client.get(url).status_code == 405
