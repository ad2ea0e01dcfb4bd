"""From what the writer wrote and what the sockets received to the figures of one subject.

Windows, by the writer's clock just before each change:

- steady: from the writer's start (its warm-up changes count for delivery, not for latency)
  until STORM_GRACE before the storm; latency percentiles come from here;
- storm: from then until the writer stops (it keeps writing while the sockets come back). It
  starts a little before the drop because a change written just before it may still be on its
  way when the sockets go: the floor and the peer lose it, this project replays it.

Delivery counts (change, socket) pairs: a change to customer c is expected once on every socket
of c that was open. For this project the stream is also checked by `seq`: every socket must
receive every seq of its customer after the one it started from, once, in order, across the
storm ("lost" must be 0). The floor and the peer have no replay: what they miss while a socket
is away is gone, and the storm's delivered-against-expected shows how much.
"""

from __future__ import annotations

import itertools
import statistics
from collections import defaultdict
from typing import Any

STORM_GRACE = 1.0  # seconds


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def latency_figures(values: list[float]) -> dict[str, float | None]:
    def ms(value: float | None) -> float | None:
        return None if value is None else round(value * 1000, 2)

    return {
        "p50_ms": ms(percentile(values, 0.50)),
        "p95_ms": ms(percentile(values, 0.95)),
        "p99_ms": ms(percentile(values, 0.99)),
        "max_ms": ms(max(values) if values else None),
    }


def _window(
    records: list[tuple[str, int, float, float]],
    holders: list[dict],
    sockets_of: dict[int, list[int]],
    start: float,
    end: float,
) -> dict[str, Any]:
    """Delivery and latency of the changes written in [start, end)."""
    written = {
        key: (customer, before, after) for key, customer, before, after in records if start <= before < end
    }
    expected = sum(len(sockets_of.get(customer, ())) for customer, _before, _after in written.values())
    delivered = 0
    latencies = []
    after_save = []  # from the save's (or the floor's send's) return: what the server side adds
    for holder in holders:
        seen = set()
        for key, received in holder["receipts"]:
            change = written.get(key)
            if change is None or key in seen or change[0] != holder["customer"]:
                continue
            seen.add(key)
            latencies.append(received - change[1])
            after_save.append(received - change[2])
        delivered += len(seen)
    return {
        "changes": len(written),
        "expected": expected,
        "delivered": delivered,
        "latencies": latencies,
        "after_save": after_save,
    }


def seq_check(holders: list[dict], finals: dict[int, int]) -> dict[str, int]:
    """This project's stream, per socket: every seq after its start, once, in order."""
    checked = missing = duplicates = unordered = not_back = 0
    for holder in holders:
        if holder["opened_at"] is None or holder["first_seq"] is None:
            continue
        if not holder["subscribed"]:
            not_back += 1
            continue
        checked += 1
        seqs = holder["seqs"]
        want = set(range(holder["first_seq"] + 1, finals.get(holder["customer"], 0) + 1))
        missing += len(want - set(seqs))
        duplicates += len(seqs) - len(set(seqs))
        unordered += sum(1 for a, b in itertools.pairwise(seqs) if b <= a)
    return {
        "sockets_checked": checked,
        "missing": missing,
        "duplicates": duplicates,
        "out_of_order": unordered,
        "not_back": not_back,
    }


def analyse(
    *,
    records: list[tuple[str, int, float, float]],
    holders: list[dict],
    steady_from: float,
    storm_from: float | None,
    end: float,
    finals: dict[int, int] | None,
) -> dict[str, Any]:
    opened = [h for h in holders if h["opened_at"] is not None]
    sockets_of: dict[int, list[int]] = defaultdict(list)
    for index, holder in enumerate(opened):
        sockets_of[holder["customer"]].append(index)
    first = min((before for _k, _c, before, _a in records), default=steady_from)
    steady_end = storm_from - STORM_GRACE if storm_from is not None else end + 3600
    everything = _window(records, opened, sockets_of, first, steady_end)
    steady = _window(records, opened, sockets_of, steady_from, steady_end)
    saves = [after - before for _k, _c, before, after in records]
    result: dict[str, Any] = {
        "changes": everything["changes"],
        "frames_expected": everything["expected"],
        "frames_delivered": everything["delivered"],
        "frames_lost": everything["expected"] - everything["delivered"],
        **latency_figures(steady["latencies"]),
        "after_save_p50_ms": latency_figures(steady["after_save"])["p50_ms"],
        "after_save_p99_ms": latency_figures(steady["after_save"])["p99_ms"],
        "writer_save_ms": round(statistics.median(saves) * 1000, 3) if saves else None,
        "errors": _kinds(holders),
    }
    if storm_from is not None:
        storm = _window(records, opened, sockets_of, steady_end, end + 3600)
        figures = latency_figures(storm["latencies"])
        result["storm_window"] = {
            "changes": storm["changes"],
            "frames_expected": storm["expected"],
            "frames_delivered": storm["delivered"],
            "p95_ms": figures["p95_ms"],
            "p99_ms": figures["p99_ms"],
        }
    if finals is not None:
        result["seq_check"] = seq_check(holders, finals)
    return result


def _kinds(holders: list[dict]) -> dict[str, int]:
    """Frames other than changes and confirmations (resync, error, closes), summed."""
    counts: dict[str, int] = defaultdict(int)
    for holder in holders:
        for kind, count in holder["kinds"].items():
            if kind not in {"subscribed", "pong"}:
                counts[kind] += count
    return dict(counts)
