"""Actors: the daily sweep (a nudge that only enqueues) and the durable reminder."""

from __future__ import annotations

from core.tasks import actor
from plugins.archives import services


@actor("archives.overdue_sweep", queue_name="archives", durable=False, max_retries=0)
def overdue_sweep_job() -> None:
    """Scheduled nudge: enqueue one reminder per overdue loan and due date."""
    services.overdue_sweep()


@actor("archives.loan_reminder", queue_name="archives", max_retries=3)
def loan_reminder(loan_id: int, due_on: str) -> None:
    """Remind the borrower and the archivists of one overdue loan (durable, once per due date)."""
    services.send_overdue_reminder(loan_id, due_on)
