"""群众预约领导制度: appointment cards (群众预约领导办公卡) and home visits (上门走访).

When a citizen needs a leader who is away on duty, the receiving staff fills in an
appointment card: citizen, contact, address, matter, the leader asked for, who took
it and when. When the leader is back, the card waits in their queue; the leader
visits the citizen at home, and the result is registered on the card. Each card is a
core case (kind ``appointments.card``): receipt number, trail, public lookup.
"""

from __future__ import annotations

from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import Enum, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import db, utcnow
from core.labels import LabelledEnum
from core.models import Case, User


class CardChannel(LabelledEnum):
    """How the citizen asked for the leader."""

    visit = "visit"
    phone = "phone"
    online = "online"

    @classmethod
    def labels(cls):
        return {
            cls.visit: _l("In person at the township"),
            cls.phone: _l("By phone"),
            cls.online: _l("Asked online"),
        }


class CardStatus(LabelledEnum):
    """Where a card stands."""

    #: the leader is away; the card waits for their return
    waiting_return = "waiting_return"
    #: in the leader's queue: a home visit is due
    queued = "queued"
    #: visited, but the matter needs another visit
    follow_up = "follow_up"
    #: the result is registered and the card closed
    closed = "closed"

    @classmethod
    def labels(cls):
        return {
            cls.waiting_return: _l("Waiting for the leader's return"),
            cls.queued: _l("Home visit due"),
            cls.follow_up: _l("Visited, another visit needed"),
            cls.closed: _l("Closed, result registered"),
        }


#: statuses in which a card waits for the leader's visit
OPEN_CARD_STATUSES = (CardStatus.waiting_return, CardStatus.queued, CardStatus.follow_up)


class VisitOutcome(LabelledEnum):
    """What came of a home visit."""

    resolved = "resolved"
    explained = "explained"
    referred = "referred"
    follow_up = "follow_up"

    @classmethod
    def labels(cls):
        return {
            cls.resolved: _l("Resolved on the spot"),
            cls.explained: _l("Explained; the citizen accepts"),
            cls.referred: _l("Handed to the responsible department"),
            cls.follow_up: _l("Another visit needed"),
        }


class AppointmentCard(db.Model):
    """An appointment card (群众预约领导办公卡), one per case."""

    __tablename__ = "appointments_card"
    __table_args__ = (
        UniqueConstraint("case_id"),
        Index("ix_appointments_card_township_status", "township_id", "status"),
        Index("ix_appointments_card_leader_status", "leader_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    township_id: Mapped[int] = mapped_column(ForeignKey("core_org_unit.id"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("core_case.id"))
    citizen_name: Mapped[str] = mapped_column(String(60))
    phone: Mapped[str] = mapped_column(String(20), info={"check": "phone"})
    address: Mapped[str] = mapped_column(String(200))
    matter: Mapped[str] = mapped_column(String(1000))
    #: the leader asked for (holds the leader role in the township)
    leader_id: Mapped[int] = mapped_column(ForeignKey("core_user.id"))
    #: the receiving staff; empty for a request made online
    taken_by_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"))
    channel: Mapped[CardChannel] = mapped_column(Enum(CardChannel, native_enum=False, length=16))
    taken_on: Mapped[date] = mapped_column(info={"past": True}, index=True)
    #: whether the leader was away when the card was taken
    leader_was_away: Mapped[bool] = mapped_column(default=False)
    status: Mapped[CardStatus] = mapped_column(
        Enum(CardStatus, native_enum=False, length=16), default=CardStatus.waiting_return
    )
    #: when the card entered the leader's queue (their return, or at once)
    queued_at: Mapped[datetime | None]
    #: the day the visit deadline counts from (the township's date of ``queued_at``)
    queued_on: Mapped[date | None]
    #: the home visit is due by this day (policy ``appointments.visit_working_days``)
    visit_due_on: Mapped[date | None] = mapped_column(index=True)
    result: Mapped[str | None] = mapped_column(String(2000))
    closed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    case: Mapped[Case] = relationship(lazy="joined")
    leader: Mapped[User] = relationship(foreign_keys=[leader_id], lazy="joined")
    taken_by: Mapped[User | None] = relationship(foreign_keys=[taken_by_id], lazy="joined")
    visits: Mapped[list[HomeVisit]] = relationship(
        back_populates="card", order_by="HomeVisit.id", lazy="select"
    )

    def __str__(self) -> str:
        return f"{self.case.receipt_no} {self.citizen_name}" if self.case else f"#{self.id}"


class HomeVisit(db.Model):
    """A home visit (上门走访): when, who went, what was found, what came of it."""

    __tablename__ = "appointments_visit"
    __table_args__ = (Index("ix_appointments_visit_township_visited", "township_id", "visited_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    township_id: Mapped[int] = mapped_column(ForeignKey("core_org_unit.id"))
    card_id: Mapped[int] = mapped_column(ForeignKey("appointments_card.id"), index=True)
    visited_on: Mapped[date] = mapped_column(info={"past": True})
    #: the leader who went (the card's leader)
    leader_id: Mapped[int] = mapped_column(ForeignKey("core_user.id"))
    #: who went with the leader (names, in words)
    companions: Mapped[str] = mapped_column(String(200), default="")
    findings: Mapped[str] = mapped_column(String(2000))
    outcome: Mapped[VisitOutcome] = mapped_column(Enum(VisitOutcome, native_enum=False, length=16))
    #: the result registered on the card (empty when another visit is needed)
    result: Mapped[str] = mapped_column(String(2000), default="")
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("core_user.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    card: Mapped[AppointmentCard] = relationship(back_populates="visits")
    leader: Mapped[User] = relationship(foreign_keys=[leader_id], lazy="joined")
    recorded_by: Mapped[User] = relationship(foreign_keys=[recorded_by_id], lazy="joined")


MODELS = [AppointmentCard, HomeVisit]
