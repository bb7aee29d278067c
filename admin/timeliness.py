"""Timeliness (due soon / overdue) for many cases at once, in a fixed number of queries."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date

from flask import g
from sqlalchemy import select

from core import clock
from core.calendar import WorkingCalendar
from core.cases import timeliness
from core.db import db
from core.models import CalendarDay, Case, PolicyValue
from core.plugins import state

DUE_SOON_POLICY = "core.due_soon_working_days"


def calendars_for(township_ids: Iterable[int]) -> dict[int, WorkingCalendar]:
    """The working calendars of several townships, in one query (cached for the request)."""
    cache: dict[int, WorkingCalendar] = g.setdefault("_admin_calendars", {})
    missing = set(township_ids) - set(cache)
    if missing:
        own: dict[int, dict] = defaultdict(dict)
        for row in db.session.scalars(
            select(CalendarDay).where(CalendarDay.township_id.in_(missing))
        ):
            own[row.township_id][row.day] = (row.is_workday, row.note)
        for tid in missing:
            cache[tid] = WorkingCalendar(own.get(tid, {}))
    return cache


def due_soon_days_for(township_ids: Iterable[int]) -> dict[int, int]:
    """Each township's "due soon" threshold in working days, in one query."""
    cache: dict[int, int] = g.setdefault("_admin_due_soon", {})
    missing = set(township_ids) - set(cache)
    if missing:
        default = state().policies[DUE_SOON_POLICY].default
        for tid in missing:
            cache[tid] = int(default)
        for row in db.session.scalars(
            select(PolicyValue).where(
                PolicyValue.township_id.in_(missing), PolicyValue.key == DUE_SOON_POLICY
            )
        ):
            cache[row.township_id] = int(row.value.get("value", default))
    return cache


def timeliness_of(case: Case, today: date | None = None) -> str:
    """``on_time``, ``due_soon``, ``overdue``, ``paused`` or ``done`` with the township's
    calendar and threshold (both loaded once per request for every township)."""
    tid = case.township_id
    calendar = calendars_for([tid])[tid]
    return timeliness(case, today or clock.today(tid), due_soon_days_for([tid])[tid], calendar)


def prime(township_ids: Iterable[int]) -> None:
    """Load calendars and thresholds of these townships now (two queries in all)."""
    ids = set(township_ids)
    calendars_for(ids)
    due_soon_days_for(ids)
