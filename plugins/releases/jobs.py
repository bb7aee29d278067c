"""Scheduled jobs. They only enqueue: the nudge actors in tasks.py do the work.

The release times themselves are domain data (each township's
:class:`~plugins.releases.models.ReleasePlan`), not jobs: the due sweep reads
the plans every minute, so editing a plan takes effect without a restart.
"""

from __future__ import annotations

from core.contract import JobSpec

JOBS = [
    JobSpec(
        "releases.due_sweep",
        "releases.due_sweep",
        "every 1 minutes",
        label="到期信息发布",
        label_en="Release batches that are due",
        coalesce=True,
        misfire_grace_time=3600,
    ),
    JobSpec(
        "releases.topic_reminders",
        "releases.topic_reminders",
        "0 8 * * *",
        label="点题公开逾期提醒",
        label_en="Overdue topic request reminders",
        coalesce=True,
        misfire_grace_time=6 * 3600,
    ),
]
