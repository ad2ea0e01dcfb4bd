"""Settings come from the environment: each case runs a fresh interpreter with its own variables."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": "k7#Qz!v2Lr9@pX4w$Tn8&bY1mC6^hF3sJ0dG5eA-uW_oKiN+ZlR",
    "ALLOWED_HOSTS": "example.com",
    "CSRF_TRUSTED_ORIGINS": "https://example.com",
    "DATABASE_URL": "postgres://portal:secret@db.internal:5433/portal",
    "REDIS_URL": "redis://redis.internal:6379/0",
    # Opt-in (preloading is hard to undo), so it is not a default; without it: security.W021.
    "SECURE_HSTS_PRELOAD": "1",
}


def run(code_or_args: str | list[str], **env: str) -> subprocess.CompletedProcess:
    """Python with only these variables set (plus what it needs to start), from the project root."""
    clean = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(ROOT),
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    args = code_or_args if isinstance(code_or_args, list) else ["-c", code_or_args]
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env={**clean, **env}, capture_output=True, text=True, timeout=60
    )


def settings_of(*names: str, **env: str) -> dict:
    code = (
        "import json, django; django.setup(); from django.conf import settings; "
        f"print(json.dumps({{n: getattr(settings, n) for n in {list(names)!r}}}, default=str))"
    )
    result = run(code, **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_embedded_default_is_sqlite_and_the_in_memory_layer():
    found = settings_of("DATABASES", "CHANNEL_LAYERS", "DEBUG", SECRET_KEY="x" * 50)
    assert found["DATABASES"]["default"]["ENGINE"] == "django.db.backends.sqlite3"
    assert found["DATABASES"]["default"]["NAME"].endswith("db.sqlite3")
    assert found["CHANNEL_LAYERS"]["default"]["BACKEND"] == "channels.layers.InMemoryChannelLayer"
    assert found["DEBUG"] is False


def test_database_url_selects_postgresql():
    database = settings_of("DATABASES", **PRODUCTION)["DATABASES"]["default"]
    assert database["ENGINE"] == "django.db.backends.postgresql"
    assert (database["HOST"], database["PORT"], database["NAME"], database["USER"]) == (
        "db.internal",
        5433,
        "portal",
        "portal",
    )


def test_redis_url_selects_the_pubsub_layer_by_default():
    layer = settings_of("CHANNEL_LAYERS", **PRODUCTION)["CHANNEL_LAYERS"]["default"]
    assert layer["BACKEND"] == "channels_redis.pubsub.RedisPubSubChannelLayer"
    assert layer["CONFIG"]["hosts"][0]["address"] == PRODUCTION["REDIS_URL"]


def test_core_layer_has_a_pool_for_thousands_of_sockets():
    layer = settings_of("CHANNEL_LAYERS", REALTIME_LAYER="core", **PRODUCTION)["CHANNEL_LAYERS"]["default"]
    assert layer["BACKEND"] == "channels_redis.core.RedisChannelLayer"
    # redis-py's default of 100 connections broke at 100 sockets (docs/benchmarks).
    assert layer["CONFIG"]["hosts"][0]["max_connections"] >= 1000


def test_unknown_layer_is_refused():
    result = run("import django; django.setup()", REALTIME_LAYER="kafka", **PRODUCTION)
    assert result.returncode != 0
    assert "ImproperlyConfigured: REALTIME_LAYER" in result.stderr


def test_secret_key_is_required_unless_debugging():
    refused = run("import django; django.setup()", DEBUG="0")
    assert refused.returncode != 0
    assert "ImproperlyConfigured: SECRET_KEY must be set" in refused.stderr
    assert settings_of("DEBUG", "ALLOWED_HOSTS", DEBUG="1") == {
        "DEBUG": True,
        "ALLOWED_HOSTS": ["localhost", "127.0.0.1", "[::1]"],
    }


def test_hosts_and_trusted_origins_are_lists():
    found = settings_of(
        "ALLOWED_HOSTS",
        "CSRF_TRUSTED_ORIGINS",
        **{**PRODUCTION, "ALLOWED_HOSTS": "example.com, www.example.com"},
    )
    assert found == {
        "ALLOWED_HOSTS": ["example.com", "www.example.com"],
        "CSRF_TRUSTED_ORIGINS": ["https://example.com"],
    }


def test_deploy_check_is_clean_with_production_values():
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], **PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_deploy_check_fails_when_debug_is_on_in_production():
    result = run(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"], **{**PRODUCTION, "DEBUG": "1"}
    )
    assert result.returncode != 0
    assert "security.W018" in result.stderr  # DEBUG on in deployment
