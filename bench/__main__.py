"""`python -m bench`: the side-by-side benchmark (bench/run.py)."""

from __future__ import annotations

from bench.run import main

main()
