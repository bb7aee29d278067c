"""A township's clock: its "today" and its times come from its time zone, never the server's.

Every date a township sees (received on, due on, overdue checks, receipt numbers,
reminders, compliance months) is taken from :func:`today` of that township, and
every time shown to staff or citizens goes through :func:`local` /
:func:`format_datetime` (the township's zone, to the minute). A server in UTC and
a clerk in Beijing at 08:30 agree on the date.

``township`` may be an :class:`~core.models.OrgUnit`, its id, or ``None`` (the
configured ``DEFAULT_TIMEZONE``). Zones of townships are cached per process and
forgotten when a township's zone is saved (:func:`forget`).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from flask import current_app, has_app_context

DEFAULT_ZONE = "Asia/Shanghai"

_zones: dict[int, str] = {}


def now_utc() -> datetime:
    """The current instant, aware, in UTC (the one place the server clock is read)."""
    return datetime.now(UTC)


@lru_cache(maxsize=64)
def _zoneinfo(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def default_zone_name() -> str:
    if has_app_context():
        return current_app.config.get("DEFAULT_TIMEZONE") or DEFAULT_ZONE
    return DEFAULT_ZONE


def zone_name(township: Any = None) -> str:
    """The IANA zone name of a township (an OrgUnit, its id, or None for the default)."""
    if township is None:
        return default_zone_name()
    if isinstance(township, int):
        name = _zones.get(township)
        if name is None:
            from sqlalchemy import select

            from core.db import db
            from core.models import OrgUnit

            name = db.session.scalar(select(OrgUnit.timezone).where(OrgUnit.id == township))
            name = name or default_zone_name()
            _zones[township] = name
        return name
    name = getattr(township, "timezone", None) or default_zone_name()
    tid = getattr(township, "id", None)
    if tid is not None:
        _zones[tid] = name
    return name


def zone(township: Any = None) -> ZoneInfo:
    """The township's time zone as a ``ZoneInfo``."""
    name = zone_name(township)
    try:
        return _zoneinfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return _zoneinfo(DEFAULT_ZONE)


def now(township: Any = None) -> datetime:
    """The current time in the township's zone (aware)."""
    return now_utc().astimezone(zone(township))


def today(township: Any = None) -> date:
    """The township's today: the date on a calendar hanging in its office."""
    return now(township).date()


def local(value: datetime | None, township: Any = None) -> datetime | None:
    """An aware datetime moved into the township's zone (naive values are taken as UTC)."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(zone(township))


def format_datetime(value: datetime | date | None, township: Any = None) -> str:
    """``2026-12-01 08:30`` in the township's zone: to the minute, no seconds, no offset."""
    if value is None:
        return ""
    if not isinstance(value, datetime):
        return value.isoformat()
    return local(value, township).strftime("%Y-%m-%d %H:%M")


def forget(township_id: int | None = None) -> None:
    """Forget cached zones (after a township's zone was changed)."""
    if township_id is None:
        _zones.clear()
    else:
        _zones.pop(township_id, None)


@lru_cache(maxsize=1)
def zone_choices() -> list[tuple[str, str]]:
    """Time zones an admin may choose, China's first, then every other IANA zone."""
    china = ["Asia/Shanghai", "Asia/Urumqi"]
    others = sorted(z for z in available_timezones() if "/" in z and z not in china)
    return [(z, z) for z in china + others]


def today_groups(township_ids) -> dict[date, set[int]]:
    """The townships grouped by their today (one group unless their zones straddle midnight)."""
    groups: dict[date, set[int]] = {}
    for tid in township_ids:
        groups.setdefault(today(tid), set()).add(tid)
    return groups


def on_each_day(column_township, days: dict[int, date], condition):
    """A SQL condition: ``condition(day)``, with ``day`` the entry of ``days`` (``{township
    id: a date of its own}``, e.g. its today or the first of its month) of the row's
    township; one branch per distinct date (one unless the zones straddle midnight)."""
    from sqlalchemy import and_, false, or_

    groups: dict[date, list[int]] = {}
    for tid, day in days.items():
        groups.setdefault(day, []).append(tid)
    if not groups:
        return false()
    return or_(*(and_(column_township.in_(ids), condition(day)) for day, ids in groups.items()))


def before_today(column_date, column_township, township_ids):
    """A SQL condition: ``column_date`` lies before the today of the row's township."""
    from sqlalchemy import and_, false, or_

    groups = today_groups(township_ids)
    if not groups:
        return false()
    return or_(*(and_(column_township.in_(ids), column_date < day) for day, ids in groups.items()))


def on_or_after_today(column_date, column_township, township_ids):
    """A SQL condition: ``column_date`` is the today of the row's township or later."""
    from sqlalchemy import and_, false, or_

    groups = today_groups(township_ids)
    if not groups:
        return false()
    return or_(*(and_(column_township.in_(ids), column_date >= day) for day, ids in groups.items()))


def constant_offset(zone, start: datetime, end: datetime) -> int | None:
    """The zone's UTC offset in minutes if it is the same all through [start, end) (no
    daylight-saving change, as in China), else None."""
    offsets = set()
    day = start
    while day < end:
        offsets.add(day.astimezone(zone).utcoffset())
        day += timedelta(days=1)
    offsets.add((end - timedelta(microseconds=1)).astimezone(zone).utcoffset())
    if len(offsets) != 1:
        return None
    return int(offsets.pop().total_seconds() // 60)


def local_date_sql(column, minutes: int):
    """SQL for the local date of a stored UTC time, the zone ``minutes`` ahead of UTC."""
    from sqlalchemy import Date, cast, func, literal_column

    from core.db import db

    if db.session.get_bind().dialect.name == "postgresql":
        return cast(column + literal_column(f"interval '{int(minutes)} minutes'"), Date)
    return func.date(column, f"{int(minutes):+d} minutes")


def count_on_or_before(time_column, day_column, column_township, offsets: dict[int, int | None]):
    """SQL counting the rows whose UTC time falls, on their township's clock, on or
    before ``day_column`` (a case resolved by its due date), over the townships whose
    zone keeps one offset (``offsets``: ``{township id: minutes ahead of UTC, or None}``,
    from :func:`constant_offset`); None if none does. Rows of a township whose offset
    changes are counted by the caller with the zone's rules."""
    from collections import defaultdict

    from sqlalchemy import and_, case, func

    by_offset: dict[int, set[int]] = defaultdict(set)
    for tid, minutes in offsets.items():
        if minutes is not None:
            by_offset[minutes].add(tid)
    if not by_offset:
        return None
    return func.sum(
        case(
            *(
                (
                    and_(
                        column_township.in_(ids),
                        local_date_sql(time_column, minutes) <= day_column,
                    ),
                    1,
                )
                for minutes, ids in by_offset.items()
            ),
            else_=0,
        )
    )
