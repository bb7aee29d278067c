"""The supervision rules (服务监督制度) as functions over ``db.session``.

* A finding (poor attitude, low quality, irregular procedure) is recorded by the group
  (:func:`record_finding`) or reported by a citizen from the public form
  (:func:`submit_citizen_report`, with a receipt number); either goes to the leading
  group, which gives it a remedy with an owner and a deadline (:func:`assign_remedy`) or
  dismisses it; the owner reports it remedied and the group verifies
  (:func:`report_remedied`, :func:`verify`).
* An overdue remedy reminds its owner and the leading group once per deadline: the daily
  job records one durable task per finding and deadline (:func:`record_overdue_reminders`),
  the task notifies (:func:`remind`).
* A serious error in an area the group covered with no finding raised there in the
  look-back window names the supervisors who covered it (:func:`record_serious_error`).
* :func:`yearly_report` lists findings per area and per supervisor.

Refusals raise :class:`SupervisionError` with every reason; nothing is written then.
"""

from __future__ import annotations

import hashlib
import secrets
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

import phonenumbers
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import func, select

from core import clock
from core.access import can, users_with
from core.db import db, utcnow
from core.inbox import announce
from core.links import link
from core.models import Case, Membership, OrgUnit, Person, UnitKind, User
from core.notifications import notify
from core.policies import get_policy
from plugins.supervision.models import (
    OPEN_FINDINGS,
    FindingKind,
    FindingSource,
    FindingStatus,
    SupervisionAccountability,
    SupervisionArea,
    SupervisionCoverage,
    SupervisionEvent,
    SupervisionFinding,
    SupervisionMember,
    SupervisionPhoto,
    SupervisionSeriousError,
    SupervisionTerm,
)

KEY = "supervision"
READ = "supervision.read"
RECORD = "supervision.record"
LEAD = "supervision.lead"
VERIFY = "supervision.verify"
MANAGE = "supervision.manage"

INBOX_RAISED = "supervision.raised"
INBOX_REMEDY = "supervision.remedy"
INBOX_VERIFY = "supervision.verify"

ACCOUNTABILITY_DAYS = "supervision.accountability_days"

TEXT_MAX = 2000
WINDOW_MAX = 60
MAX_PHOTO_BYTES = 2 * 1024 * 1024
SIGNATURES = {"image/jpeg": b"\xff\xd8\xff", "image/png": b"\x89PNG\r\n\x1a\n"}


class SupervisionError(ValueError):
    """A refused change; ``problems`` lists every reason (nothing was written)."""

    def __init__(self, problems: list[str] | str):
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("; ".join(self.problems))


def action_label(code: str) -> str:
    return {
        "recorded": _("Recorded by the supervision group"),
        "reported": _("Reported by a citizen"),
        "remedy_assigned": _("Remedy assigned by the leading group"),
        "dismissed": _("Dismissed by the leading group"),
        "remedied": _("Reported remedied"),
        "verified": _("Verified"),
        "sent_back": _("Sent back: not remedied"),
        "reminded": _("Overdue: owner and leading group reminded"),
    }.get(code, code)


def _note(finding: SupervisionFinding, action: str, actor: User | None, note: str = "") -> None:
    db.session.add(
        SupervisionEvent(
            township_id=finding.township_id,
            finding_id=finding.id,
            actor_id=actor.id if actor else None,
            action=action,
            note=note or "",
        )
    )


def trail(finding_id: int) -> list[SupervisionEvent]:
    return list(
        db.session.scalars(
            select(SupervisionEvent)
            .where(SupervisionEvent.finding_id == finding_id)
            .order_by(SupervisionEvent.id)
        )
    )


def _default_locale():
    return force_locale(current_app.config["DEFAULT_LOCALE"])


def earliest_date() -> date:
    return date(int(current_app.config.get("EARLIEST_YEAR", 2000)), 1, 1)


# ---------------------------------------------------------------------------
# The township's people and places
# ---------------------------------------------------------------------------


def township_staff(township_id: int) -> list[User]:
    return list(
        db.session.scalars(
            select(User)
            .join(Membership, Membership.user_id == User.id)
            .join(OrgUnit, OrgUnit.id == Membership.org_unit_id)
            .where(OrgUnit.township_id == township_id, User.active.is_(True))
            .order_by(User.name, User.id)
            .distinct()
        )
    )


def is_staff(township_id: int, user_id: int | None) -> bool:
    if not user_id:
        return False
    return bool(
        db.session.scalar(
            select(Membership.id)
            .join(OrgUnit, OrgUnit.id == Membership.org_unit_id)
            .where(Membership.user_id == user_id, OrgUnit.township_id == township_id)
            .limit(1)
        )
    )


