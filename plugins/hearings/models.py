"""群众听证质询制度: hearings and inquiries the party committee calls, their participants
(invited by category or registered from the public site), the questions put at the hearing
and how each was answered, and the append-only trail of every step."""

from __future__ import annotations

from datetime import date, datetime, time

from flask_babel import lazy_gettext as _l
from sqlalchemy import Enum, ForeignKey, Index, String, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import db, utcnow
from core.labels import LabelledEnum
from core.models import Case, OrgUnit, Person, User


def _enum(cls, length: int = 16):
    return Enum(cls, native_enum=False, length=length)


class HearingKind(LabelledEnum):
    """A hearing (听证会) hears views on a decision; an inquiry (质询会) questions those
    responsible for a matter."""

    hearing = "hearing"
    inquiry = "inquiry"

    @classmethod
    def labels(cls):
        return {cls.hearing: _l("Public hearing"), cls.inquiry: _l("Public inquiry")}


class HearingStatus(LabelledEnum):
    draft = "draft"
    announced = "announced"
    held = "held"
    concluded = "concluded"
    cancelled = "cancelled"

    @classmethod
    def labels(cls):
        return {
            cls.draft: _l("Being prepared"),
            cls.announced: _l("Announced"),
            cls.held: _l("In session"),
            cls.concluded: _l("Concluded, result published"),
            cls.cancelled: _l("Cancelled"),
        }


class ParticipantCategory(LabelledEnum):
    """Who takes part, by the rule book's categories."""

    concerned = "concerned"
    retired_cadre = "retired_cadre"
    npc_deputy = "npc_deputy"
    cppcc_member = "cppcc_member"

    @classmethod
    def labels(cls):
        return {
            cls.concerned: _l("People concerned"),
            cls.retired_cadre: _l("Retired cadres"),
            cls.npc_deputy: _l("People's congress deputies"),
            cls.cppcc_member: _l("CPPCC members"),
        }


class ParticipantSource(LabelledEnum):
    invited = "invited"
    registered = "registered"

    @classmethod
    def labels(cls):
        return {cls.invited: _l("By invitation"), cls.registered: _l("Registered online")}


class FeedbackWay(LabelledEnum):
    """How the result reached a participant: a notification (staff with an account) or a
    printed letter (everyone else)."""

    notified = "notified"
    letter = "letter"

    @classmethod
    def labels(cls):
        return {cls.notified: _l("Notification"), cls.letter: _l("Printed letter")}


class QuestionStatus(LabelledEnum):
    answered = "answered"
    pending = "pending"
    answered_later = "answered_later"

    @classmethod
    def labels(cls):
        return {
            cls.answered: _l("Answered on the spot"),
            cls.pending: _l("To be answered by the deadline"),
            cls.answered_later: _l("Answered after the hearing"),
        }


