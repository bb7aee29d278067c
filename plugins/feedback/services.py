"""The rules of information feedback (信息反馈制度) as functions over the session.

**Duty reports (值班报告).** The person on duty (the core's rota: the duty phone 值班电话,
or the leader in charge 带班领导 on a day without one) reports the letters, visits and
hotline calls received before handing over the next day: the report is due at the time
of policy ``feedback.duty_report_due_time`` (08:30) of the next working day of the
township's calendar. A row per township and duty day is kept from the day the duty
begins (the sweep writes it; the people owing it find it in their inbox); a report
not filed by its time is marked missing once (the durable task
``feedback.duty_report_missing``, keyed by township and duty date), goes to the inbox
of the people on duty and of the office (permission ``feedback.office``), and counts
against the people on duty in their yearly figures.

**Stages.** A township defines its reporting stages (阶段); without any, the quarters
apply. Service team leaders report progress per stage; each village reports at least
``feedback.village_reports_per_stage`` (3) instructive activity reports per stage. A
report counts in the stage its date falls in, so redefining the stages recounts.

**Reports to the office** (情况报告) with attachments (PDF, JPEG, PNG, Word or Excel files,
the type found from the file's signature, at most 5 MB each) and the office's
acknowledgement; and the **monthly digest** for the leadership.

Each service checks everything first and raises :class:`FeedbackError` (its ``problems``
are messages for the person) before writing anything.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.exc import IntegrityError

from core import clock, duty
from core.access import can, users_with
from core.calendar import WorkingCalendar
from core.db import db, utcnow
from core.inbox import announce
from core.labels import shorten
from core.links import link
from core.models import Case, CaseStatus, InstitutionSetting, OrgUnit, UnitKind, User
from core.models.duty import DutyPost
from core.policies import get_policy
from core.validation import InvalidInput, check_date, check_range, earliest_date, fits
from plugins.feedback.models import (
    MISSED_STATUSES,
    OPEN_STATUSES,
    DutyReportStatus,
    FeedbackAttachment,
    FeedbackDutyPerson,
    FeedbackDutyReport,
    FeedbackOfficeReport,
    FeedbackStage,
    FeedbackStageReport,
    ReportCategory,
    ReporterRole,
    StageReportKind,
)
from plugins.feedback.policy import DUE_TIME, KEY, VILLAGE_REPORTS, time_of

READ = "feedback.read"
REPORT = "feedback.report"
OFFICE = "feedback.office"
DIGEST = "feedback.digest"

INBOX_TO_FILE = "feedback.duty_report"
INBOX_MISSING = "feedback.duty_report_missing"
INBOX_TO_ACKNOWLEDGE = "feedback.office_report"
DUTY_ENDPOINT = "feedback_duty_reports.details_view"
REPORT_ENDPOINT = "feedback_reports.details_view"
DIGEST_ENDPOINT = "feedback_digest.index"

#: the posts whose people owe the duty report, in order: the first post with someone on
#: duty that day owes it (the duty phone; on a day without one, the leader in charge)
REPORTING_POSTS = (DutyPost.hotline, DutyPost.duty_leader)
#: how many duty days back the sweep writes missing rows (after a stop, say)
LOOKBACK_DAYS = 7
#: the most letters, visits or calls one duty day can report (catches typing mistakes)
MAX_COUNT = 9999

#: attachments: at most this many per report, each at most this large
MAX_ATTACHMENTS = 5
MAX_ATTACHMENT_BYTES = 5 * 1024 * 1024
#: declared extension → (media type, file signature) of the accepted attachment types
ATTACHMENT_TYPES = {
    "pdf": ("application/pdf", b"%PDF-"),
    "jpg": ("image/jpeg", b"\xff\xd8\xff"),
    "jpeg": ("image/jpeg", b"\xff\xd8\xff"),
    "png": ("image/png", b"\x89PNG\r\n\x1a\n"),
    "docx": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        b"PK\x03\x04",
    ),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", b"PK\x03\x04"),
}
#: the part an Office Open XML file of each kind must contain
OOXML_PARTS = {"docx": "word/document.xml", "xlsx": "xl/workbook.xml"}


class FeedbackError(ValueError):
    """Something that cannot be recorded; ``problems`` are the messages."""

    def __init__(self, problems: list[str] | str):
        self.problems = [str(p) for p in ([problems] if isinstance(problems, str) else problems)]
        super().__init__(" ".join(self.problems))


def _default_locale():
    return force_locale(current_app.config["DEFAULT_LOCALE"])


def _text(value: str | None, column, label: str, problems: list[str], *, required=True) -> str:
    text = (value or "").strip()
    if not text:
        if required:
            problems.append(_("%(field)s is required.", field=label))
        return text
    try:
        fits(text, column, label=label)
    except InvalidInput as exc:
        problems.append(str(exc))
    return text


# ---------------------------------------------------------------------------
# Duty reports
# ---------------------------------------------------------------------------


def owing(day: duty.DutyDay) -> list[User]:
    """Who owes the duty report of ``day``: the people of the first reporting post with
    someone on duty (the duty phone, else the leader in charge); nobody on an empty day."""
    for post in REPORTING_POSTS:
        entries = day.on(post)
        if entries:
            return [e.user for e in entries]
    return []


def due_time(township_id: int, duty_date: date) -> tuple[datetime, date]:
    """When the report of ``duty_date`` is due: the policy's time (08:30) of the next
    working day after it (UTC instant, and that day in the township)."""
    calendar = WorkingCalendar.for_township(township_id)
    day = calendar.next_workday(duty_date + timedelta(days=1))
    at = time_of(get_policy(township_id, DUE_TIME))
    local = datetime.combine(day, at, tzinfo=clock.zone(township_id))
    return local.astimezone(UTC), day


def enabled_since(township_id: int) -> date | None:
    """The township's date when it (last) switched the institution on."""
    at = db.session.scalar(
        select(InstitutionSetting.changed_at).where(
            InstitutionSetting.township_id == township_id,
            InstitutionSetting.plugin_key == KEY,
            InstitutionSetting.enabled.is_(True),
        )
    )
    return clock.local(at, township_id).date() if at is not None else None