def stations(township_id: int) -> list[OrgUnit]:
    return list(
        db.session.scalars(
            select(OrgUnit)
            .where(OrgUnit.township_id == township_id, OrgUnit.kind == UnitKind.station)
            .order_by(OrgUnit.name)
        )
    )


def areas(township_id: int, active_only: bool = True) -> list[SupervisionArea]:
    query = select(SupervisionArea).where(SupervisionArea.township_id == township_id)
    if active_only:
        query = query.where(SupervisionArea.active.is_(True))
    return list(db.session.scalars(query.order_by(SupervisionArea.name)))


def members_on(township_id: int, day: date) -> list[SupervisionMember]:
    """The group's members whose term covers ``day``."""
    return list(
        db.session.scalars(
            select(SupervisionMember)
            .join(SupervisionTerm, SupervisionTerm.id == SupervisionMember.term_id)
            .where(
                SupervisionMember.township_id == township_id,
                SupervisionTerm.starts_on <= day,
                SupervisionTerm.ends_on >= day,
            )
        )
    )


def member_of_user(township_id: int, user_id: int, day: date) -> SupervisionMember | None:
    return next((m for m in members_on(township_id, day) if m.user_id == user_id), None)


def check_term(name: str, starts_on: date | None, ends_on: date | None) -> list[str]:
    problems = []
    if not (name or "").strip():
        problems.append(_("Name the term."))
    if starts_on is None or ends_on is None:
        problems.append(_("Give the first and the last day of the term."))
    elif ends_on < starts_on:
        problems.append(_("The term must not end before it starts."))
    elif starts_on < earliest_date():
        problems.append(_("The first day is before %(year)d.", year=earliest_date().year))
    return problems


def check_photo(data: bytes | None) -> str:
    """The photo's type from its signature (JPEG or PNG, at most 2 MB)."""
    if not data:
        raise SupervisionError(_("The photo is empty."))
    if len(data) > MAX_PHOTO_BYTES:
        raise SupervisionError(
            _(
                "The photo is %(size)s KB; at most %(max)s KB are accepted.",
                size=len(data) // 1024,
                max=MAX_PHOTO_BYTES // 1024,
            )
        )
    for content_type, signature in SIGNATURES.items():
        if data.startswith(signature):
            return content_type
    raise SupervisionError(_("The photo must be a JPEG or PNG image."))


# ---------------------------------------------------------------------------
# Findings
# ---------------------------------------------------------------------------


@dataclass
class FindingInput:
    kind: str | None
    observed_on: date | None
    evidence: str
    case_receipt: str = ""
    staff_user_id: int | None = None
    department_id: int | None = None
    area_id: int | None = None
    window: str = ""
    found_by_member_id: int | None = None


def _check_finding(township: OrgUnit, data: FindingInput) -> tuple[list[str], dict]:
    problems: list[str] = []
    resolved: dict = {}
    try:
        resolved["kind"] = FindingKind(data.kind)
    except ValueError:
        problems.append(
            _("Choose what was found: poor attitude, low quality or irregular procedure.")
        )
    today = clock.today(township)
    if data.observed_on is None:
        problems.append(_("Give the date it was seen."))
    elif data.observed_on > today:
        problems.append(_("The date it was seen cannot be in the future."))
    elif data.observed_on < earliest_date():
        problems.append(_("The date is before %(year)d.", year=earliest_date().year))
    evidence = (data.evidence or "").strip()
    if not evidence:
        problems.append(_("Describe what happened."))
    elif len(evidence) > TEXT_MAX:
        problems.append(
            _(
                "The description is longer than %(n)d characters (%(m)d).",
                n=TEXT_MAX,
                m=len(evidence),
            )
        )
    window = (data.window or "").strip()
    if len(window) > WINDOW_MAX:
        problems.append(_("The window or place is longer than %(n)d characters.", n=WINDOW_MAX))
    case = None
    if (data.case_receipt or "").strip():
        case = db.session.scalar(
            select(Case).where(
                Case.receipt_no == data.case_receipt.strip().upper(),
                Case.township_id == township.id,
            )
        )
        if case is None:
            problems.append(_("No case of this township has that receipt number."))
    if data.staff_user_id and not is_staff(township.id, data.staff_user_id):
        problems.append(_("The staff member does not work for this township."))
    if data.department_id and data.department_id not in {s.id for s in stations(township.id)}:
        problems.append(_("That department is not a station or office of this township."))
    area = db.session.get(SupervisionArea, data.area_id) if data.area_id else None
    if data.area_id and (area is None or area.township_id != township.id):
        problems.append(_("The area belongs to another township."))
    if not (case or data.staff_user_id or data.department_id or area or window):
        problems.append(
            _("Say where it was seen: a case, a staff member, a department or a window.")
        )
    member = None
    if data.found_by_member_id:
        member = db.session.get(SupervisionMember, data.found_by_member_id)
        if member is None or member.township_id != township.id:
            problems.append(_("The supervisor is not a member of this township's group."))
        elif data.observed_on and not (
            member.term.starts_on <= data.observed_on <= member.term.ends_on
        ):
            problems.append(_("On that day the supervisor's term had not begun or had ended."))
    resolved.update(case=case, area=area, member=member, evidence=evidence, window=window)
    return problems, resolved


