"""The release plan: validation, preview, rescheduling without a restart, late batches."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from core.models import TaskRecord
from plugins.releases import services
from plugins.releases.models import BatchStatus, ReleaseBatch, ReleasePlan

SHANGHAI_9AM_NOV_1 = datetime(2026, 11, 1, 1, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("cron", "message"),
    [
        ("0 9 31 2 *", "never fires"),  # 31 February
        ("*/10 * * * *", "more often than once an hour"),
        ("every 30 days", "crontab"),
        ("0 9 1 *", "five fields"),
        ("", "empty"),
    ],
)
def test_a_schedule_that_never_fires_or_fires_too_often_is_refused(enabled, cron, message):
    with pytest.raises(services.ReleaseError, match=message):
        services.check_schedule(cron, "Asia/Shanghai")


def test_the_default_plan_is_monthly_with_five_preview_times(enabled):
    with time_machine.travel(datetime(2026, 11, 23, 8, 0, tzinfo=UTC), tick=False):
        times = services.next_release_times(enabled.id)
    assert [t.strftime("%Y-%m-%d %H:%M") for t in times] == [
        "2026-12-01 09:00",
        "2027-01-01 09:00",
        "2027-02-01 09:00",
        "2027-03-01 09:00",
        "2027-04-01 09:00",
    ]
    assert str(times[0].tzinfo) == "Asia/Shanghai"


def test_editing_the_plan_changes_the_next_release_times_without_a_restart(enabled):
    with time_machine.travel(datetime(2026, 11, 23, 8, 0, tzinfo=UTC), tick=False):
        before = services.next_release_times(enabled.id, 1)
        services.save_plan(
            enabled.id, cron="30 8 * * 1", timezone="Asia/Shanghai", channels=["web", "tv"]
        )
        after = services.next_release_times(enabled.id, 2)
    assert before[0].day == 1
    # Mondays at 08:30 in Shanghai: 2026-11-30 and 2026-12-07
    assert [t.strftime("%Y-%m-%d %H:%M %a") for t in after] == [
        "2026-11-30 08:30 Mon",
        "2026-12-07 08:30 Mon",
    ]
    # and the due sweep (the running system) follows the new plan at once
    with time_machine.travel(datetime(2026, 11, 30, 0, 31, tzinfo=UTC), tick=False):
        created = services.due_sweep()
    batch = services.db.session.get(ReleaseBatch, created[0])
    assert batch.scheduled_for == datetime(2026, 11, 30, 0, 30, tzinfo=UTC)
    assert batch.channels == ["web", "tv"]


def test_scheduler_down_across_two_release_times_gives_one_late_batch(enabled, db):
    plan = db.session.scalar(select(ReleasePlan).where(ReleasePlan.township_id == enabled.id))
    plan.schedule_changed_at = datetime(2026, 9, 15, tzinfo=UTC)
    db.session.commit()
    # down from mid-September until 5 November: the 1 October and 1 November releases were missed
    with time_machine.travel(datetime(2026, 11, 5, 2, 0, tzinfo=UTC), tick=False):
        created = services.due_sweep()
        again = services.due_sweep()
    assert len(created) == 1 and again == []
    batch = db.session.get(ReleaseBatch, created[0])
    assert batch.scheduled_for == SHANGHAI_9AM_NOV_1
    assert batch.fire_times == 2
    task = db.session.scalar(
        select(TaskRecord).where(TaskRecord.key == f"releases-publish:{batch.id}")
    )
    assert task is not None and task.args == {"batch_id": batch.id}
    # the worker publishes it on start-up; the lateness shows in the admin
    with time_machine.travel(datetime(2026, 11, 5, 2, 0, 30, tzinfo=UTC), tick=False):
        assert services.publish_batch(batch.id)
        db.session.commit()
    db.session.refresh(batch)
    assert batch.status == BatchStatus.published
    # lateness counts from the first missed release (1 October, 09:00 Shanghai = 01:00 UTC)
    assert batch.first_scheduled_for == datetime(2026, 10, 1, 1, 0, tzinfo=UTC)
    assert batch.lateness_seconds == 35 * 86400 + 3600 + 30


def test_a_release_on_time_is_created_once_and_the_next_waits(enabled, db):
    with time_machine.travel(SHANGHAI_9AM_NOV_1 - timedelta(days=40), tick=False):
        services.save_plan(enabled.id, cron="0 9 2 * *", timezone="Asia/Shanghai", channels=["web"])
        services.save_plan(enabled.id, cron="0 9 1 * *", timezone="Asia/Shanghai", channels=["web"])
    with time_machine.travel(SHANGHAI_9AM_NOV_1 - timedelta(seconds=1), tick=False):
        # 1 October was due already (the plan was saved in September)
        assert len(services.due_sweep()) == 1
    with time_machine.travel(SHANGHAI_9AM_NOV_1 + timedelta(seconds=20), tick=False):
        first = services.due_sweep()
        second = services.due_sweep()
    assert len(first) == 1 and second == []
    assert db.session.scalar(select(func.count(ReleaseBatch.id))) == 2


def test_changing_the_schedule_owes_no_release_for_past_times(enabled, db):
    with time_machine.travel(datetime(2026, 11, 20, tzinfo=UTC), tick=False):
        services.save_plan(
            enabled.id, cron="0 9 15 * *", timezone="Asia/Shanghai", channels=["web"]
        )
        assert services.due_sweep() == []


def test_an_inactive_plan_or_a_disabled_township_releases_nothing(enabled, db, other_township):
    from core.institutions import set_enabled

    plan = db.session.scalar(select(ReleasePlan).where(ReleasePlan.township_id == enabled.id))
    plan.schedule_changed_at = datetime(2026, 10, 15, tzinfo=UTC)
    plan.active = False
    db.session.commit()
    with time_machine.travel(datetime(2026, 11, 5, tzinfo=UTC), tick=False):
        assert services.due_sweep() == []
        plan.active = True
        db.session.commit()
        set_enabled(enabled, "releases", False)
        assert services.due_sweep() == []
        set_enabled(enabled, "releases", True)
        assert len(services.due_sweep()) == 1
