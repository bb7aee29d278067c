"""Actors: the durable publication keyed by the batch, and the jobs' nudges."""

from __future__ import annotations

from datetime import datetime

from core.db import utcnow
from core.tasks import actor
from plugins.releases import services


@actor("releases.publish", queue_name="releases", max_retries=3)
def publish(batch_id: int) -> None:
    """Publish one release batch (durable: runs once per batch, committed with its task row)."""
    services.publish_batch(batch_id)


@actor("releases.plan_due", queue_name="releases", durable=False, max_retries=3)
def plan_due(township_id: int, scheduled_for: str | None = None) -> None:
    """A township's plan fired (its own trigger): create its batch and publish it at once.

    Counted from the due time itself, so a worker whose clock is a little behind the
    scheduler's still finds the release due. The batch and its durable publish task are
    committed first, then this task runs the publication itself (the task's own
    transaction, once): the release does not wait for a second message to reach a free
    worker. A publication that fails here goes to the workers (dramatiq's retries); the
    every-minute due sweep stays the safety net (the batch is unique per township and due
    time, so both create it once).
    """
    now = utcnow()
    if scheduled_for:
        now = max(now, datetime.fromisoformat(scheduled_for))
    services.due_sweep(now=now, township_ids=[township_id], send=False)
    services.publish_pending(township_id)


@actor("releases.due_sweep", queue_name="releases", durable=False, max_retries=0)
def due_sweep_job() -> None:
    """Scheduled nudge: create the batches the plans owe and enqueue their publication."""
    services.due_sweep()


@actor("releases.topic_reminders", queue_name="releases", durable=False, max_retries=0)
def topic_reminders_job() -> None:
    """Scheduled nudge: remind officers of overdue topic requests (once per due date)."""
    services.remind_overdue_topics()