def _new_finding(
    township: OrgUnit,
    data: FindingInput,
    resolved: dict,
    source: FindingSource,
    by: User | None,
    photo: bytes | None,
    contact: str = "",
    receipt_no: str | None = None,
) -> SupervisionFinding:
    area = resolved["area"]
    finding = SupervisionFinding(
        township_id=township.id,
        receipt_no=receipt_no,
        kind=resolved["kind"],
        source=source,
        status=FindingStatus.raised,
        observed_on=data.observed_on,
        case_id=resolved["case"].id if resolved["case"] else None,
        staff_user_id=data.staff_user_id or None,
        department_id=data.department_id or (area.department_id if area else None),
        area_id=area.id if area else None,
        window=resolved["window"],
        evidence=resolved["evidence"],
        found_by_member_id=resolved["member"].id if resolved["member"] else None,
        recorded_by_id=by.id if by else None,
        citizen_contact=contact,
    )
    db.session.add(finding)
    db.session.flush()
    if photo:
        content_type = check_photo(photo)
        db.session.add(
            SupervisionPhoto(
                township_id=township.id,
                finding_id=finding.id,
                content_type=content_type,
                size=len(photo),
                sha256=hashlib.sha256(photo).hexdigest(),
                data=photo,
            )
        )
    _note(finding, "reported" if source == FindingSource.citizen else "recorded", by)
    with _default_locale():
        title = _(
            "Supervision finding: %(kind)s, %(where)s",
            kind=finding.kind.label,
            where=finding.where(),
        )
    announce(
        users_with(LEAD, township.id),
        INBOX_RAISED,
        finding.id,
        title,
        body=finding.evidence[:200],
        township_id=township.id,
        link=link("supervision_findings.handle_view", id=finding.id),
    )
    return finding


def record_finding(
    township: OrgUnit, data: FindingInput, by: User, photo: bytes | None = None
) -> SupervisionFinding:
    """The group records a finding; it goes to the leading group at once. Commits."""
    problems, resolved = _check_finding(township, data)
    if not can(by, RECORD, township.id):
        problems.append(_("You may not record findings in this township."))
    if photo:
        try:
            check_photo(photo)
        except SupervisionError as exc:
            problems += exc.problems
    if problems:
        raise SupervisionError(problems)
    if resolved["member"] is None and data.observed_on:
        resolved["member"] = member_of_user(township.id, by.id, data.observed_on)
    finding = _new_finding(township, data, resolved, FindingSource.supervisor, by, photo)
    db.session.commit()
    return finding


def make_receipt_number(township: OrgUnit) -> str:
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    token = "".join(secrets.choice(alphabet) for _ in range(6))
    return f"{township.code.upper()[:8]}-JD{clock.today(township):%y%m%d}-{token}"


def normalise_contact(raw: str | None) -> str:
    raw = (raw or "").strip()
    if not raw:
        return ""
    try:
        number = phonenumbers.parse(raw, "CN")
    except phonenumbers.NumberParseException:
        raise ValueError(_("“%(raw)s” is not a phone number.", raw=raw[:40])) from None
    if not phonenumbers.is_valid_number(number):
        raise ValueError(_("“%(raw)s” is not a valid phone number in China.", raw=raw[:40]))
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def submit_citizen_report(
    township: OrgUnit, data: FindingInput, contact: str = ""
) -> SupervisionFinding:
    """A citizen reports a problem from the public form: a finding of the source
    ``citizen`` with a receipt number, sent to the leading group. Commits."""
    data.found_by_member_id = None
    problems, resolved = _check_finding(township, data)
    try:
        contact = normalise_contact(contact)
    except ValueError as exc:
        problems.append(str(exc))
    if problems:
        raise SupervisionError(problems)
    finding = _new_finding(
        township,
        data,
        resolved,
        FindingSource.citizen,
        None,
        None,
        contact=contact,
        receipt_no=make_receipt_number(township),
    )
    db.session.commit()
    return finding


def _require(finding: SupervisionFinding, status: FindingStatus, message: str) -> None:
    if finding.status != status:
        raise SupervisionError(message)


