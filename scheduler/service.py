"""The scheduler service: one active APScheduler, a standby, jobs that only enqueue.

How it runs
-----------
``township scheduler`` (:func:`run_foreground`) and the scheduler thread of
``township serve`` (:func:`start_embedded_scheduler`) run the same
:class:`SchedulerService`:

1. **Standby** until it takes the lease (:mod:`scheduler.lease`), trying every
   third of ``SCHEDULER_LEASE_SECONDS``.
2. **Active**: it starts an APScheduler ``BackgroundScheduler`` on the
   ``apscheduler_jobs`` table of the app database (SQLAlchemyJobStore), paused;
   turns the declared jobs (``township_jobs`` hook) merged with the admins'
   overrides (:class:`~core.models.JobSchedule`: trigger, time zone, enabled)
   into APScheduler jobs (added, rescheduled, removed); resumes; and sends
   pending tasks once (:func:`core.tasks.resend_due`).
   Due times missed while no scheduler ran fire once on start (coalesced) if
   they are within the job's misfire grace time; older ones are recorded as
   "skipped".
3. While active it renews the lease every third of its length and, every
   ``SCHEDULER_POLL_SECONDS`` (5 s), reads the overrides again and reschedules
   what changed, without a restart.
4. If a renewal fails (another process took the lease, the database is
   unreachable) it shuts its APScheduler down at once and goes back to standby;
   each firing also checks the lease (fencing, :mod:`scheduler.runner`).
5. On SIGTERM/SIGINT (or ``.stop()``) it stops firing and releases the lease, so
   a standby takes over within a third of the lease length. After ``kill -9`` the
   standby takes over once the lease lapses: within ``SCHEDULER_LEASE_SECONDS``
   plus a third of it.

Scaling out
-----------
With PostgreSQL and Redis or RabbitMQ::

    export TOWNSHIP_DATABASE_URL=postgresql://township@db-host/township
    export TOWNSHIP_BROKER_URL=redis://redis-host:6379/0   # or amqp://user:pw@rabbit-host/
    export TOWNSHIP_EMBEDDED_SCHEDULER=false               # web processes do not schedule
    township db upgrade
    gunicorn -c python:core.gunicorn_conf -w 4 -b 0.0.0.0:8000 'core:create_app()'  # the web
    township worker --processes 2 --threads 8              # on every worker machine
    township scheduler                                     # on two machines: active + standby

Settings: ``SCHEDULER_LEASE_SECONDS`` (15: failover after at most ~20 s),
``SCHEDULER_POLL_SECONDS`` (5: how soon an admin's schedule change applies),
``DEFAULT_TIMEZONE`` (the scheduler's zone; each job has its own, Asia/Shanghai by
default), ``SWEEP_SECONDS``/``SWEEP_GRACE_SECONDS`` (the re-send sweep, see
:mod:`core.tasks`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import signal
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MISSED,
    JobExecutionEvent,
)
from apscheduler.executors.base import MaxInstancesReachedError
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers import SchedulerNotRunningError
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from flask import Flask, current_app
from sqlalchemy import inspect, select, text

from core.db import db, utcnow
from core.models import JobSchedule
from core.plugins import state
from scheduler import runner
from scheduler.lease import Lease
from scheduler.triggers import TriggerError, parse_trigger, zone

log = logging.getLogger(__name__)

#: APScheduler's table in the app database (excluded from migrations: core.migrate)
JOB_TABLE = "apscheduler_jobs"
#: the job function, by reference (APScheduler stores it by name)
JOB_FUNCTION = "scheduler.runner:fire"

#: the core's re-send sweep: its default interval is the SWEEP_SECONDS setting
RESEND_SWEEP_JOB = "core.resend_sweep"

DEFAULT_LEASE_SECONDS = 15
DEFAULT_POLL_SECONDS = 5
#: how often the active scheduler deletes old run rows (runner.RUNS_KEPT_DAYS)
PRUNE_SECONDS = 3600
#: how often the active scheduler looks for due times that got no run row (:meth:`audit`)
AUDIT_SECONDS = 60


# ---------------------------------------------------------------------------
# Declared jobs + admin overrides = the jobs APScheduler should have
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class DesiredJob:
    """A job as it should be scheduled now: its declaration with the admin's override."""

    id: str
    trigger_text: str
    timezone: str
    coalesce: bool
    misfire_grace_time: int
    trigger: BaseTrigger
    overridden: bool
    #: a family member's message arguments (None for a plain job)
    message: dict | None = None

    @property
    def signature(self) -> str:
        """Stored as the APScheduler job's name: a changed signature means reschedule."""
        text_ = f"{self.id} [{self.trigger_text} @ {self.timezone}]"
        if self.message is not None:
            text_ += " " + json.dumps(self.message, sort_keys=True, default=str)
        return text_


