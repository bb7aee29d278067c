"""The rules of service commitments (服务承诺制度) as functions over the session.

* A leader who takes a matter answers at once (the case is registered, resolved and
  closed on the spot) or assigns a handler with a deadline by urgency (urgent and
  pressing: the policies' days; normal: the commitment kind's limit); the deadline is
  never later than the case's due date, so never beyond the core's 10/30 days.
* Disputes climb the three levels of mediation (村 → 镇 → 县) one at a time, and only
  after the level below failed.
* The yearly quota: a matter counts for a person in the year (the township's calendar
  year, in its time zone) in which its case was **closed**; it counts for the case's
  handler (the first responder if there was none) and for the leader who took it. It is
  *on time* when it was resolved on or before its due date.
  **Behind** (the pro-rated rule): fewer matters so far than the quota times the share
  of the year's days elapsed (today included), rounded down. For a year that is over
  the share is the whole year, so a leader with 9 of 10 is behind and with 10 is not.
"""

from __future__ import annotations

import calendar as pycalendar
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import func, select

from core import clock
from core.access import can
from core.cases import (
    CaseError,
    assign_case,
    close_case,
    register_case,
    resolve_case,
)
from core.contract import ArchivalRecord, PersonYearFigure
from core.db import db, utcnow
from core.inbox import announce
from core.labels import shorten
from core.links import link
from core.models import Case, CaseEvent, CaseStatus, Membership, OrgUnit, User
from core.plugins import state
from core.policies import get_policy, policies_for
from plugins.commitment.models import (
    LEVELS,
    CommitmentDispute,
    CommitmentMediation,
    CommitmentTake,
    DisputeStatus,
    MediationLevel,
    MediationOutcome,
    TakeMode,
    Urgency,
)
from plugins.commitment.policy import CADRE_QUOTA, LEADER_QUOTA, PRESSING_DAYS, URGENT_DAYS

KEY = "commitment"
TAKE = "commitment.take"
MEDIATE = "commitment.mediate"
QUOTA_LEADER = "commitment.quota_leader"
QUOTA_CADRE = "commitment.quota_cadre"
INBOX_ASSIGNED = "commitment.assigned"
INBOX_DISPUTE = "commitment.dispute"
CASE_KIND = "commitment"


class CommitmentError(ValueError):
    """Not allowed; ``str(exc)`` is the message for the user."""


def _text(value: str | None, limit: int | None, label: str, required: bool = True) -> str:
    value = (value or "").strip()
    if required and not value:
        raise CommitmentError(_("%(field)s is required.", field=label))
    if limit is not None and len(value) > limit:
        raise CommitmentError(_("%(field)s is longer than %(n)s characters.", field=label, n=limit))
    return value


def _past_date(
    day: date | None, township_id: int, label: str, not_before: date | None = None
) -> date:
    today = clock.today(township_id)
    day = day or today
    earliest = date(int(current_app.config.get("EARLIEST_YEAR", 2000)), 1, 1)
    if day > today:
        raise CommitmentError(_("%(field)s cannot be in the future.", field=label))
    if day < earliest:
        raise CommitmentError(_("%(field)s is before %(year)s.", field=label, year=earliest.year))
    if not_before is not None and day < not_before:
        raise CommitmentError(
            _("%(field)s cannot be before %(day)s.", field=label, day=not_before.isoformat())
        )
    return day


def staff_ids(township_id: int) -> set[int]:
    """Active users with a role in the township, its villages or stations."""
    return set(
        db.session.scalars(
            select(Membership.user_id)
            .join(OrgUnit, OrgUnit.id == Membership.org_unit_id)
            .join(User, User.id == Membership.user_id)
            .where(OrgUnit.township_id == township_id, User.active.is_(True))
        )
    )


# ---------------------------------------------------------------------------
# A leader takes a matter
# ---------------------------------------------------------------------------


def deadline_for(township_id: int, urgency: Urgency, accepted_on: date, due_on: date) -> date:
    """The handler's deadline by urgency, never after the case's due date."""
    if urgency == Urgency.urgent:
        days = int(get_policy(township_id, URGENT_DAYS))
    elif urgency == Urgency.pressing:
        days = int(get_policy(township_id, PRESSING_DAYS))
    else:
        return due_on
    return min(accepted_on + timedelta(days=days), due_on)


