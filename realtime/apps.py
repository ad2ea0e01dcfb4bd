from __future__ import annotations

from django.apps import AppConfig


class RealtimeConfig(AppConfig):
    name = "realtime"
    verbose_name = "Realtime sync"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from realtime import capture, revocation

        capture.connect_signals()
        revocation.connect_signals()
