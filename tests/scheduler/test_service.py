"""The scheduler service in this process: lease, overrides applied live, runs recorded once."""

from __future__ import annotations

import dataclasses
import itertools
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import inspect, select, text

from core.models import JobRun, JobSchedule, SchedulerLease
from core.plugins import state
from scheduler import runner
from scheduler.lease import Lease, current_holder
from scheduler.service import (
    JOB_TABLE,
    SchedulerService,
    desired_jobs,
    next_run_times,
    start_embedded_scheduler,
)
from scheduler.triggers import next_fire_times, parse_trigger
from tests.scheduler.helpers import wait_for


@pytest.fixture
def services(app, db):
    """Start scheduler services on the test app; stopped (lease released) after the test."""
    started: list[SchedulerService] = []

    def _clear_job_store():
        with db.engine.begin() as conn:
            if inspect(conn).has_table(JOB_TABLE):
                conn.execute(text(f"DELETE FROM {JOB_TABLE}"))

    def start(**options) -> SchedulerService:
        options.setdefault("lease_seconds", 3)
        options.setdefault("poll_seconds", 0.3)
        service = start_embedded_scheduler(app, **options)
        started.append(service)
        return service

    _clear_job_store()
    try:
        yield start
    finally:
        for service in started:
            service.stop()
        _clear_job_store()


def runs(db, job_id: str = "example.tick") -> list[JobRun]:
    db.session.rollback()
    return list(
        db.session.scalars(
            select(JobRun).where(JobRun.job_id == job_id).order_by(JobRun.scheduled_for)
        )
    )


@pytest.mark.slow
def test_one_of_two_schedulers_is_active_and_the_other_takes_over_when_it_stops(db, services):
    first = services()
    assert first.wait_active(10)
    second = services()
    assert not second.wait_active(2), "standby while the lease is held"
    assert current_holder()[0] == first.holder

    stopped_at = datetime.now(UTC)
    first.stop()
    assert not first.active
    assert second.wait_active(3), "the released lease is taken on the standby's next poll"
    assert datetime.now(UTC) - stopped_at < timedelta(seconds=3)
    assert current_holder()[0] == second.holder


def test_jobs_are_the_declared_ones_with_admin_overrides(app, db, monkeypatch):
    wanted = desired_jobs()
    assert {"core.deadline_sweep", "core.resend_sweep", "example.tick"} <= set(wanted)
    assert wanted["example.tick"].trigger_text == "every 3 seconds"
    assert not wanted["example.tick"].overridden
    assert wanted["core.resend_sweep"].trigger_text == "every 120 seconds"  # SWEEP_SECONDS
    monkeypatch.setitem(app.config, "SWEEP_SECONDS", 300)
    assert desired_jobs()["core.resend_sweep"].trigger_text == "every 300 seconds"

    db.session.add_all(
        [
            JobSchedule(job_id="example.tick", trigger="0 9 * * 1", timezone="Europe/Berlin"),
            JobSchedule(job_id="core.resend_sweep", trigger="every 5 minutes", enabled=False),
            # a saved text that no longer parses falls back to the declared trigger
            JobSchedule(job_id="core.deadline_sweep", trigger="0 9 * * 9"),
        ]
    )
    db.session.commit()
    wanted = desired_jobs()
    assert wanted["example.tick"].signature == "example.tick [0 9 * * 1 @ Europe/Berlin]"
    assert "core.resend_sweep" not in wanted
    assert wanted["core.deadline_sweep"].trigger_text == "*/15 * * * *"


def test_a_saved_override_reschedules_the_running_job_without_restart(db, services):
    service = services()
    assert service.wait_active(10)
    before = service.next_fire_times("core.deadline_sweep")
    assert len(before) == 5
    assert {t.minute % 15 for t in before} == {0}

    override = JobSchedule(job_id="core.deadline_sweep", trigger="0 9 * * 1")
    db.session.add(override)
    db.session.commit()
    after = wait_for(
        lambda: (times := service.next_fire_times("core.deadline_sweep")) != before and times, 5
    )
    assert len(after) == 5
    assert {t.strftime("%A %H:%M") for t in after} == {"Monday 09:00"}
    assert str(after[0].tzinfo) == "Asia/Shanghai"
    # what the admin previews before saving is what the scheduler does
    assert after == next_fire_times(parse_trigger("0 9 * * 1"), 5, after[0] - timedelta(seconds=1))
    assert next_run_times()["core.deadline_sweep"] == after[0]

    override.enabled = False
    db.session.commit()
    wait_for(lambda: service.next_fire_times("core.deadline_sweep") == [], 5)
    assert "core.deadline_sweep" not in next_run_times()

    override.enabled = True
    override.trigger = "every 2 hours"
    db.session.commit()
    again = wait_for(lambda: service.next_fire_times("core.deadline_sweep"), 5)
    assert again[1] - again[0] == timedelta(hours=2)


