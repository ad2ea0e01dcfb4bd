"""docs/architecture.md's rules, checked: the one-way import graph and small modules (Python and JS)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# package -> packages it must never import (the graph is config -> portal -> crm -> realtime).
FORBIDDEN = {
    "realtime": {"crm", "portal", "config"},
    "crm": {"portal", "config"},
    "portal": {"config"},
}


def imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def python_files(package: str) -> list[Path]:
    return sorted(path for path in (ROOT / package).rglob("*.py") if "migrations" not in path.parts)


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_imports_point_one_way(package):
    wrong = {
        str(path.relative_to(ROOT)): sorted(imported_packages(path) & FORBIDDEN[package])
        for path in python_files(package)
        if imported_packages(path) & FORBIDDEN[package]
    }
    assert not wrong, f"{package} must not import {sorted(FORBIDDEN[package])}: {wrong}"


MAX_PYTHON_LINES = 300


def test_no_python_module_is_over_300_lines():
    # bench/ included: the harness is code we keep, like the rest.
    folders = ("config", "crm", "realtime", "portal", "tests", "bench")
    long = {
        str(path.relative_to(ROOT)): length
        for folder in folders
        for path in python_files(folder)
        if (length := len(path.read_text().splitlines())) > MAX_PYTHON_LINES
    }
    assert not long, f"split these along a seam of the domain (at most {MAX_PYTHON_LINES} lines): {long}"


MAX_JS_LINES = 250


def test_no_client_module_is_over_250_lines():
    long = {
        str(path.relative_to(ROOT)): length
        for path in sorted((ROOT / "static").rglob("*.js"))
        if "vendor" not in path.parts and (length := len(path.read_text().splitlines())) > MAX_JS_LINES
    }
    assert not long, f"split these client modules (at most {MAX_JS_LINES} lines): {long}"
