"""Settings come from the environment: each case runs a fresh interpreter with its own variables."""

from __future__ import annotations

import json
import os
import shutil
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
    "PORTAL_BASE_URL": "https://example.com",
}


def run(
    code_or_args: str | list[str], *, root: Path = ROOT, project_env_file: bool = False, **env: str
) -> subprocess.CompletedProcess:
    """Python with only these variables set (plus what it needs to start), from the project root.

    Settings read no .env file unless ENV_FILE is given, or `project_env_file` lets them look for
    the project's own as they do in a clone: this checkout's must not change what is tested.
    """
    clean = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(root),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        **({} if project_env_file else {"ENV_FILE": ""}),
    }
    args = code_or_args if isinstance(code_or_args, list) else ["-c", code_or_args]
    return subprocess.run(
        [sys.executable, *args], cwd=root, env={**clean, **env}, capture_output=True, text=True, timeout=60
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


def test_an_env_file_fills_in_what_the_environment_leaves_unset(tmp_path):
    env_file = tmp_path / "local.env"
    key = "from-the-file-k7Qzv2Lr9pX4wTn8bY1mC6hF3sJ0dG5eA"
    env_file.write_text(f"# a comment\nDEBUG=1\nSECRET_KEY={key}\nTIME_ZONE=Europe/Paris\n")
    found = settings_of("DEBUG", "SECRET_KEY", "TIME_ZONE", ENV_FILE=str(env_file), TIME_ZONE="UTC")
    assert found == {"DEBUG": True, "SECRET_KEY": key, "TIME_ZONE": "UTC"}  # the environment wins
    assert settings_of("DEBUG", ENV_FILE=str(env_file), DEBUG="0") == {"DEBUG": False}


def copy_of_the_project(to: Path) -> Path:
    """What a clone holds to run manage.py, without this checkout's .env, venv or database."""
    for name in ("config", "crm", "realtime", "portal", "templates", "static"):
        shutil.copytree(ROOT / name, to / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("manage.py", "Makefile", "pyproject.toml"):
        shutil.copy2(ROOT / name, to / name)
    return to


def test_manage_py_runs_in_a_clone_where_make_run_wrote_its_env_and_refuses_without_it(tmp_path):
    clone = copy_of_the_project(tmp_path)
    show = ["manage.py", "shell", "-c", "from django.conf import settings; print(settings.DEBUG)"]

    refused = run(show, root=clone, project_env_file=True)
    assert refused.returncode != 0
    assert "ImproperlyConfigured: SECRET_KEY must be set" in refused.stderr

    # `make run` writes .env first (with this test's Python for the key).
    make_env = ["make", "--no-print-directory", ".env", f"VENV={sys.prefix}"]
    written = subprocess.run(make_env, cwd=clone, capture_output=True, text=True, timeout=60)
    assert written.returncode == 0, written.stderr
    values = dict(
        line.split("=", 1) for line in (clone / ".env").read_text().splitlines() if not line.startswith("#")
    )
    assert values["DEBUG"] == "1" and len(values["SECRET_KEY"]) >= 50
    subprocess.run(make_env, cwd=clone, check=True, capture_output=True, timeout=60)
    assert (clone / ".env").read_text().splitlines()[-1] == f"SECRET_KEY={values['SECRET_KEY']}"  # kept

    shell = run(show, root=clone, project_env_file=True)
    assert shell.returncode == 0, shell.stderr
    assert shell.stdout.splitlines()[-1] == "True"
    check = run(["manage.py", "check"], root=clone, project_env_file=True)
    assert check.returncode == 0, check.stderr


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

    source = "".join(path.read_text() for path in (ROOT / "config").glob("*.py"))
    read = set(re.findall(r"""(?:os\.environ\.get|env_bool|env_list)\(\s*["']([A-Z_]+)["']""", source))
    read |= {"DATABASE_URL"}  # read by dj_database_url.config()
    readme = (ROOT / "README.md").read_text()
    # The pattern finds them, in settings.py and the modules it takes settings from.
    assert {"LOG_LEVEL", "SECURE_HSTS_PRELOAD", "REALTIME_TAIL_INTERVAL_SECONDS"} <= read
    assert sorted(name for name in read if f"`{name}`" not in readme) == []


def test_deploy_check_is_clean_with_production_values():
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], **PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_check_warns_when_emails_would_link_to_localhost_in_production():
    env = {key: value for key, value in PRODUCTION.items() if key != "PORTAL_BASE_URL"}
    result = run(["manage.py", "check", "--fail-level", "WARNING"], **env)
    assert result.returncode != 0 and "portal.W001" in result.stderr + result.stdout
    assert "PORTAL_BASE_URL" in result.stderr + result.stdout
    assert run(["manage.py", "check", "--fail-level", "WARNING"], **PRODUCTION).returncode == 0


def test_deploy_check_fails_when_debug_is_on_in_production():
    result = run(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"], **{**PRODUCTION, "DEBUG": "1"}
    )
    assert result.returncode != 0
    assert "security.W018" in result.stderr  # DEBUG on in deployment


def test_errors_go_to_sentry_when_a_dsn_is_set():
    script = (
        "import django, sentry_sdk; django.setup(); "
        "client = sentry_sdk.get_client(); "
        "print(client.is_active(), client.options['send_default_pii'], client.options['environment'])"
    )
    key = {"SECRET_KEY": "x" * 50}
    with_dsn = run(script, SENTRY_DSN="https://key@127.0.0.1:9/1", SENTRY_ENVIRONMENT="staging", **key)
    assert with_dsn.returncode == 0, with_dsn.stderr
    assert with_dsn.stdout.split() == ["True", "False", "staging"]
    without = run(script, **key)
    assert without.returncode == 0, without.stderr
    assert without.stdout.split()[0] == "False"


def test_email_goes_to_the_console_by_default_and_over_smtp_from_the_environment():
    names = ("EMAIL_BACKEND", "EMAIL_HOST", "EMAIL_PORT", "EMAIL_HOST_USER", "EMAIL_HOST_PASSWORD")
    names += ("EMAIL_USE_TLS", "DEFAULT_FROM_EMAIL", "NOTIFY_DIGEST_QUIET_MINUTES")
    default = settings_of(*names, **PRODUCTION)
    assert default["EMAIL_BACKEND"] == "django.core.mail.backends.console.EmailBackend"
    assert default["NOTIFY_DIGEST_QUIET_MINUTES"] == 10
    smtp = {
        "EMAIL_HOST": "smtp.example.com",
        "EMAIL_HOST_USER": "portal",
        "EMAIL_HOST_PASSWORD": "secret",
        "EMAIL_USE_TLS": "1",
        "DEFAULT_FROM_EMAIL": "Portal <portal@example.com>",
        "NOTIFY_DIGEST_QUIET_MINUTES": "3",
    }
    found = settings_of(*names, **PRODUCTION, **smtp)
    assert found["EMAIL_BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    assert (found["EMAIL_HOST"], found["EMAIL_PORT"], found["EMAIL_USE_TLS"]) == (
        "smtp.example.com",
        587,
        True,
    )
    assert (found["EMAIL_HOST_USER"], found["EMAIL_HOST_PASSWORD"]) == ("portal", "secret")
    assert (found["DEFAULT_FROM_EMAIL"], found["NOTIFY_DIGEST_QUIET_MINUTES"]) == (
        "Portal <portal@example.com>",
        3,
    )
    assert settings_of("EMAIL_PORT", **PRODUCTION, **smtp, EMAIL_PORT="2525")["EMAIL_PORT"] == 2525
