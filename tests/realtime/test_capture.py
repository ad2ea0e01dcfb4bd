"""Capture describes the row as committed: an event commits in the row's own transaction even
for a save made outside one, and a save racing another writer reports what it really changed."""

from __future__ import annotations

import contextlib
import datetime as dt
import threading

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, models, transaction
from django.test.utils import CaptureQueriesContext, isolate_apps
from django.utils import timezone

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


@pytest.fixture
def alices_job(make_customer, tomorrow_window):
    alice = make_customer("Alice Example")
    start, end = tomorrow_window()
    return alice, services.schedule_job(customer=alice, service_type="Carpet cleaning", start=start, end=end)


def _saved_in_a_locked_transaction(job_pk, **changes):
    with CaptureQueriesContext(connection) as queries, transaction.atomic():
        locked = lock(Job, job_pk)
        for name, value in changes.items():
            setattr(locked, name, value)
        locked.save(update_fields=list(changes))
    return [q["sql"] for q in queries]


@pytest.mark.usefixtures("require_postgres")
def test_a_locked_save_sends_its_update_and_its_events_as_one_statement(alices_job):
    """The row's UPDATE carries the sequence upsert and the outbox insert: a round trip less."""
    alice, job = alices_job
    last_seq = sequence.current(alice.pk)[0]
    statements = _saved_in_a_locked_transaction(job.pk, technician="Lee Park")
    writes = [sql for sql in statements if not sql.startswith(("SELECT", "BEGIN", "COMMIT"))]
    assert len(writes) == 1, writes
    assert (
        writes[0].startswith('WITH u AS (UPDATE "crm_job"')
        and "INSERT INTO realtime_outboxevent" in writes[0]
    )
    event = OutboxEvent.objects.get(customer_id=alice.pk, seq=last_seq + 1)
    assert (event.event, event.changed, event.old["technician"], event.new["technician"]) == (
        "job.updated",
        ["technician"],
        "",
        "Lee Park",
    )
    assert sequence.current(alice.pk)[0] == last_seq + 1
    assert Job.objects.get(pk=job.pk).technician == "Lee Park"


def test_the_one_statement_writes_what_separate_statements_wrote(make_customer, tomorrow_window, monkeypatch):
    from realtime import locking

    alice = make_customer("Alice Example")
    start, end = tomorrow_window()
    jobs = [
        services.schedule_job(customer=alice, service_type="Carpet cleaning", start=start, end=end)
        for _ in range(2)
    ]
    services.reschedule_job(job=jobs[0], start=start + dt.timedelta(hours=1), end=end + dt.timedelta(hours=1))
    monkeypatch.setattr(locking, "fused_update", lambda instance, using: contextlib.nullcontext())
    services.reschedule_job(job=jobs[1], start=start + dt.timedelta(hours=1), end=end + dt.timedelta(hours=1))
    fused, separate = (OutboxEvent.objects.filter(object_id=job.pk).latest("seq") for job in jobs)
    assert fused.seq + 1 == separate.seq
    for name in ("topic", "op", "event", "changed", "customer_id"):
        assert getattr(fused, name) == getattr(separate, name), name
    for side in ("new", "old"):  # the two jobs differ only in their ids
        fused_row, separate_row = getattr(fused, side), getattr(separate, side)
        assert fused_row.pop("id") != separate_row.pop("id") and fused_row == separate_row, side


def test_a_locked_save_that_changes_nothing_visible_writes_no_event(alices_job):
    alice, job = alices_job
    last_seq = sequence.current(alice.pk)[0]
    statements = _saved_in_a_locked_transaction(job.pk, internal_notes="Gate code 1234")
    assert not any("realtime_outboxevent" in sql for sql in statements)
    assert sequence.current(alice.pk)[0] == last_seq
    assert Job.objects.get(pk=job.pk).internal_notes == "Gate code 1234"


def test_a_locked_save_moved_to_another_customer_sends_a_delete_and_an_insert(make_customer, tomorrow_window):
    alice, bob = make_customer("Alice Example"), make_customer("Bob Example")
    start, end = tomorrow_window()
    job = services.schedule_job(customer=alice, service_type="Carpet cleaning", start=start, end=end)
    _saved_in_a_locked_transaction(job.pk, customer_id=bob.pk)
    gone = OutboxEvent.objects.filter(customer_id=alice.pk).latest("seq")
    came = OutboxEvent.objects.filter(customer_id=bob.pk).latest("seq")
    assert (gone.op, gone.object_id, came.op, came.object_id) == ("delete", job.pk, "insert", job.pk)


def test_a_rolled_back_locked_save_leaves_no_event_and_takes_no_number(
    alices_job, django_capture_on_commit_callbacks
):
    alice, job = alices_job
    last_seq = sequence.current(alice.pk)[0]
    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(RuntimeError), transaction.atomic():
        locked = lock(Job, job.pk)
        locked.technician = "Lee Park"
        locked.save(update_fields=["technician"])
        raise RuntimeError("the service fails after the save")
    assert callbacks == []
    assert sequence.current(alice.pk)[0] == last_seq
    assert not OutboxEvent.objects.filter(customer_id=alice.pk, seq__gt=last_seq).exists()


def test_a_locked_save_whose_row_is_gone_fails_as_without_capture(alices_job):
    from django.db import DatabaseError

    _alice, job = alices_job
    with pytest.raises(DatabaseError, match="did not affect any rows"), transaction.atomic():
        locked = lock(Job, job.pk)
        with connection.cursor() as cursor:  # the row disappears under Django's feet
            cursor.execute("UPDATE crm_job SET id = -id WHERE id = %s", [job.pk])
        locked.technician = "Lee Park"
        locked.save(update_fields=["technician"])


@pytest.mark.usefixtures("require_postgres")
def test_the_one_statement_takes_no_number_when_its_update_matches_no_row(make_customer):
    alice = make_customer("Alice Example")
    last_seq = sequence.current(alice.pk)[0]
    event = OutboxEvent(topic="jobs", op="update", event="job.updated", object_id=0, new={}, old={})
    event.changed, event.created_at = ["technician"], timezone.now()
    update = 'UPDATE "crm_job" SET "technician" = %s WHERE "crm_job"."id" = %s'
    sql, params = sequence.with_update(update, ["Lee Park", -1], alice.pk, [event])
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        assert (cursor.rowcount, cursor.fetchall()) == (0, [])
    assert sequence.current(alice.pk)[0] == last_seq
