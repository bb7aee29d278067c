"""Staff presence (外出登记): who is away, from when, until when, why, and when they were back.

A staff member is **away** from the start of an away period until their return is
recorded (:func:`mark_back`, the "I am back" button), even past the planned end: the
return is recorded when it happens, and the list of people away shows who is
overdue. Recording the return commits and then fires the react hook
``township_user_returned(user, township, absence)`` once per away period, only for
the institutions the township enabled (the appointments institution tells a leader
about the cards that waited).

Anyone may record their own away periods; recording or ending someone else's needs
``presence.manage`` (office clerks and administrators by default). Bad input raises
:class:`PresenceError` with the message for the person, and nothing is written.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta

from flask import current_app, has_app_context
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.orm import joinedload

from core import clock
from core.db import db, utcnow
from core.models import Absence, AuditEvent, OrgUnit, User

MANAGE = "presence.manage"
REASON_LENGTH = 200
#: how far ahead an away period may be planned (catches mistyped years)
MAX_DAYS_AHEAD = 2 * 366


class PresenceError(ValueError):
    """An away period that cannot be recorded or ended; ``str(exc)`` is the message."""


def _tid(township: OrgUnit | int) -> int:
    return township if isinstance(township, int) else township.id


def _uid(user: User | int) -> int:
    return user if isinstance(user, int) else user.id


def may_manage(by: User | None, user: User | int, township: OrgUnit | int) -> bool:
    """Whether ``by`` may record or end ``user``'s away periods in the township: their own
    always (as staff of the township), anyone's with ``presence.manage``."""
    from core.access import can
    from core.duty import is_township_staff

    if by is None:
        return False
    tid = _tid(township)
    if _uid(user) == by.id and is_township_staff(by, tid):
        return True
    return can(by, MANAGE, tid)


# ---------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------


def _away_at(at: datetime):
    return (Absence.starts_at <= at) & (Absence.returned_at.is_(None) | (Absence.returned_at > at))


def current_absence(user: User | int, at: datetime | None = None) -> Absence | None:
    """The away period ``user`` is in at ``at`` (default now), if any."""
    at = at or utcnow()
    return db.session.scalar(
        select(Absence)
        .where(Absence.user_id == _uid(user), _away_at(at))
        .order_by(Absence.starts_at.desc())
        .limit(1)
    )


def is_away(user: User | int, at: datetime | None = None) -> bool:
    """Whether ``user`` is away (外出) at ``at`` (default now): an away period has begun and
    the return is not recorded (or was recorded later than ``at``)."""
    return current_absence(user, at) is not None


def away_now(township: OrgUnit | int, at: datetime | None = None) -> list[Absence]:
    """The township's staff away now (or at ``at``), by the time they left."""
    tid = _tid(township)
    return away_now_each([tid], at)[tid]


def away_now_each(
    township_ids: Iterable[int], at: datetime | None = None
) -> dict[int, list[Absence]]:
    """The staff of each township away now (or at ``at``), by the time they left, by
    township id, in one query."""
    at = at or utcnow()
    away: dict[int, list[Absence]] = {tid: [] for tid in township_ids}
    if not away:
        return away
    for absence in db.session.scalars(
        select(Absence)
        .options(
            *(  # the people without their memberships: one query, whoever is away
                joinedload(rel).lazyload(User.memberships)
                for rel in (Absence.user, Absence.returned_by, Absence.created_by)
            )
        )
        .where(Absence.township_id.in_(list(away)), _away_at(at))
        .order_by(Absence.starts_at, Absence.id)
    ):
        away[absence.township_id].append(absence)
    return away


def away_user_ids(
    township: OrgUnit | int,
    user_ids: list[int] | set[int] | None = None,
    at: datetime | None = None,
) -> set[int]:
    """Ids of the township's staff (of ``user_ids``, if given) away at ``at``, in one query."""
    at = at or utcnow()
    query = select(Absence.user_id).where(Absence.township_id == _tid(township), _away_at(at))
    if user_ids is not None:
        if not user_ids:
            return set()
        query = query.where(Absence.user_id.in_(list(user_ids)))
    return set(db.session.scalars(query))


def is_overdue(absence: Absence, at: datetime | None = None) -> bool:
    """Not back although the planned end has passed."""
    return absence.returned_at is None and absence.ends_at <= (at or utcnow())


# ---------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------


def _audit(action: str, absence: Absence, by: User | None, before: dict | None = None) -> None:
    """An audit row for a change a staff member made (none without a person)."""
    if by is None:
        return

    def plain(value):
        return value.isoformat() if isinstance(value, (date, datetime)) else value

    snapshot = {c.key: plain(getattr(absence, c.key)) for c in Absence.__table__.columns}
    db.session.add(
        AuditEvent(
            user_id=by.id if by is not None else None,
            township_id=absence.township_id,
            action=action,
            object_type="Absence",
            object_id=str(absence.id),
            before=snapshot if action == "delete" else before,
            after=None if action == "delete" else snapshot,
        )
    )


def _earliest() -> datetime:
    year = int(current_app.config.get("EARLIEST_YEAR", 2000)) if has_app_context() else 2000
    return datetime(year, 1, 1, tzinfo=clock.now_utc().tzinfo)


def _when(value: datetime, township_id: int) -> str:
    return clock.format_datetime(value, township_id)


