"""Offline sending's server half: a message POST with a key is made once per customer and key
(docs/components.md, "Offline sending"); marking read twice changes nothing the second time."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.urls import reverse

from crm import services
from crm.models import Message
from realtime.models import OutboxEvent

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("require_postgres")]

KEY = "3f1c2a9e-0b7d-4c51-9e0a-6d2b8f4a7c11"


def send(client, body: str, key: str | None, json_headers):
    data = {"body": body} if key is None else {"body": body, "key": key}
    return client.post(reverse("portal:send_message"), data, **json_headers)


def test_the_same_key_twice_makes_one_message_and_one_event(client_for, alice, json_headers):
    client = client_for(alice)
    first = send(client, "Can you come at 9?", KEY, json_headers)
    events_after_first = OutboxEvent.objects.filter(customer_id=alice.pk).count()
    second = send(client, "Can you come at 9?", KEY, json_headers)
    assert first.status_code == second.status_code == 200
    assert first.json()["id"] == second.json()["id"]
    assert f'id="message-{first.json()["id"]}"' in second.json()["html"]
    assert alice.messages.filter(body="Can you come at 9?").count() == 1
    # The retry announced nothing: no second "message.received" for open tabs to show.
    assert OutboxEvent.objects.filter(customer_id=alice.pk).count() == events_after_first


def test_a_repeated_key_returns_the_first_message_whatever_the_body(client_for, alice, json_headers):
    client = client_for(alice)
    first = send(client, "first try", KEY, json_headers).json()
    again = send(client, "edited before the retry", KEY, json_headers).json()
    assert again["id"] == first["id"]
    assert Message.objects.get(pk=first["id"]).body == "first try"


def test_different_customers_keys_do_not_clash(client_for, alice, bob, json_headers, client):
    alices = send(client_for(alice), "from Alice", KEY, json_headers).json()
    client.logout()
    bobs = send(client_for(bob), "from Bob", KEY, json_headers).json()
    assert alices["id"] != bobs["id"]
    assert Message.objects.get(pk=bobs["id"]).customer == bob
    assert Message.objects.get(pk=alices["id"]).customer == alice


def test_different_keys_make_different_messages(client_for, alice, json_headers):
    client = client_for(alice)
    ids = {send(client, "same words", f"key-{n}-abcdefgh", json_headers).json()["id"] for n in range(2)}
    assert len(ids) == 2


def test_no_key_still_sends_as_before(client_for, alice, json_headers):
    client = client_for(alice)
    assert send(client, "twice", None, json_headers).status_code == 200
    assert send(client, "twice", None, json_headers).status_code == 200
    assert alice.messages.filter(body="twice", idempotency_key="").count() == 2


@pytest.mark.parametrize("key", ["short", "x" * 65, "has space 12345", "semi;colon1234", "ünïcödé-key-1"])
def test_a_bad_key_is_refused_with_400_and_sends_nothing(client_for, alice, json_headers, key):
    before = alice.messages.count()
    response = send(client_for(alice), "hello", key, json_headers)
    assert response.status_code == 400
    assert response.json()["field"] == "key"
    assert "key" in response.json()["error"]
    assert alice.messages.count() == before


def test_the_service_refuses_a_bad_key(alice):
    with pytest.raises(services.DomainError) as refused:
        services.post_message(customer=alice, body="hi", author=None, idempotency_key="no")
    assert refused.value.code == "bad_key"


def test_a_repeated_key_of_a_message_deleted_since_returns_no_row(client_for, alice, json_headers):
    client = client_for(alice)
    first = send(client, "oops", KEY, json_headers).json()
    services.delete_message(message=Message.objects.get(pk=first["id"]))
    again = send(client, "oops", KEY, json_headers).json()
    assert (again["id"], again["html"]) == (first["id"], "")


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_posts_of_one_key_make_one_message(alice):
    """Two tabs flushing the same waiting message at once: the unique constraint decides."""
    results: list[int] = []
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def post() -> None:
        try:
            start.wait()
            results.append(
                services.post_message(customer=alice, body="race", author=None, idempotency_key=KEY).pk
            )
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    assert len(results) == 2 and results[0] == results[1]
    assert Message.objects.filter(customer=alice, idempotency_key=KEY).count() == 1


def test_marking_read_twice_keeps_the_first_time_and_announces_once(client_for, alice, json_headers):
    message = alice.messages.get()
    client = client_for(alice)
    url = reverse("portal:mark_read", args=[message.pk])
    assert client.post(url, **json_headers).status_code == 200
    message.refresh_from_db()
    first_read = message.read_at
    events = OutboxEvent.objects.filter(customer_id=alice.pk, event="message.read").count()
    assert client.post(url, **json_headers).status_code == 200
    message.refresh_from_db()
    assert message.read_at == first_read
    assert OutboxEvent.objects.filter(customer_id=alice.pk, event="message.read").count() == events == 1
