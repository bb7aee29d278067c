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
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import and_, case, extract, func, or_, select, true

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


def monthly_compliance(
    township_id: int, year: int, month: int, *, learner_id: int | None = None
) -> MonthlyCompliance:
    """The month's compliance per learner, per village and for the township.

    Computed with grouped SQL aggregates in four queries whatever the number of
    learners or logs: the policies in force (cached), the villages and the township,
    the session days per organiser, and one query joining every learner to the sums of
    their confirmed hours and notes, their attendance counts and their techniques.
    ``learner_id`` limits the learner rows to one learner ("my study record");
    the unit figures then concern that learner only. See :func:`monthly_compliances`.
    """
    return monthly_compliances({township_id: (year, month)}, learner_id=learner_id)[township_id]


def monthly_compliances(
    months: dict[int, tuple[int, int]], *, learner_id: int | None = None
) -> dict[int, MonthlyCompliance]:
    """:func:`monthly_compliance` of several townships at once, each for its own month
    (``{township id: (year, month)}``), by township id: the same queries, each grouped
    by township, whatever the number of townships (the policies are cached per township).
    """
    if not months:
        return {}
    bounds = {tid: month_bounds(year, month) for tid, (year, month) in months.items()}
    by_month: dict[tuple[date, date], set[int]] = defaultdict(set)
    for tid, period in bounds.items():
        by_month[period].add(tid)

    def in_month(township_column, day_column, *, since_first: bool = True):
        """SQL: the row's day lies in its township's month (``since_first=False``: on or
        before the month's last day)."""
        return or_(
            *(
                and_(
                    township_column.in_(group),
                    day_column >= first if since_first else true(),
                    day_column <= last,
                )
                for (first, last), group in by_month.items()
            )
        )

    thresholds: dict[int, dict[str, Any]] = {}
    for tid in months:
        values = policies_for(tid)
        thresholds[tid] = {
            key: values.get(key)
            for key in (
                P.TOWNSHIP_DAYS,
                P.VILLAGE_DAYS,
                P.SELF_STUDY_HOURS,
                P.TOWNSHIP_CADRE_PARTICIPATION,
                P.PARTY_MEMBER_PARTICIPATION,
                P.CADRE_TECHNIQUES,
                P.CADRE_NOTE_CHARS,
                P.PARTY_MEMBER_NOTE_CHARS,
            )
        }

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
    days_by_organiser = {
        (row[0], row[1]): int(row[2] or 0) / 2
        for row in db.session.execute(
            select(
                TrainingSession.township_id,
                TrainingSession.organiser_id,
                func.sum(TrainingSession.half_days),
            )
            .where(in_month(TrainingSession.township_id, TrainingSession.held_on))
            .group_by(TrainingSession.township_id, TrainingSession.organiser_id)
        )
    }

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
            TrainingLearner.township_id,
            TrainingLearner.id,
            Person.name,
            TrainingLearner.category,
            TrainingLearner.village_id,
            TrainingLearner.education,
            TrainingLearner.joined_on,
            TrainingLearner.user_id,
            func.coalesce(study.c.half_hours, 0),
            func.coalesce(study.c.note_chars, 0),
            func.coalesce(attendance.c.present, 0),
            func.coalesce(attendance.c.absent, 0),
            func.coalesce(attendance.c.excused, 0),
            func.coalesce(techniques.c.techniques, 0),
        )
        .join(Person, Person.id == TrainingLearner.person_id)
        .outerjoin(study, _of_learner(study))
        .outerjoin(attendance, _of_learner(attendance))
        .outerjoin(techniques, _of_learner(techniques))
        .where(
            in_month(TrainingLearner.township_id, TrainingLearner.joined_on, since_first=False),
            TrainingLearner.active.is_(True),
        )
        .order_by(
            TrainingLearner.village_id.is_(None).desc(),
            TrainingLearner.village_id,
            Person.name,
            TrainingLearner.id,
        )
    )
    if learner_id is not None:
        query = query.where(TrainingLearner.id == learner_id)

    rows_of: dict[int, list[LearnerCompliance]] = {tid: [] for tid in months}
    for (
        tid,
        lid,
        name,
        category,
        village_id,
        education,
        joined_on,
        user_id,
        half_hours,
        note_chars,
        present,
        absent,
        excused,
        mastered,
    ) in db.session.execute(query):
        first, last = bounds[tid]
        days_in_month = (last - first).days + 1
        limits = thresholds[tid]
        hours_min = limits[P.SELF_STUDY_HOURS]
        category = LearnerCategory(category)
        on_roster = (last - max(joined_on, first)).days + 1
        share = on_roster / days_in_month
        row = LearnerCompliance(
            learner_id=lid,
            name=name,
            category=category.value,
            village_id=village_id,
            village_name=villages[tid].get(village_id, "") if village_id else "",
            joined_on=joined_on,
            user_id=user_id,
            hours=int(half_hours) / 2,
            required_hours=math.ceil(float(hours_min or 0) * share * 2 - 1e-9) / 2,
            note_chars=int(note_chars),
            required_note_chars=None,
            present=int(present),
            absent=int(absent),
            excused=int(excused),
            participation=None,
            required_participation=None,
            techniques=int(mastered),
            required_techniques=None,
        )
        if row.hours < row.required_hours:
            row.shortfalls.append(
                Shortfall(
                    "hours", row.required_hours, row.hours, _missing(row.required_hours, row.hours)
                )
            )
        counted = row.present + row.absent
        if counted:
            row.participation = round(100 * row.present / counted, 1)
        if category == LearnerCategory.township_cadre:
            row.required_participation = limits[P.TOWNSHIP_CADRE_PARTICIPATION]
        elif category == LearnerCategory.party_member:
            row.required_participation = limits[P.PARTY_MEMBER_PARTICIPATION]
        if (
            row.participation is not None
            and row.required_participation is not None
            and row.participation < row.required_participation
        ):
            row.shortfalls.append(
                Shortfall(
                    "participation",
                    row.required_participation,
                    row.participation,
                    _missing(row.required_participation, row.participation),
                )
            )
        if category in CADRES:
            row.required_techniques = limits[P.CADRE_TECHNIQUES]
            notes_min = limits[P.CADRE_NOTE_CHARS]
            notes_key = P.CADRE_NOTE_CHARS
        elif education in JUNIOR_MIDDLE_OR_ABOVE:
            notes_min = limits[P.PARTY_MEMBER_NOTE_CHARS]
            notes_key = P.PARTY_MEMBER_NOTE_CHARS
        else:
            notes_min, notes_key = None, None
        if row.required_techniques is not None and row.techniques < row.required_techniques:
            row.shortfalls.append(
                Shortfall(
                    "techniques",
                    row.required_techniques,
                    row.techniques,
                    row.required_techniques - row.techniques,
                )
            )
        if notes_key is not None and notes_min is None:
            row.not_set.append(notes_key)
        elif notes_min is not None:
            row.required_note_chars = math.ceil(int(notes_min) * share - 1e-9)
            if row.note_chars < row.required_note_chars:
                row.shortfalls.append(
                    Shortfall(
                        "notes",
                        row.required_note_chars,
                        row.note_chars,
                        row.required_note_chars - row.note_chars,
                    )
                )
        rows_of[tid].append(row)

    def _unit(
        township_id: int,
        unit_id: int,
        name: str,
        members: list[LearnerCompliance],
        days_key: str,
    ):
        days = days_by_organiser.get((township_id, unit_id), 0.0)
        required = float(thresholds[township_id][days_key] or 0)
        unit = UnitCompliance(
            unit_id=unit_id,
            name=name,
            learners=len(members),
            behind=sum(1 for m in members if m.behind),
            hours_behind=sum(1 for m in members if m.shortfall("hours")),
            average_hours=round(sum(m.hours for m in members) / len(members), 1) if members else 0,
            study_days=days,
            required_days=required,
            compliant_pct=(
                round(100 * sum(1 for m in members if not m.behind) / len(members), 1)
                if members
                else None
            ),
        )
        if days < required:
            unit.shortfalls.append(
                Shortfall("study_days", required, days, _missing(required, days))
            )
        return unit

    def _group_rate(rows: list[LearnerCompliance], category: LearnerCategory) -> float | None:
        present = sum(r.present for r in rows if r.category == category)
        counted = present + sum(r.absent for r in rows if r.category == category)
        return round(100 * present / counted, 1) if counted else None

    reports: dict[int, MonthlyCompliance] = {}
    for tid, (year, month) in months.items():
        rows = rows_of[tid]
        by_village: dict[int, list[LearnerCompliance]] = defaultdict(list)
        for row in rows:
            if row.village_id is not None:
                by_village[row.village_id].append(row)
        reports[tid] = MonthlyCompliance(
            township_id=tid,
            year=year,
            month=month,
            thresholds=thresholds[tid],
            learners=rows,
            villages=[
                _unit(tid, vid, name, by_village.get(vid, []), P.VILLAGE_DAYS)
                for vid, name in villages[tid].items()
            ],
            township=_unit(tid, tid, township_names[tid], rows, P.TOWNSHIP_DAYS),
            participation={
                LearnerCategory.township_cadre.value: _group_rate(
                    rows, LearnerCategory.township_cadre
                ),
                LearnerCategory.party_member.value: _group_rate(rows, LearnerCategory.party_member),
            },
        )
    return reports


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
