"""Actors of information feedback: the duty report sweep and the durable "missing" task,
the monthly digest's sweep and its durable notification."""

from __future__ import annotations

from core import clock
from core.db import db
from core.institutions import townships_enabling
from core.tasks import actor, enqueue
from plugins.feedback import services
from plugins.feedback.policy import KEY


@actor("feedback.duty_report_sweep", queue_name="feedback", durable=False, max_retries=0)
def duty_report_sweep() -> None:
    """Write the duty reports of the duty days begun and record one durable task per
    township and duty date whose report is past its time (each is found missing once)."""
    services.sweep(townships_enabling(KEY))


@actor("feedback.duty_report_missing", queue_name="feedback")
def duty_report_missing(township_id: int, duty_date: str) -> None:
    """Mark a duty report missing and tell the people on duty and the office (durable,
    idempotent: nothing if it was filed meanwhile)."""
    services.mark_missing(township_id, duty_date)


@actor("feedback.digest_sweep", queue_name="feedback", durable=False, max_retries=0)
def digest_sweep() -> None:
    """At the start of a month: one durable digest task per township for the month just
    ended (by the township's today), whatever how often it runs."""
    for tid in sorted(townships_enabling(KEY)):
        year, month = services.previous_month(clock.today(tid))
        value = f"{year:04d}-{month:02d}"
        enqueue(
            "feedback.send_digest",
            f"feedback.send_digest:{tid}:{value}",
            township_id=tid,
            month=value,
        )
    db.session.commit()


@actor("feedback.send_digest", queue_name="feedback")
def send_digest(township_id: int, month: str) -> None:
    """Tell the leadership the month's digest is ready (durable, once per month)."""
    services.send_digest(township_id, month)


ACTORS = [duty_report_sweep, duty_report_missing, digest_sweep, send_digest]
