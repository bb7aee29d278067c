"""The rules of petition auditing and leader reception (信访旁听制度, 领导接待制度).

Each service checks everything first and raises :class:`PetitionError` (its text is the
message for the person who asked) with nothing written; then writes and commits. Where a
step is also a core case transition (accept, hand over, extend, resolve, deliver, close),
the plugin's rows are changed in the same session before the core service commits, so both
are written together or not at all.

* Sessions (接访活动): planned with a receiving leader (who must hold the leader role) and
  a convener; observers invited from the register (a notification to those with an
  account, a printed list for the others); attendance; observers' opinions and the answers;
  closed with the session record handed to the archives (``core.records.produce``).
* Petitions (信访件): registered at a session, on the leader reception day by the leader on
  reception duty (``core.duty``), at any time by the officer, or online; each is a core case
  of kind ``petitions.petition`` (receipt, time limit, trail, inbox, public lookup). The
  acceptance decision is due within the policy's days; the 60-day handling limit and its
  extension are the case's.
* Handling: hand-over to a department with a follow-up deadline, progress notes, the
  department's report, escalation to the leadership team's collective decision, the
  answer told to the petitioner, closing.
* Risks: flags on a petition or a petitioner; repeat petitioners recognised by their
  resident ID number or phone (both normalised).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import and_, case, event, func, or_, select

from core import clock
from core.access import can, mask_id_number, mask_phone, users_with
from core.cases import (
    CaseError,
    accept_case,
    assign_case,
    close_case,
    deliver_case,
    forward_case,
    register_case,
    request_extension,
    resolve_case,
)
from core.contract import ArchivalRecord
from core.db import db, utcnow
from core.inbox import announce
from core.labels import shorten
from core.links import link
from core.models import (
    OPEN_STATUSES,
    Case,
    CaseStatus,
    Membership,
    OrgUnit,
    Person,
    UnitKind,
    User,
)
from core.notifications import notify
from core.policies import get_policy
from core.validation import (
    InvalidInput,
    check_date,
    check_length,
    check_phone,
    check_resident_id,
    fits,
)
from plugins.petitions.models import (
    Acceptance,
    Attendance,
    Channel,
    Decision,
    DecisionMember,
    FollowUp,
    Invitation,
    Observer,
    ObserverCategory,
    Opinion,
    Petition,
    PetitionCategory,
    Petitioner,
    Progress,
    ReceptionSession,
    RegisteredVia,
    RiskFlag,
    RiskKind,
    SessionStatus,
)
from plugins.petitions.policy import ACCEPT_DAYS, EXTENSION_DAYS, FOLLOW_UP_DAYS, KIND

KEY = "petitions"
READ = "petitions.read"
WRITE = "petitions.write"
PERSONAL = "petitions.read_personal"
DECIDE = "petitions.decide"
LEADER_ROLE = "leader"

INBOX_ACCEPT = "petitions.accept_decision"
INBOX_FOLLOW_UP = "petitions.follow_up"
INBOX_DECISION = "petitions.collective_decision"
INBOX_MEASURES = "petitions.risk_measures"

#: a group visit chooses representatives, at most five (信访工作条例)
MAX_REPRESENTATIVES = 5
#: how far ahead a session may be planned (catches mistyped years)
MAX_DAYS_AHEAD = 366
TEXT = 2000
LONG_TEXT = 20_000


class PetitionError(ValueError):
    """A step that is not allowed; ``str(exc)`` is the message, ``problems`` each reason."""

    def __init__(self, *problems: str):
        self.problems = [str(p) for p in problems]
        super().__init__(" ".join(self.problems))


# ---------------------------------------------------------------------------
# Checks
# ---------------------------------------------------------------------------


def _require(user: User | None, permission: str, township_id: int) -> None:
    if not can(user, permission, township_id):
        raise PetitionError(_("You may not do this in this township."))


def _text(value: str | None, limit: int | None, label: str, *, required: bool = True) -> str:
    value = (value or "").strip()
    if required and not value:
        raise PetitionError(_("%(field)s is required.", field=label))
    try:
        check_length(value, limit, label=label)
    except InvalidInput as exc:
        raise PetitionError(str(exc)) from None
    return value


def _past(day: date | None, township_id: int, label: str, not_before: date | None = None) -> date:
    """A date that records what happened: default today, not in the future, not before
    ``EARLIEST_YEAR`` nor ``not_before``."""
    day = day or clock.today(township_id)
    try:
        check_date(day, township=township_id, past=True, label=label)
    except InvalidInput as exc:
        raise PetitionError(str(exc)) from None
    if not_before is not None and day < not_before:
        raise PetitionError(
            _("%(field)s cannot be before %(day)s.", field=label, day=not_before.isoformat())
        )
    return day


def _enum(cls, value, message: str):
    try:
        return cls(value)
    except ValueError:
        raise PetitionError(message) from None


def is_leader(user: User | None, township_id: int) -> bool:
    """Whether ``user`` holds the leader role (领导) in the township or one of its units."""
    if user is None:
        return False
    return (
        db.session.scalar(
            select(Membership.id)
            .join(OrgUnit, OrgUnit.id == Membership.org_unit_id)
            .where(
                Membership.user_id == user.id,
                Membership.role == LEADER_ROLE,
                or_(OrgUnit.id == township_id, OrgUnit.township_id == township_id),
            )
            .limit(1)
        )
        is not None
    )


def leaders(township_id: int) -> list[User]:
    """Active users holding the leader role in the township, by name."""
    return list(
        db.session.scalars(
            select(User)
            .join(Membership, Membership.user_id == User.id)
            .join(OrgUnit, OrgUnit.id == Membership.org_unit_id)
            .where(
                User.active.is_(True),
                Membership.role == LEADER_ROLE,
                or_(OrgUnit.id == township_id, OrgUnit.township_id == township_id),
            )
            .distinct()
            .order_by(User.name, User.id)
        )
    )


def staff(township_id: int) -> list[User]:
    from core.duty import township_staff

    return township_staff(township_id)


def _is_staff(user: User, township_id: int) -> bool:
    from core.duty import is_township_staff

    return is_township_staff(user, township_id)


def units(township_id: int, kind: UnitKind) -> list[OrgUnit]:
    return list(
        db.session.scalars(
            select(OrgUnit)
            .where(OrgUnit.township_id == township_id, OrgUnit.kind == kind)
            .order_by(OrgUnit.name, OrgUnit.id)
        )
    )


def _unit(township_id: int, unit_id: int | None, kind: UnitKind, message: str) -> OrgUnit | None:
    if not unit_id:
        return None
    unit = db.session.get(OrgUnit, unit_id)
    if unit is None or unit.township_id != township_id or unit.kind != kind:
        raise PetitionError(message)
    return unit


def officers(township_id: int) -> list[User]:
    """Who follows petitions up (``petitions.write``): the petition officers first."""
    users = users_with(WRITE, township_id)
    officer_ids = set(
        db.session.scalars(
            select(Membership.user_id)
            .join(OrgUnit, OrgUnit.id == Membership.org_unit_id)
            .where(
                Membership.role == "petitions_officer",
                or_(OrgUnit.id == township_id, OrgUnit.township_id == township_id),
            )
        )
    )
    return sorted(users, key=lambda u: (u.id not in officer_ids, u.name))


def _default_locale():
    return force_locale(current_app.config["DEFAULT_LOCALE"])


# ---------------------------------------------------------------------------
# Personal data of petitioners
# ---------------------------------------------------------------------------


def mask_address(value: str | None) -> str | None:
    """``红旗村三组12号`` → ``红旗村****``: the first three characters only."""
    if not value:
        return value
    return value[:3] + "****" if len(value) > 3 else "*" * len(value)


@dataclass(frozen=True)
class ShownPetitioner:
    """A petitioner as the signed-in user may see them (masked unless allowed)."""

    id: int
    name: str
    id_number: str | None
    phone: str | None
    address: str | None
    is_lead: bool
    masked: bool


def shown_petitioners(petition: Petition, user: User | None) -> list[ShownPetitioner]:
    """The petitioners with ID numbers, phones and addresses masked unless ``user`` holds
    ``petitions.read_personal`` in the township."""
    full = can(user, PERSONAL, petition.township_id)
    return [
        ShownPetitioner(
            p.id,
            p.name,
            p.id_number if full else mask_id_number(p.id_number),
            p.phone if full else mask_phone(p.phone),
            p.address if full else mask_address(p.address),
            p.is_lead,
            not full,
        )
        for p in petition.petitioners
    ]


# ---------------------------------------------------------------------------
# The observer register
# ---------------------------------------------------------------------------


def add_observer(
    township: OrgUnit,
    category: ObserverCategory | str,
    *,
    by: User,
    person: Person | None = None,
    user: User | None = None,
    new_name: str = "",
    new_phone: str = "",
    new_village: OrgUnit | None = None,
    title: str = "",
) -> Observer:
    """Put someone on the observer register: a person of the core register, a staff user,
    or a new person (added to the core register with a phone)."""
    from core.people import register_person

    _require(by, WRITE, township.id)
    category = _enum(ObserverCategory, category, _("Choose the observer's category."))
    title = _text(title, 120, _("Post or unit"), required=False)
    chosen = [x for x in (person, user, (new_name or "").strip() or None) if x is not None]
    if len(chosen) != 1:
        raise PetitionError(
            _("Choose one: a person from the register, a staff member, or a new person.")
        )
    if person is not None and person.township_id != township.id:
        raise PetitionError(_("The person is registered in another township."))
    if user is not None and not _is_staff(user, township.id):
        raise PetitionError(_("%(name)s does not work for this township.", name=user.name))
    if person is not None or user is not None:
        taken = select(Observer.id).where(
            Observer.township_id == township.id,
            Observer.category == category,
            Observer.person_id == person.id if person else Observer.user_id == user.id,
        )
        if db.session.scalar(taken.limit(1)) is not None:
            raise PetitionError(_("This observer is already on the register in this category."))
    if new_name.strip():
        if not (new_phone or "").strip():
            raise PetitionError(_("Give the new observer's phone, so they can be invited."))
        try:
            person = register_person(township, new_name, phone=new_phone, village=new_village)
        except InvalidInput as exc:
            db.session.rollback()
            raise PetitionError(str(exc)) from None
        from core.models import PersonCategory

        person.category = {
            ObserverCategory.retired_cadre: PersonCategory.retired_cadre,
            ObserverCategory.county_deputy: PersonCategory.deputy,
            ObserverCategory.township_deputy: PersonCategory.deputy,
        }.get(category, PersonCategory.observer)
    observer = Observer(
        township_id=township.id,
        category=category,
        person_id=person.id if person else None,
        user_id=user.id if user else None,
        title=title,
    )
    db.session.add(observer)
    db.session.commit()
    return observer


# ---------------------------------------------------------------------------
# Reception sessions
# ---------------------------------------------------------------------------


def _check_time(value: str | None) -> str:
    value = (value or "").strip() or "09:00"
    try:
        hours, minutes = (int(p) for p in value.split(":"))
    except ValueError:
        raise PetitionError(_("Give the time as HH:MM, e.g. 09:00.")) from None
    if not (0 <= hours <= 23 and 0 <= minutes <= 59):
        raise PetitionError(_("Give the time as HH:MM, e.g. 09:00."))
    return f"{hours:02d}:{minutes:02d}"


def plan_session(
    township: OrgUnit,
    *,
    by: User,
    held_on: date | None,
    place: str,
    leader: User | None,
    convener: User | None,
    starts_at: str = "09:00",
    topic: str = "",
    published: bool = True,
) -> ReceptionSession:
    """Plan a reception session (接访活动). Every problem is reported at once."""
    _require(by, WRITE, township.id)
    problems: list[str] = []
    if held_on is None:
        problems.append(_("Give the date of the session."))
    else:
        try:
            check_date(held_on, township=township, label=_("Date"))
        except InvalidInput as exc:
            problems.append(str(exc))
        else:
            if held_on > clock.today(township) + timedelta(days=MAX_DAYS_AHEAD):
                problems.append(
                    _("%(day)s is too far ahead; check the year.", day=held_on.isoformat())
                )
    try:
        starts_at = _check_time(starts_at)
    except PetitionError as exc:
        problems.extend(exc.problems)
    for value, limit, label, required in (
        (place, 200, _("Place"), True),
        (topic, 200, _("Topic"), False),
    ):
        try:
            _text(value, limit, label, required=required)
        except PetitionError as exc:
            problems.extend(exc.problems)
    if leader is None:
        problems.append(_("A session needs a receiving leader."))
    elif not is_leader(leader, township.id):
        problems.append(
            _(
                "%(name)s is not a leader of this township and cannot receive petitioners.",
                name=leader.name,
            )
        )
    if convener is None:
        problems.append(_("A session needs a convener (the executive deputy party secretary)."))
    elif not _is_staff(convener, township.id):
        problems.append(_("%(name)s does not work for this township.", name=convener.name))
    elif leader is not None and convener.id == leader.id:
        problems.append(_("The convener cannot be the receiving leader."))
    if problems:
        raise PetitionError(*problems)
    session = ReceptionSession(
        township_id=township.id,
        held_on=held_on,
        starts_at=starts_at,
        place=place.strip(),
        receiving_leader_id=leader.id,
        convener_id=convener.id,
        topic=(topic or "").strip(),
        published=bool(published),
        created_by_id=by.id,
    )
    db.session.add(session)
    db.session.commit()
    return session


def _open_session(session: ReceptionSession) -> None:
    if session.status != SessionStatus.planned:
        raise PetitionError(
            _("This session is %(status)s; it cannot be changed.", status=session.status.label)
        )


def invite(session: ReceptionSession, observer_ids: Iterable[int], *, by: User) -> list[Invitation]:
    """Invite observers of the register to a session. Those with an account get a
    notification; the others are on the printed invitation list."""
    _require(by, WRITE, session.township_id)
    _open_session(session)
    wanted = {int(i) for i in observer_ids}
    if not wanted:
        raise PetitionError(_("Choose at least one observer to invite."))
    found = db.session.scalars(
        select(Observer).where(Observer.id.in_(wanted), Observer.township_id == session.township_id)
    ).all()
    if len(found) != len(wanted):
        raise PetitionError(_("An observer chosen is not on this township's register."))
    if any(not o.active for o in found):
        raise PetitionError(_("An observer chosen is no longer active on the register."))
    invited = set(
        db.session.scalars(
            select(Invitation.observer_id).where(Invitation.session_id == session.id)
        )
    )
    created = []
    for observer in found:
        if observer.id in invited:
            continue
        invitation = Invitation(
            township_id=session.township_id,
            session_id=session.id,
            observer_id=observer.id,
            notified=observer.user is not None,
        )
        db.session.add(invitation)
        created.append(invitation)
    db.session.flush()
    with _default_locale():
        title = _(
            "Invitation to observe a petition reception on %(day)s %(time)s at %(place)s",
            day=session.held_on.isoformat(),
            time=session.starts_at,
            place=session.place,
        )
        body = _(
            "Receiving leader: %(leader)s. Convener: %(convener)s.",
            leader=session.receiving_leader.name,
            convener=session.convener.name,
        )
    notify(
        [i.observer.user for i in created if i.observer.user is not None],
        shorten(title, 190)[0],
        body,
        link=link("petitions_sessions.details_view", id=session.id),
        key=f"petitions.invitation:{session.id}",
        township_id=session.township_id,
    )
    db.session.commit()
    return created


def _session_held(session: ReceptionSession) -> None:
    if session.held_on > clock.today(session.township_id):
        raise PetitionError(
            _(
                "The session is on %(day)s; record this once it has been held.",
                day=session.held_on.isoformat(),
            )
        )


def record_attendance(
    session: ReceptionSession, marks: dict[int, Attendance | str], *, by: User
) -> None:
    """Record who came: ``{invitation id: present | absent | excused}``."""
    _require(by, WRITE, session.township_id)
    _open_session(session)
    _session_held(session)
    rows = {i.id: i for i in session.invitations}
    checked = {}
    for invitation_id, mark in marks.items():
        if invitation_id not in rows:
            raise PetitionError(_("An invitation named is not one of this session's."))
        mark = _enum(Attendance, mark, _("Choose present, absent or excused."))
        if mark == Attendance.invited:
            raise PetitionError(_("Choose present, absent or excused."))
        checked[invitation_id] = mark
    for invitation_id, mark in checked.items():
        rows[invitation_id].attendance = mark
    db.session.commit()


def add_opinion(
    session: ReceptionSession,
    *,
    observer_id: int,
    said: str,
    suggestion: str = "",
    answer: str = "",
    by: User,
) -> Opinion:
    """An observer's opinion (who said what), their suggestion and, if given at once, the
    answer. Only an observer present at the session can have an opinion recorded."""
    _require(by, WRITE, session.township_id)
    _open_session(session)
    _session_held(session)
    present = {i.observer_id for i in session.invitations if i.attendance == Attendance.present}
    if observer_id not in present:
        raise PetitionError(_("Record the observer as present before recording their opinion."))
    opinion = Opinion(
        township_id=session.township_id,
        session_id=session.id,
        observer_id=observer_id,
        said=_text(said, TEXT, _("What the observer said")),
        suggestion=_text(suggestion, TEXT, _("Suggestion"), required=False),
        answer=_text(answer, TEXT, _("Answer"), required=False) or None,
        answered_by_id=by.id if (answer or "").strip() else None,
        created_by_id=by.id,
    )
    db.session.add(opinion)
    db.session.commit()
    return opinion


def answer_opinion(opinion: Opinion, *, answer: str, by: User) -> Opinion:
    """The answer given to an observer's opinion (by the receiving leader or the officer)."""
    session = opinion.session
    if not (can(by, WRITE, session.township_id) or by.id == session.receiving_leader_id):
        raise PetitionError(_("You may not do this in this township."))
    _open_session(session)
    opinion.answer = _text(answer, TEXT, _("Answer"))
    opinion.answered_by_id = by.id
    db.session.commit()
    return opinion


