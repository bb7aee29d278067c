"""Scheduled jobs of the training institution (admins may change the trigger)."""

from __future__ import annotations

from core.contract import JobSpec

JOBS = [
    JobSpec(
        "training.month_end",
        "training.month_end",
        "0 9 25 * *",
        label="学习培训月末提醒",
        label_en="Training: month-end reminders to learners below the hours threshold",
        misfire_grace_time=6 * 3600,
    )
]
