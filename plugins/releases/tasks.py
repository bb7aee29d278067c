"""Actors: the durable publication keyed by the batch, and the jobs' nudges."""

from __future__ import annotations

from core.tasks import actor
from plugins.releases import services


@actor("releases.publish", queue_name="releases", max_retries=3)
def publish(batch_id: int) -> None:
    """Publish one release batch (durable: runs once per batch, committed with its task row)."""
    services.publish_batch(batch_id)


@actor("releases.due_sweep", queue_name="releases", durable=False, max_retries=0)
def due_sweep_job() -> None:
    """Scheduled nudge: create the batches the plans owe and enqueue their publication."""
    services.due_sweep()


@actor("releases.topic_reminders", queue_name="releases", durable=False, max_retries=0)
def topic_reminders_job() -> None:
    """Scheduled nudge: remind officers of overdue topic requests (once per due date)."""
    services.remind_overdue_topics()
