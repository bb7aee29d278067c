"""The training rules (学习培训制度) as plain functions over ``db.session``.

* :func:`record_attendance` marks a whole session in a fixed number of queries
  (one multi-row upsert), refusing the lot when one mark is wrong;
* :func:`log_study` records self-study (自学) hours, one learner or a grid, all
  or nothing, after :func:`check_study_entries`;
* :func:`monthly_compliance` is the one figure of the month, computed with
  grouped SQL aggregates; the screen, the exports, the reminder job and the JSON
  endpoint call it, the county's dashboard :func:`monthly_compliances` (several
  townships at once, the same figures).

Compliance rules (the rule book's figures are township policies, see ``policy.py``):

* self-study hours and note characters are monthly flows: a learner who joined
  during the month owes the threshold pro-rated by the days on the roster
  (rounded up to a half class hour / a character);
* participation in concentrated training = present / (present + absent) of the
  sessions the learner was marked for; an excused absence (请假, with a reason)
  counts neither way. Township cadres must reach 100 %, rural party members 85 %;
  a learner marked for no session has no participation figure (not behind);
* techniques are a stock: those mastered up to the month's last day (cadres, ≥ 6);
* concentrated study days: the days of sessions the township (and each village)
  organised in the month; a village with no session has 0 days;
* a threshold a township has not set (party members' notes, "XX" in the rule
  book) is reported as "not set", never as behind.
"""

from __future__ import annotations

import calendar
import math
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import date
from fractions import Fraction
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import and_, case, extract, false, func, literal, or_, select, true

from core import clock
from core.db import db, utcnow
from core.models import OrgUnit, Person, UnitKind
from core.policies import policies_for
from core.validation import earliest_date
from plugins.training import policy as P
from plugins.training.models import (
    CADRES,
    JUNIOR_MIDDLE_OR_ABOVE,
    AttendanceStatus,
    Education,
    LearnerCategory,
    LogStatus,
    MaterialKind,
    TrainingAttendance,
    TrainingLearner,
    TrainingMastery,
    TrainingSession,
    TrainingStudyLog,
)

#: the most class hours one learner may log on one day
MAX_HOURS_A_DAY = 12


class TrainingError(ValueError):
    """A refused change; ``problems`` lists every reason (nothing was written)."""

    def __init__(self, problems: list[str] | str):
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("; ".join(self.problems))


# ---------------------------------------------------------------------------
# Dates
# ---------------------------------------------------------------------------


def month_bounds(year: int, month: int) -> tuple[date, date]:
    """First and last day of a month."""
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


def township_today(township_id: int) -> date:
    """Today in the township's time zone (Asia/Shanghai by default)."""
    return clock.today(township_id)


def parse_hours(raw: Any) -> int:
    """Class hours as text or number → whole half hours; ValueError if not a half-hour step."""
    if raw is None or str(raw).strip() == "":
        raise ValueError(_("Class hours are missing."))
    try:
        value = float(str(raw).strip().replace(",", "."))
    except ValueError:
        raise ValueError(_("Class hours must be a number, not %(raw)s.", raw=raw)) from None
    halves = value * 2
    if not math.isfinite(halves) or abs(halves - round(halves)) > 1e-9:
        raise ValueError(_("Class hours go in half-hour steps (0.5, 1, 1.5 ...)."))
    return round(halves)


# ---------------------------------------------------------------------------
# Attendance
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Mark:
    """One learner's attendance at a session."""

    learner_id: int
    status: str
    reason: str = ""


def session_learners(session: TrainingSession) -> list[TrainingLearner]:
    """The learners expected at a session, by village and name, in one query.

    A township session concerns every active learner of the township; a village's
    session the learners of that village. Learners who joined after the session
    are left out.
    """
    query = (
        select(TrainingLearner)
        .join(Person, Person.id == TrainingLearner.person_id)
        .where(
            TrainingLearner.township_id == session.township_id,
            TrainingLearner.active.is_(True),
            TrainingLearner.joined_on <= session.held_on,
        )
        .order_by(
            TrainingLearner.village_id.is_(None).desc(), TrainingLearner.village_id, Person.name
        )
    )
    if session.organiser_id != session.township_id:
        query = query.where(TrainingLearner.village_id == session.organiser_id)
    return list(db.session.scalars(query))


def _dialect_insert(model):
    if db.session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(model)


