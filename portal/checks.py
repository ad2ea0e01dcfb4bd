"""System checks for the portal's settings."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import CheckMessage, Warning, register

LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}


@register()
def portal_base_url(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Emails must not go out with links to localhost: the default is only for development."""
    if settings.DEBUG or urlsplit(settings.PORTAL_BASE_URL).hostname not in LOCAL_HOSTS:
        return []
    return [
        Warning(
            f"PORTAL_BASE_URL is {settings.PORTAL_BASE_URL!r}: digest emails would link customers to it.",
            hint="Set PORTAL_BASE_URL to the portal's address as customers reach it (https://portal.example.com).",
            id="portal.W001",
        )
    ]
