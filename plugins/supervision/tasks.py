"""Actors: the daily overdue nudge and the durable reminder per finding and deadline."""

from __future__ import annotations

from core.tasks import actor
from plugins.supervision import services


@actor("supervision.remind", queue_name="supervision", max_retries=3)
def remind(finding_id: int, deadline: str) -> None:
    """Remind the owner and the leading group of an overdue remedy (durable: once per
    finding and deadline, committed with its task row)."""
    services.remind(finding_id, deadline)


@actor("supervision.overdue_sweep", queue_name="supervision", durable=False, max_retries=0)
def overdue_sweep_job() -> None:
    """Scheduled nudge: record a reminder task for each remedy past its deadline."""
    services.record_overdue_reminders()


ACTORS = [remind, overdue_sweep_job]