def assign_remedy(
    finding: SupervisionFinding, by: User, measure: str, owner_id: int | None, deadline: date | None
) -> SupervisionFinding:
    """The leading group gives the finding a remedy: what to do, who, by when. Commits."""
    _require(
        finding, FindingStatus.raised, _("Only a finding with the leading group gets a remedy.")
    )
    problems = []
    if not can(by, LEAD, finding.township_id):
        problems.append(_("Only the leading group assigns remedies."))
    measure = (measure or "").strip()
    if not measure:
        problems.append(_("Say what must be remedied and how."))
    elif len(measure) > TEXT_MAX:
        problems.append(_("The remedy is longer than %(n)d characters.", n=TEXT_MAX))
    if not is_staff(finding.township_id, owner_id):
        problems.append(_("Choose an owner who works for the township."))
    today = clock.today(finding.township_id)
    if deadline is None:
        problems.append(_("Set a deadline."))
    elif deadline < today:
        problems.append(_("The deadline cannot be in the past."))
    elif deadline > today + timedelta(days=366):
        problems.append(_("The deadline is more than a year ahead."))
    if problems:
        raise SupervisionError(problems)
    finding.status = FindingStatus.remedying
    finding.remedy_measure = measure
    finding.remedy_owner_id = owner_id
    finding.remedy_deadline = deadline
    finding.remedy_assigned_by_id = by.id
    finding.remedy_assigned_at = utcnow()
    _note(finding, "remedy_assigned", by, measure)
    with _default_locale():
        title = _("Remedy by %(due)s: %(kind)s", due=deadline.isoformat(), kind=finding.kind.label)
    announce(
        [db.session.get(User, owner_id)],
        INBOX_REMEDY,
        finding.id,
        title,
        body=measure,
        township_id=finding.township_id,
        link=link("supervision_findings.handle_view", id=finding.id),
    )
    db.session.commit()
    return finding


def dismiss(finding: SupervisionFinding, by: User, reason: str) -> SupervisionFinding:
    _require(
        finding, FindingStatus.raised, _("Only a finding with the leading group can be dismissed.")
    )
    problems = []
    if not can(by, LEAD, finding.township_id):
        problems.append(_("Only the leading group dismisses findings."))
    reason = (reason or "").strip()
    if not reason:
        problems.append(_("Say why the finding is dismissed."))
    elif len(reason) > TEXT_MAX:
        problems.append(_("The reason is longer than %(n)d characters.", n=TEXT_MAX))
    if problems:
        raise SupervisionError(problems)
    finding.status = FindingStatus.dismissed
    finding.dismissed_reason = reason
    _note(finding, "dismissed", by, reason)
    db.session.commit()
    return finding


def report_remedied(finding: SupervisionFinding, by: User, note: str) -> SupervisionFinding:
    """The owner reports the remedy done; the group is asked to verify. Commits."""
    _require(
        finding,
        FindingStatus.remedying,
        _("Only a finding being remedied can be reported remedied."),
    )
    problems = []
    if by.id != finding.remedy_owner_id and not can(by, LEAD, finding.township_id):
        problems.append(_("Only the owner reports the remedy done."))
    note = (note or "").strip()
    if not note:
        problems.append(_("Say what was done."))
    elif len(note) > TEXT_MAX:
        problems.append(_("The note is longer than %(n)d characters.", n=TEXT_MAX))
    if problems:
        raise SupervisionError(problems)
    finding.status = FindingStatus.remedied
    finding.remedy_done_at = utcnow()
    finding.remedy_done_note = note
    _note(finding, "remedied", by, note)
    with _default_locale():
        title = _(
            "Remedy to verify: %(kind)s, %(where)s", kind=finding.kind.label, where=finding.where()
        )
    announce(
        [u for u in users_with(VERIFY, finding.township_id) if u.id != finding.remedy_owner_id],
        INBOX_VERIFY,
        finding.id,
        title,
        body=note,
        township_id=finding.township_id,
        link=link("supervision_findings.handle_view", id=finding.id),
    )
    db.session.commit()
    return finding


