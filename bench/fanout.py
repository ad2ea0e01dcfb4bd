"""Commit-to-socket latency, save overhead and daphne memory for the realtime engine.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_bench REDIS_URL=redis://127.0.0.1:6379/1 \
        .venv/bin/python -m bench.fanout --sockets 1000 --customers 500 --rate 100 --duration 20

Everything runs on loopback and stops by itself: one or more daphne processes, one writer
process making `rate` job reschedules a second through crm.services (each stamps the time
before its save into the job's customer notes), and this process holding the sockets and
timing each change frame from "before save" to "frame received". The database named in
DATABASE_URL is dropped and recreated: point it at a scratch database.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import multiprocessing
import os
import random
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
LAYERS = {
    "pubsub": "channels_redis.pubsub.RedisPubSubChannelLayer",
    "core": "channels_redis.core.RedisChannelLayer",
}


def bench_env() -> None:
    """Defaults for this process and the daphne and writer processes it starts."""
    for name, value in {
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "SECRET_KEY": "bench-only-secret-key",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "0",
        "STATICFILES_MANIFEST": "0",
        "LOG_LEVEL": "WARNING",
    }.items():
        os.environ.setdefault(name, value)


def setup_django() -> None:
    bench_env()
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def recreate_database(url: str) -> None:
    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    admin = url.rsplit("/", 1)[0] + "/postgres"
    import psycopg

    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, check=True)


def seed(customers: int) -> list[tuple[int, str, list[int]]]:
    """Customers with a portal login, a session and two jobs each: (customer id, session key, job ids)."""
    import datetime as dt

    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.utils import timezone

    from crm.models import Customer, Job, User

    users = User.objects.bulk_create(
        [User(username=f"bench{i}", password="!") for i in range(customers)]  # noqa: S106
    )
    people = Customer.objects.bulk_create(
        [Customer(name=f"Bench {i}", portal_user=user) for i, user in enumerate(users)]
    )
    start = timezone.now() + dt.timedelta(days=3)
    jobs = Job.objects.bulk_create(
        [
            Job(
                customer=c,
                service_type="Carpet",
                scheduled_start=start,
                scheduled_end=start + dt.timedelta(hours=2),
            )
            for c in people
            for _ in range(2)
        ]
    )
    job_ids: dict[int, list[int]] = {}
    for job in jobs:
        job_ids.setdefault(job.customer_id, []).append(job.pk)
    result = []
    for user, customer in zip(users, people, strict=True):
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        result.append((customer.pk, session.session_key, job_ids[customer.pk]))
    return result


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def writer(job_ids: list[int], rate: float, duration: float, ready, done) -> None:
    """Reschedule random jobs at `rate`/s through the service layer, stamping time.time()."""
    setup_django()
    import datetime as dt

    from crm import services
    from crm.models import Job

    ready.wait()
    rng = random.Random(7)
    interval = 1.0 / rate
    deadline = time.monotonic() + duration
    next_at = time.monotonic()
    count = 0
    while time.monotonic() < deadline:
        job = Job.objects.get(pk=rng.choice(job_ids))
        shift = dt.timedelta(minutes=rng.randint(1, 600))
        sent = time.time()
        Job.objects.filter(pk=job.pk).update(customer_notes=f"bench:{sent!r}")  # carry the stamp, no event
        job.refresh_from_db()
        services.reschedule_job(job=job, start=job.scheduled_start + shift, end=job.scheduled_end + shift)
        count += 1
        next_at += interval
        pause = next_at - time.monotonic()
        if pause > 0:
            time.sleep(pause)
    done.value = count


def measure_save_overhead(job_ids: list[int], samples: int = 300) -> dict[str, float]:
    """Median time of one reschedule through services, with and without realtime capture."""
    import datetime as dt

    from django.db.models.signals import post_save, pre_save

    from crm import services
    from crm.models import Job
    from realtime import capture

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
    pre_save.disconnect(dispatch_uid="realtime.pre_save")
    post_save.disconnect(dispatch_uid="realtime.post_save")
    try:
        without = run()
    finally:
        capture.connect_signals()
    return {"save_ms_with_realtime": with_capture, "save_ms_without": without}


async def hold_sockets(
    ports, seeded, sockets: int, stop_event: asyncio.Event, latencies: list[float], counters: dict
):
    import websockets

    async def one(index: int) -> None:
        customer_id, session_key, _jobs = seeded[index % len(seeded)]
        port = ports[index % len(ports)]
        headers = {"Cookie": f"sessionid={session_key}", "Origin": f"http://127.0.0.1:{port}"}
        async with websockets.connect(
            f"ws://127.0.0.1:{port}/ws/realtime/", additional_headers=headers, max_queue=None
        ) as ws:
            hello = json.loads(await ws.recv())
            await ws.send(json.dumps({"type": "subscribe", "topics": ["jobs"], "since": hello["seq"]}))
            last = hello["seq"]
            while json.loads(await ws.recv())["type"] != "subscribed":
                pass
            counters["connected"] += 1  # only once the server has fully set the socket up
            while not stop_event.is_set():
                try:
                    raw = await asyncio.wait_for(ws.recv(), timeout=0.5)
                except TimeoutError:
                    continue
                received = time.time()
                frame = json.loads(raw)
                if frame["type"] != "change":
                    continue
                if frame["seq"] != last + 1:
                    counters["gaps"] += 1
                last = frame["seq"]
                notes = (frame["new"] or {}).get("customer_notes", "")
                if notes.startswith("bench:"):
                    latencies.append((received - float(notes[6:])) * 1000)
                    recorded = datetime.datetime.fromisoformat(frame["at"]).timestamp()
                    counters["from_record"].append((received - recorded) * 1000)
                    counters["trace"].append(
                        (received, latencies[-1], counters["from_record"][-1], customer_id)
                    )
                counters["frames"] += 1

    tasks = []
    for i in range(sockets):
        tasks.append(asyncio.create_task(one(i)))
        if i % 50 == 49:
            await asyncio.sleep(0.05)  # don't stampede daphne's accept queue
    await asyncio.gather(*tasks)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sockets", type=int, default=1000)
    parser.add_argument("--customers", type=int, default=500)
    parser.add_argument("--rate", type=float, default=100)
    parser.add_argument("--duration", type=float, default=20)
    parser.add_argument("--layer", choices=sorted(LAYERS), default="pubsub")
    parser.add_argument("--daphnes", type=int, default=1)
    parser.add_argument("--trace", help="write (received, latency ms, from-record ms, customer) rows here")
    args = parser.parse_args()

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres") or not os.environ.get("REDIS_URL"):
        sys.exit("bench needs DATABASE_URL (a scratch PostgreSQL database) and REDIS_URL")
    os.environ["REALTIME_LAYER"] = args.layer
    bench_env()
    recreate_database(url)
    setup_django()
    seeded = seed(args.customers)
    all_jobs = [job for _c, _s, jobs in seeded for job in jobs]

    env = dict(os.environ, PYTHONPATH=str(ROOT))
    ports = [free_port() for _ in range(args.daphnes)]
    servers = [
        subprocess.Popen(
            [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "config.asgi:application"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for port in ports
    ]
    try:
        for port in ports:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                    break
                except OSError:
                    time.sleep(0.1)
        base_rss = sum(rss_kb(p.pid) for p in servers)
        overhead = measure_save_overhead(all_jobs)

        ctx = multiprocessing.get_context("spawn")
        ready, done = ctx.Event(), ctx.Value("i", 0)
        proc = ctx.Process(target=writer, args=(all_jobs, args.rate, args.duration, ready, done))
        proc.start()

        latencies: list[float] = []
        counters = {"connected": 0, "frames": 0, "gaps": 0, "from_record": [], "trace": []}

        async def run() -> None:
            stop = asyncio.Event()
            holder = asyncio.create_task(hold_sockets(ports, seeded, args.sockets, stop, latencies, counters))
            while counters["connected"] < args.sockets:
                if holder.done():
                    holder.result()
                await asyncio.sleep(0.1)
            counters["rss_with_sockets_kb"] = sum(rss_kb(p.pid) for p in servers)
            ready.set()
            await asyncio.get_running_loop().run_in_executor(None, proc.join)
            await asyncio.sleep(1.0)  # let the last frames arrive
            stop.set()
            await holder

        asyncio.run(run())
        per_socket_kb = (counters["rss_with_sockets_kb"] - base_rss) / args.sockets
        result = {
            "layer": args.layer,
            "daphnes": args.daphnes,
            "sockets": args.sockets,
            "customers": args.customers,
            "rate_per_s": args.rate,
            "changes": done.value,
            "frames": counters["frames"],
            "gaps_seen_by_clients": counters["gaps"],
            "p50_ms": round(percentile(latencies, 0.50), 2) if latencies else None,
            "p99_ms": round(percentile(latencies, 0.99), 2) if latencies else None,
            "max_ms": round(max(latencies), 2) if latencies else None,
            "p50_ms_from_record": round(percentile(counters["from_record"], 0.50), 2) if latencies else None,
            "p99_ms_from_record": round(percentile(counters["from_record"], 0.99), 2) if latencies else None,
            "daphne_kb_per_socket": round(per_socket_kb, 1),
            **{k: round(v, 3) for k, v in overhead.items()},
        }
        print(json.dumps(result, indent=2))
        if args.trace:
            Path(args.trace).write_text(json.dumps(counters["trace"]))
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait(timeout=10)


if __name__ == "__main__":
    main()
