"""Side by side: this project, the bare Channels floor (alone and with the writer's save) and a
djangochannelsrestframework peer.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_bench REDIS_URL=redis://127.0.0.1:6379/1 \\
        .venv/bin/python -m bench --sockets 100,1000 --rate 100 --duration 30 \\
        --json bench-results.json --markdown bench-results.md --plot docs/img/benchmarks.png

For each size in --sockets, each subject in turn gets the same sockets (two per customer unless
--customers says otherwise), the same writer rate and the same phases (bench/scenario.py):
open at --open-rate, steady state, reconnect storm, drain. Everything runs on loopback and
stops by itself. The database in DATABASE_URL is created by the harness (it refuses to drop one
it did not create, unless --replace-database). The peer needs the bench extra:
`pip install -e '.[bench]'`.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

from bench import report
from bench.database import create_database, measure_save_overhead, seed
from bench.processes import bench_env, raise_open_files, setup_django
from bench.scenario import LOG_DIR, Options, run_subject
from bench.subjects import INSTALL_HINT, SUBJECTS

LAYERS = ("pubsub", "core")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add = parser.add_argument
    add("--sockets", default="1000", help="comma-separated sizes, e.g. 100,1000,5000,10000")
    add("--customers", type=int, default=0, help="customers per size (default: sockets / 2)")
    add("--subjects", default="project,floor,floor-save,peer", help="any of " + ", ".join(SUBJECTS))
    add("--rate", type=float, default=100, help="changes per second from the writer")
    add("--duration", type=float, default=30, help="seconds of steady state (30: one periodic check)")
    add("--open-rate", type=float, default=100, help="sockets opened per second")
    add("--handshake-timeout", type=float, default=10, help="seconds for a socket to be subscribed")
    add("--settle", type=float, default=2, help="idle seconds before daphne's memory is read")
    add("--tail", type=float, default=2, help="seconds the writer goes on after the storm")
    add("--no-storm", dest="storm", action="store_false", help="skip the reconnect storm")
    add("--storm-timeout", type=float, default=60)
    add("--daphnes", type=int, default=0, help="daphne processes (default: one per 5,000 sockets)")
    add("--client-procs", type=int, default=0, help="client processes (default: 1 per 500 sockets, <= 8)")
    add("--layer", choices=LAYERS, default="pubsub", help="this project's and the floor's channel layer")
    add("--save-samples", type=int, default=300, help="reschedules timed for the save overhead (0: skip)")
    add("--replace-database", action="store_true", help="drop DATABASE_URL's database even if not ours")
    add("--json", type=Path, help="write every figure here")
    add("--markdown", type=Path, help="write the tables here")
    add("--plot", type=Path, help="write the p99 and storm plot here (PNG, needs matplotlib)")
    add("--log-dir", type=Path, default=LOG_DIR, help="daphne logs (and traces)")
    add("--trace", action="store_true", help="also write every change and receipt to --log-dir")
    return parser.parse_args(argv)


def run(args: argparse.Namespace) -> list[dict[str, Any]]:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres") or not os.environ.get("REDIS_URL"):
        raise SystemExit("bench needs DATABASE_URL (a scratch PostgreSQL database) and REDIS_URL")
    if args.plot and importlib.util.find_spec("matplotlib") is None:  # say so before a long run
        raise SystemExit(f"bench: --plot needs matplotlib: {INSTALL_HINT}")
    sizes = [int(size) for size in args.sockets.split(",") if size]
    names = [name for name in args.subjects.split(",") if name]
    unknown = set(names) - set(SUBJECTS)
    if unknown:
        raise SystemExit(f"bench: unknown subjects {sorted(unknown)}; known: {sorted(SUBJECTS)}")
    subjects = []
    for name in names:
        reason = SUBJECTS[name].missing()
        if reason:
            print(f"bench: skipping {name}: {reason}", file=sys.stderr)
        else:
            subjects.append(SUBJECTS[name])
    os.environ["REALTIME_LAYER"] = args.layer
    bench_env()
    limit = raise_open_files()
    if limit < 2 * max(sizes) + 100:
        print(f"bench: only {limit} open files allowed; large sizes may fail on the client", file=sys.stderr)
    create_database(url, replace=args.replace_database)
    setup_django()
    customers_for = {size: args.customers or max(1, size // 2) for size in sizes}
    seats = seed(max(customers_for.values()))
    overhead: dict[str, float] = {}
    if args.save_samples and any(s.name == "project" for s in subjects):
        overhead = measure_save_overhead([job for seat in seats for job in seat.job_ids], args.save_samples)
    opts = Options(
        rate=args.rate,
        duration=args.duration,
        open_rate=args.open_rate,
        handshake_timeout=args.handshake_timeout,
        settle=args.settle,
        tail=args.tail,
        storm=args.storm,
        storm_timeout=args.storm_timeout,
        daphnes=args.daphnes,
        client_procs=args.client_procs,
        log_dir=args.log_dir,
        trace=args.trace,
    )
    results = []
    for size in sizes:
        for subject in subjects:
            started = time.monotonic()
            print(f"bench: {subject.name} with {size} sockets ...", file=sys.stderr, flush=True)
            result = run_subject(subject, seats[: customers_for[size]], size, opts)
            result["layer"] = args.layer
            result["date"] = time.strftime("%Y-%m-%d")
            if subject.name == "project":
                result.update(overhead)
            result["run_seconds"] = round(time.monotonic() - started, 1)
            results.append(result)
            print(f"bench: {report.one_line(result)}", file=sys.stderr, flush=True)
            if args.json:  # after every subject: a long run that dies keeps what it measured
                args.json.write_text(json.dumps(results, indent=1))
    return results


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    # SIGTERM unwinds like Ctrl-C, so the daphne, writer and client processes are stopped too.
    signal.signal(signal.SIGTERM, lambda _signum, _frame: sys.exit(143))
    results = run(args)
    print(report.markdown(results))
    if args.markdown:
        args.markdown.write_text(report.markdown(results))
    if args.plot:
        report.plot(results, args.plot)
