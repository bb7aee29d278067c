"""Petitions as cases: the 15/60-day limits, extension, escalation, follow-up, answer, risks."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from core import clock
from core.cases import decide_extension, pending_extension, request_extension
from core.models import Case, CaseStatus, LimitUnit, Notification, ProducedRecord
from plugins.petitions import services
from plugins.petitions.models import (
    Acceptance,
    FollowUp,
    Petition,
    RegisteredVia,
    RiskFlag,
    RiskKind,
)
from plugins.petitions.services import PetitionerInput, PetitionError
from tests.plugins.petitions.conftest import ID_GAO, ID_LI, ID_ZHAO, at


def _counts(db):
    return (
        db.session.scalar(select(func.count(Case.id))),
        db.session.scalar(select(func.count(Petition.id))),
    )


def test_a_petition_at_a_session_is_a_case_with_the_15_and_60_day_limits(
    db, make_petition, make_session, officer, station
):
    with at(2026, 3, 2, 10, 0):  # a Monday
        session = make_session()
        petition = make_petition(session_id=session.id)
    case = petition.case
    assert petition.registered_via == RegisteredVia.session
    assert case.kind == "petitions.petition" and case.status == CaseStatus.received
    assert case.applicant_name == "李玉山" and case.receipt_no
    # acceptance decided within 15 days of receipt (信访工作条例)
    assert petition.received_on == session.held_on
    assert petition.decide_by == petition.received_on + timedelta(days=15)
    with at(2026, 3, 4, 10, 0):
        services.decide_acceptance(petition, accept=True, by=officer)
    db.session.refresh(case)
    # handled within 60 calendar days of acceptance, counted from the next day
    assert case.status == CaseStatus.accepted
    assert (case.limit_amount, case.limit_unit, case.limit_max_amount) == (
        60,
        LimitUnit.calendar_days,
        90,
    )
    # 60 days after 4 March is Sunday 3 May, in the May Day holiday (1-5 May): the 6th
    assert case.due_on == date(2026, 5, 6)
    assert petition.acceptance == Acceptance.accepted
    # the trail and the public lookup are the core's
    assert [e.action for e in case.events] == ["registered", "accepted"]


def test_the_time_limits_come_from_township_policies(db, make_petition, petitions_township):
    from core.policies import set_policy

    set_policy(petitions_township.id, "petitions.accept_decision_days", "10")
    db.session.commit()
    petition = make_petition()
    assert petition.decide_by == petition.received_on + timedelta(days=10)


def test_not_accepting_closes_the_case_with_the_reason(db, make_petition, officer):
    petition = make_petition()
    with pytest.raises(PetitionError, match="Reason"):
        services.decide_acceptance(petition, accept=False, by=officer)
    db.session.refresh(petition)
    assert petition.acceptance == Acceptance.pending
    services.decide_acceptance(petition, accept=False, by=officer, reason="已依法通过诉讼解决")
    assert petition.case.status == CaseStatus.closed
    assert petition.not_accepted_reason == "已依法通过诉讼解决"
    assert db.session.scalar(select(func.count(ProducedRecord.id))) == 1  # to the archives


def test_the_extension_is_capped_at_30_more_days(db, make_petition, officer, leader):
    with at(2026, 6, 1, 9, 0):
        petition = make_petition()
        services.decide_acceptance(petition, accept=True, by=officer)
        assert petition.case.due_on == date(2026, 7, 31)
        assert services.extension_room(petition) == 30
        with pytest.raises(PetitionError, match="at most 30 days"):
            services.ask_extension(petition, days=31, reason="需要实地调查", by=officer)
        assert pending_extension(petition.case) is None
        # the core's own request is capped by the case kind's longest extension (90)
        with pytest.raises(Exception, match="90"):
            request_extension(petition.case, officer, 91, "需要实地调查")
        request = services.ask_extension(petition, days=30, reason="需要实地调查", by=officer)
        # the leader decides in the core (inbox "extension request to decide")
        decide_extension(request, leader, True)
    db.session.refresh(petition.case)
    assert petition.case.limit_amount == 90
    # 90 days after 1 June is Sunday 30 August: the due date moves to Monday
    assert petition.case.due_on == date(2026, 8, 31)
    assert services.extension_room(petition) == 0
    with pytest.raises(PetitionError, match="cannot be extended further"):
        services.ask_extension(petition, days=1, reason="再延", by=officer)


def test_escalation_to_the_leadership_team_is_recorded(
    db, make_petition, officer, leader, deputy, clerk
):
    from core import inbox

    petition = make_petition()
    with pytest.raises(PetitionError, match="accept the petition first"):
        services.escalate(petition, reason="涉及十二户", by=officer)
    services.decide_acceptance(petition, accept=True, by=officer)
    services.escalate(petition, reason="涉及十二户征地补偿", by=officer)
    # the leaders find it in their inbox
    items, _ = inbox.page(leader)
    assert [(i.source.key, i.object_id) for i in items if i.source.key.startswith("petitions")] == [
        ("petitions.collective_decision", petition.id)
    ]
    # a decision is collective and taken by the leadership team
    today = clock.today(petition.township_id)
    with pytest.raises(PetitionError, match="at least two"):
        services.record_decision(
            petition, meeting_on=today, members=[leader], decision="补发", by=leader
        )
    with pytest.raises(PetitionError, match="Not members of the leadership team: 王办事"):
        services.record_decision(
            petition, meeting_on=today, members=[leader, clerk], decision="补发", by=leader
        )
    with pytest.raises(PetitionError, match="You may not"):
        services.record_decision(
            petition, meeting_on=today, members=[leader, deputy], decision="补发", by=officer
        )
    with pytest.raises(PetitionError, match="future"):
        services.record_decision(
            petition,
            meeting_on=today + timedelta(days=1),
            members=[leader, deputy],
            decision="补发",
            by=leader,
        )
    services.record_decision(
        petition, meeting_on=today, members=[leader, deputy], decision="十日内补发到位", by=leader
    )
    db.session.refresh(petition)
    assert petition.decision.decision == "十日内补发到位"
    assert {m.user.name for m in petition.decision.members} == {"李镇长", "吴副书记"}
    assert not [i for i in inbox.page(leader)[0] if i.source.key.startswith("petitions")]


def test_a_repeat_petitioner_is_flagged_by_id_number(db, make_petition, officer):
    first = make_petition()
    # the same person by phone, the ID number typed with a lower-case ending elsewhere
    again = make_petition(
        channel="phone",
        matter="再次询问道路硬化进度",
        petitioners=[PetitionerInput("李玉山", ID_LI.lower(), "", "")],
    )
    flags = db.session.scalars(select(RiskFlag).where(RiskFlag.petition_id == again.id)).all()
    assert [(f.kind, f.petitioner.name) for f in flags] == [(RiskKind.repeat, "李玉山")]
    assert first.case.receipt_no in flags[0].description
    assert flags[0].closed_on is None and flags[0].measures == ""
    # the first petition carries no flag; a stranger none either
    other = make_petition(petitioners=[PetitionerInput("赵春花", ID_ZHAO, "13947110004", "")])
    assert not db.session.scalars(
        select(RiskFlag).where(RiskFlag.petition_id.in_([first.id, other.id]))
    ).all()
    # recognised by the phone, however it is written
    assert [
        p.petition_id for p in services.find_repeat(first.township_id, None, "13947110001")
    ] == [first.id]
    # the risk register: measures, then closed
    flag = flags[0]
    with pytest.raises(PetitionError, match="measures"):
        services.close_flag(flag, note="已化解", by=officer)
    services.set_measures(flag, measures="专人联系，每周回访", by=officer)
    services.close_flag(flag, note="已答复，本人表示满意", by=officer)
    assert flag.closed_on == clock.today(flag.township_id)


def test_a_group_petition_is_flagged_and_head_counts_must_match(db, make_petition):
    two = [PetitionerInput("高志刚", ID_GAO, "", ""), PetitionerInput("马秀英", "", "", "")]
    before = _counts(db)
    for fields, message in (
        ({"head_count": 0}, "at least 1"),
        ({"head_count": 3}, "tick 'group petition'"),
        ({"is_group": True, "head_count": 1}, "at least 2"),
        ({"is_group": True, "head_count": 1, "petitioners": two}, "2 representatives"),
        ({"petitioners": two}, "One petitioner only"),
        (
            {
                "is_group": True,
                "head_count": 40,
                "petitioners": [PetitionerInput(f"代表{i}", "", "", "") for i in range(6)],
            },
            "at most 5 representatives",
        ),
        ({"petitioners": [PetitionerInput("", "", "13900001111", "")]}, "give the name"),
        ({"petitioners": [PetitionerInput("李四", "150102198809234521", "", "")]}, "check digit"),
        ({"petitioners": [PetitionerInput("李四", "", "12345", "")]}, "not a valid phone"),
        ({"matter": "x" * 201}, "at most 200"),
        ({"received_on": date(1999, 12, 31)}, "check the year"),
        ({"received_on": date.today() + timedelta(days=400)}, "in the future"),
        ({"channel": "fax"}, "how the petition came in"),
    ):
        with pytest.raises(PetitionError, match=message):
            make_petition(**fields)
        db.session.rollback()
    assert _counts(db) == before  # nothing written
    group = make_petition(is_group=True, head_count=12, petitioners=two)
    assert group.case.applicant_name == "高志刚等12人"
    kinds = db.session.scalars(select(RiskFlag.kind).where(RiskFlag.petition_id == group.id))
    assert list(kinds) == [RiskKind.group]


def test_hand_over_follow_up_and_answer(db, make_petition, officer, station, clerk, leader):
    from core import inbox

    petition = make_petition()
    services.decide_acceptance(petition, accept=True, by=officer)
    today = clock.today(petition.township_id)
    with pytest.raises(PetitionError, match="after the petition's due date"):
        services.hand_over(
            petition, department=station, by=officer, due_on=today + timedelta(days=90)
        )
    follow_up = services.hand_over(
        petition, department=station, by=officer, due_on=today + timedelta(days=10)
    )
    assert petition.case.status == CaseStatus.forwarded
    assert petition.case.department_id == station.id
    # the follow-up waits in the officer's inbox, due by the department's deadline
    items = [i for i in inbox.page(officer)[0] if i.source.key == "petitions.follow_up"]
    assert [(i.object_id, i.due_on) for i in items] == [(petition.id, today + timedelta(days=10))]
    with pytest.raises(PetitionError, match="Record the report of 民政办 first"):
        services.answer(petition, result="已修复", told_how="电话告知", by=officer)
    services.follow_up_done(follow_up, outcome="道路已列入今年计划", by=officer)
    assert not [i for i in inbox.page(officer)[0] if i.source.key == "petitions.follow_up"]
    services.answer(petition, result="道路已列入今年硬化计划", told_how="书面答复", by=officer)
    assert petition.case.status == CaseStatus.delivered
    services.close_petition(petition, by=officer)
    assert petition.case.status == CaseStatus.closed
    kinds = db.session.scalars(select(ProducedRecord.kind)).all()
    assert kinds == ["case:petitions.petition"]


def test_overdue_follow_ups_remind_their_owner_once(db, app, make_petition, officer, station):
    from plugins.petitions.tasks import overdue_sweep, remind

    with at(2026, 6, 1, 9, 0):
        petition = make_petition()
        services.decide_acceptance(petition, accept=True, by=officer)
        services.hand_over(petition, department=station, by=officer, due_on=date(2026, 6, 5))
    with at(2026, 6, 8, 8, 0):
        for _ in range(2):
            overdue_sweep.fn()
            from core.models import TaskRecord

            tasks = select(TaskRecord).where(TaskRecord.actor_name == "petitions.remind")
            for task in db.session.scalars(tasks).all():
                remind.fn(**task.args)
            db.session.commit()
    notes = db.session.scalars(
        select(Notification.title).where(
            Notification.user_id == officer.id, Notification.key.like("petitions.remind:%")
        )
    ).all()
    assert len(notes) == 1 and "民政办" in notes[0] and "2026-06-05" in notes[0]
    assert db.session.scalar(select(func.count(FollowUp.id))) == 1
