"""The working-day calendar of a township (工作日).

Sources, in order: the township's own days (:class:`~core.models.CalendarDay`);
the State Council's schedule from ``chinese-calendar`` (statutory holidays and
adjusted working days, 调休); for a year that package does not cover yet, the
statutory holidays the ``holidays`` package computes for China, with weekends,
and a warning that the official schedule is not known.

Periods are counted as Chinese law counts them: the day of acceptance is not
counted; a calendar-day limit whose last day is a rest day moves to the next
working day.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import date, timedelta

import chinese_calendar
from sqlalchemy import select

from core.db import db
from core.models import CalendarDay, LimitUnit

#: a guard against loops: no limit in the rule book is anywhere near this long
MAX_SPAN_DAYS = 3 * 366


@dataclass(frozen=True)
class DayInfo:
    day: date
    workday: bool
    #: weekday | weekend | holiday | adjusted_workday | township | estimated_holiday
    reason: str
    name: str | None = None


@dataclass
class DueDate:
    """A computed due date and the steps that explain it."""

    start: date
    amount: int
    unit: LimitUnit
    due: date
    steps: list[tuple[DayInfo, int | None]] = field(default_factory=list)
    moved_from: date | None = None
    estimated_years: list[int] = field(default_factory=list)


@functools.lru_cache(maxsize=16)
def _fallback_holidays(year: int) -> dict[date, str]:
    import holidays as holidays_lib  # only for years chinese-calendar does not know (slow import)

    return dict(holidays_lib.China(years=year))


@functools.lru_cache(maxsize=1)
def official_years() -> range:
    """Years the installed ``chinese-calendar`` knows the official schedule for."""
    years = sorted({d.year for d in chinese_calendar.holidays})
    return range(years[0], years[-1] + 1)


@functools.lru_cache(maxsize=8192)
def _national_day(day: date) -> DayInfo:
    """A day by the national schedule alone (the same for every township), worked out
    once per process: ``chinese-calendar`` scans its whole table on every question,
    and a list of 50 cases asks about hundreds of days."""
    if day.year in official_years():
        workday = chinese_calendar.is_workday(day)
        _, name = chinese_calendar.get_holiday_detail(day)
        if day.weekday() >= 5:
            return DayInfo(day, workday, "adjusted_workday" if workday else "weekend", name)
        return DayInfo(day, workday, "weekday" if workday else "holiday", name)
    name = _fallback_holidays(day.year).get(day)
    if name:
        return DayInfo(day, False, "estimated_holiday", name)
    if day.weekday() >= 5:
        return DayInfo(day, False, "weekend")
    return DayInfo(day, True, "weekday")


class WorkingCalendar:
    """Working days for one township."""

    def __init__(self, own_days: dict[date, CalendarDay | tuple[bool, str]] | None = None):
        #: answers already worked out (a list of cases asks for the same days again)
        self._infos: dict[date, DayInfo] = {}
        self._added: dict[tuple[date, int], DueDate] = {}
        self._between: dict[tuple[date, date], int] = {}
        self._own = {}
        for day, entry in (own_days or {}).items():
            if isinstance(entry, CalendarDay):
                self._own[day] = (entry.is_workday, entry.note)
            else:
                self._own[day] = entry

    @classmethod
    def for_township(cls, township_id: int | None) -> WorkingCalendar:
        """The township's calendar; its own days are cached until one changes."""
        if township_id is None:
            return cls()
        return cls(own_days(township_id))

    @classmethod
    def for_townships(cls, township_ids) -> dict[int, WorkingCalendar]:
        """The calendars of several townships (their own days in one query at most)."""
        return {tid: cls(days) for tid, days in own_days_each(township_ids).items()}

    def info(self, day: date) -> DayInfo:
        found = self._infos.get(day)
        if found is None:
            found = self._infos[day] = self._info(day)
        return found

    def _info(self, day: date) -> DayInfo:
        if day in self._own:
            workday, note = self._own[day]
            return DayInfo(day, workday, "township", note)
        return _national_day(day)

    def is_workday(self, day: date) -> bool:
        return self.info(day).workday

    def next_workday(self, day: date) -> date:
        """``day`` itself if it is a working day, else the next one."""
        for _ in range(MAX_SPAN_DAYS):
            if self.is_workday(day):
                return day
            day += timedelta(days=1)
        raise ValueError("no working day within three years")

    def add_working_days(self, start: date, amount: int) -> DueDate:
        """The ``amount``-th working day after ``start`` (``start`` is not counted)."""
        found = self._added.get((start, amount))
        if found is None:
            found = self._added[(start, amount)] = self._add_working_days(start, amount)
        return found

    def _add_working_days(self, start: date, amount: int) -> DueDate:
        if amount < 0:
            raise ValueError("a time limit cannot be negative")
        steps: list[tuple[DayInfo, int | None]] = []
        day, counted = start, 0
        while counted < amount:
            day += timedelta(days=1)
            if (day - start).days > MAX_SPAN_DAYS:
                raise ValueError("time limit too long")
            info = self.info(day)
            if info.workday:
                counted += 1
                steps.append((info, counted))
            else:
                steps.append((info, None))
        return DueDate(
            start,
            amount,
            LimitUnit.working_days,
            day,
            steps,
            estimated_years=self._estimated(start, day),
        )

    def add_calendar_days(self, start: date, amount: int) -> DueDate:
        """``start`` + ``amount`` days; a last day that is a rest day moves to the next
        working day."""
        if amount < 0:
            raise ValueError("a time limit cannot be negative")
        if amount > MAX_SPAN_DAYS:
            raise ValueError("time limit too long")
        last = start + timedelta(days=amount)
        due = self.next_workday(last)
        steps = [(self.info(last + timedelta(days=i)), None) for i in range((due - last).days + 1)]
        return DueDate(
            start,
            amount,
            LimitUnit.calendar_days,
            due,
            steps,
            moved_from=last if due != last else None,
            estimated_years=self._estimated(start, due),
        )

    def due_date(self, start: date, amount: int, unit: LimitUnit | str) -> DueDate:
        unit = LimitUnit(unit)
        if unit is LimitUnit.working_days:
            return self.add_working_days(start, amount)
        return self.add_calendar_days(start, amount)

    def working_days_between(self, after: date, until: date) -> int:
        """Working days in ``(after, until]``."""
        found = self._between.get((after, until))
        if found is None:
            count, day = 0, after
            while day < until:
                day += timedelta(days=1)
                count += self.is_workday(day)
            found = self._between[(after, until)] = count
        return found

    def _estimated(self, start: date, end: date) -> list[int]:
        known = official_years()
        return [y for y in range(start.year, end.year + 1) if y not in known]


