"""Scheduled jobs of extended hours (admins may change the trigger); each only enqueues."""

from __future__ import annotations

from core.contract import JobSpec

JOBS = [
    JobSpec(
        "extended_hours.coverage_check",
        "extended_hours.coverage_sweep",
        "0 7 * * *",
        label="窗口值班覆盖检查",
        label_en="Extended hours: days without anyone at the service windows",
        misfire_grace_time=6 * 3600,
    )
]
