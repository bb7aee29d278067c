"""The rules of the service guide (服务“四限”制度) as functions over the session.

* Limited time: a matter's time limit is a case kind of the core; the township's limit
  for that kind is what the guide shows and what a case registered from the matter gets.
* Limited place: a matter that can be done at the household or in the village is not
  accepted at the township hall without a reason, which is recorded with the case.
* Limited fees: a fee charged on a case never exceeds the matter's published standard
  (the total of every fee on the case), refused with a message otherwise.
* Compliance: cases finished within their limit per matter and per department and month
  (:func:`on_time_report`, :func:`on_time_reports` for several townships at once).

A case is *finished* when it was resolved (its latest "resolved" entry in the trail)
and is resolved, delivered or closed now; it is *on time* when the date of that entry
in the township's time zone is on or before the case's due date (which already counts
extensions and the days the clock stood still).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select

from core import clock
from core.cases import UNIT_LABELS, CaseError, register_case, time_limit
from core.db import db
from core.models import Case, CaseEvent, CaseStatus, OrgUnit, Person, UnitKind, User
from core.plugins import state
from plugins.guide.models import (
    VILLAGE_PLACES,
    GuideCaseMatter,
    GuideFee,
    GuideMatter,
    GuideModelMatter,
    Place,
    to_fen,
    yuan,
)

KEY = "guide"
FINISHED = (CaseStatus.resolved, CaseStatus.delivered, CaseStatus.closed)


class GuideError(ValueError):
    """A guide operation that is not allowed; ``str(exc)`` is the message for the user."""


# ---------------------------------------------------------------------------
# Limits as the core counts them
# ---------------------------------------------------------------------------


def kind_choices() -> list[tuple[str, str]]:
    """(code, label) of every case kind the core knows (the core's and the plugins')."""
    from core.app import current_locale

    english = current_locale() == "en"
    return [
        (code, kind.label_en if english else kind.label)
        for code, kind in sorted(state().case_kinds.items())
    ]


def kind_label(code: str) -> str:
    from core.app import current_locale

    kind = state().case_kinds.get(code)
    if kind is None:
        return code
    return kind.label_en if current_locale() == "en" else kind.label


def limit_texts(township_id: int) -> dict[str, str]:
    """:func:`limit_text` of every case kind (the core's cached limits)."""
    return {code: limit_text(township_id, code) for code in state().case_kinds}


def limit_text(township_id: int, kind: str) -> str:
    """The township's limit for a kind in words, as the core counts it
    (“3 个工作日，自受理次日起算”); each (township, kind) worked out once per request
    (a list of fifty matters asks fifty times)."""
    from flask import g, has_request_context

    memo = g.setdefault("_guide_limits", {}) if has_request_context() else {}
    key = (township_id, kind)
    text = memo.get(key)
    if text is None:
        text = memo[key] = _limit_words(township_id, kind)
    return text


def _limit_words(township_id: int, kind: str) -> str:
    if kind not in state().case_kinds:
        return "–"
    amount, unit, most = time_limit(township_id, kind)  # the core's, cached
    text = _(
        "%(n)s %(unit)s, counted from the day after acceptance",
        n=amount,
        unit=UNIT_LABELS[unit],
    )
    if most:
        text += _("; may be extended to %(n)s with a leader's consent", n=most)
    return text


def parse_fee(raw) -> Decimal:
    """A fee in yuan from a form (at most two decimals, not negative)."""
    if raw is None or raw == "":
        return Decimal("0")
    try:
        value = Decimal(str(raw).strip())
    except InvalidOperation as exc:
        raise GuideError(_("The fee must be an amount in yuan, e.g. 10 or 2.50.")) from exc
    if not value.is_finite() or value < 0:
        raise GuideError(_("The fee cannot be negative."))
    if value != value.quantize(Decimal("0.01")):
        raise GuideError(_("The fee has at most two decimals (fen)."))
    if value > Decimal("1000000"):
        raise GuideError(_("The fee is too large."))
    return value


def _check_length(value: str, limit: int, label: str) -> None:
    if value and len(value) > limit:
        raise GuideError(_("%(field)s is longer than %(n)s characters.", field=label, n=limit))


def check_matter(matter: GuideMatter) -> None:
    """Validate a matter before it is saved (admin form or import)."""
    if matter.case_kind not in state().case_kinds:
        raise GuideError(_("Unknown case kind: %(kind)s", kind=matter.case_kind))
    if (matter.fee_standard_fen or 0) < 0:
        raise GuideError(_("The fee cannot be negative."))
    if matter.department_id is not None:
        dept = db.session.get(OrgUnit, matter.department_id)
        if dept is None or dept.township_id != matter.township_id or dept.kind != UnitKind.station:
            raise GuideError(_("The department must be a station or office of this township."))


# ---------------------------------------------------------------------------
# Registering a case from a matter; fees
# ---------------------------------------------------------------------------


def register_from_matter(
    matter: GuideMatter,
    *,
    clerk: User,
    applicant_name: str,
    applicant: Person | None = None,
    title: str | None = None,
    description: str = "",
    fee=None,
    bill_no: str = "",
    village_reason: str = "",
    received_on: date | None = None,
) -> Case:
    """Register and accept a case for ``matter``: its kind (hence its limit), department
    and fee standard come from the matter. A fee above the standard, or a matter that can
    be done in the village accepted here without a reason, is refused before anything
    is written."""
    township = db.session.get(OrgUnit, matter.township_id)
    amount = parse_fee(fee)
    if to_fen(amount) > matter.fee_standard_fen:
        raise GuideError(
            _(
                "A fee of %(fee)s yuan is above the published standard of %(std)s yuan "
                "for this matter.",
                fee=amount,
                std=matter.fee_standard,
            )
        )
    village_reason = (village_reason or "").strip()
    if matter.place in VILLAGE_PLACES and not village_reason:
        raise GuideError(
            _(
                "This matter is done at: %(place)s. Record why it is accepted at the township.",
                place=Place(matter.place).label,
            )
        )
    _check_length(village_reason, 2000, _("The reason"))
    bill_no = (bill_no or "").strip()
    _check_length(bill_no, 64, _("The bill number"))
    try:
        case = register_case(
            township=township,
            kind=matter.case_kind,
            title=(title or "").strip() or matter.name,
            applicant_name=applicant_name,
            applicant=applicant,
            first_responder=clerk,
            description=description,
            department=matter.department,
            received_on=received_on,
            accept=True,
        )
    except CaseError as exc:
        db.session.rollback()
        raise GuideError(str(exc)) from exc
    db.session.add(
        GuideCaseMatter(
            township_id=township.id,
            case_id=case.id,
            matter_id=matter.id,
            fee_standard_fen=matter.fee_standard_fen,
            village_reason=village_reason or None,
            registered_by_id=clerk.id,
        )
    )
    if amount > 0:
        db.session.add(
            GuideFee(
                township_id=township.id,
                case_id=case.id,
                matter_id=matter.id,
                amount_fen=to_fen(amount),
                charged_on=case.received_on,
                charged_by_id=clerk.id,
                bill_no=bill_no,
            )
        )
    db.session.commit()
    return case


def link_of(case_id: int) -> GuideCaseMatter | None:
    return db.session.scalar(select(GuideCaseMatter).where(GuideCaseMatter.case_id == case_id))


def charge_fee(
    case: Case, *, by: User, amount, charged_on: date | None = None, bill_no: str = ""
) -> GuideFee:
    """Record a fee charged on a case registered from a matter; the case's fees together
    never exceed the standard recorded when it was registered."""
    link = link_of(case.id)
    if link is None:
        raise GuideError(_("This case was not registered from a matter of the guide."))
    value = parse_fee(amount)
    if value <= 0:
        raise GuideError(_("Enter the amount charged."))
    today = clock.today(case.township_id)
    charged_on = charged_on or today
    earliest = date(int(current_app.config.get("EARLIEST_YEAR", 2000)), 1, 1)
    if charged_on > today:
        raise GuideError(_("The date cannot be in the future."))
    if charged_on < max(earliest, case.received_on):
        raise GuideError(_("The date cannot be before the case was received."))
    bill_no = (bill_no or "").strip()
    _check_length(bill_no, 64, _("The bill number"))
    charged = (
        db.session.scalar(
            select(func.coalesce(func.sum(GuideFee.amount_fen), 0)).where(
                GuideFee.case_id == case.id
            )
        )
        or 0
    )
    if charged + to_fen(value) > link.fee_standard_fen:
        raise GuideError(
            _(
                "A fee of %(fee)s yuan is above the published standard of %(std)s yuan "
                "for this matter.",
                fee=yuan(charged + to_fen(value)),
                std=link.fee_standard,
            )
        )
    fee = GuideFee(
        township_id=case.township_id,
        case_id=case.id,
        matter_id=link.matter_id,
        amount_fen=to_fen(value),
        charged_on=charged_on,
        charged_by_id=by.id,
        bill_no=bill_no,
    )
    db.session.add(fee)
    db.session.commit()
    return fee


# ---------------------------------------------------------------------------
# The county's model catalogue
# ---------------------------------------------------------------------------


def county_of(township: OrgUnit) -> OrgUnit | None:
    parent = db.session.get(OrgUnit, township.parent_id) if township.parent_id else None
    return parent if parent is not None and parent.kind == UnitKind.county else None


def models_to_adopt(township: OrgUnit) -> list[GuideModelMatter]:
    """The county's model matters this township has not adopted yet (nor has by name)."""
    county = county_of(township)
    if county is None:
        return []
    taken = select(GuideMatter.model_id).where(
        GuideMatter.township_id == township.id, GuideMatter.model_id.is_not(None)
    )
    names = select(GuideMatter.name).where(GuideMatter.township_id == township.id)
    return list(
        db.session.scalars(
            select(GuideModelMatter)
            .where(
                GuideModelMatter.county_id == county.id,
                GuideModelMatter.id.not_in(taken),
                GuideModelMatter.name.not_in(names),
            )
            .order_by(GuideModelMatter.name)
        )
    )


def adopt_models(township: OrgUnit, model_ids: list[int]) -> list[GuideMatter]:
    """Copy model matters into the township's guide (the township adjusts them after);
    the department is the township's station of the same name, if it has one."""
    offered = {m.id: m for m in models_to_adopt(township)}
    unknown = [i for i in model_ids if i not in offered]
    if unknown or not model_ids:
        raise GuideError(_("Choose model matters of your county that are not adopted yet."))
    stations = {
        unit.name: unit.id
        for unit in db.session.scalars(
            select(OrgUnit).where(
                OrgUnit.township_id == township.id, OrgUnit.kind == UnitKind.station
            )
        )
    }
    created = []
    for model_id in model_ids:
        model = offered[model_id]
        matter = GuideMatter(
            township_id=township.id,
            model_id=model.id,
            name=model.name,
            department_id=stations.get(model.department_name),
            place=model.place,
            authority=model.authority,
            case_kind=model.case_kind,
            fee_standard_fen=model.fee_standard_fen,
            fee_basis=model.fee_basis,
            materials=model.materials,
            steps=model.steps,
        )
        db.session.add(matter)
        created.append(matter)
    db.session.commit()
    return created


# ---------------------------------------------------------------------------
# Compliance: on time per matter and department
# ---------------------------------------------------------------------------


def period_bounds(township_id: int, year: int, month: int | None) -> tuple[datetime, datetime]:
    """The UTC instants where a month (or the year) of the township's calendar begins and ends."""
    zone = clock.zone(township_id)
    if month is None:
        first, after = date(year, 1, 1), date(year + 1, 1, 1)
    else:
        first = date(year, month, 1)
        after = date(year + (month == 12), month % 12 + 1, 1)
    start = datetime.combine(first, time(), zone).astimezone(UTC)
    end = datetime.combine(after, time(), zone).astimezone(UTC)
    return start, end


@dataclass
class RateRow:
    key: int | None
    name: str
    finished: int = 0
    on_time: int = 0

    @property
    def late(self) -> int:
        return self.finished - self.on_time

    @property
    def rate(self) -> float | None:
        return round(100 * self.on_time / self.finished, 1) if self.finished else None


@dataclass
class OnTimeReport:
    year: int
    month: int | None
    matters: list[RateRow] = field(default_factory=list)
    departments: list[RateRow] = field(default_factory=list)
    total: RateRow = field(default_factory=lambda: RateRow(None, ""))

    @property
    def period(self) -> str:
        return f"{self.year:04d}" + (f"-{self.month:02d}" if self.month else "")


def _local_date(value: datetime, zone) -> date:
    if isinstance(value, str):  # SQLite returns the aggregate as text
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(zone).date()


def on_time_report(township_id: int, year: int, month: int | None = None) -> OnTimeReport:
    """Cases of the township finished in the month (or year), on time or not, per matter of
    the guide and per department (the case's department, else the matter's).

    Counted in SQL, one row per matter and department, when the township's zone keeps one
    UTC offset through the period (China does); otherwise case by case in Python with the
    zone's rules. Three queries (the counts, the matters' names, the departments' names)
    whatever the number of cases. See :func:`on_time_reports`.
    """
    return on_time_reports({township_id: (year, month)})[township_id]


def on_time_reports(periods: dict[int, tuple[int, int | None]]) -> dict[int, OnTimeReport]:
    """:func:`on_time_report` of several townships at once, each for its own period
    (``{township id: (year, month or None)}``), by township id.

    One query counts the cases of every township whose zone keeps one UTC offset through
    its period (grouped by township, matter and department), one more reads case by case
    those of townships whose zone changes its offset, then one the matters' names and one
    the departments' names: at most four queries whatever the number of townships or cases.
    """
    from sqlalchemy import and_, or_

    if not periods:
        return {}
    bounds = {tid: period_bounds(tid, year, month) for tid, (year, month) in periods.items()}
    zones = {tid: clock.zone(tid) for tid in periods}
    offsets = {tid: clock.constant_offset(zones[tid], *bounds[tid]) for tid in periods}
    # the latest "resolved" entry of each case since the earliest period began; it is the
    # latest since the case's own township's period began whenever that one has any
    resolved = (
        select(CaseEvent.case_id.label("case_id"), func.max(CaseEvent.at).label("resolved_at"))
        .where(CaseEvent.action == "resolved", CaseEvent.at >= min(s for s, _e in bounds.values()))
        .group_by(CaseEvent.case_id)
        .having(func.max(CaseEvent.at) < max(e for _s, e in bounds.values()))
        .subquery()
    )
    by_bounds: dict[tuple[datetime, datetime], set[int]] = defaultdict(set)
    for tid, period in bounds.items():
        by_bounds[period].add(tid)
    in_period = or_(
        *(
            and_(
                Case.township_id.in_(ids),
                resolved.c.resolved_at >= start,
                resolved.c.resolved_at < end,
            )
            for (start, end), ids in by_bounds.items()
        )
    )
    department = func.coalesce(Case.department_id, GuideMatter.department_id)
    base = (
        select()
        .select_from(resolved)
        .join(Case, Case.id == resolved.c.case_id)
        .outerjoin(GuideCaseMatter, GuideCaseMatter.case_id == Case.id)
        .outerjoin(GuideMatter, GuideMatter.id == GuideCaseMatter.matter_id)
        .where(in_period, Case.status.in_(FINISHED), Case.due_on.is_not(None))
    )
    keys = (Case.township_id, GuideCaseMatter.matter_id, department)
    groups: list[tuple] = []
    on_time = clock.count_on_or_before(
        resolved.c.resolved_at, Case.due_on, Case.township_id, offsets
    )
    if on_time is not None:
        steady = {tid for tid, minutes in offsets.items() if minutes is not None}
        groups += db.session.execute(
            base.add_columns(*keys, func.count(), on_time)
            .where(Case.township_id.in_(steady))
            .group_by(*keys)
        ).all()
    shifting = {tid for tid, minutes in offsets.items() if minutes is None}
    if shifting:
        counts: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
        for tid, matter_id, department_id, due_on, resolved_time in db.session.execute(
            base.add_columns(*keys, Case.due_on, resolved.c.resolved_at).where(
                Case.township_id.in_(shifting)
            )
        ):
            pair = counts[(tid, matter_id, department_id)]
            pair[0] += 1
            pair[1] += _local_date(resolved_time, zones[tid]) <= due_on
        groups += [(*key, n, k) for key, (n, k) in counts.items()]
    by_matter: dict[int, dict[int, RateRow]] = {tid: {} for tid in periods}
    by_dept: dict[int, dict[int | None, RateRow]] = {tid: {} for tid in periods}
    totals = {tid: RateRow(None, _("All cases")) for tid in periods}
    for tid, matter_id, department_id, finished_count, on_time_count in groups:
        rows_hit = [
            totals[tid],
            by_dept[tid].setdefault(department_id, RateRow(department_id, "")),
        ]
        if matter_id is not None:
            rows_hit.append(by_matter[tid].setdefault(matter_id, RateRow(matter_id, "")))
        for row in rows_hit:
            row.finished += int(finished_count)
            row.on_time += int(on_time_count or 0)
    _name_rows(by_matter.values(), GuideMatter.id, GuideMatter.name)
    _name_rows(by_dept.values(), OrgUnit.id, OrgUnit.name)
    for rows in by_dept.values():
        if None in rows:
            rows[None].name = _("No department")
    return {
        tid: OnTimeReport(
            year=year,
            month=month,
            matters=sorted(by_matter[tid].values(), key=lambda r: r.name),
            departments=sorted(by_dept[tid].values(), key=lambda r: (r.key is None, r.name)),
            total=totals[tid],
        )
        for tid, (year, month) in periods.items()
    }


def _name_rows(groups, id_column, name_column) -> None:
    """Give each report row (``{key: RateRow}`` per township) the name of its key, read
    in one query for every township (the row without a key keeps its own name)."""
    groups = list(groups)
    keys = {key for rows in groups for key in rows if key is not None}
    if not keys:
        return
    names = dict(
        db.session.execute(select(id_column, name_column).where(id_column.in_(keys))).all()
    )
    for rows in groups:
        for key, row in rows.items():
            if key is not None:
                row.name = names.get(key, "")


# ---------------------------------------------------------------------------
# Fees per month
# ---------------------------------------------------------------------------


@dataclass
class FeeRow:
    matter_id: int
    name: str
    standard_fen: int
    count: int
    total_fen: int

    @property
    def standard(self) -> Decimal:
        return yuan(self.standard_fen)

    @property
    def total(self) -> Decimal:
        return yuan(self.total_fen)


def fee_report(township_id: int, year: int, month: int) -> tuple[list[FeeRow], Decimal]:
    """Fees charged in the month per matter (count and total), and the month's total: one query."""
    return fee_reports({township_id: (year, month)})[township_id]


def fee_reports(
    months: dict[int, tuple[int, int]],
) -> dict[int, tuple[list[FeeRow], Decimal]]:
    """:func:`fee_report` of several townships at once, each for its own month
    (``{township id: (year, month)}``), by township id: one query."""
    from sqlalchemy import and_, or_

    if not months:
        return {}
    by_month: dict[tuple[int, int], set[int]] = defaultdict(set)
    for tid, month in months.items():
        by_month[month].add(tid)
    in_month = or_(
        *(
            and_(
                GuideFee.township_id.in_(ids),
                GuideFee.charged_on >= date(year, month, 1),
                GuideFee.charged_on < date(year + (month == 12), month % 12 + 1, 1),
            )
            for (year, month), ids in by_month.items()
        )
    )
    rows = db.session.execute(
        select(
            GuideFee.township_id,
            GuideMatter.id,
            GuideMatter.name,
            GuideMatter.fee_standard_fen,
            func.count(GuideFee.id),
            func.sum(GuideFee.amount_fen),
        )
        .join(GuideMatter, GuideMatter.id == GuideFee.matter_id)
        .where(in_month)
        .group_by(
            GuideFee.township_id, GuideMatter.id, GuideMatter.name, GuideMatter.fee_standard_fen
        )
        .order_by(GuideMatter.name)
    ).all()
    out: dict[int, list[FeeRow]] = {tid: [] for tid in months}
    for r in rows:
        out[r[0]].append(FeeRow(r[1], r[2], r[3], r[4], int(r[5] or 0)))
    return {tid: (found, yuan(sum(r.total_fen for r in found))) for tid, found in out.items()}


def month_of(raw: str | None, township_id: int) -> tuple[int, int]:
    """``YYYY-MM`` from a form, or the township's current month; GuideError if malformed."""
    if raw:
        try:
            year, month = (int(part) for part in raw.split("-"))
            date(year, month, 1)
        except ValueError as exc:
            raise GuideError(_("Give the month as YYYY-MM.")) from exc
        return year, month
    today = clock.today(township_id)
    return today.year, today.month


def previous_day(day: date) -> date:
    return day - timedelta(days=1)
