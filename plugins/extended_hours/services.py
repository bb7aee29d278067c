"""The rules of extended hours (延时办理制度) as functions over the session.

* **Coverage** ("five working days, seven days of service"): every day of the coming
  ``extended_hours.coverage_weeks`` weeks, working day or rest day, needs someone at a
  service window in the core's rota (:func:`core.duty.gaps` with ``DutyPost.window``).
  The check (:func:`sync_gaps`, the daily job and the *Check now* button) writes a row
  per empty day, tells the township administrators (permission
  ``extended_hours.coverage``) once per day found, and marks a day covered again when a
  swap or a change fills it.
* **After-hours service log** (延时服务登记): citizen, matter, the time served (outside
  the township's office hours, policies ``extended_hours.office_opens``/``_closes``, or
  on a rest day), the staff member, the result; an urgent matter is linked to its case.
* **Conduct rule**: each staff member acknowledges once a year that they accept no meals
  or gifts from citizens during extended service; the register shows who has.
* **Public duty**: who is at the windows on rest days and who has the duty phone after
  hours in the coming days, with office phones; nothing else about anyone.

Each service checks everything first and raises :class:`ExtendedHoursError` (its
``problems`` are messages for the person) before writing anything.
"""

from __future__ import annotations

import io
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import and_, case, extract, func, or_, select
from sqlalchemy.exc import IntegrityError

from core import clock, duty
from core.access import can, users_with
from core.calendar import DayInfo, WorkingCalendar
from core.db import db, utcnow
from core.inbox import announce
from core.labels import shorten
from core.links import link
from core.models import Case, OrgUnit, User
from core.models.duty import DutyPost
from core.policies import get_policy
from core.validation import InvalidInput, check_date, check_phone, fits
from plugins.extended_hours.models import (
    ExtendedHoursGap,
    ExtendedHoursPledge,
    ExtendedHoursService,
)
from plugins.extended_hours.policy import (
    CLOSES,
    CLOSES_DEFAULT,
    COVERAGE_WEEKS,
    OPENS,
    OPENS_DEFAULT,
    time_of,
)

READ = "extended_hours.read"
WRITE = "extended_hours.write"
COVERAGE = "extended_hours.coverage"

INBOX_GAP = "extended_hours.coverage_gap"
INBOX_PLEDGE = "extended_hours.pledge"
COVERAGE_ENDPOINT = "extended_hours_coverage.index"
PLEDGE_ENDPOINT = "extended_hours_pledges.index"

#: how many days the public page shows
PUBLIC_DAYS = 14
#: the longest single after-hours service one entry records
MAX_SERVICE_HOURS = 16

WEEKDAYS = ("一", "二", "三", "四", "五", "六", "日")


class ExtendedHoursError(ValueError):
    """Something that cannot be recorded; ``problems`` are the messages."""

    def __init__(self, problems: list[str] | str):
        self.problems = [str(p) for p in ([problems] if isinstance(problems, str) else problems)]
        super().__init__(" ".join(self.problems))


def _default_locale():
    return force_locale(current_app.config["DEFAULT_LOCALE"])


# ---------------------------------------------------------------------------
# Office hours
# ---------------------------------------------------------------------------


def office_hours(township_id: int) -> tuple[time, time]:
    """The township's office hours on a working day (opening, closing)."""
    return (
        time_of(get_policy(township_id, OPENS), OPENS_DEFAULT),
        time_of(get_policy(township_id, CLOSES), CLOSES_DEFAULT),
    )


def is_after_hours(township_id: int, starts_at: datetime, ends_at: datetime) -> bool:
    """Whether a service from ``starts_at`` to ``ends_at`` lies at least partly outside the
    office hours: on a rest day, before opening, after closing, or across midnight."""
    start, end = clock.local(starts_at, township_id), clock.local(ends_at, township_id)
    if start.date() != end.date():
        return True
    if not WorkingCalendar.for_township(township_id).is_workday(start.date()):
        return True
    opens, closes = office_hours(township_id)
    return start.time() < opens or end.time() > closes


# ---------------------------------------------------------------------------
# The after-hours service log
# ---------------------------------------------------------------------------