def desired_jobs() -> dict[str, DesiredJob]:
    """The jobs that should be scheduled (inside an app context).

    ``core.resend_sweep`` runs every ``SWEEP_SECONDS`` unless an admin overrides it.
    A disabled override removes the job; an override whose text no longer parses
    falls back to the declared trigger (and logs why); a job whose actor is not
    loaded is left out.
    """
    township = state()
    overrides = {row.job_id: row for row in db.session.scalars(select(JobSchedule))}
    wanted: dict[str, DesiredJob] = {}
    for spec in township.jobs.values():
        override = overrides.get(spec.id)
        if override is not None and not override.enabled:
            continue
        if spec.actor_name not in township.actors:
            log.error("job %s names actor %s, which is not loaded", spec.id, spec.actor_name)
            continue
        if spec.instances is not None:
            wanted.update(_family_members(spec))
            continue
        default = spec.trigger
        if spec.id == RESEND_SWEEP_JOB and current_app.config.get("SWEEP_SECONDS"):
            default = f"every {int(current_app.config['SWEEP_SECONDS'])} seconds"
        text_, tz = default, spec.timezone
        if override is not None:
            text_, tz = override.trigger, override.timezone or spec.timezone
        try:
            trigger = parse_trigger(text_, tz)
        except TriggerError as exc:
            if override is None:
                log.error("job %s: its declared trigger %r is invalid: %s", spec.id, text_, exc)
                continue
            log.error(
                "job %s: the saved schedule %r @ %s is invalid (%s); using the default %r",
                spec.id,
                text_,
                tz,
                exc,
                spec.trigger,
            )
            override = None
            text_, tz = default, spec.timezone
            trigger = parse_trigger(text_, tz)
        wanted[spec.id] = DesiredJob(
            id=spec.id,
            trigger_text=text_,
            timezone=tz,
            coalesce=spec.coalesce,
            misfire_grace_time=spec.misfire_grace_time,
            trigger=trigger,
            overridden=override is not None,
        )
    return wanted


def _family_members(spec) -> dict[str, DesiredJob]:
    """The jobs of a family: one per instance, each with its own trigger (bad ones logged)."""
    members: dict[str, DesiredJob] = {}
    for instance in spec.instances() or ():
        job_id = f"{spec.id}:{instance.key}"
        try:
            trigger = parse_trigger(instance.trigger, instance.timezone)
        except TriggerError as exc:
            log.error("job %s: trigger %r is invalid: %s", job_id, instance.trigger, exc)
            continue
        members[job_id] = DesiredJob(
            id=job_id,
            trigger_text=instance.trigger,
            timezone=instance.timezone,
            coalesce=spec.coalesce,
            misfire_grace_time=spec.misfire_grace_time,
            trigger=trigger,
            overridden=False,
            message=dict(instance.kwargs),
        )
    return members


def _families_snapshot() -> str:
    """A digest of every family's instances: a different digest means sync again."""
    digest = hashlib.sha256()
    for spec in sorted(state().jobs.values(), key=lambda s: s.id):
        if spec.instances is None:
            continue
        for instance in sorted(spec.instances() or (), key=lambda i: i.key):
            digest.update(
                repr(
                    (spec.id, instance.key, instance.trigger, instance.timezone,
                     sorted(instance.kwargs.items()))
                ).encode()
            )  # fmt: skip
    return digest.hexdigest()


def log_level(want: DesiredJob) -> int:
    """Family members are many (one per township): their scheduling is logged at DEBUG."""
    return logging.DEBUG if want.message is not None else logging.INFO


