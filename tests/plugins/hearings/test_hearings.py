"""A hearing from its announcement to its published result: registration with a receipt the
public lookup finds, invited participants, a question given a deadline that becomes a core
case, turns overdue and reminds once, the result fed back to every participant, the
minutes in the archive; and the checks that keep bad input out."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from core import inbox
from core.models import Case, CaseStatus, Notification, ProducedRecord
from core.testing.fixtures import page_text, page_texts
from plugins.hearings import services
from plugins.hearings.models import (
    FeedbackWay,
    Hearing,
    HearingParticipant,
    HearingQuestion,
    HearingStatus,
    QuestionStatus,
)

from .conftest import at, hearing_input


def _count(model) -> int:
    from core.db import db

    return db.session.scalar(select(func.count()).select_from(model))


def test_a_hearing_from_announcement_to_result_fed_back(
    client,
    db,
    hearings_township,
    secretary,
    leader,
    clerk,
    retired,
    called,
    stub_worker,
    create_user,
):
    east = hearings_township.code
    plain = create_user("plain", "duty_leader", hearings_township, name="普通干部")
    # in preparation: not on the public site
    assert client.get(f"/t/{east}/hearings/{called.id}").status_code == 404
    with at(2026, 3, 2, 10):
        services.announce_hearing(called, secretary)
        listing = client.get(f"/t/{east}/hearings/").get_data(as_text=True)
        assert "垃圾中转站选址听证会" in listing
        page = client.get(f"/t/{east}/hearings/{called.id}").get_data(as_text=True)
        assert page_text(page, "#hearing-status") == "Announced"
        assert "2026-03-10 09:30" in page_text(page, "#hearing-when")

        # a citizen concerned registers on the public site and gets a receipt number
        bad = client.post(
            f"/t/{east}/hearings/{called.id}/register",
            data={"name": "张三", "phone": "12345", "concern": ""},
        )
        assert bad.status_code == 400
        assert "12345 is not a valid phone number" in page_text(
            bad.get_data(as_text=True), "#problems"
        )
        assert _count(HearingParticipant) == 0
        done = client.post(
            f"/t/{east}/hearings/{called.id}/register",
            data={"name": "张三", "phone": "138 0000 1111", "concern": "担心运输噪声"},
        )
        assert done.status_code == 201
        receipt = page_text(done.get_data(as_text=True), "#receipt-no")
        assert "-TZ260302-" in receipt
        twice = client.post(
            f"/t/{east}/hearings/{called.id}/register",
            data={"name": "张三", "phone": "13800001111"},
        )
        assert "registered for this hearing already" in twice.get_data(as_text=True)

        # the public lookup finds the receipt: status and dates, nothing personal
        lookup = client.get(f"/lookup?receipt={receipt}")
        assert lookup.status_code == 200
        text = lookup.get_data(as_text=True)
        assert "垃圾中转站选址听证会" in text and "Announced" in text
        assert "张三" not in text and "13800001111" not in text
        assert client.get(f"/receipt/{receipt}").status_code == 200

        services.invite(called, secretary, "retired_cadre", person_id=retired.id)
        services.invite(called, secretary, "npc_deputy", user_id=leader.id)
        with pytest.raises(services.HearingError, match="invited already"):
            services.invite(called, secretary, "npc_deputy", user_id=leader.id)

    # the day of the hearing
    with at(2026, 3, 10, 9, 30):
        services.open_hearing(called, secretary)
        # the hearing waits in the inbox of those who run hearings until it is concluded
        assert "hearings.to_conclude" in {i.source.key for i in inbox.page(leader)[0]}
        people = {p.name: p for p in services.participants(called.id)}
        services.record_attendance(called, secretary, {people["张三"].id, people["王桂兰"].id})
        on_spot = services.record_question(
            called,
            secretary,
            services.QuestionInput(
                question="离住户有多远？",
                participant_id=people["李镇长"].id,
                answer="约350米。",
                answered_by="李镇长",
            ),
        )
        assert on_spot.status == QuestionStatus.answered and on_spot.case_id is None
        later = services.record_question(
            called,
            secretary,
            services.QuestionInput(
                question="运输车辆能否避开上学时段？",
                participant_id=people["张三"].id,
                reason="需与县环卫公司协商。",
                responsible_id=clerk.id,
                deadline=date(2026, 3, 17),
            ),
        )
        # the question is a core case: the responsible person handles it, due on the deadline
        case = db.session.get(Case, later.case_id)
        assert case.kind == "hearings.question"
        assert case.handler_id == clerk.id and case.first_responder_id == secretary.id
        assert case.due_on == date(2026, 3, 17)
        assert case.limit_max_amount is None  # the deadline is the hearing's, not extendable
        mine = [i for i in inbox.page(clerk)[0] if i.source.key == "hearings.question"]
        assert [(i.object_id, i.due_on) for i in mine] == [(later.id, date(2026, 3, 17))]
        assert (
            db.session.scalar(
                select(func.count(Notification.id)).where(
                    Notification.user_id == clerk.id, Notification.title.like("Answer by%")
                )
            )
            == 1
        )

        services.conclude(called, secretary, "按原选址建设，加装除臭设备。")
        with pytest.raises(services.HearingError, match="in session"):
            services.conclude(called, secretary, "again")
        assert "hearings.to_conclude" not in {i.source.key for i in inbox.page(leader)[0]}

    # fed back to every participant: one notification for the one with an account,
    # letters for the others
    results = db.session.scalars(
        select(Notification.user_id).where(Notification.title.like("Result of the hearing%"))
    ).all()
    assert results == [leader.id]
    ways = {p.name: p.feedback for p in services.participants(called.id)}
    assert ways == {
        "李镇长": FeedbackWay.notified,
        "王桂兰": FeedbackWay.letter,
        "张三": FeedbackWay.letter,
    }
    # the minutes went to the archive, frozen
    record = db.session.scalar(
        select(ProducedRecord).where(ProducedRecord.reference == f"hearing:{called.id}")
    )
    assert record is not None and record.source == "hearings"
    content = record.data["content"]
    for text in ("垃圾中转站选址听证会", "Retired cadres", "王桂兰", "离住户有多远？", "约350米。"):
        assert text in content

    # the public page shows the result and the open question with its deadline
    with at(2026, 3, 11, 9):
        page = client.get(f"/t/{east}/hearings/{called.id}").get_data(as_text=True)
        assert "按原选址建设" in page_text(page, "#hearing-result")
        statuses = page_texts(page, "#questions .question")
        assert len(statuses) == 2 and "2026-03-17" in statuses[1]
        assert "张三" not in page  # who asked is shown by category only
        listing = client.get(f"/t/{east}/hearings/").get_data(as_text=True)
        assert page_texts(listing, ".open-question")[0].startswith("运输车辆能否避开上学时段？")
        lookup = client.get(f"/lookup?receipt={receipt}").get_data(as_text=True)
        assert "按原选址建设" in lookup

    # the deadline passes: the core's sweep reminds once, however often it runs
    from core.deadlines import sweep_deadlines

    with at(2026, 3, 18, 8):
        assert sweep_deadlines() == 1
        assert sweep_deadlines() == 0
        stub_worker.join()
        overdue = db.session.scalars(
            select(Notification.user_id).where(Notification.title.like("Overdue:%"))
        ).all()
        assert sorted(overdue) == sorted({clerk.id, secretary.id, leader.id})
        # once overdue, the core's "overdue case" item takes over in the inbox
        keys = [i.source.key for i in inbox.page(clerk)[0]]
        assert "core.overdue_case" in keys and "hearings.question" not in keys

    # the responsible person answers: published, the case resolved and closed
    with at(2026, 3, 19, 10):
        with pytest.raises(services.HearingError, match="person responsible"):
            services.answer_question(later, plain, "x")
        services.answer_question(later, clerk, "已与环卫公司商定7:00前、17:30后运输。")
        db.session.expire_all()
        later = db.session.get(HearingQuestion, later.id)
        assert later.status == QuestionStatus.answered_later
        assert db.session.get(Case, later.case_id).status == CaseStatus.closed
        listing = client.get(f"/t/{east}/hearings/").get_data(as_text=True)
        assert page_texts(listing, ".open-question") == []
        page = client.get(f"/t/{east}/hearings/{called.id}").get_data(as_text=True)
        assert "7:00前" in page


def test_dates_are_checked_and_nothing_is_written(db, hearings_township, secretary):
    with at(2026, 3, 2, 9):
        cases = [
            (dict(held_on=date(2026, 2, 10)), "cannot come before the decision"),
            (dict(decided_on=date(2026, 3, 5)), "is in the future"),
            (dict(decided_on=date(1999, 12, 31)), "check the year"),
            (dict(held_on=date(2028, 3, 10)), "more than a year ahead"),
            (dict(topic=""), "The topic is required"),
            (dict(topic="议" * 201), "at most 200"),
            (dict(kind="meeting"), "hearing or an inquiry"),
            (dict(public_seats=-1), "Seats for the public"),
        ]
        for changes, message in cases:
            with pytest.raises(services.HearingError) as caught:
                services.create_hearing(hearings_township, hearing_input(**changes), secretary)
            assert message in str(caught.value), changes
        assert db.session.scalar(select(func.count(Hearing.id))) == 0
        hearing = services.create_hearing(hearings_township, hearing_input(), secretary)
    # a hearing whose date passed cannot be announced; it cannot open before its day
    with (
        at(2026, 3, 11, 9),
        pytest.raises(services.HearingError, match="can no longer be announced"),
    ):
        services.announce_hearing(hearing, secretary)
    with at(2026, 3, 9, 9), pytest.raises(services.HearingError, match="cannot be opened before"):
        services.open_hearing(hearing, secretary)
    assert db.session.get(Hearing, hearing.id).status == HearingStatus.draft


def test_a_question_is_answered_or_given_a_deadline_never_half(
    db, hearings_township, secretary, clerk, called
):
    with at(2026, 3, 10, 9):
        services.open_hearing(called, secretary)
        bad = [
            (services.QuestionInput(question="为什么？", asker_name="村民"), "answer given"),
            (
                services.QuestionInput(
                    question="为什么？", asker_name="村民", answer="因为", reason="需调研"
                ),
                "not both",
            ),
            (
                services.QuestionInput(
                    question="为什么？",
                    asker_name="村民",
                    reason="需调研",
                    responsible_id=clerk.id,
                    deadline=date(2026, 3, 10),
                ),
                "must come after today",
            ),
            (
                services.QuestionInput(question="为什么？", asker_name="村民", reason="需调研"),
                "person responsible",
            ),
            (services.QuestionInput(question="", asker_name="村民", answer="好"), "question"),
        ]
        for data, message in bad:
            with pytest.raises(services.HearingError) as caught:
                services.record_question(called, secretary, data)
            assert message in str(caught.value)
        assert db.session.scalar(select(func.count(HearingQuestion.id))) == 0
        assert db.session.scalar(select(func.count(Case.id))) == 0
        # a deadline on a Saturday: the case is due the next working day, as the core counts
        question = services.record_question(
            called,
            secretary,
            services.QuestionInput(
                question="补偿标准？",
                asker_name="村民代表",
                reason="需请示县里",
                responsible_id=clerk.id,
                deadline=date(2026, 3, 14),
            ),
        )
        assert question.deadline == date(2026, 3, 14)
        assert question.case.due_on == date(2026, 3, 16)
        assert question.number == 1


def test_registration_closes_when_seats_are_taken_or_the_hearing_is_past(
    client, db, hearings_township, secretary, called
):
    with at(2026, 3, 2, 9):
        called.public_seats = 1
        db.session.commit()
        services.announce_hearing(called, secretary)
        url = f"/t/{hearings_township.code}/hearings/{called.id}/register"
        assert client.post(url, data={"name": "甲", "phone": "13800001111"}).status_code == 201
        full = client.post(url, data={"name": "乙", "phone": "13800002222"})
        assert full.status_code == 400
        assert "All seats for the public are taken" in full.get_data(as_text=True)
    with at(2026, 3, 11, 9):
        called.public_seats = None
        db.session.commit()
        late = client.post(url, data={"name": "丙", "phone": "13800003333"})
        assert late.status_code == 400
        assert "closed" in late.get_data(as_text=True)
    assert db.session.scalar(select(func.count(HearingParticipant.id))) == 1


def test_a_question_closed_on_the_case_page_is_answered(
    db, hearings_township, secretary, clerk, called
):
    from core.cases import close_case, resolve_case

    with at(2026, 3, 10, 9):
        services.open_hearing(called, secretary)
        question = services.record_question(
            called,
            secretary,
            services.QuestionInput(
                question="补偿标准？",
                asker_name="村民代表",
                reason="需请示县里",
                responsible_id=clerk.id,
                deadline=date(2026, 3, 20),
            ),
        )
        case = question.case
        resolve_case(case, clerk, "按县里2026年标准补偿。")
        close_case(case, clerk)
    db.session.expire_all()
    question = db.session.get(HearingQuestion, question.id)
    assert question.status == QuestionStatus.answered_later
    assert question.answer == "按县里2026年标准补偿。"
    assert question.answered_by == clerk.name
