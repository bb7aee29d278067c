"""Timeliness (due soon / overdue) for many cases at once, in a fixed number of queries."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from flask import g

from core import clock
from core.calendar import WorkingCalendar
from core.cases import due_state, timeliness
from core.models import Case

DUE_SOON_POLICY = "core.due_soon_working_days"


def calendars_for(township_ids: Iterable[int]) -> dict[int, WorkingCalendar]:
    """The working calendars of several townships, in one query (cached for the request)."""
    cache: dict[int, WorkingCalendar] = g.setdefault("_admin_calendars", {})
    missing = set(township_ids) - set(cache)
    if missing:  # their own days are cached across requests (core.cache)
        cache.update(WorkingCalendar.for_townships(sorted(missing)))
    return cache


def due_soon_days_for(township_ids: Iterable[int]) -> dict[int, int]:
    """Each township's "due soon" threshold in working days, in one query."""
    from core.policies import get_policy, stored_for

    cache: dict[int, int] = g.setdefault("_admin_due_soon", {})
    missing = set(township_ids) - set(cache)
    if len(missing) > 1:
        stored_for(sorted(missing))  # their own values in one query, cached across requests
    for tid in missing:
        cache[tid] = int(get_policy(tid, DUE_SOON_POLICY))
    return cache


def today_of(township_id: int) -> date:
    """The township's today, worked out once per request (a list asks for every row)."""
    days: dict[int, date] = g.setdefault("_admin_todays", {})
    day = days.get(township_id)
    if day is None:
        day = days[township_id] = clock.today(township_id)
    return day


def _calendar_and_threshold(tid: int) -> tuple[WorkingCalendar, int]:
    """The township's calendar and "due soon" threshold, from the request's cache."""
    calendars = g.get("_admin_calendars") or {}
    calendar = calendars.get(tid) or calendars_for([tid])[tid]
    thresholds = g.get("_admin_due_soon") or {}
    threshold = thresholds.get(tid)
    if threshold is None:
        threshold = due_soon_days_for([tid])[tid]
    return calendar, threshold


def timeliness_of(case: Case, today: date | None = None) -> str:
    """``on_time``, ``due_soon``, ``overdue``, ``paused`` or ``done`` with the township's
    calendar and threshold (both loaded once per request for every township)."""
    tid = case.township_id
    calendar, threshold = _calendar_and_threshold(tid)
    return timeliness(case, today or today_of(tid), threshold, calendar)


def open_due_state(township_id: int, due_on: date | None, today: date | None = None) -> str:
    """:func:`core.cases.due_state` of an open case of the township due on ``due_on``."""
    calendar, threshold = _calendar_and_threshold(township_id)
    return due_state(township_id, due_on, today or today_of(township_id), threshold, calendar)


def prime(township_ids: Iterable[int]) -> None:
    """Load calendars and thresholds of these townships now (two queries in all)."""
    ids = set(township_ids)
    calendars_for(ids)
    due_soon_days_for(ids)