def record_attendance(township_id: int, session_id: int, marks: list[Mark]) -> int:
    """Save the attendance of a whole session at once; returns how many marks were saved.

    Refuses everything (:class:`TrainingError` listing each problem) when a mark
    names a learner who is not on this township's roster, joined after the
    session, has an unknown status, or is excused without a reason. Runs a fixed
    number of queries whatever the number of learners: the session, the learners,
    one multi-row upsert, the commit. Raises LookupError for a session of
    another township.
    """
    session = db.session.get(TrainingSession, session_id)
    if session is None or session.township_id != township_id:
        raise LookupError(session_id)
    if not marks:
        return 0
    ids = {m.learner_id for m in marks}
    learners = {
        row.id: row
        for row in db.session.execute(
            select(TrainingLearner.id, TrainingLearner.joined_on, Person.name)
            .join(Person, Person.id == TrainingLearner.person_id)
            .where(TrainingLearner.id.in_(ids), TrainingLearner.township_id == township_id)
        )
    }
    problems: list[str] = []
    seen: set[int] = set()
    for mark in marks:
        learner = learners.get(mark.learner_id)
        if learner is None:
            problems.append(
                _("Learner #%(id)s is not on the roster of this township.", id=mark.learner_id)
            )
            continue
        if mark.learner_id in seen:
            problems.append(_("%(name)s is marked twice.", name=learner.name))
        seen.add(mark.learner_id)
        if mark.status not in AttendanceStatus.__members__:
            problems.append(
                _("%(name)s: unknown attendance %(s)s.", name=learner.name, s=mark.status)
            )
        elif mark.status == AttendanceStatus.excused and not mark.reason.strip():
            problems.append(_("%(name)s is excused: give the reason.", name=learner.name))
        elif len(mark.reason.strip()) > REASON_LENGTH:
            problems.append(
                _(
                    "%(name)s: the reason has %(n)s characters; at most %(max)s.",
                    name=learner.name,
                    n=len(mark.reason.strip()),
                    max=REASON_LENGTH,
                )
            )
        if learner.joined_on > session.held_on:
            problems.append(
                _(
                    "%(name)s joined on %(joined)s, after the session.",
                    name=learner.name,
                    joined=learner.joined_on,
                )
            )
    if problems:
        db.session.rollback()
        raise TrainingError(problems)
    rows = [
        {
            "township_id": township_id,
            "session_id": session_id,
            "learner_id": m.learner_id,
            "status": AttendanceStatus(m.status).value,
            "reason": m.reason.strip() if m.status == AttendanceStatus.excused else "",
        }
        for m in marks
    ]
    statement = _dialect_insert(TrainingAttendance).values(rows)
    statement = statement.on_conflict_do_update(
        index_elements=["session_id", "learner_id"],
        set_={"status": statement.excluded.status, "reason": statement.excluded.reason},
    )
    db.session.execute(statement)
    db.session.commit()
    return len(rows)


# ---------------------------------------------------------------------------
# Self-study
# ---------------------------------------------------------------------------


@dataclass
class StudyEntry:
    """One self-study record to write: learner, day, class hours (in halves), material."""

    learner_id: int
    studied_on: date
    half_hours: int
    material: str
    material_kind: str = MaterialKind.set_reading.value
    note_chars: int = 0


def check_study_entries(
    township_id: int, entries: list[StudyEntry], today: date | None = None
) -> dict[int, list[str]]:
    """Every problem of every entry, by its index (empty = all fine). Three queries.

    Refused: a learner not on this township's roster; hours ≤ 0, or more than 12
    a day for one learner (counting what is already logged that day); a date in
    the future or before the learner joined; no material; negative note
    characters; the same learner, day and material twice (in the entries or
    already logged).
    """
    today = today or township_today(township_id)
    problems: dict[int, list[str]] = defaultdict(list)
    if not entries:
        return {}
    ids = {e.learner_id for e in entries}
    learners = {
        row.id: row
        for row in db.session.execute(
            select(TrainingLearner.id, TrainingLearner.joined_on, Person.name)
            .join(Person, Person.id == TrainingLearner.person_id)
            .where(
                TrainingLearner.id.in_(ids),
                TrainingLearner.township_id == township_id,
                TrainingLearner.active.is_(True),
            )
        )
    }
    days = [e.studied_on for e in entries]
    logged: dict[tuple[int, date], int] = {}
    materials: set[tuple[int, date, str]] = set()
    if learners:
        window = and_(
            TrainingStudyLog.learner_id.in_(learners),
            TrainingStudyLog.studied_on >= min(days),
            TrainingStudyLog.studied_on <= max(days),
        )
        for row in db.session.execute(
            select(
                TrainingStudyLog.learner_id,
                TrainingStudyLog.studied_on,
                func.sum(TrainingStudyLog.half_hours),
            )
            .where(window)
            .group_by(TrainingStudyLog.learner_id, TrainingStudyLog.studied_on)
        ):
            logged[(row[0], row[1])] = int(row[2] or 0)
        materials = {
            (row[0], row[1], row[2].strip().lower())
            for row in db.session.execute(
                select(
                    TrainingStudyLog.learner_id,
                    TrainingStudyLog.studied_on,
                    TrainingStudyLog.material,
                ).where(window)
            )
        }
    day_totals: dict[tuple[int, date], int] = defaultdict(int)
    for index, entry in enumerate(entries):
        learner = learners.get(entry.learner_id)
        if learner is None:
            problems[index].append(
                _("Unknown person: #%(id)s is not on this township's roster.", id=entry.learner_id)
            )
            continue
        name = learner.name
        if entry.half_hours <= 0:
            problems[index].append(_("%(name)s: class hours must be more than 0.", name=name))
        day_key = (entry.learner_id, entry.studied_on)
        day_totals[day_key] += max(entry.half_hours, 0)
        if logged.get(day_key, 0) + day_totals[day_key] > MAX_HOURS_A_DAY * 2:
            problems[index].append(
                _(
                    "%(name)s: more than %(max)s class hours on %(day)s.",
                    name=name,
                    max=MAX_HOURS_A_DAY,
                    day=entry.studied_on,
                )
            )
        if entry.studied_on > today:
            problems[index].append(
                _("%(name)s: %(day)s is in the future.", name=name, day=entry.studied_on)
            )
        if entry.studied_on < learner.joined_on:
            problems[index].append(
                _(
                    "%(name)s: %(day)s is before the learner joined (%(joined)s).",
                    name=name,
                    day=entry.studied_on,
                    joined=learner.joined_on,
                )
            )
        if not entry.material.strip():
            problems[index].append(_("%(name)s: say what was studied.", name=name))
        elif len(entry.material.strip()) > MATERIAL_LENGTH:
            problems[index].append(
                _(
                    "%(name)s: the material has %(n)s characters; at most %(max)s.",
                    name=name,
                    n=len(entry.material.strip()),
                    max=MATERIAL_LENGTH,
                )
            )
        if entry.studied_on < earliest_date():
            problems[index].append(
                _(
                    "%(name)s: %(day)s is too long ago; check the year.",
                    name=name,
                    day=entry.studied_on,
                )
            )
        if entry.material_kind not in MaterialKind.__members__:
            problems[index].append(_("%(name)s: unknown kind of material.", name=name))
        if entry.note_chars < 0:
            problems[index].append(_("%(name)s: note characters cannot be negative.", name=name))
        key = (entry.learner_id, entry.studied_on, entry.material.strip().lower())
        if key in materials:
            problems[index].append(
                _(
                    "Duplicate: %(name)s already has %(material)s on %(day)s.",
                    name=name,
                    material=entry.material.strip(),
                    day=entry.studied_on,
                )
            )
        materials.add(key)
    return dict(problems)