@dataclass
class ServiceInput:
    citizen_name: str = ""
    citizen_phone: str = ""
    matter: str = ""
    served_on: date | None = None
    starts: str = ""
    ends: str = ""
    staff_id: int | None = None
    result: str = ""
    urgent: bool = False
    receipt_no: str = ""
    bad_date: str | None = None


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


def _clock_time(raw: str, label: str, problems: list[str]) -> time | None:
    text = (raw or "").strip().replace("：", ":")
    try:
        hours, minutes = (int(p) for p in text.split(":"))
        return time(hours, minutes)
    except ValueError:
        problems.append(_("%(field)s: give the time as HH:MM.", field=label))
        return None


def record_service(township: OrgUnit, data: ServiceInput, *, by: User) -> ExtendedHoursService:
    """Record an after-hours service (延时服务登记). The time must lie outside the office
    hours (or on a rest day), have happened, end after it starts; the staff member must
    work for the township; an urgent matter names its case by receipt number. Every
    problem at once; nothing written unless all is well. Commits."""
    tid = township.id
    if not can(by, WRITE, tid):
        raise ExtendedHoursError(_("You may not record after-hours services in this township."))
    problems: list[str] = []
    name = _text(data.citizen_name, ExtendedHoursService.citizen_name, _("The citizen"), problems)
    phone = (data.citizen_phone or "").strip()
    if phone:
        try:
            phone = check_phone(phone) or ""
            fits(phone, ExtendedHoursService.citizen_phone, label=_("The phone"))
        except InvalidInput as exc:
            problems.append(str(exc))
    matter = _text(data.matter, ExtendedHoursService.matter, _("The matter"), problems)
    result = _text(data.result, ExtendedHoursService.result, _("The result"), problems)
    staff = db.session.get(User, data.staff_id) if data.staff_id else None
    if staff is None or not staff.active or not duty.is_township_staff(staff, tid):
        problems.append(_("Choose the staff member who served."))
        staff = None
    starts_at = ends_at = None
    if data.bad_date is not None:
        problems.append(_("Give the date as YYYY-MM-DD."))
    elif data.served_on is None:
        problems.append(_("%(field)s is required.", field=_("The date")))
    else:
        try:
            check_date(data.served_on, township=tid, past=True, label=_("The date"))
        except InvalidInput as exc:
            problems.append(str(exc))
        else:
            starts = _clock_time(data.starts, _("From"), problems)
            ends = _clock_time(data.ends, _("Until"), problems)
            if starts is not None and ends is not None:
                zone = clock.zone(tid)
                starts_at = datetime.combine(data.served_on, starts, tzinfo=zone)
                ends_at = datetime.combine(data.served_on, ends, tzinfo=zone)
                if ends_at <= starts_at:
                    problems.append(_("The service must end after it starts."))
                elif ends_at - starts_at > timedelta(hours=MAX_SERVICE_HOURS):
                    problems.append(_("One entry covers at most %(n)s hours.", n=MAX_SERVICE_HOURS))
                elif starts_at > clock.now(tid):
                    problems.append(_("The service cannot start in the future."))
                elif not is_after_hours(tid, starts_at, ends_at):
                    opens, closes = office_hours(tid)
                    problems.append(
                        _(
                            "%(start)s–%(end)s on %(day)s lies within the office hours "
                            "(%(opens)s–%(closes)s on a working day): that is ordinary service, "
                            "not an after-hours one.",
                            start=starts.strftime("%H:%M"),
                            end=ends.strftime("%H:%M"),
                            day=data.served_on.isoformat(),
                            opens=opens.strftime("%H:%M"),
                            closes=closes.strftime("%H:%M"),
                        )
                    )
    case = None
    receipt = (data.receipt_no or "").strip().upper()
    if receipt:
        case = db.session.scalar(
            select(Case).where(Case.receipt_no == receipt, Case.township_id == tid)
        )
        if case is None:
            problems.append(_("No case of this township has receipt number %(no)s.", no=receipt))
    elif data.urgent:
        problems.append(_("An urgent matter is linked to its case: give its receipt number."))
    if problems:
        raise ExtendedHoursError(problems)
    entry = ExtendedHoursService(
        township_id=tid,
        citizen_name=name,
        citizen_phone=phone,
        matter=matter,
        served_on=data.served_on,
        starts_at=starts_at,
        ends_at=ends_at,
        staff_id=staff.id,
        result=result,
        urgent=bool(data.urgent),
        case_id=case.id if case else None,
        recorded_by_id=by.id,
    )
    db.session.add(entry)
    db.session.commit()
    return entry