def cancel_session(session: ReceptionSession, *, by: User, reason: str) -> ReceptionSession:
    _require(by, WRITE, session.township_id)
    _open_session(session)
    if db.session.scalar(select(Petition.id).where(Petition.session_id == session.id).limit(1)):
        raise PetitionError(_("Petitions were registered at this session; close it instead."))
    session.summary = _text(reason, TEXT, _("Reason"))
    session.status = SessionStatus.cancelled
    db.session.commit()
    return session


def close_session(session: ReceptionSession, *, by: User, summary: str = "") -> ReceptionSession:
    """Close a held session: attendance must be recorded for every observer invited; the
    session record (接访记录) goes to the archives."""
    from core.records import produce

    _require(by, WRITE, session.township_id)
    _open_session(session)
    _session_held(session)
    waiting = [i.observer.name for i in session.invitations if i.attendance == Attendance.invited]
    if waiting:
        raise PetitionError(
            _("Record whether these observers came: %(names)s", names="、".join(waiting))
        )
    session.summary = _text(summary, TEXT, _("Summary"), required=False) or None
    session.status = SessionStatus.closed
    session.closed_at = utcnow()
    db.session.flush()
    produce(session.township, archival_record(session))
    db.session.commit()
    return session


@dataclass
class SessionRecord:
    """The session record (接访记录) as printed and archived: nothing personal about the
    petitioners (no names, ID numbers, phones or addresses)."""

    session: ReceptionSession
    present: list[Invitation]
    absent: list[Invitation]
    petitions: list[Petition]
    opinions: list[Opinion]


