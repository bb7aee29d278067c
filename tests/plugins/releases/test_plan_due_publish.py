"""A plan's own trigger publishes its release in the same task, once; the sweep never
holds a due release back."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from core.institutions import set_enabled
from core.models import TaskRecord, TaskStatus
from plugins.releases import services, tasks
from plugins.releases.models import (
    ArchiveEntry,
    ArchiveKind,
    BatchStatus,
    Product,
    ProductStatus,
    ReleaseBatch,
    ReleasePlan,
)


def _due_now(db, township_ids: list[int]) -> datetime:
    """Give the townships' plans a daily time that fell a minute ago (owed once)."""
    due = (datetime.now(UTC) - timedelta(minutes=1)).replace(second=0, microsecond=0)
    for plan in db.session.scalars(
        select(ReleasePlan).where(ReleasePlan.township_id.in_(township_ids))
    ):
        plan.cron = f"{due.minute} {due.hour} * * *"
        plan.timezone = "UTC"
        plan.schedule_changed_at = due - timedelta(hours=1)
    db.session.commit()
    return due


@pytest.fixture
def townships(db, enabled, create_unit, county):
    """Four townships with the institution enabled, one approved product each."""
    units = [enabled] + [create_unit(f"镇{n}", f"town-{n}", "township", county) for n in range(3)]
    for unit in units[1:]:
        set_enabled(unit, "releases", True)
    for unit in units:
        db.session.add(
            Product(
                township_id=unit.id,
                title=f"{unit.name}的产品",
                audience="村民",
                body="<p>内容</p>",
                status=ProductStatus.approved,
                approved_at=datetime.now(UTC),
            )
        )
    db.session.commit()
    return units


def _published_once(db, township_ids: list[int]) -> list[ReleaseBatch]:
    db.session.expire_all()
    batches = db.session.scalars(
        select(ReleaseBatch).where(ReleaseBatch.township_id.in_(township_ids))
    ).all()
    assert sorted(b.township_id for b in batches) == sorted(township_ids), "one batch each"
    for batch in batches:
        assert batch.status == BatchStatus.published and batch.product_count == 1
        entries = db.session.scalar(
            select(func.count(ArchiveEntry.id)).where(
                ArchiveEntry.batch_id == batch.id, ArchiveEntry.kind == ArchiveKind.published
            )
        )
        assert entries == 1, "archived once"
        task = db.session.scalar(
            select(TaskRecord).where(TaskRecord.key == services.publish_key(batch.id))
        )
        assert task.status == TaskStatus.done
    products = db.session.scalars(
        select(Product).where(Product.township_id.in_(township_ids))
    ).all()
    assert all(p.status == ProductStatus.published for p in products)
    return batches


def test_the_plans_nudge_publishes_its_release_itself(db, enabled, make_product):
    """The nudge of the plan's own trigger leaves the release published: nothing waits
    for a second message to reach a worker."""
    make_product()
    due = _due_now(db, [enabled.id])
    tasks.plan_due(enabled.id, due.isoformat())
    (batch,) = _published_once(db, [enabled.id])
    assert batch.scheduled_for == due
    task = db.session.scalar(
        select(TaskRecord).where(TaskRecord.key == services.publish_key(batch.id))
    )
    assert task.attempts == 1 and task.sent_at is None


def test_releases_due_at_the_same_time_are_each_published_once_by_their_own_task(
    app, db, townships
):
    """Four plans due at the same minute, their nudges handled at the same time on four
    threads: each release is published once, by its own durable task."""
    ids = [t.id for t in townships]
    due = _due_now(db, ids)
    errors: list[BaseException] = []
    start = threading.Barrier(len(ids))

    def nudge(township_id: int) -> None:
        with app.app_context():
            try:
                start.wait(10)
                tasks.plan_due(township_id, due.isoformat())
            except BaseException as exc:  # pragma: no cover - shown by the assertion
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=nudge, args=(i,)) for i in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    batches = _published_once(db, ids)
    keys = {services.publish_key(b.id) for b in batches}
    assert db.session.scalar(select(func.count(TaskRecord.id)).where(TaskRecord.key.in_(keys))) == 4