class Hearing(db.Model):
    """A hearing or inquiry (听证会/质询会) on a hot, hard or focal issue or a major decision."""

    __tablename__ = "hearings_hearing"
    __table_args__ = (
        Index("ix_hearings_hearing_township_status_held", "township_id", "status", "held_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    township_id: Mapped[int] = mapped_column(ForeignKey("core_org_unit.id"), index=True)
    kind: Mapped[HearingKind] = mapped_column(_enum(HearingKind), default=HearingKind.hearing)
    topic: Mapped[str] = mapped_column(String(200))
    background: Mapped[str] = mapped_column(Text, default="")
    #: who decided to call it (e.g. 镇党委), and when
    decided_by: Mapped[str] = mapped_column(String(120))
    decided_on: Mapped[date] = mapped_column(info={"past": True})
    held_on: Mapped[date] = mapped_column(index=True)
    start_time: Mapped[time | None]
    place: Mapped[str] = mapped_column(String(200))
    #: seats for citizens who register online (None = no limit)
    public_seats: Mapped[int | None]
    status: Mapped[HearingStatus] = mapped_column(
        _enum(HearingStatus), default=HearingStatus.draft, index=True
    )
    result: Mapped[str] = mapped_column(Text, default="")
    cancel_reason: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    announced_at: Mapped[datetime | None]
    opened_at: Mapped[datetime | None]
    concluded_on: Mapped[date | None]
    concluded_at: Mapped[datetime | None]
    concluded_by_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"))

    township: Mapped[OrgUnit] = relationship(foreign_keys=[township_id], lazy="joined")
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    concluded_by: Mapped[User | None] = relationship(foreign_keys=[concluded_by_id])

    def __str__(self) -> str:
        return self.topic


class HearingParticipant(db.Model):
    """Someone taking part: invited by category from the people register or the staff, or a
    citizen concerned who registered on the public site (with a receipt number)."""

    __tablename__ = "hearings_participant"
    __table_args__ = (
        UniqueConstraint("hearing_id", "person_id"),
        UniqueConstraint("hearing_id", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    township_id: Mapped[int] = mapped_column(ForeignKey("core_org_unit.id"), index=True)
    hearing_id: Mapped[int] = mapped_column(ForeignKey("hearings_hearing.id"), index=True)
    category: Mapped[ParticipantCategory] = mapped_column(_enum(ParticipantCategory, 24))
    source: Mapped[ParticipantSource] = mapped_column(_enum(ParticipantSource))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("core_person.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    #: a registrant's phone (staff only, never public)
    phone: Mapped[str] = mapped_column(String(32), default="", info={"check": "phone"})
    #: what a registrant wants to raise
    concern: Mapped[str] = mapped_column(Text, default="")
    receipt_no: Mapped[str | None] = mapped_column(String(40), unique=True)
    #: None = attendance not recorded yet
    attended: Mapped[bool | None]
    feedback: Mapped[FeedbackWay | None] = mapped_column(_enum(FeedbackWay))
    feedback_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    hearing: Mapped[Hearing] = relationship(lazy="joined")
    person: Mapped[Person | None] = relationship(lazy="joined")
    user: Mapped[User | None] = relationship(lazy="joined")

    def __str__(self) -> str:
        return f"{self.name}（{self.category.label}）"


class HearingQuestion(db.Model):
    """A question put at the hearing (质询): who asked, the answer on the spot, or the
    reason it could not be answered at once, the person responsible and the deadline (then
    a core case of kind ``hearings.question``)."""

    __tablename__ = "hearings_question"
    __table_args__ = (
        UniqueConstraint("hearing_id", "number"),
        Index("ix_hearings_question_township_status", "township_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    township_id: Mapped[int] = mapped_column(ForeignKey("core_org_unit.id"), index=True)
    hearing_id: Mapped[int] = mapped_column(ForeignKey("hearings_hearing.id"), index=True)
    number: Mapped[int]
    participant_id: Mapped[int | None] = mapped_column(ForeignKey("hearings_participant.id"))
    asker_name: Mapped[str] = mapped_column(String(120))
    #: shown on the public page instead of the name
    asker_category: Mapped[ParticipantCategory | None] = mapped_column(
        _enum(ParticipantCategory, 24)
    )
    question: Mapped[str] = mapped_column(Text)
    status: Mapped[QuestionStatus] = mapped_column(_enum(QuestionStatus, 24))
    answer: Mapped[str] = mapped_column(Text, default="")
    #: who answered (on the spot: the official who spoke; later: the responsible person)
    answered_by: Mapped[str] = mapped_column(String(120), default="")
    answered_at: Mapped[datetime | None]
    #: why it could not be answered at once
    reason: Mapped[str] = mapped_column(Text, default="")
    responsible_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"), index=True)
    deadline: Mapped[date | None] = mapped_column(index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("core_case.id"), index=True)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    hearing: Mapped[Hearing] = relationship(lazy="joined")
    responsible: Mapped[User | None] = relationship(foreign_keys=[responsible_id], lazy="joined")
    case: Mapped[Case | None] = relationship()

    def __str__(self) -> str:
        return f"{self.number}. {self.question[:40]}"


class HearingEvent(db.Model):
    """The append-only trail of a hearing: who did what, when (None = a citizen)."""

    __tablename__ = "hearings_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    township_id: Mapped[int] = mapped_column(ForeignKey("core_org_unit.id"), index=True)
    hearing_id: Mapped[int] = mapped_column(ForeignKey("hearings_hearing.id"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"))
    action: Mapped[str] = mapped_column(String(32))
    note: Mapped[str] = mapped_column(Text, default="")

    actor: Mapped[User | None] = relationship(lazy="joined")


class AppendOnlyError(RuntimeError):
    pass


@event.listens_for(HearingEvent, "before_update")
@event.listens_for(HearingEvent, "before_delete")
def _trail_is_append_only(mapper, connection, target):
    raise AppendOnlyError("the hearings trail is append-only")


MODELS = [Hearing, HearingParticipant, HearingQuestion, HearingEvent]
