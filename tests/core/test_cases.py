"""Cases: registering, the statutory time limits, transitions, the trail, reminders."""

from datetime import date

import pytest
import time_machine
from sqlalchemy import func, select

from core import cases as svc
from core.models import (
    Case,
    CaseEvent,
    CaseStatus,
    ExtensionRequest,
    LimitUnit,
    Notification,
    TaskRecord,
    TimeLimitPolicy,
)
from core.models.cases import AppendOnlyError
from tests import example_plugin


@pytest.fixture
def register(db, township, clerk):
    from core.institutions import set_enabled

    set_enabled(township, "example", True)  # the example plugin hears the case events

    def _register(kind="service", title="开具证明", accept=True, on=None, **kw):
        return svc.register_case(
            township=township,
            kind=kind,
            title=title,
            applicant_name="张三",
            first_responder=clerk,
            received_on=on,
            accept=accept,
            **kw,
        )

    return _register


def _count(db, model):
    return db.session.scalar(select(func.count()).select_from(model))


@time_machine.travel(date(2025, 1, 24), tick=False)
def test_service_case_due_after_spring_festival(register):
    """A clerk accepts a service matter on Friday 2025-01-24: 3 working days → 2025-02-05."""
    case = register(kind="service")
    assert case.status == CaseStatus.accepted
    assert case.accepted_on == date(2025, 1, 24)
    assert (case.limit_amount, case.limit_unit) == (3, LimitUnit.working_days)
    assert case.due_on == date(2025, 2, 5)
    explained = svc.compute_due(case)
    assert [info.day for info, n in explained.steps if n] == [
        date(2025, 1, 26),
        date(2025, 1, 27),
        date(2025, 2, 5),
    ]


@time_machine.travel(date(2025, 9, 19), tick=False)
def test_rule_book_defaults_per_kind(register):
    inquiry = register(kind="inquiry")
    approval = register(kind="approval")
    commitment = register(kind="commitment")
    # 15 calendar days from 09-19 = 10-04 (National Day) → next working day 10-09
    assert inquiry.due_on == date(2025, 10, 9)
    assert inquiry.limit_max_amount == 30
    # one week = 5 working days: 22,23,24,25,26 September
    assert approval.due_on == date(2025, 9, 26)
    # 10 calendar days → 09-29 (Monday, a working day)
    assert commitment.due_on == date(2025, 9, 29)


@time_machine.travel(date(2025, 3, 3), tick=False)
def test_township_time_limit_overrides_default(db, township, register):
    db.session.add(
        TimeLimitPolicy(
            township_id=township.id,
            kind="service",
            amount=1,
            unit=LimitUnit.working_days,
            max_amount=None,
        )
    )
    db.session.commit()
    assert register(kind="service").due_on == date(2025, 3, 4)


def test_receipt_numbers_are_unique_and_public_view_has_nothing_personal(register):
    a, b = register(), register()
    assert a.receipt_no != b.receipt_no
    public = svc.public_view(a)
    assert "张三" not in str(public)
    assert public["status"] == "accepted"


def test_register_refuses_bad_input_and_writes_nothing(db, township, clerk, other_township):
    before = _count(db, Case)
    with pytest.raises(svc.CaseError, match="title"):
        svc.register_case(
            township=township,
            kind="service",
            title=" ",
            applicant_name="张三",
            first_responder=clerk,
        )
    with pytest.raises(svc.CaseError, match="applicant"):
        svc.register_case(
            township=township, kind="service", title="x", applicant_name="", first_responder=clerk
        )
    with pytest.raises(svc.CaseError, match="Unknown case kind"):
        svc.register_case(
            township=township, kind="nope", title="x", applicant_name="a", first_responder=clerk
        )
    with pytest.raises(svc.CaseError, match="future"):
        svc.register_case(
            township=township,
            kind="service",
            title="x",
            applicant_name="a",
            first_responder=clerk,
            received_on=date(2999, 1, 1),
        )
    with pytest.raises(svc.CaseError, match="does not work for this township"):
        svc.register_case(
            township=other_township,
            kind="service",
            title="x",
            applicant_name="a",
            first_responder=clerk,
        )
    db.session.rollback()
    assert _count(db, Case) == before
    assert _count(db, CaseEvent) == 0


def test_illegal_transition_is_refused_with_a_clear_message(db, register, clerk):
    case = register(accept=False)
    with pytest.raises(svc.CaseError, match="cannot be"):
        svc.resolve_case(case, clerk, "done")
    db.session.rollback()
    db.session.refresh(case)
    assert case.status == CaseStatus.received
    assert case.result is None


def test_whole_course_leaves_an_append_only_trail(db, register, clerk, leader, station):
    case = register()
    svc.assign_case(case, clerk, leader, station)
    assert case.status == CaseStatus.in_progress
    svc.resolve_case(case, leader, "已办结")
    svc.deliver_case(case, leader, "送达到户")
    svc.close_case(case, leader)
    actions = [e.action for e in case.events]
    assert actions == [
        "registered",
        "accepted",
        "assigned",
        "started",
        "resolved",
        "delivered",
        "closed",
    ]
    assigned = case.events[2]
    assert assigned.actor_id == clerk.id
    assert assigned.before == {"handler_id": None, "department_id": None}
    assert assigned.after == {"handler_id": leader.id, "department_id": station.id}
    event = case.events[0]
    event.note = "tampered"
    with pytest.raises(AppendOnlyError):
        db.session.commit()
    db.session.rollback()
    assert ("closed", case.id) in example_plugin.EVENTS


