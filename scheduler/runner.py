"""What a scheduled job does when it fires: check the lease, enqueue, record the run.

A job never does the work itself (DESIGN.md: "scheduler jobs enqueue, workers
work"): :func:`fire` sends the job's (non-durable, idempotent) nudge actor and
writes a :class:`~core.models.JobRun` row (due time, fire time, holder, outcome)
the admin shows as the job's last run.

Exactly once per due time:

* fencing: the process must hold an unexpired lease at the moment it fires
  (a scheduler that lost its lease and has not noticed yet enqueues nothing);
* de-duplication: a due time that already has a run row is not fired again
  (the window where a killed scheduler had fired but not yet stored the job's
  next run time). The row is written before the message is sent, so a crash in
  between loses that one nudge rather than doubling it; the next due time and
  the database sweep cover it.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from core.db import db, utcnow
from core.models import JobRun, JobSchedule
from core.plugins import state

if TYPE_CHECKING:
    from scheduler.service import SchedulerService

log = logging.getLogger(__name__)

#: outcomes of a run, as stored in ``JobRun.outcome``
OK, ERROR, SKIPPED = "ok", "error", "skipped"

#: run rows older than this are deleted by the active scheduler
RUNS_KEPT_DAYS = 30

#: the services active in this process (normally one), for :func:`fire` called without one
_active: list[SchedulerService] = []


def _service(service: SchedulerService | None) -> SchedulerService | None:
    if service is not None:
        return service
    return _active[-1] if _active else None


def _already_ran(job_id: str, scheduled_for: datetime | None) -> bool:
    if scheduled_for is None:
        return False
    return (
        db.session.scalar(
            select(JobRun.id).where(JobRun.job_id == job_id, JobRun.scheduled_for == scheduled_for)
        )
        is not None
    )


def _disabled(job_id: str) -> bool:
    """An admin switched the job off (the scheduler drops it on its next poll)."""
    return (
        db.session.scalar(select(JobSchedule.enabled).where(JobSchedule.job_id == job_id)) is False
    )


def prune_runs(keep_days: int = RUNS_KEPT_DAYS) -> int:
    """Delete run rows older than ``keep_days`` (the active scheduler does it hourly)."""
    result = db.session.execute(
        delete(JobRun).where(JobRun.fired_at < utcnow() - timedelta(days=keep_days))
    )
    db.session.commit()
    return result.rowcount


def fire(
    job_id: str,
    scheduled_for: datetime | None = None,
    *,
    service: SchedulerService | None = None,
) -> str | None:
    """Enqueue the actor of job ``job_id`` for its due time ``scheduled_for``.

    Returns the recorded outcome, or None when nothing was recorded (the lease is
    not ours, or this due time already ran).
    """
    service = _service(service)
    if service is None:
        log.warning("job %s fired outside a scheduler service; ignored", job_id)
        return None
    with service.app.app_context():
        try:
            if not service.lease.holds():
                log.warning("job %s: this scheduler does not hold the lease; not firing", job_id)
                return None
            if _already_ran(job_id, scheduled_for):
                log.info("job %s already ran for %s; not firing again", job_id, scheduled_for)
                return None
            if _disabled(job_id):
                log.info("job %s was disabled since it was scheduled; not firing", job_id)
                return None
            spec = state().jobs.get(job_id)
            lazy = state().actors.get(spec.actor_name) if spec else None
            run = JobRun(
                job_id=job_id,
                scheduled_for=scheduled_for,
                fired_at=utcnow(),
                holder=service.lease.holder,
                outcome=OK,
            )
            db.session.add(run)
            if lazy is None:
                run.outcome = SKIPPED
                run.message = "the job or its actor is no longer declared by any plugin"
                db.session.commit()
                return run.outcome
            try:
                db.session.commit()
            except IntegrityError:  # another scheduler recorded this due time first
                db.session.rollback()
                log.warning(
                    "job %s already fired for %s elsewhere; not firing", job_id, scheduled_for
                )
                return None
            try:
                lazy.send(**(spec.kwargs or {}))
            except Exception as exc:  # the broker may be down; the next due time retries
                log.exception("job %s: could not enqueue %s", job_id, spec.actor_name)
                run.outcome = ERROR
                run.message = f"could not enqueue {spec.actor_name}: {exc!r}"[:2000]
                db.session.commit()
            else:
                log.info("job %s fired (due %s): sent %s", job_id, scheduled_for, spec.actor_name)
            return run.outcome
        finally:
            db.session.remove()


def record_missed(
    job_id: str,
    scheduled_for: datetime,
    late_by: timedelta,
    grace_seconds: int | None,
    *,
    service: SchedulerService | None = None,
) -> str | None:
    """Record a due time that passed its misfire grace time unfired (outcome "skipped")."""
    service = _service(service)
    if service is None:
        return None
    with service.app.app_context():
        try:
            if not service.lease.holds() or _already_ran(job_id, scheduled_for):
                return None
            db.session.add(
                JobRun(
                    job_id=job_id,
                    scheduled_for=scheduled_for,
                    fired_at=utcnow(),
                    holder=service.lease.holder,
                    outcome=SKIPPED,
                    message=(
                        f"missed by {int(late_by.total_seconds())} s "
                        f"(misfire grace time {grace_seconds} s)"
                    ),
                )
            )
            db.session.commit()
            log.warning("job %s missed its run of %s by %s", job_id, scheduled_for, late_by)
            return SKIPPED
        finally:
            db.session.remove()