def verify(
    finding: SupervisionFinding,
    by: User,
    accepted: bool,
    note: str,
    new_deadline: date | None = None,
) -> SupervisionFinding:
    """The group verifies the remedy: accepted closes the finding (and hands it to the
    archive); otherwise it goes back to the owner, with a new deadline if the old one
    passed. Commits."""
    _require(finding, FindingStatus.remedied, _("Only a remedied finding can be verified."))
    problems = []
    if not can(by, VERIFY, finding.township_id):
        problems.append(_("Only the supervision group or a leader verifies remedies."))
    if by.id == finding.remedy_owner_id:
        problems.append(_("The owner cannot verify their own remedy."))
    note = (note or "").strip()
    if len(note) > TEXT_MAX:
        problems.append(_("The note is longer than %(n)d characters.", n=TEXT_MAX))
    today = clock.today(finding.township_id)
    if not accepted:
        if not note:
            problems.append(_("Say what is still wrong."))
        if new_deadline is not None and new_deadline < today:
            problems.append(_("The new deadline cannot be in the past."))
        if new_deadline is None and finding.remedy_deadline < today:
            problems.append(_("The deadline has passed: set a new one."))
    if problems:
        raise SupervisionError(problems)
    finding.verified_by_id = by.id
    finding.verified_at = utcnow()
    finding.verify_note = note
    if accepted:
        finding.status = FindingStatus.verified
        _note(finding, "verified", by, note)
        _archive(finding)
    else:
        finding.status = FindingStatus.remedying
        if new_deadline is not None:
            finding.remedy_deadline = new_deadline
        _note(finding, "sent_back", by, note)
    db.session.commit()
    return finding


def _archive(finding: SupervisionFinding) -> None:
    from markupsafe import escape

    from core.contract import ArchivalRecord
    from core.records import in_product_language, produce

    rows = [
        ("问题类型 Kind", finding.kind.label),
        ("发现日期 Seen on", finding.observed_on.isoformat()),
        ("地点 Where", finding.where()),
        ("情况 Evidence", finding.evidence),
        ("整改措施 Remedy", finding.remedy_measure),
        ("责任人 Owner", finding.remedy_owner.name if finding.remedy_owner else ""),
        (
            "整改期限 Deadline",
            finding.remedy_deadline.isoformat() if finding.remedy_deadline else "",
        ),
        ("整改情况 Done", finding.remedy_done_note),
        ("核实意见 Verified", finding.verify_note),
    ]
    content = "".join(f"<tr><th>{escape(a)}</th><td>{escape(b)}</td></tr>" for a, b in rows)
    produce(
        db.session.get(OrgUnit, finding.township_id),
        ArchivalRecord(
            source=KEY,
            reference=f"finding:{finding.id}",
            kind="supervision:finding",
            title=f"服务监督问题整改：{finding.kind.label} {finding.observed_on.isoformat()}",
            produced_at=finding.verified_at or utcnow(),
            summary=finding.evidence[:200],
            responsible=finding.remedy_owner.name if finding.remedy_owner else "",
            doc_number=finding.receipt_no or "",
            retention_hint="10y",
            content=f"<table class='record'>{content}</table>",
            trail=tuple(
                {
                    "at": e.at.isoformat(),
                    "who": e.actor.name if e.actor else "",
                    "what": in_product_language(lambda e=e: action_label(e.action)),
                    "note": e.note,
                }
                for e in trail(finding.id)
            ),
        ),
    )


# ---------------------------------------------------------------------------
# Overdue remedies: remind once per deadline
# ---------------------------------------------------------------------------


def record_overdue_reminders(today: date | None = None) -> int:
    """For every township that enabled supervision, record one durable ``supervision.remind``
    task per finding whose remedy is past its deadline, keyed by finding and deadline, so
    however often the job runs a deadline reminds once. Returns how many were new."""
    from core.institutions import townships_enabling
    from core.models import TaskRecord
    from core.tasks import enqueue

    recorded = 0
    for township_id in sorted(townships_enabling(KEY)):
        day = today or clock.today(township_id)
        overdue = db.session.execute(
            select(SupervisionFinding.id, SupervisionFinding.remedy_deadline).where(
                SupervisionFinding.township_id == township_id,
                SupervisionFinding.status == FindingStatus.remedying,
                SupervisionFinding.remedy_deadline < day,
            )
        ).all()
        if not overdue:
            continue
        keys = {
            f"supervision-remind:{fid}:{deadline.isoformat()}": (fid, deadline)
            for fid, deadline in overdue
        }
        known = set(db.session.scalars(select(TaskRecord.key).where(TaskRecord.key.in_(keys))))
        for key, (finding_id, deadline) in keys.items():
            if key in known:
                continue
            enqueue("supervision.remind", key, finding_id=finding_id, deadline=deadline.isoformat())
            recorded += 1
    db.session.commit()
    return recorded