def own_days(township_id: int) -> dict[date, tuple[bool, str]]:
    """A township's own days (``{day: (is working day, note)}``), in one query or from
    :mod:`core.cache` (built again after any change to the calendar, in any process)."""
    from core import cache

    def load() -> dict[date, tuple[bool, str]]:
        return {
            day: (workday, note)
            for day, workday, note in db.session.execute(
                select(CalendarDay.day, CalendarDay.is_workday, CalendarDay.note).where(
                    CalendarDay.township_id == township_id
                )
            )
        }

    return cache.memo(f"calendar:{township_id}", load, areas=[(None, cache.CALENDAR)])


def own_days_each(township_ids) -> dict[int, dict[date, tuple[bool, str]]]:
    """:func:`own_days` of several townships: those not cached are read in one query."""
    from core import cache

    def load(ids: list[int]) -> dict[int, dict[date, tuple[bool, str]]]:
        found: dict[int, dict[date, tuple[bool, str]]] = {tid: {} for tid in ids}
        for tid, day, workday, note in db.session.execute(
            select(
                CalendarDay.township_id, CalendarDay.day, CalendarDay.is_workday, CalendarDay.note
            ).where(CalendarDay.township_id.in_(ids))
        ):
            found[tid][day] = (workday, note)
        return found

    return cache.memo_each("calendar", township_ids, load, areas=[(None, cache.CALENDAR)])


def uncovered_years(today: date | None = None) -> list[int]:
    """This year and next, where the official schedule is not yet known."""
    if today is None:
        from core.clock import today as default_today

        today = default_today()
    known = official_years()
    return [y for y in (today.year, today.year + 1) if y not in known]
