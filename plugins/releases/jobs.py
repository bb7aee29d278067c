"""Scheduled jobs. They only enqueue: the nudge actors in tasks.py do the work.

The release times are domain data (each township's
:class:`~plugins.releases.models.ReleasePlan`). The job family ``releases.plan`` turns
every active plan into a trigger of its own in the scheduler, so a release is
published at its time (a changed plan is rescheduled on the scheduler's next poll):
the plan's nudge creates its batch and runs the batch's durable publish task itself,
one nudge per township. The due sweep, every minute, stays the safety net for
anything a trigger missed; it commits each batch it creates at once.
"""

from __future__ import annotations

from core.contract import JobSpec
from plugins.releases.services import DEFAULT_CRON, plan_instances

JOBS = [
    JobSpec(
        "releases.plan",
        "releases.plan_due",
        DEFAULT_CRON,
        label="发布计划（每镇一个触发器）",
        label_en="Release plans (one trigger per township)",
        coalesce=True,
        misfire_grace_time=3600,
        instances=plan_instances,
    ),
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