def _names(users: list[User]) -> str:
    return shorten("、".join(u.name for u in users), 200)[0]


def _tell_to_file(report: FeedbackDutyReport, users: list[User]) -> None:
    with _default_locale():
        title = _(
            "Duty report of %(day)s: due by %(due)s",
            day=report.duty_date.isoformat(),
            due=clock.format_datetime(report.due_at, report.township_id),
        )
    announce(
        users,
        INBOX_TO_FILE,
        report.id,
        shorten(title, 190)[0],
        township_id=report.township_id,
        link=link(DUTY_ENDPOINT, id=report.id),
    )


def _set_persons(report: FeedbackDutyReport, users: list[User], *, tell: bool) -> None:
    """Make ``users`` the people owing the report (the rota changed: a swap, a one-off
    change); newcomers are told when ``tell``."""
    wanted = {u.id: u for u in users}
    have = {p.user_id for p in report.persons}
    if set(wanted) == have:
        return
    for person in list(report.persons):
        if person.user_id not in wanted:
            report.persons.remove(person)
    for uid, user in wanted.items():
        if uid not in have:
            report.persons.append(
                FeedbackDutyPerson(township_id=report.township_id, user_id=uid, user=user)
            )
    report.on_duty = _names(users)
    db.session.flush()
    if tell:
        _tell_to_file(report, [u for uid, u in wanted.items() if uid not in have])


def _create(township_id: int, day: duty.DutyDay) -> FeedbackDutyReport | None:
    users = owing(day)
    if not users:
        return None
    due_at, due_on = due_time(township_id, day.day)
    report = FeedbackDutyReport(
        township_id=township_id,
        duty_date=day.day,
        due_at=due_at,
        due_on=due_on,
        status=DutyReportStatus.pending,
        on_duty=_names(users),
    )
    try:
        with db.session.begin_nested():
            db.session.add(report)
            db.session.flush()
            for user in users:
                db.session.add(
                    FeedbackDutyPerson(
                        township_id=township_id, report_id=report.id, user_id=user.id
                    )
                )
            db.session.flush()
    except IntegrityError:  # another process wrote the day's row just now
        return db.session.scalar(
            select(FeedbackDutyReport).where(
                FeedbackDutyReport.township_id == township_id,
                FeedbackDutyReport.duty_date == day.day,
            )
        )
    db.session.refresh(report)
    _tell_to_file(report, users)
    return report


def ensure_reports(township_id: int, until: date | None = None) -> list[FeedbackDutyReport]:
    """The duty reports from ``until`` (default: the duty day running now) back over
    :data:`LOOKBACK_DAYS`, never before the day the institution was switched on: written
    for each day someone was on duty; the people of a pending report follow the rota
    (three queries for the rota however many days). The caller commits."""
    current = duty.duty_day(township_id) if until is None else until
    start = current - timedelta(days=LOOKBACK_DAYS)
    since = enabled_since(township_id)
    if since is not None:
        start = max(start, since)
    if start > current:
        return []
    existing = {
        r.duty_date: r
        for r in db.session.scalars(
            select(FeedbackDutyReport).where(
                FeedbackDutyReport.township_id == township_id,
                FeedbackDutyReport.duty_date >= start,
                FeedbackDutyReport.duty_date <= current,
            )
        )
    }
    out = []
    for day in duty.rota(township_id, start, (current - start).days + 1):
        report = existing.get(day.day)
        if report is None:
            report = _create(township_id, day)
        elif report.status == DutyReportStatus.pending:
            users = owing(day)
            if users:
                _set_persons(report, users, tell=True)
        if report is not None:
            out.append(report)
    return out


def report_for(township_id: int, duty_date: date) -> FeedbackDutyReport | None:
    """The duty report of a day, written now if someone was on duty then (commits)."""
    report = db.session.scalar(
        select(FeedbackDutyReport).where(
            FeedbackDutyReport.township_id == township_id, FeedbackDutyReport.duty_date == duty_date
        )
    )
    if report is None:
        report = _create(township_id, duty.rota(township_id, duty_date, 1)[0])
        db.session.commit()
    return report


def sweep(township_ids: set[int]) -> int:
    """The duty report sweep (job ``feedback.duty_report_sweep``): write the rows of the
    duty days begun, then record one durable ``feedback.duty_report_missing`` task per
    township and duty date whose report is past its time: however often it runs, a
    report is found missing once. Returns how many tasks it recorded (new or not)."""
    from core.tasks import enqueue

    now = utcnow()
    count = 0
    for tid in sorted(township_ids):
        ensure_reports(tid)
        for day in db.session.scalars(
            select(FeedbackDutyReport.duty_date).where(
                FeedbackDutyReport.township_id == tid,
                FeedbackDutyReport.status == DutyReportStatus.pending,
                FeedbackDutyReport.due_at <= now,
            )
        ):
            enqueue(
                "feedback.duty_report_missing",
                f"feedback.duty_report_missing:{tid}:{day.isoformat()}",
                township_id=tid,
                duty_date=day.isoformat(),
            )
            count += 1
    db.session.commit()
    return count