def remind(finding_id: int, deadline: str) -> None:
    """The durable task: tell the owner and the leading group that the remedy is overdue
    (in the task's transaction; nothing if it was done or the deadline moved meanwhile)."""
    finding = db.session.get(SupervisionFinding, finding_id)
    if finding is None or finding.status != FindingStatus.remedying:
        return
    if finding.remedy_deadline is None or finding.remedy_deadline.isoformat() != deadline:
        return
    with _default_locale():
        title = _(
            "Overdue remedy (due %(due)s): %(kind)s, %(where)s",
            due=deadline,
            kind=finding.kind.label,
            where=finding.where(),
        )
    people = [finding.remedy_owner, *users_with(LEAD, finding.township_id)]
    notify(
        people,
        title,
        finding.remedy_measure,
        link=link("supervision_findings.handle_view", id=finding.id),
        key=f"supervision:overdue:{finding.id}:{deadline}",
        township_id=finding.township_id,
    )
    finding.reminded_for = finding.remedy_deadline
    _note(finding, "reminded", None, deadline)


# ---------------------------------------------------------------------------
# Accountability of supervisors
# ---------------------------------------------------------------------------


@dataclass
class ErrorInput:
    occurred_on: date | None
    area_id: int | None
    description: str
    case_receipt: str = ""


def findings_in_area(area: SupervisionArea, start: date, end: date) -> int:
    """Findings (not dismissed) seen in the area, or its department, between two days."""
    where_area = SupervisionFinding.area_id == area.id
    if area.department_id and not area.window:
        where_area = where_area | (SupervisionFinding.department_id == area.department_id)
    return (
        db.session.scalar(
            select(func.count(SupervisionFinding.id)).where(
                SupervisionFinding.township_id == area.township_id,
                SupervisionFinding.status != FindingStatus.dismissed,
                SupervisionFinding.observed_on >= start,
                SupervisionFinding.observed_on <= end,
                where_area,
            )
        )
        or 0
    )


def covering_members(area: SupervisionArea, day: date) -> list[SupervisionMember]:
    return list(
        db.session.scalars(
            select(SupervisionMember)
            .join(SupervisionCoverage, SupervisionCoverage.member_id == SupervisionMember.id)
            .join(SupervisionTerm, SupervisionTerm.id == SupervisionMember.term_id)
            .where(
                SupervisionCoverage.area_id == area.id,
                SupervisionTerm.starts_on <= day,
                SupervisionTerm.ends_on >= day,
            )
            .order_by(SupervisionMember.id)
        )
    )


def record_serious_error(township: OrgUnit, data: ErrorInput, by: User) -> SupervisionSeriousError:
    """Record a serious error. If no finding was raised in its area within the look-back
    window (policy ``supervision.accountability_days``) before it, every supervisor who
    covered the area that day is named. Commits."""
    problems = []
    if not can(by, MANAGE, township.id):
        problems.append(_("You may not record serious errors in this township."))
    today = clock.today(township)
    if data.occurred_on is None:
        problems.append(_("Give the date of the error."))
    elif data.occurred_on > today:
        problems.append(_("The date of the error cannot be in the future."))
    elif data.occurred_on < earliest_date():
        problems.append(_("The date is before %(year)d.", year=earliest_date().year))
    area = db.session.get(SupervisionArea, data.area_id) if data.area_id else None
    if area is None or area.township_id != township.id:
        problems.append(_("Choose the area where it happened."))
    description = (data.description or "").strip()
    if not description:
        problems.append(_("Describe the error."))
    elif len(description) > TEXT_MAX:
        problems.append(
            _(
                "The description is longer than %(n)d characters (%(m)d).",
                n=TEXT_MAX,
                m=len(description),
            )
        )
    case = None
    if (data.case_receipt or "").strip():
        case = db.session.scalar(
            select(Case).where(
                Case.receipt_no == data.case_receipt.strip().upper(),
                Case.township_id == township.id,
            )
        )
        if case is None:
            problems.append(_("No case of this township has that receipt number."))
    if problems:
        raise SupervisionError(problems)
    days = int(get_policy(township.id, ACCOUNTABILITY_DAYS))
    before = findings_in_area(area, data.occurred_on - timedelta(days=days), data.occurred_on)
    error = SupervisionSeriousError(
        township_id=township.id,
        occurred_on=data.occurred_on,
        area_id=area.id,
        case_id=case.id if case else None,
        description=description,
        findings_before=before,
        recorded_by_id=by.id,
    )
    db.session.add(error)
    db.session.flush()
    if before == 0:
        for member in covering_members(area, data.occurred_on):
            db.session.add(
                SupervisionAccountability(
                    township_id=township.id, error_id=error.id, member_id=member.id
                )
            )
    db.session.commit()
    return error


# ---------------------------------------------------------------------------
# The yearly report
# ---------------------------------------------------------------------------


@dataclass
class AreaLine:
    name: str
    by_kind: dict[str, int] = field(default_factory=dict)
    total: int = 0
    verified: int = 0
    open: int = 0
    overdue: int = 0
    serious_errors: int = 0
    named: int = 0


@dataclass
class SupervisorLine:
    member: SupervisionMember
    raised: int = 0
    verified: int = 0
    named: int = 0