def session_record(session: ReceptionSession) -> SessionRecord:
    invitations = session.invitations
    petitions = db.session.scalars(
        select(Petition).where(Petition.session_id == session.id).order_by(Petition.id)
    ).all()
    return SessionRecord(
        session=session,
        present=[i for i in invitations if i.attendance == Attendance.present],
        absent=[i for i in invitations if i.attendance != Attendance.present],
        petitions=list(petitions),
        opinions=list(session.opinions),
    )


def record_html(record: SessionRecord) -> str:
    """The session record as escaped HTML for the archive (the same facts as the print)."""
    from markupsafe import escape

    s = record.session
    rows = [
        ("接访时间 Date", f"{s.held_on.isoformat()} {s.starts_at}"),
        ("地点 Place", s.place),
        ("接访领导 Receiving leader", s.receiving_leader.name),
        ("召集人 Convener", s.convener.name),
        (
            "旁听人员 Observers present",
            "、".join(f"{i.observer.name}（{i.observer.category.label}）" for i in record.present),
        ),
    ]
    html = "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in rows)
    items = "".join(
        f"<li>{escape(p.case.receipt_no)} {escape(p.case.title)}（{escape(p.category.label)}，"
        f"{escape(p.head_count)}人）</li>"
        for p in record.petitions
    )
    opinions = "".join(
        f"<li>{escape(o.observer.name)}：{escape(o.said)}"
        f"{'；建议：' + str(escape(o.suggestion)) if o.suggestion else ''}"
        f"{'；答复：' + str(escape(o.answer)) if o.answer else ''}</li>"
        for o in record.opinions
    )
    return (
        f"<table class='record'>{html}</table><h3>信访事项 Petitions</h3><ol>{items}</ol>"
        f"<h3>旁听意见 Opinions</h3><ol>{opinions}</ol>"
    )


