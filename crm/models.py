"""The CRM domain: customers and what the business does for them.

Rules that change data live in `crm.services`; models hold fields, constraints and read-only
helpers only, so the admin, the API and the commands cannot bypass a rule.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import IntegerField, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce
from django.urls import reverse

from realtime.models import TransactionalSave


class User(AbstractUser):
    """Staff and portal customers alike; a customer's login is `Customer.portal_user`."""

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"


def default_preferences() -> dict[str, str | bool]:
    return {
        "contact_channel": "email",
        "notify_appointments": True,
        "notify_invoices": True,
        "notify_messages": True,
        "notify_loyalty": True,
        "email_digests": True,
    }


class Customer(TransactionalSave):
    class ContactChannel(models.TextChoices):
        EMAIL = "email", "Email"
        PHONE = "phone", "Phone"
        SMS = "sms", "Text message"

    name = models.CharField(max_length=200)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    address = models.TextField(blank=True)
    preferences = models.JSONField(default=default_preferences, blank=True)
    portal_user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="customer",
    )
    # The newest change the customer has seen in the updates feed (the header bell counts past it).
    updates_seen_seq = models.BigIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["email"])]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("admin:crm_customer_change", args=[self.pk])

    @property
    def points_balance(self) -> int:
        return self.loyalty_transactions.balance()


class Job(TransactionalSave):
    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        CONFIRMED = "confirmed", "Confirmed"
        EN_ROUTE = "en_route", "En route"
        IN_PROGRESS = "in_progress", "In progress"
        COMPLETED = "completed", "Completed"
        CANCELLED = "cancelled", "Cancelled"

    FINISHED = (Status.COMPLETED, Status.CANCELLED)

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="jobs")
    service_type = models.CharField(max_length=120)
    scheduled_start = models.DateTimeField()
    scheduled_end = models.DateTimeField()
    technician = models.CharField(max_length=120, blank=True)
    address = models.TextField(blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.SCHEDULED)
    customer_notes = models.TextField("notes for the customer", blank=True)
    internal_notes = models.TextField(blank=True, help_text="Staff only; never shown to customers.")
    # The revision of the job's calendar event (iCalendar SEQUENCE): `crm.services` raise it with
    # every change a calendar shows, so calendar apps replace the event they hold.
    calendar_sequence = models.PositiveIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["scheduled_start", "id"]
        indexes = [
            models.Index(fields=["customer", "scheduled_start"]),
            models.Index(fields=["status", "scheduled_start"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(scheduled_end__gt=models.F("scheduled_start")),
                name="job_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.service_type} for {self.customer} on {self.scheduled_start:%Y-%m-%d %H:%M}"


# Choices that constraints name live at module level: a model's `class Meta` body cannot see the
# model's own nested classes. The models expose them as `Invoice.Status` and `LoyaltyTransaction.Kind`.
class InvoiceStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SENT = "sent", "Sent"
    PAID = "paid", "Paid"
    OVERDUE = "overdue", "Overdue"
    VOID = "void", "Void"


class LoyaltyKind(models.TextChoices):
    EARNED = "earned", "Earned"
    REDEEMED = "redeemed", "Redeemed"
    BONUS = "bonus", "Bonus"
    ADJUSTMENT = "adjustment", "Adjustment"


class Invoice(TransactionalSave):
    Status = InvoiceStatus

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="invoices")
    job = models.ForeignKey(Job, on_delete=models.SET_NULL, null=True, blank=True, related_name="invoices")
    number = models.CharField(max_length=32, unique=True)
    total = models.DecimalField(max_digits=10, decimal_places=2, validators=[MinValueValidator(Decimal("0"))])
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    sent_at = models.DateTimeField(null=True, blank=True)
    due_date = models.DateField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["customer", "status"]),
            models.Index(fields=["status", "due_date"]),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(total__gte=0), name="invoice_total_not_negative"),
            models.CheckConstraint(
                condition=~Q(status=InvoiceStatus.PAID) | Q(paid_at__isnull=False),
                name="invoice_paid_has_paid_at",
            ),
        ]

    def __str__(self) -> str:
        return f"Invoice {self.number}"


