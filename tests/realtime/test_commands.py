"""`manage.py realtime_status` (the seed's "verify realtime is enabled") and `realtime_prune`."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from channels.layers import channel_layers
from django.core.management import call_command
from django.utils import timezone

from crm import services
from realtime.models import CustomerSequence, OutboxEvent

pytestmark = pytest.mark.django_db


def run(*args, **options) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, **options)
    return out.getvalue()


def test_status_lists_topics_layer_and_outbox(people):
    alice, _bob, _staff = people
    services.post_message(customer=alice, body="hello", author=None)
    oldest = OutboxEvent.objects.order_by("created_at").first().created_at
    output = run("realtime_status")
    assert (
        "  jobs: crm.Job [id, service_type, scheduled_start, scheduled_end, technician, address, status, customer_notes]"
        in output
    )
    for topic, model in (
        ("profile", "crm.Customer"),
        ("invoices", "crm.Invoice"),
        ("messages", "crm.Message"),
        ("loyalty", "crm.LoyaltyTransaction"),
    ):
        assert f"  {topic}: {model} [" in output
    assert "Channel layer: channels_redis.pubsub.RedisPubSubChannelLayer\n  answers\n" in output
    assert "WARNING" not in output
    assert f"Outbox: {OutboxEvent.objects.count()} event(s), oldest {oldest.isoformat()}" in output
    assert "Retention: 604800 s" in output


def test_status_warns_about_the_in_memory_layer(people, settings):
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    channel_layers.backends.clear()
    try:
        output = run("realtime_status")
    finally:
        channel_layers.backends.clear()
    assert "answers" in output
    assert "WARNING: in-memory layer: one process only" in output


def test_status_fails_when_the_layer_does_not_answer(people, settings):
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [{"address": "redis://127.0.0.1:9/0"}]},  # nothing listens on port 9
        }
    }
    channel_layers.backends.clear()
    out = io.StringIO()
    try:
        with pytest.raises(SystemExit) as exit_:
            call_command("realtime_status", stdout=out)
    finally:
        channel_layers.backends.clear()
    assert exit_.value.code == 1
    assert "does not answer" in out.getvalue()


def test_prune_removes_events_past_retention_only(people):
    alice, bob, _staff = people
    services.post_message(customer=alice, body="old", author=None)
    services.post_message(customer=bob, body="old", author=None)
    OutboxEvent.objects.update(created_at=timezone.now() - dt.timedelta(days=8))
    services.post_message(customer=alice, body="new", author=None)
    before = OutboxEvent.objects.count()
    kept = OutboxEvent.objects.get(customer_id=alice.pk, new__body="new")

    assert run("realtime_prune") == f"Pruned {before - 1} outbox event(s).\n"
    assert list(OutboxEvent.objects.values_list("pk", flat=True)) == [kept.pk]
    # Retention is remembered per customer so a `since` inside the gap gets `resync`.
    assert CustomerSequence.objects.get(customer_id=alice.pk).pruned_through == kept.seq - 1
    assert (
        CustomerSequence.objects.get(customer_id=bob.pk).pruned_through
        == CustomerSequence.objects.get(customer_id=bob.pk).last_seq
    )
    assert run("realtime_prune") == "Pruned 0 outbox event(s).\n"
    assert run("realtime_prune", "--retention-seconds", "0") == "Pruned 1 outbox event(s).\n"
    assert not OutboxEvent.objects.exists()


@pytest.mark.django_db(transaction=True)
async def test_status_shows_each_process_hub(people, sockets):
    """Each daphne process's hub reports its sockets, tailer and sweep; realtime_status lists
    them, and marks a report nobody refreshed as stale (a process that died)."""
    from asgiref.sync import sync_to_async

    from realtime.hub import PROCESS, hub
    from realtime.models import HubStatus

    alice, bob, _staff = people
    for user in (alice.portal_user, alice.portal_user, bob.portal_user):
        await sockets(user)
    hub().stats.repaired = 7
    await hub().report()
    output = await sync_to_async(run)("realtime_status")
    # Other processes sharing the test database (the browser suite's daphne) may report too.
    assert "Hubs (one per daphne process): " in output
    line = next(line for line in output.splitlines() if line.startswith(f"  {PROCESS}: "))
    assert "3 socket(s) of 2 customer(s)" in line and "repaired 7 event(s)" in line and "stale" not in line

    await sync_to_async(HubStatus.objects.update)(updated_at=timezone.now() - dt.timedelta(minutes=5))
    assert "(stale: the process is gone or stuck)" in await sync_to_async(run)("realtime_status")
