"""The scratch database: created (and only ever dropped) by the harness, seeded, read back.

A database the harness creates carries a comment; it drops an existing database only when it
has that comment, or when told to replace it (`--replace-database`), so a wrong DATABASE_URL
cannot take someone's data with it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import statistics
import subprocess
import sys
import time
import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlparse

from bench.processes import ROOT

MARK = "scratch database of the benchmark harness (bench/); dropped and recreated by it"


@dataclass(frozen=True)
class Seat:
    """A customer the sockets log in as: its portal session and its jobs."""

    customer_id: int
    session_key: str
    job_ids: tuple[int, ...]


def _name_and_admin(url: str) -> tuple[str, str]:
    name = urlparse(url).path.lstrip("/")
    if not name or not all(c.isalnum() or c == "_" for c in name):
        raise SystemExit(f"bench: unexpected database name {name!r} in DATABASE_URL")
    return name, url.rsplit("/", 1)[0] + "/postgres"


def _marked(conn, name: str) -> bool | None:
    """None if the database does not exist, else whether the harness created it."""
    row = conn.execute(
        "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s", [name]
    ).fetchone()
    return None if row is None else row[0] == MARK


def create_database(url: str, *, replace: bool = False) -> None:
    """(Re)create the database and migrate it. Drops only a database this harness created."""
    import psycopg

    name, admin = _name_and_admin(url)
    with psycopg.connect(admin, autocommit=True) as conn:
        marked = _marked(conn, name)
        if marked is False and not replace:
            raise SystemExit(
                f"bench: database {name!r} exists and was not created by the harness; "
                "point DATABASE_URL at a scratch name, or pass --replace-database to drop it"
            )
        if marked is not None:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
        conn.execute(f"COMMENT ON DATABASE \"{name}\" IS '{MARK}'")
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, check=True)


def drop_database(url: str) -> bool:
    """Drop the database if the harness created it; True if it did."""
    import psycopg

    name, admin = _name_and_admin(url)
    with psycopg.connect(admin, autocommit=True) as conn:
        if not _marked(conn, name):
            return False
        conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    return True


def seed(customers: int, jobs_each: int = 2) -> list[Seat]:
    """Customers with a portal login, a live session and `jobs_each` jobs, in bulk."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.sessions.models import Session
    from django.utils import timezone
    from django.utils.crypto import get_random_string

    from crm.models import Customer, Job, User

    users = User.objects.bulk_create(
        [User(username=f"bench{i}", password="!") for i in range(customers)]  # noqa: S106
    )
    people = Customer.objects.bulk_create(
        [Customer(name=f"Bench {i}", portal_user=user) for i, user in enumerate(users)]
    )
    # Whole seconds, so a job's start identifies a change (bench/protocols.py's change keys).
    start = (timezone.now() + dt.timedelta(days=3)).replace(microsecond=0)
    jobs = Job.objects.bulk_create(
        [
            Job(
                customer=c,
                service_type="Carpet",
                scheduled_start=start,
                scheduled_end=start + dt.timedelta(hours=2),
            )
            for c in people
            for _ in range(jobs_each)
        ]
    )
    job_ids: dict[int, list[int]] = {}
    for job in jobs:
        job_ids.setdefault(job.customer_id, []).append(job.pk)
    store = SessionStore()
    expires = timezone.now() + dt.timedelta(days=1)
    sessions = [
        Session(
            session_key=get_random_string(32, "abcdefghijklmnopqrstuvwxyz0123456789"),
            session_data=store.encode(
                {
                    SESSION_KEY: str(user.pk),
                    BACKEND_SESSION_KEY: "django.contrib.auth.backends.ModelBackend",
                    HASH_SESSION_KEY: user.get_session_auth_hash(),
                }
            ),
            expire_date=expires,
        )
        for user in users
    ]
    Session.objects.bulk_create(sessions)
    return [
        Seat(customer.pk, session.session_key, tuple(job_ids[customer.pk]))
        for customer, session in zip(people, sessions, strict=True)
    ]


def last_seqs(customer_ids: list[int]) -> dict[int, int]:
    """Each customer's latest change number (this project's sequence table)."""
    from realtime.models import CustomerSequence

    found = dict(
        CustomerSequence.objects.filter(customer_id__in=customer_ids).values_list("customer_id", "last_seq")
    )
    return {c: found.get(c, 0) for c in customer_ids}


@contextlib.contextmanager
def capture_disconnected() -> Iterator[None]:
    """Save and delete signals without this project's receivers (the `realtime` package's).

    Found by module rather than by dispatch uid, so the harness keeps working when capture
    changes how it hooks in.
    """
    from django.db.models import signals

    saved = {}
    for signal in (signals.pre_save, signals.post_save, signals.pre_delete, signals.post_delete):
        saved[signal] = list(signal.receivers)
        signal.receivers = [r for r in signal.receivers if not _module_of(r[1]).startswith("realtime")]
        signal.sender_receivers_cache.clear()
    try:
        yield
    finally:
        for signal, receivers in saved.items():
            signal.receivers = receivers
            signal.sender_receivers_cache.clear()


def _module_of(ref: object) -> str:
    target = ref() if isinstance(ref, weakref.ReferenceType) else ref
    return getattr(target, "__module__", "") or ""


def measure_save_overhead(job_ids: list[int], samples: int = 300) -> dict[str, float]:
    """Median `reschedule_job` time with this project's capture connected and without it."""
    from crm import services
    from crm.models import Job

    def run() -> float:
        times = []
        for i in range(samples):
            job = Job.objects.get(pk=job_ids[i % len(job_ids)])
            shift = dt.timedelta(minutes=1)
            t0 = time.perf_counter()
            services.reschedule_job(job=job, start=job.scheduled_start + shift, end=job.scheduled_end + shift)
            times.append((time.perf_counter() - t0) * 1000)
        return statistics.median(times)

    with_capture = run()
    with capture_disconnected():
        without = run()
    return {"save_ms_with_capture": round(with_capture, 3), "save_ms_without": round(without, 3)}
