"""Actors: the year-end nudge and the durable application of the rule per township."""

from __future__ import annotations

from core.db import db
from core.models import OrgUnit
from core.tasks import actor
from plugins.evaluation import services


@actor("evaluation.apply_rule", queue_name="evaluation", max_retries=3)
def apply_rule(township_id: int, year: int) -> None:
    """Apply a year's consequences for one township (durable, idempotent: committed with
    its task row)."""
    township = db.session.get(OrgUnit, township_id)
    if township is not None:
        services.apply_rule(township, year, commit=False)


@actor("evaluation.year_end", queue_name="evaluation", durable=False, max_retries=0)
def year_end_job() -> None:
    """Scheduled nudge: record one rule task per township for the year just ended."""
    services.record_year_end()


ACTORS = [apply_rule, year_end_job]
