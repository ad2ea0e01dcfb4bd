"""The browser client's unit tests (tests/js/*.test.mjs), run by node's own test runner.

They need Node.js (Debian's `nodejs`, no npm packages): without it they skip, and fail under
REQUIRE_SERVICES=1 like every other missing service. The browser suite proves the whole client
against daphne; these pin its logic (backoff, resume cursor, batching, visibility, the JS API).
"""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.conftest import ROOT, missing_service

JS_TESTS = sorted((ROOT / "tests" / "js").glob("*.test.mjs"))
MAX_JS_LINES = 250  # small modules with one job each (STYLE.md, "Client code")
JS_MODULES = sorted(
    path
    for path in [*(ROOT / "static").rglob("*.js"), *(ROOT / "tests" / "js").glob("*.mjs")]
    if "vendor" not in path.relative_to(ROOT).parts
)


def test_client_unit_tests_pass():
    node = shutil.which("node")
    if node is None:
        missing_service("needs Node.js for the client's unit tests (tests/js): apt-get install nodejs")
    assert JS_TESTS, "no tests/js/*.test.mjs"
    # Files, not a directory: node 18 and 20 read a directory, node 22 wants files or globs.
    result = subprocess.run(
        [node, "--test", *(str(path.relative_to(ROOT)) for path in JS_TESTS)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, (
        f"node --test failed (exit {result.returncode}):\n{result.stdout}{result.stderr}"
    )


@pytest.mark.parametrize("path", JS_MODULES, ids=lambda path: str(path.relative_to(ROOT)))
def test_client_module_is_small_and_type_checked(path):
    lines = path.read_text().splitlines()
    assert len(lines) <= MAX_JS_LINES, f"{len(lines)} lines: split it along a seam"
    if path.suffix == ".js":
        assert lines[0] == "// @ts-check", "every client module starts with // @ts-check"
