"""The subjects a run compares, and how each is served.

- `project`: this project, as deployed: daphne serving config.asgi (PostgreSQL, the Redis
  layer); the writer reschedules jobs through `crm.services`.
- `floor`: a bare Channels consumer per customer group (bench/floor_asgi.py), no database or
  auth; the writer `group_send`s timestamped messages.
- `floor-save`: the floor, with the writer saving each change first exactly as this project's
  writer does (`crm.services.reschedule_job` on PostgreSQL, without this project's capture),
  then `group_send`ing it. It prices the save itself: what a design that commits before it
  publishes cannot go below, whatever it does after the save.
- `peer`: djangochannelsrestframework's `@model_observer` on the same `Job` model
  (bench/dcrf_asgi.py), from the `bench` extra; the writer saves jobs as for the project.
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass

from bench.processes import ROOT

INSTALL_HINT = "pip install -e '.[bench]'"


@dataclass(frozen=True)
class Subject:
    name: str
    label: str
    application: str  # what daphne serves
    settings: str

    def missing(self) -> str | None:
        """Why this subject cannot run here, or None."""
        if self.name == "peer" and importlib.util.find_spec("djangochannelsrestframework") is None:
            return f"djangochannelsrestframework is not installed: {INSTALL_HINT}"
        return None

    def env(self) -> dict[str, str]:
        """Environment of its daphne processes."""
        return dict(
            os.environ,
            DJANGO_SETTINGS_MODULE=self.settings,
            PYTHONPATH=str(ROOT),
            PYTHONUNBUFFERED="1",
        )


SUBJECTS = {
    "project": Subject("project", "this project", "config.asgi:application", "config.settings"),
    "floor": Subject(
        "floor", "floor (bare Channels)", "bench.floor_asgi:application", "bench.floor_settings"
    ),
    "floor-save": Subject(
        "floor-save", "floor + the writer's save", "bench.floor_asgi:application", "bench.floor_settings"
    ),
    "peer": Subject("peer", "DCRF model observer", "bench.dcrf_asgi:application", "bench.dcrf_settings"),
}
