"""What a customer may see of each record: the one definition for the API and the socket.

Internal notes, draft invoices' existence, staff identities and bookkeeping timestamps are
left out on purpose; `tests/security` checks every recorded frame against these field lists.
"""

from __future__ import annotations

from rest_framework import serializers

from crm.models import AppointmentRequest, Customer, Invoice, Job, LoyaltyTransaction, Message


class JobSerializer(serializers.ModelSerializer[Job]):
    class Meta:
        model = Job
        fields = [
            "id",
            "service_type",
            "scheduled_start",
            "scheduled_end",
            "technician",
            "address",
            "status",
            "customer_notes",
        ]


class InvoiceSerializer(serializers.ModelSerializer[Invoice]):
    class Meta:
        model = Invoice
        fields = ["id", "number", "job", "total", "status", "sent_at", "due_date", "paid_at"]


class MessageSerializer(serializers.ModelSerializer[Message]):
    class Meta:
        model = Message
        fields = ["id", "direction", "body", "created_at", "read_at"]


class LoyaltyTransactionSerializer(serializers.ModelSerializer[LoyaltyTransaction]):
    class Meta:
        model = LoyaltyTransaction
        fields = ["id", "points", "kind", "description", "job", "invoice", "created_at"]


class ProfileSerializer(serializers.ModelSerializer[Customer]):
    class Meta:
        model = Customer
        # updates_seen_seq: opening the feed in one tab clears the bell in the others (a profile change).
        fields = ["id", "name", "email", "phone", "address", "preferences", "updates_seen_seq"]


class AppointmentRequestSerializer(serializers.ModelSerializer[AppointmentRequest]):
    # Who decided stays staff-only; the customer sees the answer and when.
    class Meta:
        model = AppointmentRequest
        fields = [
            "id",
            "job",
            "kind",
            "preferred_times",
            "note",
            "status",
            "reply",
            "created_at",
            "decided_at",
        ]