@pytest.mark.slow
def test_a_run_missed_while_no_scheduler_ran_fires_once_on_start(db, services, monkeypatch):
    jobs = state().jobs
    monkeypatch.setitem(
        jobs, "example.tick", dataclasses.replace(jobs["example.tick"], misfire_grace_time=60)
    )
    db.session.add(JobSchedule(job_id="example.tick", trigger="every 2 seconds"))
    db.session.commit()

    first = services()
    wait_for(lambda: runs(db), 6)
    first.stop()
    stopped_at = datetime.now(UTC)
    last_before = runs(db)[-1].scheduled_for

    wait_for(lambda: datetime.now(UTC) - stopped_at > timedelta(seconds=5), 6)
    started_at = datetime.now(UTC)
    second = services()
    assert second.wait_active(5)
    wait_for(lambda: [r for r in runs(db) if r.scheduled_for > started_at], 6)

    missed = [r for r in runs(db) if last_before < r.scheduled_for < started_at]
    fired = [r for r in missed if r.outcome == "ok"]
    assert len(fired) == 1, "two or more due times passed while down: one coalesced run"
    late = fired[0]
    assert late.scheduled_for == missed[-1].scheduled_for, "the latest due time fires"
    # every earlier one is recorded as skipped, with the reason, never silently dropped
    skipped = missed[:-1]
    assert len(skipped) >= 1
    assert {(r.outcome, runner.skip_reason(r.message)) for r in skipped} == {
        ("skipped", runner.COALESCED)
    }
    assert late.holder == second.holder
    assert late.fired_at - late.scheduled_for > timedelta(seconds=0.5)
    assert late.scheduled_for - last_before >= timedelta(seconds=4)  # the latest missed one
    # the schedule keeps its two-second grid
    times = [r.scheduled_for for r in runs(db)]
    assert all((b - a) % timedelta(seconds=2) == timedelta(0) for a, b in itertools.pairwise(times))


def test_a_run_enqueues_the_actor_once_per_due_time_and_only_under_the_lease(app, db):
    broker = app.extensions["township_broker"]
    service = SchedulerService(app, lease_seconds=5)
    due = datetime(2025, 3, 5, 1, 0, tzinfo=UTC)

    assert runner.fire("example.tick", due, service=service) is None  # no lease: fenced
    assert runs(db) == []
    assert broker.queues["example"].qsize() == 0

    assert service.lease.acquire()
    assert runner.fire("example.tick", due, service=service) == "ok"
    assert runner.fire("example.tick", due, service=service) is None  # same due time
    assert broker.queues["example"].qsize() == 1
    (run,) = runs(db)
    assert (run.scheduled_for, run.holder, run.outcome) == (due, service.holder, "ok")

    late_by = timedelta(minutes=5)
    earlier = due - timedelta(hours=1)
    assert runner.record_missed("example.tick", earlier, late_by, 60, service=service) == "skipped"
    skipped = runs(db)[0]
    assert skipped.outcome == "skipped"
    assert skipped.message == "[missed] missed by 300 s (misfire grace time 60 s)"
    assert runner.skip_reason(skipped.message) == runner.MISSED

    # a lease taken over by another process fences this one at once
    db.session.execute(
        SchedulerLease.__table__.update().values(
            holder="elsewhere", expires_at=datetime.now(UTC) + timedelta(seconds=30)
        )
    )
    db.session.commit()
    assert not service.lease.renew()
    assert runner.fire("example.tick", due + timedelta(hours=1), service=service) is None
    assert len(runs(db)) == 2


def test_a_broker_failure_is_recorded_as_the_runs_outcome(app, db, monkeypatch):
    service = SchedulerService(app, lease_seconds=5)
    assert service.lease.acquire()

    def refuse(*args, **kwargs):
        raise ConnectionError("broker down")

    monkeypatch.setattr(state().actors["example.tick"], "send", refuse)
    assert runner.fire("example.tick", datetime.now(UTC), service=service) == "error"
    (run,) = runs(db)
    assert run.outcome == "error"
    assert "broker down" in run.message


def test_the_lease_is_exclusive_and_lapses(app, db):
    one, two = Lease(0.5, "one"), Lease(0.5, "two")
    assert one.acquire()
    assert not two.acquire()
    assert one.renew() and one.holds() and not two.holds()
    wait_for(lambda: not one.holds(), 2)
    assert not one.renew(), "an expired lease is not renewed: its holder must stop"
    assert two.acquire()
    assert not one.acquire()
    assert two.release()
    assert current_holder() == (None, None)
    assert one.acquire()


def test_a_job_switched_off_does_not_fire_even_before_the_next_poll(app, db):
    service = SchedulerService(app, lease_seconds=5)
    assert service.lease.acquire()
    db.session.add(JobSchedule(job_id="example.tick", trigger="every 3 seconds", enabled=False))
    db.session.commit()
    assert runner.fire("example.tick", datetime.now(UTC), service=service) is None
    assert runs(db) == []
    assert app.extensions["township_broker"].queues["example"].qsize() == 0


def test_runs_older_than_thirty_days_are_deleted(db):
    now = datetime.now(UTC)
    for age in (40, 31, 29, 0):
        fired = now - timedelta(days=age)
        db.session.add(
            JobRun(
                job_id="example.tick", scheduled_for=fired, fired_at=fired, holder="h", outcome="ok"
            )
        )
    db.session.commit()
    assert runner.prune_runs() == 2
    assert [(now - r.fired_at).days for r in runs(db)] == [29, 0]


def test_the_database_refuses_a_second_firing_of_one_due_time(app, db, monkeypatch):
    """Even if the check before firing is passed twice (two schedulers in a split
    brain), the unique (job, due time) index lets only one message out."""
    broker = app.extensions["township_broker"]
    service = SchedulerService(app, lease_seconds=5)
    assert service.lease.acquire()
    monkeypatch.setattr(runner, "_already_ran", lambda job_id, scheduled_for: False)
    due = datetime(2025, 3, 5, 2, 0, tzinfo=UTC)
    assert runner.fire("example.tick", due, service=service) == "ok"
    assert runner.fire("example.tick", due, service=service) is None
    assert broker.queues["example"].qsize() == 1
    assert len(runs(db)) == 1
