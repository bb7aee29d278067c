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
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from core.db import utcnow

_DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun"]
_EVERY = re.compile(r"^every\s+(\d+)\s+(second|minute|hour)s?$", re.IGNORECASE)


class TriggerError(ValueError):
    """The text is not a schedule; the message says why."""


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise TriggerError(_("unknown time zone '%(zone)s'", zone=name)) from exc


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
            raise TriggerError(_("day of week %(n)s is out of range 0-7", n=number))
        return number
    if token[:3] in _DAY_NUMBERS and token in (token[:3], _LONG_DAYS.get(token[:3])):
        return _DAY_NUMBERS[token[:3]]
    raise TriggerError(
        _("'%(token)s' is not a day of the week (0-7 or mon, tue, ...)", token=token)
    )


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
                raise TriggerError(
                    _("The day-of-week step “%(step)s” must be a positive number.", step=step_text)
                )
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
            raise TriggerError(_("the day-of-week range “%(span)s” runs backwards", span=span))
        days.update(day % 7 for day in range(start, end + 1, step))
    return ",".join(_DAYS[day] for day in sorted(days))


def parse_trigger(text: str, timezone: str = "Asia/Shanghai") -> BaseTrigger:
    """Parse a crontab or ``every N units``; raise :class:`TriggerError` with a clear message."""
    text = (text or "").strip()
    tz = zone(timezone)
    if not text:
        raise TriggerError(_("the schedule is empty"))
    every = _EVERY.match(text)
    if every:
        amount, unit = int(every.group(1)), every.group(2).lower()
        if amount <= 0:
            raise TriggerError(_("the interval must be positive"))
        return IntervalTrigger(timezone=tz, **{unit + "s": amount})
    fields = text.split()
    if len(fields) != 5:
        raise TriggerError(
            _(
                "a schedule has five fields: minute hour day month day-of-week "
                "(e.g. “0 9 1 * *” = 09:00 on the 1st of every month), or “every N minutes”"
            )
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
        raise TriggerError(_bad_field(minute, hour, day, month)) from exc


#: what each crontab field may hold, for the message naming the bad one
_FIELD_RANGES = (
    ("minute", _l("minute"), "0–59"),
    ("hour", _l("hour"), "0–23"),
    ("day", _l("day of the month"), "1–31"),
    ("month", _l("month"), "1–12"),
)


def _bad_field(minute: str, hour: str, day: str, month: str) -> str:
    """The message naming the crontab field APScheduler refused."""
    values = {"minute": minute, "hour": hour, "day": day, "month": month}
    for name, label, span in _FIELD_RANGES:
        try:
            CronTrigger(**{name: values[name]})
        except (ValueError, TypeError):
            return _(
                "not a valid schedule: “%(value)s” is not a valid %(field)s "
                "(%(span)s, *, lists, ranges or steps)",
                value=values[name],
                field=label,
                span=span,
            )
    return _("not a valid schedule")


def next_fire_times(
    trigger: BaseTrigger, count: int = 5, now: datetime | None = None
) -> list[datetime]:
    """The next ``count`` fire times after ``now`` (fewer if the trigger stops firing)."""
    now = now or utcnow().astimezone(getattr(trigger, "timezone", None) or UTC)
    times: list[datetime] = []
    previous = None
    horizon = now + timedelta(days=366 * 5)
    for _i in range(count):
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


def describe(text: str) -> str:
    """A schedule in words for the admin pages ("every 2 minutes", "09:00 on day 25 of
    every month"); the text itself when it is not one of the common shapes."""
    text = (text or "").strip()
    every = _EVERY.match(text)
    if every:
        amount, unit = int(every.group(1)), every.group(2).lower()
        if unit == "second" and amount % 60 == 0:
            amount, unit = amount // 60, "minute"
        if unit == "minute" and amount % 60 == 0:
            amount, unit = amount // 60, "hour"
        words = {
            "second": _("every %(n)s seconds", n=amount),
            "minute": _("every %(n)s minutes", n=amount),
            "hour": _("every %(n)s hours", n=amount),
        }
        return words[unit]
    fields = text.split()
    if len(fields) != 5:
        return text
    minute, hour, day, month, dow = fields
    if fields == ["*"] * 5:
        return _("every minute")
    step = re.fullmatch(r"\*/(\d+)", minute)
    if step and [hour, day, month, dow] == ["*"] * 4:
        return _("every %(n)s minutes", n=int(step.group(1)))
    if not (minute.isdigit() and hour.isdigit()) or month != "*":
        return text
    at = f"{int(hour):02d}:{int(minute):02d}"
    if day == "*" and dow == "*":
        return _("every day at %(time)s", time=at)
    if day.isdigit() and dow == "*":
        return _("on day %(day)s of every month at %(time)s", day=int(day), time=at)
    if day == "*" and dow.isdigit() and int(dow) <= 7:
        return _("every %(weekday)s at %(time)s", weekday=weekday_name(int(dow) % 7), time=at)
    return text


def weekday_name(cron_day: int) -> str:
    """The name of a day of the week in cron's numbering (0 = Sunday)."""
    names = (
        _("Sunday"),
        _("Monday"),
        _("Tuesday"),
        _("Wednesday"),
        _("Thursday"),
        _("Friday"),
        _("Saturday"),
    )
    return names[cron_day % 7]
