"""Each township's release plan is a trigger of the scheduler, rescheduled when the plan changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import inspect, select, text

from core.institutions import set_enabled
from core.models import JobRun, JobSchedule
from plugins.releases import services
from plugins.releases.models import BatchStatus, ReleaseBatch, ReleasePlan
from scheduler import runner
from scheduler.service import JOB_TABLE, SchedulerService, desired_jobs, start_embedded_scheduler
from scheduler.triggers import next_fire_times, parse_trigger
from tests.scheduler.helpers import wait_for


@pytest.fixture
def clean_store(db):
    def clear():
        with db.engine.begin() as conn:
            if inspect(conn).has_table(JOB_TABLE):
                conn.execute(text(f"DELETE FROM {JOB_TABLE}"))

    clear()
    yield
    clear()


def test_every_active_plan_of_an_enabled_township_is_a_job_of_the_family(
    db, enabled, other_township
):
    wanted = desired_jobs()
    job = wanted[f"releases.plan:{enabled.id}"]
    assert (job.trigger_text, job.timezone) == ("0 9 1 * *", "Asia/Shanghai")
    assert job.message == {"township_id": enabled.id}
    assert "releases.plan" not in wanted, "the family itself is not a job"
    assert f"releases.plan:{other_township.id}" not in wanted  # not enabled there

    services.save_plan(enabled.id, cron="30 8 * * 1", timezone="Asia/Shanghai", channels=["web"])
    assert desired_jobs()[f"releases.plan:{enabled.id}"].trigger_text == "30 8 * * 1"
    plan = db.session.scalar(select(ReleasePlan).where(ReleasePlan.township_id == enabled.id))
    plan.active = False
    db.session.commit()
    assert f"releases.plan:{enabled.id}" not in desired_jobs()

    plan.active = True
    db.session.add(JobSchedule(job_id="releases.plan", trigger="0 9 1 * *", enabled=False))
    db.session.commit()
    assert not [j for j in desired_jobs() if j.startswith("releases.plan:")], "family off"


@pytest.mark.slow
def test_the_running_scheduler_reschedules_a_plan_when_it_changes(app, db, enabled, clean_store):
    service = start_embedded_scheduler(app, lease_seconds=3, poll_seconds=0.3)
    job_id = f"releases.plan:{enabled.id}"
    try:
        assert service.wait_active(30)
        expected = next_fire_times(parse_trigger("0 9 1 * *", "Asia/Shanghai"), 2)
        assert wait_for(lambda: service.next_fire_times(job_id, 2), 30) == expected

        services.save_plan(enabled.id, cron="15 10 * * *", timezone="UTC", channels=["web"])
        expected = next_fire_times(parse_trigger("15 10 * * *", "UTC"), 2)
        assert wait_for(lambda: service.next_fire_times(job_id, 2) == expected, 30)

        set_enabled(enabled, "releases", False)
        wait_for(lambda: service.next_fire_times(job_id) == [], 30)
    finally:
        service.stop()


def test_a_plan_firing_creates_and_publishes_its_batch_at_once(
    app, db, enabled, make_product, stub_worker
):
    make_product()
    plan = db.session.scalar(select(ReleasePlan).where(ReleasePlan.township_id == enabled.id))
    trigger = parse_trigger(plan.cron, plan.timezone)
    now = datetime.now(UTC)
    # the plan's latest due time before now (whatever today's date), the plan changed
    # the day before it: exactly one release is owed
    due = max(t for t in next_fire_times(trigger, 100, now - timedelta(days=70)) if t <= now)
    plan.schedule_changed_at = due - timedelta(days=1)
    db.session.commit()

    service = SchedulerService(app, lease_seconds=10)
    assert service.lease.acquire()
    member = desired_jobs()[f"releases.plan:{enabled.id}"]
    outcome = runner.fire(member.id, due, service=service, message=member.message)
    assert outcome == "ok"
    stub_worker.join()
    stub_worker.join()  # the plan's nudge enqueued the publication
    db.session.expire_all()
    batch = db.session.scalar(select(ReleaseBatch).where(ReleaseBatch.township_id == enabled.id))
    assert batch.scheduled_for == due.astimezone(UTC)
    assert batch.status == BatchStatus.published and batch.product_count == 1
    run = db.session.scalar(select(JobRun).where(JobRun.job_id == member.id))
    assert run.scheduled_for == due and run.outcome == "ok"