def archival_record(session: ReceptionSession) -> ArchivalRecord:
    record = session_record(session)
    from core.records import in_product_language

    return ArchivalRecord(
        source=KEY,
        reference=f"session-record:{session.id}",
        kind="petitions_session_record",
        title=f"接访记录 {session.held_on.isoformat()} {session.receiving_leader.name}",
        produced_at=session.closed_at or utcnow(),
        summary=(
            f"接访领导 {session.receiving_leader.name}，召集人 {session.convener.name}，"
            f"旁听 {len(record.present)} 人，信访事项 {len(record.petitions)} 件，"
            f"意见 {len(record.opinions)} 条"
        ),
        url=link("petitions_sessions.details_view", id=session.id),
        responsible=session.township.name,
        pages=1,
        class_hint=KEY,
        retention_hint="30y",
        content=record_html(record),
        trail=(
            {
                "at": session.created_at.isoformat() if session.created_at else "",
                "who": "",
                "what": in_product_language(lambda: SessionStatus.planned.label),
                "note": "",
            },
            {
                "at": (session.closed_at or utcnow()).isoformat(),
                "who": "",
                "what": in_product_language(lambda: SessionStatus.closed.label),
                "note": session.summary or "",
            },
        ),
    )


# ---------------------------------------------------------------------------
# Registering petitions
# ---------------------------------------------------------------------------


@dataclass
class PetitionerInput:
    name: str = ""
    id_number: str = ""
    phone: str = ""
    address: str = ""

    def is_blank(self) -> bool:
        return not any(
            (v or "").strip() for v in (self.name, self.id_number, self.phone, self.address)
        )


@dataclass
class PetitionInput:
    """What a petition form gives."""

    channel: str | None = None
    category: str | None = None
    matter: str = ""
    description: str = ""
    village_id: int | None = None
    is_group: bool = False
    head_count: int | None = 1
    received_on: date | None = None
    petitioners: list[PetitionerInput] = field(default_factory=list)
    session_id: int | None = None


@dataclass
class _Checked:
    channel: Channel
    category: PetitionCategory
    matter: str
    description: str
    village: OrgUnit | None
    is_group: bool
    head_count: int
    received_on: date
    petitioners: list[PetitionerInput]
    session: ReceptionSession | None
    via: RegisteredVia


def reception_leader_today(user: User | None, township_id: int) -> bool:
    """Whether ``user`` is the leader on reception duty today (the leader reception day,
    from the core's duty rota)."""
    from core.duty import is_on_duty
    from core.models import DutyPost

    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return is_on_duty(user, township_id, clock.today(township_id), DutyPost.reception_leader)


