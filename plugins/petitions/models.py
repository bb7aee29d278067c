"""信访旁听制度 and 领导接待: reception sessions, observers, petitions and their handling.

* :class:`Observer` — the observer register (旁听人员名册), kept by category; each
  observer is a person of the core register or a staff user;
* :class:`ReceptionSession` — a reception session (接访活动): date, place, the receiving
  leader, the convener, the observers invited (:class:`Invitation`, with attendance)
  and their opinions (:class:`Opinion`);
* :class:`Petition` — a petition (信访件), always a core case of kind
  ``petitions.petition``, with its petitioners (:class:`Petitioner`), the hand-overs to
  departments with follow-up deadlines (:class:`FollowUp`), progress notes
  (:class:`Progress`) and, for a major matter, the leadership team's collective
  decision (:class:`Decision`);
* :class:`RiskFlag` — a risk flagged on a petition or a petitioner (越级上访, group
  petition, repeat petitioner ...), with the measures taken.
"""

from __future__ import annotations

from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, Enum, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import db, utcnow
from core.labels import LabelledEnum
from core.models import Case, OrgUnit, Person, User


def _enum(cls, length: int = 32):
    return Enum(cls, native_enum=False, length=length)


class ObserverCategory(LabelledEnum):
    """Who may observe a reception (the rule book's list)."""

    station_head = "station_head"
    county_deputy = "county_deputy"
    township_deputy = "township_deputy"
    cppcc_member = "cppcc_member"
    village_secretary = "village_secretary"
    village_head = "village_head"
    retired_cadre = "retired_cadre"
    citizen_representative = "citizen_representative"

    @classmethod
    def labels(cls):
        return {
            cls.station_head: _l("Head of a relevant station"),
            cls.county_deputy: _l("County (banner) people's congress deputy"),
            cls.township_deputy: _l("Township people's congress deputy"),
            cls.cppcc_member: _l("CPPCC member"),
            cls.village_secretary: _l("Village party secretary"),
            cls.village_head: _l("Village committee head"),
            cls.retired_cadre: _l("Retired cadre"),
            cls.citizen_representative: _l("Citizen representative"),
        }


class SessionStatus(LabelledEnum):
    planned = "planned"
    closed = "closed"
    cancelled = "cancelled"

    @classmethod
    def labels(cls):
        return {
            cls.planned: _l("Planned"),
            cls.closed: _l("Closed, record filed"),
            cls.cancelled: _l("Cancelled"),
        }


class Attendance(LabelledEnum):
    invited = "invited"
    present = "present"
    absent = "absent"
    excused = "excused"

    @classmethod
    def labels(cls):
        return {
            cls.invited: _l("Invited"),
            cls.present: _l("Attended"),
            cls.absent: _l("Did not attend"),
            cls.excused: _l("Excused"),
        }


class Channel(LabelledEnum):
    letter = "letter"
    visit = "visit"
    phone = "phone"
    online = "online"

    @classmethod
    def labels(cls):
        return {
            cls.letter: _l("Letter"),
            cls.visit: _l("Visit"),
            cls.phone: _l("Phone call"),
            cls.online: _l("Online"),
        }


class RegisteredVia(LabelledEnum):
    """Where a petition was taken: at a session, on the leader reception day, by the
    officer at any time, or from the public site."""

    session = "session"
    reception_day = "reception_day"
    officer = "officer"
    public_site = "public_site"

    @classmethod
    def labels(cls):
        return {
            cls.session: _l("At a reception session"),
            cls.reception_day: _l("On the leader reception day"),
            cls.officer: _l("By the petition officer"),
            cls.public_site: _l("On the public site"),
        }


class PetitionCategory(LabelledEnum):
    land = "land"
    labour = "labour"
    social_security = "social_security"
    construction = "construction"
    environment = "environment"
    dispute = "dispute"
    village_affairs = "village_affairs"
    conduct = "conduct"
    other = "other"

    @classmethod
    def labels(cls):
        return {
            cls.land: _l("Land, requisition and compensation"),
            cls.labour: _l("Labour and unpaid wages"),
            cls.social_security: _l("Social security and assistance"),
            cls.construction: _l("Construction, roads and housing"),
            cls.environment: _l("Environment"),
            cls.dispute: _l("Disputes between neighbours or families"),
            cls.village_affairs: _l("Village affairs and finances"),
            cls.conduct: _l("Conduct of cadres"),
            cls.other: _l("Other"),
        }


class Acceptance(LabelledEnum):
    pending = "pending"
    accepted = "accepted"
    not_accepted = "not_accepted"

    @classmethod
    def labels(cls):
        return {
            cls.pending: _l("Acceptance not decided yet"),
            cls.accepted: _l("Accepted"),
            cls.not_accepted: _l("Not accepted"),
        }


