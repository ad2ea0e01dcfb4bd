from __future__ import annotations

from django.urls import URLPattern, path

from crm.live.consumer import StaffConsumer

# Before realtime's patterns, whose last one closes any other path with 4404.
staff_urlpatterns: list[URLPattern] = [
    path("ws/staff/", StaffConsumer.as_asgi()),  # type: ignore[arg-type]
]
