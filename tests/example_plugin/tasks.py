"""Example actors: a durable one with a visible effect, and the job's nudge."""

from __future__ import annotations

import os
import time

from core.db import db
from core.tasks import actor
from tests.example_plugin.models import ExampleStamp


@actor("example.stamp", queue_name="example", min_backoff=200, max_backoff=1000)
def stamp(note_id: int, sleep: float = 0.0) -> None:
    """Stamp a note, pausing ``sleep`` seconds in the middle (tests kill the worker there)."""
    db.session.add(ExampleStamp(note_id=note_id, worker_pid=os.getpid()))
    db.session.flush()
    marker = os.environ.get("EXAMPLE_STAMP_MARKER")
    if marker:
        with open(marker, "a") as fh:
            fh.write(f"{os.getpid()} started {note_id}\n")
    time.sleep(sleep)


@actor("example.tick", queue_name="example", durable=False, max_retries=0)
def tick() -> None:
    """The example job's work: nothing (the scheduler test counts the job's runs)."""
