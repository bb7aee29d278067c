"""Actors of extended hours: the coverage check (the daily job enqueues it)."""

from __future__ import annotations

from core.institutions import townships_enabling
from core.tasks import actor
from plugins.extended_hours import services
from plugins.extended_hours.policy import KEY


@actor("extended_hours.coverage_sweep", queue_name="extended_hours", durable=False, max_retries=0)
def coverage_sweep() -> None:
    """Check the window rota of the coming weeks in every township that adopted the
    institution: new empty days go to the township administrators' inbox (told once per
    day), days filled since are marked covered. Idempotent."""
    services.sweep(townships_enabling(KEY))


ACTORS = [coverage_sweep]
