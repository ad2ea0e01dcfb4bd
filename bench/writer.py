"""The writer process: `rate` changes a second to random customers until told to stop.

- this project and the peer: reschedule a random job through `crm.services.reschedule_job`,
  as the admin does (the peer's writer imports the peer's observer and leaves this project's
  capture out, so each subject pays only for itself);
- the floor: `group_send` a small message to a random customer's group;
- the floor with the save (`floor-save`): reschedule a random job as above, with this
  project's capture left out, then `group_send` the change's key to the customer's floor group.
  What it adds to the floor is exactly the save: the least any design that commits a change
  to PostgreSQL before it publishes it can take.

Each change is recorded as (key, customer, before, after): `before` is `time.time()` just
before the save (or send), the start of every latency the harness reports; `after` is its
return (the floor with the save: the save's return, before the send).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import random
import time
from collections.abc import Callable
from typing import Any

from bench.processes import setup_django
from bench.protocols import floor_group, job_key

WARMUP = 3  # changes before `ready`: the first publish opens connections and threads

Record = tuple[str, int, float, float]


class Pacer:
    """Calls at a steady rate; after a stall it resumes the rate instead of bursting to catch up."""

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate
        self.next_at = time.monotonic()

    def pause(self) -> float:
        self.next_at += self.interval
        pause = self.next_at - time.monotonic()
        if pause < -1.0:
            self.next_at = time.monotonic()
        return max(0.0, pause)


def _job_writer(
    subject: str, customers: list[int]
) -> tuple[Callable[[random.Random], Record], contextlib.AbstractContextManager]:
    from crm import services
    from crm.models import Job

    quiet: contextlib.AbstractContextManager = contextlib.nullcontext()
    publish: Callable[[int, str], None] | None = None
    if subject == "floor-save":
        from bench.database import capture_disconnected

        quiet = capture_disconnected()
        publish = _floor_sender()
    if subject == "peer":
        import warnings

        from djangochannelsrestframework.observer.model_observer import UnsupportedWarning

        import bench.dcrf_consumer  # noqa: F401  (connects the observer's signals in this process)

        # DCRF warns of savepoints whenever Django's savepoint_ids is non-empty, which an
        # atomic(savepoint=False) block (TransactionalSave.save) makes so without a savepoint.
        warnings.filterwarnings("ignore", category=UnsupportedWarning)
        from bench.database import capture_disconnected

        quiet = capture_disconnected()
    rows = Job.objects.filter(customer_id__in=customers).values_list("pk", "customer_id", "scheduled_start")
    jobs = {pk: [customer, start] for pk, customer, start in rows}
    ids = sorted(jobs)

    def write(rng: random.Random) -> Record:
        pk = rng.choice(ids)
        customer, start = jobs[pk]
        start = start + dt.timedelta(minutes=rng.randint(1, 600))
        job = Job.objects.get(pk=pk)  # the caller's read (an admin form loads the job first)
        before = time.time()
        services.reschedule_job(job=job, start=start, end=start + dt.timedelta(hours=2))
        after = time.time()
        jobs[pk][1] = start
        key = job_key(pk, start)
        if publish is not None:
            publish(customer, key)
        return key, customer, before, after

    return write, quiet


def _floor_sender() -> Callable[[int, str], None]:
    """`group_send` to a customer's floor group from synchronous code, on one event loop kept for
    the whole run (the layer's Redis connections belong to the loop that opened them)."""
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    loop = asyncio.new_event_loop()

    def send(customer: int, key: str) -> None:
        loop.run_until_complete(layer.group_send(floor_group(customer), _floor_message(key)))

    return send


def _floor_message(key: str) -> dict[str, str]:
    """What the floor's consumer forwards to its sockets as it came (bench/floor_asgi.py)."""
    return {"type": "bench.change", "text": json.dumps({"type": "change", "key": key})}


def _run_jobs(
    subject: str, customers: list[int], rate: float, until: Callable[[], bool], ready: Any
) -> list[Record]:
    setup_django("bench.dcrf_settings" if subject == "peer" else "config.settings")
    write, quiet = _job_writer(subject, customers)
    rng = random.Random(7)
    records = []
    with quiet:
        for _ in range(WARMUP):
            records.append(write(rng))
        ready.set()
        pacer = Pacer(rate)
        while not until():
            records.append(write(rng))
            time.sleep(pacer.pause())
    return records


def _run_floor(customers: list[int], rate: float, until: Callable[[], bool], ready: Any) -> list[Record]:
    setup_django("bench.floor_settings")
    from channels.layers import get_channel_layer

    async def main() -> list[Record]:
        layer = get_channel_layer()
        rng = random.Random(7)
        records: list[Record] = []

        async def send(n: int) -> None:
            customer = rng.choice(customers)
            key = f"m{n}"
            message = _floor_message(key)
            before = time.time()
            await layer.group_send(floor_group(customer), message)
            records.append((key, customer, before, time.time()))

        for n in range(WARMUP):
            await send(n)
        ready.set()
        pacer = Pacer(rate)
        n = WARMUP
        while not until():
            await send(n)
            n += 1
            await asyncio.sleep(pacer.pause())
        return records

    return asyncio.run(main())


def run(
    conn: Any, subject: str, customers: list[int], rate: float, limit: float, ready: Any, stop: Any
) -> None:
    """Process entry: write until `stop` is set (or `limit` seconds pass), then send the records."""
    deadline = time.monotonic() + limit

    def until() -> bool:
        return stop.is_set() or time.monotonic() > deadline

    if subject == "floor":
        records = _run_floor(customers, rate, until, ready)
    else:
        records = _run_jobs(subject, customers, rate, until, ready)
    conn.send(records)
