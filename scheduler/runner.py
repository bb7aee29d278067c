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

from sqlalchemy import delete, func, select
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
    """An admin switched the job (or its family) off (the scheduler drops it on its next poll)."""
    ids = {job_id, family_of(job_id)}
    return (
        db.session.scalar(
            select(JobSchedule.job_id).where(
                JobSchedule.job_id.in_(ids), JobSchedule.enabled.is_(False)
            )
        )
        is not None
    )


def prune_runs(keep_days: int = RUNS_KEPT_DAYS) -> int:
    """Delete run rows older than ``keep_days`` (the active scheduler does it hourly)."""
    result = db.session.execute(
        delete(JobRun).where(JobRun.fired_at < utcnow() - timedelta(days=keep_days))
    )
    db.session.commit()
    return result.rowcount


def job_kwargs(job_id: str, spec) -> dict:
    """The message's arguments: the spec's, plus what the scheduler decides for the job.

    ``core.resend_sweep`` gets the scheduler's ``SWEEP_GRACE_SECONDS``, so the grace
    time is set where the sweep's interval is set (not on every worker).
    """
    from flask import current_app

    kwargs = dict(spec.kwargs or {})
    if job_id == "core.resend_sweep" and current_app.config.get("SWEEP_GRACE_SECONDS") is not None:
        kwargs.setdefault("grace_seconds", int(current_app.config["SWEEP_GRACE_SECONDS"]))
    return kwargs


def family_of(job_id: str) -> str:
    """The declared job a job id belongs to (``releases.plan:12`` → ``releases.plan``)."""
    return job_id.split(":", 1)[0]


def fire(
    job_id: str,
    scheduled_for: datetime | None = None,
    *,
    service: SchedulerService | None = None,
    message: dict | None = None,
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
            spec = state().jobs.get(job_id) or state().jobs.get(family_of(job_id))
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
                run.message = f"[{NO_ACTOR}] the job or its actor is no longer declared"
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
                kwargs = job_kwargs(job_id, spec)
                if message is not None:  # a family member: its own arguments and due time
                    kwargs.update(message)
                    if scheduled_for is not None:
                        kwargs["scheduled_for"] = scheduled_for.isoformat()
                lazy.send(**kwargs)
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


#: why a due time was not fired (``JobRun.message`` of a "skipped" run starts with one)
MISSED = "missed"  # passed its misfire grace time before any scheduler could fire it
COALESCED = "coalesced"  # several due times were owed at once; only the latest fired
MAX_INSTANCES = "max_instances"  # the previous run of the job was still going
LOST_IN_TAKEOVER = "takeover"  # the scheduler that owed it stopped before firing it
NO_ACTOR = "no_actor"  # the job or its actor is no longer declared
FAILED = "failed"  # firing it failed (the database was away): recorded once it is back

SKIP_REASONS = (MISSED, COALESCED, MAX_INSTANCES, LOST_IN_TAKEOVER, NO_ACTOR, FAILED)


def skip_reason(message: str | None) -> str | None:
    """The reason code a skipped run's message starts with (``"[missed] ..."``), if any."""
    if message and message.startswith("["):
        code = message[1 : message.find("]")]
        if code in SKIP_REASONS:
            return code
    return None


def _insert_run_once(values: dict) -> bool:
    """INSERT a run row unless its (job, due time) exists; whether it was inserted."""
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    inserted = db.session.scalar(
        insert(JobRun)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["job_id", "scheduled_for"])
        .returning(JobRun.id)
    )
    return inserted is not None


def record_skipped(
    job_id: str,
    scheduled_for: datetime,
    reason: str,
    detail: str = "",
    *,
    service: SchedulerService | None = None,
    check_lease: bool = True,
) -> str | None:
    """Record a due time that was not fired (outcome "skipped", the reason in the message).

    Nothing is recorded when the lease is not ours or the due time already has a
    row (fired, or recorded before): a due time has at most one row.
    """
    service = _service(service)
    if service is None:
        return None
    with service.app.app_context():
        try:
            if check_lease and not service.lease.holds():
                return None
            inserted = _insert_run_once(
                {
                    "job_id": job_id,
                    "scheduled_for": scheduled_for,
                    "fired_at": utcnow(),
                    "holder": service.lease.holder,
                    "outcome": SKIPPED,
                    "message": f"[{reason}] {detail}".strip()[:2000],
                }
            )
            db.session.commit()
            if not inserted:
                return None
            log.warning("job %s: due time %s skipped: %s %s", job_id, scheduled_for, reason, detail)
            return SKIPPED
        except Exception:
            db.session.rollback()
            log.exception("job %s: could not record the skipped due time %s", job_id, scheduled_for)
            return None
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
    return record_skipped(
        job_id,
        scheduled_for,
        MISSED,
        f"missed by {int(late_by.total_seconds())} s (misfire grace time {grace_seconds} s)",
        service=service,
    )


def last_runs(job_ids: list[str] | None = None) -> dict[str, datetime]:
    """The latest recorded due time of each job (one grouped query)."""
    query = select(JobRun.job_id, func.max(JobRun.scheduled_for)).group_by(JobRun.job_id)
    if job_ids is not None:
        query = query.where(JobRun.job_id.in_(job_ids))
    return {job_id: last for job_id, last in db.session.execute(query).all() if last is not None}


def has_run(app, job_id: str, due: datetime) -> bool:
    """Whether the due time has a run row (False when the database cannot say)."""
    with app.app_context():
        try:
            return _already_ran(job_id, due)
        except Exception:
            return False
        finally:
            db.session.remove()


def recorded_due_times(job_id: str, first: datetime, last: datetime) -> set[datetime]:
    """The due times of ``job_id`` in ``[first, last]`` that have a run row."""
    return set(
        db.session.scalars(
            select(JobRun.scheduled_for).where(
                JobRun.job_id == job_id,
                JobRun.scheduled_for >= first,
                JobRun.scheduled_for <= last,
            )
        )
    )


def unrecorded_due_times(
    trigger, after: datetime, before: datetime, limit: int = 10_000
) -> list[datetime]:
    """The trigger's due times in ``(after, before)`` (at most ``limit``)."""
    times: list[datetime] = []
    fire = trigger.get_next_fire_time(None, after + timedelta(microseconds=1))
    while fire is not None and fire < before and len(times) < limit:
        if fire > after:
            times.append(fire)
        fire = trigger.get_next_fire_time(fire, fire + timedelta(microseconds=1))
    return times