def mark_missing(township_id: int, duty_date: str) -> bool:
    """The report of ``duty_date`` was not filed by its time: mark it missing, and tell the
    people on duty (as the rota says now) and the office, once. Durable task: writes to
    the session only. False when there is nothing to do (filed meanwhile, not yet due)."""
    report = db.session.scalar(
        select(FeedbackDutyReport).where(
            FeedbackDutyReport.township_id == township_id,
            FeedbackDutyReport.duty_date == date.fromisoformat(duty_date),
        )
    )
    if report is None or report.status != DutyReportStatus.pending or report.due_at > utcnow():
        return False
    users = owing(duty.rota(township_id, report.duty_date, 1)[0])
    if users:
        _set_persons(report, users, tell=False)
    report.status = DutyReportStatus.missing
    report.missed_at = utcnow()
    persons = [p.user for p in report.persons]
    office = users_with(OFFICE, township_id)
    with _default_locale():
        title = _(
            "Duty report of %(day)s not filed (due %(due)s): %(names)s",
            day=report.duty_date.isoformat(),
            due=clock.format_datetime(report.due_at, township_id),
            names=report.on_duty,
        )
    announce(
        persons + office,
        INBOX_MISSING,
        report.id,
        shorten(title, 190)[0],
        township_id=township_id,
        link=link(DUTY_ENDPOINT, id=report.id),
    )
    db.session.flush()
    return True


def may_file(report: FeedbackDutyReport, user: User) -> bool:
    """The people on duty file their report; the office may file it on their behalf."""
    return any(p.user_id == user.id for p in report.persons) or can(
        user, OFFICE, report.township_id
    )


def _count(raw, label: str, problems: list[str]) -> int | None:
    text = str(raw if raw is not None else "").strip()
    if not text:
        problems.append(_("%(field)s is required (0 if none).", field=label))
        return None
    if not text.isascii() or not text.isdigit():
        problems.append(_("%(field)s must be a whole number.", field=label))
        return None
    value = int(text)
    if value > MAX_COUNT:
        problems.append(_("%(field)s cannot be more than %(n)s.", field=label, n=MAX_COUNT))
        return None
    return value


def file_report(
    report: FeedbackDutyReport,
    *,
    by: User,
    letters,
    visits,
    calls,
    summary: str = "",
    follow_up: str = "",
) -> FeedbackDutyReport:
    """File the duty report: the letters, visits and hotline calls received, what they
    were about, and what needs following up. On time until the hand-over time, late
    afterwards (a missing report stays counted against the people on duty). Commits."""
    if not may_file(report, by):
        raise FeedbackError(_("Only the people on duty that day (or the office) file it."))
    if report.status not in OPEN_STATUSES:
        raise FeedbackError(_("This duty report was filed already."))
    problems: list[str] = []
    values = {
        "letters": _count(letters, _("Letters received"), problems),
        "visits": _count(visits, _("Visits received"), problems),
        "calls": _count(calls, _("Hotline calls received"), problems),
    }
    quiet = not problems and not any(values.values())
    values["summary"] = _text(
        summary, FeedbackDutyReport.summary, _("What they were about"), problems, required=not quiet
    )
    values["follow_up"] = _text(
        follow_up, FeedbackDutyReport.follow_up, _("To be followed up"), problems, required=False
    )
    if problems:
        raise FeedbackError(problems)
    if not values["summary"]:
        with _default_locale():
            values["summary"] = _("Nothing received.")
    now = utcnow()
    for key, value in values.items():
        setattr(report, key, value)
    report.filed_at = now
    report.filed_by_id = by.id
    report.status = (
        DutyReportStatus.filed
        if report.status == DutyReportStatus.pending and now <= _aware(report.due_at)
        else DutyReportStatus.late
    )
    db.session.commit()
    return report


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def duty_year_figures(township: OrgUnit, year: int, user_ids: list[int] | None) -> list:
    """Per person on duty and year (by duty date): duty reports owed (past their time) and
    reports not filed by their time (missing, or filed late; target 0). Two queries."""
    from core.contract import PersonYearFigure

    first, last = date(year, 1, 1), date(year, 12, 31)
    rows = db.session.execute(
        select(
            FeedbackDutyPerson.user_id,
            func.count(FeedbackDutyReport.id),
            func.sum(case((FeedbackDutyReport.status.in_(MISSED_STATUSES), 1), else_=0)),
        )
        .join(FeedbackDutyReport, FeedbackDutyReport.id == FeedbackDutyPerson.report_id)
        .where(
            FeedbackDutyReport.township_id == township.id,
            FeedbackDutyReport.duty_date >= first,
            FeedbackDutyReport.duty_date <= last,
            FeedbackDutyReport.status != DutyReportStatus.pending,
        )
        .group_by(FeedbackDutyPerson.user_id)
    ).all()
    out = []
    for uid, owed, missed in rows:
        if user_ids is not None and uid not in user_ids:
            continue
        missed = int(missed or 0)
        out.append(
            PersonYearFigure(
                "feedback.duty_reports_owed",
                "应报值班报告（份）",
                "Duty reports owed",
                uid,
                year,
                int(owed),
            )
        )
        out.append(
            PersonYearFigure(
                "feedback.duty_reports_missed",
                "未按时报送的值班报告（份）",
                "Duty reports not filed on time",
                uid,
                year,
                missed,
                target=0,
                met=missed == 0,
            )
        )
    return out