def receiving_today(user: User | None, township_id: int) -> bool:
    """Whether ``user`` is the receiving leader of an open session held today."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return (
        db.session.scalar(
            select(ReceptionSession.id)
            .where(
                ReceptionSession.township_id == township_id,
                ReceptionSession.receiving_leader_id == user.id,
                ReceptionSession.status == SessionStatus.planned,
                ReceptionSession.held_on == clock.today(township_id),
            )
            .limit(1)
        )
        is not None
    )


def _check_petition(
    township: OrgUnit, data: PetitionInput, by: User | None, via: RegisteredVia | None
) -> _Checked:
    problems: list[str] = []
    tid = township.id
    today = clock.today(township)
    session = None
    if data.session_id:
        session = db.session.get(ReceptionSession, data.session_id)
        if session is None or session.township_id != tid:
            raise PetitionError(_("The session is not one of this township's."))
        if session.status != SessionStatus.planned:
            problems.append(
                _(
                    "This session is %(status)s; no petition can be added to it.",
                    status=session.status.label,
                )
            )
        elif session.held_on > today:
            problems.append(
                _(
                    "The session is on %(day)s; petitions are registered at it on that day.",
                    day=session.held_on.isoformat(),
                )
            )
    if via is None:
        if session is not None:
            via = RegisteredVia.session
        elif can(by, WRITE, tid):
            via = RegisteredVia.officer
        elif reception_leader_today(by, tid):
            via = RegisteredVia.reception_day
        else:
            raise PetitionError(
                _(
                    "Only the petition officer, or the leader on reception duty today, may "
                    "register a petition."
                )
            )
    if via == RegisteredVia.session and not (
        can(by, WRITE, tid)
        or (session is not None and by is not None and by.id == session.receiving_leader_id)
    ):
        raise PetitionError(_("You may not do this in this township."))
    channel = category = None
    try:
        channel = _enum(Channel, data.channel, _("Choose how the petition came in."))
    except PetitionError as exc:
        problems.extend(exc.problems)
    try:
        category = _enum(PetitionCategory, data.category, _("Choose the petition's category."))
    except PetitionError as exc:
        problems.extend(exc.problems)
    matter = description = ""
    try:
        matter = _text(data.matter, 200, _("Matter"))
    except PetitionError as exc:
        problems.extend(exc.problems)
    try:
        description = _text(data.description, LONG_TEXT, _("Description"), required=False)
    except PetitionError as exc:
        problems.extend(exc.problems)
    village = None
    try:
        village = _unit(
            tid, data.village_id, UnitKind.village, _("The village is not one of this township's.")
        )
    except PetitionError as exc:
        problems.extend(exc.problems)
    # the day it came in
    received_on = data.received_on
    if session is not None:
        received_on = received_on or session.held_on
        if received_on != session.held_on:
            problems.append(_("A petition taken at a session is received on the session's day."))
    elif via == RegisteredVia.reception_day:
        received_on = received_on or today
        if received_on != today:
            problems.append(_("On the reception day, petitions are registered as received today."))
    else:
        received_on = received_on or today
    try:
        check_date(received_on, township=township, past=True, label=_("Received on"))
    except InvalidInput as exc:
        problems.append(str(exc))
    # who came, and how many
    head_count = data.head_count
    if head_count is None or isinstance(head_count, bool) or not isinstance(head_count, int):
        problems.append(_("Give the number of petitioners as a whole number."))
        head_count = 0
    elif head_count < 1:
        problems.append(_("The number of petitioners must be at least 1."))
    elif head_count > 100_000:
        problems.append(_("The number of petitioners is implausibly large; check it."))
    petitioners = [p for p in data.petitioners if not p.is_blank()]
    if not petitioners:
        problems.append(_("Give at least one petitioner's name."))
    if data.is_group:
        if head_count and head_count < 2:
            problems.append(_("A group petition has at least 2 petitioners."))
        if head_count and len(petitioners) > head_count:
            problems.append(
                _(
                    "%(n)s representatives are listed but the group has %(count)s people.",
                    n=len(petitioners),
                    count=head_count,
                )
            )
        if channel == Channel.visit and len(petitioners) > MAX_REPRESENTATIVES:
            problems.append(
                _("A group visit chooses at most %(n)s representatives.", n=MAX_REPRESENTATIVES)
            )
    else:
        if head_count and head_count != 1:
            problems.append(
                _(
                    "%(count)s people came: tick 'group petition', or give 1 for one petitioner.",
                    count=head_count,
                )
            )
        if len(petitioners) > 1:
            problems.append(_("One petitioner only; tick 'group petition' for several."))
    cleaned: list[PetitionerInput] = []
    for n, p in enumerate(petitioners, 1):
        where = _("Petitioner %(n)s", n=n)
        name = (p.name or "").strip()
        if not name:
            problems.append(_("%(who)s: give the name.", who=where))
        try:
            fits(name, Petitioner.name, label=where)
            id_number = check_resident_id(p.id_number)
            phone = check_phone(p.phone)
            address = (p.address or "").strip()
            fits(address, Petitioner.address, label=where)
        except InvalidInput as exc:
            problems.append(f"{where}: {exc}" if not str(exc).startswith(str(where)) else str(exc))
            continue
        cleaned.append(PetitionerInput(name, id_number or "", phone or "", address))
    if problems:
        raise PetitionError(*problems)
    return _Checked(
        channel=channel,
        category=category,
        matter=matter,
        description=description,
        village=village,
        is_group=bool(data.is_group),
        head_count=head_count,
        received_on=received_on,
        petitioners=cleaned,
        session=session,
        via=via,
    )


def find_repeat(
    township_id: int, id_number: str | None, phone: str | None, *, before_id: int | None = None
) -> list[Petitioner]:
    """Earlier petitioners of the township with the same resident ID number or phone
    (normalised as stored), newest first."""
    conditions = []
    try:
        id_number = check_resident_id(id_number)
    except InvalidInput:
        id_number = (id_number or "").strip().upper() or None
    try:
        phone = check_phone(phone)
    except InvalidInput:
        phone = "".join(ch for ch in (phone or "") if ch.isdigit()) or None
    if id_number:
        conditions.append(Petitioner.id_number == id_number)
    if phone:
        conditions.append(Petitioner.phone == phone)
    if not conditions:
        return []
    query = select(Petitioner).where(Petitioner.township_id == township_id, or_(*conditions))
    if before_id is not None:
        query = query.where(Petitioner.petition_id < before_id)
    return list(db.session.scalars(query.order_by(Petitioner.id.desc()).limit(50)))


@contextlib.contextmanager
def _with_case(build) -> Iterator[None]:
    """Add the plugin's rows in the same flush as the new core case (so the case, the
    petition and its petitioners are written together or not at all): ``build(case)``
    runs at the first flush that holds a new case of the petition kind."""
    session = db.session()
    done = []

    def before_flush(sess, flush_context, instances):
        if done:
            return
        for obj in list(sess.new):
            if isinstance(obj, Case) and obj.kind == KIND:
                done.append(obj)
                build(obj)
                return

    event.listen(session, "before_flush", before_flush)
    try:
        yield
    finally:
        event.remove(session, "before_flush", before_flush)


def _applicant_name(checked: _Checked) -> str:
    lead = checked.petitioners[0].name
    if checked.is_group:
        return f"{lead}等{checked.head_count}人"[:120]
    return lead


def register_petition(
    township: OrgUnit,
    data: PetitionInput,
    *,
    by: User,
    via: RegisteredVia | None = None,
) -> Petition:
    """Register a petition (信访件) as a core case of kind ``petitions.petition``.

    At a session (``data.session_id``): the officer or the session's receiving leader; on
    the leader reception day: the leader on reception duty (``core.duty``), received
    today; otherwise the officer (``petitions.write``). A petitioner whose ID number or
    phone was seen before is flagged as a repeat petitioner. The officers are told that an
    acceptance decision is due (policy ``petitions.accept_decision_days``).
    """
    checked = _check_petition(township, data, by, via)
    return _register(township, checked, by)


def _register(township: OrgUnit, checked: _Checked, by: User) -> Petition:
    tid = township.id
    repeats: dict[int, str] = {}
    for n, p in enumerate(checked.petitioners):
        earlier = find_repeat(tid, p.id_number, p.phone)
        if earlier:
            petition_ids = {e.petition_id for e in earlier}
            receipts = db.session.scalars(
                select(Case.receipt_no)
                .join(Petition, Petition.case_id == Case.id)
                .where(Petition.id.in_(petition_ids))
                .order_by(Case.id.desc())
                .limit(5)
            ).all()
            repeats[n] = _(
                "Petitioned before (%(n)s earlier petitions: %(receipts)s).",
                n=len(petition_ids),
                receipts="、".join(receipts),
            )
    decide_by = checked.received_on + timedelta(days=int(get_policy(tid, ACCEPT_DAYS)))
    built: list[Petition] = []

    def build(case: Case) -> None:
        petition = Petition(
            township_id=tid,
            case=case,
            session_id=checked.session.id if checked.session else None,
            registered_via=checked.via,
            registered_by_id=by.id,
            channel=checked.channel,
            category=checked.category,
            village_id=checked.village.id if checked.village else None,
            is_group=checked.is_group,
            head_count=checked.head_count,
            received_on=checked.received_on,
            decide_by=decide_by,
        )
        db.session.add(petition)
        built.append(petition)
        for n, p in enumerate(checked.petitioners):
            row = Petitioner(
                township_id=tid,
                petition=petition,
                name=p.name,
                id_number=p.id_number or None,
                phone=p.phone or None,
                address=p.address or None,
                is_lead=n == 0,
            )
            db.session.add(row)
            if n in repeats:
                db.session.add(
                    RiskFlag(
                        township_id=tid,
                        petition=petition,
                        petitioner=row,
                        kind=RiskKind.repeat,
                        description=repeats[n],
                        measures="",
                        flagged_on=checked.received_on,
                        flagged_by_id=by.id,
                    )
                )
        if checked.is_group:
            db.session.add(
                RiskFlag(
                    township_id=tid,
                    petition=petition,
                    kind=RiskKind.group,
                    description=_("A group petition of %(n)s people.", n=checked.head_count),
                    measures="",
                    flagged_on=checked.received_on,
                    flagged_by_id=by.id,
                )
            )

    try:
        with _with_case(build):
            register_case(
                township=township,
                kind=KIND,
                title=checked.matter,
                applicant_name=_applicant_name(checked),
                first_responder=by,
                description=checked.description,
                received_on=checked.received_on,
            )
    except CaseError as exc:
        db.session.rollback()
        raise PetitionError(str(exc)) from None
    petition = built[0]
    _announce_acceptance(petition)
    if repeats or checked.is_group:
        _announce_measures(petition)
    db.session.commit()
    return petition


def submit_online(
    township: OrgUnit, data: PetitionInput, *, contact_required: bool = True
) -> Petition:
    """A petition from the public site: received today, registered in the name of the
    township's petition officer (the first responder a core case needs)."""
    data.session_id = None
    data.received_on = None
    data.channel = Channel.online.value
    if contact_required and not any((p.phone or "").strip() for p in data.petitioners):
        raise PetitionError(_("Give a phone number so that the township can reach you."))
    people = officers(township.id)
    if not people:
        raise PetitionError(
            _("This township takes no online petitions at the moment; please call or visit.")
        )
    officer = people[0]
    checked = _check_petition(township, data, officer, RegisteredVia.public_site)
    return _register(township, checked, officer)


def _announce_acceptance(petition: Petition) -> None:
    with _default_locale():
        title = _(
            "Petition to accept or not by %(day)s: %(title)s",
            day=petition.decide_by.isoformat(),
            title=petition.case.title,
        )
    announce(
        officers(petition.township_id),
        INBOX_ACCEPT,
        petition.id,
        shorten(title, 190)[0],
        township_id=petition.township_id,
        link=link("petitions_petitions.details_view", id=petition.id),
    )


