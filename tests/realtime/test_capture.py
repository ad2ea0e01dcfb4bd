"""Capture describes the row as committed: an event commits in the row's own transaction even
for a save made outside one, and a save racing another writer reports what it really changed."""

from __future__ import annotations

import threading

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, models, transaction
from django.test.utils import CaptureQueriesContext, isolate_apps

from crm import services
from crm.models import Job
from portal.serializers import JobSerializer
from realtime import registry, sequence
from realtime.capture import lock
from realtime.models import OutboxEvent
from tests.conftest import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_save_outside_a_transaction_commits_its_event_with_the_row(
    make_customer, tomorrow_window, monkeypatch
):
    """A shell or script saving in autocommit mode: if the event cannot be written, the row
    must not be written either (before, the row committed first and the event was lost)."""
    alice = make_customer("Alice Example")
    start, end = tomorrow_window()
    job = services.schedule_job(customer=alice, service_type="Carpet cleaning", start=start, end=end)
    events_before = OutboxEvent.objects.filter(customer_id=alice.pk).count()

    def refuse(*args, **kwargs):
        raise RuntimeError("the outbox is unavailable")

    monkeypatch.setattr(sequence, "append", refuse)
    assert not connection.in_atomic_block
    job.technician = "Autocommit Sam"
    with pytest.raises(RuntimeError):
        job.save()
    monkeypatch.undo()

    assert Job.objects.get(pk=job.pk).technician != "Autocommit Sam"
    assert OutboxEvent.objects.filter(customer_id=alice.pk).count() == events_before

    job.save()  # and with the outbox back, the same save records its event
    latest = OutboxEvent.objects.filter(customer_id=alice.pk).latest("seq")
    assert latest.changed == ["technician"] and latest.new["technician"] == "Autocommit Sam"


def test_a_partial_save_racing_a_reschedule_publishes_the_stored_row(
    require_postgres, make_customer, tomorrow_window
):
    """The admin saves plain fields with update_fields while a service reschedules the same job:
    the second event's `old` and `new` must be the rows as committed, so a client applying the
    stream ends with the database's row (before, it put the old time back)."""
    alice = make_customer("Alice Example")
    start, end = tomorrow_window()
    job = services.schedule_job(customer=alice, service_type="Carpet cleaning", start=start, end=end)
    moved = start + (end - start) * 3
    rescheduled, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def reschedule() -> None:
        try:
            with transaction.atomic():
                services.reschedule_job(
                    job=Job.objects.get(pk=job.pk), start=moved, end=moved + (end - start)
                )
                rescheduled.set()
                release.wait(timeout=30)
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    def edit_technician() -> None:
        try:
            rescheduled.wait(timeout=30)
            stale = Job.objects.get(pk=job.pk)  # read before the reschedule commits
            stale.technician = "Sam"
            stale.save(update_fields=["technician", "updated_at"])
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=reschedule), threading.Thread(target=edit_technician)]
    for thread in threads:
        thread.start()
    with connection.cursor() as cursor:

        def editor_waits_for_the_lock() -> bool:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            return cursor.fetchone()[0] >= 1

        wait_for(editor_waits_for_the_lock, timeout=10, message="the editor to wait on the row lock")
    release.set()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors

    stored = dict(JobSerializer(Job.objects.get(pk=job.pk)).data)
    events = list(
        OutboxEvent.objects.filter(customer_id=alice.pk, topic="jobs", object_id=job.pk).order_by("seq")
    )
    assert [event.event for event in events] == ["job.scheduled", "job.rescheduled", "job.updated"]
    last = events[-1]
    assert last.changed == ["technician"]
    assert last.old == events[1].new
    assert last.new == stored


@isolate_apps("crm")
def test_the_registry_refuses_a_model_that_saves_outside_a_transaction():
    class Plain(models.Model):
        class Meta:
            app_label = "crm"

        def __str__(self) -> str:
            return f"plain {self.pk}"

    with pytest.raises(ImproperlyConfigured, match="TransactionalSave"):
        registry.register(
            registry.SyncedModel(model=Plain, topic="plain", serializer=JobSerializer, event_name=str)
        )
    assert registry.for_topic("plain") is None


def test_a_row_loaded_with_lock_is_not_read_again_when_saved(make_customer, tomorrow_window):
    alice = make_customer("Alice Example")
    start, end = tomorrow_window()
    job = services.schedule_job(customer=alice, service_type="Carpet cleaning", start=start, end=end)
    with CaptureQueriesContext(connection) as queries, transaction.atomic():
        locked = lock(Job, job.pk)
        locked.technician = "Lee Park"
        locked.save(update_fields=["technician"])
    reads = [q["sql"] for q in queries if q["sql"].startswith("SELECT") and str(job.pk) in q["sql"]]
    assert len(reads) == 1, reads  # the lock's own read, none from capture
    event = OutboxEvent.objects.filter(customer_id=alice.pk).latest("seq")
    assert (event.changed, event.old["technician"], event.new["technician"]) == (
        ["technician"],
        "",
        "Lee Park",
    )


def test_a_lock_from_an_earlier_transaction_is_not_trusted(make_customer, tomorrow_window):
    """Saved after its transaction ended, the instance may be stale: capture reads the stored row,
    so `old` is what the database held, not what the lock saw."""
    alice = make_customer("Alice Example")
    start, end = tomorrow_window()
    job = services.schedule_job(customer=alice, service_type="Carpet cleaning", start=start, end=end)
    with transaction.atomic():
        stale = lock(Job, job.pk)
    services.update_job(job=job, technician="Sam Stone")  # someone else, meanwhile
    with transaction.atomic():
        stale.address = "2 Oak Road"
        stale.save(update_fields=["address"])
    event = OutboxEvent.objects.filter(customer_id=alice.pk).latest("seq")
    assert event.old["technician"] == "Sam Stone" and event.changed == ["address"]
