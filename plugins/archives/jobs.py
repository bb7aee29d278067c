"""Scheduled jobs. They only enqueue: the actors in tasks.py do the work."""

from __future__ import annotations

from core.contract import JobSpec

JOBS = [
    JobSpec(
        "archives.overdue_sweep",
        "archives.overdue_sweep",
        "0 8 * * *",
        label="档案借阅逾期提醒",
        label_en="Overdue archive loan reminders",
        coalesce=True,
        misfire_grace_time=6 * 3600,
    ),
]
