"""Leader appointments: a card for an away leader waits for the return, the return queues
it with one notification, a visit closes it (and its case goes to the archives), an
overdue card reminds once, refusals write nothing."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import func, select

from core import inbox
from core.models import Case, CaseStatus, Notification, ProducedRecord
from core.testing.fixtures import page_text, page_texts
from plugins.appointments import services
from plugins.appointments.models import AppointmentCard, CardStatus, HomeVisit
from plugins.appointments.services import AppointmentError

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(*args):
    return time_machine.travel(datetime(*args, tzinfo=SHANGHAI), tick=False)


def notifications(db, user, like: str) -> list[str]:
    return list(
        db.session.scalars(
            select(Notification.title).where(
                Notification.user_id == user.id, Notification.key.like(like)
            )
        )
    )


def inbox_cards(user) -> list[tuple[int, date | None]]:
    return [
        (i.object_id, i.due_on)
        for i in inbox.page(user)[0]
        if i.source.key == services.INBOX_TO_VISIT
    ]


def test_the_leader_back_gets_one_notification_and_the_cards_in_the_inbox(
    db, appointments_township, clerk, leader, away, card_input
):
    from core import presence

    with at(2026, 3, 2, 9):  # a Monday
        absence = away(leader)
        first = services.take_card(appointments_township, card_input(leader), taken_by=clerk)
        second = services.take_card(
            appointments_township,
            card_input(leader, citizen_name="张建军", phone="0471 5551234", channel="phone"),
            taken_by=clerk,
        )
    assert [first.status, second.status] == [CardStatus.waiting_return] * 2
    assert first.leader_was_away and second.phone == "04715551234"
    assert first.case.status == CaseStatus.accepted and first.case.handler_id is None
    assert first.case.kind == "appointments.card" and first.case.first_responder_id == clerk.id
    assert first.case.title == "刘桂兰 asks for 李镇长: 老房屋顶漏雨，申请危房改造补助"
    assert inbox_cards(leader) == []
    assert notifications(db, leader, "%appointments%") == []

    with at(2026, 3, 4, 15):  # back on Wednesday
        presence.mark_back(absence, by=leader)
    db.session.expire_all()
    # five working days after the day of the return
    assert inbox_cards(leader) == [(first.id, date(2026, 3, 11)), (second.id, date(2026, 3, 11))]
    titles = notifications(db, leader, "%appointments%")
    assert titles == ["Welcome back: 2 appointment cards waited for you"]
    card = db.session.get(AppointmentCard, first.id)
    assert card.status == CardStatus.queued and card.queued_on == date(2026, 3, 4)
    assert card.case.handler_id == leader.id and card.case.status == CaseStatus.in_progress
    # the return is recorded once, and so is the notification
    with pytest.raises(presence.PresenceError):
        presence.mark_back(absence, by=leader)
    assert len(notifications(db, leader, "%appointments%")) == 1
    assert inbox_cards(clerk) == []


def test_a_card_taken_while_the_leader_is_present_is_in_the_inbox_at_once(
    db, appointments_township, clerk, leader, card_input
):
    with at(2026, 3, 6, 10):  # a Friday
        card = services.take_card(appointments_township, card_input(leader), taken_by=clerk)
    assert card.status == CardStatus.queued and not card.leader_was_away
    assert card.visit_due_on == date(2026, 3, 13)
    assert inbox_cards(leader) == [(card.id, date(2026, 3, 13))]
    assert notifications(db, leader, f"inbox:appointments.to_visit:{card.id}:%") == [
        "Appointment card: 刘桂兰 asks for a home visit by 2026-03-13"
    ]


def test_the_township_sets_the_visit_deadline(db, appointments_township, clerk, leader, card_input):
    from core.policies import set_policy

    set_policy(appointments_township.id, "appointments.visit_working_days", "2")
    db.session.commit()
    with at(2026, 3, 6, 10):
        card = services.take_card(appointments_township, card_input(leader), taken_by=clerk)
    assert card.visit_due_on == date(2026, 3, 10)  # Friday + 2 working days (Mon, Tue)


def test_a_visit_registers_the_result_closes_the_card_and_archives_the_case(
    client, db, appointments_township, clerk, leader, away, card_input
):
    from core import presence

    with at(2026, 3, 2, 9):
        absence = away(leader)
        card = services.take_card(appointments_township, card_input(leader), taken_by=clerk)
    receipt_no = card.case.receipt_no
    html = client.get(f"/lookup?receipt={receipt_no}").get_data(as_text=True)
    assert "away" in page_text(html, "#appointments-status")
    with at(2026, 3, 3, 9):
        presence.mark_back(absence, by=leader)
    with at(2026, 3, 5, 16):
        services.record_visit(
            card,
            by=leader,
            visited_on=date(2026, 3, 4),
            companions="民政办 王干事",
            findings="屋顶两处漏雨",
            outcome="follow_up",
        )
        assert card.status == CardStatus.follow_up
        assert inbox_cards(leader) == [(card.id, None)]  # visited in time: no due date
        services.record_visit(
            card,
            by=leader,
            visited_on=date(2026, 3, 5),
            findings="民政办已核实",
            outcome="resolved",
            result="已申报危房改造补助",
        )
    db.session.expire_all()
    card = db.session.get(AppointmentCard, card.id)
    assert card.status == CardStatus.closed and card.result == "已申报危房改造补助"
    case = card.case
    assert case.status == CaseStatus.closed and case.result == "已申报危房改造补助"
    assert [e.action for e in case.events][-3:] == ["resolved", "delivered", "closed"]
    assert inbox_cards(leader) == []
    produced = db.session.scalar(
        select(ProducedRecord).where(ProducedRecord.reference.like(f"case:{case.id}:%"))
    )
    assert produced is not None and produced.source == "appointments"
    html = client.get(f"/lookup?receipt={receipt_no}").get_data(as_text=True)
    assert page_texts(html, "#appointments-visits li") == [
        "2026-03-04 Another visit needed",
        "2026-03-05 Resolved on the spot",
    ]
    assert "closed" == page_text(html, "#case-status-label").lower()
    # nothing personal under the receipt
    for personal in ("13904711234", "东村三组18号", "屋顶两处漏雨", "已申报危房改造补助"):
        assert personal not in html


def test_visits_that_cannot_be_recorded_write_nothing(
    db, appointments_township, clerk, leader, away, card_input
):
    from core import presence

    with at(2026, 3, 2, 9):
        absence = away(leader)
        card = services.take_card(appointments_township, card_input(leader), taken_by=clerk)
        with pytest.raises(AppointmentError, match="still recorded as away"):
            services.record_visit(
                card, by=leader, visited_on=None, findings="x", outcome="resolved", result="y"
            )
    with at(2026, 3, 4, 9):
        presence.mark_back(absence, by=leader)
        db.session.refresh(card)
        cases = [
            (
                {"findings": "", "outcome": "resolved", "result": "r"},
                "What the visit found is required",
            ),
            ({"findings": "f", "outcome": "resolved", "result": ""}, "The result is required"),
            ({"findings": "f", "outcome": "maybe", "result": "r"}, "Choose what came of the visit"),
            (
                {"findings": "长" * 2001, "outcome": "resolved", "result": "r"},
                "2001 characters is too long; at most 2000",
            ),
            (
                {
                    "findings": "f",
                    "outcome": "resolved",
                    "result": "r",
                    "visited_on": date(2026, 3, 5),
                },
                "in the future",
            ),
            (
                {
                    "findings": "f",
                    "outcome": "resolved",
                    "result": "r",
                    "visited_on": date(2026, 3, 3),
                },
                "cannot be before 2026-03-04",
            ),
        ]
        for values, message in cases:
            values.setdefault("visited_on", None)
            with pytest.raises(AppointmentError, match=message):
                services.record_visit(card, by=leader, **values)
            db.session.rollback()
        with pytest.raises(AppointmentError, match="may not record visits"):
            services.record_visit(
                card,
                by=_outsider(db),
                visited_on=None,
                findings="f",
                outcome="resolved",
                result="r",
            )
    db.session.expire_all()
    assert db.session.scalar(select(func.count(HomeVisit.id))) == 0
    card = db.session.get(AppointmentCard, card.id)
    assert card.status == CardStatus.queued and card.case.status == CaseStatus.in_progress


def _outsider(db):
    from core.models import User

    user = User(username="nobody", name="路人", password_hash="x")
    db.session.add(user)
    db.session.commit()
    return user


def test_a_card_for_someone_who_is_not_a_leader_is_refused_and_nothing_is_written(
    db, appointments_township, other_township, clerk, leader, create_user, card_input
):
    other_leader = create_user("wleader", "leader", other_township, name="西镇镇长")
    with pytest.raises(AppointmentError, match="王办事 is not a leader of this township"):
        services.take_card(appointments_township, card_input(clerk), taken_by=clerk)
    with pytest.raises(AppointmentError, match="西镇镇长 is not a leader of this township"):
        services.take_card(appointments_township, card_input(other_leader), taken_by=clerk)
    with pytest.raises(AppointmentError) as refused:
        services.take_card(
            appointments_township,
            card_input(
                leader,
                citizen_name="",
                phone="12345",
                address="长" * 201,
                taken_on=date.today() + timedelta(days=3),
            ),
            taken_by=clerk,
        )
    problems = " | ".join(refused.value.problems)
    for message in (
        "The citizen's name is required",
        "12345 is not a valid phone number",
        "201 characters is too long; at most 200",
        "in the future",
    ):
        assert message in problems
    with pytest.raises(AppointmentError, match="may not take appointment cards"):
        services.take_card(appointments_township, card_input(leader), taken_by=other_leader)
    assert db.session.scalar(select(func.count(AppointmentCard.id))) == 0
    assert db.session.scalar(select(func.count(Case.id))) == 0


def test_an_overdue_card_reminds_the_leader_and_the_supervisor_once(
    app, db, appointments_township, clerk, leader, township_admin, card_input, stub_worker
):
    from plugins.appointments.tasks import overdue_sweep

    with at(2026, 3, 2, 9):
        card = services.take_card(appointments_township, card_input(leader), taken_by=clerk)
    assert card.visit_due_on == date(2026, 3, 9)
    with at(2026, 3, 9, 18):  # due today: not yet overdue
        overdue_sweep.fn()
        stub_worker.join()
    assert (
        db.session.scalar(
            select(func.count(Notification.id)).where(
                Notification.key.like("appointments.overdue:%")
            )
        )
        == 0
    )
    with at(2026, 3, 10, 8):
        overdue_sweep.fn()
        overdue_sweep.fn()
        stub_worker.join()
        overdue_sweep.fn()
        stub_worker.join()
    rows = db.session.execute(
        select(Notification.user_id, Notification.key).where(
            Notification.key.like("appointments.overdue:%")
        )
    ).all()
    assert sorted(rows) == sorted(
        [
            (leader.id, f"appointments.overdue:{card.id}:2026-03-09:{leader.id}"),
            (township_admin.id, f"appointments.overdue:{card.id}:2026-03-09:{township_admin.id}"),
        ]
    )
    # a visited card reminds nobody any more
    with at(2026, 3, 11, 9):
        services.record_visit(
            card, by=leader, visited_on=None, findings="f", outcome="explained", result="已解释政策"
        )
        overdue_sweep.fn()
        stub_worker.join()
    assert (
        db.session.scalar(
            select(func.count(Notification.id)).where(
                Notification.key.like("appointments.overdue:%")
            )
        )
        == 2
    )


def test_the_case_closed_from_the_case_page_closes_the_card(
    db, appointments_township, clerk, leader, card_input
):
    from core.cases import close_case, deliver_case, reopen_case, resolve_case

    card = services.take_card(appointments_township, card_input(leader), taken_by=clerk)
    case = card.case
    resolve_case(case, leader, "电话答复")
    deliver_case(case, leader, "电话告知")
    close_case(case, leader)
    db.session.expire_all()
    card = db.session.get(AppointmentCard, card.id)
    assert card.status == CardStatus.closed and card.result == "电话答复"
    reopen_case(card.case, leader, "群众仍有疑问")
    db.session.expire_all()
    assert db.session.get(AppointmentCard, card.id).status == CardStatus.follow_up


def test_the_dashboard_counts_cards_per_leader_overdue_and_visits(
    client, db, appointments_township, clerk, leader, create_user, away, card_input
):
    from plugins.appointments.hooks import dashboard_figures

    deputy = create_user("deputy", "leader", appointments_township, name="周副镇长")
    with at(2026, 3, 2, 9):
        services.take_card(appointments_township, card_input(leader), taken_by=clerk)
        done = services.take_card(appointments_township, card_input(leader), taken_by=clerk)
        services.record_visit(
            done, by=leader, visited_on=None, findings="f", outcome="resolved", result="r"
        )
        away(deputy)
        services.take_card(appointments_township, card_input(deputy), taken_by=clerk)
    with at(2026, 3, 12, 9), client.application.test_request_context():
        figures = {f.label: f.value for f in dashboard_figures(appointments_township)}
    assert figures == {
        "Appointments for 周副镇长: to visit 0, waiting for the return 1": 1,
        "Appointments for 李镇长: to visit 1, waiting for the return 0": 1,
        "Appointments: home visits overdue": 1,
        "Appointments: home visits this month": 1,
    }


def test_the_yearly_figures_count_each_leaders_visits_and_late_ones(
    db, appointments_township, clerk, leader, card_input
):
    from core.people import year_figures

    with at(2026, 3, 2, 9):
        on_time = services.take_card(appointments_township, card_input(leader), taken_by=clerk)
        late = services.take_card(appointments_township, card_input(leader), taken_by=clerk)
        services.record_visit(
            on_time, by=leader, visited_on=None, findings="f", outcome="follow_up"
        )
    with at(2026, 3, 20, 9):  # after the due date of 2026-03-09
        services.record_visit(
            late, by=leader, visited_on=None, findings="f", outcome="resolved", result="r"
        )
        services.record_visit(
            on_time, by=leader, visited_on=None, findings="f", outcome="resolved", result="r"
        )
    figures = year_figures(appointments_township, 2026, [leader.id, clerk.id])
    assert {f.key: (f.value, f.met) for f in figures[leader.id]} == {
        "appointments.home_visits": (3, None),
        "appointments.visits_late": (1, False),
    }
    assert clerk.id not in figures  # a clerk makes no visits
    assert year_figures(appointments_township, 2025, [leader.id])[leader.id][0].value == 0


def test_the_daily_sweep_queues_a_card_whose_leader_is_no_longer_away(
    db, appointments_township, clerk, leader, away, card_input
):
    """An away period cancelled as entered by mistake fires no return: the sweep catches it."""
    from core import presence
    from plugins.appointments.tasks import overdue_sweep

    with at(2026, 3, 2, 9):
        absence = away(leader)
        card = services.take_card(appointments_township, card_input(leader), taken_by=clerk)
        overdue_sweep.fn()
        assert card.status == CardStatus.waiting_return  # still away: nothing to do
    with at(2026, 3, 2, 10):
        presence.cancel_absence(absence, by=clerk)
        overdue_sweep.fn()
        overdue_sweep.fn()
    db.session.expire_all()
    card = db.session.get(AppointmentCard, card.id)
    assert card.status == CardStatus.queued and card.visit_due_on == date(2026, 3, 9)
    assert notifications(db, leader, "appointments.returned:%") == [
        "Welcome back: 1 appointment card waited for you"
    ]
    assert inbox_cards(leader) == [(card.id, date(2026, 3, 9))]
