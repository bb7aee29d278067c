"""What admins type for a schedule, turned into APScheduler triggers.

Accepted forms:

* a crontab ``minute hour day month day-of-week`` with **cron's** numbering of
  days (0 or 7 = Sunday, 1 = Monday); APScheduler's own ``from_crontab`` counts
  0 as Monday, so numbers are translated to day names first;
* ``every N seconds`` / ``every N minutes`` / ``every N hours``.
"""

from __future__ import annotations

import itertools
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from core.db import utcnow

_DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun"]
_EVERY = re.compile(r"^every\s+(\d+)\s+(second|minute|hour)s?$", re.IGNORECASE)


class TriggerError(ValueError):
    """The text is not a schedule; the message says why."""


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise TriggerError(f"unknown time zone {name!r}") from exc


_DAY_NUMBERS = {name: number for number, name in enumerate(_DAYS[:7])}


_LONG_DAYS = {
    "sun": "sunday",
    "mon": "monday",
    "tue": "tuesday",
    "wed": "wednesday",
    "thu": "thursday",
    "fri": "friday",
    "sat": "saturday",
}


def _day_value(token: str) -> int:
    """A cron day of week (0-7, or a name) as cron numbers it: 0 and 7 = Sunday."""
    token = token.strip().lower()
    if token.isdigit():
        number = int(token)
        if number > 7:
            raise TriggerError(f"day of week {number} is out of range 0-7")
        return number
    if token[:3] in _DAY_NUMBERS and token in (token[:3], _LONG_DAYS.get(token[:3])):
        return _DAY_NUMBERS[token[:3]]
    raise TriggerError(f"{token!r} is not a day of the week (0-7 or mon, tue, ...)")


def _cron_day_of_week(field: str) -> str:
    """Translate a cron day-of-week field into the day names APScheduler reads.

    Lists, ranges and steps are expanded in cron's numbering (0 or 7 = Sunday),
    so ``0-6``, ``*/2`` and ``5-7`` mean what they mean to cron.
    """
    if field in ("*", "?"):
        return "*"
    days: set[int] = set()
    for item in field.split(","):
        span, slash, step_text = item.partition("/")
        step = 1
        if slash:
            if not step_text.isdigit() or int(step_text) == 0:
                raise TriggerError(f"day-of-week step {step_text!r} must be a positive number")
            step = int(step_text)
        if span == "*":
            start, end = 0, 6
        elif "-" in span:
            first, last = span.split("-", 1)
            start, end = _day_value(first), _day_value(last)
            if end == 0 and start > 0:
                end = 7  # "5-0": Friday to Sunday
        else:
            start = _day_value(span)
            end = 6 if slash else start
        if start > end:
            raise TriggerError(f"day-of-week range {span!r} runs backwards")
        days.update(day % 7 for day in range(start, end + 1, step))
    return ",".join(_DAYS[day] for day in sorted(days))


def parse_trigger(text: str, timezone: str = "Asia/Shanghai") -> BaseTrigger:
    """Parse a crontab or ``every N units``; raise :class:`TriggerError` with a clear message."""
    text = (text or "").strip()
    tz = zone(timezone)
    if not text:
        raise TriggerError("the schedule is empty")
    every = _EVERY.match(text)
    if every:
        amount, unit = int(every.group(1)), every.group(2).lower()
        if amount <= 0:
            raise TriggerError("the interval must be positive")
        return IntervalTrigger(timezone=tz, **{unit + "s": amount})
    fields = text.split()
    if len(fields) != 5:
        raise TriggerError(
            "a schedule has five fields: minute hour day month day-of-week "
            "(e.g. '0 9 1 * *' = 09:00 on the 1st of every month), or 'every N minutes'"
        )
    minute, hour, day, month, dow = fields
    day_of_week = _cron_day_of_week(dow)
    try:
        return CronTrigger(
            minute=minute,
            hour=hour,
            day=day,
            month=month,
            day_of_week=day_of_week,
            timezone=tz,
        )
    except (ValueError, TypeError) as exc:
        raise TriggerError(f"not a valid schedule: {exc}") from exc


def next_fire_times(
    trigger: BaseTrigger, count: int = 5, now: datetime | None = None
) -> list[datetime]:
    """The next ``count`` fire times after ``now`` (fewer if the trigger stops firing)."""
    now = now or utcnow().astimezone(getattr(trigger, "timezone", None) or UTC)
    times: list[datetime] = []
    previous = None
    horizon = now + timedelta(days=366 * 5)
    for _ in range(count):
        fire = trigger.get_next_fire_time(previous, now)
        if fire is None or fire > horizon:
            break
        times.append(fire)
        previous = fire
        now = fire + timedelta(microseconds=1)
    return times


def shortest_gap(
    trigger: BaseTrigger, samples: int = 50, now: datetime | None = None
) -> timedelta | None:
    """The shortest time between two of the next ``samples`` firings (None if < 2 firings)."""
    times = next_fire_times(trigger, samples, now)
    if len(times) < 2:
        return None
    return min(b - a for a, b in itertools.pairwise(times))
