"""Duty reports (值班报告): due at the hand-over time of the next working day (a Friday's
duty on Monday, or on the adjusted working day 调休 after a holiday), missing reports in
the inbox of the people on duty and of the office once however often the sweep runs, and
counted against the people on duty."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import time_machine
from sqlalchemy import select

from core import inbox
from core.models import Notification
from plugins.feedback import services
from plugins.feedback.models import DutyReportStatus, FeedbackDutyReport
from tests.plugins.feedback.conftest import REST, WORKING

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(day: date, hour: int, minute: int = 0) -> datetime:
    """A moment of the township's day (Asia/Shanghai), as an aware datetime."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=SHANGHAI)


def _report(db, day: date) -> FeedbackDutyReport | None:
    db.session.expire_all()
    return db.session.scalar(select(FeedbackDutyReport).where(FeedbackDutyReport.duty_date == day))


def _missing_notes(db) -> list[str]:
    return sorted(
        db.session.scalars(
            select(Notification.key).where(
                Notification.key.like(f"inbox:{services.INBOX_MISSING}:%")
            )
        )
    )


def test_a_fridays_report_is_due_on_monday_at_half_past_eight(db, feedback_township, clerk):
    tid = feedback_township.id
    due_at, due_on = services.due_time(tid, date(2025, 11, 14))  # an ordinary Friday
    assert due_on == date(2025, 11, 17)  # Monday
    assert due_at == at(date(2025, 11, 17), 8, 30).astimezone(UTC)
    # a Friday before an adjusted working day (National Day 2025: Sunday 28 September worked)
    assert services.due_time(tid, date(2025, 9, 26))[1] == date(2025, 9, 28)
    # the last working day before the National Day holiday: due the day after it ends
    assert services.due_time(tid, date(2025, 9, 30))[1] == date(2025, 10, 9)
    # a Friday before the Spring Festival 2026, when Saturday 14 February is worked
    assert services.due_time(tid, date(2026, 2, 13))[1] == date(2026, 2, 14)
    # a rest-day duty (Saturday) reports on the next working day too
    assert services.due_time(tid, date(2025, 11, 15))[1] == date(2025, 11, 17)


def test_the_township_sets_the_hand_over_time(db, feedback_township):
    from core.policies import set_policy
    from plugins.feedback.policy import DUE_TIME

    set_policy(feedback_township.id, DUE_TIME, "9：05")
    db.session.commit()
    due_at, _ = services.due_time(feedback_township.id, date(2025, 11, 14))
    assert due_at == at(date(2025, 11, 17), 9, 5).astimezone(UTC)
    import pytest

    with pytest.raises(ValueError, match="HH:MM"):
        set_policy(feedback_township.id, DUE_TIME, "25:00")


def test_a_missing_report_reaches_the_inbox_once_however_often_the_sweep_runs(
    app, db, township, clerk, township_admin, leader, on_hotline, stub_worker
):
    from core.institutions import set_enabled
    from plugins.feedback.tasks import duty_report_sweep

    friday, monday = date(2025, 11, 14), date(2025, 11, 17)
    with time_machine.travel(at(friday, 10), tick=False):
        set_enabled(township, "feedback", True)
        on_hotline(clerk, [(4, WORKING)])  # the clerk has the duty phone on Fridays
        duty_report_sweep.fn()
        report = _report(db, friday)
        assert report.status == DutyReportStatus.pending
        assert report.due_on == monday and report.on_duty == clerk.name
        # the clerk finds it in the inbox (due Monday), the office nothing yet
        mine = [i for i in inbox.page(clerk)[0] if i.source.key == services.INBOX_TO_FILE]
        assert [(i.object_id, i.due_on) for i in mine] == [(report.id, monday)]
        assert [
            i for i in inbox.page(township_admin)[0] if i.source.key.startswith("feedback")
        ] == []
    with time_machine.travel(at(monday, 8, 29), tick=False):
        duty_report_sweep.fn()
        stub_worker.join()
        assert _report(db, friday).status == DutyReportStatus.pending
        assert _missing_notes(db) == []
    with time_machine.travel(at(monday, 8, 31), tick=False):
        duty_report_sweep.fn()
        stub_worker.join()
        duty_report_sweep.fn()
        stub_worker.join()
        report = _report(db, friday)
        assert report.status == DutyReportStatus.missing
        # one notification each for the clerk on duty and the office (the township admin;
        # the clerk is office staff too, and told once)
        assert _missing_notes(db) == sorted(
            f"inbox:{services.INBOX_MISSING}:{report.id}:{u.id}" for u in (clerk, township_admin)
        )
        admin_items = [
            i for i in inbox.page(township_admin)[0] if i.source.key.startswith("feedback")
        ]
        assert [(i.source.key, i.object_id, i.timeliness()) for i in admin_items] == [
            (services.INBOX_MISSING, report.id, "due_today")
        ]
        clerk_items = [i for i in inbox.page(clerk)[0] if i.source.key.startswith("feedback")]
        assert [(i.source.key, i.object_id) for i in clerk_items] == [
            (services.INBOX_TO_FILE, report.id)
        ]
        assert [i for i in inbox.page(leader)[0] if i.source.key.startswith("feedback")] == []
        # filed late: out of both inboxes, but it still counts against the clerk
        services.file_report(
            report, by=clerk, letters="1", visits="0", calls="3", summary="咨询低保"
        )
        assert _report(db, friday).status == DutyReportStatus.late
        assert [
            i for i in inbox.page(township_admin)[0] if i.source.key.startswith("feedback")
        ] == []
        assert [i for i in inbox.page(clerk)[0] if i.source.key.startswith("feedback")] == []
    from core.people import year_figures

    figures = {f.key: f for f in year_figures(township, 2025)[clerk.id]}
    assert figures["feedback.duty_reports_owed"].value == 1
    assert figures["feedback.duty_reports_missed"].value == 1
    assert figures["feedback.duty_reports_missed"].met is False


