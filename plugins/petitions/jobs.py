"""Scheduled jobs of the petition institution (admins may change the trigger)."""

from __future__ import annotations

from core.contract import JobSpec

JOBS = [
    JobSpec(
        "petitions.overdue_sweep",
        "petitions.overdue_sweep",
        "0 8 * * *",
        label="信访件逾期督办提醒",
        label_en="Petitions: remind of overdue follow-ups and acceptance decisions",
        misfire_grace_time=6 * 3600,
    )
]