def log_study(
    township_id: int,
    entries: list[StudyEntry],
    *,
    logged_by_id: int | None = None,
    confirmed: bool = True,
    today: date | None = None,
    commit: bool = True,
) -> int:
    """Write self-study entries, all or none; returns how many were written.

    Entries logged by an officer are confirmed; a learner's own entries wait
    (``confirmed=False``) until an officer confirms them (:func:`confirm_logs`).
    Raises :class:`TrainingError` with every problem found by
    :func:`check_study_entries`.
    """
    problems = check_study_entries(township_id, entries, today)
    if problems:
        raise TrainingError([p for index in sorted(problems) for p in problems[index]])
    if not entries:
        return 0
    now = utcnow()
    db.session.execute(
        TrainingStudyLog.__table__.insert(),
        [
            {
                "township_id": township_id,
                "learner_id": e.learner_id,
                "studied_on": e.studied_on,
                "half_hours": e.half_hours,
                "material_kind": MaterialKind(e.material_kind).name,
                "material": e.material.strip(),
                "note_chars": e.note_chars,
                "status": (LogStatus.confirmed if confirmed else LogStatus.pending).name,
                "logged_by_id": logged_by_id,
                "confirmed_by_id": logged_by_id if confirmed else None,
                "created_at": now,
            }
            for e in entries
        ],
    )
    if not confirmed:
        _announce_pending(township_id, [e.learner_id for e in entries], now, logged_by_id)
    if commit:
        db.session.commit()
    return len(entries)


#: what fits the columns (refused beyond, never cut)
MATERIAL_LENGTH = 200
REASON_LENGTH = 200

#: the inbox source of learners' own entries waiting for an officer
INBOX_CONFIRM = "training.hours_confirmation"


def _announce_pending(township_id: int, learner_ids: list[int], at, by_user_id) -> None:
    """Tell the township's training officers once per entry that a learner's own hours
    wait for confirmation (in the same transaction)."""
    from flask import current_app
    from flask_babel import force_locale

    from core.access import users_with
    from core.inbox import announce
    from core.links import link

    rows = db.session.execute(
        select(
            TrainingStudyLog.id,
            Person.name,
            TrainingStudyLog.studied_on,
            TrainingStudyLog.half_hours,
        )
        .join(TrainingLearner, TrainingLearner.id == TrainingStudyLog.learner_id)
        .join(Person, Person.id == TrainingLearner.person_id)
        .where(
            TrainingStudyLog.township_id == township_id,
            TrainingStudyLog.learner_id.in_(learner_ids),
            TrainingStudyLog.status == LogStatus.pending,
            TrainingStudyLog.created_at == at,
        )
    ).all()
    officers = [u for u in users_with("training.write", township_id) if u.id != by_user_id]
    for row in rows:
        with force_locale(current_app.config.get("DEFAULT_LOCALE", "zh_CN")):
            title = _(
                "Self-study hours to confirm: %(name)s, %(day)s, %(hours)s class hours",
                name=row.name,
                day=row.studied_on,
                hours=f"{row.half_hours / 2:g}",
            )
        announce(
            officers,
            INBOX_CONFIRM,
            row.id,
            title,
            township_id=township_id,
            link=link("training_logs.review_view", id=row.id),
        )


def return_logs(township_id: int, log_ids: list[int], by_user_id: int, reason: str) -> int:
    """Send learners' own entries back with a reason (they no longer count, the learner is
    told and may log them again); returns how many were sent back; commits."""
    from flask import current_app
    from flask_babel import force_locale
    from sqlalchemy import update

    from core.models import User
    from core.notifications import notify

    reason = (reason or "").strip()
    if not reason:
        raise TrainingError(_("Say why the entry goes back, so the learner can correct it."))
    rows = db.session.execute(
        select(TrainingStudyLog.id, TrainingStudyLog.studied_on, TrainingLearner.user_id)
        .join(TrainingLearner, TrainingLearner.id == TrainingStudyLog.learner_id)
        .where(
            TrainingStudyLog.id.in_(log_ids),
            TrainingStudyLog.township_id == township_id,
            TrainingStudyLog.status == LogStatus.pending,
        )
    ).all()
    if not rows:
        return 0
    db.session.execute(
        update(TrainingStudyLog)
        .where(
            TrainingStudyLog.id.in_([r.id for r in rows]),
            TrainingStudyLog.status == LogStatus.pending,
        )
        .values(status=LogStatus.returned, confirmed_by_id=by_user_id)
        .execution_options(synchronize_session=False)
    )
    by = db.session.get(User, by_user_id)
    for row in rows:
        learner = db.session.get(User, row.user_id) if row.user_id else None
        if learner is None:
            continue
        with force_locale(current_app.config.get("DEFAULT_LOCALE", "zh_CN")):
            title = _("Your self-study entry of %(day)s was sent back", day=row.studied_on)
            body = _("%(name)s: %(reason)s", name=by.name if by else "–", reason=reason)
        notify(
            [learner],
            title,
            body,
            key=f"training-returned:{row.id}",
            township_id=township_id,
        )
    db.session.commit()
    return len(rows)


