"""Topic requests (点题公开): due dates in working days, reminders when overdue."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from core.models import CalendarDay, Notification
from core.policies import set_policy
from plugins.releases import services
from plugins.releases.models import TopicStatus


def test_the_default_answer_time_is_fifteen_working_days(db, enabled):
    # Monday 3 March 2025 + 15 working days = Monday 24 March 2025 (three weekends skipped)
    req = services.submit_topic_request(enabled, "村务财务", today=date(2025, 3, 3))
    assert req.due_on == date(2025, 3, 24)
    assert req.status == TopicStatus.open and req.receipt_no.startswith("EAST-T250303-")


def test_the_due_date_follows_holidays_adjusted_days_and_the_townships_policy(db, enabled):
    set_policy(enabled.id, "releases.topic_answer_working_days", 3)
    db.session.commit()
    # 1-8 October 2025 is the National Day holiday; Saturday 11 October is a working day
    assert services.topic_due_date(enabled.id, date(2025, 9, 30)) == date(2025, 10, 11)
    # a township's own rest day moves the date on
    assert services.topic_due_date(enabled.id, date(2025, 3, 7)) == date(2025, 3, 12)
    db.session.add(CalendarDay(township_id=enabled.id, day=date(2025, 3, 10), is_workday=False))
    db.session.commit()
    assert services.topic_due_date(enabled.id, date(2025, 3, 7)) == date(2025, 3, 13)


def test_overdue_requests_remind_the_officers_once(db, enabled, officer):
    late = services.submit_topic_request(enabled, "逾期", today=date(2025, 3, 3))
    answered = services.submit_topic_request(enabled, "已答复", today=date(2025, 3, 3))
    services.answer_topic_request(answered, officer, decline_reason="不属于公开范围")
    services.submit_topic_request(enabled, "未到期", today=date(2025, 3, 20))
    assert services.remind_overdue_topics(today=date(2025, 3, 25)) == 1
    assert services.remind_overdue_topics(today=date(2025, 3, 26)) == 0
    notes = db.session.scalars(select(Notification).where(Notification.user_id == officer.id)).all()
    assert len(notes) == 1 and late.receipt_no in notes[0].title
    db.session.refresh(late)
    assert late.reminded_for == late.due_on


def test_an_answered_request_cannot_be_answered_again(db, enabled, officer):
    req = services.submit_topic_request(enabled, "话题")
    services.answer_topic_request(req, officer, decline_reason="理由")
    with pytest.raises(services.ReleaseError, match="already been answered"):
        services.answer_topic_request(req, officer, decline_reason="另一个理由")
    assert req.answer == "理由"
    assert db.session.scalar(select(func.count(Notification.id))) == 0