def _announce_measures(petition: Petition) -> None:
    with _default_locale():
        title = _("Risk flagged, measures to decide: %(title)s", title=petition.case.title)
    announce(
        officers(petition.township_id),
        INBOX_MEASURES,
        petition.id,
        shorten(title, 190)[0],
        township_id=petition.township_id,
        link=link("petitions_petitions.details_view", id=petition.id),
    )


# ---------------------------------------------------------------------------
# Handling
# ---------------------------------------------------------------------------


def _core(work, *args, **kwargs):
    """Run a core case service; its refusal rolls the plugin's changes back as well."""
    try:
        return work(*args, **kwargs)
    except CaseError as exc:
        db.session.rollback()
        raise PetitionError(str(exc)) from None


def may_handle(user: User | None, petition: Petition) -> bool:
    """The officer, or the leader who registered it on their reception day."""
    if can(user, WRITE, petition.township_id):
        return True
    return (
        user is not None
        and petition.registered_by_id == user.id
        and petition.registered_via in (RegisteredVia.reception_day, RegisteredVia.session)
        and can(user, READ, petition.township_id)
    )


def _handler(by: User, petition: Petition) -> None:
    if not may_handle(by, petition):
        raise PetitionError(_("You may not do this in this township."))


def _case_open(petition: Petition) -> None:
    if petition.case.status not in (*OPEN_STATUSES, CaseStatus.waiting):
        raise PetitionError(_("The petition is %(status)s.", status=petition.case.status.label))


def decide_acceptance(
    petition: Petition,
    *,
    accept: bool,
    by: User,
    on: date | None = None,
    reason: str = "",
) -> Petition:
    """Accept the petition (the 60-day limit starts the next day) or not (the case is closed
    with the reason, which is told to the petitioner)."""
    _handler(by, petition)
    if petition.acceptance != Acceptance.pending:
        raise PetitionError(_("Acceptance was already decided."))
    on = _past(on, petition.township_id, _("Decided on"), not_before=petition.received_on)
    reason = _text(reason, TEXT, _("Reason"), required=not accept)
    petition.acceptance = Acceptance.accepted if accept else Acceptance.not_accepted
    petition.decided_on = on
    petition.decided_by_id = by.id
    if accept:
        _core(accept_case, petition.case, by, on)
    else:
        petition.not_accepted_reason = reason
        petition.told_on = on
        _core(close_case, petition.case, by, _("Not accepted: %(reason)s", reason=reason))
    return petition


def _accepted(petition: Petition) -> None:
    if petition.acceptance != Acceptance.accepted:
        raise PetitionError(_("Decide to accept the petition first."))


def hand_over(
    petition: Petition,
    *,
    department: OrgUnit | None,
    by: User,
    due_on: date | None = None,
    handler: User | None = None,
    instructions: str = "",
) -> FollowUp:
    """Hand the petition to the responsible department (交办) with a follow-up deadline;
    the one who hands it over follows it up until the department reports it done."""
    _handler(by, petition)
    _accepted(petition)
    _case_open(petition)
    tid = petition.township_id
    today = clock.today(tid)
    if department is None:
        raise PetitionError(_("Choose the responsible department."))
    if department.township_id != tid or department.kind != UnitKind.station:
        raise PetitionError(_("The department must be a station or office of this township."))
    if handler is not None and not _is_staff(handler, tid):
        raise PetitionError(_("%(name)s does not work for this township.", name=handler.name))
    if due_on is None:
        due_on = today + timedelta(days=int(get_policy(tid, FOLLOW_UP_DAYS)))
        if petition.case.due_on is not None:
            due_on = min(due_on, petition.case.due_on)
    if due_on < today:
        raise PetitionError(_("The follow-up deadline cannot be in the past."))
    if petition.case.due_on is not None and due_on > petition.case.due_on:
        raise PetitionError(
            _(
                "The follow-up deadline cannot be after the petition's due date (%(day)s).",
                day=petition.case.due_on.isoformat(),
            )
        )
    instructions = _text(instructions, TEXT, _("Instructions"), required=False)
    if any(f.department_id == department.id and f.done_on is None for f in petition.follow_ups):
        raise PetitionError(_("The petition is already with this department."))
    follow_up = FollowUp(
        township_id=tid,
        petition_id=petition.id,
        department_id=department.id,
        handler_id=handler.id if handler else None,
        owner_id=by.id,
        handed_on=today,
        due_on=due_on,
        instructions=instructions,
    )
    db.session.add(follow_up)
    db.session.flush()
    with _default_locale():
        note = _(
            "Handed to %(department)s; report back by %(day)s.",
            department=department.name,
            day=due_on.isoformat(),
        )
        title = _(
            "Follow up by %(day)s: %(title)s (%(department)s)",
            day=due_on.isoformat(),
            title=petition.case.title,
            department=department.name,
        )
    announce(
        [by],
        INBOX_FOLLOW_UP,
        follow_up.id,
        shorten(title, 190)[0],
        township_id=tid,
        link=link("petitions_petitions.details_view", id=petition.id),
    )
    case = petition.case
    if handler is not None:
        if handler.id != by.id:
            notify(
                [handler],
                shorten(title, 190)[0],
                instructions,
                link=link("admin_cases.details_view", id=case.id),
                key=f"petitions.handler:{follow_up.id}",
                township_id=tid,
            )
        _core(assign_case, case, by, handler, department)
    elif case.status in (CaseStatus.accepted, CaseStatus.in_progress, CaseStatus.reopened):
        _core(forward_case, case, by, department, f"{note} {instructions}".strip())
    else:
        _core(assign_case, case, by, case.handler, department)
    return follow_up


def add_progress(petition: Petition, *, text: str, by: User, on: date | None = None) -> Progress:
    """A dated note of the follow-up (what the department said, what was checked)."""
    _handler(by, petition)
    row = Progress(
        township_id=petition.township_id,
        petition_id=petition.id,
        noted_on=_past(on, petition.township_id, _("Date"), not_before=petition.received_on),
        text=_text(text, TEXT, _("Note")),
        by_id=by.id,
    )
    db.session.add(row)
    db.session.commit()
    return row


def follow_up_done(
    follow_up: FollowUp, *, outcome: str, by: User, on: date | None = None
) -> FollowUp:
    """The department reported the petition done (办结报告); the follow-up leaves the inbox."""
    petition = follow_up.petition
    _handler(by, petition)
    if follow_up.done_on is not None:
        raise PetitionError(_("This follow-up is already done."))
    follow_up.done_on = _past(
        on, petition.township_id, _("Reported on"), not_before=follow_up.handed_on
    )
    follow_up.outcome = _text(outcome, TEXT, _("What the department reported"))
    db.session.commit()
    return follow_up


def extension_room(petition: Petition) -> int:
    """How many more days a leader may still extend the handling limit by: the policy's
    most (信访工作条例: 30) and the case kind's longest extension, whichever is less."""
    case = petition.case
    if case.limit_amount is None or case.limit_max_amount is None:
        return 0
    from core.models import ExtensionRequest

    extended = db.session.scalar(
        select(func.count(ExtensionRequest.id)).where(
            ExtensionRequest.case_id == case.id, ExtensionRequest.approved.is_(True)
        )
    )
    most = int(get_policy(petition.township_id, EXTENSION_DAYS))
    if extended:
        # the regulation allows one extension
        return 0
    return max(0, min(most, case.limit_max_amount - case.limit_amount))