def take_matter(
    township: OrgUnit,
    *,
    leader: User,
    title: str,
    applicant_name: str,
    mode: TakeMode | str,
    description: str = "",
    answer: str = "",
    handler: User | None = None,
    urgency: Urgency | str | None = None,
) -> CommitmentTake:
    """A leader takes a citizen's matter: answered on the spot, or assigned with a deadline."""
    if not can(leader, TAKE, township.id):
        raise CommitmentError(_("Only a leader of the township takes matters here."))
    try:
        mode = TakeMode(mode)
    except ValueError as exc:
        raise CommitmentError(_("Choose whether you answer at once or assign a handler.")) from exc
    title = _text(title, 200, _("The title"))
    applicant_name = _text(applicant_name, 120, _("The applicant's name"))
    if mode == TakeMode.on_spot:
        answer = _text(answer, 5000, _("The answer"))
        handler = None
        urgency = None
    else:
        if handler is None or handler.id not in staff_ids(township.id):
            raise CommitmentError(_("Choose a handler of this township."))
        try:
            urgency = Urgency(urgency)
        except ValueError as exc:
            raise CommitmentError(_("Choose how urgent the matter is.")) from exc
    try:
        case = register_case(
            township=township,
            kind=CASE_KIND,
            title=title,
            applicant_name=applicant_name,
            description=description,
            first_responder=leader,
            accept=True,
        )
        if mode == TakeMode.on_spot:
            resolve_case(case, leader, answer)
            close_case(case, leader, _("Answered on the spot"))
            deadline = case.accepted_on
        else:
            assign_case(case, leader, handler, case.department)
            deadline = deadline_for(township.id, urgency, case.accepted_on, case.due_on)
    except CaseError as exc:
        db.session.rollback()
        raise CommitmentError(str(exc)) from exc
    take = CommitmentTake(
        township_id=township.id,
        case_id=case.id,
        leader_id=leader.id,
        mode=mode,
        urgency=urgency,
        handler_id=handler.id if handler else None,
        deadline=deadline,
    )
    db.session.add(take)
    db.session.flush()
    if handler is not None:
        with force_locale(current_app.config["DEFAULT_LOCALE"]):
            note = _(
                "Assigned by %(leader)s, to finish by %(day)s: %(title)s",
                leader=leader.name,
                day=deadline.isoformat(),
                title=title,
            )
        announce(
            [handler],
            INBOX_ASSIGNED,
            take.id,
            shorten(note, 190)[0],
            township_id=township.id,
            link=link("admin_cases.details_view", id=case.id),
        )
    db.session.commit()
    return take


# ---------------------------------------------------------------------------
# Disputes: three-level mediation
# ---------------------------------------------------------------------------


def open_dispute(
    township: OrgUnit,
    *,
    by: User,
    title: str,
    parties: str,
    village: OrgUnit | None = None,
    case: Case | None = None,
    opened_on: date | None = None,
) -> CommitmentDispute:
    if not can(by, MEDIATE, township.id):
        raise CommitmentError(_("You may not record disputes in this township."))
    if village is not None and village.township_id != township.id:
        raise CommitmentError(_("That choice belongs to another township."))
    if case is not None and case.township_id != township.id:
        raise CommitmentError(_("That choice belongs to another township."))
    dispute = CommitmentDispute(
        township_id=township.id,
        village_id=village.id if village else None,
        case_id=case.id if case else None,
        title=_text(title, 200, _("The title")),
        parties=_text(parties, 2000, _("The parties")),
        opened_on=_past_date(opened_on, township.id, _("The date")),
        recorded_by_id=by.id,
    )
    db.session.add(dispute)
    db.session.flush()
    mediators = [u for u in _users_with_in(MEDIATE, township.id) if u.id != by.id]
    with force_locale(current_app.config["DEFAULT_LOCALE"]):
        note = _("Dispute to mediate: %(title)s", title=dispute.title)
    announce(
        mediators,
        INBOX_DISPUTE,
        dispute.id,
        shorten(note, 190)[0],
        township_id=township.id,
        link=link("commitment_disputes.details_view", id=dispute.id),
    )
    db.session.commit()
    return dispute


def _users_with_in(permission: str, township_id: int) -> list[User]:
    from core.access import users_with

    return users_with(permission, township_id)


def next_level(dispute: CommitmentDispute) -> MediationLevel | None:
    """The level a dispute may be mediated at next (None when it is settled or ended)."""
    if dispute.status != DisputeStatus.open:
        return None
    done = len(dispute.mediations)
    return LEVELS[done] if done < len(LEVELS) else None