def services_of_case(case_id: int) -> list[ExtendedHoursService]:
    return list(
        db.session.scalars(
            select(ExtendedHoursService)
            .where(ExtendedHoursService.case_id == case_id)
            .order_by(ExtendedHoursService.starts_at)
        )
    )


def services_this_month(townships: Iterable[OrgUnit]) -> dict[int, int]:
    """After-hours services of each township in its current month (its own today), by
    township id, in one query."""
    months: dict[tuple[int, int], list[int]] = defaultdict(list)
    for township in townships:
        today = clock.today(township)
        months[(today.year, today.month)].append(township.id)
    counts = {tid: 0 for ids in months.values() for tid in ids}
    if not counts:
        return counts
    counts.update(
        db.session.execute(
            select(ExtendedHoursService.township_id, func.count(ExtendedHoursService.id))
            .where(
                or_(
                    *(
                        and_(
                            ExtendedHoursService.township_id.in_(ids),
                            extract("year", ExtendedHoursService.served_on) == year,
                            extract("month", ExtendedHoursService.served_on) == month,
                        )
                        for (year, month), ids in months.items()
                    )
                )
            )
            .group_by(ExtendedHoursService.township_id)
        ).all()
    )
    return counts


# ---------------------------------------------------------------------------
# Coverage: a service window every day
# ---------------------------------------------------------------------------


def coverage_span(township_id: int) -> tuple[date, date]:
    """From the township's today over ``extended_hours.coverage_weeks`` weeks."""
    today = clock.today(township_id)
    weeks = int(get_policy(township_id, COVERAGE_WEEKS))
    return today, today + timedelta(days=7 * weeks - 1)


def sync_gaps(township_id: int) -> list[ExtendedHoursGap]:
    """Compare the coming weeks' rota with the gap rows: a day newly without anyone at a
    window gets a row (and the township administrators are told, once per day); a day
    covered again is marked covered. Returns the open gaps, by day. The caller commits."""
    start, end = coverage_span(township_id)
    empty = set(duty.gaps(township_id, start, end, DutyPost.window))
    rows = {
        g.day: g
        for g in db.session.scalars(
            select(ExtendedHoursGap).where(
                ExtendedHoursGap.township_id == township_id, ExtendedHoursGap.day >= start
            )
        )
    }
    now = utcnow()
    fresh: list[ExtendedHoursGap] = []
    for day in sorted(empty):
        row = rows.get(day)
        if row is None:
            row = ExtendedHoursGap(township_id=township_id, day=day, found_at=now)
            try:
                with db.session.begin_nested():
                    db.session.add(row)
                    db.session.flush()
            except IntegrityError:  # another process found it just now
                continue
            rows[day] = row
            fresh.append(row)
        elif row.covered_at is not None:
            row.covered_at = None
            row.found_at = now
    for day, row in rows.items():
        if day not in empty and row.covered_at is None:
            row.covered_at = now
    db.session.flush()
    if fresh:
        admins = users_with(COVERAGE, township_id)
        for row in fresh:
            with _default_locale():
                title = _(
                    "No one at the service windows on %(day)s (%(weekday)s)",
                    day=row.day.isoformat(),
                    weekday=_weekday(row.day),
                )
            announce(
                admins,
                INBOX_GAP,
                row.id,
                shorten(title, 190)[0],
                township_id=township_id,
                link=link(COVERAGE_ENDPOINT, township=township_id, gap=row.id),
            )
    return sorted((r for r in rows.values() if r.covered_at is None), key=lambda r: r.day)


def _weekday(day: date) -> str:
    from core.duty import WEEKDAY_LABELS

    return str(WEEKDAY_LABELS[day.weekday()])


def sweep(township_ids: set[int]) -> int:
    """The coverage check of every township given (job ``extended_hours.coverage_check``):
    idempotent; returns how many open gaps there are. Commits."""
    count = 0
    for tid in sorted(township_ids):
        count += len(sync_gaps(tid))
        db.session.commit()
    return count