def test_a_nudge_delivered_twice_publishes_once(db, enabled, make_product):
    make_product()
    due = _due_now(db, [enabled.id])
    tasks.plan_due(enabled.id, due.isoformat())
    tasks.plan_due(enabled.id, due.isoformat())  # the broker delivered it again
    _published_once(db, [enabled.id])


def test_a_publication_that_fails_in_the_nudge_is_retried_by_a_worker_and_not_doubled(
    app, db, enabled, make_product, monkeypatch, request
):
    """The first publication fails half-way (the archive hand-over raises): nothing of it
    stays, the task goes to the workers, and the release is published once."""
    make_product()
    due = _due_now(db, [enabled.id])
    real = services.hand_to_archives
    calls: list[int] = []

    def fails_once(batch, products, now):
        calls.append(batch.id)
        if len(calls) == 1:
            raise RuntimeError("the archive was away")
        return real(batch, products, now)

    monkeypatch.setattr(services, "hand_to_archives", fails_once)
    tasks.plan_due(enabled.id, due.isoformat())
    db.session.expire_all()
    batch = db.session.scalar(select(ReleaseBatch).where(ReleaseBatch.township_id == enabled.id))
    assert batch.status == BatchStatus.pending, "the failed publication left nothing"
    assert db.session.scalar(select(func.count(ArchiveEntry.id))) == 0
    task = db.session.scalar(
        select(TaskRecord).where(TaskRecord.key == services.publish_key(batch.id))
    )
    assert task.status == TaskStatus.pending and "archive was away" in task.last_error

    # the publish task was sent to the workers: one of them publishes it
    request.getfixturevalue("stub_worker").join()
    _published_once(db, [enabled.id])
    assert len(calls) == 2


def test_a_nudge_delivered_again_after_a_crash_publishes_the_pending_release(
    db, enabled, make_product
):
    """A worker killed after the batch was created and before it was published: the
    broker delivers the nudge again, which publishes the pending batch once."""
    make_product()
    due = _due_now(db, [enabled.id])
    (batch_id,) = services.due_sweep(now=due, township_ids=[enabled.id], send=False)
    # ... the worker dies here; the nudge comes again
    tasks.plan_due(enabled.id, due.isoformat())
    (batch,) = _published_once(db, [enabled.id])
    assert batch.id == batch_id


def test_a_release_the_sweep_owes_goes_out_while_the_sweep_goes_on(app, db, townships, monkeypatch):
    """The every-minute sweep commits each batch as it creates it: a release is published
    (its task sent, its batch visible to the plan's own trigger) while the sweep is still
    working through the other plans."""
    ids = [t.id for t in townships]
    due = _due_now(db, ids)
    real = services.missed_fire_times
    seen: list[int] = []
    first_done = threading.Event()
    go_on = threading.Event()

    def paused(cron, timezone, after, now):
        seen.append(1)
        if len(seen) == 2:  # the first plan's batch is created; hold the sweep here
            first_done.set()
            go_on.wait(30)
        return real(cron, timezone, after, now)

    monkeypatch.setattr(services, "missed_fire_times", paused)
    created: list[int] = []

    def sweep() -> None:
        with app.app_context():
            try:
                created.extend(services.due_sweep(now=due + timedelta(seconds=1)))
            finally:
                db.session.remove()

    thread = threading.Thread(target=sweep)
    thread.start()
    try:
        assert first_done.wait(30)
        with app.app_context():
            batches = db.session.scalars(
                select(ReleaseBatch).where(ReleaseBatch.township_id.in_(ids))
            ).all()
            assert len(batches) == 1, "the first release is committed before the sweep ends"
            owed = batches[0].township_id
            # its plan's own trigger, meanwhile, publishes it at once
            tasks.plan_due(owed, due.isoformat())
            db.session.remove()
    finally:
        go_on.set()
        thread.join(60)
    assert len(created) == len(ids)
    db.session.expire_all()
    published = db.session.scalar(select(ReleaseBatch).where(ReleaseBatch.township_id == owed))
    assert published.status == BatchStatus.published and published.product_count == 1