def record_mediation(
    dispute: CommitmentDispute,
    *,
    by: User,
    level: MediationLevel | str,
    held_on: date | None,
    mediators: str,
    outcome: MediationOutcome | str,
    agreement: str = "",
) -> CommitmentMediation:
    """Record one level of mediation. A dispute starts in the village and moves up a level
    only after the level below failed; an agreement settles it; failure at the county ends
    it unresolved. Settled or ended disputes go to the archive."""
    if not can(by, MEDIATE, dispute.township_id):
        raise CommitmentError(_("You may not record disputes in this township."))
    try:
        level = MediationLevel(level)
        outcome = MediationOutcome(outcome)
    except ValueError as exc:
        raise CommitmentError(_("Choose the level and the outcome.")) from exc
    expected = next_level(dispute)
    if expected is None:
        raise CommitmentError(_("This dispute is no longer under mediation."))
    if level != expected:
        if not dispute.mediations:
            raise CommitmentError(_("Mediation starts in the village (村级调解)."))
        raise CommitmentError(
            _(
                "A dispute moves up only after the lower level failed: "
                "the next level is %(level)s.",
                level=expected.label,
            )
        )
    previous = dispute.mediations[-1].held_on if dispute.mediations else dispute.opened_on
    held_on = _past_date(held_on, dispute.township_id, _("The date"), not_before=previous)
    mediators = _text(mediators, 300, _("The mediators"))
    agreement = _text(
        agreement, 10000, _("The agreement"), required=outcome == MediationOutcome.agreed
    )
    row = CommitmentMediation(
        township_id=dispute.township_id,
        dispute_id=dispute.id,
        level=level,
        held_on=held_on,
        mediators=mediators,
        outcome=outcome,
        agreement=agreement,
        recorded_by_id=by.id,
    )
    db.session.add(row)
    if outcome == MediationOutcome.agreed:
        dispute.status = DisputeStatus.settled
    elif level == LEVELS[-1]:
        dispute.status = DisputeStatus.unresolved
    db.session.flush()
    if dispute.status != DisputeStatus.open:
        from core.records import produce

        db.session.refresh(dispute)
        produce(db.session.get(OrgUnit, dispute.township_id), dispute_record(dispute))
    db.session.commit()
    return row


def trail(dispute: CommitmentDispute) -> list[dict]:
    """The dispute's course in words: opened, each level with its outcome, each move up."""
    entries = [{"on": dispute.opened_on, "what": _("Dispute recorded"), "note": dispute.parties}]
    for n, m in enumerate(dispute.mediations):
        if n:
            entries.append(
                {
                    "on": m.held_on,
                    "what": _(
                        "Moved up to %(level)s after %(lower)s failed",
                        level=m.level.label,
                        lower=dispute.mediations[n - 1].level.label,
                    ),
                    "note": "",
                }
            )
        entries.append(
            {
                "on": m.held_on,
                "what": f"{m.level.label}: {m.outcome.label}",
                "note": _("Mediators: %(names)s", names=m.mediators)
                + (f"; {m.agreement}" if m.agreement else ""),
            }
        )
    if dispute.status != DisputeStatus.open:
        entries.append({"on": entries[-1]["on"], "what": dispute.status.label, "note": ""})
    return entries


def dispute_record(dispute: CommitmentDispute) -> ArchivalRecord:
    return ArchivalRecord(
        source=KEY,
        reference=f"dispute:{dispute.id}",
        kind="dispute_mediation",
        title=f"三级调处 {dispute.title}",
        produced_at=utcnow(),
        summary=dispute.status.label,
        url=link("commitment_disputes.details_view", id=dispute.id),
        responsible=dispute.village.name if dispute.village else "",
        retention_hint="30y",
        trail=tuple(
            {"at": e["on"].isoformat(), "who": "", "what": str(e["what"]), "note": e["note"]}
            for e in trail(dispute)
        ),
    )


# ---------------------------------------------------------------------------
# The yearly quota
# ---------------------------------------------------------------------------


def year_bounds(township_id: int, year: int) -> tuple[datetime, datetime]:
    zone = clock.zone(township_id)
    start = datetime.combine(date(year, 1, 1), time(), zone).astimezone(UTC)
    end = datetime.combine(date(year + 1, 1, 1), time(), zone).astimezone(UTC)
    return start, end


def expected_so_far(quota: int, year: int, today: date) -> int:
    """The quota pro-rated to the days of ``year`` elapsed by ``today`` (today included),
    rounded down; the whole quota once the year is over."""
    days = 366 if pycalendar.isleap(year) else 365
    if today.year > year:
        elapsed = days
    elif today.year < year:
        elapsed = 0
    else:
        elapsed = (today - date(year, 1, 1)).days + 1
    return quota * elapsed // days


