"""A township's duty rota (值班表): who is on duty in which post on a day, and now.

The rota of a day is built in three layers:

1. the **weekly pattern** (:class:`~core.models.DutyPattern`): per post and weekday,
   one or more people, kept *separately for working days and rest days*. Whether a
   day is worked comes from the township's working-day calendar
   (:class:`core.calendar.WorkingCalendar`): an ordinary Monday to Friday uses that
   weekday's working-day entries; a Saturday or Sunday uses its rest-day entries; a
   public or township holiday on a Wednesday uses the Wednesday *rest-day* entries;
   an adjusted working day (调休) on a Sunday counts as a working day and uses the
   Sunday *working-day* entries. A slot nobody fills is a gap (:func:`gaps`).
   Entries are valid from/until a date, so changing the pattern leaves past rotas true;
2. **swaps** (two people exchange their duties, e.g. Monday's and Wednesday's
   window) and
3. **one-off changes** (on a date a post gets someone else, someone more, or nobody),

applied in the order they were recorded. :func:`on_duty` answers for one day,
:func:`on_duty_now` for the township's present moment (the duty day runs from the
hand-over hour, policy ``core.duty_handover_hour``, to the same hour next day),
:func:`rota` for a week, :func:`gaps` for the days a post is empty.

Changes are checked first and written all at once (or not at all): a
:class:`DutyError` carries the message for the person who asked.
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple

from flask import current_app, has_app_context
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, exists, or_, select, union
from sqlalchemy.orm import joinedload

from core import clock
from core.calendar import DayInfo, WorkingCalendar
from core.db import db
from core.models import (
    AuditEvent,
    DutyChange,
    DutyPattern,
    DutyPost,
    DutySource,
    Membership,
    OrgUnit,
    User,
)

#: the longest span :func:`rota` and :func:`gaps` compute at once
MAX_SPAN_DAYS = 400
#: how far ahead a change may be planned (catches mistyped years)
MAX_DAYS_AHEAD = 2 * 366
HANDOVER_POLICY = "core.duty_handover_hour"

WEEKDAY_LABELS = (_l("Mon"), _l("Tue"), _l("Wed"), _l("Thu"), _l("Fri"), _l("Sat"), _l("Sun"))


class DutyError(ValueError):
    """A rota change that is not allowed; ``str(exc)`` is the message for the user."""


class PatternDay(NamedTuple):
    """A column of the weekly pattern: a weekday (0 = Monday) as a working or a rest day."""

    weekday: int
    rest_day: bool


@dataclass(frozen=True)
class DutyEntry:
    """One person on duty in one post on one day, and why."""

    day: date
    post: DutyPost
    user: User
    #: pattern, swap or one-off change
    source: DutySource
    #: the change that put them there (None for the pattern)
    change: DutyChange | None = None
    #: whom they stand in for (a swap or a one-off change), if anyone
    replaces: User | None = None
    #: the pattern entry that put them there (None for a change)
    pattern: DutyPattern | None = None

    @property
    def user_id(self) -> int:
        return self.user.id

    @property
    def why(self) -> str:
        """The source in words (weekly pattern 按值班安排, swap 换班, one-off change 临时调整)."""
        return self.source.label


@dataclass
class DutyDay:
    """The rota of one day: the calendar's word on it and everyone on duty."""

    day: date
    info: DayInfo
    entries: list[DutyEntry] = field(default_factory=list)

    @property
    def rest_day(self) -> bool:
        return not self.info.workday

    def on(self, post: DutyPost | str) -> list[DutyEntry]:
        post = DutyPost(post)
        return [e for e in self.entries if e.post is post]


# ---------------------------------------------------------------------------
# Who works here
# ---------------------------------------------------------------------------


def _tid(township: OrgUnit | int) -> int:
    return township if isinstance(township, int) else township.id