def confirm_logs(township_id: int, log_ids: list[int], by_user_id: int) -> int:
    """Confirm learners' own entries of this township; returns how many turned confirmed."""
    from sqlalchemy import update

    result = db.session.execute(
        update(TrainingStudyLog)
        .where(
            TrainingStudyLog.id.in_(log_ids),
            TrainingStudyLog.township_id == township_id,
            TrainingStudyLog.status == LogStatus.pending,
        )
        .values(status=LogStatus.confirmed, confirmed_by_id=by_user_id)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return result.rowcount or 0


# ---------------------------------------------------------------------------
# Monthly compliance
# ---------------------------------------------------------------------------


@dataclass
class Shortfall:
    """Where a learner, village or township is behind, and by how much."""

    measure: str  # hours | participation | techniques | notes | study_days
    required: float
    actual: float
    missing: float


@dataclass
class LearnerCompliance:
    learner_id: int
    name: str
    category: str
    village_id: int | None
    village_name: str
    joined_on: date
    user_id: int | None
    hours: float
    required_hours: float
    note_chars: int
    #: None = no threshold applies; "not set" appears in ``not_set``
    required_note_chars: int | None
    present: int
    absent: int
    excused: int
    participation: float | None
    required_participation: float | None
    techniques: int
    required_techniques: int | None
    shortfalls: list[Shortfall] = field(default_factory=list)
    not_set: list[str] = field(default_factory=list)

    @property
    def behind(self) -> bool:
        return bool(self.shortfalls)

    def shortfall(self, measure: str) -> Shortfall | None:
        return next((s for s in self.shortfalls if s.measure == measure), None)


@dataclass
class UnitCompliance:
    """A village's or the township's month."""

    unit_id: int
    name: str
    learners: int
    behind: int
    hours_behind: int
    average_hours: float
    study_days: float
    required_days: float
    #: share of learners meeting every threshold, in % (None without learners)
    compliant_pct: float | None
    shortfalls: list[Shortfall] = field(default_factory=list)


@dataclass
class MonthlyCompliance:
    township_id: int
    year: int
    month: int
    thresholds: dict[str, Any]
    #: the learner rows asked for: all of them, one learner's, one page, or none when only
    #: the unit figures were asked (``learners=False``); the unit figures count every learner
    learners: list[LearnerCompliance]
    villages: list[UnitCompliance]
    township: UnitCompliance
    #: participation of township cadres / rural party members as a group, in %
    participation: dict[str, float | None]

    @property
    def behind(self) -> list[LearnerCompliance]:
        return [row for row in self.learners if row.behind]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready figures (dates as ISO strings)."""
        data = asdict(self)
        for row in data["learners"]:
            row["joined_on"] = row["joined_on"].isoformat()
            row["behind"] = bool(row["shortfalls"])
        data["month"] = f"{self.year:04d}-{self.month:02d}"
        data.pop("year")
        return data


def _missing(required: float, actual: float) -> float:
    return round(max(required - actual, 0), 2)


def _on_roster_share(joined_on: date, first: date, last: date) -> float:
    """The share of the month a learner was on the roster (joined on ``joined_on``)."""
    return ((last - max(joined_on, first)).days + 1) / ((last - first).days + 1)


def _required_halves(hours_min: Any, share: float) -> int:
    """The month's self-study threshold pro-rated, rounded up to a half class hour, in halves."""
    return math.ceil(float(hours_min or 0) * share * 2 - 1e-9)


def _required_chars(notes_min: Any, share: float) -> int:
    """The month's note characters pro-rated, rounded up to a character."""
    return math.ceil(int(notes_min) * share - 1e-9)


def _participation(present: int, absent: int) -> float | None:
    counted = present + absent
    return round(100 * present / counted, 1) if counted else None


def _participation_test(required: float) -> tuple[int, bool]:
    """``(m, tie)`` such that a participation ``round(100 * p / c, 1) < required`` (c > 0)
    exactly when ``2000 p - m c < 0``, or ``= 0`` and ``tie``: the same verdict in
    integer SQL as Python's rounding of the float (half to even on the binary value).

    The rounded figure is ``k / 10`` for an integer ``k``; it is below ``required``
    exactly when ``k < K``, the least ``k`` with ``k / 10 >= required``, that is when
    ``100 p / c`` lies below ``(K - 1/2) / 10 = m / 20`` (``m = 2K - 1``). A quotient of
    small integers is never within a float's rounding of that bound unless equal to it;
    then its float is the float of ``m / 20``, rounded as Python rounds it (``tie``).
    """
    k = 0
    while k <= 1000 and k / 10 < required:
        k += 1
    m = 2 * k - 1
    tie = round(float(Fraction(m, 20)), 1) < required if m > 0 else False
    return m, tie


@dataclass
class _Month:
    """What every query of a set of townships' months shares: periods, thresholds, units."""

    months: dict[int, tuple[int, int]]
    bounds: dict[int, tuple[date, date]]
    thresholds: dict[int, dict[str, Any]]
    villages: dict[int, dict[int, str]]
    township_names: dict[int, str]
    days_by_organiser: dict[tuple[int, int], float]

    def in_month(self, township_column, day_column, *, since_first: bool = True):
        """SQL: the row's day lies in its township's month (``since_first=False``: on or
        before the month's last day); one branch per distinct month."""
        return clock.on_each_day(
            township_column,
            {tid: first for tid, (first, _last) in self.bounds.items()},
            lambda first: and_(
                day_column >= first if since_first else true(),
                day_column <= month_bounds(first.year, first.month)[1],
            ),
        )


THRESHOLD_KEYS = (
    P.TOWNSHIP_DAYS,
    P.VILLAGE_DAYS,
    P.SELF_STUDY_HOURS,
    P.TOWNSHIP_CADRE_PARTICIPATION,
    P.PARTY_MEMBER_PARTICIPATION,
    P.CADRE_TECHNIQUES,
    P.CADRE_NOTE_CHARS,
    P.PARTY_MEMBER_NOTE_CHARS,
)


def _month_context(months: dict[int, tuple[int, int]]) -> _Month:
    """The policies in force (cached), the villages and townships, the session days per
    organiser: two queries whatever the number of townships."""
    bounds = {tid: month_bounds(year, month) for tid, (year, month) in months.items()}
    thresholds: dict[int, dict[str, Any]] = {}
    for tid in months:
        values = policies_for(tid)
        thresholds[tid] = {key: values.get(key) for key in THRESHOLD_KEYS}
    ids = list(months)
    villages: dict[int, dict[int, str]] = {tid: {} for tid in ids}
    township_names: dict[int, str] = {}
    for unit_id, name, kind, township_id in db.session.execute(
        select(OrgUnit.id, OrgUnit.name, OrgUnit.kind, OrgUnit.township_id)
        .where(
            or_(
                OrgUnit.id.in_(ids),
                and_(OrgUnit.township_id.in_(ids), OrgUnit.kind == UnitKind.village),
            )
        )
        .order_by(OrgUnit.name)
    ):
        if unit_id in months:
            township_names[unit_id] = name
        if kind == UnitKind.village and township_id in villages:
            villages[township_id][unit_id] = name
    context = _Month(months, bounds, thresholds, villages, township_names, {})
    context.days_by_organiser = {
        (row[0], row[1]): int(row[2] or 0) / 2
        for row in db.session.execute(
            select(
                TrainingSession.township_id,
                TrainingSession.organiser_id,
                func.sum(TrainingSession.half_days),
            )
            .where(context.in_month(TrainingSession.township_id, TrainingSession.held_on))
            .group_by(TrainingSession.township_id, TrainingSession.organiser_id)
        )
    }
    return context


def _learners_subquery(context: _Month, learner_id: int | None):
    """One row per learner on the roster of the month (active, joined by its last day):
    the sums of their confirmed hours and notes, attendance counts and techniques."""
    in_month = context.in_month
    study = (
        select(
            TrainingStudyLog.township_id.label("township_id"),
            TrainingStudyLog.learner_id.label("learner_id"),
            func.sum(TrainingStudyLog.half_hours).label("half_hours"),
            func.sum(TrainingStudyLog.note_chars).label("note_chars"),
        )
        .where(
            in_month(TrainingStudyLog.township_id, TrainingStudyLog.studied_on),
            TrainingStudyLog.status == LogStatus.confirmed,
        )
        .group_by(TrainingStudyLog.township_id, TrainingStudyLog.learner_id)
        .subquery()
    )

    def _count(status: AttendanceStatus):
        return func.sum(case((TrainingAttendance.status == status, 1), else_=0))

    attendance = (
        select(
            TrainingAttendance.township_id.label("township_id"),
            TrainingAttendance.learner_id.label("learner_id"),
            _count(AttendanceStatus.present).label("present"),
            _count(AttendanceStatus.absent).label("absent"),
            _count(AttendanceStatus.excused).label("excused"),
        )
        .join(TrainingSession, TrainingSession.id == TrainingAttendance.session_id)
        .where(in_month(TrainingAttendance.township_id, TrainingSession.held_on))
        .group_by(TrainingAttendance.township_id, TrainingAttendance.learner_id)
        .subquery()
    )
    techniques = (
        select(
            TrainingMastery.township_id.label("township_id"),
            TrainingMastery.learner_id.label("learner_id"),
            func.count(TrainingMastery.id).label("techniques"),
        )
        .where(
            in_month(TrainingMastery.township_id, TrainingMastery.mastered_on, since_first=False)
        )
        .group_by(TrainingMastery.township_id, TrainingMastery.learner_id)
        .subquery()
    )

    def _of_learner(sub):
        return and_(
            sub.c.learner_id == TrainingLearner.id,
            sub.c.township_id == TrainingLearner.township_id,
        )

    query = (
        select(
            TrainingLearner.township_id.label("township_id"),
            TrainingLearner.id.label("learner_id"),
            Person.name.label("name"),
            TrainingLearner.category.label("category"),
            TrainingLearner.village_id.label("village_id"),
            TrainingLearner.education.label("education"),
            TrainingLearner.joined_on.label("joined_on"),
            TrainingLearner.user_id.label("user_id"),
            func.coalesce(study.c.half_hours, 0).label("half_hours"),
            func.coalesce(study.c.note_chars, 0).label("note_chars"),
            func.coalesce(attendance.c.present, 0).label("present"),
            func.coalesce(attendance.c.absent, 0).label("absent"),
            func.coalesce(attendance.c.excused, 0).label("excused"),
            func.coalesce(techniques.c.techniques, 0).label("techniques"),
        )
        .join(Person, Person.id == TrainingLearner.person_id)
        .outerjoin(study, _of_learner(study))
        .outerjoin(attendance, _of_learner(attendance))
        .outerjoin(techniques, _of_learner(techniques))
        .where(
            in_month(TrainingLearner.township_id, TrainingLearner.joined_on, since_first=False),
            TrainingLearner.active.is_(True),
        )
    )
    if learner_id is not None:
        query = query.where(TrainingLearner.id == learner_id)
    return query.subquery("learners")


def _by_joined_on(context: _Month, required) -> dict[int, Any]:
    """Per township, the step function ``joined_on → required(share)`` of its month, as
    ``((latest joined_on, value), ...)`` (the values of the Python rule, day by day)."""
    steps: dict[int, Any] = {}
    for tid, (first, last) in context.bounds.items():
        table: list[tuple[date, int]] = []
        day = first
        while day <= last:
            value = required(tid, _on_roster_share(day, first, last))
            if value is None:
                table = []
                break
            if table and table[-1][1] == value:
                table[-1] = (day, value)
            else:
                table.append((day, value))
            day = date.fromordinal(day.toordinal() + 1)
        steps[tid] = tuple(table) or None
    return steps


def _step_sql(joined_column, table):
    """SQL: the value of a step table at the learner's joined date (joined before the
    month: the first step's; a learner joined after the month is not on its roster)."""
    if len(table) == 1:
        return literal(table[0][1])
    return case(
        *((joined_column <= upto, value) for upto, value in table[:-1]),
        else_=literal(table[-1][1]),
    )


def _shortfall_sql(context: _Month, learners) -> dict[str, Any]:
    """SQL conditions over the learners subquery, one per measure, true where the learner
    is behind on it: exactly the verdicts of :func:`_judge` (integer comparisons with the
    pro-rated thresholds worked out here from the same Python expressions)."""
    c = learners.c
    limits = context.thresholds
    township = c.township_id

    hours = _by_joined_on(
        context, lambda tid, share: _required_halves(limits[tid][P.SELF_STUDY_HOURS], share)
    )
    hours_short = or_(
        false(),
        *(
            and_(township.in_(ids), c.half_hours < _step_sql(c.joined_on, table))
            for table, ids in _grouped(hours).items()
        ),
    )

    def notes_for(key):
        steps = _by_joined_on(
            context,
            lambda tid, share: (
                None if limits[tid][key] is None else _required_chars(limits[tid][key], share)
            ),
        )
        return or_(
            false(),
            *(
                and_(township.in_(ids), c.note_chars < _step_sql(c.joined_on, table))
                for table, ids in _grouped(steps).items()
            ),
        )

    notes_short = or_(
        and_(c.category.in_(CADRES), notes_for(P.CADRE_NOTE_CHARS)),
        and_(
            c.category == LearnerCategory.party_member,
            c.education.in_(JUNIOR_MIDDLE_OR_ABOVE),
            notes_for(P.PARTY_MEMBER_NOTE_CHARS),
        ),
    )

    techniques_short = and_(
        c.category.in_(CADRES),
        or_(
            false(),
            *(
                and_(township.in_(ids), c.techniques < int(required))
                for required, ids in _grouped(
                    {tid: limits[tid][P.CADRE_TECHNIQUES] for tid in limits}
                ).items()
            ),
        ),
    )

    counted = c.present + c.absent
    below = []
    for category, key in (
        (LearnerCategory.township_cadre, P.TOWNSHIP_CADRE_PARTICIPATION),
        (LearnerCategory.party_member, P.PARTY_MEMBER_PARTICIPATION),
    ):
        tests = _grouped(
            {
                tid: None if limits[tid][key] is None else _participation_test(limits[tid][key])
                for tid in limits
            }
        )
        for (m, tie), ids in tests.items():
            gap = 2000 * c.present - m * counted
            below.append(
                and_(
                    c.category == category,
                    township.in_(ids),
                    counted > 0,
                    (gap <= 0) if tie else (gap < 0),
                )
            )
    participation_short = or_(false(), *below)
    behind = or_(hours_short, participation_short, techniques_short, notes_short)
    return {"hours": hours_short, "behind": behind}


def _grouped(values: dict[int, Any]) -> dict[Any, list[int]]:
    """Townships by their (not None) value."""
    groups: dict[Any, list[int]] = defaultdict(list)
    for tid, value in values.items():
        if value is not None:
            groups[value].append(tid)
    return groups


def _judge(context: _Month, row) -> LearnerCompliance:
    """One learner's month (a row of the learners subquery) against the thresholds."""
    tid = row.township_id
    first, last = context.bounds[tid]
    limits = context.thresholds[tid]
    category = LearnerCategory(row.category)
    share = _on_roster_share(row.joined_on, first, last)
    village_id = row.village_id
    judged = LearnerCompliance(
        learner_id=row.learner_id,
        name=row.name,
        category=category.value,
        village_id=village_id,
        village_name=context.villages[tid].get(village_id, "") if village_id else "",
        joined_on=row.joined_on,
        user_id=row.user_id,
        hours=int(row.half_hours) / 2,
        required_hours=_required_halves(limits[P.SELF_STUDY_HOURS], share) / 2,
        note_chars=int(row.note_chars),
        required_note_chars=None,
        present=int(row.present),
        absent=int(row.absent),
        excused=int(row.excused),
        participation=None,
        required_participation=None,
        techniques=int(row.techniques),
        required_techniques=None,
    )
    if judged.hours < judged.required_hours:
        judged.shortfalls.append(
            Shortfall(
                "hours",
                judged.required_hours,
                judged.hours,
                _missing(judged.required_hours, judged.hours),
            )
        )
    judged.participation = _participation(judged.present, judged.absent)
    if category == LearnerCategory.township_cadre:
        judged.required_participation = limits[P.TOWNSHIP_CADRE_PARTICIPATION]
    elif category == LearnerCategory.party_member:
        judged.required_participation = limits[P.PARTY_MEMBER_PARTICIPATION]
    if (
        judged.participation is not None
        and judged.required_participation is not None
        and judged.participation < judged.required_participation
    ):
        judged.shortfalls.append(
            Shortfall(
                "participation",
                judged.required_participation,
                judged.participation,
                _missing(judged.required_participation, judged.participation),
            )
        )
    if category in CADRES:
        judged.required_techniques = limits[P.CADRE_TECHNIQUES]
        notes_min = limits[P.CADRE_NOTE_CHARS]
        notes_key = P.CADRE_NOTE_CHARS
    elif Education(row.education) in JUNIOR_MIDDLE_OR_ABOVE:
        notes_min = limits[P.PARTY_MEMBER_NOTE_CHARS]
        notes_key = P.PARTY_MEMBER_NOTE_CHARS
    else:
        notes_min, notes_key = None, None
    if judged.required_techniques is not None and judged.techniques < judged.required_techniques:
        judged.shortfalls.append(
            Shortfall(
                "techniques",
                judged.required_techniques,
                judged.techniques,
                judged.required_techniques - judged.techniques,
            )
        )
    if notes_key is not None and notes_min is None:
        judged.not_set.append(notes_key)
    elif notes_min is not None:
        judged.required_note_chars = _required_chars(notes_min, share)
        if judged.note_chars < judged.required_note_chars:
            judged.shortfalls.append(
                Shortfall(
                    "notes",
                    judged.required_note_chars,
                    judged.note_chars,
                    judged.required_note_chars - judged.note_chars,
                )
            )
    return judged


def _learner_order(learners):
    c = learners.c
    return (c.village_id.is_(None).desc(), c.village_id, c.name, c.learner_id)


@dataclass
class _Tally:
    """Grouped counts of a village's (or the township's) learners."""

    learners: int = 0
    behind: int = 0
    hours_behind: int = 0
    half_hours: int = 0
    present: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    absent: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def count(self, row: LearnerCompliance) -> None:
        self.learners += 1
        self.behind += row.behind
        self.hours_behind += row.shortfall("hours") is not None
        self.half_hours += round(row.hours * 2)
        self.present[row.category] += row.present
        self.absent[row.category] += row.absent

    def add(self, other: _Tally) -> None:
        self.learners += other.learners
        self.behind += other.behind
        self.hours_behind += other.hours_behind
        self.half_hours += other.half_hours
        for key, value in other.present.items():
            self.present[key] += value
        for key, value in other.absent.items():
            self.absent[key] += value


def _tallies(context: _Month, learners, shortfalls) -> dict[int, dict[int | None, _Tally]]:
    """Per township and village (None: no village), the learners, those behind, those
    behind on hours, the hours, and attendance per category: one grouped query."""
    c = learners.c

    def _when(condition, value=1):
        return func.sum(case((condition, value), else_=0))

    groups = [LearnerCategory.township_cadre, LearnerCategory.party_member]
    columns = [
        c.township_id,
        c.village_id,
        func.count(),
        _when(shortfalls["behind"]),
        _when(shortfalls["hours"]),
        func.sum(c.half_hours),
    ]
    for category in groups:
        columns.append(_when(c.category == category, c.present))
        columns.append(_when(c.category == category, c.absent))
    tallies: dict[int, dict[int | None, _Tally]] = {tid: {} for tid in context.months}
    for row in db.session.execute(select(*columns).group_by(c.township_id, c.village_id)):
        tally = _Tally(int(row[2]), int(row[3] or 0), int(row[4] or 0), int(row[5] or 0))
        for n, category in enumerate(groups):
            tally.present[category.value] = int(row[6 + 2 * n] or 0)
            tally.absent[category.value] = int(row[7 + 2 * n] or 0)
        tallies[row[0]][row[1]] = tally
    return tallies


def _unit(context: _Month, township_id: int, unit_id: int, name: str, tally, days_key: str):
    days = context.days_by_organiser.get((township_id, unit_id), 0.0)
    required = float(context.thresholds[township_id][days_key] or 0)
    n = tally.learners
    unit = UnitCompliance(
        unit_id=unit_id,
        name=name,
        learners=n,
        behind=tally.behind,
        hours_behind=tally.hours_behind,
        average_hours=round(tally.half_hours / 2 / n, 1) if n else 0,
        study_days=days,
        required_days=required,
        compliant_pct=round(100 * (n - tally.behind) / n, 1) if n else None,
    )
    if days < required:
        unit.shortfalls.append(Shortfall("study_days", required, days, _missing(required, days)))
    return unit


def _reports(
    context: _Month,
    tallies: dict[int, dict[int | None, _Tally]],
    rows_of: dict[int, list[LearnerCompliance]],
) -> dict[int, MonthlyCompliance]:
    reports: dict[int, MonthlyCompliance] = {}
    for tid, (year, month) in context.months.items():
        total = _Tally()
        for tally in tallies[tid].values():
            total.add(tally)
        reports[tid] = MonthlyCompliance(
            township_id=tid,
            year=year,
            month=month,
            thresholds=context.thresholds[tid],
            learners=rows_of.get(tid, []),
            villages=[
                _unit(context, tid, vid, name, tallies[tid].get(vid, _Tally()), P.VILLAGE_DAYS)
                for vid, name in context.villages[tid].items()
            ],
            township=_unit(context, tid, tid, context.township_names[tid], total, P.TOWNSHIP_DAYS),
            participation={
                key: _participation(total.present[key], total.absent[key])
                for key in (
                    LearnerCategory.township_cadre.value,
                    LearnerCategory.party_member.value,
                )
            },
        )
    return reports


def monthly_compliance(
    township_id: int, year: int, month: int, *, learner_id: int | None = None
) -> MonthlyCompliance:
    """The month's compliance per learner, per village and for the township.

    Computed with grouped SQL in three queries whatever the number of learners or logs:
    the villages and the township, the session days per organiser, and the learner rows
    (the sums of their hours, notes, attendance and techniques); the policies in force
    are cached. ``learner_id`` limits the
    learner rows to one learner ("my study record"); the unit figures then concern
    that learner only. See :func:`monthly_compliances` and :func:`compliance_page`.
    """
    return monthly_compliances({township_id: (year, month)}, learner_id=learner_id)[township_id]


def monthly_compliances(
    months: dict[int, tuple[int, int]],
    *,
    learner_id: int | None = None,
    learners: bool = True,
) -> dict[int, MonthlyCompliance]:
    """:func:`monthly_compliance` of several townships at once, each for its own month
    (``{township id: (year, month)}``, e.g. by each township's own today), by township
    id: the same queries, each grouped by township, whatever the number of townships.

    ``learners=False`` (the county's dashboard): the village and township figures only,
    worked out in the database (every learner judged in SQL, counted per village, none
    of them returned), the reports' ``learners`` empty: three queries as well.
    """
    if not months:
        return {}
    context = _month_context(months)
    subquery = _learners_subquery(context, learner_id)
    if not learners:
        return _reports(context, _tallies(context, subquery, _shortfall_sql(context, subquery)), {})
    # every learner row is read anyway: count the units from the judged rows (the same
    # figures as the grouped query, which the tests check) rather than in one more query
    rows_of: dict[int, list[LearnerCompliance]] = {tid: [] for tid in months}
    tallies: dict[int, dict[int | None, _Tally]] = {tid: {} for tid in months}
    for row in db.session.execute(select(subquery).order_by(*_learner_order(subquery))):
        judged = _judge(context, row)
        rows_of[row.township_id].append(judged)
        tallies[row.township_id].setdefault(judged.village_id, _Tally()).count(judged)
    return _reports(context, tallies, rows_of)


def compliance_page(
    township_id: int,
    year: int,
    month: int,
    *,
    page: int,
    per_page: int,
    only_behind: bool = False,
) -> tuple[MonthlyCompliance, list[LearnerCompliance], int]:
    """One page of a township's month for the compliance screen: the report (village and
    township figures of every learner, no learner rows), the page's learner rows (every
    learner, or those behind, in the report's order) and how many rows there are in all.
    Four queries whatever the page or the number of learners."""
    context = _month_context({township_id: (year, month)})
    subquery = _learners_subquery(context, None)
    shortfalls = _shortfall_sql(context, subquery)
    tallies = _tallies(context, subquery, shortfalls)
    report = _reports(context, tallies, {})[township_id]
    total = report.township.behind if only_behind else report.township.learners
    query = select(subquery).order_by(*_learner_order(subquery))
    if only_behind:
        query = query.where(shortfalls["behind"])
    rows = [
        _judge(context, row)
        for row in db.session.execute(query.offset(max(page, 0) * per_page).limit(per_page))
    ]
    return report, rows, total


def learner_of_user(user_id: int, township_ids: set[int] | None = None) -> TrainingLearner | None:
    """The roster entry linked to a staff account (for "my study record")."""
    query = select(TrainingLearner).where(
        TrainingLearner.user_id == user_id, TrainingLearner.active.is_(True)
    )
    if township_ids is not None:
        query = query.where(TrainingLearner.township_id.in_(township_ids))
    return db.session.scalars(query.order_by(TrainingLearner.id)).first()


def yearly_hours(learner_id: int, year: int) -> dict[int, float]:
    """Confirmed class hours of one learner per month of a year, in one grouped query."""
    month = extract("month", TrainingStudyLog.studied_on)
    return {
        int(row[0]): int(row[1] or 0) / 2
        for row in db.session.execute(
            select(month, func.sum(TrainingStudyLog.half_hours))
            .where(
                TrainingStudyLog.learner_id == learner_id,
                TrainingStudyLog.status == LogStatus.confirmed,
                TrainingStudyLog.studied_on >= date(year, 1, 1),
                TrainingStudyLog.studied_on <= date(year, 12, 31),
            )
            .group_by(month)
        )
    }


# ---------------------------------------------------------------------------
# Month-end reminders
# ---------------------------------------------------------------------------


def record_reminders(today: date | None = None) -> int:
    """Record a reminder task for every learner below the hours threshold this month.

    For every township that enabled training: one durable ``training.remind``
    task per learner behind on self-study hours, keyed
    ``training-remind:<township>:<yyyy-mm>:<learner>``, and one
    ``training.remind_officers`` task for the township's training officers, so a
    second run in the same month records nothing new. Returns how many learner
    reminders were recorded this time.
    """
    from core.institutions import townships_enabling
    from core.models import TaskRecord
    from core.tasks import enqueue

    recorded = 0
    for township_id in sorted(townships_enabling("training")):
        day = today or township_today(township_id)
        month = f"{day.year:04d}-{day.month:02d}"
        report = monthly_compliance(township_id, day.year, day.month)
        behind = [(r, r.shortfall("hours")) for r in report.learners if r.shortfall("hours")]
        if not behind:
            continue
        prefix = f"training-remind:{township_id}:{month}:"
        known = set(
            db.session.scalars(select(TaskRecord.key).where(TaskRecord.key.startswith(prefix)))
        )
        for row, gap in behind:
            key = f"{prefix}{row.learner_id}"
            if key in known:
                continue
            enqueue(
                "training.remind",
                key,
                township_id=township_id,
                learner_id=row.learner_id,
                month=month,
                hours=row.hours,
                missing=gap.missing,
            )
            recorded += 1
        enqueue(
            "training.remind_officers",
            f"training-remind-officers:{township_id}:{month}",
            township_id=township_id,
            month=month,
            names=[f"{r.name} (-{g.missing:g})" for r, g in behind],
        )
    db.session.commit()
    return recorded


def training_officers(township_id: int) -> list:
    """Users holding the training officer role in the township or one of its units."""
    from core.models import Membership, User

    return list(
        db.session.scalars(
            select(User)
            .join(Membership, Membership.user_id == User.id)
            .join(OrgUnit, OrgUnit.id == Membership.org_unit_id)
            .where(
                Membership.role == "training_officer",
                OrgUnit.township_id == township_id,
                User.active.is_(True),
            )
        ).unique()
    )