@dataclass
class PersonQuota:
    user_id: int
    name: str
    role: str  # "leader" or "cadre"
    quota: int
    expected: int
    handled: int = 0
    on_time: int = 0
    on_spot: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)

    @property
    def late(self) -> int:
        return self.handled - self.on_time

    @property
    def behind(self) -> bool:
        return self.handled < self.expected

    @property
    def met(self) -> bool:
        return self.handled >= self.quota

    @property
    def missing(self) -> int:
        return max(self.expected - self.handled, 0)


@dataclass
class QuotaReport:
    township_id: int
    year: int
    today: date
    people: list[PersonQuota]
    kinds: list[str]

    @property
    def behind(self) -> list[PersonQuota]:
        return [p for p in self.people if p.behind]


def _quota_roles(township_ids: set[int]) -> dict[int, tuple[set[str], set[str]]]:
    """Roles counted as leaders and as cadres in each township (one query for their grants)."""
    from core.access import township_grants

    grants = township_grants(township_ids)
    township_state = state()
    roles = list(township_state.roles)

    def holds(township_id: int, role: str, permission: str) -> bool:
        change = grants.get((township_id, role), {})
        return change.get(permission, permission in township_state.default_permissions(role))

    return {
        tid: (
            {r for r in roles if holds(tid, r, QUOTA_LEADER)},
            {r for r in roles if holds(tid, r, QUOTA_CADRE)},
        )
        for tid in township_ids
    }


def quota_report(
    township_id: int, year: int, today: date | None = None, user_ids: list[int] | None = None
) -> QuotaReport:
    """Matters handled per person in ``year`` against the quota (see the module docstring for
    the rules). At most four queries whatever the number of people: the grants, the staff and their
    roles, the policies, the closed cases with their resolution. See :func:`quota_reports`."""
    today = today or clock.today(township_id)
    return quota_reports({township_id: (year, today)}, user_ids)[township_id]


