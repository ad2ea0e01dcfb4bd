"""Email and the digest emails for away customers, read from the environment (README.md).

`config.settings` takes all of them; it loads `.env` before importing this module.
"""

from __future__ import annotations

import os

from config.env import env_bool

# Django's email framework: printed to the console unless an SMTP host is given.
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND") or (
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend"
)
EMAIL_PORT = int(os.environ.get("EMAIL_PORT") or ("587" if env_bool("EMAIL_USE_TLS") else "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS")
EMAIL_TIMEOUT = 30  # seconds: a hung SMTP server must not hold a digest's row lock for ever
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL") or "Dirt Free <hello@dirtfree.example>"

# Digest emails (`manage.py send_notifications`): changes are gathered until none arrived for
# this long, then sent as one email.
NOTIFY_DIGEST_QUIET_MINUTES = float(os.environ.get("NOTIFY_DIGEST_QUIET_MINUTES") or "10")
# Where the links in emails point: the portal as customers reach it.
PORTAL_BASE_URL = (os.environ.get("PORTAL_BASE_URL") or "http://localhost:8000").rstrip("/")
# How long an email's unsubscribe link works.
NOTIFY_UNSUBSCRIBE_DAYS = int(os.environ.get("NOTIFY_UNSUBSCRIBE_DAYS", "90"))