def open_gap_count(township_id: int) -> int:
    today = clock.today(township_id)
    return (
        db.session.scalar(
            select(func.count(ExtendedHoursGap.id)).where(
                ExtendedHoursGap.township_id == township_id,
                ExtendedHoursGap.covered_at.is_(None),
                ExtendedHoursGap.day >= today,
            )
        )
        or 0
    )


# ---------------------------------------------------------------------------
# The conduct rule, once a year
# ---------------------------------------------------------------------------


def pledge_year(township_id: int) -> int:
    return clock.today(township_id).year


def acknowledge_rule(township: OrgUnit, user: User) -> ExtendedHoursPledge:
    """``user`` acknowledges this year's conduct rule (no meals or gifts from citizens during
    extended service). Only the township's staff, once a year. Commits."""
    tid = township.id
    if not duty.is_township_staff(user, tid):
        raise ExtendedHoursError(_("Only the township's staff acknowledge the rule."))
    year = pledge_year(tid)
    pledge = ExtendedHoursPledge(township_id=tid, user_id=user.id, year=year)
    try:
        with db.session.begin_nested():
            db.session.add(pledge)
            db.session.flush()
    except IntegrityError:
        raise ExtendedHoursError(
            _("You acknowledged the rule for %(year)s already.", year=year)
        ) from None
    db.session.commit()
    return pledge


@dataclass(frozen=True)
class RegisterRow:
    user: User
    pledge: ExtendedHoursPledge | None


def register(township_id: int, year: int) -> list[RegisterRow]:
    """Every staff member of the township and their acknowledgement of ``year`` (two
    queries)."""
    pledges = {
        p.user_id: p
        for p in db.session.scalars(
            select(ExtendedHoursPledge).where(
                ExtendedHoursPledge.township_id == township_id, ExtendedHoursPledge.year == year
            )
        )
    }
    return [RegisterRow(u, pledges.get(u.id)) for u in duty.township_staff(township_id)]


def acknowledged_counts(years: dict[int, int]) -> dict[int, tuple[int, int]]:
    """Per township (``{township id: year}``): how many of its staff acknowledged the
    conduct rule for that year, and how many staff it has (as :func:`register` counts
    them), in one query."""
    counts = {tid: (0, 0) for tid in years}
    if not years:
        return counts
    by_year: dict[int, list[int]] = defaultdict(list)
    for tid, year in years.items():
        by_year[year].append(tid)
    staff = duty.staff_of_townships(years).subquery()
    pledged = or_(
        *(
            and_(staff.c.township_id.in_(ids), ExtendedHoursPledge.year == year)
            for year, ids in by_year.items()
        )
    )
    for tid, done, total in db.session.execute(
        select(staff.c.township_id, func.count(ExtendedHoursPledge.id), func.count())
        .select_from(staff)
        .outerjoin(
            ExtendedHoursPledge,
            and_(
                ExtendedHoursPledge.township_id == staff.c.township_id,
                ExtendedHoursPledge.user_id == staff.c.user_id,
                pledged,
            ),
        )
        .group_by(staff.c.township_id)
    ):
        counts[tid] = (done, total)
    return counts


# ---------------------------------------------------------------------------
# What citizens see: weekend and after-hours duty
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PublicDay:
    day: date
    info: DayInfo
    windows: list[User]
    phones: list[User]

    @property
    def rest_day(self) -> bool:
        return not self.info.workday

    @property
    def weekday(self) -> str:
        return _weekday(self.day)


def public_duty(township_id: int, days: int = PUBLIC_DAYS) -> list[PublicDay]:
    """The coming days (from the duty day running now): on a rest day who is at the
    windows and who has the duty phone; on a working day who has the duty phone after
    hours. Three queries."""
    start = duty.duty_day(township_id)
    out = []
    for day in duty.rota(township_id, start, days):
        out.append(
            PublicDay(
                day.day,
                day.info,
                [e.user for e in day.on(DutyPost.window)] if not day.info.workday else [],
                [e.user for e in day.on(DutyPost.hotline)],
            )
        )
    return out


# ---------------------------------------------------------------------------
# Reports: services per month and staff, coverage gaps per month
# ---------------------------------------------------------------------------


