"""The working-day calendar, pinned to real dates of the State Council's schedule."""

from datetime import date

import pytest

from core.calendar import WorkingCalendar, official_years, uncovered_years
from core.models import CalendarDay, LimitUnit


def test_spring_festival_2025_three_working_days():
    """Accepted Friday 2025-01-24, 3 working days: due Wednesday 2025-02-05.

    Sunday 2025-01-26 was a working day (调休); 2025-01-28 to 2025-02-04 were holidays.
    """
    due = WorkingCalendar().add_working_days(date(2025, 1, 24), 3)
    assert due.due == date(2025, 2, 5)
    counted = [(info.day, n) for info, n in due.steps if n]
    assert counted == [(date(2025, 1, 26), 1), (date(2025, 1, 27), 2), (date(2025, 2, 5), 3)]
    assert any(info.reason == "adjusted_workday" for info, _ in due.steps)


def test_national_day_2025_seven_working_days():
    """Accepted Friday 2025-09-26, 7 working days: due Monday 2025-10-13.

    Sunday 2025-09-28 and Saturday 2025-10-11 were worked; 2025-10-01 to 10-08 were off.
    """
    assert WorkingCalendar().add_working_days(date(2025, 9, 26), 7).due == date(2025, 10, 13)


def test_acceptance_day_is_not_counted():
    # Monday 2025-03-03 + 1 working day = Tuesday
    assert WorkingCalendar().add_working_days(date(2025, 3, 3), 1).due == date(2025, 3, 4)


def test_calendar_day_limit_ending_on_rest_day_moves_to_next_working_day():
    # 15 calendar days from 2025-09-20 ends on 2025-10-05, inside the National Day holiday
    due = WorkingCalendar().due_date(date(2025, 9, 20), 15, LimitUnit.calendar_days)
    assert due.moved_from == date(2025, 10, 5)
    assert due.due == date(2025, 10, 9)


def test_year_the_package_does_not_cover_falls_back_to_statutory_holidays():
    assert 2027 not in official_years()
    cal = WorkingCalendar()
    # 2027-02-05 .. 02-10: Spring Festival as the holidays package computes it
    info = cal.info(date(2027, 2, 8))
    assert not info.workday and info.reason == "estimated_holiday"
    due = cal.add_working_days(date(2027, 2, 4), 1)
    assert due.due == date(2027, 2, 11)
    assert due.estimated_years == [2027]
    assert uncovered_years(date(2026, 11, 23)) == [2027]


def test_township_days_override_the_national_schedule():
    cal = WorkingCalendar({date(2025, 3, 4): (False, "镇庆"), date(2025, 3, 8): (True, "补班")})
    assert cal.add_working_days(date(2025, 3, 3), 1).due == date(2025, 3, 5)
    assert cal.info(date(2025, 3, 8)).reason == "township"
    assert cal.add_working_days(date(2025, 3, 7), 1).due == date(2025, 3, 8)


def test_township_days_are_loaded_from_the_database(db, township):
    db.session.add(
        CalendarDay(township_id=township.id, day=date(2025, 3, 4), is_workday=False, note="local")
    )
    db.session.commit()
    assert WorkingCalendar.for_township(township.id).add_working_days(
        date(2025, 3, 3), 1
    ).due == date(2025, 3, 5)


def test_negative_limit_is_refused():
    with pytest.raises(ValueError):
        WorkingCalendar().add_working_days(date(2025, 3, 3), -1)