def _staff_ids_query(township_id: int):
    return (
        select(Membership.user_id)
        .join(OrgUnit, OrgUnit.id == Membership.org_unit_id)
        .where(or_(OrgUnit.id == township_id, OrgUnit.township_id == township_id))
    )


def township_staff(township: OrgUnit | int) -> list[User]:
    """Active users holding a role in the township or one of its villages or stations
    (county roles reach a township but do not make someone its staff), by name."""
    return list(
        db.session.scalars(
            select(User)
            .where(User.active.is_(True), User.id.in_(_staff_ids_query(_tid(township))))
            .order_by(User.name, User.id)
        )
    )


def staff_of_townships(township_ids: Iterable[int]):
    """A query of ``(township_id, user_id)`` pairs: the active staff of each of the
    townships (as :func:`township_staff`: a role in the township or one of its villages
    or stations), each once. Join it, or count it grouped by ``township_id``."""
    ids = sorted(set(township_ids))
    in_units = union(
        select(OrgUnit.id.label("township_id"), Membership.user_id.label("user_id"))
        .join(Membership, Membership.org_unit_id == OrgUnit.id)
        .where(OrgUnit.id.in_(ids)),
        select(OrgUnit.township_id.label("township_id"), Membership.user_id.label("user_id"))
        .join(Membership, Membership.org_unit_id == OrgUnit.id)
        .where(OrgUnit.township_id.in_(ids)),
    ).subquery()
    return (
        select(in_units.c.township_id, in_units.c.user_id)
        .join(User, User.id == in_units.c.user_id)
        .where(User.active.is_(True))
    )


def is_township_staff(user: User | int, township: OrgUnit | int) -> bool:
    user_id = user if isinstance(user, int) else user.id
    return (
        db.session.scalar(
            _staff_ids_query(_tid(township)).where(Membership.user_id == user_id).limit(1)
        )
        is not None
    )


def _check_staff(township_id: int, *users: User | None) -> None:
    for user in users:
        if user is not None and not is_township_staff(user, township_id):
            raise DutyError(_l("%(name)s does not work for this township.", name=user.name))


# ---------------------------------------------------------------------------
# Reading the rota
# ---------------------------------------------------------------------------


def _change_users() -> list:
    """Load a change's people without their memberships (a fixed number of queries)."""
    return [
        joinedload(rel).lazyload(User.memberships)
        for rel in (DutyChange.user, DutyChange.replaces, DutyChange.created_by)
    ]


def _compute(township_id: int, start: date, end: date) -> list[DutyDay]:
    """The rota of ``start`` .. ``end`` (inclusive) in three queries."""
    return _compute_each({township_id: (start, end)})[township_id]