def missing_count(township_id: int) -> int:
    return missing_counts([township_id])[township_id]


def missing_counts(township_ids) -> dict[int, int]:
    """The duty reports not filed, per township id (one query whatever their number)."""
    out = dict.fromkeys(township_ids, 0)
    if out:
        out.update(
            db.session.execute(
                select(FeedbackDutyReport.township_id, func.count(FeedbackDutyReport.id))
                .where(
                    FeedbackDutyReport.township_id.in_(list(out)),
                    FeedbackDutyReport.status == DutyReportStatus.missing,
                )
                .group_by(FeedbackDutyReport.township_id)
            ).all()
        )
    return out


# ---------------------------------------------------------------------------
# Stages
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class StagePeriod:
    """A reporting stage: the township's own (``id``) or a default quarter (no ``id``)."""

    name: str
    starts_on: date
    ends_on: date
    id: int | None = None

    @property
    def key(self) -> str:
        return self.starts_on.isoformat()

    def holds(self, day: date) -> bool:
        return self.starts_on <= day <= self.ends_on


def quarters(year: int) -> list[StagePeriod]:
    """The default stages: the four quarters of ``year``."""
    out = []
    for n in range(4):
        start = date(year, 3 * n + 1, 1)
        end = date(year + (n == 3), (3 * n + 4 - 1) % 12 + 1, 1) - timedelta(days=1)
        with _default_locale():
            name = _("%(year)s, quarter %(n)s", year=year, n=n + 1)
        out.append(StagePeriod(name, start, end))
    return out


def defines_stages(township_id: int) -> bool:
    return (
        db.session.scalar(
            select(FeedbackStage.id).where(FeedbackStage.township_id == township_id).limit(1)
        )
        is not None
    )


def stages_between(township_id: int, start: date, end: date) -> list[StagePeriod]:
    """The stages touching ``start``..``end``: the township's own if it defined any, else
    the quarters. One query."""
    rows = db.session.scalars(
        select(FeedbackStage)
        .where(FeedbackStage.township_id == township_id)
        .order_by(FeedbackStage.starts_on)
    ).all()
    return _periods(rows, start, end)


def _periods(rows, start: date, end: date) -> list[StagePeriod]:
    """The stages touching ``start``..``end``: among ``rows`` (a township's own stages, by
    first day) if there are any, else the quarters."""
    if rows:
        return [
            StagePeriod(r.name, r.starts_on, r.ends_on, r.id)
            for r in rows
            if r.starts_on <= end and r.ends_on >= start
        ]
    return [
        q
        for y in range(start.year, end.year + 1)
        for q in quarters(y)
        if q.starts_on <= end and q.ends_on >= start
    ]


def stage_on(township_id: int, day: date) -> StagePeriod | None:
    """The stage ``day`` falls in (None when the township's stages leave it out)."""
    return stages_on({township_id: day})[township_id]


def stages_on(days: dict[int, date]) -> dict[int, StagePeriod | None]:
    """Per township (``{township id: a day}``): the stage its day falls in (None when the
    township's stages leave it out). One query whatever the number of townships."""
    own: dict[int, list[FeedbackStage]] = {tid: [] for tid in days}
    if own:
        for row in db.session.scalars(
            select(FeedbackStage)
            .where(FeedbackStage.township_id.in_(list(own)))
            .order_by(FeedbackStage.township_id, FeedbackStage.starts_on)
        ):
            own[row.township_id].append(row)
    out: dict[int, StagePeriod | None] = {}
    for tid, day in days.items():
        found = _periods(own[tid], day, day)
        out[tid] = found[0] if found else None
    return out


def stage_choices(township_id: int) -> list[StagePeriod]:
    """The stages to choose from: the township's own, or this year's and last year's
    quarters, latest first."""
    today = clock.today(township_id)
    if defines_stages(township_id):
        return list(reversed(stages_between(township_id, date(1, 1, 1), date(9999, 12, 31))))
    return list(reversed(quarters(today.year - 1) + quarters(today.year)))


def check_stage(township_id: int, name: str, starts_on, ends_on, *, stage_id=None) -> dict:
    """A stage's values checked (a name, dates in range, the end after the start, no
    overlap with another stage of the township); :class:`FeedbackError` otherwise."""
    problems: list[str] = []
    name = _text(name, FeedbackStage.name, _("The name"), problems)
    for label, value in ((_("The first day"), starts_on), (_("The last day"), ends_on)):
        if value is None:
            problems.append(_("%(field)s is required.", field=label))
        else:
            try:
                check_date(value, township=township_id, label=label)
            except InvalidInput as exc:
                problems.append(str(exc))
    if starts_on and ends_on:
        try:
            check_range(starts_on, ends_on, label=_("The last day"))
        except InvalidInput as exc:
            problems.append(str(exc))
        else:
            clash = db.session.scalar(
                select(FeedbackStage).where(
                    FeedbackStage.township_id == township_id,
                    FeedbackStage.id != (stage_id or 0),
                    FeedbackStage.starts_on <= ends_on,
                    FeedbackStage.ends_on >= starts_on,
                )
            )
            if clash is not None:
                problems.append(
                    _(
                        "The stage overlaps %(name)s (%(start)s to %(end)s).",
                        name=clash.name,
                        start=clash.starts_on.isoformat(),
                        end=clash.ends_on.isoformat(),
                    )
                )
    if problems:
        raise FeedbackError(problems)
    return {"name": name, "starts_on": starts_on, "ends_on": ends_on}


