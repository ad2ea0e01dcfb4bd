"""Tables and the plot, from the figures `bench.run` collects (or its --json files).

    .venv/bin/python -m bench.report results-a.json results-b.json --markdown out.md --plot out.png

merges several runs (say, the 5,000 and 10,000 sizes run on their own) into one table and plot.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from bench.subjects import INSTALL_HINT, SUBJECTS

ORDER = ("project", "floor", "floor-save", "peer")


def _ms(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.1f} ms" if value < 100 else f"{value:,.0f} ms"


def _ratio(value: float | None, base: float | None) -> str:
    return f"{value / base:.1f}x" if value and base else "-"


def _storm(result: dict[str, Any]) -> str:
    storm = result.get("storm")
    if not storm:
        return "-"
    retried = f" ({storm['retries']:,} retried)" if storm.get("retries") else ""
    if storm["seconds"] is None:
        return f"{storm['back']:,} of {storm['dropped']:,} back{retried}"
    return f"{storm['seconds']:.2f} s{retried}"


def _storm_loss(result: dict[str, Any]) -> str:
    """This project: seqs missing after the storm (must be 0). Others: frames never delivered."""
    if "seq_check" in result:
        check = result["seq_check"]
        return f"{check['missing']} seqs" + (f", {check['not_back']} not back" if check["not_back"] else "")
    window = result.get("storm_window")
    if not window:
        return "-"
    return (
        f"{window['frames_expected'] - window['frames_delivered']:,} of {window['frames_expected']:,} frames"
    )


def _connected(r: dict[str, Any]) -> str:
    connected = r.get("connected", 0)
    return f"{connected:,}" if connected == r["sockets"] else f"{connected:,} of {r['sockets']:,}"


def _sorted(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(results, key=lambda r: (r["sockets"], ORDER.index(r["subject"])))


def _ratios(r: dict[str, Any], by: dict[tuple[int, str], dict[str, Any]]) -> tuple[str, str]:
    """(p99 against the floor / the peer, p50 and p99 against the floor with the save)."""

    def of(subject: str, figure: str) -> float | None:
        value: float | None = by.get((r["sockets"], subject), {}).get(figure)
        return value

    if r["subject"] == "floor":
        return "-", "-"
    peer = "-" if r["subject"] == "peer" else _ratio(r.get("p99_ms"), of("peer", "p99_ms"))
    against_floor = f"{_ratio(r.get('p99_ms'), of('floor', 'p99_ms'))} / {peer}"
    if r["subject"] != "project":
        return against_floor, "-"
    saving = (
        f"{_ratio(r.get('p50_ms'), of('floor-save', 'p50_ms'))} / "
        f"{_ratio(r.get('p99_ms'), of('floor-save', 'p99_ms'))}"
    )
    return against_floor, saving


def markdown(results: list[dict[str, Any]]) -> str:
    """The results table (one row per size and subject), ratios against the floor, the floor
    with the save and the peer."""
    by = {(r["sockets"], r["subject"]): r for r in results}
    lines = [
        "| sockets | subject | connected | frames delivered / expected | p50 | p95 | p99 | max "
        "| p50 / p99 after the save | p99 vs floor / peer | p50 / p99 vs floor + save "
        "| storm: all back after | lost across the storm | storm p99 | daphne KB / socket | writer's save |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in _sorted(results):
        against_floor, against_saving_floor = _ratios(r, by)
        cells = [
            f"{r['sockets']:,}",
            SUBJECTS[r["subject"]].label,
            _connected(r),
            f"{r.get('frames_delivered', 0):,} / {r.get('frames_expected', 0):,}",
            _ms(r.get("p50_ms")),
            _ms(r.get("p95_ms")),
            _ms(r.get("p99_ms")),
            _ms(r.get("max_ms")),
            f"{_ms(r.get('after_save_p50_ms'))} / {_ms(r.get('after_save_p99_ms'))}",
            against_floor,
            against_saving_floor,
            _storm(r),
            _storm_loss(r),
            _ms((r.get("storm_window") or {}).get("p99_ms")),
            f"{r['kb_per_socket']:.0f}" if r.get("kb_per_socket") is not None else "-",
            _ms(r.get("writer_save_ms")) if r["subject"] != "floor" else "-",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    saves = [r for r in results if "save_ms_with_capture" in r]
    if saves:
        r = saves[0]
        lines += [
            "",
            "| `reschedule_job`, median | with this project's capture | without | added |",
            "|---|---|---|---|",
            f"| {r.get('date', '')} | {r['save_ms_with_capture']:.2f} ms | {r['save_ms_without']:.2f} ms "
            f"| {r['save_ms_with_capture'] - r['save_ms_without']:.2f} ms |",
        ]
    return "\n".join(lines) + "\n"


def one_line(r: dict[str, Any]) -> str:
    return (
        f"{r['subject']} {r['sockets']} sockets: {r.get('connected', 0)} connected {r.get('open_errors') or ''}, "
        f"{r.get('frames_delivered', 0)}/{r.get('frames_expected', 0)} frames, "
        f"p50 {_ms(r.get('p50_ms'))} p99 {_ms(r.get('p99_ms'))}, storm {_storm(r)} ({_storm_loss(r)}), "
        f"{r.get('kb_per_socket')} KB/socket, {r.get('run_seconds')} s"
    )


def plot(results: list[dict[str, Any]], path: Path) -> None:
    """p99 latency and storm time against sockets, one line per subject."""
    try:
        import matplotlib
    except ImportError:
        raise SystemExit(f"bench: the plot needs matplotlib: {INSTALL_HINT}") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter, LogLocator, NullLocator

    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4.4), constrained_layout=True)
    notes: dict[Any, list[str]] = {left: [], right: []}
    for index, name in enumerate(ORDER):
        rows = sorted((r for r in results if r["subject"] == name), key=lambda r: r["sockets"])
        if not rows:
            continue
        color = f"C{index}"
        whole = [r for r in rows if r.get("connected", 0) == r["sockets"]]
        # Lines join the sizes where every socket connected (and, right, every one came back);
        # an x marks the rest: a partial connect at its p99 and storm time, a storm that ran
        # out of time at the limit.
        p99 = [(r["sockets"], r["p99_ms"]) for r in whole if r.get("p99_ms") is not None]
        storm = [
            (r["sockets"], r["storm"]["seconds"]) for r in whole if (r.get("storm") or {}).get("seconds")
        ]
        left.plot(*_xy(p99), marker="o", color=color, label=SUBJECTS[name].label)
        right.plot(*_xy(storm), marker="o", color=color, label=SUBJECTS[name].label)
        for r in rows:
            partial = r not in whole
            where = f"{SUBJECTS[name].label}, {r['sockets']:,}"
            if partial and r.get("p99_ms") is not None:
                _mark(left, r["sockets"], r["p99_ms"], color)
                notes[left].append(f"x {where}: {_connected(r)} connected")
            storm_of = r.get("storm") or {}
            if partial and storm_of.get("seconds"):
                _mark(right, r["sockets"], storm_of["seconds"], color)
                notes[right].append(f"x {where}: {_connected(r)} connected")
            elif storm_of and storm_of["seconds"] is None and storm_of.get("timeout"):
                _mark(right, r["sockets"], storm_of["timeout"], color)
                back = f"{storm_of['back']:,} of {storm_of['dropped']:,}"
                notes[right].append(f"x {where}: {back} back in {storm_of['timeout']:.0f} s")
    for axis, lines in notes.items():
        if lines:
            axis.text(
                0.99, 0.02, "\n".join(lines), transform=axis.transAxes, fontsize=7, ha="right", va="bottom"
            )
    for axis, title, unit in (
        (left, "p99 latency, before save to socket", "ms"),
        (right, "reconnect storm: all subscribed again", "s"),
    ):
        axis.set_xscale("log")
        axis.set_yscale("log")
        sizes = sorted({r["sockets"] for r in results})
        axis.set_xticks(sizes, [f"{n:,}" for n in sizes])
        plain = FuncFormatter(lambda value, _pos: f"{value:g}")
        axis.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        axis.yaxis.set_major_formatter(plain)
        axis.yaxis.set_minor_formatter(FuncFormatter(lambda _value, _pos: ""))
        axis.xaxis.set_minor_locator(NullLocator())
        axis.set_xlabel("sockets")
        axis.set_ylabel(unit)
        axis.set_title(title)
        axis.grid(True, which="both", alpha=0.3)
        axis.legend()
    dates = sorted({r.get("date", "") for r in results})
    figure.suptitle(f"Side by side on loopback, 2 cores ({', '.join(d for d in dates if d)})", fontsize=10)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)


def _xy(points: list[tuple[float, float]]) -> tuple[list[float], list[float]]:
    return [x for x, _y in points], [y for _x, y in points]


def _mark(axis: Any, x: float, y: float, color: str) -> None:
    axis.plot([x], [y], marker="x", markersize=9, color=color, linestyle="none")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.report", description=__doc__)
    parser.add_argument("results", nargs="+", type=Path, help="--json files written by python -m bench")
    parser.add_argument("--markdown", type=Path)
    parser.add_argument("--plot", type=Path)
    args = parser.parse_args(argv)
    results = [r for path in args.results for r in json.loads(path.read_text())]
    print(markdown(results))
    if args.markdown:
        args.markdown.write_text(markdown(results))
    if args.plot:
        plot(results, args.plot)


if __name__ == "__main__":
    main()
