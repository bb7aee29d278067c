"""Actors of leader appointments: the daily sweep and the durable overdue reminder."""

from __future__ import annotations

from core.db import db
from core.institutions import townships_enabling
from core.tasks import actor, enqueue
from plugins.appointments import services
from plugins.appointments.policy import KEY


@actor("appointments.overdue_sweep", queue_name="appointments", durable=False, max_retries=0)
def overdue_sweep() -> None:
    """Queue cards whose leader is back but whose return was not heard (safety net), then
    record one reminder task per overdue card and due date: a card reminds once however
    often the sweep runs (the task's key is unique)."""
    townships = townships_enabling(KEY)
    services.catch_up_returns(townships)
    for card_id, due in services.overdue_cards(townships):
        enqueue(
            "appointments.remind",
            f"appointments.remind:{card_id}:{due.isoformat()}",
            card_id=card_id,
            due_on=due.isoformat(),
        )
    db.session.commit()


@actor("appointments.remind", queue_name="appointments")
def remind(card_id: int, due_on: str) -> None:
    """Tell the card's leader and the supervisors that the home visit is overdue (durable,
    idempotent: nothing if the card was visited or its due date changed since; the
    notification's key is per card and due date)."""
    services.remind_overdue(card_id, due_on)


ACTORS = [overdue_sweep, remind]
