"""What admins type for a schedule: crontabs in cron's numbering, intervals, clear errors."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from scheduler.triggers import TriggerError, next_fire_times, parse_trigger, shortest_gap

SHANGHAI = ZoneInfo("Asia/Shanghai")
#: a Wednesday
NOW = datetime(2025, 3, 5, 12, 0, tzinfo=SHANGHAI)


def test_monday_is_day_one_as_in_cron():
    times = next_fire_times(parse_trigger("0 9 * * 1"), 5, NOW)
    assert times == [datetime(2025, 3, d, 9, 0, tzinfo=SHANGHAI) for d in (10, 17, 24, 31)] + [
        datetime(2025, 4, 7, 9, 0, tzinfo=SHANGHAI)
    ]
    assert {t.strftime("%A") for t in times} == {"Monday"}


@pytest.mark.parametrize(
    ("field", "days"),
    [
        ("0", {"Sunday"}),
        ("7", {"Sunday"}),
        ("1-5", {"Monday", "Tuesday", "Wednesday", "Thursday", "Friday"}),
        ("5-7", {"Friday", "Saturday", "Sunday"}),
        ("0,6", {"Saturday", "Sunday"}),
        ("*/2", {"Sunday", "Tuesday", "Thursday", "Saturday"}),
        ("0-6", {"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"}),
        ("mon-fri", {"Monday", "Tuesday", "Wednesday", "Thursday", "Friday"}),
    ],
)
def test_day_of_week_lists_ranges_and_steps_count_like_cron(field, days):
    times = next_fire_times(parse_trigger(f"30 8 * * {field}"), 14, NOW)
    assert {t.strftime("%A") for t in times} == days
    assert {(t.hour, t.minute) for t in times} == {(8, 30)}


def test_monthly_at_nine_on_the_first():
    times = next_fire_times(parse_trigger("0 9 1 * *"), 3, NOW)
    assert [t.date().isoformat() for t in times] == ["2025-04-01", "2025-05-01", "2025-06-01"]


def test_every_three_seconds():
    trigger = parse_trigger("every 3 seconds")
    times = next_fire_times(trigger, 5, NOW)
    assert [b - a for a, b in itertools.pairwise(times)] == [timedelta(seconds=3)] * 4
    assert shortest_gap(trigger, 10, NOW) == timedelta(seconds=3)
    assert parse_trigger("Every 2 Hours").interval == timedelta(hours=2)


def test_the_time_zone_is_the_jobs():
    shanghai = next_fire_times(parse_trigger("0 9 * * *"), 1, NOW)[0]
    berlin = next_fire_times(parse_trigger("0 9 * * *", "Europe/Berlin"), 1, NOW)[0]
    assert shanghai.astimezone(UTC).hour == 1
    assert berlin.astimezone(UTC).hour == 8  # CET in March


@pytest.mark.parametrize(
    ("text", "timezone", "message"),
    [
        ("", "Asia/Shanghai", "the schedule is empty"),
        ("0 9 * *", "Asia/Shanghai", "a schedule has five fields"),
        ("every day", "Asia/Shanghai", "a schedule has five fields"),
        ("0 9 * * 8", "Asia/Shanghai", "day of week 8 is out of range 0-7"),
        ("0 9 * * 5-2", "Asia/Shanghai", "runs backwards"),
        ("0 9 * * holiday", "Asia/Shanghai", "'holiday' is not a day of the week"),
        ("61 * * * *", "Asia/Shanghai", "not a valid schedule"),
        ("0 25 * * *", "Asia/Shanghai", "not a valid schedule"),
        ("every 0 seconds", "Asia/Shanghai", "the interval must be positive"),
        ("0 9 * * 1", "Mars/Olympus", "unknown time zone 'Mars/Olympus'"),
    ],
)
def test_bad_text_gets_a_clear_message(text, timezone, message):
    with pytest.raises(TriggerError, match=message):
        parse_trigger(text, timezone)