def ask_extension(petition: Petition, *, days: int | None, reason: str, by: User):
    """Ask a leader to extend the handling limit by ``days`` (at most 30 under the national
    regulation and never beyond the case kind's longest extension): the core's extension
    request, decided by a leader in the core's case page or inbox."""
    _handler(by, petition)
    _accepted(petition)
    _case_open(petition)
    room = extension_room(petition)
    if room <= 0:
        raise PetitionError(_("The handling limit of this petition cannot be extended further."))
    if not isinstance(days, int) or isinstance(days, bool) or days < 1:
        raise PetitionError(_("Give the extension as a whole number of days."))
    if days > room:
        raise PetitionError(_("The handling limit can be extended by at most %(n)s days.", n=room))
    reason = _text(reason, TEXT, _("Reason"))
    return _core(request_extension, petition.case, by, petition.case.limit_amount + days, reason)


def escalate(petition: Petition, *, reason: str, by: User) -> Petition:
    """A major matter goes to the leadership team for a collective decision (集体研究)."""
    _handler(by, petition)
    _accepted(petition)
    _case_open(petition)
    if petition.escalated_on is not None:
        raise PetitionError(_("The petition is already with the leadership team."))
    petition.escalation_reason = _text(reason, TEXT, _("Why it is a major matter"))
    petition.escalated_on = clock.today(petition.township_id)
    petition.escalated_by_id = by.id
    db.session.flush()
    with _default_locale():
        title = _("Major petition for a collective decision: %(title)s", title=petition.case.title)
    announce(
        users_with(DECIDE, petition.township_id),
        INBOX_DECISION,
        petition.id,
        shorten(title, 190)[0],
        township_id=petition.township_id,
        link=link("petitions_petitions.details_view", id=petition.id),
        body=petition.escalation_reason,
    )
    db.session.commit()
    return petition


def record_decision(
    petition: Petition,
    *,
    meeting_on: date | None,
    members: list[User],
    decision: str,
    by: User,
) -> Decision:
    """The leadership team's collective decision: meeting date, members present (leaders of
    the township, at least two), the decision."""
    tid = petition.township_id
    _require(by, DECIDE, tid)
    if petition.escalated_on is None:
        raise PetitionError(_("Only a petition escalated to the leadership team gets a decision."))
    if petition.decision is not None:
        raise PetitionError(_("The decision was already recorded."))
    problems = []
    if meeting_on is None:
        problems.append(_("Give the date of the meeting."))
    else:
        try:
            _past(meeting_on, tid, _("Meeting date"), not_before=petition.escalated_on)
        except PetitionError as exc:
            problems.extend(exc.problems)
    unique = {u.id: u for u in members}
    if len(unique) < 2:
        problems.append(_("A collective decision needs at least two members of the team present."))
    not_leaders = [u.name for u in unique.values() if not is_leader(u, tid)]
    if not_leaders:
        problems.append(
            _("Not members of the leadership team: %(names)s", names="、".join(not_leaders))
        )
    try:
        decision = _text(decision, LONG_TEXT, _("Decision"))
    except PetitionError as exc:
        problems.extend(exc.problems)
    if problems:
        raise PetitionError(*problems)
    row = Decision(
        township_id=tid,
        petition_id=petition.id,
        meeting_on=meeting_on,
        decision=decision,
        recorded_by_id=by.id,
    )
    db.session.add(row)
    db.session.flush()
    for user in unique.values():
        db.session.add(DecisionMember(decision_id=row.id, user_id=user.id))
    db.session.add(
        Progress(
            township_id=tid,
            petition_id=petition.id,
            noted_on=meeting_on,
            text=_(
                "Collective decision of %(day)s: %(decision)s",
                day=meeting_on.isoformat(),
                decision=shorten(decision, 500)[0],
            ),
            by_id=by.id,
        )
    )
    db.session.commit()
    return row


def answer(
    petition: Petition,
    *,
    result: str,
    told_how: str,
    by: User,
    told_on: date | None = None,
    close: bool = False,
) -> Petition:
    """The result, told to the petitioner (答复告知) and recorded: the core case is resolved
    and its delivery recorded (and closed, if asked: the archives get it)."""
    _handler(by, petition)
    _accepted(petition)
    _case_open(petition)
    tid = petition.township_id
    if petition.escalated_on is not None and petition.decision is None:
        raise PetitionError(_("The petition waits for the leadership team's decision."))
    open_follow_ups = [f.department.name for f in petition.follow_ups if f.done_on is None]
    if open_follow_ups:
        raise PetitionError(
            _("Record the report of %(names)s first.", names="、".join(open_follow_ups))
        )
    result = _text(result, LONG_TEXT, _("Result"))
    told_how = _text(told_how, TEXT, _("How the petitioner was told"))
    told_on = _past(told_on, tid, _("Told on"), not_before=petition.received_on)
    petition.told_on = told_on
    case = petition.case
    if case.status == CaseStatus.waiting:
        raise PetitionError(_("The case waits for the citizen; resume it first."))
    _core(resolve_case, case, by, result)
    _core(deliver_case, case, by, f"{told_on.isoformat()} {told_how}")
    if close:
        _core(close_case, case, by, None)
    return petition


def close_petition(petition: Petition, *, by: User, note: str = "") -> Petition:
    """Close an answered petition (办结); the core hands the case to the archives."""
    _handler(by, petition)
    if petition.case.status not in (CaseStatus.resolved, CaseStatus.delivered):
        raise PetitionError(_("Record the answer given to the petitioner first."))
    note = _text(note, TEXT, _("Note"), required=False)
    _core(close_case, petition.case, by, note or None)
    return petition


def case_closed(case: Case) -> None:
    """The core closed a petition's case (also from the core's case page): its open
    follow-ups are done with it (hook ``township_case_closed``, enabled townships only)."""
    if case.kind != KIND:
        return
    petition = db.session.scalar(select(Petition).where(Petition.case_id == case.id))
    if petition is None:
        return
    today = clock.today(case.township_id)
    changed = False
    for follow_up in petition.follow_ups:
        if follow_up.done_on is None:
            follow_up.done_on = max(today, follow_up.handed_on)
            follow_up.outcome = follow_up.outcome or _("The petition was closed.")
            changed = True
    if changed:
        db.session.commit()


# ---------------------------------------------------------------------------
# Risks
# ---------------------------------------------------------------------------


def flag_risk(
    township_id: int,
    *,
    kind: RiskKind | str,
    description: str,
    measures: str,
    by: User,
    petition: Petition | None = None,
    petitioner: Petitioner | None = None,
    on: date | None = None,
) -> RiskFlag:
    """Flag a risk on a petition or a petitioner, with the measures taken."""
    _require(by, WRITE, township_id)
    kind = _enum(RiskKind, kind, _("Choose the kind of risk."))
    if petition is None and petitioner is None:
        raise PetitionError(_("Flag a petition or a petitioner."))
    for row in (petition, petitioner):
        if row is not None and row.township_id != township_id:
            raise PetitionError(_("The petition is not one of this township's."))
    if petitioner is not None and petition is not None and petitioner.petition_id != petition.id:
        raise PetitionError(_("The petitioner is not one of this petition's."))
    flag = RiskFlag(
        township_id=township_id,
        petition_id=petition.id if petition else petitioner.petition_id,
        petitioner_id=petitioner.id if petitioner else None,
        kind=kind,
        description=_text(description, TEXT, _("The risk")),
        measures=_text(measures, TEXT, _("Measures taken")),
        flagged_on=_past(on, township_id, _("Flagged on")),
        flagged_by_id=by.id,
    )
    db.session.add(flag)
    db.session.commit()
    return flag


