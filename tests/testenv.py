"""Loaded with `-p tests.testenv` before Django is configured: test-only environment defaults.

Processes the tests start (daphne, management commands) inherit these too.
"""

from __future__ import annotations

import os

for name, value in {
    "ENV_FILE": "",  # not the developer's .env (DEBUG on, their key): tests set what they need
    "SECRET_KEY": "test-only-secret-key-not-for-production",
    "SECURE_SSL_REDIRECT": "0",
    "SESSION_COOKIE_SECURE": "0",
    "CSRF_COOKIE_SECURE": "0",
    "SECURE_HSTS_SECONDS": "0",
    "STATICFILES_MANIFEST": "0",
    "WHITENOISE_USE_FINDERS": "1",
    "FAST_PASSWORD_HASHER": "1",
    "ALLOWED_HOSTS": "localhost,127.0.0.1,testserver",
    "LOG_LEVEL": "WARNING",
    # The hub's tailer, fast: tests wait for repairs and cross-process changes.
    "REALTIME_TAIL_INTERVAL_SECONDS": "0.1",
}.items():
    os.environ.setdefault(name, value)