def fill_quarters(township_id: int, year: int) -> int:
    """Write ``year``'s quarters as the township's own stages (to edit them); quarters that
    would overlap an existing stage are left out. Returns how many were written. Commits."""
    if year < earliest_date().year or year > clock.today(township_id).year + 5:
        raise FeedbackError(
            _(
                "Choose a year between %(a)s and %(b)s.",
                a=earliest_date().year,
                b=clock.today(township_id).year + 5,
            )
        )
    written = 0
    for quarter in quarters(year):
        try:
            check_stage(township_id, quarter.name, quarter.starts_on, quarter.ends_on)
        except FeedbackError:
            continue
        db.session.add(
            FeedbackStage(
                township_id=township_id,
                name=quarter.name,
                starts_on=quarter.starts_on,
                ends_on=quarter.ends_on,
            )
        )
        db.session.flush()
        written += 1
    db.session.commit()
    return written


def villages(township_id: int) -> list[OrgUnit]:
    return list(
        db.session.scalars(
            select(OrgUnit)
            .where(OrgUnit.township_id == township_id, OrgUnit.kind == UnitKind.village)
            .order_by(OrgUnit.name, OrgUnit.id)
        )
    )


@dataclass
class StageReportInput:
    kind: str | StageReportKind | None = None
    village_id: int | None = None
    team: str = ""
    title: str = ""
    body: str = ""
    reported_on: date | None = None
    bad_date: str | None = None


def add_stage_report(township: OrgUnit, data: StageReportInput, *, by: User) -> FeedbackStageReport:
    """Record a stage report: a service team's progress (the team named) or a village's
    instructive activity report (a village of the township). Its date must lie in one
    of the township's stages. Commits."""
    tid = township.id
    if not can(by, REPORT, tid):
        raise FeedbackError(_("You may not file reports in this township."))
    problems: list[str] = []
    try:
        kind = StageReportKind(data.kind)
    except ValueError:
        problems.append(_("Choose what the report is."))
        kind = None
    village = None
    team = (data.team or "").strip()
    if kind == StageReportKind.village_activity:
        village = db.session.get(OrgUnit, data.village_id) if data.village_id else None
        if village is None or village.kind != UnitKind.village or village.township_id != tid:
            problems.append(_("Choose the village reporting."))
            village = None
        team = ""
    elif kind == StageReportKind.team_progress:
        team = _text(team, FeedbackStageReport.team, _("The service team"), problems)
    title = _text(data.title, FeedbackStageReport.title, _("The title"), problems)
    body = _text(data.body, FeedbackStageReport.body, _("The report text"), problems)
    if data.bad_date is not None:
        problems.append(_("Give the date as YYYY-MM-DD."))
    reported_on = data.reported_on or clock.today(tid)
    try:
        check_date(reported_on, township=tid, past=True, label=_("The date"))
    except InvalidInput as exc:
        problems.append(str(exc))
    else:
        if stage_on(tid, reported_on) is None:
            problems.append(
                _(
                    "No stage of the township covers %(day)s; define the stage first.",
                    day=reported_on.isoformat(),
                )
            )
    if problems:
        raise FeedbackError(problems)
    report = FeedbackStageReport(
        township_id=tid,
        kind=kind,
        village_id=village.id if village else None,
        team=team,
        title=title,
        body=body,
        reported_on=reported_on,
        reported_by_id=by.id,
    )
    db.session.add(report)
    db.session.commit()
    return report


@dataclass(frozen=True)
class VillageCompliance:
    village_id: int
    name: str
    reports: int
    required: int

    @property
    def behind(self) -> bool:
        return self.reports < self.required

    @property
    def missing(self) -> int:
        return max(0, self.required - self.reports)


def village_compliance(township_id: int, stage: StagePeriod) -> list[VillageCompliance]:
    """Per village of the township: its instructive activity reports in ``stage`` against
    the policy (3); behind when fewer. One query (plus the cached policy)."""
    return village_compliance_by_township({township_id: stage})[township_id]


def village_compliance_by_township(
    stages: dict[int, StagePeriod],
) -> dict[int, list[VillageCompliance]]:
    """Per township (``{township id: stage}``) and village: its instructive activity
    reports in the township's stage against the township's policy (3); behind when fewer.
    One query whatever the number of townships (plus the cached policies)."""
    out: dict[int, list[VillageCompliance]] = {tid: [] for tid in stages}
    if not out:
        return out
    required = {tid: int(get_policy(tid, VILLAGE_REPORTS)) for tid in stages}
    periods: dict[tuple[date, date], list[int]] = {}
    for tid, stage in stages.items():
        periods.setdefault((stage.starts_on, stage.ends_on), []).append(tid)
    report = FeedbackStageReport
    counted = (
        select(report.township_id, report.village_id, func.count(report.id).label("n"))
        .where(
            report.kind == StageReportKind.village_activity,
            or_(
                *(
                    and_(
                        report.township_id.in_(ids),
                        report.reported_on >= starts_on,
                        report.reported_on <= ends_on,
                    )
                    for (starts_on, ends_on), ids in periods.items()
                )
            ),
        )
        .group_by(report.township_id, report.village_id)
        .subquery()
    )
    rows = db.session.execute(
        select(OrgUnit.township_id, OrgUnit.id, OrgUnit.name, func.coalesce(counted.c.n, 0))
        .outerjoin(
            counted,
            and_(
                counted.c.village_id == OrgUnit.id,
                counted.c.township_id == OrgUnit.township_id,
            ),
        )
        .where(OrgUnit.township_id.in_(list(out)), OrgUnit.kind == UnitKind.village)
        .order_by(OrgUnit.township_id, OrgUnit.name, OrgUnit.id)
    ).all()
    for tid, vid, name, n in rows:
        out[tid].append(VillageCompliance(vid, name, int(n), required[tid]))
    return out


