"""Every due time is fired or recorded as skipped with its reason; none vanishes."""

from __future__ import annotations

import dataclasses
import itertools
from collections import Counter
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from apscheduler.executors.base import MaxInstancesReachedError
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import delete, inspect, select, text

from core.models import JobRun, JobSchedule
from core.plugins import state
from scheduler import runner
from scheduler.service import JOB_TABLE, FiringExecutor, SchedulerService, start_embedded_scheduler
from tests.scheduler.helpers import wait_for


def runs(db, job_id: str = "example.tick") -> list[JobRun]:
    db.session.rollback()
    return list(
        db.session.scalars(
            select(JobRun).where(JobRun.job_id == job_id).order_by(JobRun.scheduled_for)
        )
    )


@pytest.fixture
def clean_store(db):
    def clear():
        with db.engine.begin() as conn:
            if inspect(conn).has_table(JOB_TABLE):
                conn.execute(text(f"DELETE FROM {JOB_TABLE}"))

    clear()
    yield
    clear()


def test_a_due_time_refused_for_max_instances_is_recorded_with_the_reason(app, db):
    service = SchedulerService(app, lease_seconds=10)
    assert service.lease.acquire()
    executor = FiringExecutor(service, max_workers=1)
    executor.start(BackgroundScheduler(), "default")
    job = SimpleNamespace(id="example.tick", max_instances=1)
    due = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    executor._instances[job.id] = 1  # the previous run is still going
    try:
        with pytest.raises(MaxInstancesReachedError):
            executor.submit_job(job, [due, due + timedelta(seconds=3)])
        recorded = wait_for(lambda: len(runs(db)) == 2 and runs(db), 10)
    finally:
        executor.shutdown()
    assert [r.scheduled_for for r in recorded] == [due, due + timedelta(seconds=3)]
    assert {(r.outcome, runner.skip_reason(r.message)) for r in recorded} == {
        ("skipped", runner.MAX_INSTANCES)
    }
    assert "maximum number of running instances reached" in recorded[0].message
    # the due time has its row: a late firing of it does not fire it again
    assert runner.fire("example.tick", due, service=service) is None


@pytest.mark.slow
def test_due_times_lost_when_a_scheduler_died_are_recorded_by_the_next_one(
    app, db, clean_store, monkeypatch
):
    """The first scheduler 'dies' after advancing the job store without recording two
    due times (their rows are removed, as if it was killed between the two steps); the
    next active scheduler records them as lost in the takeover, and the rest of the
    grid is fired or skipped: every due time has exactly one row."""
    jobs = state().jobs
    monkeypatch.setitem(
        jobs, "example.tick", dataclasses.replace(jobs["example.tick"], misfire_grace_time=60)
    )
    db.session.add(JobSchedule(job_id="example.tick", trigger="every 1 seconds"))
    db.session.commit()
    first = start_embedded_scheduler(app, lease_seconds=3, poll_seconds=0.3)
    try:
        wait_for(lambda: len(runs(db)) >= 5, 20)
    finally:
        first.stop()
    fired = runs(db)
    lost = [r.scheduled_for for r in fired[-2:]]
    db.session.execute(delete(JobRun).where(JobRun.scheduled_for.in_(lost)))
    db.session.commit()

    second = start_embedded_scheduler(app, lease_seconds=3, poll_seconds=0.3)
    try:
        assert second.wait_active(10)
        restarted = datetime.now(UTC)
        wait_for(lambda: [r for r in runs(db) if r.scheduled_for > restarted], 20)
    finally:
        second.stop()

    rows = runs(db)
    by_time = {r.scheduled_for: r for r in rows}
    assert {runner.skip_reason(by_time[t].message) for t in lost} == {runner.LOST_IN_TAKEOVER}
    assert {by_time[t].holder for t in lost} == {second.holder}
    per_due_time = Counter(r.scheduled_for for r in rows)
    assert max(per_due_time.values()) == 1
    times = sorted(per_due_time)
    # one row for every second of the grid from the first due time to the last
    assert all(b - a == timedelta(seconds=1) for a, b in itertools.pairwise(times)), times
    outcomes = Counter((r.outcome, runner.skip_reason(r.message)) for r in rows)
    assert set(outcomes) <= {
        ("ok", None),
        ("skipped", runner.LOST_IN_TAKEOVER),
        ("skipped", runner.COALESCED),
    }


def test_the_jobs_page_shows_skipped_runs_and_their_reasons(
    app, db, township, county_admin, staff, client
):
    service = SchedulerService(app, lease_seconds=10)
    assert service.lease.acquire()
    due = datetime(2026, 11, 30, 4, 0, tzinfo=UTC)
    runner.fire("example.tick", due, service=service)
    runner.record_skipped(
        "example.tick",
        due - timedelta(seconds=3),
        runner.MAX_INSTANCES,
        "maximum number of running instances reached",
        service=service,
    )
    runner.record_skipped(
        "example.tick", due - timedelta(seconds=6), runner.LOST_IN_TAKEOVER, service=service
    )
    staff.login(county_admin)
    html = client.get("/admin/admin_jobs/").get_data(as_text=True)
    assert "Skipped due times" in html
    assert "The previous run was still going" in html
    assert "The scheduler that owed it stopped before firing it" in html
    # newest due time first (times show in the job's zone to the minute: 11:59 for both)
    assert html.index("The previous run was still going") < html.index(
        "The scheduler that owed it stopped before firing it"
    )
    assert "2026-11-30 11:59" in html and "03:59:57" not in html