def set_measures(flag: RiskFlag, *, measures: str, by: User) -> RiskFlag:
    _require(by, WRITE, flag.township_id)
    if flag.closed_on is not None:
        raise PetitionError(_("This risk flag is closed."))
    flag.measures = _text(measures, TEXT, _("Measures taken"))
    db.session.commit()
    return flag


def close_flag(flag: RiskFlag, *, note: str, by: User, on: date | None = None) -> RiskFlag:
    _require(by, WRITE, flag.township_id)
    if flag.closed_on is not None:
        raise PetitionError(_("This risk flag is closed."))
    if not flag.measures:
        raise PetitionError(_("Record the measures taken before closing the flag."))
    flag.closed_on = _past(on, flag.township_id, _("Closed on"), not_before=flag.flagged_on)
    flag.close_note = _text(note, TEXT, _("Why the risk is over"))
    flag.closed_by_id = by.id
    db.session.commit()
    return flag


# ---------------------------------------------------------------------------
# Overdue follow-ups and decisions (the daily sweep)
# ---------------------------------------------------------------------------


def overdue_items(township_ids: set[int]) -> list[tuple[str, int, str]]:
    """(kind, id, due date) of follow-ups past their deadline and acceptance decisions past
    their day, for the reminders (two queries per township "today")."""
    out: list[tuple[str, int, str]] = []
    if not township_ids:
        return out
    for today, ids in clock.today_groups(township_ids).items():
        for fid, due in db.session.execute(
            select(FollowUp.id, FollowUp.due_on).where(
                FollowUp.township_id.in_(ids), FollowUp.done_on.is_(None), FollowUp.due_on < today
            )
        ):
            out.append(("follow_up", fid, due.isoformat()))
        for pid, due in db.session.execute(
            select(Petition.id, Petition.decide_by).where(
                Petition.township_id.in_(ids),
                Petition.acceptance == Acceptance.pending,
                Petition.decide_by < today,
            )
        ):
            out.append(("acceptance", pid, due.isoformat()))
    return out


# ---------------------------------------------------------------------------
# Figures and the public schedule
# ---------------------------------------------------------------------------


@dataclass
class Figures:
    open: int = 0
    due_within_week: int = 0
    overdue: int = 0
    undecided_late: int = 0
    open_flags: int = 0
    sessions_this_month: int = 0
    observers_this_month: int = 0


def figures(todays: dict[int, date]) -> dict[int, Figures]:
    """The dashboard's figures of several townships, by id, each taken on its own today
    (``{township id: today}``): four queries whatever their number."""
    out = {tid: Figures() for tid in todays}
    if not todays:
        return out
    ids = list(todays)
    overdue = clock.on_each_day(Petition.township_id, todays, lambda today: Case.due_on < today)
    soon = clock.on_each_day(
        Petition.township_id,
        todays,
        lambda today: and_(Case.due_on >= today, Case.due_on <= today + timedelta(days=7)),
    )
    for tid, count, late, near in db.session.execute(
        select(
            Petition.township_id,
            func.count(Case.id),
            func.sum(case((overdue, 1), else_=0)),
            func.sum(case((soon, 1), else_=0)),
        )
        .select_from(Petition)
        .join(Case, Case.id == Petition.case_id)
        .where(Petition.township_id.in_(ids), Case.status.in_(OPEN_STATUSES))
        .group_by(Petition.township_id)
    ):
        out[tid].open, out[tid].overdue, out[tid].due_within_week = (
            count,
            int(late or 0),
            int(near or 0),
        )
    for tid, count in db.session.execute(
        select(Petition.township_id, func.count(Petition.id))
        .where(
            Petition.township_id.in_(ids),
            Petition.acceptance == Acceptance.pending,
            clock.on_each_day(
                Petition.township_id, todays, lambda today: Petition.decide_by < today
            ),
        )
        .group_by(Petition.township_id)
    ):
        out[tid].undecided_late = count
    for tid, count in db.session.execute(
        select(RiskFlag.township_id, func.count(RiskFlag.id))
        .where(RiskFlag.township_id.in_(ids), RiskFlag.closed_on.is_(None))
        .group_by(RiskFlag.township_id)
    ):
        out[tid].open_flags = count

    def this_month(first: date):
        after = date(first.year + (first.month == 12), first.month % 12 + 1, 1)
        return and_(ReceptionSession.held_on >= first, ReceptionSession.held_on < after)

    firsts = {tid: today.replace(day=1) for tid, today in todays.items()}
    for tid, sessions, observers in db.session.execute(
        select(
            ReceptionSession.township_id,
            func.count(func.distinct(ReceptionSession.id)),
            func.count(Invitation.id).filter(Invitation.attendance == Attendance.present),
        )
        .select_from(ReceptionSession)
        .outerjoin(Invitation, Invitation.session_id == ReceptionSession.id)
        .where(
            ReceptionSession.township_id.in_(ids),
            clock.on_each_day(ReceptionSession.township_id, firsts, this_month),
            ReceptionSession.status != SessionStatus.cancelled,
        )
        .group_by(ReceptionSession.township_id)
    ):
        out[tid].sessions_this_month = sessions or 0
        out[tid].observers_this_month = observers or 0
    return out


@dataclass(frozen=True)
class ScheduleEntry:
    day: date
    time: str
    leader: str
    place: str
    what: str


def public_schedule(township: OrgUnit, days: int = 28) -> list[ScheduleEntry]:
    """Who receives petitioners when and where in the coming ``days``: the published
    sessions and the leader reception days of the duty rota (three queries for the rota)."""
    from core.duty import rota
    from core.models import DutyPost

    today = clock.today(township)
    end = today + timedelta(days=days)
    entries = [
        ScheduleEntry(
            s.held_on,
            s.starts_at,
            s.receiving_leader.name,
            s.place,
            _("Open reception with observers") + (f"：{s.topic}" if s.topic else ""),
        )
        for s in db.session.scalars(
            select(ReceptionSession)
            .where(
                ReceptionSession.township_id == township.id,
                ReceptionSession.published.is_(True),
                ReceptionSession.status == SessionStatus.planned,
                ReceptionSession.held_on >= today,
                ReceptionSession.held_on <= end,
            )
            .order_by(ReceptionSession.held_on, ReceptionSession.starts_at)
            .limit(100)
        )
    ]
    for day in rota(township, today, days + 1):
        for entry in day.on(DutyPost.reception_leader):
            entries.append(
                ScheduleEntry(
                    day.day,
                    "",
                    entry.user.name,
                    _("The township government's reception room"),
                    _("Leader reception day"),
                )
            )
    return sorted(entries, key=lambda e: (e.day, e.time or "99", e.leader))