def test_department_must_belong_to_the_township(db, register, clerk, create_unit, other_township):
    foreign = create_unit("西镇民政办", "west-civil", "station", other_township)
    case = register()
    with pytest.raises(svc.CaseError, match="station or office of this township"):
        svc.assign_case(case, clerk, None, foreign)


def test_inquiry_extension_needs_a_leader_and_stops_at_one_month(db, register, clerk, leader):
    with time_machine.travel(date(2025, 3, 3), tick=False):
        case = register(kind="inquiry")
        assert case.due_on == date(2025, 3, 18)
        with pytest.raises(svc.CaseError, match="30 at most"):
            svc.request_extension(case, clerk, 45, "需请示上级")
        req = svc.request_extension(case, clerk, 30, "需请示上级")
        with pytest.raises(svc.CaseError, match="already waiting"):
            svc.request_extension(case, clerk, 30, "again")
        with pytest.raises(svc.CaseError, match="leader"):
            svc.decide_extension(req, clerk, True)
        svc.decide_extension(req, leader, True, "同意")
    assert case.limit_amount == 30
    assert case.due_on == date(2025, 4, 2)
    assert ("extended", (case.id, 30)) in example_plugin.EVENTS
    assert db.session.scalar(select(ExtensionRequest.approved)) is True


def test_service_cases_cannot_be_extended(register, clerk):
    case = register(kind="service")
    with pytest.raises(svc.CaseError, match="cannot be extended"):
        svc.request_extension(case, clerk, 5, "x")


def test_waiting_for_the_citizen_pauses_the_clock(db, register, clerk):
    with time_machine.travel(date(2025, 3, 3), tick=False):  # Monday
        case = register(kind="approval")  # due Monday 03-10
        assert case.due_on == date(2025, 3, 10)
        svc.wait_for_citizen(case, clerk, "请补交户口本")
        assert svc.timeliness(case, due_soon_days=2) == "paused"
    with time_machine.travel(date(2025, 3, 5), tick=False):  # two working days later
        svc.start_case(case, clerk)
    assert case.status == CaseStatus.in_progress
    assert case.paused_working_days == 2
    assert case.due_on == date(2025, 3, 12)


def test_a_case_that_waits_for_the_citizen_before_it_is_accepted_resumes(db, register, clerk):
    """Found by schemathesis: registered without acceptance, forwarded, started, waiting,
    then started again answered 500 (no running clock to push back). It resumes; the case
    has no limit running, so no due date appears from nowhere."""
    with time_machine.travel(date(2025, 3, 3), tick=False):  # Monday
        case = register(kind="approval", accept=False)
        svc.forward_case(case, clerk, None, "转县民政局")
        svc.start_case(case, clerk)
        svc.wait_for_citizen(case, clerk, "请补交户口本")
    with time_machine.travel(date(2025, 3, 5), tick=False):
        svc.start_case(case, clerk)
    assert case.status == CaseStatus.in_progress
    assert (case.paused_since, case.paused_working_days, case.due_on) == (None, 0, None)
    assert [e.action for e in case.events][-2:] == ["paused", "resumed"]


def test_due_soon_then_overdue_sends_one_reminder_each(
    db, app, register, clerk, leader, stub_worker
):
    from core.deadlines import sweep_deadlines

    with time_machine.travel(date(2025, 3, 3), tick=False):
        case = register(kind="service", handler=leader)  # due 2025-03-06
    assert svc.timeliness(case, date(2025, 3, 4), 2) == "due_soon"
    assert sweep_deadlines(date(2025, 3, 4)) == 1
    assert sweep_deadlines(date(2025, 3, 4)) == 0  # once per due date
    assert sweep_deadlines(date(2025, 3, 7)) == 1  # overdue now
    assert sweep_deadlines(date(2025, 3, 10)) == 0
    stub_worker.join()
    # the two reminders run on two worker threads: their order is not fixed
    titles = sorted(
        db.session.scalars(select(Notification.title).where(Notification.user_id == leader.id))
    )
    assert [title.split(":")[0] for title in titles] == ["Due soon", "Overdue"]
    # the first responder hears about it too
    assert (
        db.session.scalar(
            select(func.count(Notification.id)).where(Notification.user_id == clerk.id)
        )
        == 2
    )
    # e-mails were recorded as durable tasks and done (logged: no SMTP configured)
    statuses = db.session.scalars(
        select(TaskRecord.status).where(TaskRecord.actor_name == "core.send_email")
    ).all()
    assert statuses and all(s == "done" for s in statuses)
    assert ("overdue", case.id) in example_plugin.EVENTS


def test_plugin_case_kind_uses_its_declared_limit(register):
    with time_machine.travel(date(2025, 3, 3), tick=False):
        case = register(kind="example.visit")
    assert case.due_on == date(2025, 3, 5)
