"""Scheduled jobs of proxy handling (admins may change the trigger)."""

from __future__ import annotations

from core.contract import JobSpec

JOBS = [
    JobSpec(
        "proxy.overdue_sweep",
        "proxy.overdue_sweep",
        "30 8 * * *",
        label="代办事项逾期提醒",
        label_en="Proxy handling: remind of overdue steps",
        misfire_grace_time=6 * 3600,
    )
]
