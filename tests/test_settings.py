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


def test_database_url_selects_postgresql_without_persistent_connections():
    database = settings_of("DATABASES", **PRODUCTION)["DATABASES"]["default"]
    # Django's docs: "When using ASGI, persistent connections should be disabled."
    assert database["CONN_MAX_AGE"] == 0
    assert database["ENGINE"] == "django.db.backends.postgresql"
    assert (database["HOST"], database["PORT"], database["NAME"], database["USER"]) == (
        "db.internal",
        5433,
        "portal",
        "portal",
    )
    # A pool instead, so a reconnect storm does not open a connection per database call.
    assert database["OPTIONS"]["pool"]["max_size"] == 10


def test_the_pool_can_be_turned_off_for_persistent_connections():
    assert "pool" not in settings_of("DATABASES", DB_POOL="0", DB_CONN_MAX_AGE="60", **PRODUCTION)[
        "DATABASES"
    ]["default"].get("OPTIONS", {})
    both = run("import django; django.setup()", DB_CONN_MAX_AGE="60", **PRODUCTION)
    assert both.returncode != 0 and "DB_POOL=0" in both.stderr


def test_redis_url_selects_the_pubsub_layer_by_default():
    layer = settings_of("CHANNEL_LAYERS", **PRODUCTION)["CHANNEL_LAYERS"]["default"]
    assert layer["BACKEND"] == "channels_redis.pubsub.RedisPubSubChannelLayer"
    assert layer["CONFIG"]["hosts"][0]["address"] == PRODUCTION["REDIS_URL"]
    assert layer["CONFIG"]["hosts"][0]["max_connections"] >= 1000


def test_redis_max_connections_sizes_either_layer():
    for layer_name in ("pubsub", "core"):
        found = settings_of(
            "CHANNEL_LAYERS", REALTIME_LAYER=layer_name, REDIS_MAX_CONNECTIONS="321", **PRODUCTION
        )
        assert found["CHANNEL_LAYERS"]["default"]["CONFIG"]["hosts"][0]["max_connections"] == 321


def test_the_pubsub_layer_builds_its_pool_from_those_options():
    """channels_redis.pubsub passes each host's options to redis-py's pool (nothing connects here)."""
    code = """
import asyncio, django
django.setup()
from channels.layers import get_channel_layer
from channels_redis.utils import create_pool

async def main():
    print(create_pool(get_channel_layer()._shards[0].host).max_connections)

asyncio.run(main())
"""
    result = run(code, REDIS_MAX_CONNECTIONS="4321", **PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "4321"


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


def test_hsts_preload_is_on_unless_debugging_and_can_be_turned_off():
    assert settings_of("SECURE_HSTS_PRELOAD", **PRODUCTION) == {"SECURE_HSTS_PRELOAD": True}
    assert settings_of("SECURE_HSTS_PRELOAD", **{**PRODUCTION, "SECURE_HSTS_PRELOAD": "0"}) == {
        "SECURE_HSTS_PRELOAD": False
    }
    assert settings_of("SECURE_HSTS_PRELOAD", DEBUG="1") == {"SECURE_HSTS_PRELOAD": False}


def test_a_django_log_line_is_printed_once():
    """Django's default logging gives "django" its own console handler; the root has ours."""
    code = (
        "import django, logging; django.setup(); "
        "logging.getLogger('django.channels.server').info('HTTP GET /portal/ 200'); "
        "logging.getLogger('django.channels.server').debug('too detailed')"
    )
    for debug in ("1", "0"):
        result = run(code, **{**PRODUCTION, "DEBUG": debug})
        assert result.returncode == 0, result.stderr
        assert result.stderr.count("HTTP GET /portal/ 200") == 1
        assert "too detailed" not in result.stderr
    quiet = run(code, LOG_LEVEL="WARNING", **PRODUCTION)
    assert "HTTP GET" not in quiet.stderr


def test_the_readme_documents_every_variable_settings_read():
    import re

    source = (ROOT / "config" / "settings.py").read_text()
    read = set(re.findall(r"""(?:os\.environ\.get|env_bool|env_list)\(\s*["']([A-Z_]+)["']""", source))
    read |= {"DATABASE_URL"}  # read by dj_database_url.config()
    readme = (ROOT / "README.md").read_text()
    assert "LOG_LEVEL" in read and "SECURE_HSTS_PRELOAD" in read  # the pattern finds them
    assert sorted(name for name in read if f"`{name}`" not in readme) == []


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