def _overrides_snapshot() -> tuple:
    """What the overrides look like now; a different snapshot means sync again."""
    rows = db.session.execute(
        select(
            JobSchedule.job_id,
            JobSchedule.trigger,
            JobSchedule.timezone,
            JobSchedule.enabled,
            JobSchedule.updated_at,
        ).order_by(JobSchedule.job_id)
    ).all()
    return (*(tuple(row) for row in rows), _families_snapshot())


def next_run_times() -> dict[str, datetime | None]:
    """Each scheduled job's next run (UTC) as the active scheduler stored it (for the admin).

    Empty when no scheduler ever ran on this database.
    """
    if not inspect(db.engine).has_table(JOB_TABLE):
        return {}
    rows = db.session.execute(text(f"SELECT id, next_run_time FROM {JOB_TABLE}")).all()
    return {
        job_id: datetime.fromtimestamp(ts, UTC) if ts is not None else None for job_id, ts in rows
    }


# ---------------------------------------------------------------------------
# The executor: passes each due time to the job function
# ---------------------------------------------------------------------------


class FiringExecutor(ThreadPoolExecutor):
    """APScheduler's thread pool, calling the job function with its due time.

    APScheduler's own ``run_job`` calls ``func(*args)`` without saying which due
    time it stands for; this one calls ``fire(job_id, scheduled_for=..., service=...)``
    and records due times that passed their misfire grace time.
    """

    def __init__(self, service: SchedulerService, max_workers: int = 8):
        super().__init__(max_workers)
        self.service = service

    def submit_job(self, job, run_times):
        """Submit, or record the due times as skipped when the previous run still goes.

        APScheduler only logs "skipped: maximum number of running instances reached";
        here each of those due times gets a "skipped" run row with the reason.
        """
        try:
            super().submit_job(job, run_times)
        except MaxInstancesReachedError:
            for run_time in run_times:
                self._pool.submit(
                    runner.record_skipped,
                    job.id,
                    run_time,
                    runner.MAX_INSTANCES,
                    "maximum number of running instances reached: the previous run "
                    "of this job was still going",
                    service=self.service,
                )
            raise

    def _do_submit_job(self, job, run_times):
        def callback(future):
            exc = future.exception()
            if exc is not None:
                self._run_job_error(job.id, exc, exc.__traceback__)
            else:
                self._run_job_success(job.id, future.result())

        self._pool.submit(self._run, job, run_times).add_done_callback(callback)

    def _run(self, job, run_times) -> list[JobExecutionEvent]:
        """Fire the due times of one wake-up; each one not fired gets a "skipped" row.

        APScheduler is told not to coalesce (it would drop the earlier due times
        silently); this coalesces instead when the job asks for it: the latest due
        time within the grace fires, earlier ones are recorded as coalesced into it.
        """
        events = []
        alias = job._jobstore_alias
        grace = job.misfire_grace_time
        now = utcnow()
        live, missed = [], []
        for run_time in run_times:
            late = now - run_time
            (missed if grace is not None and late > timedelta(seconds=grace) else live).append(
                run_time
            )
        for run_time in missed:
            runner.record_missed(job.id, run_time, now - run_time, grace, service=self.service)
            events.append(JobExecutionEvent(EVENT_JOB_MISSED, job.id, alias, run_time))
        if live and self.service.coalesces(job.id):
            latest = live[-1]
            for run_time in live[:-1]:
                runner.record_skipped(
                    job.id,
                    run_time,
                    runner.COALESCED,
                    f"owed together with {latest.isoformat()}, which fired for both",
                    service=self.service,
                )
            live = [latest]
        for run_time in live:
            try:
                job.func(*job.args, scheduled_for=run_time, service=self.service, **job.kwargs)
            except Exception as exc:
                log.exception("job %s raised", job.id)
                self.service.unrecorded(job.id, run_time, exc)
                events.append(
                    JobExecutionEvent(EVENT_JOB_ERROR, job.id, alias, run_time, exception=exc)
                )
            else:
                events.append(JobExecutionEvent(EVENT_JOB_EXECUTED, job.id, alias, run_time))
        return events