def test_a_report_filed_in_time_is_on_time_and_the_sweep_leaves_it(
    app, db, township, clerk, create_user, on_hotline, stub_worker
):
    from core.institutions import set_enabled
    from plugins.feedback.tasks import duty_report_sweep

    friday = date(2025, 9, 26)
    with time_machine.travel(at(friday, 20), tick=False):
        set_enabled(township, "feedback", True)
        on_hotline(clerk, [(4, WORKING), (5, REST)])
        duty_report_sweep.fn()
        report = _report(db, friday)
        assert report.due_on == date(2025, 9, 28)  # the adjusted working day (a Sunday)
    with time_machine.travel(at(date(2025, 9, 27), 7), tick=False):
        stranger = create_user("other", "leader", township, name="外人")
        import pytest

        with pytest.raises(services.FeedbackError, match="people on duty"):
            services.file_report(report, by=stranger, letters=0, visits=0, calls=0)
        with pytest.raises(services.FeedbackError) as refused:
            services.file_report(report, by=clerk, letters="-1", visits="x", calls="", summary="")
        assert refused.value.problems == [
            "Letters received must be a whole number.",
            "Visits received must be a whole number.",
            "Hotline calls received is required (0 if none).",
            "What they were about is required.",
        ]
        assert _report(db, friday).status == DutyReportStatus.pending  # nothing written
        services.file_report(_report(db, friday), by=clerk, letters=0, visits=0, calls=0)
        report = _report(db, friday)
        assert report.status == DutyReportStatus.filed and report.summary == "Nothing received."
    with time_machine.travel(at(date(2025, 9, 28), 9), tick=False):
        duty_report_sweep.fn()
        stub_worker.join()
        assert _report(db, friday).status == DutyReportStatus.filed
        # Saturday's rest-day duty is due on the same adjusted working day, and missing now
        saturday = _report(db, date(2025, 9, 27))
        assert saturday.status == DutyReportStatus.missing


def test_a_swap_moves_the_report_to_whoever_is_on_duty(
    app, db, township, clerk, create_user, on_hotline
):
    from core import duty
    from core.institutions import set_enabled
    from core.models import DutyPost

    other = create_user("other", "clerk", township, name="钱办事")
    friday, thursday = date(2025, 11, 14), date(2025, 11, 13)
    with time_machine.travel(at(date(2025, 11, 12), 10), tick=False):
        set_enabled(township, "feedback", True)
        on_hotline(clerk, [(4, WORKING)])
        on_hotline(other, [(3, WORKING)])
        duty.swap(township, DutyPost.hotline, friday, clerk, thursday, other)
    with time_machine.travel(at(friday, 10), tick=False):
        services.ensure_reports(township.id)
        db.session.commit()
        assert _report(db, friday).on_duty == "钱办事"
        assert _report(db, thursday).on_duty == clerk.name
        assert [p.user_id for p in _report(db, friday).persons] == [other.id]
