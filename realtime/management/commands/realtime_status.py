from __future__ import annotations

import asyncio
import uuid
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import BaseChannelLayer, InMemoryChannelLayer, get_channel_layer
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Count, Min
from django.utils import timezone

from realtime import registry
from realtime.models import HubStatus, OutboxEvent

STALE_SECONDS = 30  # a running hub reports every 5 s


async def _layer_answers(layer: BaseChannelLayer) -> bool:
    # A round trip through the layer: send to a fresh channel of our own and read it back.
    channel = await layer.new_channel()
    token = uuid.uuid4().hex
    await layer.send(channel, {"type": "realtime.probe", "token": token})
    message = await asyncio.wait_for(layer.receive(channel), timeout=3)
    return bool(message.get("token") == token)


class Command(BaseCommand):
    help = "Show the synced models and topics, the channel layer and the outbox (the seed's realtime check)."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write("Synced models (topic: model, serializer fields):")
        for entry in registry.entries():
            fields = ", ".join(entry.serializer.Meta.fields)
            self.stdout.write(f"  {entry.topic}: {entry.model._meta.label} [{fields}]")

        layer = get_channel_layer()
        if layer is None:
            raise CommandError("No channel layer is configured (CHANNEL_LAYERS).")
        backend = settings.CHANNEL_LAYERS["default"]["BACKEND"]
        self.stdout.write(f"Channel layer: {backend}")
        try:
            ok = async_to_sync(_layer_answers)(layer)
        except Exception as error:
            ok = False
            self.stdout.write(self.style.ERROR(f"  does not answer: {error!r}"))
        else:
            self.stdout.write(
                self.style.SUCCESS("  answers") if ok else self.style.ERROR("  answered wrongly")
            )
        if isinstance(layer, InMemoryChannelLayer):
            self.stdout.write(
                self.style.WARNING(
                    "  WARNING: in-memory layer: one process only; changes saved by other processes "
                    "(commands, other daphne workers) reach sockets only via gap repair on ping. Set REDIS_URL."
                )
            )

        self._hubs()
        stats = OutboxEvent.objects.aggregate(size=Count("id"), oldest=Min("created_at"))
        oldest = stats["oldest"].isoformat() if stats["oldest"] else "none"
        self.stdout.write(f"Outbox: {stats['size']} event(s), oldest {oldest}")
        self.stdout.write(f"Retention: {settings.REALTIME_RETENTION} s (prune with manage.py realtime_prune)")
        if not ok:
            raise SystemExit(1)

    def _hubs(self) -> None:
        """Each daphne process's hub, as it last reported (every few seconds while it runs)."""
        now = timezone.now()
        reports = list(HubStatus.objects.order_by("process"))
        self.stdout.write(f"Hubs (one per daphne process): {len(reports)}")
        for status in reports:
            age = (now - status.updated_at).total_seconds()
            report = status.report
            errors = f", {report['errors']} error(s)" if report.get("errors") else ""
            line = (
                f"  {status.process}: {report.get('sockets', 0)} socket(s) of {report.get('customers', 0)} "
                f"customer(s); tailer every {report.get('tail_interval', 0):g} s, lag "
                f"{report.get('tail_lag', 0):.2f} s; last sweep {_ago(report.get('last_sweep_ago'))}; "
                f"repaired {report.get('repaired', 0)} event(s) since start{errors}; reported {age:.0f} s ago"
            )
            if age > STALE_SECONDS:
                self.stdout.write(self.style.WARNING(line + " (stale: the process is gone or stuck)"))
            else:
                self.stdout.write(line)


def _ago(seconds: float | None) -> str:
    return "not yet" if seconds is None else f"{seconds:.0f} s ago"
