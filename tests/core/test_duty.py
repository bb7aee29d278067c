"""The duty rota: weekly pattern (working days and rest days from the calendar), swaps,
one-off changes, who is on duty now, gaps, and refusals that write nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import func, select

from core import cache, duty
from core.duty import DutyError, PatternDay
from core.models import AuditEvent, CalendarDay, DutyChange, DutyPattern, DutyPost, DutySource
from core.policies import set_policy
from core.testing.fixtures import page_text

SINCE = date(2025, 1, 1)
MONDAY = date(2025, 9, 29)  # an ordinary working Monday
WEDNESDAY = date(2025, 10, 15)  # an ordinary working Wednesday
REST_SUNDAY = date(2025, 9, 21)  # an ordinary Sunday off
ADJUSTED_SUNDAY = date(2025, 9, 28)  # 调休: a Sunday worked before National Day
HOLIDAY_WEDNESDAY = date(2025, 10, 1)  # National Day
BEIJING = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def people(create_user, township):
    names = ["甲", "乙", "丙", "丁", "戊"]
    return [create_user(f"u{n}", "clerk", township, name=name) for n, name in enumerate(names)]


def names(entries) -> list[str]:
    return [e.user.name for e in entries]


def change_count(db) -> int:
    return db.session.scalar(select(func.count(DutyChange.id)))


def test_pattern_follows_working_and_rest_days_of_the_calendar(db, township, people):
    a, b, c, d, e = people
    duty.add_to_pattern(township, DutyPost.window, a, [PatternDay(0, False)], valid_from=SINCE)
    duty.add_to_pattern(township, DutyPost.window, b, [PatternDay(2, False)], valid_from=SINCE)
    duty.add_to_pattern(township, "window", c, [(6, True)], valid_from=SINCE)
    duty.add_to_pattern(township, DutyPost.window, d, [PatternDay(6, False)], valid_from=SINCE)
    duty.add_to_pattern(township, DutyPost.window, e, [PatternDay(2, True)], valid_from=SINCE)

    assert names(duty.on_duty(township.id, MONDAY, DutyPost.window)) == ["甲"]
    assert names(duty.on_duty(township.id, WEDNESDAY, DutyPost.window)) == ["乙"]
    # a Sunday off uses the Sunday rest-day entries ...
    assert names(duty.on_duty(township.id, REST_SUNDAY, DutyPost.window)) == ["丙"]
    # ... a Sunday worked (调休) counts as a working day
    assert names(duty.on_duty(township.id, ADJUSTED_SUNDAY, DutyPost.window)) == ["丁"]
    # a public holiday on a Wednesday uses the Wednesday rest-day entries
    assert names(duty.on_duty(township.id, HOLIDAY_WEDNESDAY, DutyPost.window)) == ["戊"]
    assert all(e.source is DutySource.pattern for e in duty.on_duty(township, MONDAY))
    # other posts are empty; the post filter is optional
    assert duty.on_duty(township, MONDAY, DutyPost.hotline) == []
    assert [(e.post, e.user.name) for e in duty.on_duty(township, MONDAY)] == [
        (DutyPost.window, "甲")
    ]


def test_a_township_holiday_turns_the_pattern_to_rest_day_entries(db, township, people):
    a, b, *_ = people
    duty.add_to_pattern(township, DutyPost.hotline, a, [PatternDay(0, False)], valid_from=SINCE)
    duty.add_to_pattern(township, DutyPost.hotline, b, [PatternDay(0, True)], valid_from=SINCE)
    db.session.add(CalendarDay(township_id=township.id, day=MONDAY, is_workday=False, note="庙会"))
    db.session.commit()
    assert names(duty.on_duty(township, MONDAY, "hotline")) == ["乙"]
    assert names(duty.on_duty(township, MONDAY - timedelta(days=7), "hotline")) == ["甲"]


def test_swaps_on_a_weekday_a_weekend_and_an_adjusted_working_day(db, township, people, clerk):
    a, b, c, d, _ = people
    duty.add_to_pattern(township, DutyPost.window, a, [PatternDay(0, False)], valid_from=SINCE)
    duty.add_to_pattern(township, DutyPost.window, b, [PatternDay(2, False)], valid_from=SINCE)
    duty.add_to_pattern(township, DutyPost.window, c, [PatternDay(6, True)], valid_from=SINCE)
    duty.add_to_pattern(township, DutyPost.window, d, [PatternDay(6, False)], valid_from=SINCE)

    rows = duty.swap(
        township, DutyPost.window, MONDAY, a, WEDNESDAY, b, by=clerk, reason="家中有事"
    )
    assert len(rows) == 2 and rows[0].batch == rows[1].batch
    monday = duty.on_duty(township, MONDAY, DutyPost.window)
    assert names(monday) == ["乙"]
    assert monday[0].source is DutySource.swap and monday[0].replaces.name == "甲"
    assert names(duty.on_duty(township, WEDNESDAY, DutyPost.window)) == ["甲"]
    # the week after is the pattern again
    assert names(duty.on_duty(township, MONDAY - timedelta(days=7), DutyPost.window)) == ["甲"]

    # the Sunday off and the adjusted working Sunday exchange too
    duty.swap(township, DutyPost.window, REST_SUNDAY, c, ADJUSTED_SUNDAY, d, by=clerk)
    assert names(duty.on_duty(township, REST_SUNDAY, DutyPost.window)) == ["丁"]
    assert names(duty.on_duty(township, ADJUSTED_SUNDAY, DutyPost.window)) == ["丙"]
    assert duty.on_duty(township, ADJUSTED_SUNDAY)[0].why == "Swap"

    # each side is in the audit trail, by the clerk
    audit = db.session.scalars(
        select(AuditEvent).where(AuditEvent.object_type == "DutyChange")
    ).all()
    assert len(audit) == 4 and {e.user_id for e in audit} == {clerk.id}


def test_one_off_changes_someone_else_someone_more_nobody(db, township, people, clerk):
    a, b, c, d, _ = people
    duty.add_to_pattern(
        township, DutyPost.window, a, [PatternDay(0, False)], valid_from=SINCE, by=clerk
    )
    duty.add_to_pattern(township, DutyPost.window, b, [PatternDay(0, False)], valid_from=SINCE)
    assert names(duty.on_duty(township, MONDAY, "window")) == ["甲", "乙"]

    duty.change(township, MONDAY, DutyPost.window, user=c, replaces=a, by=clerk, reason="病假")
    entries = duty.on_duty(township, MONDAY, "window")
    assert names(entries) == ["乙", "丙"]
    assert entries[1].source is DutySource.one_off and entries[1].replaces.name == "甲"
    assert entries[1].change.reason == "病假"

    duty.change(township, MONDAY, DutyPost.window, user=d, by=clerk)  # someone more
    assert names(duty.on_duty(township, MONDAY, "window")) == ["乙", "丙", "丁"]

    rows = duty.change(township, MONDAY, DutyPost.window, by=clerk, reason="停电")  # nobody
    assert len(rows) == 3 and len({r.batch for r in rows}) == 1
    assert duty.on_duty(township, MONDAY, "window") == []

    # the changes were made in order, and cancelling the last brings the three back
    duty.cancel_change(rows[0], by=clerk)
    assert names(duty.on_duty(township, MONDAY, "window")) == ["乙", "丙", "丁"]
    # a change made on a day applies to that day only
    assert names(duty.on_duty(township, MONDAY - timedelta(days=7), "window")) == ["甲", "乙"]


def test_cancelling_a_swap_cancels_both_sides(db, township, people):
    a, b, *_ = people
    duty.add_to_pattern(township, DutyPost.hotline, a, [PatternDay(0, False)], valid_from=SINCE)
    duty.add_to_pattern(township, DutyPost.hotline, b, [PatternDay(2, False)], valid_from=SINCE)
    first, _second = duty.swap(township, DutyPost.hotline, MONDAY, a, WEDNESDAY, b)
    assert duty.cancel_change(first) == 2
    assert change_count(db) == 0
    assert names(duty.on_duty(township, MONDAY, "hotline")) == ["甲"]
    assert names(duty.on_duty(township, WEDNESDAY, "hotline")) == ["乙"]


def test_refusals_write_nothing(db, township, people, other_clerk):
    a, b, c, *_ = people
    duty.add_to_pattern(township, DutyPost.window, a, [PatternDay(0, False)], valid_from=SINCE)
    duty.add_to_pattern(township, DutyPost.window, b, [PatternDay(2, False)], valid_from=SINCE)

    cases = [
        # a swap with someone not on duty that day
        (
            lambda: duty.swap(township, "window", MONDAY, a, WEDNESDAY, c),
            "丙 is not on duty as Window staff on 2025-10-15.",
        ),
        (
            lambda: duty.swap(township, "window", WEDNESDAY, a, MONDAY, b),
            "甲 is not on duty as Window staff on 2025-10-15.",
        ),
        (lambda: duty.swap(township, "window", MONDAY, a, MONDAY, a), "two different people"),
        # a user of another township
        (
            lambda: duty.change(township, MONDAY, "window", user=other_clerk),
            "西镇办事员 does not work for this township.",
        ),
        (
            lambda: duty.add_to_pattern(township, "window", other_clerk, [(1, False)]),
            "does not work for this township",
        ),
        (
            lambda: duty.change(township, MONDAY, "window", replaces=c),
            "丙 is not on duty as Window staff on 2025-09-29.",
        ),
        (
            lambda: duty.change(township, MONDAY, "window", user=a),
            "甲 is already on duty as Window staff on 2025-09-29.",
        ),
        (
            lambda: duty.change(township, MONDAY, "hotline"),
            "Nobody is on duty as Duty phone on 2025-09-29.",
        ),
        (
            lambda: duty.change(township, MONDAY, "window", user=c, reason="很" * 201),
            "longer than 200 characters",
        ),
        (
            lambda: duty.change(township, date(1999, 12, 31), "window", user=c),
            "cannot be before 2000-01-01",
        ),
        (lambda: duty.change(township, MONDAY, "canteen", user=c), "Choose a duty post."),
        (
            lambda: duty.add_to_pattern(township, "window", a, [(0, False)], valid_from=SINCE),
            "甲 is already in the pattern as Window staff on that day.",
        ),
        (lambda: duty.add_to_pattern(township, "window", c, []), "at least one day"),
    ]
    patterns_before = db.session.scalar(select(func.count(DutyPattern.id)))
    for call, message in cases:
        with pytest.raises(DutyError) as excinfo:
            call()
        assert message in str(excinfo.value)
    assert change_count(db) == 0
    assert db.session.scalar(select(func.count(DutyPattern.id))) == patterns_before
    assert names(duty.on_duty(township, MONDAY, "window")) == ["甲"]


def test_a_pattern_change_leaves_past_days_true(db, township, people, clerk):
    a, b, *_ = people
    (entry,) = duty.add_to_pattern(
        township, DutyPost.duty_leader, a, [PatternDay(0, False)], valid_from=SINCE
    )
    switch = date(2025, 10, 13)
    assert duty.end_pattern_entry(entry, by=clerk, from_day=switch) is False
    duty.add_to_pattern(
        township, DutyPost.duty_leader, b, [PatternDay(0, False)], valid_from=switch, by=clerk
    )
    assert names(duty.on_duty(township, MONDAY, "duty_leader")) == ["甲"]
    assert names(duty.on_duty(township, switch, "duty_leader")) == ["乙"]
    assert entry.valid_until == switch - timedelta(days=1)
    with pytest.raises(DutyError, match="already ended"):
        duty.end_pattern_entry(entry, from_day=switch + timedelta(days=7))

    # an entry that never applied before the day it is removed from is deleted
    (later,) = duty.add_to_pattern(
        township, DutyPost.hotline, a, [PatternDay(3, False)], valid_from=date(2025, 12, 1)
    )
    assert duty.end_pattern_entry(later, from_day=date(2025, 11, 1)) is True
    assert db.session.get(DutyPattern, later.id) is None


def test_pattern_lists_current_and_future_entries_in_post_order(db, township, people):
    a, b, c, *_ = people
    duty.add_to_pattern(township, "window", a, [(0, False)], valid_from=SINCE)
    (old,) = duty.add_to_pattern(township, "hotline", b, [(0, False)], valid_from=SINCE)
    duty.end_pattern_entry(old, from_day=date(2025, 6, 1))
    duty.add_to_pattern(township, "reception_leader", c, [(0, False)], valid_from=SINCE)
    listed = duty.pattern(township, on=date(2025, 9, 1))
    assert [(r.post, r.user.name) for r in listed] == [
        (DutyPost.reception_leader, "丙"),
        (DutyPost.window, "甲"),
    ]


def test_rota_of_a_week_and_gaps(db, township, people, query_counter):
    a, b, *_ = people
    weekdays = [PatternDay(n, False) for n in range(5)]
    duty.add_to_pattern(township, DutyPost.window, a, weekdays, valid_from=SINCE)
    week = duty.rota(township, date(2025, 9, 22))  # Mon 22 .. Sun 28
    assert [d.day.isoformat() for d in week][:: len(week) - 1] == ["2025-09-22", "2025-09-28"]
    assert [bool(d.on("window")) for d in week] == [True] * 5 + [False, False]
    assert week[-1].info.reason == "adjusted_workday" and not week[-1].rest_day

    gaps = duty.gaps(township, date(2025, 9, 27), date(2025, 10, 12), DutyPost.window)
    assert gaps == [
        date(2025, 9, 27),  # Saturday off
        date(2025, 9, 28),  # worked Sunday: the pattern has no Sunday working-day entry
        *[date(2025, 10, n) for n in range(1, 9)],  # National Day holidays
        date(2025, 10, 11),  # worked Saturday
        date(2025, 10, 12),
    ]
    # weekend duty fills the Saturdays; a one-off change fills the holiday
    duty.add_to_pattern(township, DutyPost.window, b, [PatternDay(5, True)], valid_from=SINCE)
    duty.change(township, date(2025, 10, 1), DutyPost.window, user=b)
    gaps = duty.gaps(township, date(2025, 9, 27), date(2025, 10, 12), "window")
    assert date(2025, 9, 27) not in gaps and date(2025, 10, 1) not in gaps
    # a holiday on a Saturday is a Saturday off; a holiday Thursday has no rest-day entry
    assert date(2025, 10, 4) not in gaps and date(2025, 10, 2) in gaps
    assert date(2025, 10, 11) in gaps  # the worked Saturday needs a working-day entry

    # a week and two months cost the same queries
    with query_counter() as week_queries:
        duty.rota(township, date(2025, 9, 22), 7)
    with query_counter() as months:
        duty.rota(township, date(2025, 9, 1), 61)
    assert len(week_queries) == len(months) <= 3


def test_on_duty_now_follows_the_township_clock_and_hand_over_hour(db, township, people):
    a, b, *_ = people
    duty.add_to_pattern(township, DutyPost.hotline, a, [PatternDay(0, False)], valid_from=SINCE)
    duty.add_to_pattern(township, DutyPost.hotline, b, [PatternDay(1, False)], valid_from=SINCE)
    # Tuesday 07:00 in Beijing is Monday 23:00 UTC: Monday's duty phone until 08:00
    early_tuesday = datetime(2025, 9, 29, 23, 0, tzinfo=UTC)
    assert names(duty.on_duty_now(township, DutyPost.hotline, at=early_tuesday)) == ["甲"]
    assert names(duty.on_duty_now(township, "hotline", at=early_tuesday + timedelta(hours=1))) == [
        "乙"
    ]
    set_policy(township.id, "core.duty_handover_hour", 0)
    db.session.commit()
    assert names(duty.on_duty_now(township, "hotline", at=early_tuesday)) == ["乙"]


def test_rotas_of_townships_are_apart(db, township, other_township, people, other_clerk):
    a, *_ = people
    duty.add_to_pattern(township, DutyPost.window, a, [PatternDay(0, False)], valid_from=SINCE)
    duty.add_to_pattern(
        other_township, DutyPost.window, other_clerk, [PatternDay(0, False)], valid_from=SINCE
    )
    assert names(duty.on_duty(township, MONDAY)) == ["甲"]
    assert names(duty.on_duty(other_township, MONDAY)) == ["西镇办事员"]
    assert duty.is_on_duty(a, township, MONDAY, "window")
    assert not duty.is_on_duty(a, other_township, MONDAY)
    assert [u.name for u in duty.township_staff(other_township)] == ["西镇办事员"]


def test_the_public_page_shows_the_duty_phone_and_the_reception_leader(
    client, db, township, people, leader
):
    a, b, *_ = people
    b.phone = "13900001111"
    db.session.commit()
    duty.add_to_pattern(township, DutyPost.hotline, b, [(5, True)], valid_from=SINCE)
    duty.add_to_pattern(township, DutyPost.reception_leader, leader, [(0, False)], valid_from=SINCE)
    duty.add_to_pattern(township, DutyPost.window, a, [(5, True)], valid_from=SINCE)

    def panel(at: datetime, fresh: bool = True) -> tuple[str, str]:
        if fresh:  # the page is cached for at most PUBLIC_CACHE_SECONDS: look after that
            cache.clear()
        with time_machine.travel(at, tick=False):
            html = client.get("/t/east/").get_data(as_text=True)
        return page_text(html, "#duty-public-phone"), page_text(html, "#duty-public-reception")

    saturday = datetime(2025, 9, 27, 10, 0, tzinfo=BEIJING)
    phone, reception = panel(saturday)
    assert phone == "乙 13900001111"
    assert reception == "Next leader reception day: 2025-09-29 李镇长"
    assert "甲" not in phone  # window staff are not on the public page
    # before the hand-over (08:00) Friday's duty phone is on: nobody
    assert panel(saturday.replace(hour=7))[0] == "nobody"
    assert panel(datetime(2025, 9, 22, 9, 0, tzinfo=BEIJING))[1] == (
        "Leader receiving citizens today: 李镇长"
    )
    # a change of the rota shows at once on the cached page
    assert panel(saturday)[0] == "乙 13900001111"
    duty.change(township, date(2025, 9, 27), DutyPost.hotline, user=a, replaces=b)
    assert panel(saturday, fresh=False)[0] == "甲"


def test_no_public_panel_without_a_rota(client, db, township):
    html = client.get("/t/east/").get_data(as_text=True)
    assert page_text(html, "#duty-public") == ""


def test_a_deactivated_account_is_on_nobodys_duty(db, township, people):
    a, b, *_ = people
    duty.add_to_pattern(township, DutyPost.window, a, [PatternDay(0, False)], valid_from=SINCE)
    duty.change(township, MONDAY, DutyPost.hotline, user=b)
    a.active = False
    b.active = False
    db.session.commit()
    assert duty.on_duty(township, MONDAY) == []
    assert duty.gaps(township, MONDAY, MONDAY, "window") == [MONDAY]
