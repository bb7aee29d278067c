"""Scheduled jobs of information feedback (admins may change the triggers); each only
enqueues its actor."""

from __future__ import annotations

from core.contract import JobSpec

JOBS = [
    JobSpec(
        "feedback.duty_report_sweep",
        "feedback.duty_report_sweep",
        "*/15 * * * *",
        label="值班报告报送检查",
        label_en="Information feedback: duty reports due and missing",
        misfire_grace_time=900,
    ),
    JobSpec(
        "feedback.monthly_digest",
        "feedback.digest_sweep",
        "0 8 1 * *",
        label="信息反馈月度汇总",
        label_en="Information feedback: monthly digest for the leadership",
        misfire_grace_time=24 * 3600,
    ),
]
