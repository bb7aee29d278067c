"""Two batches of one township publishing at the same time, and lateness of a late batch."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import time_machine
from sqlalchemy import func, select

from plugins.releases import services
from plugins.releases.models import (
    ArchiveEntry,
    ArchiveKind,
    BatchStatus,
    Product,
    ProductStatus,
    ReleaseBatch,
    ReleasePlan,
)


def test_two_batches_of_one_township_publishing_at_once_publish_each_product_once(
    app, db, make_product, make_batch
):
    """Thread 1 publishes B1 and holds its transaction open; thread 2 publishes B2 meanwhile.

    Every product is claimed by exactly one batch (on PostgreSQL the second claim waits
    for the first transaction's row locks, then finds the rows no longer approved)."""
    for i in range(100):
        make_product(f"产品{i}")
    first = make_batch(scheduled_for=datetime.now(UTC) - timedelta(hours=1))
    second = make_batch()
    ids = (first.id, second.id)
    holding = threading.Event()
    second_started = threading.Event()
    order: list[str] = []
    errors: list[BaseException] = []

    def publish(batch_id: int, hold: bool) -> None:
        with app.app_context():
            try:
                if not hold:
                    holding.wait(10)
                    second_started.set()
                assert services.publish_batch(batch_id)
                if hold:
                    holding.set()
                    second_started.wait(10)
                    # keep the transaction (and its row locks) open while B2 tries
                    threading.Event().wait(2)
                services.db.session.commit()
                order.append(f"committed {batch_id}")
            except BaseException as exc:  # pragma: no cover - shown by the assertion
                errors.append(exc)
                services.db.session.rollback()
            finally:
                services.db.session.remove()

    threads = [
        threading.Thread(target=publish, args=(ids[0], True)),
        threading.Thread(target=publish, args=(ids[1], False)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert order == [f"committed {ids[0]}", f"committed {ids[1]}"]

    db.session.expire_all()
    batches = {b.id: b for b in db.session.scalars(select(ReleaseBatch))}
    assert {b.status for b in batches.values()} == {BatchStatus.published}
    assert batches[ids[0]].product_count == 100
    assert batches[ids[1]].product_count == 0 and batches[ids[1]].empty
    per_product = dict(
        db.session.execute(
            select(ArchiveEntry.product_id, func.count(ArchiveEntry.id))
            .where(ArchiveEntry.kind == ArchiveKind.published)
            .group_by(ArchiveEntry.product_id)
        ).all()
    )
    assert len(per_product) == 100 and set(per_product.values()) == {1}
    assert set(db.session.scalars(select(Product.batch_id))) == {ids[0]}
    assert set(db.session.scalars(select(Product.status))) == {ProductStatus.published}


def test_a_late_batch_counts_its_lateness_from_the_first_missed_release(db, enabled, make_product):
    """Hourly releases; everything was down from 17:30 to 19:04: one batch for 18:00 and
    19:00, published at 19:04, is 64 minutes late (the 18:00 release waited that long)."""
    make_product()
    plan = db.session.scalar(select(ReleasePlan).where(ReleasePlan.township_id == enabled.id))
    plan.cron = "0 * * * *"
    plan.timezone = "UTC"
    plan.schedule_changed_at = datetime(2026, 11, 30, 16, 30, tzinfo=UTC)
    db.session.commit()
    with time_machine.travel(datetime(2026, 11, 30, 17, 0, 5, tzinfo=UTC), tick=False):
        (on_time,) = services.due_sweep()
        assert services.publish_batch(on_time)
        db.session.commit()
    now = datetime(2026, 11, 30, 19, 4, tzinfo=UTC)
    (late,) = services.due_sweep(now=now)
    assert services.publish_batch(late, now=now)
    db.session.commit()
    batch = db.session.get(ReleaseBatch, late)
    assert batch.fire_times == 2
    assert batch.scheduled_for == datetime(2026, 11, 30, 19, 0, tzinfo=UTC)
    assert batch.first_scheduled_for == datetime(2026, 11, 30, 18, 0, tzinfo=UTC)
    assert batch.lateness_seconds == 64 * 60
    assert db.session.get(ReleaseBatch, on_time).lateness_seconds == 5