def record_absence(
    township: OrgUnit | int,
    user: User,
    starts_at: datetime,
    ends_at: datetime,
    reason: str,
    *,
    by: User | None = None,
) -> Absence:
    """Record that ``user`` is (or will be) away from ``starts_at`` until ``ends_at``
    (aware datetimes; the planned return) for ``reason``.

    Refused with :class:`PresenceError`: a user who is not staff of the township, an end
    not after the start, a date before ``EARLIEST_YEAR`` or years ahead, an empty or too
    long reason, an overlap with another away period of the same person, or a person
    still recorded as away from an earlier period whose end has passed. An away period
    entered after it ended is recorded as back at its end (and the return is announced
    like any other). Commits.
    """
    from core.duty import is_township_staff

    tid = _tid(township)
    if starts_at.tzinfo is None or ends_at.tzinfo is None:
        raise ValueError("starts_at and ends_at must be aware datetimes")
    reason = (reason or "").strip()
    if not reason:
        raise PresenceError(_l("Say why the person is away."))
    if len(reason) > REASON_LENGTH:
        raise PresenceError(_l("The reason is longer than %(n)d characters.", n=REASON_LENGTH))
    if not is_township_staff(user, tid):
        raise PresenceError(_l("%(name)s does not work for this township.", name=user.name))
    earliest = _earliest()
    if starts_at < earliest:
        raise PresenceError(
            _l("The date cannot be before %(day)s.", day=earliest.date().isoformat())
        )
    if ends_at <= starts_at:
        raise PresenceError(_l("The away period ends before it starts."))
    now = utcnow()
    if ends_at > now + timedelta(days=MAX_DAYS_AHEAD):
        raise PresenceError(
            _l("%(day)s is too far ahead; check the year.", day=_when(ends_at, tid)[:10])
        )
    for other in db.session.scalars(
        select(Absence).where(Absence.user_id == user.id, Absence.starts_at < ends_at)
    ):
        if other.returned_at is None and other.ends_at <= now:
            raise PresenceError(
                _l(
                    "%(name)s is still recorded as away since %(start)s; record the return first.",
                    name=user.name,
                    start=_when(other.starts_at, tid),
                )
            )
        other_end = other.returned_at or other.ends_at
        if other_end > starts_at:
            raise PresenceError(
                _l(
                    "%(name)s is already recorded as away from %(start)s to %(end)s.",
                    name=user.name,
                    start=_when(other.starts_at, tid),
                    end=_when(other_end, tid),
                )
            )
    absence = Absence(
        township_id=tid,
        user_id=user.id,
        starts_at=starts_at,
        ends_at=ends_at,
        reason=reason,
        created_by_id=by.id if by else None,
    )
    past = ends_at <= now
    if past:
        absence.returned_at = ends_at
        absence.returned_by_id = by.id if by else None
    db.session.add(absence)
    db.session.flush()
    _audit("create", absence, by)
    db.session.commit()
    if past:
        _announce_return(absence)
    return absence


def mark_back(absence: Absence, by: User | None = None, *, at: datetime | None = None) -> Absence:
    """Record that the person of ``absence`` is back (at ``at``, default now), commit, and
    then fire ``township_user_returned`` for the institutions the township enabled.

    Guarded by the absence's state (a conditional UPDATE), so two clicks or two clerks
    record it, and fire the hook, once: the second gets :class:`PresenceError`.
    """
    now = utcnow()
    at = at or now
    if at.tzinfo is None:
        raise ValueError("at must be an aware datetime")
    if absence.returned_at is not None:
        raise _already_back(absence)
    if absence.starts_at > now:
        raise PresenceError(_l("This away period has not begun yet; cancel it instead."))
    if at < absence.starts_at:
        raise PresenceError(_l("The return cannot be before the away period began."))
    if at > now:
        raise PresenceError(_l("The return cannot be in the future."))
    result = db.session.execute(
        update(Absence)
        .where(Absence.id == absence.id, Absence.returned_at.is_(None))
        .values(returned_at=at, returned_by_id=by.id if by else None)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        db.session.rollback()
        db.session.refresh(absence)
        raise _already_back(absence)
    db.session.refresh(absence)
    _audit("update", absence, by, before={"returned_at": None, "returned_by_id": None})
    db.session.commit()
    _announce_return(absence)
    return absence


def _already_back(absence: Absence) -> PresenceError:
    return PresenceError(
        _l(
            "%(name)s is already recorded as back (%(at)s).",
            name=absence.user.name,
            at=_when(absence.returned_at, absence.township_id) if absence.returned_at else "",
        )
    )


def _announce_return(absence: Absence) -> None:
    """Fire ``township_user_returned`` for the core and the institutions the township enabled."""
    from core.institutions import enabled_hook

    township = db.session.get(OrgUnit, absence.township_id)
    enabled_hook("township_user_returned", absence.township_id)(
        user=absence.user, township=township, absence=absence
    )


def cancel_absence(absence: Absence, *, by: User | None = None) -> None:
    """Delete an away period entered by mistake (one whose return is not yet recorded).
    Commits."""
    if absence.returned_at is not None:
        raise PresenceError(_l("An away period that ended is kept; it cannot be cancelled."))
    _audit("delete", absence, by)
    db.session.delete(absence)
    db.session.commit()