@dataclass
class YearlyReport:
    township: OrgUnit
    year: int
    areas: list[AreaLine]
    supervisors: list[SupervisorLine]
    citizen_reports: int
    total: int


def yearly_report(township: OrgUnit, year: int) -> YearlyReport:
    """Findings of a year per area (by kind, verified, open, overdue; serious errors and the
    supervisors they named) and per supervisor (raised, verified, times named). Grouped
    queries, a fixed number whatever the size."""
    first, last = date(year, 1, 1), date(year, 12, 31)
    today = clock.today(township)
    in_year = (
        SupervisionFinding.township_id == township.id,
        SupervisionFinding.observed_on >= first,
        SupervisionFinding.observed_on <= last,
        SupervisionFinding.status != FindingStatus.dismissed,
    )
    names = {a.id: a.name for a in areas(township.id, active_only=False)}
    departments = {s.id: s.name for s in stations(township.id)}
    lines: dict[str, AreaLine] = {}

    def line(area_id, department_id) -> AreaLine:
        name = names.get(area_id) or departments.get(department_id) or _("Elsewhere")
        return lines.setdefault(name, AreaLine(name))

    for area_id, department_id, kind, status, deadline, count in db.session.execute(
        select(
            SupervisionFinding.area_id,
            SupervisionFinding.department_id,
            SupervisionFinding.kind,
            SupervisionFinding.status,
            SupervisionFinding.remedy_deadline,
            func.count(SupervisionFinding.id),
        )
        .where(*in_year)
        .group_by(
            SupervisionFinding.area_id,
            SupervisionFinding.department_id,
            SupervisionFinding.kind,
            SupervisionFinding.status,
            SupervisionFinding.remedy_deadline,
        )
    ):
        row = line(area_id, department_id)
        kind = FindingKind(kind)
        row.by_kind[kind.value] = row.by_kind.get(kind.value, 0) + count
        row.total += count
        status = FindingStatus(status)
        if status == FindingStatus.verified:
            row.verified += count
        elif status in OPEN_FINDINGS:
            row.open += count
            if status == FindingStatus.remedying and deadline and deadline < today:
                row.overdue += count
    for area_id, errors, named in db.session.execute(
        select(
            SupervisionSeriousError.area_id,
            func.count(func.distinct(SupervisionSeriousError.id)),
            func.count(SupervisionAccountability.id),
        )
        .outerjoin(
            SupervisionAccountability,
            SupervisionAccountability.error_id == SupervisionSeriousError.id,
        )
        .where(
            SupervisionSeriousError.township_id == township.id,
            SupervisionSeriousError.occurred_on >= first,
            SupervisionSeriousError.occurred_on <= last,
        )
        .group_by(SupervisionSeriousError.area_id)
    ):
        row = line(area_id, None)
        row.serious_errors += errors
        row.named += named

    members = list(
        db.session.scalars(
            select(SupervisionMember)
            .join(SupervisionTerm, SupervisionTerm.id == SupervisionMember.term_id)
            .where(
                SupervisionMember.township_id == township.id,
                SupervisionTerm.starts_on <= last,
                SupervisionTerm.ends_on >= first,
            )
            .order_by(SupervisionMember.id)
        )
    )
    raised = defaultdict(lambda: [0, 0])
    for member_id, status, count in db.session.execute(
        select(
            SupervisionFinding.found_by_member_id,
            SupervisionFinding.status,
            func.count(SupervisionFinding.id),
        )
        .where(*in_year, SupervisionFinding.found_by_member_id.is_not(None))
        .group_by(SupervisionFinding.found_by_member_id, SupervisionFinding.status)
    ):
        raised[member_id][0] += count
        if FindingStatus(status) == FindingStatus.verified:
            raised[member_id][1] += count
    named = dict(
        db.session.execute(
            select(SupervisionAccountability.member_id, func.count(SupervisionAccountability.id))
            .join(
                SupervisionSeriousError,
                SupervisionSeriousError.id == SupervisionAccountability.error_id,
            )
            .where(
                SupervisionAccountability.township_id == township.id,
                SupervisionSeriousError.occurred_on >= first,
                SupervisionSeriousError.occurred_on <= last,
            )
            .group_by(SupervisionAccountability.member_id)
        ).all()
    )
    supervisors = [
        SupervisorLine(m, raised[m.id][0], raised[m.id][1], named.get(m.id, 0)) for m in members
    ]
    citizen = (
        db.session.scalar(
            select(func.count(SupervisionFinding.id)).where(
                *in_year, SupervisionFinding.source == FindingSource.citizen
            )
        )
        or 0
    )
    ordered = sorted(lines.values(), key=lambda r: r.name)
    return YearlyReport(
        township, year, ordered, supervisors, citizen, sum(r.total for r in ordered)
    )