class RiskKind(LabelledEnum):
    over_the_head = "over_the_head"
    group = "group"
    repeat = "repeat"
    other = "other"

    @classmethod
    def labels(cls):
        return {
            cls.over_the_head: _l("Risk of petitioning over the township's head"),
            cls.group: _l("Group petition"),
            cls.repeat: _l("Repeat petitioner"),
            cls.other: _l("Other risk"),
        }


# ---------------------------------------------------------------------------
# Observers and sessions
# ---------------------------------------------------------------------------


class Observer(db.Model):
    """One entry of the observer register: a person of the core register or a staff user,
    in one category."""

    __tablename__ = "petitions_observer"
    __table_args__ = (
        CheckConstraint("(person_id IS NULL) <> (user_id IS NULL)", name="person_or_user"),
        Index("ix_petitions_observer_township_category", "township_id", "category"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    township_id: Mapped[int] = mapped_column(ForeignKey("core_org_unit.id"), index=True)
    category: Mapped[ObserverCategory] = mapped_column(_enum(ObserverCategory))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("core_person.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"), index=True)
    #: post or unit, e.g. 民政办主任, 红旗村党支部书记
    title: Mapped[str] = mapped_column(String(120), default="")
    active: Mapped[bool] = mapped_column(default=True)
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    person: Mapped[Person | None] = relationship(lazy="joined")
    user: Mapped[User | None] = relationship(lazy="joined")

    @property
    def name(self) -> str:
        if self.person is not None:
            return self.person.name
        return self.user.name if self.user is not None else ""

    @property
    def phone(self) -> str | None:
        if self.person is not None:
            return self.person.phone
        return self.user.phone if self.user is not None else None

    def __str__(self) -> str:
        return f"{self.name}（{self.category.label}）" if self.category else self.name


class ReceptionSession(db.Model):
    """A reception session (接访活动) open to observers."""

    __tablename__ = "petitions_session"
    __table_args__ = (Index("ix_petitions_session_township_held", "township_id", "held_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    township_id: Mapped[int] = mapped_column(ForeignKey("core_org_unit.id"), index=True)
    held_on: Mapped[date]
    #: "09:00" (the township's time)
    starts_at: Mapped[str] = mapped_column(String(5), default="09:00")
    place: Mapped[str] = mapped_column(String(200))
    receiving_leader_id: Mapped[int] = mapped_column(ForeignKey("core_user.id"), index=True)
    convener_id: Mapped[int] = mapped_column(ForeignKey("core_user.id"), index=True)
    topic: Mapped[str] = mapped_column(String(200), default="")
    #: shown on the public reception schedule
    published: Mapped[bool] = mapped_column(default=True)
    status: Mapped[SessionStatus] = mapped_column(
        _enum(SessionStatus, 16), default=SessionStatus.planned, index=True
    )
    summary: Mapped[str | None] = mapped_column(Text)
    closed_at: Mapped[datetime | None]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    township: Mapped[OrgUnit] = relationship(lazy="joined")
    receiving_leader: Mapped[User] = relationship(foreign_keys=[receiving_leader_id], lazy="joined")
    convener: Mapped[User] = relationship(foreign_keys=[convener_id], lazy="joined")
    invitations: Mapped[list[Invitation]] = relationship(
        back_populates="session", order_by="Invitation.id", lazy="select"
    )
    opinions: Mapped[list[Opinion]] = relationship(
        back_populates="session", order_by="Opinion.id", lazy="select"
    )

    def __str__(self) -> str:
        return f"{self.held_on.isoformat()} {self.place}"


class Invitation(db.Model):
    """An observer invited to a session, and whether they came."""

    __tablename__ = "petitions_invitation"
    __table_args__ = (UniqueConstraint("session_id", "observer_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    township_id: Mapped[int] = mapped_column(ForeignKey("core_org_unit.id"), index=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("petitions_session.id"), index=True)
    observer_id: Mapped[int] = mapped_column(ForeignKey("petitions_observer.id"), index=True)
    attendance: Mapped[Attendance] = mapped_column(
        _enum(Attendance, 16), default=Attendance.invited
    )
    #: a notification went to the observer's account (else: on the printed list to call)
    notified: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    session: Mapped[ReceptionSession] = relationship(back_populates="invitations")
    observer: Mapped[Observer] = relationship(lazy="joined")


class Opinion(db.Model):
    """What an observer said at a session, the suggestion, and the answer given."""

    __tablename__ = "petitions_opinion"

    id: Mapped[int] = mapped_column(primary_key=True)
    township_id: Mapped[int] = mapped_column(ForeignKey("core_org_unit.id"), index=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("petitions_session.id"), index=True)
    observer_id: Mapped[int] = mapped_column(ForeignKey("petitions_observer.id"), index=True)
    said: Mapped[str] = mapped_column(Text)
    suggestion: Mapped[str] = mapped_column(Text, default="")
    answer: Mapped[str | None] = mapped_column(Text)
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    session: Mapped[ReceptionSession] = relationship(back_populates="opinions")
    observer: Mapped[Observer] = relationship(lazy="joined")
    answered_by: Mapped[User | None] = relationship(foreign_keys=[answered_by_id], lazy="joined")


# ---------------------------------------------------------------------------
# Petitions
# ---------------------------------------------------------------------------


class Petition(db.Model):
    """A petition (信访件): a core case of kind ``petitions.petition`` and what the
    petition institution adds to it."""

    __tablename__ = "petitions_petition"
    __table_args__ = (
        UniqueConstraint("case_id"),
        CheckConstraint("head_count >= 1", name="head_count_positive"),
        Index("ix_petitions_petition_township_received", "township_id", "received_on"),
        Index("ix_petitions_petition_township_acceptance", "township_id", "acceptance"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    township_id: Mapped[int] = mapped_column(ForeignKey("core_org_unit.id"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("core_case.id"))
    session_id: Mapped[int | None] = mapped_column(ForeignKey("petitions_session.id"), index=True)
    registered_via: Mapped[RegisteredVia] = mapped_column(_enum(RegisteredVia, 16))
    registered_by_id: Mapped[int] = mapped_column(ForeignKey("core_user.id"), index=True)
    channel: Mapped[Channel] = mapped_column(_enum(Channel, 16))
    category: Mapped[PetitionCategory] = mapped_column(_enum(PetitionCategory), index=True)
    village_id: Mapped[int | None] = mapped_column(ForeignKey("core_org_unit.id"), index=True)
    is_group: Mapped[bool] = mapped_column(default=False)
    head_count: Mapped[int] = mapped_column(default=1)
    received_on: Mapped[date] = mapped_column(info={"past": True})
    #: the acceptance decision is due by this day (policy petitions.accept_decision_days)
    decide_by: Mapped[date] = mapped_column(index=True)
    acceptance: Mapped[Acceptance] = mapped_column(
        _enum(Acceptance, 16), default=Acceptance.pending
    )
    decided_on: Mapped[date | None]
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"))
    not_accepted_reason: Mapped[str | None] = mapped_column(Text)
    #: a major matter escalated to the leadership team's collective decision
    escalated_on: Mapped[date | None]
    escalation_reason: Mapped[str | None] = mapped_column(Text)
    escalated_by_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"))
    #: how and when the result was told to the petitioner
    told_on: Mapped[date | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    case: Mapped[Case] = relationship(lazy="joined")
    session: Mapped[ReceptionSession | None] = relationship(lazy="select")
    village: Mapped[OrgUnit | None] = relationship(foreign_keys=[village_id], lazy="joined")
    registered_by: Mapped[User] = relationship(foreign_keys=[registered_by_id], lazy="select")
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id], lazy="select")
    escalated_by: Mapped[User | None] = relationship(foreign_keys=[escalated_by_id], lazy="select")
    petitioners: Mapped[list[Petitioner]] = relationship(
        back_populates="petition", order_by="Petitioner.id", lazy="select"
    )
    follow_ups: Mapped[list[FollowUp]] = relationship(
        back_populates="petition", order_by="FollowUp.id", lazy="select"
    )
    progress: Mapped[list[Progress]] = relationship(
        back_populates="petition", order_by="Progress.id", lazy="select"
    )
    decision: Mapped[Decision | None] = relationship(back_populates="petition", lazy="select")

    def __str__(self) -> str:
        return f"{self.case.receipt_no} {self.case.title}" if self.case else f"#{self.id}"


class Petitioner(db.Model):
    """One petitioner of a petition (for a group: the representatives). ID numbers and phones
    are kept normalised, so a repeat petitioner is found by either."""

    __tablename__ = "petitions_petitioner"
    __table_args__ = (
        Index("ix_petitions_petitioner_township_id_number", "township_id", "id_number"),
        Index("ix_petitions_petitioner_township_phone", "township_id", "phone"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    township_id: Mapped[int] = mapped_column(ForeignKey("core_org_unit.id"), index=True)
    petition_id: Mapped[int] = mapped_column(ForeignKey("petitions_petition.id"), index=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("core_person.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    id_number: Mapped[str | None] = mapped_column(String(18), info={"check": "resident_id"})
    phone: Mapped[str | None] = mapped_column(String(32), info={"check": "phone"})
    address: Mapped[str | None] = mapped_column(String(200))
    #: the first petitioner, or a group's lead representative
    is_lead: Mapped[bool] = mapped_column(default=False)

    petition: Mapped[Petition] = relationship(back_populates="petitioners")

    def __str__(self) -> str:
        return self.name


class FollowUp(db.Model):
    """A petition handed to the responsible department (交办), followed up by its owner (the
    officer, or the leader who received it) until the department reports it done."""

    __tablename__ = "petitions_followup"
    __table_args__ = (
        Index("ix_petitions_followup_owner_open", "owner_id", "done_on"),
        Index("ix_petitions_followup_township_due", "township_id", "due_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    township_id: Mapped[int] = mapped_column(ForeignKey("core_org_unit.id"), index=True)
    petition_id: Mapped[int] = mapped_column(ForeignKey("petitions_petition.id"), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("core_org_unit.id"), index=True)
    handler_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"))
    owner_id: Mapped[int] = mapped_column(ForeignKey("core_user.id"))
    handed_on: Mapped[date]
    #: the department reports back by this day (督办期限)
    due_on: Mapped[date]
    instructions: Mapped[str] = mapped_column(Text, default="")
    done_on: Mapped[date | None]
    outcome: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    petition: Mapped[Petition] = relationship(back_populates="follow_ups", lazy="joined")
    department: Mapped[OrgUnit] = relationship(foreign_keys=[department_id], lazy="joined")
    handler: Mapped[User | None] = relationship(foreign_keys=[handler_id], lazy="joined")
    owner: Mapped[User] = relationship(foreign_keys=[owner_id], lazy="joined")


class Progress(db.Model):
    """A dated note of how a petition is going (what the follow-up found)."""

    __tablename__ = "petitions_progress"

    id: Mapped[int] = mapped_column(primary_key=True)
    township_id: Mapped[int] = mapped_column(ForeignKey("core_org_unit.id"), index=True)
    petition_id: Mapped[int] = mapped_column(ForeignKey("petitions_petition.id"), index=True)
    noted_on: Mapped[date]
    text: Mapped[str] = mapped_column(Text)
    by_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    petition: Mapped[Petition] = relationship(back_populates="progress")
    by: Mapped[User | None] = relationship(lazy="joined")


class Decision(db.Model):
    """The leadership team's collective decision (集体研究) on a major petition."""

    __tablename__ = "petitions_decision"
    __table_args__ = (UniqueConstraint("petition_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    township_id: Mapped[int] = mapped_column(ForeignKey("core_org_unit.id"), index=True)
    petition_id: Mapped[int] = mapped_column(ForeignKey("petitions_petition.id"))
    meeting_on: Mapped[date] = mapped_column(info={"past": True})
    decision: Mapped[str] = mapped_column(Text)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("core_user.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    petition: Mapped[Petition] = relationship(back_populates="decision")
    recorded_by: Mapped[User] = relationship(lazy="joined")
    members: Mapped[list[DecisionMember]] = relationship(
        back_populates="decision", order_by="DecisionMember.id", lazy="selectin"
    )


class DecisionMember(db.Model):
    """A member of the leadership team present at the meeting."""

    __tablename__ = "petitions_decision_member"
    __table_args__ = (UniqueConstraint("decision_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    decision_id: Mapped[int] = mapped_column(ForeignKey("petitions_decision.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("core_user.id"))

    decision: Mapped[Decision] = relationship(back_populates="members")
    user: Mapped[User] = relationship(lazy="joined")


class RiskFlag(db.Model):
    """A risk flagged on a petition or on a petitioner, with the measures taken; open until
    someone closes it with a note."""

    __tablename__ = "petitions_risk_flag"
    __table_args__ = (
        CheckConstraint(
            "petition_id IS NOT NULL OR petitioner_id IS NOT NULL", name="flags_something"
        ),
        Index("ix_petitions_risk_flag_township_open", "township_id", "closed_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    township_id: Mapped[int] = mapped_column(ForeignKey("core_org_unit.id"), index=True)
    petition_id: Mapped[int | None] = mapped_column(ForeignKey("petitions_petition.id"), index=True)
    petitioner_id: Mapped[int | None] = mapped_column(
        ForeignKey("petitions_petitioner.id"), index=True
    )
    kind: Mapped[RiskKind] = mapped_column(_enum(RiskKind))
    description: Mapped[str] = mapped_column(Text)
    measures: Mapped[str] = mapped_column(Text, default="")
    flagged_on: Mapped[date]
    flagged_by_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"))
    closed_on: Mapped[date | None]
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"))
    close_note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    petition: Mapped[Petition | None] = relationship(lazy="joined")
    petitioner: Mapped[Petitioner | None] = relationship(lazy="joined")
    flagged_by: Mapped[User | None] = relationship(foreign_keys=[flagged_by_id], lazy="select")
    closed_by: Mapped[User | None] = relationship(foreign_keys=[closed_by_id], lazy="select")


MODELS = [
    Observer,
    ReceptionSession,
    Invitation,
    Opinion,
    Petition,
    Petitioner,
    FollowUp,
    Progress,
    Decision,
    DecisionMember,
    RiskFlag,
]