# ---------------------------------------------------------------------------
# The service
# ---------------------------------------------------------------------------


class SchedulerService:
    """One scheduler process (or thread): standby until it holds the lease, then active.

    ``lease_seconds`` and ``poll_seconds`` default to ``SCHEDULER_LEASE_SECONDS`` and
    ``SCHEDULER_POLL_SECONDS``. Call :meth:`run` (blocks) or :meth:`start` (a
    thread), and :meth:`stop`.
    """

    def __init__(
        self,
        app: Flask,
        *,
        lease_seconds: float | None = None,
        poll_seconds: float | None = None,
        holder: str | None = None,
    ):
        self.app = app
        lease_seconds = float(
            lease_seconds or app.config.get("SCHEDULER_LEASE_SECONDS") or DEFAULT_LEASE_SECONDS
        )
        self.lease = Lease(lease_seconds, holder)
        self.renew_seconds = lease_seconds / 3
        self.poll_seconds = float(
            poll_seconds or app.config.get("SCHEDULER_POLL_SECONDS") or DEFAULT_POLL_SECONDS
        )
        self.tick = min(1.0, self.renew_seconds, self.poll_seconds)
        self.scheduler: BackgroundScheduler | None = None
        self.became_active = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._snapshot: tuple | None = None
        self._last_renew = 0.0
        self._last_poll = 0.0
        self._last_prune = 0.0
        self._last_audit = 0.0
        self._coalesce: dict[str, bool] = {}
        self._audited: dict[str, datetime] = {}
        self._lease_lost = threading.Event()
        self._unrecorded: list[tuple[str, datetime, str]] = []
        self._lock = threading.RLock()

    @property
    def holder(self) -> str:
        return self.lease.holder

    @property
    def active(self) -> bool:
        return self.scheduler is not None

    def coalesces(self, job_id: str) -> bool:
        """Whether several owed due times of the job fire once (the declared ``coalesce``)."""
        return self._coalesce.get(job_id, True)

    # -- running -------------------------------------------------------------

    def run(self) -> None:
        """Run until :meth:`stop` (or a signal handler calling :meth:`request_stop`)."""
        log.info("scheduler %s: standby until it holds the lease", self.holder)
        keeper = threading.Thread(target=self._keep_lease, name="township-lease", daemon=True)
        keeper.start()
        try:
            while not self._stop.is_set():
                # a fresh app context per step: what an app context remembers (cached
                # settings' versions, the session) must not outlive one step
                with self.app.app_context():
                    try:
                        self._step()
                    except Exception:
                        log.exception("scheduler %s: lease or sync failed", self.holder)
                        with contextlib.suppress(Exception):
                            db.session.rollback()
                        self._deactivate("the lease could not be checked", wait=False)
                    finally:
                        db.session.remove()
                self._stop.wait(self.tick)
        finally:
            with self.app.app_context():
                self._deactivate("stopping", wait=True, level=logging.INFO)
                try:
                    self.lease.release()
                    log.info("scheduler %s: lease released", self.holder)
                except Exception:
                    log.exception("scheduler %s: could not release the lease", self.holder)
                db.session.remove()

    def start(self) -> SchedulerService:
        """Run in a daemon thread (the embedded mode); returns self."""
        self._thread = threading.Thread(target=self.run, name="township-scheduler", daemon=True)
        self._thread.start()
        return self

    def request_stop(self) -> None:
        self._stop.set()

    def stop(self, timeout: float = 30) -> None:
        """Stop firing, release the lease, and wait for the thread (if started)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def wait_active(self, timeout: float) -> bool:
        """Wait until this service holds the lease and has scheduled its jobs."""
        return self.became_active.wait(timeout)

    def _step(self) -> None:
        now = time.monotonic()
        if not self.active:
            if now - self._last_renew >= self.renew_seconds:
                self._last_renew = now
                if self.lease.acquire():
                    self._activate()
            return
        if self._lease_lost.is_set():
            self._lease_lost.clear()
            self._deactivate("lost the lease", wait=False)
            return
        self._record_unrecorded()
        if now - self._last_poll >= self.poll_seconds:
            self.sync()
        if now - self._last_audit >= AUDIT_SECONDS:
            self._last_audit = now
            self.audit(periodic=True)
        if now - self._last_prune >= PRUNE_SECONDS:
            self._last_prune = now
            pruned = runner.prune_runs()
            if pruned:
                log.info("deleted %d job run(s) older than %d days", pruned, runner.RUNS_KEPT_DAYS)

    def _keep_lease(self) -> None:
        """Renew the lease every third of its length, in a thread of its own, so that a
        long sync (thousands of plan triggers) or audit never lets it lapse."""
        while not self._stop.wait(self.renew_seconds):
            if not self.active or self._lease_lost.is_set():
                continue
            with self.app.app_context():
                try:
                    renewed = self.lease.renew()
                except Exception:
                    log.exception("scheduler %s: the lease could not be renewed", self.holder)
                    renewed = False
                finally:
                    with contextlib.suppress(Exception):
                        db.session.remove()
            if not renewed and self.active:
                self._lease_lost.set()

    def unrecorded(self, job_id: str, due: datetime, exc: BaseException) -> None:
        """A due time whose firing failed (the database or the broker was away): it is
        recorded as skipped, with the error, as soon as the database answers."""
        with self._lock:
            self._unrecorded.append((job_id, due, repr(exc)[:500]))

    def _record_unrecorded(self) -> None:
        with self._lock:
            pending, self._unrecorded = self._unrecorded, []
        for job_id, due, error in pending:
            outcome = runner.record_skipped(
                job_id, due, runner.FAILED, f"firing failed: {error}", service=self
            )
            if outcome is None and self.active and not runner.has_run(self.app, job_id, due):
                with self._lock:  # the database is still away: try again next step
                    self._unrecorded.append((job_id, due, error))

    def _activate(self) -> None:
        log.info("scheduler %s: took the lease; scheduling jobs", self.holder)
        scheduler = BackgroundScheduler(
            jobstores={"default": SQLAlchemyJobStore(engine=db.engine, tablename=JOB_TABLE)},
            executors={"default": FiringExecutor(self)},
            job_defaults={"max_instances": 1},
            timezone=zone(self.app.config.get("DEFAULT_TIMEZONE") or "Asia/Shanghai"),
        )
        scheduler.start(paused=True)
        with self._lock:
            self.scheduler = scheduler
            runner._active.append(self)
        try:
            self.sync(force=True)
            self.audit(periodic=False)
            self._last_audit = time.monotonic()
            scheduler.resume()
        except Exception:
            self._deactivate("could not schedule the jobs", wait=False)
            raise
        self.became_active.set()
        threading.Thread(target=self._resend_pending, daemon=True).start()

    def _deactivate(self, reason: str, wait: bool, level: int = logging.WARNING) -> None:
        with self._lock:
            scheduler, self.scheduler = self.scheduler, None
            if self in runner._active:
                runner._active.remove(self)
            self.became_active.clear()
        if scheduler is None:
            return
        log.log(level, "scheduler %s: %s; no longer firing", self.holder, reason)
        with contextlib.suppress(SchedulerNotRunningError):
            scheduler.shutdown(wait=wait)

    def _resend_pending(self) -> None:
        from core.tasks import resend_due

        try:
            resend_due(self.app)
        except Exception:
            log.exception("scheduler %s: the start-up re-send sweep failed", self.holder)

    # -- jobs ----------------------------------------------------------------

    def sync(self, force: bool = False) -> bool:
        """Make APScheduler's jobs match the declared jobs and overrides (if they changed).

        Returns whether anything was compared (False when nothing changed).
        """
        self._last_poll = time.monotonic()
        snapshot = _overrides_snapshot()
        db.session.rollback()
        if not force and snapshot == self._snapshot:
            return False
        scheduler = self.scheduler
        if scheduler is None:
            return False
        wanted = desired_jobs()
        db.session.rollback()
        existing = {job.id: job for job in scheduler.get_jobs()}
        for job_id, want in wanted.items():
            job = existing.pop(job_id, None)
            # APScheduler never coalesces: FiringExecutor does, recording what it drops
            self._coalesce[job_id] = want.coalesce
            options = {
                "name": want.signature,
                "coalesce": False,
                "misfire_grace_time": want.misfire_grace_time,
            }
            if want.message is not None:
                options["kwargs"] = {"message": want.message}
            if job is None:
                scheduler.add_job(
                    JOB_FUNCTION,
                    trigger=want.trigger,
                    args=[job_id],
                    id=job_id,
                    max_instances=1,
                    replace_existing=True,
                    **options,
                )
                log.log(log_level(want), "scheduled %s", want.signature)
            elif job.name != want.signature:
                scheduler.modify_job(job_id, **options)
                scheduler.reschedule_job(job_id, trigger=want.trigger)
                log.info("rescheduled %s", want.signature)
            elif (job.coalesce, job.misfire_grace_time) != (False, want.misfire_grace_time):
                scheduler.modify_job(job_id, **options)
        for job_id in existing:
            scheduler.remove_job(job_id)
            log.info("unscheduled %s (disabled or no longer declared)", job_id)
        self._snapshot = snapshot
        return True

    def audit(self, periodic: bool = True) -> int:
        """Record as skipped every due time that got no run row and will never fire.

        A due time can lose its chance without a trace: the scheduler that owed it was
        killed after APScheduler stored the job's next run time but before the run row
        was written, or it lost the lease and its fencing check refused to fire. Between
        the job's last recorded due time and the next run time in the job store, every
        due time without a row is recorded ("takeover"). On activation the whole span is
        checked; periodically only due times older than the job's misfire grace time
        (plus two lease lengths), which no scheduler may still fire.
        Returns how many were recorded.
        """
        scheduler = self.scheduler
        if scheduler is None:
            return 0
        jobs = [job for job in scheduler.get_jobs() if job.next_run_time is not None]
        last = runner.last_runs()
        db.session.rollback()
        now = utcnow()
        recorded = 0
        for job in jobs:
            # from where the last audit stopped (holes before the last run row, left by a
            # failed firing, are found too), else from the job's last recorded due time
            after = self._audited.get(job.id) or last.get(job.id)
            if after is None:
                continue
            before = job.next_run_time
            if periodic:
                margin = timedelta(seconds=(job.misfire_grace_time or 0) + 2 * self.lease.seconds)
                before = min(before, now - margin)
            candidates = runner.unrecorded_due_times(job.trigger, after, before)
            if candidates:
                have = runner.recorded_due_times(job.id, candidates[0], candidates[-1])
                db.session.rollback()
                for due in candidates:
                    if due in have:
                        continue
                    outcome = runner.record_skipped(
                        job.id,
                        due,
                        runner.LOST_IN_TAKEOVER,
                        "the scheduler that owed this due time stopped before firing it",
                        service=self,
                    )
                    recorded += outcome is not None
            if before > after:
                self._audited[job.id] = before
        if recorded:
            log.warning("scheduler %s: recorded %d lost due time(s)", self.holder, recorded)
        return recorded

    def next_fire_times(self, job_id: str, count: int = 5) -> list[datetime]:
        """The next ``count`` fire times of a job as the running scheduler has it."""
        scheduler = self.scheduler
        job = scheduler.get_job(job_id) if scheduler is not None else None
        if job is None or job.next_run_time is None:
            return []
        times = [job.next_run_time]
        while len(times) < count:
            following = job.trigger.get_next_fire_time(
                times[-1], times[-1] + timedelta(microseconds=1)
            )
            if following is None:
                break
            times.append(following)
        return times


def start_embedded_scheduler(app: Flask, **options) -> SchedulerService:
    """The scheduler of ``township serve``: a thread with the same lease logic.

    Returns the service; call ``.stop()`` to stop firing and release the lease.
    """
    return SchedulerService(app, **options).start()


def run_foreground(app: Flask, **options) -> None:
    """``township scheduler``: run until SIGTERM or SIGINT, then release the lease."""
    service = SchedulerService(app, **options)

    def _stop(signum, frame):
        log.info("scheduler %s: signal %s, stopping", service.holder, signum)
        service.request_stop()

    previous = {sig: signal.signal(sig, _stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    from core.heartbeat import Heartbeat

    heartbeat = Heartbeat(app, "scheduler").start()
    try:
        service.run()
    finally:
        heartbeat.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