def quota_reports(
    periods: dict[int, tuple[int, date]], user_ids: list[int] | None = None
) -> dict[int, QuotaReport]:
    """:func:`quota_report` of several townships at once, each for its own year and today
    (``{township id: (year, today)}``), by township id.

    A fixed number of queries whatever the number of townships or people: the grants, the
    staff and their roles, the policies (cached per township), the closed cases counted per
    township, handler, taker and kind for the townships whose zone keeps one UTC offset
    through the year, and case by case for those whose zone changes it.
    """
    from sqlalchemy import and_, or_

    township_ids = set(periods)
    if not township_ids:
        return {}
    roles = _quota_roles(township_ids)
    counted_roles = set().union(*(leaders | cadres for leaders, cadres in roles.values()))
    kinds_of: dict[tuple[int, int], set[str]] = defaultdict(set)
    names: dict[int, str] = {}
    for tid, uid, name, role in db.session.execute(
        select(OrgUnit.township_id, User.id, User.name, Membership.role)
        .join(Membership, Membership.user_id == User.id)
        .join(OrgUnit, OrgUnit.id == Membership.org_unit_id)
        .where(
            OrgUnit.township_id.in_(township_ids),
            User.active.is_(True),
            Membership.role.in_(counted_roles),
        )
    ):
        leader_roles, cadre_roles = roles[tid]
        if role not in leader_roles | cadre_roles:
            continue
        names[uid] = name
        kinds_of[(tid, uid)].add("leader" if role in leader_roles else "cadre")
    people: dict[int, dict[int, PersonQuota]] = {tid: {} for tid in township_ids}
    quotas = {}
    for tid in township_ids:
        policies = policies_for(tid)
        quotas[tid] = int(policies[LEADER_QUOTA]), int(policies[CADRE_QUOTA])
    for (tid, uid), tags in kinds_of.items():
        if user_ids is not None and uid not in user_ids:
            continue
        is_leader = "leader" in tags
        leader_quota, cadre_quota = quotas[tid]
        quota = leader_quota if is_leader else cadre_quota
        year, today = periods[tid]
        people[tid][uid] = PersonQuota(
            uid,
            names[uid],
            "leader" if is_leader else "cadre",
            quota,
            expected_so_far(quota, year, today),
        )
    kinds: dict[int, set[str]] = {tid: set() for tid in township_ids}
    staffed = {tid for tid in township_ids if people[tid]}
    if staffed:
        zones = {tid: clock.zone(tid) for tid in staffed}
        bounds = {tid: year_bounds(tid, periods[tid][0]) for tid in staffed}
        offsets = {tid: clock.constant_offset(zones[tid], *bounds[tid]) for tid in staffed}
        by_bounds: dict[tuple[datetime, datetime], set[int]] = defaultdict(set)
        for tid, period in bounds.items():
            by_bounds[period].add(tid)
        handler = func.coalesce(Case.handler_id, Case.first_responder_id)
        resolved = (
            select(CaseEvent.case_id.label("case_id"), func.max(CaseEvent.at).label("resolved_at"))
            .where(CaseEvent.action == "resolved")
            .group_by(CaseEvent.case_id)
            .subquery()
        )
        closed_in_year = or_(
            *(
                and_(Case.township_id.in_(ids), Case.closed_at >= start, Case.closed_at < end)
                for (start, end), ids in by_bounds.items()
            )
        )
        base = (
            select()
            .select_from(Case)
            .outerjoin(resolved, resolved.c.case_id == Case.id)
            .outerjoin(CommitmentTake, CommitmentTake.case_id == Case.id)
            .where(Case.status == CaseStatus.closed, closed_in_year)
        )
        keys = (Case.township_id, Case.kind, handler, CommitmentTake.leader_id, CommitmentTake.mode)
        groups: list[tuple] = []
        on_time = clock.count_on_or_before(
            resolved.c.resolved_at, Case.due_on, Case.township_id, offsets
        )
        if on_time is not None:
            # counted in SQL: one row per township, handler, taker, way taken and kind
            steady = {tid for tid, minutes in offsets.items() if minutes is not None}
            groups += [
                tuple(row)
                for row in db.session.execute(
                    base.add_columns(*keys, func.count(), on_time)
                    .where(Case.township_id.in_(steady))
                    .group_by(*keys)
                )
            ]
        shifting = {tid for tid, minutes in offsets.items() if minutes is None}
        if shifting:  # a zone that changes its offset in the year: case by case with its rules
            counted: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
            for tid, kind, handler_id, taker_id, mode, due_on, resolved_at in db.session.execute(
                base.add_columns(*keys, Case.due_on, resolved.c.resolved_at).where(
                    Case.township_id.in_(shifting)
                )
            ):
                pair = counted[(tid, kind, handler_id, taker_id, mode)]
                pair[0] += 1
                if resolved_at is not None and due_on is not None:
                    if isinstance(resolved_at, str):
                        resolved_at = datetime.fromisoformat(resolved_at)
                    if resolved_at.tzinfo is None:
                        resolved_at = resolved_at.replace(tzinfo=UTC)
                    pair[1] += resolved_at.astimezone(zones[tid]).date() <= due_on
            groups += [(*key, n, k) for key, (n, k) in counted.items()]
        for tid, kind, handler_id, taker_id, mode, count, on_time_count in groups:
            mode = TakeMode(mode) if mode is not None else None
            for uid in {handler_id, taker_id} - {None}:
                person = people[tid].get(uid)
                if person is None:
                    continue
                person.handled += int(count)
                person.on_time += int(on_time_count or 0)
                if mode == TakeMode.on_spot and uid == taker_id:
                    person.on_spot += int(count)
                person.by_kind[kind] = person.by_kind.get(kind, 0) + int(count)
                kinds[tid].add(kind)
    reports = {}
    for tid, (year, today) in periods.items():
        ordered = sorted(
            people[tid].values(), key=lambda p: (p.role != "leader", not p.behind, p.name)
        )
        reports[tid] = QuotaReport(tid, year, today, ordered, sorted(kinds[tid]))
    return reports


def person_year_figures(
    township: OrgUnit, year: int, user_ids: list[int] | None
) -> list[PersonYearFigure]:
    """The quota report as figures per person and year for other institutions."""
    report = quota_report(township.id, year, user_ids=user_ids)
    out = []
    for p in report.people:
        note = _("behind: %(n)s expected so far", n=p.expected) if p.behind else ""
        out.append(
            PersonYearFigure(
                "commitment.matters_handled",
                "办理服务事项",
                "Service matters handled",
                user_id=p.user_id,
                year=year,
                value=p.handled,
                target=p.quota,
                met=p.met,
                note=note,
            )
        )
        out.append(
            PersonYearFigure(
                "commitment.matters_on_time",
                "按时办结服务事项",
                "Service matters finished on time",
                user_id=p.user_id,
                year=year,
                value=p.on_time,
            )
        )
    return out


def kind_label(code: str) -> str:
    from core.app import current_locale

    kind = state().case_kinds.get(code)
    if kind is None:
        return code
    return kind.label_en if current_locale() == "en" else kind.label