def _compute_each(spans: dict[int, tuple[date, date]]) -> dict[int, list[DutyDay]]:
    """The rota of each township over its own span (``{township id: (start, end)}``,
    inclusive), by township id: two queries whatever the number of townships, and their
    calendars (one query each, or none from :mod:`core.cache`)."""
    days_of: dict[int, list[DutyDay]] = {tid: [] for tid in spans}
    wanted = {tid: (start, end) for tid, (start, end) in spans.items() if end >= start}
    if any((end - start).days >= MAX_SPAN_DAYS for start, end in wanted.values()):
        raise ValueError(f"at most {MAX_SPAN_DAYS} days at once")
    if not wanted:
        return days_of
    calendars = {tid: WorkingCalendar.for_township(tid) for tid in wanted}
    by_span: dict[tuple[date, date], list[int]] = defaultdict(list)
    for tid, span in wanted.items():
        by_span[span].append(tid)
    patterns = db.session.scalars(
        select(DutyPattern)
        .options(joinedload(DutyPattern.user).lazyload(User.memberships))
        .where(
            or_(
                *(
                    and_(
                        DutyPattern.township_id.in_(ids),
                        or_(DutyPattern.valid_from.is_(None), DutyPattern.valid_from <= end),
                        or_(DutyPattern.valid_until.is_(None), DutyPattern.valid_until >= start),
                    )
                    for (start, end), ids in by_span.items()
                )
            )
        )
        .order_by(DutyPattern.id)
    ).all()
    slots: dict[int, dict[tuple[int, bool], list[DutyPattern]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for row in patterns:
        slots[row.township_id][(row.weekday, row.rest_day)].append(row)
    changes: dict[int, dict[date, list[DutyChange]]] = defaultdict(lambda: defaultdict(list))
    for row in db.session.scalars(
        select(DutyChange)
        .options(*_change_users())
        .where(
            or_(
                *(
                    and_(
                        DutyChange.township_id.in_(ids),
                        DutyChange.day >= start,
                        DutyChange.day <= end,
                    )
                    for (start, end), ids in by_span.items()
                )
            )
        )
        .order_by(DutyChange.id)
    ):
        changes[row.township_id][row.day].append(row)
    for tid, (start, end) in wanted.items():
        days_of[tid] = _days(calendars[tid], slots[tid], changes[tid], start, end)
    return days_of


def _days(
    calendar: WorkingCalendar,
    slots: dict[tuple[int, bool], list[DutyPattern]],
    changes: dict[date, list[DutyChange]],
    start: date,
    end: date,
) -> list[DutyDay]:
    """The days of one township's rota from its pattern entries and its changes."""
    days: list[DutyDay] = []
    day = start
    while day <= end:
        info = calendar.info(day)
        by_post: dict[DutyPost, list[DutyEntry]] = {post: [] for post in DutyPost}
        for row in slots.get((day.weekday(), not info.workday), ()):
            if not row.user.active or not row.applies_on(day):
                continue  # a deactivated account is on nobody's duty
            if all(e.user.id != row.user_id for e in by_post[row.post]):
                by_post[row.post].append(
                    DutyEntry(day, row.post, row.user, DutySource.pattern, pattern=row)
                )
        for row in changes.get(day, ()):
            entries = by_post[row.post]
            if row.replaces_id is not None:
                entries[:] = [e for e in entries if e.user.id != row.replaces_id]
            if (
                row.user_id is not None
                and row.user.active
                and all(e.user.id != row.user_id for e in entries)
            ):
                entries.append(
                    DutyEntry(day, row.post, row.user, row.kind, change=row, replaces=row.replaces)
                )
        days.append(DutyDay(day, info, [e for post in DutyPost for e in by_post[post]]))
        day += timedelta(days=1)
    return days


def on_duty(
    township: OrgUnit | int, day: date, post: DutyPost | str | None = None
) -> list[DutyEntry]:
    """Who is on duty on ``day`` (in ``post``, or in every post, in post order)."""
    tid = _tid(township)
    entries = on_duty_each({tid: day})[tid]
    if post is not None:
        post = DutyPost(post)
        entries = [e for e in entries if e.post is post]
    return entries


def on_duty_each(days: dict[int, date]) -> dict[int, list[DutyEntry]]:
    """Who is on duty in each township on its day (``{township id: day}``, e.g. each
    township's today), in every post, in post order: the queries of one township."""
    return {
        tid: rota[0].entries
        for tid, rota in _compute_each({t: (d, d) for t, d in days.items()}).items()
    }


def duty_day(township: OrgUnit | int, at: datetime | None = None) -> date:
    """The duty day running at ``at`` (default now) in the township: the duty day starts at
    the hand-over hour (policy ``core.duty_handover_hour``, default 8), so at 02:00 the
    previous day's duty staff are still on duty."""
    from core.policies import get_policy

    tid = _tid(township)
    local = clock.now(tid) if at is None else clock.local(at, tid)
    handover = int(get_policy(tid, HANDOVER_POLICY))
    return (local - timedelta(hours=handover)).date()


def on_duty_now(
    township: OrgUnit | int, post: DutyPost | str | None = None, at: datetime | None = None
) -> list[DutyEntry]:
    """Who is on duty now (or at ``at``), by the township's clock and hand-over hour."""
    return on_duty(township, duty_day(township, at), post)


def is_on_duty(
    user: User | int, township: OrgUnit | int, day: date, post: DutyPost | str | None = None
) -> bool:
    """Whether ``user`` is on duty on ``day`` (in ``post``, or in any post)."""
    user_id = user if isinstance(user, int) else user.id
    return any(e.user.id == user_id for e in on_duty(township, day, post))


def rota(township: OrgUnit | int, start: date, days: int = 7) -> list[DutyDay]:
    """The rota of ``days`` days from ``start`` (a week view: pass its Monday)."""
    return _compute(_tid(township), start, start + timedelta(days=max(days, 1) - 1))


def gaps(township: OrgUnit | int, start: date, end: date, post: DutyPost | str) -> list[date]:
    """The days from ``start`` to ``end`` (inclusive) on which nobody is on duty in
    ``post``, working days and rest days alike (for "five working days, seven days of
    service", ask for ``DutyPost.window``)."""
    tid = _tid(township)
    return gaps_each({tid: (start, end)}, post)[tid]


def gaps_each(spans: dict[int, tuple[date, date]], post: DutyPost | str) -> dict[int, list[date]]:
    """:func:`gaps` of each township over its own span (``{township id: (start, end)}``),
    by township id, in the queries of one township."""
    post = DutyPost(post)
    return {
        tid: [d.day for d in days if not d.on(post)] for tid, days in _compute_each(spans).items()
    }


def week_start(day: date) -> date:
    """The Monday of ``day``'s week."""
    return day - timedelta(days=day.weekday())


def pattern(township: OrgUnit | int, on: date | None = None) -> list[DutyPattern]:
    """The pattern entries not ended before ``on`` (default: the township's today): those
    in force and those starting later, by post, rest day, weekday and entry order."""
    tid = _tid(township)
    on = on or clock.today(tid)
    rows = db.session.scalars(
        select(DutyPattern).where(
            DutyPattern.township_id == tid,
            or_(DutyPattern.valid_until.is_(None), DutyPattern.valid_until >= on),
        )
    ).all()
    order = {post: n for n, post in enumerate(DutyPost)}
    return sorted(rows, key=lambda r: (order[r.post], r.rest_day, r.weekday, r.id))


def has_rota(township: OrgUnit | int) -> bool:
    """Whether the township keeps a rota at all (a pattern entry or a change)."""
    tid = _tid(township)
    return tid in townships_with_rota([tid])


def townships_with_rota(township_ids: Iterable[int]) -> set[int]:
    """Those of the townships that keep a rota (a pattern entry or a change), one query."""
    ids = set(township_ids)
    if not ids:
        return set()
    return set(
        db.session.scalars(
            select(OrgUnit.id).where(
                OrgUnit.id.in_(ids),
                or_(
                    exists().where(DutyPattern.township_id == OrgUnit.id),
                    exists().where(DutyChange.township_id == OrgUnit.id),
                ),
            )
        )
    )


# ---------------------------------------------------------------------------
# Changing the rota
# ---------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return str(getattr(value, "value", value))


def _audit(action: str, row: Any, by: User | None, township_id: int, *, before=None) -> None:
    """An audit row for a change a staff member made (the caller commits); changes without
    a person (the demo data, an institution's automation) are not staff changes."""
    if by is None:
        return
    snapshot = {c.key: _plain(getattr(row, c.key)) for c in row.__table__.columns}
    db.session.add(
        AuditEvent(
            user_id=by.id if by is not None else None,
            township_id=township_id,
            action=action,
            object_type=type(row).__name__,
            object_id=str(row.id),
            before=snapshot if action == "delete" else before,
            after=None if action == "delete" else snapshot,
        )
    )


def _rota_changed(township_id: int) -> None:
    """Pages showing the rota (the township's public page) are built again after the commit."""
    if has_app_context() and "cache" in current_app.extensions:
        from core import cache

        cache.touch(township_id, "core")


def _check_day(day: date, township_id: int) -> None:
    earliest = date(
        int(current_app.config.get("EARLIEST_YEAR", 2000)) if has_app_context() else 2000, 1, 1
    )
    if day < earliest:
        raise DutyError(_l("The date cannot be before %(day)s.", day=earliest.isoformat()))
    if day > clock.today(township_id) + timedelta(days=MAX_DAYS_AHEAD):
        raise DutyError(_l("%(day)s is too far ahead; check the year.", day=day.isoformat()))


def _post(post: DutyPost | str) -> DutyPost:
    try:
        return DutyPost(post)
    except ValueError:
        raise DutyError(_l("Choose a duty post.")) from None


def _reason(reason: str | None) -> str:
    reason = (reason or "").strip()
    if len(reason) > 200:
        raise DutyError(_l("The reason is longer than %(n)d characters.", n=200))
    return reason


def add_to_pattern(
    township: OrgUnit | int,
    post: DutyPost | str,
    user: User,
    days: Iterable[PatternDay | tuple[int, bool]],
    *,
    by: User | None = None,
    valid_from: date | None = None,
    valid_until: date | None = None,
) -> list[DutyPattern]:
    """Put ``user`` into the weekly pattern in ``post`` on each of ``days``
    (``PatternDay(weekday, rest_day)``), from ``valid_from`` (default: the township's
    today) until ``valid_until`` (default: open). Commits; raises :class:`DutyError`."""
    tid = _tid(township)
    post = _post(post)
    wanted = sorted({PatternDay(int(w), bool(r)) for w, r in days})
    if not wanted:
        raise DutyError(_l("Choose at least one day of the week."))
    if any(not 0 <= d.weekday <= 6 for d in wanted):
        raise DutyError(_l("Choose at least one day of the week."))
    _check_staff(tid, user)
    valid_from = valid_from or clock.today(tid)
    _check_day(valid_from, tid)
    if valid_until is not None and valid_until < valid_from:
        raise DutyError(_l("The last day comes before the first day."))
    existing = db.session.scalars(
        select(DutyPattern).where(
            DutyPattern.township_id == tid,
            DutyPattern.post == post,
            DutyPattern.user_id == user.id,
        )
    ).all()
    for row in existing:
        if (row.weekday, row.rest_day) not in wanted:
            continue
        overlaps = (row.valid_until is None or row.valid_until >= valid_from) and (
            valid_until is None or row.valid_from is None or row.valid_from <= valid_until
        )
        if overlaps:
            raise DutyError(
                _l(
                    "%(name)s is already in the pattern as %(post)s on that day.",
                    name=user.name,
                    post=post.label,
                )
            )
    rows = [
        DutyPattern(
            township_id=tid,
            post=post,
            weekday=d.weekday,
            rest_day=d.rest_day,
            user_id=user.id,
            valid_from=valid_from,
            valid_until=valid_until,
            created_by_id=by.id if by else None,
        )
        for d in wanted
    ]
    db.session.add_all(rows)
    db.session.flush()
    for row in rows:
        _audit("create", row, by, tid)
    _rota_changed(tid)
    db.session.commit()
    return rows


def end_pattern_entry(
    entry: DutyPattern, *, by: User | None = None, from_day: date | None = None
) -> bool:
    """Take a pattern entry out of the pattern from ``from_day`` on (default: the township's
    today): it stays true for the days before. An entry that never applied before
    ``from_day`` is deleted. Returns whether the entry was deleted. Commits."""
    tid = entry.township_id
    from_day = from_day or clock.today(tid)
    _check_day(from_day, tid)
    if entry.valid_until is not None and entry.valid_until < from_day:
        raise DutyError(
            _l("This entry already ended on %(day)s.", day=entry.valid_until.isoformat())
        )
    if entry.valid_from is not None and entry.valid_from >= from_day:
        _audit("delete", entry, by, tid)
        db.session.delete(entry)
        _rota_changed(tid)
        db.session.commit()
        return True
    before = {"valid_until": _plain(entry.valid_until)}
    entry.valid_until = from_day - timedelta(days=1)
    db.session.flush()
    _audit("update", entry, by, tid, before=before)
    _rota_changed(tid)
    db.session.commit()
    return False


def _on_duty_ids(township_id: int, day: date, post: DutyPost) -> list[int]:
    return [e.user.id for e in on_duty(township_id, day, post)]


def _not_on_duty(user: User, post: DutyPost, day: date) -> DutyError:
    return DutyError(
        _l(
            "%(name)s is not on duty as %(post)s on %(day)s.",
            name=user.name,
            post=post.label,
            day=day.isoformat(),
        )
    )


def _already_on_duty(user: User, post: DutyPost, day: date) -> DutyError:
    return DutyError(
        _l(
            "%(name)s is already on duty as %(post)s on %(day)s.",
            name=user.name,
            post=post.label,
            day=day.isoformat(),
        )
    )


def _batch() -> str:
    return secrets.token_hex(8)


def swap(
    township: OrgUnit | int,
    post: DutyPost | str,
    day_a: date,
    user_a: User,
    day_b: date,
    user_b: User,
    *,
    by: User | None = None,
    reason: str = "",
    post_b: DutyPost | str | None = None,
) -> list[DutyChange]:
    """Two people exchange their duties: ``user_a`` (on duty as ``post`` on ``day_a``) and
    ``user_b`` (on duty as ``post_b``, default the same post, on ``day_b``). Afterwards
    ``user_b`` does ``day_a`` and ``user_a`` does ``day_b``. Both must be on duty where
    they say and staff of the township. Commits; raises :class:`DutyError`."""
    tid = _tid(township)
    post = _post(post)
    post_b = _post(post_b) if post_b is not None else post
    reason = _reason(reason)
    if user_a.id == user_b.id:
        raise DutyError(_l("A swap needs two different people."))
    if day_a == day_b and post == post_b:
        raise DutyError(_l("Both sides of the swap are the same duty."))
    for day in (day_a, day_b):
        _check_day(day, tid)
    _check_staff(tid, user_a, user_b)
    on_a = _on_duty_ids(tid, day_a, post)
    on_b = _on_duty_ids(tid, day_b, post_b)
    if user_a.id not in on_a:
        raise _not_on_duty(user_a, post, day_a)
    if user_b.id not in on_b:
        raise _not_on_duty(user_b, post_b, day_b)
    if user_b.id in on_a:
        raise _already_on_duty(user_b, post, day_a)
    if user_a.id in on_b:
        raise _already_on_duty(user_a, post_b, day_b)
    batch = _batch()
    rows = [
        DutyChange(
            township_id=tid,
            day=day_a,
            post=post,
            kind=DutySource.swap,
            user_id=user_b.id,
            replaces_id=user_a.id,
            batch=batch,
            reason=reason,
            created_by_id=by.id if by else None,
        ),
        DutyChange(
            township_id=tid,
            day=day_b,
            post=post_b,
            kind=DutySource.swap,
            user_id=user_a.id,
            replaces_id=user_b.id,
            batch=batch,
            reason=reason,
            created_by_id=by.id if by else None,
        ),
    ]
    db.session.add_all(rows)
    db.session.flush()
    for row in rows:
        _audit("create", row, by, tid)
    _rota_changed(tid)
    db.session.commit()
    return rows


def change(
    township: OrgUnit | int,
    day: date,
    post: DutyPost | str,
    *,
    user: User | None = None,
    replaces: User | None = None,
    by: User | None = None,
    reason: str = "",
) -> list[DutyChange]:
    """A one-off change of ``post`` on ``day``:

    * ``user`` instead of ``replaces`` (someone else);
    * ``user`` alone (someone more);
    * ``replaces`` alone (that person off, nobody instead);
    * neither (nobody on that post that day: everyone on duty there is taken off).

    Commits; raises :class:`DutyError` (someone not on duty replaced, someone already on
    duty added, a user of another township, an empty post emptied).
    """
    tid = _tid(township)
    post = _post(post)
    reason = _reason(reason)
    _check_day(day, tid)
    _check_staff(tid, user)
    on = _on_duty_ids(tid, day, post)
    if user is not None and replaces is not None and user.id == replaces.id:
        raise DutyError(_l("Choose someone else than the person replaced."))
    if replaces is not None and replaces.id not in on:
        raise _not_on_duty(replaces, post, day)
    if user is not None and user.id in on:
        raise _already_on_duty(user, post, day)
    if user is None and replaces is None:
        if not on:
            raise DutyError(
                _l(
                    "Nobody is on duty as %(post)s on %(day)s.",
                    post=post.label,
                    day=day.isoformat(),
                )
            )
        pairs = [(None, uid) for uid in on]
    else:
        pairs = [(user.id if user else None, replaces.id if replaces else None)]
    batch = _batch()
    rows = [
        DutyChange(
            township_id=tid,
            day=day,
            post=post,
            kind=DutySource.one_off,
            user_id=incoming,
            replaces_id=outgoing,
            batch=batch,
            reason=reason,
            created_by_id=by.id if by else None,
        )
        for incoming, outgoing in pairs
    ]
    db.session.add_all(rows)
    db.session.flush()
    for row in rows:
        _audit("create", row, by, tid)
    _rota_changed(tid)
    db.session.commit()
    return rows


def changes_between(township: OrgUnit | int, start: date, end: date) -> list[DutyChange]:
    """The swaps and one-off changes from ``start`` to ``end`` (inclusive), by day and order."""
    return list(
        db.session.scalars(
            select(DutyChange)
            .options(*_change_users())
            .where(
                DutyChange.township_id == _tid(township),
                DutyChange.day >= start,
                DutyChange.day <= end,
            )
            .order_by(DutyChange.day, DutyChange.id)
        )
    )


def cancel_change(row: DutyChange, *, by: User | None = None) -> int:
    """Cancel a change and the rest of its batch (both sides of a swap). Returns how many
    rows went. Commits."""
    rows = db.session.scalars(
        select(DutyChange).where(
            DutyChange.township_id == row.township_id, DutyChange.batch == row.batch
        )
    ).all()
    for item in rows:
        _audit("delete", item, by, row.township_id)
        db.session.delete(item)
    _rota_changed(row.township_id)
    db.session.commit()
    return len(rows)


# ---------------------------------------------------------------------------
# Panels: the dashboard's "on duty today" and the public page's duty phone
# ---------------------------------------------------------------------------


def _link(endpoint: str, **values: Any) -> str | None:
    from flask import has_request_context, url_for
    from werkzeug.routing import BuildError

    if not has_request_context():
        return None
    try:
        return url_for(endpoint, **values)
    except BuildError:  # the admin is not mounted (a bare app)
        return None


def county_dashboard_figures(townships: Iterable[OrgUnit]) -> dict[int, list]:
    """The core's dashboard figures of each township, by township id: who is on duty
    today (post by post, marking who is away and who stands in for whom) and how many
    staff are away now. Nothing for a township that keeps no rota and has nobody away.
    The same queries for one township as for a county's (each township's own today)."""
    from core import presence

    townships = list(townships)
    ids = [t.id for t in townships]
    keeping = townships_with_rota(ids)
    away_of = presence.away_now_each(ids)
    today = {t.id: clock.today(t) for t in townships if t.id in keeping}
    entries_of = on_duty_each(today)
    figures: dict[int, list] = {}
    for township in townships:
        figures[township.id] = _figures(
            township, today.get(township.id), entries_of.get(township.id), away_of[township.id]
        )
    return figures


def _figures(
    township: OrgUnit, today: date | None, entries: list[DutyEntry] | None, away: list
) -> list:
    """One township's figures (``today`` and ``entries`` are None without a rota)."""
    from markupsafe import Markup, escape

    from core.contract import DashboardFigure

    if today is None and not away:
        return []
    figures = []
    if today is not None:
        away_ids = {a.user_id for a in away}
        rows = []
        for post in DutyPost:
            names = []
            for entry in (e for e in entries or () if e.post is post):
                text = escape(entry.user.name)
                if entry.source is not DutySource.pattern:
                    text += Markup(' <small class="text-muted">({})</small>').format(entry.why)
                if entry.user.id in away_ids:
                    text += Markup(' <span class="badge badge-warning">{}</span>').format(
                        _l("away")
                    )
                names.append(text)
            cell = (
                Markup("、").join(names)
                if names
                else Markup('<span class="text-danger">{}</span>').format(_l("nobody"))
            )
            rows.append(
                Markup('<tr data-post="{}"><th scope="row">{}</th><td>{}</td></tr>').format(
                    post.value, post.label, cell
                )
            )
        chart = Markup(
            '<table class="table table-sm mb-0 duty-today" data-day="{}"><tbody>{}</tbody></table>'
        ).format(today.isoformat(), Markup("").join(rows))
        figures.append(
            DashboardFigure(
                label=str(_l("On duty today (%(day)s)", day=today.isoformat())),
                chart=chart,
                link=_link("admin_duty_rota.index", township=township.id),
            )
        )
    figures.append(
        DashboardFigure(
            label=str(_l("Staff away now")),
            value=len(away),
            level="warning" if away else "info",
            link=_link("admin_duty_presence.index", township=township.id),
        )
    )
    return figures


#: how far ahead the public page looks for the next leader reception day
RECEPTION_LOOKAHEAD_DAYS = 14


def public_sections(township: OrgUnit) -> list:
    """The core's panel on a township's public page: the duty phone now (who, phone) and
    today's reception leader, or the next leader reception day. Names and office phones
    only; nothing for a township that keeps no rota."""
    from markupsafe import Markup, escape

    from core.contract import PublicSection

    if not has_rota(township):
        return []
    hotline = on_duty_now(township, DutyPost.hotline)
    today = clock.today(township)
    days = rota(township, today, RECEPTION_LOOKAHEAD_DAYS)
    phone_items = [
        Markup("{}{}").format(
            escape(e.user.name),
            Markup(' <a href="tel:{0}">{0}</a>').format(e.user.phone) if e.user.phone else "",
        )
        for e in hotline
    ]
    phones = Markup("、").join(phone_items) if phone_items else escape(_l("nobody"))
    reception_today = days[0].on(DutyPost.reception_leader) if days else []
    if reception_today:
        reception = Markup("{}: {}").format(
            _l("Leader receiving citizens today"),
            Markup("、").join(escape(e.user.name) for e in reception_today),
        )
    else:
        following = next((d for d in days[1:] if d.on(DutyPost.reception_leader)), None)
        if following is None:
            reception = escape(_l("No leader reception day in the next two weeks."))
        else:
            reception = Markup("{}: {} {}").format(
                _l("Next leader reception day"),
                following.day.isoformat(),
                Markup("、").join(
                    escape(e.user.name) for e in following.on(DutyPost.reception_leader)
                ),
            )
    html = Markup(
        '<dl class="mb-0" id="duty-public">'
        '<dt>{}</dt><dd id="duty-public-phone">{}</dd>'
        '<dt>{}</dt><dd id="duty-public-reception">{}</dd></dl>'
    ).format(DutyPost.hotline.label, phones, DutyPost.reception_leader.label, reception)
    return [PublicSection(title=str(_l("On duty")), html=html, order=10)]
