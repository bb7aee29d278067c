"""Scheduled jobs of leader appointments (admins may change the trigger)."""

from __future__ import annotations

from core.contract import JobSpec

JOBS = [
    JobSpec(
        "appointments.overdue_sweep",
        "appointments.overdue_sweep",
        "0 8 * * *",
        label="群众预约逾期未走访提醒",
        label_en="Leader appointments: remind of overdue home visits",
        misfire_grace_time=6 * 3600,
    )
]
