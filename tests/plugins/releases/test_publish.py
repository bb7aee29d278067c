"""Publication happens exactly once: racing workers, repeated messages, a crash mid-way."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from core.models import Notification, TaskRecord, TaskStatus
from core.tasks import resend_due
from plugins.releases import services
from plugins.releases.models import (
    ArchiveEntry,
    ArchiveIsImmutable,
    ArchiveKind,
    BatchStatus,
    Product,
    ProductStatus,
    ReleaseBatch,
)


def _count(db, column, *where) -> int:
    return db.session.scalar(select(func.count(column)).where(*where)) or 0


def _task(db, batch) -> TaskRecord:
    return db.session.scalar(
        select(TaskRecord).where(TaskRecord.key == f"releases-publish:{batch.id}")
    )


def test_two_workers_racing_on_one_release_publish_it_once(app, db, make_product, make_batch):
    products = [make_product(f"产品{i}") for i in range(3)]
    batch = make_batch()
    batch_id = batch.id  # the threads must not touch the test's session
    barrier = threading.Barrier(2)
    results: list[bool] = []
    errors: list[BaseException] = []

    def worker():
        with app.app_context():
            try:
                barrier.wait(5)
                results.append(services.publish_batch(batch_id))
                services.db.session.commit()
            except BaseException as exc:  # pragma: no cover - shown by the assertion
                errors.append(exc)
            finally:
                services.db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    assert sorted(results) == [False, True]
    db.session.expire_all()
    assert db.session.get(ReleaseBatch, batch.id).product_count == 3
    assert _count(db, ArchiveEntry.id, ArchiveEntry.batch_id == batch.id) == 3
    assert {db.session.get(Product, p.id).batch_id for p in products} == {batch.id}


def test_a_repeated_message_publishes_once(app, db, make_product, make_batch, stub_worker):
    make_product()
    batch = make_batch(send=True)
    resend_due(app, grace_seconds=0)  # a second copy of the same message
    stub_worker.join()
    db.session.expire_all()
    assert _task(db, batch).status == TaskStatus.done
    assert db.session.get(ReleaseBatch, batch.id).status == BatchStatus.published
    assert _count(db, ArchiveEntry.id) == 1


def test_a_worker_dying_mid_publication_leaves_nothing_half_done(
    app, db, make_product, make_batch, stub_worker, monkeypatch
):
    """Simulates ``kill -9`` inside the task: the transaction never commits. (The real
    process kill of a worker is tested by the core's task tests.)"""
    products = [make_product(f"产品{i}") for i in range(2)]
    batch = make_batch()
    task = _task(db, batch)

    def die(*args, **kwargs):
        raise RuntimeError("worker killed")

    monkeypatch.setattr(services, "archive_release", die)
    bound = app.extensions["township"].actors["releases.publish"].actor
    with pytest.raises(RuntimeError):
        bound.fn(task.id)
    db.session.expire_all()
    assert db.session.get(ReleaseBatch, batch.id).status == BatchStatus.pending
    assert all(db.session.get(Product, p.id).status == ProductStatus.approved for p in products)
    assert _count(db, ArchiveEntry.id) == 0
    assert _task(db, batch).status == TaskStatus.pending

    monkeypatch.undo()
    assert resend_due(app, grace_seconds=0) == 1  # the sweep after restart
    stub_worker.join()
    db.session.expire_all()
    published = db.session.get(ReleaseBatch, batch.id)
    assert published.status == BatchStatus.published and published.product_count == 2
    assert _count(db, ArchiveEntry.id, ArchiveEntry.kind == ArchiveKind.published) == 2
    assert _task(db, batch).status == TaskStatus.done


def test_only_approved_products_go_out(db, make_product, make_batch):
    approved = make_product("已审批")
    draft = make_product("草稿", status=ProductStatus.draft)
    submitted = make_product("待审批", status=ProductStatus.submitted)
    batch = make_batch()
    assert services.publish_batch(batch.id)
    db.session.commit()
    assert approved.status == ProductStatus.published
    assert draft.status == ProductStatus.draft and submitted.status == ProductStatus.submitted


def test_an_empty_release_is_recorded_and_the_officer_told(db, officer, make_batch):
    batch = make_batch()
    assert services.publish_batch(batch.id)
    db.session.commit()
    db.session.refresh(batch)
    assert batch.status == BatchStatus.published and batch.empty and batch.product_count == 0
    entry = db.session.scalar(select(ArchiveEntry).where(ArchiveEntry.batch_id == batch.id))
    assert entry.kind == ArchiveKind.empty
    note = db.session.scalar(select(Notification).where(Notification.user_id == officer.id))
    assert note is not None and str(batch.id) in note.key


def test_the_archive_is_immutable(db, make_product, make_batch):
    make_product()
    batch = make_batch()
    services.publish_batch(batch.id)
    db.session.commit()
    entry = db.session.scalar(select(ArchiveEntry))
    entry.title = "改写历史"
    with pytest.raises(ArchiveIsImmutable):
        db.session.flush()
    db.session.rollback()
    db.session.delete(db.session.scalar(select(ArchiveEntry)))
    with pytest.raises(ArchiveIsImmutable):
        db.session.flush()
    db.session.rollback()


def test_a_withdrawn_release_stays_in_the_archive_with_its_reason(
    db, officer, make_product, make_batch
):
    product = make_product()
    batch = make_batch()
    services.publish_batch(batch.id)
    db.session.commit()
    with pytest.raises(services.ReleaseError, match="reason"):
        services.withdraw_product(product, "  ", officer)
    services.withdraw_product(product, "价格数据有误", officer)
    assert product.status == ProductStatus.withdrawn
    kinds = db.session.scalars(
        select(ArchiveEntry.kind)
        .where(ArchiveEntry.product_id == product.id)
        .order_by(ArchiveEntry.id)
    ).all()
    assert kinds == [ArchiveKind.published, ArchiveKind.withdrawn]
    with pytest.raises(services.ReleaseError):
        services.withdraw_product(product, "again", officer)


def test_only_a_leader_approves(db, officer, leader, make_product):
    product = make_product(status=ProductStatus.submitted)
    with pytest.raises(services.ReleaseError, match="leader"):
        services.approve_product(product, officer)
    services.approve_product(product, leader)
    assert product.status == ProductStatus.approved and product.approved_by_id == leader.id


def test_the_due_sweep_job_and_the_publish_task_run_on_the_worker(
    app, db, make_product, stub_worker
):
    from datetime import UTC, datetime

    import time_machine

    from plugins.releases.models import ReleasePlan

    make_product()
    plan = db.session.scalar(select(ReleasePlan))
    plan.schedule_changed_at = datetime(2026, 10, 20, tzinfo=UTC)
    db.session.commit()
    with time_machine.travel(datetime(2026, 11, 1, 1, 5, tzinfo=UTC), tick=False):
        app.extensions["township"].actors["releases.due_sweep"].send()
        stub_worker.join()
        stub_worker.join()  # the sweep enqueued the publication
    db.session.expire_all()
    batch = db.session.scalar(select(ReleaseBatch))
    assert batch.status == BatchStatus.published and batch.product_count == 1
    assert batch.lateness_seconds == 300


def test_a_published_release_is_offered_to_an_enabled_archive_institution(
    db, township, make_product, make_batch
):
    """The example plugin stands in for an archives institution: it hears of the
    release only once the township enabled it."""
    from core.institutions import set_enabled
    from tests import example_plugin

    make_product("产品")
    first = make_batch()
    example_plugin.EVENTS.clear()
    assert services.publish_batch(first.id)
    db.session.commit()
    assert [e for e in example_plugin.EVENTS if e[0] == "record"] == []

    set_enabled(township, "example", True)
    make_product("产品二")
    second = make_batch()
    assert services.publish_batch(second.id)
    db.session.commit()
    assert ("record", (township.id, "releases", f"release-batch:{second.id}")) in (
        example_plugin.EVENTS
    )


def test_a_release_is_filed_under_a_chinese_title_whoever_published_it(
    app, db, township, make_product, make_batch, monkeypatch
):
    """The archivist's inbox showed "东镇 2026-12 release": the record's title is in the
    site's language (Chinese, as deployed), even when the batch went out from an English
    session."""
    from flask_babel import force_locale

    from core.models import ProducedRecord

    monkeypatch.setitem(app.config, "DEFAULT_LOCALE", "zh_CN")
    make_product("产品")
    batch = make_batch()
    with app.test_request_context(), force_locale("en"):
        assert services.publish_batch(batch.id)
    db.session.commit()
    record = db.session.scalar(select(ProducedRecord).where(ProducedRecord.source == "releases"))
    assert record.title == f"{township.name} {batch.scheduled_for:%Y-%m} 信息发布"
    assert "release" not in record.title
