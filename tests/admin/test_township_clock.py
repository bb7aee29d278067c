"""Dates follow the township, not the server: at 00:30 on 1 December in Shanghai the server
(UTC) still reads 30 November 16:30. Every place a township sees a date is checked at
that instant: the case received and accepted dates, the due date, the receipt number,
overdue checks and reminders, topic requests, the compliance month, times shown."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from core.testing.fixtures import page_text

#: 2026-12-01 00:30 in Asia/Shanghai
MIDNIGHT_IN_BEIJING = datetime(2026, 11, 30, 16, 30, tzinfo=UTC)


@pytest.fixture
def at_half_past_midnight(app):
    """The clock at 00:30 in Beijing; cached values (whose expiry is a time) start empty."""
    from core import cache

    with app.app_context():
        cache.clear()
    with time_machine.travel(MIDNIGHT_IN_BEIJING, tick=False) as traveller:
        yield traveller
    with app.app_context():
        cache.clear()


def test_the_server_and_the_township_disagree_on_the_date(app, township, at_half_past_midnight):
    from core import clock

    assert datetime.now(UTC).date() == date(2026, 11, 30)
    assert clock.today(township) == date(2026, 12, 1)
    assert clock.format_datetime(datetime.now(UTC), township) == "2026-12-01 00:30"


def test_a_case_registered_after_midnight_is_dated_by_the_township(
    client, staff, clerk, township, db, at_half_past_midnight
):
    from core.models import Case

    staff.login(clerk)
    response = client.post(
        "/admin/admin_cases/new/",
        data={
            "township_id": township.id,
            "kind": "service",
            "title": "开具证明",
            "applicant_name": "张三",
            "received_on": "2026-12-01",  # "today" for the clerk: not refused as future
            "accept": "y",
        },
    )
    assert response.status_code == 302
    case = db.session.scalars(select(Case)).one()
    assert case.received_on == date(2026, 12, 1)
    assert case.accepted_on == date(2026, 12, 1)
    assert "-261201-" in case.receipt_no
    # three working days counted from the day after acceptance: 2, 3, 4 December
    assert case.due_on == date(2026, 12, 4)
    page = client.get(f"/admin/admin_cases/details/?id={case.id}").get_data(as_text=True)
    assert page_text(page, "#case-registered-at") == "2026-12-01 00:30"
    receipt = client.get(f"/receipt/{case.receipt_no}").get_data(as_text=True)
    assert "2026-12-01" in receipt and "2026-11-30" not in receipt


def test_overdue_checks_and_reminders_use_the_townships_today(
    client, staff, clerk, township, make_case, db, at_half_past_midnight
):
    from core.deadlines import sweep_deadlines
    from core.models import TaskRecord

    late = make_case(township, clerk, handler=clerk, due_on=date(2026, 11, 30))
    make_case(township, clerk, handler=clerk, due_on=date(2026, 12, 1))  # due today
    staff.login(clerk)
    board = client.get("/admin/").get_data(as_text=True)
    assert page_text(board, '[data-figure="overdue"]') == "1"  # 30 Nov is past in Beijing
    assert sweep_deadlines() == 2  # one overdue, one due soon
    keys = set(db.session.scalars(select(TaskRecord.key)))
    assert any(f"{late.id}" in key and "overdue" in key for key in keys), keys


def test_topic_requests_are_dated_by_the_township(client, db, township, at_half_past_midnight):
    from core.institutions import set_enabled
    from plugins.releases.models import TopicRequest

    set_enabled(township, "releases", True)
    db.session.commit()
    response = client.post(f"/t/{township.code}/releases/ask", data={"topic": "低保名单"})
    assert response.status_code in (200, 302, 303)
    request = db.session.scalars(select(TopicRequest)).one()
    assert request.submitted_on == date(2026, 12, 1)
    assert "-T261201-" in request.receipt_no


def test_the_compliance_month_is_the_townships(
    client, staff, create_user, township, db, at_half_past_midnight
):
    from core.institutions import set_enabled

    set_enabled(township, "training", True)
    db.session.commit()
    officer = create_user("trainer", "training_officer", township)
    staff.login(officer)
    page = client.get("/admin/training_compliance/").get_data(as_text=True)
    assert 'value="2026-12"' in page


def test_notifications_show_the_townships_time(
    client, staff, clerk, township, db, at_half_past_midnight
):
    from core.notifications import notify

    notify([clerk], "提醒", "内容", township_id=township.id)
    db.session.commit()
    staff.login(clerk)
    page = client.get("/admin/admin_notifications/").get_data(as_text=True)
    assert "2026-12-01 00:30" in page
    assert "16:30" not in page and "+00:00" not in page


def test_a_townships_time_zone_is_a_select_and_applies_at_once(
    client, staff, township_admin, township, db, at_half_past_midnight
):
    from core import clock

    staff.login(township_admin)
    html = client.get(f"/admin/admin_township/?township={township.id}").get_data(as_text=True)
    assert page_text(html, "#township-now").endswith("2026-12-01 00:30")
    assert 'option value="Asia/Urumqi"' in html
    response = client.post(
        f"/admin/admin_township/?township={township.id}", data={"timezone": "Europe/London"}
    )
    assert response.status_code == 303
    assert clock.today(township.id) == date(2026, 11, 30)  # the cache was forgotten
    assert (
        client.post(
            f"/admin/admin_township/?township={township.id}", data={"timezone": "Mars/Olympus"}
        ).status_code
        == 400
    )
    assert clock.now(township.id).utcoffset() == timedelta(0)
