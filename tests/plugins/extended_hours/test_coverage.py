"""Five working days, seven days of service: the coverage check shows every coming day
without anyone at a service window, tells the township administrators once, and a swap
or a one-off change in the core's rota fills the gap."""

from __future__ import annotations

from datetime import date

import time_machine
from sqlalchemy import select

from core import duty, inbox
from core.models import DutyPost, Notification
from plugins.extended_hours import services
from plugins.extended_hours.models import ExtendedHoursGap
from tests.plugins.extended_hours.conftest import REST, WORKING, at

# Monday 17 November 2025: an ordinary week, no holiday in the four weeks after it
MONDAY = date(2025, 11, 17)
SATURDAY = date(2025, 11, 22)


def _gap_notes(db) -> list[str]:
    return list(
        db.session.scalars(
            select(Notification.key).where(Notification.key.like(f"inbox:{services.INBOX_GAP}:%"))
        )
    )


def test_a_saturday_without_window_staff_is_a_gap_and_a_swap_fills_it(
    app, db, hours_township, clerk, create_user, township_admin, leader
):
    from plugins.extended_hours.tasks import coverage_sweep

    other = create_user("other", "clerk", hours_township, name="钱办事")
    with time_machine.travel(at(MONDAY, 9), tick=False):
        # the clerk at the windows on working days and Sundays, the other clerk on
        # Saturdays only from the second week on: the first Saturday is empty
        duty.add_to_pattern(
            hours_township, DutyPost.window, clerk, [(d, WORKING) for d in range(5)] + [(6, REST)]
        )
        duty.add_to_pattern(
            hours_township, DutyPost.window, other, [(5, REST)], valid_from=date(2025, 11, 29)
        )
        start, end = services.coverage_span(hours_township.id)
        assert (start, end) == (MONDAY, date(2025, 12, 14))
        assert duty.gaps(hours_township, start, end, DutyPost.window) == [SATURDAY]
        coverage_sweep.fn()
        coverage_sweep.fn()
        gaps = db.session.scalars(select(ExtendedHoursGap)).all()
        assert [(g.day, g.covered_at) for g in gaps] == [(SATURDAY, None)]
        # told once, the township administrator only
        assert _gap_notes(db) == [f"inbox:{services.INBOX_GAP}:{gaps[0].id}:{township_admin.id}"]
        items = [i for i in inbox.page(township_admin)[0] if i.source.key == services.INBOX_GAP]
        assert [(i.object_id, i.due_on) for i in items] == [(gaps[0].id, SATURDAY)]
        assert [i for i in inbox.page(leader)[0] if i.source.key == services.INBOX_GAP] == []
        # the clerk swaps Monday's window for the other clerk's Saturday ... which the other
        # clerk does not have: refused; a one-off change puts the other clerk there
        import pytest

        with pytest.raises(duty.DutyError):
            duty.swap(hours_township, DutyPost.window, MONDAY, clerk, SATURDAY, other)
        duty.change(hours_township, SATURDAY, DutyPost.window, user=other, reason="周六补位")
        assert duty.gaps(hours_township, start, end, DutyPost.window) == []
        coverage_sweep.fn()
        db.session.expire_all()
        gap = db.session.get(ExtendedHoursGap, gaps[0].id)
        assert gap.covered_at is not None
        assert [
            i for i in inbox.page(township_admin)[0] if i.source.key == services.INBOX_GAP
        ] == []


def test_a_swap_that_empties_a_saturday_shows_it_and_swapping_back_fills_it(
    app, db, hours_township, clerk, create_user, township_admin
):
    other = create_user("other", "clerk", hours_township, name="钱办事")
    with time_machine.travel(at(MONDAY, 9), tick=False):
        duty.add_to_pattern(
            hours_township, DutyPost.window, clerk, [(d, WORKING) for d in range(5)] + [(6, REST)]
        )
        duty.add_to_pattern(hours_township, DutyPost.window, other, [(5, REST)])
        assert services.sync_gaps(hours_township.id) == []
        # the other clerk takes the clerk's Sunday... and the clerk the Saturday: a swap that
        # moves people, never empties; a one-off "nobody" on Saturday does
        duty.change(hours_township, SATURDAY, DutyPost.window, reason="临时调整")
        assert [g.day for g in services.sync_gaps(hours_township.id)] == [SATURDAY]
        sunday = date(2025, 11, 23)
        duty.swap(hours_township, DutyPost.window, sunday, clerk, date(2025, 11, 29), other)
        assert [g.day for g in services.sync_gaps(hours_township.id)] == [SATURDAY]
        duty.change(hours_township, SATURDAY, DutyPost.window, user=clerk)
        assert services.sync_gaps(hours_township.id) == []
        db.session.commit()


def test_holidays_count_as_rest_days_for_the_windows(app, db, hours_township, clerk):
    # National Day 2025: 1–8 October rest, Sunday 28 September and Saturday 11 October worked
    with time_machine.travel(at(date(2025, 9, 26), 9), tick=False):
        duty.add_to_pattern(
            hours_township, DutyPost.window, clerk, [(d, WORKING) for d in range(7)]
        )
        gaps = duty.gaps(hours_township, date(2025, 9, 26), date(2025, 10, 12), DutyPost.window)
        assert gaps == [date(2025, 9, 27)] + [date(2025, 10, d) for d in range(1, 9)] + [
            date(2025, 10, 12)
        ]