class Message(TransactionalSave):
    class Direction(models.TextChoices):
        TO_CUSTOMER = "to_customer", "Staff to customer"
        TO_STAFF = "to_staff", "Customer to staff"

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    direction = models.CharField(max_length=12, choices=Direction.choices)
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    # The portal's key for one send: a retry after a lost answer (offline sending) finds this row.
    idempotency_key = models.CharField(max_length=64, blank=True, default="", editable=False)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["customer", "created_at"])]
        constraints = [
            models.CheckConstraint(condition=~Q(body=""), name="message_body_not_empty"),
            models.UniqueConstraint(
                fields=["customer", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="message_idempotency_key_per_customer",
            ),
        ]

    def __str__(self) -> str:
        preview = self.body if len(self.body) <= 40 else self.body[:39] + "…"
        return f"{self.get_direction_display()}: {preview}"


class LoyaltyQuerySet(models.QuerySet["LoyaltyTransaction"]):
    """The points ledger. A balance is the sum of the rows' points, 0 for none: defined here only."""

    def balance(self) -> int:
        total: int = self.aggregate(total=Coalesce(Sum("points"), 0))["total"]
        return total

    def balance_subquery(self, customer: OuterRef) -> Coalesce:
        """The same sum for each row of an outer customer query, as one subquery.

        A subquery rather than a join, so other annotations or filters cannot multiply the sum.
        """
        totals = self.filter(customer=customer).order_by().values("customer").annotate(total=Sum("points"))
        return Coalesce(Subquery(totals.values("total"), output_field=IntegerField()), 0)


class LoyaltyTransaction(TransactionalSave):
    Kind = LoyaltyKind

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="loyalty_transactions")
    points = models.IntegerField(help_text="Positive adds points, negative takes them away.")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    description = models.CharField(max_length=200, blank=True)
    job = models.ForeignKey(Job, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    invoice = models.ForeignKey(Invoice, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = LoyaltyQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["customer", "created_at"])]
        constraints = [
            models.CheckConstraint(condition=~Q(points=0), name="loyalty_points_not_zero"),
            models.CheckConstraint(
                condition=~Q(kind__in=[LoyaltyKind.EARNED, LoyaltyKind.BONUS]) | Q(points__gt=0),
                name="loyalty_earned_positive",
            ),
            models.CheckConstraint(
                condition=~Q(kind=LoyaltyKind.REDEEMED) | Q(points__lt=0),
                name="loyalty_redeemed_negative",
            ),
            # One award per completed job, so completing twice cannot pay twice.
            models.UniqueConstraint(
                fields=["job"],
                condition=Q(kind=LoyaltyKind.EARNED, job__isnull=False),
                name="loyalty_one_award_per_job",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.points:+d} points ({self.get_kind_display()}) for {self.customer}"


class CalendarFeed(models.Model):
    """A customer's private calendar feed: its URL carries `token`, the only credential.

    The token is `key` (looked up) followed by `secret` (compared in constant time), so a lookup
    that takes longer for a near miss tells nothing about the secret. It is kept, not hashed, so
    the profile page can show the address again; a new one (`crm.services`) ends the old one.
    Not synced: nothing of it reaches the realtime frames or the snapshot API.
    """

    KEY_LENGTH = 16

    customer = models.OneToOneField(Customer, on_delete=models.CASCADE, related_name="calendar_feed")
    key = models.CharField(max_length=KEY_LENGTH, unique=True)
    secret = models.CharField(max_length=64)
    issued_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"Calendar feed of {self.customer}"

    @property
    def token(self) -> str:
        return f"{self.key}{self.secret}"

    @classmethod
    def split_token(cls, token: str) -> tuple[str, str] | None:
        """(key, secret) of a token, or None when it cannot be one."""
        if len(token) <= cls.KEY_LENGTH:
            return None
        return token[: cls.KEY_LENGTH], token[cls.KEY_LENGTH :]


# Kept in its own module for size; imported here so that Django finds it as a model of this app.
from crm.digest_cursor import DigestCursor  # noqa: E402, F401

# Models of their own module, loaded with the app's (this module is near its size limit).
from crm.staff_models import AppointmentRequest as AppointmentRequest  # noqa: E402
from crm.staff_models import InboxItem as InboxItem  # noqa: E402
from crm.staff_models import StaffEvent as StaffEvent  # noqa: E402
from crm.staff_models import StaffSequence as StaffSequence  # noqa: E402
