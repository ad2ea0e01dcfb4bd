"""Every domain action in crm.services, and each way it refuses (one test per DomainError code)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from crm import services
from crm.models import Invoice, Job, LoyaltyTransaction, Message
from crm.services import DomainError

pytestmark = pytest.mark.django_db


def refuses(code: str, action, **kwargs) -> DomainError:
    with pytest.raises(DomainError) as caught:
        action(**kwargs)
    assert caught.value.code == code
    assert str(caught.value)  # a message for a person
    return caught.value


# --- jobs -----------------------------------------------------------------------------------------


def test_schedule_job_uses_the_customer_address_by_default(customer, tomorrow_window):
    start, end = tomorrow_window()
    job = services.schedule_job(customer=customer, service_type="  Carpet cleaning ", start=start, end=end)
    assert (job.service_type, job.status, job.address) == ("Carpet cleaning", "scheduled", "12 Elm Street")
    assert (job.scheduled_start, job.scheduled_end) == (start, end)


def test_schedule_job_refusals(customer, tomorrow_window):
    start, end = tomorrow_window()
    ok = {"customer": customer, "service_type": "Rug", "start": start, "end": end}
    refuses("missing_service", services.schedule_job, **{**ok, "service_type": "  "})
    refuses("missing_time", services.schedule_job, **{**ok, "start": None})
    refuses("naive_time", services.schedule_job, **{**ok, "end": timezone.make_naive(end)})
    refuses("end_before_start", services.schedule_job, **{**ok, "end": start})
    assert not Job.objects.exists()


def test_reschedule_job(job, tomorrow_window):
    start, end = tomorrow_window(days=3, hours=1)
    services.reschedule_job(job=job, start=start, end=end)
    job.refresh_from_db()
    assert (job.scheduled_start, job.scheduled_end) == (start, end)
    refuses("unchanged", services.reschedule_job, job=job, start=start, end=end)
    refuses("end_before_start", services.reschedule_job, job=job, start=end, end=start)


def test_a_finished_job_cannot_be_rescheduled_or_moved(job, tomorrow_window):
    services.cancel_job(job=job)
    start, end = tomorrow_window(days=5)
    refuses("job_finished", services.reschedule_job, job=job, start=start, end=end)
    refuses("job_finished", services.change_job_status, job=job, status=Job.Status.CONFIRMED)
    refuses("job_finished", services.complete_job, job=job)


def test_change_job_status_walks_the_job_along(job):
    for status in (Job.Status.CONFIRMED, Job.Status.EN_ROUTE, Job.Status.IN_PROGRESS):
        assert services.change_job_status(job=job, status=status).status == status
    refuses("unchanged", services.change_job_status, job=job, status=Job.Status.IN_PROGRESS)
    refuses("unknown_status", services.change_job_status, job=job, status="teleported")


def test_a_job_never_goes_back_a_step(job):
    services.change_job_status(job=job, status=Job.Status.EN_ROUTE)
    for earlier in (Job.Status.SCHEDULED, Job.Status.CONFIRMED):
        error = refuses("backwards", services.change_job_status, job=job, status=earlier)
        assert str(error) == f"A job that is en route cannot go back to {earlier.label.lower()}."
    job.refresh_from_db()
    assert job.status == Job.Status.EN_ROUTE


def test_steps_may_be_skipped_and_an_open_job_cancelled_from_any_status(make_job):
    started = services.change_job_status(job=make_job(), status=Job.Status.IN_PROGRESS)
    assert services.cancel_job(job=started).status == Job.Status.CANCELLED
    assert services.change_job_status(job=make_job(days=2), status=Job.Status.COMPLETED).status == "completed"


def test_completed_and_cancelled_are_final(make_job):
    done = services.complete_job(job=make_job())
    cancelled = services.cancel_job(job=make_job(days=2))
    for job in (done, cancelled):
        for status in Job.Status.values:
            refuses("job_finished", services.change_job_status, job=job, status=status)


def test_completing_awards_the_configured_points_once(job, customer, settings):
    settings.LOYALTY_POINTS_PER_COMPLETED_JOB = 40
    services.change_job_status(job=job, status=Job.Status.COMPLETED)  # routed through complete_job
    job.refresh_from_db()
    assert job.status == Job.Status.COMPLETED
    earned = LoyaltyTransaction.objects.get(customer=customer)
    assert (earned.kind, earned.points, earned.job) == ("earned", 40, job)
    refuses("job_finished", services.complete_job, job=job)
    assert customer.points_balance == 40


def test_completing_without_points(make_job, customer, settings):
    services.complete_job(job=make_job(), award_points=False)
    settings.LOYALTY_POINTS_PER_COMPLETED_JOB = 0
    services.complete_job(job=make_job(days=2))
    assert Job.objects.filter(status="completed").count() == 2
    assert not LoyaltyTransaction.objects.exists()


def test_cancel_job(job):
    assert services.cancel_job(job=job).status == Job.Status.CANCELLED
    refuses("job_finished", services.cancel_job, job=job)


def test_completing_a_job_that_already_earned_awards_nothing_more(job, customer, settings):
    """Points earned for a job outside the services (an old row) do not make completing fail."""
    settings.LOYALTY_POINTS_PER_COMPLETED_JOB = 50
    LoyaltyTransaction.objects.create(customer=customer, job=job, kind="earned", points=30)
    assert services.complete_job(job=job).status == Job.Status.COMPLETED
    assert customer.points_balance == 30


def test_update_job_details(job):
    updated = services.update_job(
        job=job, service_type=" Rug cleaning ", technician="Kim", internal_notes="x"
    )
    assert (updated.service_type, updated.technician, updated.internal_notes) == ("Rug cleaning", "Kim", "x")
    job.refresh_from_db()
    assert job.technician == "Kim"


def test_update_job_refusals(job, make_customer):
    refuses("unknown_field", services.update_job, job=job, customer=make_customer("Bob Example"))
    refuses("unknown_field", services.update_job, job=job, status="completed")
    refuses("missing_service", services.update_job, job=job, service_type=" ")
    refuses("too_long", services.update_job, job=job, service_type="x" * 121)
    refuses("too_long", services.update_job, job=job, technician="x" * 121)
    job.refresh_from_db()
    assert (job.service_type, job.technician) == ("Carpet cleaning", "")


def test_schedule_job_refuses_over_long_text(customer, tomorrow_window):
    start, end = tomorrow_window()
    ok = {"customer": customer, "service_type": "Rug", "start": start, "end": end}
    refuses("too_long", services.schedule_job, **{**ok, "service_type": "x" * 121})
    refuses("too_long", services.schedule_job, **{**ok, "technician": "x" * 121})
    assert services.schedule_job(**{**ok, "service_type": "x" * 120}).service_type == "x" * 120
    assert Job.objects.count() == 1


# --- invoices -------------------------------------------------------------------------------------


def test_create_invoice_numbers_drafts_in_sequence(customer, job):
    first = services.create_invoice(customer=customer, total="99.999", job=job)
    second = services.create_invoice(customer=customer, total=Decimal("10"))
    year = timezone.localdate().year
    assert (first.number, second.number) == (f"INV-{year}-00001", f"INV-{year}-00002")
    assert (first.status, first.total, first.job) == ("draft", Decimal("100.00"), job)
    assert services.create_invoice(customer=customer, total=0, number=" Q-7 ").number == "Q-7"


def test_create_invoice_refusals(customer, make_customer, make_job):
    bobs_job = make_job(customer=make_customer("Bob Example"))
    refuses("wrong_customer", services.create_invoice, customer=customer, total=1, job=bobs_job)
    services.create_invoice(customer=customer, total=1, number="Q-1")
    refuses("duplicate_number", services.create_invoice, customer=customer, total=1, number="Q-1")
    refuses("bad_amount", services.create_invoice, customer=customer, total="lots")
    refuses("negative_total", services.create_invoice, customer=customer, total="-0.01")
    refuses("too_long", services.create_invoice, customer=customer, total=1, number="Q" * 33)
    assert Invoice.objects.count() == 1


@pytest.mark.parametrize(
    ("total", "code"),
    [
        ("NaN", "bad_amount"),
        ("-Infinity", "bad_amount"),
        (True, "bad_amount"),
        (None, "bad_amount"),
        ("1e30", "total_too_large"),
        (Decimal("100000000"), "total_too_large"),
        ("99999999.995", "total_too_large"),  # rounds up past the column
    ],
)
def test_invoice_totals_the_column_cannot_hold_are_refused(customer, total, code):
    refuses(code, services.create_invoice, customer=customer, total=total)
    assert not Invoice.objects.exists()


def test_the_largest_total_and_zero(customer):
    assert services.create_invoice(customer=customer, total="99999999.99").total == Decimal("99999999.99")
    assert str(services.create_invoice(customer=customer, total="-0").total) == "0.00"


def test_invoice_numbers_count_on_past_99999_and_ignore_hand_typed_ones(customer):
    year = timezone.localdate().year
    services.create_invoice(customer=customer, total=1, number=f"INV-{year}-99999")
    services.create_invoice(customer=customer, total=1, number=f"INV-{year}-ZZZ")
    assert services.create_invoice(customer=customer, total=1).number == f"INV-{year}-100000"
    assert services.create_invoice(customer=customer, total=1).number == f"INV-{year}-100001"


def test_a_number_taken_in_the_meantime_is_skipped(customer, monkeypatch):
    """What a concurrent writer does to a number: taken between choosing it and inserting."""
    from crm.services import invoices

    year = timezone.localdate().year
    taken = services.create_invoice(customer=customer, total=1).number
    choices = iter([taken])  # the first choice is stale, as if another transaction just took it
    real = invoices._next_invoice_number
    monkeypatch.setattr(invoices, "_next_invoice_number", lambda: next(choices, None) or real())
    assert services.create_invoice(customer=customer, total=2).number == f"INV-{year}-00002"
    monkeypatch.setattr(invoices, "_next_invoice_number", lambda: taken)
    refuses("number_busy", services.create_invoice, customer=customer, total=3)
    assert Invoice.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_concurrent_invoices_get_different_numbers(require_postgres, make_customer):
    """Two transactions pick the same next number; the second insert waits for the first to
    commit, is refused by the unique index and takes the following number."""
    import threading

    from django.db import close_old_connections, connection, transaction

    alice, bob = make_customer("Alice Example"), make_customer("Bob Example")
    first_inserted, results = threading.Event(), {}

    def first() -> None:
        try:
            with transaction.atomic():
                results["first"] = services.create_invoice(customer=alice, total=1).number
                first_inserted.set()
                wait_until_blocked_on_a_lock()
        except AssertionError as error:
            results["error"] = error
        finally:
            first_inserted.set()
            close_old_connections()

    def wait_until_blocked_on_a_lock() -> None:
        with connection.cursor() as cursor:
            for _ in range(500):
                cursor.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock'"
                )
                if cursor.fetchone()[0]:
                    return
                threading.Event().wait(0.01)
        raise AssertionError("the second writer never waited for the first")

    thread = threading.Thread(target=first)
    thread.start()
    first_inserted.wait(10)
    results["second"] = services.create_invoice(customer=bob, total=2).number
    thread.join(10)
    assert "error" not in results, results["error"]
    year = timezone.localdate().year
    assert sorted(results.values()) == [f"INV-{year}-00001", f"INV-{year}-00002"]


def test_update_invoice(make_invoice, job):
    draft = make_invoice(total="10.00")
    updated = services.update_invoice(invoice=draft, total="12.5", number=" Q-1 ", job=job)
    assert (updated.total, updated.number, updated.job) == (Decimal("12.50"), "Q-1", job)
    sent = services.send_invoice(invoice=updated)
    due = timezone.localdate() + dt.timedelta(days=30)
    assert services.update_invoice(invoice=sent, total="11", due_date=due, job=None).due_date == due


def test_update_invoice_refusals(make_invoice, make_customer, make_job, past_due):
    bobs_job = make_job(customer=make_customer("Bob Example"))
    draft, paid, void = make_invoice(), make_invoice("paid"), make_invoice("void")
    refuses("unknown_field", services.update_invoice, invoice=draft, customer=bobs_job.customer)
    refuses("unknown_field", services.update_invoice, invoice=draft, status="paid")
    refuses("wrong_customer", services.update_invoice, invoice=draft, job=bobs_job)
    refuses("bad_amount", services.update_invoice, invoice=draft, total="NaN")
    refuses("duplicate_number", services.update_invoice, invoice=draft, number=paid.number)
    refuses("missing_number", services.update_invoice, invoice=draft, number=" ")
    refuses("too_long", services.update_invoice, invoice=draft, number="Q" * 33)
    refuses("not_draft", services.update_invoice, invoice=paid, number="Q-2")
    refuses("due_in_past", services.update_invoice, invoice=draft, due_date=dt.date(2000, 1, 1))
    for closed in (paid, void):
        refuses("invoice_closed", services.update_invoice, invoice=closed, total="1")
        refuses("invoice_closed", services.update_invoice, invoice=closed, due_date=timezone.localdate())
    overdue = services.mark_invoice_overdue(invoice=past_due)
    refuses("invoice_closed", services.update_invoice, invoice=overdue, due_date=timezone.localdate())
    # Unchanged values are not changes: a paid invoice's form saved as it is goes through.
    assert services.update_invoice(invoice=paid, total=paid.total, number=paid.number) == paid


def test_send_invoice(make_invoice):
    invoice = services.send_invoice(invoice=make_invoice())
    assert invoice.status == "sent"
    assert invoice.sent_at is not None
    assert invoice.due_date == timezone.localdate() + dt.timedelta(days=14)
    refuses("not_draft", services.send_invoice, invoice=invoice)
    due = timezone.localdate() + dt.timedelta(days=3)
    assert services.send_invoice(invoice=make_invoice(), due_date=due).due_date == due


def test_send_invoice_refuses_a_past_due_date(make_invoice):
    draft = make_invoice()
    refuses(
        "due_in_past",
        services.send_invoice,
        invoice=draft,
        due_date=timezone.localdate() - dt.timedelta(days=1),
    )
    draft.refresh_from_db()
    assert draft.status == "draft"


def test_mark_invoice_paid(make_invoice):
    sent = make_invoice("sent")
    paid_at = sent.sent_at + dt.timedelta(microseconds=1)
    invoice = services.mark_invoice_paid(invoice=sent, paid_at=paid_at)
    assert (invoice.status, invoice.paid_at) == ("paid", paid_at)
    assert services.mark_invoice_paid(invoice=make_invoice("overdue")).status == "paid"
    for status in ("draft", "paid", "void"):
        refuses("not_payable", services.mark_invoice_paid, invoice=make_invoice(status))


def test_mark_invoice_overdue(make_invoice, past_due):
    assert services.mark_invoice_overdue(invoice=past_due).status == "overdue"
    refuses("not_sent", services.mark_invoice_overdue, invoice=past_due)
    refuses("not_sent", services.mark_invoice_overdue, invoice=make_invoice("draft"))
    refuses("not_due", services.mark_invoice_overdue, invoice=make_invoice("sent"))


def test_payment_time_must_be_aware_past_and_after_sending(make_invoice):
    sent = make_invoice("sent")
    now = timezone.now()
    refuses("naive_time", services.mark_invoice_paid, invoice=sent, paid_at=timezone.make_naive(now))
    refuses("in_future", services.mark_invoice_paid, invoice=sent, paid_at=now + dt.timedelta(minutes=5))
    refuses(
        "paid_before_sent",
        services.mark_invoice_paid,
        invoice=sent,
        paid_at=sent.sent_at - dt.timedelta(days=1),
    )
    refuses("bad_time", services.mark_invoice_paid, invoice=sent, paid_at=timezone.localdate())
    sent.refresh_from_db()
    assert sent.status == "sent"


def test_mark_overdue_invoices_moves_only_sent_invoices_past_due(make_invoice, past_due):
    current = make_invoice("sent")
    draft = make_invoice()
    assert services.mark_overdue_invoices() == 1
    assert [
        i.status for i in Invoice.objects.filter(pk__in=[past_due.pk, current.pk, draft.pk]).order_by("pk")
    ] == [
        "overdue",
        "sent",
        "draft",
    ]
    assert services.mark_overdue_invoices() == 0
    assert services.mark_overdue_invoices(today=current.due_date + dt.timedelta(days=1)) == 1


def test_void_invoice(make_invoice):
    for status in ("draft", "sent", "overdue"):
        assert services.void_invoice(invoice=make_invoice(status)).status == "void"
    for status in ("paid", "void"):
        refuses("not_voidable", services.void_invoice, invoice=make_invoice(status))


# --- messages -------------------------------------------------------------------------------------


def test_post_message(customer, staff):
    message = services.post_message(customer=customer, body="  Hello Alice  ", author=staff)
    assert (message.body, message.author, message.direction) == ("Hello Alice", staff, "to_customer")
    reply = services.post_message(
        customer=customer, body="Thanks", author=customer.portal_user, direction=Message.Direction.TO_STAFF
    )
    assert reply.direction == "to_staff"


def test_post_message_refusals(customer, staff):
    refuses("empty_message", services.post_message, customer=customer, body=" \n ", author=staff)
    refuses("empty_message", services.post_message, customer=customer, body=None, author=staff)
    too_long = "x" * (services.MAX_MESSAGE_LENGTH + 1)
    refuses("too_long", services.post_message, customer=customer, body=too_long, author=staff)
    refuses(
        "bad_direction",
        services.post_message,
        customer=customer,
        body="hi",
        author=staff,
        direction="sideways",
    )
    assert not Message.objects.exists()
    services.post_message(customer=customer, body="x" * services.MAX_MESSAGE_LENGTH, author=staff)


def test_mark_message_read_keeps_the_first_time(customer, staff):
    message = services.post_message(customer=customer, body="Hi", author=staff)
    first = timezone.now() - dt.timedelta(minutes=5)
    assert services.mark_message_read(message=message, at=first).read_at == first
    assert services.mark_message_read(message=message).read_at == first


def test_reading_time_must_be_aware_and_past(customer, staff):
    message = services.post_message(customer=customer, body="Hi", author=staff)
    now = timezone.now()
    refuses("naive_time", services.mark_message_read, message=message, at=timezone.make_naive(now))
    refuses("in_future", services.mark_message_read, message=message, at=now + dt.timedelta(hours=1))
    message.refresh_from_db()
    assert message.read_at is None


def test_delete_message_is_soft(customer, staff):
    message = services.post_message(customer=customer, body="Hi", author=staff)
    deleted = services.delete_message(message=message)
    assert deleted.deleted_at is not None
    assert Message.objects.filter(pk=message.pk).exists()
    refuses("deleted", services.delete_message, message=message)
    refuses("deleted", services.mark_message_read, message=message)


# --- loyalty --------------------------------------------------------------------------------------


def test_award_points(customer, job, make_invoice):
    services.complete_job(job=job, award_points=False)
    invoice = make_invoice()
    earned = services.award_points(
        customer=customer, points="30", description="Visit", job=job, invoice=invoice
    )
    bonus = services.award_points(customer=customer, points=20, bonus=True)
    assert (earned.kind, earned.points, bonus.kind, bonus.points) == ("earned", 30, "bonus", 20)
    assert (earned.job, earned.invoice) == (job, invoice)
    assert services.points_balance(customer) == customer.points_balance == 50


def test_a_bonus_may_mention_an_open_job(customer, job):
    assert services.award_points(customer=customer, points=5, bonus=True, job=job).job == job


def test_award_points_refusals(customer, job):
    for points in (0, -3, "many", None):
        refuses("bad_points", services.award_points, customer=customer, points=points)
    refuses("job_not_completed", services.award_points, customer=customer, points=10, job=job)
    services.complete_job(job=job, award_points=False)
    services.award_points(customer=customer, points=10, job=job)
    refuses("already_awarded", services.award_points, customer=customer, points=10, job=job)
    refuses("too_long", services.award_points, customer=customer, points=1, description="x" * 201)
    assert customer.points_balance == 10


def test_earning_for_a_cancelled_job_is_refused(customer, job):
    services.cancel_job(job=job)
    refuses("job_not_completed", services.award_points, customer=customer, points=10, job=job)


def test_points_for_another_customers_job_or_invoice_are_refused(
    customer, make_customer, make_job, make_invoice
):
    bob = make_customer("Bob Example")
    bobs_job = services.complete_job(job=make_job(customer=bob), award_points=False)
    bobs_invoice = make_invoice(on=bob)
    refuses("wrong_customer", services.award_points, customer=customer, points=5, job=bobs_job)
    refuses("wrong_customer", services.award_points, customer=customer, points=5, bonus=True, job=bobs_job)
    refuses("wrong_customer", services.award_points, customer=customer, points=5, invoice=bobs_invoice)
    assert not LoyaltyTransaction.objects.exists()


@pytest.mark.parametrize("points", [True, 2.7, 3.0, Decimal("3"), "2.5", "", [3], 2**31])
def test_points_must_be_a_whole_number(customer, points):
    services.award_points(customer=customer, points=100, bonus=True)
    for action in (services.award_points, services.redeem_points):
        refuses("bad_points", action, customer=customer, points=points)
    refuses("bad_points", services.adjust_points, customer=customer, points=points, description="Fix")
    assert customer.points_balance == 100


def test_points_may_be_the_text_of_a_whole_number(customer):
    assert services.award_points(customer=customer, points=" 7 ").points == 7
    assert services.adjust_points(customer=customer, points="-2", description="Fix").points == -2


def test_redeem_points(customer):
    services.award_points(customer=customer, points=100, bonus=True)
    redeemed = services.redeem_points(customer=customer, points=100, description="Free rug")
    assert (redeemed.kind, redeemed.points) == ("redeemed", -100)
    error = refuses("insufficient_points", services.redeem_points, customer=customer, points=1)
    assert "0 available" in str(error)
    refuses("bad_points", services.redeem_points, customer=customer, points=0)
    refuses("too_long", services.redeem_points, customer=customer, points=1, description="x" * 201)
    assert customer.points_balance == 0


def test_adjust_points(customer):
    assert services.adjust_points(customer=customer, points="25", description="Goodwill").points == 25
    assert services.adjust_points(customer=customer, points=-25, description="Entered twice").points == -25
    refuses(
        "insufficient_points", services.adjust_points, customer=customer, points=-1, description="Too far"
    )
    refuses("bad_points", services.adjust_points, customer=customer, points=0, description="Nothing")
    refuses("bad_points", services.adjust_points, customer=customer, points="some", description="Nothing")
    refuses("missing_reason", services.adjust_points, customer=customer, points=5, description="  ")
    refuses("too_long", services.adjust_points, customer=customer, points=5, description="x" * 201)
    assert customer.points_balance == 0


# --- customer profile -----------------------------------------------------------------------------


def test_update_contact_details(customer):
    updated = services.update_contact_details(customer=customer, email=" new@example.com ", phone="555")
    assert (updated.email, updated.phone, updated.name) == ("new@example.com", "555", "Alice Example")
    refuses("unknown_field", services.update_contact_details, customer=customer, portal_user=None)
    refuses("missing_name", services.update_contact_details, customer=customer, name=" ")
    refuses("bad_email", services.update_contact_details, customer=customer, email="not-an-address")
    refuses("too_long", services.update_contact_details, customer=customer, phone="5" * 41)
    refuses("too_long", services.update_contact_details, customer=customer, name="x" * 201)
    customer.refresh_from_db()
    assert customer.email == "new@example.com"


def test_update_preferences_merges_known_keys(customer):
    updated = services.update_preferences(
        customer=customer, preferences={"contact_channel": "sms", "notify_invoices": False}
    )
    assert updated.preferences["contact_channel"] == "sms"
    assert updated.preferences["notify_invoices"] is False
    assert updated.preferences["notify_messages"] is True
    for bad in ([], {"contact_channel": "pigeon"}, {"notify_loyalty": "yes"}, {"favourite_colour": "red"}):
        refuses("bad_preferences", services.update_preferences, customer=customer, preferences=bad)
    customer.refresh_from_db()
    assert customer.preferences == updated.preferences
