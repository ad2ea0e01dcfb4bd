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

ORDER = ("project", "floor", "peer")


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


def markdown(results: list[dict[str, Any]]) -> str:
    """The results table (one row per size and subject), ratios against the floor and the peer."""
    by = {(r["sockets"], r["subject"]): r for r in results}
    lines = [
        "| sockets | subject | connected | frames delivered / expected | p50 | p95 | p99 | max "
        "| p99 vs floor / peer | storm: all back after | lost across the storm | storm p99 "
        "| daphne KB / socket | writer's save |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in _sorted(results):
        floor = by.get((r["sockets"], "floor"), {}).get("p99_ms")
        peer = by.get((r["sockets"], "peer"), {}).get("p99_ms")
        ratios = (
            "-"
            if r["subject"] == "floor"
            else f"{_ratio(r.get('p99_ms'), floor)} / {_ratio(r.get('p99_ms'), peer)}"
        )
        if r["subject"] == "peer":
            ratios = f"{_ratio(r.get('p99_ms'), floor)} / -"
        cells = [
            f"{r['sockets']:,}",
            SUBJECTS[r["subject"]].label,
            _connected(r),
            f"{r.get('frames_delivered', 0):,} / {r.get('frames_expected', 0):,}",
            _ms(r.get("p50_ms")),
            _ms(r.get("p95_ms")),
            _ms(r.get("p99_ms")),
            _ms(r.get("max_ms")),
            ratios,
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

    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2), constrained_layout=True)
    for name in ORDER:
        rows = sorted((r for r in results if r["subject"] == name), key=lambda r: r["sockets"])
        label = SUBJECTS[name].label
        p99 = [(r["sockets"], r["p99_ms"]) for r in rows if r.get("p99_ms") is not None]
        storms = [(r["sockets"], r["storm"]) for r in rows if r.get("storm")]
        storm = [(n, s["seconds"] or s.get("timeout")) for n, s in storms if s["seconds"] or s.get("timeout")]
        if p99:
            (line,) = left.plot(*zip(*p99, strict=True), marker="o", label=label)
            for r in rows:  # say where not every socket connected
                if r.get("p99_ms") is not None and r.get("connected", 0) < r["sockets"]:
                    left.annotate(
                        _connected(r), (r["sockets"], r["p99_ms"]), fontsize=7, color=line.get_color()
                    )
        if storm:
            (line,) = right.plot(*zip(*storm, strict=True), marker="o", label=label)
            for n, s in storms:  # not all back within the storm's time limit: plotted at the limit
                if s["seconds"] is None and s.get("timeout"):
                    right.annotate(f"{s['back']:,} of {s['dropped']:,} back", (n, s["timeout"]), fontsize=7)
                    right.plot([n], [s["timeout"]], marker="x", markersize=10, color=line.get_color())
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
