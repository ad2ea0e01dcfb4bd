"""A tiny run of the benchmark harness (bench/, docs/benchmarks.md), so it cannot rot unseen.

Ten sockets over five customers, ten changes a second for two seconds, then the reconnect
storm, for this project, the floor and the floor with the writer's save (and the
djangochannelsrestframework peer when the bench extra is installed). Every expected frame must arrive, this project's seqs with no gap across
the storm, and the report must have its figures. The harness runs in its own process on a
scratch database named after the test database, which it creates and which is dropped here;
it refuses to drop a database it did not create.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys

import pytest
from django.conf import settings

from bench.database import drop_database
from tests.conftest import REDIS_URL, ROOT, database_url_for_tests, missing_service, redis_available

PEER = importlib.util.find_spec("djangochannelsrestframework") is not None
FIGURES = {"connected", "frames_expected", "frames_delivered", "p50_ms", "p95_ms", "p99_ms", "max_ms"}
FIGURES |= {"kb_per_socket", "storm", "storm_window", "writer_save_ms", "open_seconds"}
FIGURES |= {"after_save_p50_ms", "after_save_p99_ms"}


@pytest.fixture(scope="module")
def run(django_db_setup, tmp_path_factory):
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        missing_service("the benchmark harness needs PostgreSQL: set DATABASE_URL=postgres://...")
    if not redis_available():
        missing_service("the benchmark harness needs Redis: set REDIS_URL=redis://...")
    scratch = f"{database_url_for_tests()}_bench"
    out = tmp_path_factory.mktemp("bench")
    subjects = "project,floor,floor-save" + (",peer" if PEER else "")
    command = [sys.executable, "-m", "bench", "--sockets", "10", "--customers", "5", "--rate", "10"]
    command += ["--duration", "2", "--settle", "0.5", "--tail", "0.5", "--storm-timeout", "10"]
    command += ["--save-samples", "10", "--subjects", subjects, "--log-dir", str(out)]
    command += ["--json", str(out / "results.json"), "--markdown", str(out / "results.md")]
    env = dict(
        os.environ, DATABASE_URL=scratch, REDIS_URL=REDIS_URL, DJANGO_SETTINGS_MODULE="config.settings"
    )
    try:
        done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    finally:
        drop_database(scratch)
    assert done.returncode == 0, f"python -m bench failed:\n{done.stderr[-3000:]}"
    results = {r["subject"]: r for r in json.loads((out / "results.json").read_text())}
    return results, (out / "results.md").read_text()


@pytest.mark.parametrize("subject", ["project", "floor", "floor-save"])
def test_every_frame_arrives(run, subject):
    result = run[0][subject]
    assert set(result) >= FIGURES, sorted(FIGURES - set(result))
    assert result["connected"] == 10
    assert result["frames_expected"] > 0
    assert result["frames_delivered"] == result["frames_expected"]
    assert result["storm"]["back"] == result["storm"]["dropped"] == 10
    assert result["p50_ms"] <= result["p99_ms"] <= result["max_ms"]
    # Timed from the save's (the send's) return, so never longer than from just before it.
    assert result["after_save_p50_ms"] <= result["p50_ms"] and result["after_save_p99_ms"] <= result["p99_ms"]


def test_this_project_loses_nothing_across_the_storm(run):
    result = run[0]["project"]
    assert result["seq_check"] == {
        "sockets_checked": 10,
        "missing": 0,
        "duplicates": 0,
        "out_of_order": 0,
        "not_back": 0,
    }
    assert result["storm_window"]["frames_delivered"] == result["storm_window"]["frames_expected"] > 0
    assert result["save_ms_with_capture"] > 0 and result["save_ms_without"] > 0


def test_the_floor_with_the_save_reports_its_save(run):
    """Its writer saves through PostgreSQL before it sends; the table shows that save's time."""
    assert run[0]["floor-save"]["writer_save_ms"] > 0
    row = next(line for line in run[1].splitlines() if "floor + the writer's save" in line)
    assert row.rstrip(" |").rsplit("|", 1)[-1].strip().endswith("ms")


def test_report_table(run):
    table = run[1]
    assert "| sockets | subject |" in table
    assert "this project" in table and "floor (bare Channels)" in table
    assert "floor + the writer's save" in table and "vs floor + save" in table


def test_peer(run):
    if not PEER:
        pytest.skip("djangochannelsrestframework is not installed: pip install -e '.[bench]'")
    result = run[0]["peer"]
    assert set(result) >= FIGURES
    assert result["connected"] == 10
    assert result["frames_delivered"] == result["frames_expected"] > 0
