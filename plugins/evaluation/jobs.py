"""Scheduled jobs. They only enqueue: the actors in tasks.py do the work."""

from __future__ import annotations

from core.contract import JobSpec

JOBS = [
    JobSpec(
        "evaluation.year_end",
        "evaluation.year_end",
        "0 9 10 1 *",
        label="年度群众满意度后果认定",
        label_en="Consequences of last year's citizen satisfaction",
        coalesce=True,
        misfire_grace_time=7 * 24 * 3600,
    ),
]
