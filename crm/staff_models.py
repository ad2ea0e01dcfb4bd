"""What customers ask of staff: appointment requests, and the staff inbox with its stream.

`crm.models` imports these (its module is near its size limit). Rules live in
`crm.services.requests` and `crm.services.inbox`; these hold fields and constraints only.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.dateparse import parse_datetime

from crm.models import Customer, Job, LoyaltyTransaction, Message
from realtime.models import TransactionalSave


class AppointmentRequest(TransactionalSave):
    """A customer asking to move or cancel an upcoming appointment; synced (topic `requests`)."""

    class Kind(models.TextChoices):
        RESCHEDULE = "reschedule", "Move"
        CANCEL = "cancel", "Cancel"

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for an answer"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"

    MAX_PREFERRED_TIMES = 3

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="appointment_requests")
    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="requests")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    # ISO 8601 start times the customer would prefer, earliest first (reschedules only).
    preferred_times = models.JSONField(default=list, blank=True)
    note = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    reply = models.TextField(blank=True, help_text="Shown to the customer.")
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # One open request per appointment: a second ask waits for the first answer.
            models.UniqueConstraint(
                fields=["job"], condition=Q(status="pending"), name="one_pending_request_per_job"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} request for {self.job}"

    @property
    def preferred_moments(self) -> list[dt.datetime]:
        """The preferred times as datetimes, for templates to format."""
        return [moment for raw in self.preferred_times if (moment := parse_datetime(raw)) is not None]


class InboxItem(models.Model):
    """Something a customer did that staff should look at, until someone marks it handled."""

    class Kind(models.TextChoices):
        MESSAGE = "message", "Message"
        REQUEST = "request", "Appointment request"
        REDEMPTION = "redemption", "Redemption"
        CONTACT = "contact", "Contact details"

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="inbox_items")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    summary = models.CharField(max_length=300)  # "Alice Example changed their phone number"
    text = models.TextField(blank=True)  # the message, the request's note
    # The record the customer changed, for the admin's "changed — reload" notices.
    record_model = models.CharField(max_length=60)  # "crm.customer"
    record_id = models.BigIntegerField()
    message = models.ForeignKey(Message, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    request = models.ForeignKey(
        AppointmentRequest, null=True, blank=True, on_delete=models.CASCADE, related_name="inbox_items"
    )
    loyalty = models.ForeignKey(
        LoyaltyTransaction, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    handled_at = models.DateTimeField(null=True, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["handled_at", "-created_at"])]

    def __str__(self) -> str:
        return self.summary


class StaffSequence(models.Model):
    """The staff stream's counter: one row, locked by each writer until commit, so staff seqs
    increase in commit order with no gaps (as `realtime.CustomerSequence` does per customer)."""

    last = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"staff seq {self.last}"


class StaffEvent(models.Model):
    """One numbered change of the staff stream (docs/protocol.md, "The staff stream")."""

    seq = models.BigIntegerField(unique=True)
    event = models.CharField(max_length=40)
    object_id = models.BigIntegerField()  # the inbox item's id (no foreign key: the log outlives it)
    op = models.CharField(max_length=8)
    old = models.JSONField(null=True)
    new = models.JSONField(null=True)
    changed = models.JSONField(default=list)
    at = models.DateTimeField()

    class Meta:
        ordering = ["seq"]

    def __str__(self) -> str:
        return f"{self.seq} {self.event}"
