"""Demo data: a staff login and two customers with a history that looks current.

Everything is created through `crm.services`, so the realtime outbox records it like any other
change. Services stamp "now"; to make a history, a few timestamps are then moved into the past
through the realtime bulk path, which records those updates too.

Running it again repairs the documented logins (a `staff` user that lost its group, its staff
flag or its password; alice and bob with another password) and creates what is missing, but
changes no row that is already as documented. It is for demo databases: on a real one, it would
reset the passwords of users named staff, alice and bob.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import models, transaction
from django.utils import timezone

from crm import services
from crm.models import Customer, Invoice, Job, Message, User
from crm.roles import STAFF_GROUP
from realtime.bulk import sync_update

STAFF_LOGIN, STAFF_PASSWORD = "staff", "staff-demo"
# How long before its visit a demo job was booked.
BOOKED_AHEAD = dt.timedelta(days=10)


@dataclass(frozen=True)
class DemoCustomer:
    name: str
    login: str
    password: str
    phone: str
    address: str
    main_service: str
    extra_service: str
    technician: str
    bonus_reason: str
    day_shift: int  # so the two histories do not fall on the same days


DEMO_CUSTOMERS = (
    DemoCustomer(
        name="Alice Example",
        login="alice",
        password="alice-demo",  # noqa: S106 (a documented demo login)
        phone="+1 555 0100",
        address="12 Elm Street, Springfield",
        main_service="Carpet cleaning",
        extra_service="Upholstery cleaning",
        technician="Dana Rivers",
        bonus_reason="Welcome bonus",
        day_shift=0,
    ),
    DemoCustomer(
        name="Bob Example",
        login="bob",
        password="bob-demo",  # noqa: S106 (a documented demo login)
        phone="+1 555 0101",
        address="48 Oak Avenue, Springfield",
        main_service="Rug cleaning",
        extra_service="Stain protection",
        technician="Lee Park",
        bonus_reason="Referral bonus",
        day_shift=3,
    ),
)


def backdate(obj: models.Model, **values: Any) -> None:
    sync_update(type(obj)._default_manager.filter(pk=obj.pk), **values)
    obj.refresh_from_db()


class Command(BaseCommand):
    help = "Create the demo staff user and customers Alice and Bob with their history (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        done: list[str] = []
        with transaction.atomic():
            staff = self.staff_login(done)
            for spec in DEMO_CUSTOMERS:
                if Customer.objects.filter(portal_user__username=spec.login).exists():
                    if self.repair_password(User.objects.get(username=spec.login), spec.password):
                        done.append(f"Repaired portal login {spec.login} / {spec.password}")
                    continue
                self.create_customer(spec, staff)
                done.append(f"Created customer {spec.name}, portal login {spec.login} / {spec.password}")
        if not done:
            self.stdout.write("Demo data already exists; nothing changed.")
            return
        for line in done:
            self.stdout.write(self.style.SUCCESS(line))

    def staff_login(self, done: list[str]) -> User:
        """The documented staff login: in the Staff group, staff, active, not a superuser."""
        try:
            group = Group.objects.get(name=STAFF_GROUP)
        except Group.DoesNotExist:
            raise CommandError(
                f"The {STAFF_GROUP!r} group is missing; run `manage.py migrate` first."
            ) from None
        staff = User.objects.filter(username=STAFF_LOGIN).first()
        if staff is None:
            staff = User.objects.create_user(
                username=STAFF_LOGIN,
                password=STAFF_PASSWORD,
                first_name="Sam",
                last_name="Staff",
                email="staff@example.com",
                is_staff=True,
            )
            staff.groups.add(group)
            done.append(f"Created staff user {STAFF_LOGIN} / {STAFF_PASSWORD} (admin at /admin/)")
            return staff
        flags = {"is_staff": True, "is_active": True, "is_superuser": False}
        wrong = [name for name, value in flags.items() if getattr(staff, name) != value]
        for name in wrong:
            setattr(staff, name, flags[name])
        if wrong:
            staff.save(update_fields=wrong)
        in_group = staff.groups.filter(pk=group.pk).exists()
        if not in_group:
            staff.groups.add(group)
        if self.repair_password(staff, STAFF_PASSWORD) or wrong or not in_group:
            done.append(f"Repaired staff user {STAFF_LOGIN} / {STAFF_PASSWORD} (admin at /admin/)")
        return staff

    @staticmethod
    def repair_password(user: User, password: str) -> bool:
        """Give `user` the documented password unless it has it (a new hash would change the row)."""
        if user.check_password(password):
            return False
        user.set_password(password)
        user.save(update_fields=["password"])
        return True

    def create_customer(self, spec: DemoCustomer, staff: User) -> Customer:
        first_name = spec.name.split()[0]
        email = f"{spec.login}@example.com"
        user = User.objects.filter(username=spec.login).first()
        if user is None:
            user = User.objects.create_user(
                username=spec.login,
                password=spec.password,
                first_name=first_name,
                last_name="Example",
                email=email,
            )
        else:
            self.repair_password(user, spec.password)
        customer = Customer.objects.create(
            name=spec.name, email=email, phone=spec.phone, address=spec.address, portal_user=user
        )
        now = timezone.now()
        # Jobs on whole hours in local time, the way an office books them.
        morning = timezone.localtime(now).replace(hour=9, minute=0, second=0, microsecond=0)

        def day(offset: int, hours: int = 0) -> dt.datetime:
            shift = spec.day_shift if offset < -4 else 0  # keep the recent days and the future alike
            return morning + dt.timedelta(days=offset - shift, hours=hours)

        # A customer since before their first booking.
        backdate(customer, created_at=day(-90), updated_at=day(-90))

        def job(offset: int, service: str, hours: int = 2, notes: str = "") -> Job:
            booked = services.schedule_job(
                customer=customer,
                service_type=service,
                start=day(offset),
                end=day(offset, hours),
                technician=spec.technician,
                customer_notes=notes,
                internal_notes="Gate code 4512; dog is friendly.",
            )
            if booked.scheduled_start < now:  # booked ahead, like a real visit (but not in the future)
                when = min(booked.scheduled_start - BOOKED_AHEAD, now)
                backdate(booked, created_at=when, updated_at=when)
            return booked

        def complete(done: Job) -> None:
            services.complete_job(job=done)
            earned = done.customer.loyalty_transactions.filter(job=done).first()
            if earned is not None:  # none when LOYALTY_POINTS_PER_COMPLETED_JOB is 0
                backdate(earned, created_at=done.scheduled_end)

        def invoice(for_job: Job, total: str, *, sent: int | None = None, due: int = 14) -> Invoice:
            draft = services.create_invoice(customer=customer, job=for_job, total=Decimal(total))
            if sent is None:
                return draft
            # Sent "today" by the service, then moved back to when it was really sent.
            services.send_invoice(invoice=draft)
            backdate(draft, created_at=day(sent), sent_at=day(sent), due_date=day(sent + due).date())
            return draft

        def message(offset: int, body: str, *, from_customer: bool = False, read: bool = True) -> None:
            posted = services.post_message(
                customer=customer,
                body=body,
                author=user if from_customer else staff,
                direction=Message.Direction.TO_STAFF if from_customer else Message.Direction.TO_CUSTOMER,
            )
            # Never in the future: "today, 10:00" may not have come yet.
            backdate(posted, created_at=min(day(offset, 1), now - dt.timedelta(hours=2)))
            if read:
                services.mark_message_read(message=posted, at=min(day(offset, 3), now))

        bonus = services.award_points(
            customer=customer, points=100, bonus=True, description=spec.bonus_reason
        )
        backdate(bonus, created_at=day(-80))
        message(-80, f"Welcome, {first_name}! Your first {spec.main_service.lower()} is booked.")

        first = job(-75, spec.main_service, notes="Please move small furniture before we arrive.")
        complete(first)
        services.mark_invoice_paid(invoice=invoice(first, "189.00", sent=-75), paid_at=day(-70))

        message(-42, "Could the technician come a little earlier next time?", from_customer=True)
        message(-41, "Of course. We have noted a morning slot for you.")
        second = job(-40, spec.extra_service, hours=3, notes="We will need a water tap near the door.")
        complete(second)
        services.mark_invoice_overdue(invoice=invoice(second, "245.50", sent=-39, due=14))

        cancelled = job(-30, spec.main_service)
        services.cancel_job(job=cancelled)

        third = job(-20, spec.main_service, notes="Parking is free in the driveway.")
        complete(third)
        services.mark_invoice_paid(invoice=invoice(third, "159.00", sent=-20), paid_at=day(-15))
        redeemed = services.redeem_points(customer=customer, points=80, description="Free spot treatment")
        backdate(redeemed, created_at=day(-19))

        fourth = job(-4, spec.extra_service)
        complete(fourth)
        invoice(fourth, "210.00", sent=-3)
        message(-3, "Your invoice is ready; it is due in two weeks.", read=False)

        upcoming = job(2, spec.main_service, notes="Please move small furniture before we arrive.")
        services.change_job_status(job=upcoming, status=Job.Status.CONFIRMED)
        invoice(upcoming, "320.00")  # a draft quote: staff only until it is sent
        job(9, spec.extra_service, notes="Allow a few hours for everything to dry.")
        message(
            -1,
            f"Can you add the stairs to the {spec.main_service.lower()} visit?",
            from_customer=True,
            read=False,
        )
        message(0, "Your next appointment is confirmed. See you soon!", read=False)
        return customer
