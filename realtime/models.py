"""The transactional outbox: one row per change a customer can see, numbered per customer."""

from __future__ import annotations

from typing import Any, cast

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, router, transaction

from realtime.protocol import ChangeFrame, Op


class TransactionalSave(models.Model):
    """Base for synced models: every `save()` runs in a transaction.

    Outside one (a shell, a script) Django commits the row before `post_save` runs, so the
    outbox event would commit separately, after other connections could already see the row.
    The registry refuses models without this base.
    """

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        from realtime.locking import fused_update  # it imports this module

        using = kwargs.get("using") or router.db_for_write(type(self), instance=self)
        with transaction.atomic(using=using, savepoint=False), fused_update(self, using):
            super().save(*args, **kwargs)


class CustomerSequence(models.Model):
    """The per-customer event counter.

    Taking the next number updates this row, so its lock is held until commit: two writers to
    one customer are serialised and numbers increase in commit order, with no gaps.
    `pruned_through` is the highest number already removed by retention.
    """

    customer_id = models.BigIntegerField(primary_key=True)
    last_seq = models.BigIntegerField(default=0)
    pruned_through = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"customer {self.customer_id} at seq {self.last_seq}"


class OutboxEvent(models.Model):
    class Op(models.TextChoices):
        INSERT = "insert"
        UPDATE = "update"
        DELETE = "delete"

    customer_id = models.BigIntegerField()
    seq = models.BigIntegerField()
    topic = models.CharField(max_length=32)
    op = models.CharField(max_length=8, choices=Op.choices)
    event = models.CharField(max_length=64)
    object_id = models.BigIntegerField()
    new = models.JSONField(null=True, encoder=DjangoJSONEncoder)
    old = models.JSONField(null=True, encoder=DjangoJSONEncoder)
    changed = models.JSONField(default=list)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["customer_id", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["customer_id", "seq"], name="outbox_customer_seq_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.event} #{self.object_id} (customer {self.customer_id}, seq {self.seq})"

    def as_frame(self) -> ChangeFrame:
        """The `change` frame of docs/protocol.md."""
        return {
            "type": "change",
            "seq": self.seq,
            "topic": self.topic,
            "op": cast(Op, self.op),
            "event": self.event,
            "id": self.object_id,
            "new": self.new,
            "old": self.old,
            "changed": self.changed,
            "at": self.created_at.isoformat(),
        }


class HubStatus(models.Model):
    """What each daphne process's hub last reported (`manage.py realtime_status` shows them)."""

    process = models.CharField(max_length=255, primary_key=True)  # host:pid
    started_at = models.DateTimeField()
    updated_at = models.DateTimeField(db_index=True)
    report = models.JSONField(default=dict)

    def __str__(self) -> str:
        return f"hub {self.process}"


class Attendance(models.Model):
    """When a customer last had a portal tab open, as seen by any daphne process's hub.

    Kept in PostgreSQL, not in the presence store: the in-memory presence of one process is
    invisible to another (`manage.py send_notifications`), and a process that dies leaves no
    stale "present" behind, since `connected_until` simply stops moving.
    """

    customer_id = models.BigIntegerField(primary_key=True)
    connected_until = models.DateTimeField()

    def __str__(self) -> str:
        return f"customer {self.customer_id} connected until {self.connected_until:%Y-%m-%d %H:%M:%S}"
