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
    assert response.json()["field"] == "points"
    assert services.points_balance(alice) == 120


@pytest.mark.parametrize("points", ["0", "-5", "lots", ""])
def test_redeem_needs_a_positive_whole_number(client_for, alice, json_headers, points):
    response = client_for(alice).post(reverse("portal:redeem"), {"points": points}, **json_headers)
    assert response.status_code == 422
    assert services.points_balance(alice) == 120


PROFILE = "/portal/profile/"


def test_edit_contact_details(client_for, alice, json_headers, rendered_form):
    client = client_for(alice)
    data = rendered_form(client, PROFILE, "profile-form")
    new = {"name": "Alice Cooper", "email": "alice@new.example", "phone": "+1 555 0111", "address": "9 Elm"}
    response = client.post(reverse("portal:update_contact"), {**data, **new}, **json_headers)
    assert response.status_code == 200
    answer = response.json()
    assert answer["profile"] == new and answer["changed"] == ["address", "email", "name", "phone"]
    assert 'value="Alice Cooper"' in answer["html"]  # the form as saved, for the page to settle on
    alice.refresh_from_db()
    assert (alice.name, alice.email) == ("Alice Cooper", "alice@new.example")


def test_saving_the_name_keeps_what_staff_changed_meanwhile(client_for, alice, json_headers, rendered_form):
    client = client_for(alice)
    data = rendered_form(client, PROFILE, "profile-form")
    assert data["initial-phone"] == data["phone"] == "+1 555 0100"
    # Staff edit the phone and address while the customer's form is open with the old values.
    services.update_contact_details(customer=alice, phone="+1 555 0199", address="2 High St")
    response = client.post(reverse("portal:update_contact"), {**data, "name": "Alice Cooper"}, **json_headers)
    assert response.status_code == 200
    assert response.json()["changed"] == ["name"]
    assert response.json()["profile"]["phone"] == "+1 555 0199"
    alice.refresh_from_db()
    assert (alice.name, alice.phone, alice.address) == ("Alice Cooper", "+1 555 0199", "2 High St")


def test_a_field_the_customer_changed_is_written_even_if_staff_changed_it_too(
    client_for, alice, json_headers, rendered_form
):
    client = client_for(alice)
    data = rendered_form(client, PROFILE, "profile-form")
    services.update_contact_details(customer=alice, phone="+1 555 0199")
    client.post(reverse("portal:update_contact"), {**data, "phone": "+1 555 0177"}, **json_headers)
    alice.refresh_from_db()
    assert alice.phone == "+1 555 0177"  # the customer's deliberate edit is the newest word


def test_saving_an_untouched_form_writes_nothing(client_for, alice, json_headers, rendered_form):
    client = client_for(alice)
    data = rendered_form(client, PROFILE, "profile-form")
    before = OutboxEvent.objects.filter(customer_id=alice.pk).count()
    response = client.post(reverse("portal:update_contact"), data, **json_headers)
    assert response.status_code == 200 and response.json()["changed"] == []
    assert response.json()["notice"].startswith("Nothing to save")
    assert OutboxEvent.objects.filter(customer_id=alice.pk).count() == before


def test_contact_details_need_a_name_and_a_valid_email(client_for, alice, json_headers, rendered_form):
    client = client_for(alice)
    data = rendered_form(client, PROFILE, "profile-form")
    response = client.post(reverse("portal:update_contact"), {**data, "email": "nope"}, **json_headers)
    assert response.status_code == 422 and response.json()["field"] == "email"
    response = client.post(reverse("portal:update_contact"), {**data, "name": " "}, **json_headers)
    assert response.status_code == 422 and "name" in response.json()["error"].lower()
    assert response.json()["field"] == "name"
    alice.refresh_from_db()
    assert alice.name == "Alice Example"


def test_edit_preferences(client_for, alice, json_headers, rendered_form):
    client = client_for(alice)
    data = rendered_form(client, PROFILE, "preferences-form")
    data = {key: value for key, value in data.items() if key not in {"notify_messages", "notify_loyalty"}}
    data.update(contact_channel="sms", notify_appointments="on", notify_invoices="on")
    response = client.post(reverse("portal:update_preferences"), data, **json_headers)
    assert response.status_code == 200
    alice.refresh_from_db()
    assert alice.preferences == {
        "contact_channel": "sms",
        "notify_appointments": True,
        "notify_invoices": True,
        "notify_messages": False,
        "notify_loyalty": False,
        "email_digests": True,  # untouched (the digest emails' switch)
    }


def test_a_preference_toggle_keeps_what_staff_changed_meanwhile(
    client_for, alice, json_headers, rendered_form
):
    client = client_for(alice)
    data = rendered_form(client, PROFILE, "preferences-form")
    assert data["contact_channel"] == data["initial-contact_channel"] == "email"
    services.update_preferences(customer=alice, preferences={"contact_channel": "phone"})
    data.pop("notify_loyalty", None)  # the customer unticks one box and saves
    response = client.post(reverse("portal:update_preferences"), data, **json_headers)
    assert response.json()["changed"] == ["notify_loyalty"]
    alice.refresh_from_db()
    assert alice.preferences["contact_channel"] == "phone"
    assert alice.preferences["notify_loyalty"] is False


def test_an_unknown_contact_channel_is_refused(client_for, alice, json_headers, rendered_form):
    data = rendered_form(client_for(alice), PROFILE, "preferences-form")
    response = client_for(alice).post(
        reverse("portal:update_preferences"), {**data, "contact_channel": "fax"}, **json_headers
    )
    assert response.status_code == 422 and response.json()["field"] == "contact_channel"


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
