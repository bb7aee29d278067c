"""Staff presence: away periods, the return recorded when it happens (the hook fires once,
only for institutions the township enabled), and refusals that write nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import func, select, update

from core import presence
from core.clock import now_utc
from core.institutions import set_enabled
from core.models import Absence, AuditEvent
from core.presence import PresenceError
from tests import example_plugin


def returned_events() -> list:
    return [e for e in example_plugin.EVENTS if e[0] == "returned"]


@pytest.fixture(autouse=True)
def _fresh_events():
    example_plugin.EVENTS.clear()
    yield
    example_plugin.EVENTS.clear()


def absence_count(db) -> int:
    return db.session.scalar(select(func.count(Absence.id)))


def test_township_user_returned(db, township, leader, clerk):
    """The leader is away; the clerk records the return: the hook fires once, after commit."""
    set_enabled(township, "example", True)
    now = now_utc()
    away = presence.record_absence(
        township, leader, now - timedelta(hours=1), now + timedelta(hours=3), "县里开会", by=clerk
    )
    assert presence.is_away(leader) and not presence.is_away(clerk)
    assert [a.user.name for a in presence.away_now(township)] == ["李镇长"]
    assert returned_events() == []

    presence.mark_back(away, by=clerk)
    assert returned_events() == [("returned", (leader.id, township.id))]
    assert not presence.is_away(leader)
    assert presence.away_now(township) == []
    # it was away an hour ago, and the row says who recorded the return
    assert presence.is_away(leader, at=now - timedelta(minutes=30))
    assert away.returned_by_id == clerk.id and away.returned_at is not None

    # a second click (or a second clerk) changes nothing and fires nothing
    with pytest.raises(PresenceError, match="already recorded as back"):
        presence.mark_back(away, by=leader)
    assert len(returned_events()) == 1


def test_a_stale_page_cannot_record_the_return_twice(db, township, leader, clerk):
    set_enabled(township, "example", True)
    now = now_utc()
    away = presence.record_absence(
        township, leader, now - timedelta(hours=1), now + timedelta(hours=1), "下村", by=leader
    )
    assert away.returned_at is None  # this page shows the leader away ...
    with db.engine.begin() as conn:  # ... while another clerk records the return
        conn.execute(
            update(Absence)
            .where(Absence.id == away.id)
            .values(returned_at=now_utc(), returned_by_id=clerk.id)
        )
    with pytest.raises(PresenceError, match="already recorded as back"):
        presence.mark_back(away, by=leader)
    assert returned_events() == []  # the other request announces it, this one does not


def test_the_return_is_heard_only_where_the_institution_is_enabled(db, township, leader):
    now = now_utc()
    away = presence.record_absence(
        township, leader, now - timedelta(hours=2), now + timedelta(hours=1), "培训"
    )
    presence.mark_back(away, by=leader)
    assert returned_events() == []
    assert not presence.is_away(leader)


def test_someone_is_away_until_the_return_is_recorded(db, township, leader, clerk):
    now = now_utc()
    away = presence.record_absence(
        township,
        leader,
        now - timedelta(days=2),
        now - timedelta(days=1, hours=20),
        "出差",
        by=clerk,
    )
    # entered after it ended: recorded as back at its end
    assert away.returned_at == now - timedelta(days=1, hours=20)

    late = presence.record_absence(
        township, clerk, now - timedelta(hours=5), now + timedelta(minutes=1), "外出办事"
    )
    assert presence.is_away(clerk, at=now + timedelta(hours=2))  # past the plan, not back yet
    assert presence.is_overdue(late, at=now + timedelta(hours=2))
    # a planned trip is not an absence yet
    presence.record_absence(
        township, leader, now + timedelta(days=3), now + timedelta(days=4), "省里学习"
    )
    assert not presence.is_away(leader)
    assert presence.away_user_ids(township) == {clerk.id}
    assert presence.away_user_ids(township, [leader.id]) == set()


def test_refusals_write_nothing(db, township, leader, clerk, other_clerk):
    now = now_utc()
    presence.record_absence(
        township, leader, now + timedelta(hours=1), now + timedelta(hours=5), "县里开会"
    )
    before = absence_count(db)
    cases = [
        (
            (township, leader, now + timedelta(hours=3), now + timedelta(hours=2), "开会"),
            "The away period ends before it starts.",
        ),
        (
            (township, leader, now + timedelta(hours=4), now + timedelta(hours=8), "下村"),
            "李镇长 is already recorded as away from",
        ),
        (
            (township, other_clerk, now, now + timedelta(hours=1), "下村"),
            "西镇办事员 does not work for this township.",
        ),
        ((township, clerk, now, now + timedelta(hours=1), "  "), "Say why the person is away."),
        (
            (township, clerk, now, now + timedelta(hours=1), "很" * 201),
            "longer than 200 characters",
        ),
        (
            (
                township,
                clerk,
                now.replace(year=1999),
                now.replace(year=1999) + timedelta(hours=1),
                "x",
            ),
            "cannot be before 2000-01-01",
        ),
        (
            (township, clerk, now, now.replace(year=now.year + 5), "x"),
            "too far ahead",
        ),
    ]
    for args, message in cases:
        with pytest.raises(PresenceError) as excinfo:
            presence.record_absence(*args)
        assert message in str(excinfo.value)
    assert absence_count(db) == before


def test_still_away_from_an_earlier_period_must_come_back_first(db, township, clerk):
    now = now_utc()
    first = presence.record_absence(
        township, clerk, now - timedelta(hours=6), now + timedelta(hours=1), "下村"
    )
    with time_machine.travel(now + timedelta(hours=3), tick=False):
        with pytest.raises(PresenceError) as excinfo:
            presence.record_absence(
                township, clerk, now + timedelta(hours=4), now + timedelta(hours=5), "开会"
            )
        assert "王办事 is still recorded as away since" in str(excinfo.value)
        assert "record the return first" in str(excinfo.value)
        presence.mark_back(first, by=clerk)
        presence.record_absence(
            township, clerk, now + timedelta(hours=4), now + timedelta(hours=5), "开会"
        )
    assert absence_count(db) == 2


def test_the_return_is_checked(db, township, leader):
    now = now_utc()
    planned = presence.record_absence(
        township, leader, now + timedelta(days=1), now + timedelta(days=2), "学习", by=leader
    )
    with pytest.raises(PresenceError, match="not begun yet"):
        presence.mark_back(planned, by=leader)
    presence.cancel_absence(planned, by=leader)
    assert absence_count(db) == 0

    away = presence.record_absence(
        township, leader, now - timedelta(hours=2), now + timedelta(hours=2), "开会", by=leader
    )
    with pytest.raises(PresenceError, match="before the away period began"):
        presence.mark_back(away, by=leader, at=now - timedelta(hours=3))
    with pytest.raises(PresenceError, match="in the future"):
        presence.mark_back(away, by=leader, at=now + timedelta(hours=1))
    presence.mark_back(away, by=leader, at=now - timedelta(hours=1))
    assert away.returned_at == now - timedelta(hours=1)
    with pytest.raises(PresenceError, match="cannot be cancelled"):
        presence.cancel_absence(away, by=leader)
    actions = db.session.scalars(
        select(AuditEvent.action).where(AuditEvent.object_type == "Absence").order_by(AuditEvent.id)
    ).all()
    assert actions == ["create", "delete", "create", "update"]


def test_who_may_record_whose_absence(db, township, other_township, leader, clerk, other_clerk):
    assert presence.may_manage(leader, leader, township)  # their own
    assert not presence.may_manage(leader, clerk, township)  # leaders lack presence.manage
    assert presence.may_manage(clerk, leader, township)  # the office clerk
    assert not presence.may_manage(other_clerk, leader, township)
    assert not presence.may_manage(leader, leader, other_township)