@dataclass
class StaffMonth:
    month: int
    user_id: int
    name: str
    services: int
    urgent: int


def services_per_month(township_id: int, year: int) -> list[StaffMonth]:
    """After-hours services of ``year`` per month and staff member (one query)."""
    month = extract("month", ExtendedHoursService.served_on)
    rows = db.session.execute(
        select(
            month.label("month"),
            User.id,
            User.name,
            func.count(ExtendedHoursService.id),
            func.sum(case((ExtendedHoursService.urgent.is_(True), 1), else_=0)),
        )
        .join(User, User.id == ExtendedHoursService.staff_id)
        .where(
            ExtendedHoursService.township_id == township_id,
            ExtendedHoursService.served_on >= date(year, 1, 1),
            ExtendedHoursService.served_on <= date(year, 12, 31),
        )
        .group_by(month, User.id, User.name)
        .order_by(month, User.name)
    ).all()
    return [StaffMonth(int(m), uid, name, int(n), int(u or 0)) for m, uid, name, n, u in rows]


def gaps_per_month(township_id: int, year: int) -> dict[int, list[date]]:
    """Days of ``year`` without anyone at a service window, per month, by the rota as it
    stands (three queries)."""
    out: dict[int, list[date]] = {m: [] for m in range(1, 13)}
    for day in duty.gaps(township_id, date(year, 1, 1), date(year, 12, 31), DutyPost.window):
        out[day.month].append(day)
    return out


def report_xlsx(township: OrgUnit, year: int) -> bytes:
    """The year's report as XLSX: services per month and staff member, and the coverage
    gaps per month with their days; bold frozen headers, cells never formulas."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    from core.spreadsheets import safe_row

    book = Workbook()
    sheet = book.active
    sheet.title = _("After-hours services")[:31]
    sheet.append(safe_row([_("Month"), _("Staff member"), _("After-hours services"), _("Urgent")]))
    for row in services_per_month(township.id, year):
        sheet.append(safe_row([f"{year}-{row.month:02d}", row.name, row.services, row.urgent]))
    gaps = book.create_sheet(_("Coverage gaps")[:31])
    gaps.append(
        safe_row([_("Month"), _("Days without window staff"), _("Dates without window staff")])
    )
    for month, days in gaps_per_month(township.id, year).items():
        gaps.append(
            safe_row([f"{year}-{month:02d}", len(days), "、".join(d.isoformat() for d in days)])
        )
    for ws in (sheet, gaps):
        for cell in ws[1]:
            cell.font = Font(bold=True)
        ws.freeze_panes = "A2"
        for column in ws.columns:
            width = max(len(str(c.value or "")) for c in column)
            ws.column_dimensions[column[0].column_letter].width = min(80, max(10, width * 2 + 2))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def person_year_figures(township: OrgUnit, year: int, user_ids: list[int] | None) -> list:
    """Per staff member and year: after-hours services given (one query)."""
    from core.contract import PersonYearFigure

    rows = db.session.execute(
        select(ExtendedHoursService.staff_id, func.count(ExtendedHoursService.id))
        .where(
            ExtendedHoursService.township_id == township.id,
            and_(
                ExtendedHoursService.served_on >= date(year, 1, 1),
                ExtendedHoursService.served_on <= date(year, 12, 31),
            ),
        )
        .group_by(ExtendedHoursService.staff_id)
    ).all()
    counts = defaultdict(int, {uid: int(n) for uid, n in rows})
    return [
        PersonYearFigure(
            "extended_hours.services",
            "延时服务（次）",
            "After-hours services given",
            uid,
            year,
            counts[uid],
        )
        for uid in sorted(counts)
        if user_ids is None or uid in user_ids
    ]


def open_gaps(township_id: int) -> list[ExtendedHoursGap]:
    """The gap rows still open from the township's today on, by day."""
    return list(
        db.session.scalars(
            select(ExtendedHoursGap)
            .where(
                ExtendedHoursGap.township_id == township_id,
                ExtendedHoursGap.covered_at.is_(None),
                ExtendedHoursGap.day >= clock.today(township_id),
            )
            .order_by(ExtendedHoursGap.day)
        )
    )