# ---------------------------------------------------------------------------
# Figures per person, receipts
# ---------------------------------------------------------------------------


def person_year_figures(township: OrgUnit, year: int, user_ids: list[int] | None):
    """Findings about a staff member in the year (target none), and, for supervisors who are
    staff, the findings they raised."""
    from core.contract import PersonYearFigure

    first, last = date(year, 1, 1), date(year, 12, 31)
    base = (
        SupervisionFinding.township_id == township.id,
        SupervisionFinding.observed_on >= first,
        SupervisionFinding.observed_on <= last,
        SupervisionFinding.status != FindingStatus.dismissed,
    )
    about = dict(
        db.session.execute(
            select(SupervisionFinding.staff_user_id, func.count(SupervisionFinding.id))
            .where(*base, SupervisionFinding.staff_user_id.is_not(None))
            .group_by(SupervisionFinding.staff_user_id)
        ).all()
    )
    raised = dict(
        db.session.execute(
            select(SupervisionMember.user_id, func.count(SupervisionFinding.id))
            .join(SupervisionMember, SupervisionMember.id == SupervisionFinding.found_by_member_id)
            .where(*base, SupervisionMember.user_id.is_not(None))
            .group_by(SupervisionMember.user_id)
        ).all()
    )
    ids = user_ids if user_ids is not None else sorted(set(about) | set(raised))
    out = []
    for uid in ids:
        count = int(about.get(uid, 0))
        out.append(
            PersonYearFigure(
                "supervision.findings",
                "服务监督发现的问题",
                "Supervision findings about the person",
                user_id=uid,
                year=year,
                value=count,
                target=0,
                met=count == 0,
            )
        )
        if uid in raised:
            out.append(
                PersonYearFigure(
                    "supervision.findings_raised",
                    "作为监督员发现的问题",
                    "Findings raised as a supervisor",
                    user_id=uid,
                    year=year,
                    value=int(raised[uid]),
                )
            )
    return out


PUBLIC_STATUS = {
    FindingStatus.raised: ("已转镇领导班子", "With the township's leading group"),
    FindingStatus.remedying: ("正在整改", "Being remedied"),
    FindingStatus.remedied: ("整改完成，待核实", "Remedied, being verified"),
    FindingStatus.verified: ("已整改并核实", "Remedied and verified"),
    FindingStatus.dismissed: ("经核查不予受理", "Not upheld after checking"),
}
PUBLIC_STEPS = {
    "reported": ("收到反映", "Report received"),
    "remedy_assigned": ("落实整改责任", "Remedy assigned"),
    "remedied": ("整改完成", "Remedied"),
    "verified": ("核实办结", "Verified"),
    "sent_back": ("核实未通过，继续整改", "Not yet remedied; continued"),
    "dismissed": ("不予受理", "Not upheld"),
}


def find_receipt(receipt_no: str):
    """A citizen's report under its receipt number: status, dates, public steps; nothing
    about the staff member or the citizen."""
    from core.app import current_locale
    from core.contract import PublicReceipt, ReceiptStep

    if "-JD" not in receipt_no:
        return None
    finding = db.session.scalar(
        select(SupervisionFinding).where(SupervisionFinding.receipt_no == receipt_no)
    )
    if finding is None:
        return None
    english = current_locale() == "en"
    township = db.session.get(OrgUnit, finding.township_id)
    steps = [
        ReceiptStep(clock.local(e.at, township), PUBLIC_STEPS[e.action][1 if english else 0])
        for e in trail(finding.id)
        if e.action in PUBLIC_STEPS
    ]
    answer = None
    if finding.status == FindingStatus.dismissed:
        answer = finding.dismissed_reason
    elif finding.status == FindingStatus.verified:
        answer = (
            "Remedied and verified. Thank you." if english else "问题已整改并经核实，感谢您的监督。"
        )
    return PublicReceipt(
        receipt_no=finding.receipt_no,
        township=township,
        source=KEY,
        kind_label="Service supervision report" if english else "服务监督反映",
        status_label=PUBLIC_STATUS[finding.status][1 if english else 0],
        received_on=clock.local(finding.created_at, township).date(),
        due_on=finding.remedy_deadline if finding.status == FindingStatus.remedying else None,
        steps=steps,
        answer=answer,
        finished=finding.status in (FindingStatus.verified, FindingStatus.dismissed),
        obj=finding,
    )


def people_register(township_id: int) -> list[Person]:
    return list(
        db.session.scalars(
            select(Person).where(Person.township_id == township_id).order_by(Person.name).limit(500)
        )
    )
