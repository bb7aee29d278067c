"""Scheduled jobs. They only enqueue: the actors in tasks.py do the work."""

from __future__ import annotations

from core.contract import JobSpec

JOBS = [
    JobSpec(
        "supervision.overdue_sweep",
        "supervision.overdue_sweep",
        "0 8 * * *",
        label="服务监督整改逾期提醒",
        label_en="Overdue remedy reminders",
        coalesce=True,
        misfire_grace_time=6 * 3600,
    ),
]
