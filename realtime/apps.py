from django.apps import AppConfig


class RealtimeConfig(AppConfig):
    name = "realtime"
    verbose_name = "Realtime sync"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from realtime import capture

        capture.connect_signals()