@dataclass(frozen=True)
class TeamProgress:
    team: str
    reports: int
    last_on: date


def team_progress(township_id: int, stage: StagePeriod) -> list[TeamProgress]:
    """The service teams that reported progress in ``stage``: how many reports, the last."""
    rows = db.session.execute(
        select(
            FeedbackStageReport.team,
            func.count(FeedbackStageReport.id),
            func.max(FeedbackStageReport.reported_on),
        )
        .where(
            FeedbackStageReport.township_id == township_id,
            FeedbackStageReport.kind == StageReportKind.team_progress,
            FeedbackStageReport.reported_on >= stage.starts_on,
            FeedbackStageReport.reported_on <= stage.ends_on,
        )
        .group_by(FeedbackStageReport.team)
        .order_by(FeedbackStageReport.team)
    ).all()
    return [TeamProgress(team, int(n), last) for team, n, last in rows]


def compliance_xlsx(township: OrgUnit, stage: StagePeriod) -> bytes:
    """The stage's compliance as XLSX: villages (reports, required, behind by) and the
    service teams' progress reports; a bold frozen header, cells never formulas."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    from core.labels import display
    from core.spreadsheets import safe_row

    book = Workbook()
    sheet = book.active
    sheet.title = _("Villages")[:31]
    sheet.append(safe_row([_("Township"), township.name]))
    sheet.append(
        safe_row([_("Stage"), stage.name, stage.starts_on.isoformat(), stage.ends_on.isoformat()])
    )
    header = [
        _("Village"),
        _("Activity reports"),
        _("Reports required"),
        _("Behind"),
        _("Reports still missing"),
    ]
    sheet.append(safe_row(header))
    for cell in sheet[3]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A4"
    for row in village_compliance(township.id, stage):
        sheet.append(
            safe_row([row.name, row.reports, row.required, display(row.behind), row.missing])
        )
    teams = book.create_sheet(_("Service teams")[:31])
    teams.append(safe_row([_("Service team"), _("Progress reports"), _("Last report")]))
    for cell in teams[1]:
        cell.font = Font(bold=True)
    teams.freeze_panes = "A2"
    for row in team_progress(township.id, stage):
        teams.append(safe_row([row.team, row.reports, row.last_on.isoformat()]))
    for ws in (sheet, teams):
        for column in ws.columns:
            width = max(len(str(c.value or "")) for c in column)
            ws.column_dimensions[column[0].column_letter].width = min(60, max(10, width * 2 + 2))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# ---------------------------------------------------------------------------
# Reports to the office
# ---------------------------------------------------------------------------


@dataclass
class Upload:
    filename: str
    data: bytes


def check_attachment(upload: Upload) -> tuple[str, str]:
    """(safe file name, media type) of an attachment: a PDF, JPEG, PNG, Word (.docx) or
    Excel (.xlsx) file whose name, signature and (for Office files) contents agree, at
    most :data:`MAX_ATTACHMENT_BYTES`; :class:`FeedbackError` with the reason otherwise."""
    name = (upload.filename or "").replace("\\", "/").rsplit("/", 1)[-1].strip() or "file"
    if len(name) > 200:
        name = name[-200:]
    data = upload.data or b""
    if not data:
        raise FeedbackError(_("%(name)s is empty.", name=name))
    if len(data) > MAX_ATTACHMENT_BYTES:
        raise FeedbackError(
            _(
                "%(name)s is larger than %(mb)s MB.",
                name=name,
                mb=MAX_ATTACHMENT_BYTES // (1024 * 1024),
            )
        )
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    kind = ATTACHMENT_TYPES.get(extension)
    if kind is None or not data.startswith(kind[1]):
        raise FeedbackError(
            _(
                "%(name)s is not a PDF, JPEG, PNG, Word (.docx) or Excel (.xlsx) file.",
                name=name,
            )
        )
    if extension in OOXML_PARTS:
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                ok = OOXML_PARTS[extension] in archive.namelist()
        except zipfile.BadZipFile:
            ok = False
        if not ok:
            raise FeedbackError(
                _(
                    "%(name)s is not a PDF, JPEG, PNG, Word (.docx) or Excel (.xlsx) file.",
                    name=name,
                )
            )
    return name, kind[0]


@dataclass
class ReportInput:
    reporter_role: str | ReporterRole | None = None
    category: str | ReportCategory | None = None
    title: str = ""
    body: str = ""
    uploads: list[Upload] = field(default_factory=list)


def submit_report(township: OrgUnit, data: ReportInput, *, by: User) -> FeedbackOfficeReport:
    """A report to the office: who reports (leader, cadre, mediation group, unit head),
    its category, title, text and attachments; every problem at once, nothing written
    unless all is well. The office (``feedback.office``) finds it in its inbox. Commits."""
    tid = township.id
    if not can(by, REPORT, tid):
        raise FeedbackError(_("You may not file reports in this township."))
    problems: list[str] = []
    try:
        role = ReporterRole(data.reporter_role)
    except ValueError:
        problems.append(_("Say who reports."))
        role = None
    try:
        category = ReportCategory(data.category)
    except ValueError:
        problems.append(_("Choose a category."))
        category = None
    title = _text(data.title, FeedbackOfficeReport.title, _("The title"), problems)
    body = _text(data.body, FeedbackOfficeReport.body, _("The report text"), problems)
    uploads = [u for u in data.uploads if u.filename or u.data]
    files = []
    if len(uploads) > MAX_ATTACHMENTS:
        problems.append(_("At most %(n)s attachments.", n=MAX_ATTACHMENTS))
    else:
        for upload in uploads:
            try:
                name, media = check_attachment(upload)
            except FeedbackError as exc:
                problems.extend(exc.problems)
            else:
                files.append((name, media, upload.data))
    if problems:
        raise FeedbackError(problems)
    report = FeedbackOfficeReport(
        township_id=tid,
        reporter_id=by.id,
        reporter_role=role,
        category=category,
        title=title,
        body=body,
        reported_at=utcnow(),
    )
    db.session.add(report)
    db.session.flush()
    for name, media, content in files:
        db.session.add(
            FeedbackAttachment(
                township_id=tid,
                report_id=report.id,
                filename=name,
                content_type=media,
                size=len(content),
                sha256=hashlib.sha256(content).hexdigest(),
                data=content,
            )
        )
    with _default_locale():
        note = _(
            "Report to the office from %(name)s (%(category)s): %(title)s",
            name=by.name,
            category=category.label,
            title=title,
        )
    announce(
        [u for u in users_with(OFFICE, tid) if u.id != by.id],
        INBOX_TO_ACKNOWLEDGE,
        report.id,
        shorten(note, 190)[0],
        township_id=tid,
        link=link(REPORT_ENDPOINT, id=report.id),
    )
    db.session.commit()
    return report


def acknowledge(report: FeedbackOfficeReport, *, by: User, note: str = "") -> FeedbackOfficeReport:
    """The office acknowledges a report (with a note the reporter reads); the reporter is
    told, and the report with its acknowledgement goes to the archives. Commits."""
    from core.contract import ArchivalRecord
    from core.notifications import notify
    from core.records import produce

    tid = report.township_id
    if not can(by, OFFICE, tid):
        raise FeedbackError(_("Only the office acknowledges reports."))
    if report.acknowledged:
        raise FeedbackError(_("This report was acknowledged already."))
    problems: list[str] = []
    note = _text(note, FeedbackOfficeReport.ack_note, _("The note"), problems, required=False)
    if problems:
        raise FeedbackError(problems)
    report.acknowledged_at = utcnow()
    report.acknowledged_by_id = by.id
    report.ack_note = note
    with _default_locale():
        title = _("The office acknowledged your report: %(title)s", title=report.title)
        kind = _("Report to the office")
        acknowledged = _("Acknowledged by the office")
    notify(
        [report.reporter],
        shorten(title, 190)[0],
        note,
        link=link(REPORT_ENDPOINT, id=report.id),
        key=f"feedback.acknowledged:{report.id}",
        township_id=tid,
    )
    produce(
        db.session.get(OrgUnit, tid),
        ArchivalRecord(
            source=KEY,
            reference=f"office-report:{report.id}",
            kind=kind,
            title=report.title,
            produced_at=report.acknowledged_at,
            summary=shorten(report.body, 200)[0],
            url=link(REPORT_ENDPOINT, id=report.id),
            responsible=report.reporter.name,
            class_hint="WS",
            retention_hint="10y",
            content=_record_html(report),
            trail=(
                {
                    "at": report.reported_at.isoformat(),
                    "who": report.reporter.name,
                    "what": kind,
                },
                {
                    "at": report.acknowledged_at.isoformat(),
                    "who": by.name,
                    "what": acknowledged,
                    "note": note,
                },
            ),
        ),
    )
    db.session.commit()
    return report


def _record_html(report: FeedbackOfficeReport) -> str:
    from markupsafe import Markup

    return str(
        Markup("<h1>{}</h1><p>{} · {} · {}</p><div>{}</div><p>{}</p>").format(
            report.title,
            report.reporter.name,
            report.reporter_role.label,
            report.category.label,
            report.body,
            report.ack_note,
        )
    )


def unacknowledged_count(township_id: int) -> int:
    return unacknowledged_counts([township_id])[township_id]


def unacknowledged_counts(township_ids) -> dict[int, int]:
    """The reports to the office not acknowledged, per township id (one query whatever
    their number)."""
    out = dict.fromkeys(township_ids, 0)
    if out:
        out.update(
            db.session.execute(
                select(FeedbackOfficeReport.township_id, func.count(FeedbackOfficeReport.id))
                .where(
                    FeedbackOfficeReport.township_id.in_(list(out)),
                    FeedbackOfficeReport.acknowledged_at.is_(None),
                )
                .group_by(FeedbackOfficeReport.township_id)
            ).all()
        )
    return out


# ---------------------------------------------------------------------------
# The monthly digest for the leadership
# ---------------------------------------------------------------------------


@dataclass
class Digest:
    township: OrgUnit
    year: int
    month: int
    #: from the duty reports of the month: letters, visits and hotline calls
    letters: int = 0
    visits: int = 0
    calls: int = 0
    duty_filed: int = 0
    duty_late: int = 0
    duty_missing: int = 0
    #: reports to the office this month, per category (label, count)
    by_category: list[tuple[str, int]] = field(default_factory=list)
    stage_reports: int = 0
    #: open now
    reports_unacknowledged: int = 0
    duty_reports_missing: int = 0
    cases_open: int = 0
    cases_overdue: int = 0
    stage: StagePeriod | None = None
    villages_behind: list[VillageCompliance] = field(default_factory=list)

    @property
    def month_value(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


def month_bounds(year: int, month: int) -> tuple[date, date]:
    first = date(year, month, 1)
    after = date(year + (month == 12), month % 12 + 1, 1)
    return first, after - timedelta(days=1)


def digest(township: OrgUnit, year: int, month: int) -> Digest:
    """What came in during the month by channel (letters, visits, calls from the duty
    reports; reports to the office by category; stage reports), what is open now
    (reports not acknowledged, duty reports missing, open and overdue cases), and the
    villages behind on activity reports in the stage the month ends in."""
    tid = township.id
    first, last = month_bounds(year, month)
    out = Digest(township, year, month)
    totals = db.session.execute(
        select(
            func.coalesce(func.sum(FeedbackDutyReport.letters), 0),
            func.coalesce(func.sum(FeedbackDutyReport.visits), 0),
            func.coalesce(func.sum(FeedbackDutyReport.calls), 0),
            func.sum(case((FeedbackDutyReport.status == DutyReportStatus.filed, 1), else_=0)),
            func.sum(case((FeedbackDutyReport.status == DutyReportStatus.late, 1), else_=0)),
            func.sum(case((FeedbackDutyReport.status == DutyReportStatus.missing, 1), else_=0)),
        ).where(
            FeedbackDutyReport.township_id == tid,
            FeedbackDutyReport.duty_date >= first,
            FeedbackDutyReport.duty_date <= last,
        )
    ).one()
    out.letters, out.visits, out.calls = (int(v or 0) for v in totals[:3])
    out.duty_filed, out.duty_late, out.duty_missing = (int(v or 0) for v in totals[3:])
    zone = clock.zone(tid)
    start_at = datetime.combine(first, datetime.min.time(), tzinfo=zone).astimezone(UTC)
    end_at = datetime.combine(last + timedelta(days=1), datetime.min.time(), tzinfo=zone)
    counts = dict(
        db.session.execute(
            select(FeedbackOfficeReport.category, func.count(FeedbackOfficeReport.id))
            .where(
                FeedbackOfficeReport.township_id == tid,
                FeedbackOfficeReport.reported_at >= start_at,
                FeedbackOfficeReport.reported_at < end_at.astimezone(UTC),
            )
            .group_by(FeedbackOfficeReport.category)
        ).all()
    )
    out.by_category = [(c.label, int(counts.get(c, 0))) for c in ReportCategory]
    out.stage_reports = (
        db.session.scalar(
            select(func.count(FeedbackStageReport.id)).where(
                FeedbackStageReport.township_id == tid,
                FeedbackStageReport.reported_on >= first,
                FeedbackStageReport.reported_on <= last,
            )
        )
        or 0
    )
    out.reports_unacknowledged = unacknowledged_count(tid)
    out.duty_reports_missing = missing_count(tid)
    today = clock.today(tid)
    open_cases = db.session.execute(
        select(
            func.count(Case.id),
            func.sum(case((and_(Case.due_on.is_not(None), Case.due_on < today), 1), else_=0)),
        ).where(
            Case.township_id == tid,
            Case.status.not_in([CaseStatus.resolved, CaseStatus.closed]),
        )
    ).one()
    out.cases_open, out.cases_overdue = int(open_cases[0] or 0), int(open_cases[1] or 0)
    out.stage = stage_on(tid, min(last, today))
    if out.stage is not None:
        out.villages_behind = [v for v in village_compliance(tid, out.stage) if v.behind]
    return out


def previous_month(day: date) -> tuple[int, int]:
    first = day.replace(day=1) - timedelta(days=1)
    return first.year, first.month


def send_digest(township_id: int, month: str) -> bool:
    """Tell the leadership (``feedback.digest``) that the month's digest is ready, once per
    township and month (durable task; writes to the session only)."""
    from core.contract import ArchivalRecord
    from core.notifications import notify
    from core.records import produce

    township = db.session.get(OrgUnit, township_id)
    if township is None:
        return False
    year, number = (int(p) for p in month.split("-"))
    found = digest(township, year, number)
    with _default_locale():
        title = _("Information feedback digest of %(month)s", month=month)
        body = _(
            "Letters %(letters)s, visits %(visits)s, hotline calls %(calls)s; reports not "
            "acknowledged %(open)s; duty reports missing %(missing)s; villages behind on "
            "activity reports %(behind)s.",
            letters=found.letters,
            visits=found.visits,
            calls=found.calls,
            open=found.reports_unacknowledged,
            missing=found.duty_reports_missing,
            behind=len(found.villages_behind),
        )
    url = link(DIGEST_ENDPOINT, township=township_id, month=month)
    notify(
        users_with(DIGEST, township_id),
        title,
        body,
        link=url,
        key=f"feedback.digest:{township_id}:{month}",
        township_id=township_id,
    )
    produce(
        township,
        ArchivalRecord(
            source=KEY,
            reference=f"digest:{month}",
            kind=title,
            title=title,
            produced_at=utcnow(),
            summary=body,
            url=url,
            responsible=township.name,
            class_hint="WS",
            retention_hint="10y",
            content=body,
        ),
    )
    return True
