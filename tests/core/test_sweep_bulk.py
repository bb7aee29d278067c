"""The deadline sweep records reminders in bulk (one UPDATE and one INSERT per batch) and
still reminds once per case and due date; the workers run the bulk-recorded tasks once."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select

from core.models import Case, CaseStatus, Notification, TaskRecord, TaskStatus

TODAY = date(2026, 11, 18)  # a Wednesday


def _cases(db, township, clerk, n, due_on):
    rows = [
        Case(
            township_id=township.id,
            kind="service",
            receipt_no=f"EAST-B-{i:04d}-{due_on:%m%d}",
            title=f"事项{i}",
            applicant_name="张三",
            first_responder_id=clerk.id,
            handler_id=clerk.id,
            status=CaseStatus.accepted,
            received_on=due_on - timedelta(days=10),
            due_on=due_on,
        )
        for i in range(n)
    ]
    db.session.add_all(rows)
    db.session.commit()
    return rows


def test_each_owed_case_gets_one_task_however_often_the_sweep_runs(
    db, township, clerk, stub_worker
):
    from core.deadlines import sweep_deadlines

    late = _cases(db, township, clerk, 30, TODAY - timedelta(days=3))
    _cases(db, township, clerk, 5, TODAY + timedelta(days=30))  # on time: nothing owed
    assert sweep_deadlines(today=TODAY) == 30
    assert sweep_deadlines(today=TODAY) == 0
    # the worker runs meanwhile, and a reminder it has already sent queues its e-mail
    keys = set(db.session.scalars(select(TaskRecord.key).where(TaskRecord.key.like("case-%"))))
    assert keys == {f"case-overdue:{c.id}:{c.due_on}" for c in late}

    stub_worker.join()
    db.session.expire_all()
    statuses = set(db.session.scalars(select(TaskRecord.status)))
    assert statuses == {TaskStatus.done}
    overdue_notes = db.session.scalar(
        select(func.count(Notification.id)).where(
            Notification.user_id == clerk.id, Notification.title.like("%EAST-B-%")
        )
    )
    assert overdue_notes == 30

    # a new due date (extended) is owed a reminder of its own, once
    case = db.session.get(Case, late[0].id)
    case.due_on = TODAY - timedelta(days=1)
    db.session.commit()
    assert sweep_deadlines(today=TODAY) == 1
    assert sweep_deadlines(today=TODAY) == 0


def test_bulk_tasks_whose_nudge_was_lost_are_sent_again_and_done_once(
    app, db, township, clerk, stub_worker, monkeypatch
):
    from core.deadlines import sweep_deadlines
    from core.tasks import resend_due

    _cases(db, township, clerk, 12, TODAY - timedelta(days=2))
    broker = app.extensions["township_broker"]
    with monkeypatch.context() as patch:
        # the nudges are lost (a broker restart), before the running worker sees one
        patch.setattr(broker, "enqueue", lambda message, **options: message)
        assert sweep_deadlines(today=TODAY) == 12
    assert resend_due(app, grace_seconds=0) == 12  # every pending row, on its own
    stub_worker.join()
    db.session.expire_all()
    assert set(db.session.scalars(select(TaskRecord.status))) == {TaskStatus.done}
    assert resend_due(app, grace_seconds=0) == 0
    notes = db.session.scalar(
        select(func.count(Notification.id)).where(Notification.title.like("%EAST-B-%"))
    )
    assert notes == 12
