"""One subject at one size: serve it, open the sockets, write, storm, collect, stop.

Phases, each bounded in time:

1. start daphne (one process per 5,000 sockets unless told otherwise) and note its memory;
2. open the sockets at `open_rate` a second, each given `handshake_timeout` to be subscribed;
   those that are not count as failed and stay closed;
3. after `settle` seconds idle, note daphne's memory again (growth / sockets = KB per socket);
4. start the writer; after its warm-up, `duration` seconds of steady state;
5. the reconnect storm (unless off): every socket dropped at once and reopened at once, this
   project's with `since` = the last seq it saw; the writer keeps writing; `tail` seconds after
   the last socket is back (or `storm_timeout`) the writer stops;
6. the sockets wait for the last frames (this project's until each has its customer's last
   seq, at most `drain` seconds), report, and close.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import writer
from bench.analysis import analyse
from bench.clients import ClientPool
from bench.database import Seat, last_seqs
from bench.processes import Daphnes
from bench.protocols import PROTOCOLS
from bench.subjects import Subject

LOG_DIR = Path(tempfile.gettempdir()) / "bench-logs"


@dataclass
class Options:
    rate: float = 100
    duration: float = 30
    open_rate: float = 100
    handshake_timeout: float = 10
    settle: float = 2
    storm: bool = True
    storm_timeout: float = 60
    tail: float = 2
    drain: float = 15
    daphnes: int = 0  # 0: one per 5,000 sockets
    client_procs: int = 0  # 0: one per 500 sockets, at most 8
    log_dir: Path = LOG_DIR
    trace: bool = False  # keep every change and receipt (log_dir/<subject>-<sockets>.trace.json)

    def daphnes_for(self, sockets: int) -> int:
        return self.daphnes or max(1, -(-sockets // 5000))

    def procs_for(self, sockets: int) -> int:
        return self.client_procs or min(8, max(1, -(-sockets // 500)))


def run_subject(subject: Subject, seats: list[Seat], sockets: int, opts: Options) -> dict[str, Any]:
    servers = Daphnes(
        subject.application, opts.daphnes_for(sockets), subject.env(), opts.log_dir / subject.name
    )
    servers.start()
    time.sleep(1.0)
    rss_before = servers.rss_kb()
    protocol = PROTOCOLS[subject.name]()
    targets = [
        protocol.target(servers.ports[i % len(servers.ports)], seat.customer_id, seat.session_key)
        for i, seat in ((i, seats[i % len(seats)]) for i in range(sockets))
    ]
    pool = ClientPool(subject.name, targets, opts.procs_for(sockets), opts.open_rate)
    ctx = multiprocessing.get_context("spawn")
    ready, stop = ctx.Event(), ctx.Event()
    records_in, records_out = ctx.Pipe(duplex=False)
    customers = sorted({seat.customer_id for seat in seats})
    write = ctx.Process(
        target=writer.run,
        args=(records_out, subject.name, customers, opts.rate, _writer_limit(opts), ready, stop),
        daemon=True,
    )
    result: dict[str, Any] = {
        "subject": subject.name,
        "sockets": sockets,
        "customers": len(seats),
        "rate": opts.rate,
        "daphnes": len(servers.ports),
        "client_procs": len(pool.conns),
        "open_rate": opts.open_rate,
    }
    try:
        opened_from = time.time()
        opened = pool.open(opts.handshake_timeout)
        result["connected"] = sum(reply["connected"] for reply in opened)
        result["open_errors"] = _sum_counts(reply["errors"] for reply in opened)
        result["open_seconds"] = round(time.time() - opened_from, 1)
        time.sleep(opts.settle)
        if result["connected"]:
            result["kb_per_socket"] = round((servers.rss_kb() - rss_before) / result["connected"], 1)
        write.start()
        if not ready.wait(60):
            raise RuntimeError("the writer did not start within 60 s")
        steady_from = time.time()
        time.sleep(opts.duration)
        storm_from = None
        if opts.storm:
            storm_from = time.time()
            result["storm"] = _storm(pool, opts)
            time.sleep(opts.tail)
        stop.set()
        if not records_in.poll(60):
            raise RuntimeError("the writer did not report within 60 s of being stopped")
        records = records_in.recv()
        end = time.time()
        finals = last_seqs(customers) if subject.name == "project" else None
        replies = pool.command("stop", opts.drain + 60, finals=finals, drain=opts.drain, quiet=1.0)
        holders = [holder for reply in replies for holder in reply]
        if opts.trace:
            trace = {
                "steady_from": steady_from,
                "storm_from": storm_from,
                "records": records,
                "holders": holders,
            }
            (opts.log_dir / f"{subject.name}-{sockets}.trace.json").write_text(json.dumps(trace))
        result["server_alive"] = servers.alive()
        result.update(
            analyse(
                records=records,
                holders=holders,
                steady_from=steady_from,
                storm_from=storm_from,
                end=end,
                finals=finals,
            )
        )
    finally:  # every step, even if one before it fails: nothing may outlive the run
        stop.set()
        with contextlib.ExitStack() as cleanup:
            cleanup.callback(servers.stop)
            cleanup.callback(pool.close)
            cleanup.callback(_stop_writer, write)
    return result


def _stop_writer(write: multiprocessing.Process) -> None:
    if write.pid is not None:
        write.join(timeout=10)
        if write.is_alive():
            write.terminate()


def _storm(pool: ClientPool, opts: Options) -> dict[str, Any]:
    replies = pool.command("storm", opts.storm_timeout + 30, timeout=opts.storm_timeout)
    dropped_at = min(reply["dropped_at"] for reply in replies)
    last = [reply["last_back_at"] for reply in replies if reply["last_back_at"] is not None]
    dropped = sum(reply["dropped"] for reply in replies)
    back = sum(reply["back"] for reply in replies)
    retries = sum(reply["retries"] for reply in replies)
    return {
        "dropped": dropped,
        "back": back,
        "timeout": opts.storm_timeout,
        "retries": retries,  # reconnects refused (daphne's 5 s to accept) and tried again
        # until the last socket was subscribed again (None if some never were)
        "seconds": round(max(last) - dropped_at, 2) if last and back == dropped else None,
    }


def _writer_limit(opts: Options) -> float:
    """The writer stops by itself after this, even if the harness never tells it."""
    return opts.duration + (opts.storm_timeout + opts.tail if opts.storm else 0) + 120


def _sum_counts(counts: Any) -> dict[str, int]:
    total: dict[str, int] = {}
    for each in counts:
        for key, value in each.items():
            total[key] = total.get(key, 0) + value
    return total
