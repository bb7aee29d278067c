"""Cases (事项): the unit of work every institution shares, with its time limit."""

from __future__ import annotations

from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import Enum, ForeignKey, Index, String, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import db, utcnow
from core.labels import LabelledEnum
from core.models.identity import Person, User
from core.models.orgs import OrgUnit


class LimitUnit(LabelledEnum):
    working_days = "working_days"
    calendar_days = "calendar_days"

    @classmethod
    def labels(cls):
        return {cls.working_days: _l("working days"), cls.calendar_days: _l("calendar days")}


class CaseStatus(LabelledEnum):
    received = "received"
    accepted = "accepted"
    in_progress = "in_progress"
    waiting = "waiting"  # waiting for the citizen: the clock is paused
    forwarded = "forwarded"
    resolved = "resolved"
    delivered = "delivered"
    closed = "closed"
    reopened = "reopened"

    @classmethod
    def labels(cls):
        return {
            cls.received: _l("Received"),
            cls.accepted: _l("Accepted"),
            cls.in_progress: _l("In progress"),
            cls.waiting: _l("Waiting for the citizen"),
            cls.forwarded: _l("Forwarded"),
            cls.resolved: _l("Resolved"),
            cls.delivered: _l("Delivered"),
            cls.closed: _l("Closed"),
            cls.reopened: _l("Reopened"),
        }


#: statuses in which the clock runs and reminders are sent
OPEN_STATUSES = (
    CaseStatus.received,
    CaseStatus.accepted,
    CaseStatus.in_progress,
    CaseStatus.forwarded,
    CaseStatus.reopened,
)


class TimeLimitPolicy(db.Model):
    """A township's time limit for one case kind (overrides the kind's default)."""

    __tablename__ = "core_time_limit_policy"
    __table_args__ = (UniqueConstraint("township_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    township_id: Mapped[int] = mapped_column(ForeignKey("core_org_unit.id"), index=True)
    kind: Mapped[str] = mapped_column(String(64))
    amount: Mapped[int]
    unit: Mapped[LimitUnit] = mapped_column(Enum(LimitUnit, native_enum=False, length=16))
    #: the most a leader may extend the limit to (same unit); None = no extension
    max_amount: Mapped[int | None]


class Case(db.Model):
    """A matter a citizen brought (事项)."""

    __tablename__ = "core_case"
    __table_args__ = (Index("ix_core_case_township_status_due", "township_id", "status", "due_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    township_id: Mapped[int] = mapped_column(ForeignKey("core_org_unit.id"), index=True)
    kind: Mapped[str] = mapped_column(String(64), index=True)
    #: public receipt number (回执号) a citizen uses to look the case up
    receipt_no: Mapped[str] = mapped_column(String(32), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    applicant_id: Mapped[int | None] = mapped_column(ForeignKey("core_person.id"), index=True)
    applicant_name: Mapped[str] = mapped_column(String(120))
    first_responder_id: Mapped[int] = mapped_column(ForeignKey("core_user.id"), index=True)
    handler_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"), index=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("core_org_unit.id"), index=True)
    status: Mapped[CaseStatus] = mapped_column(
        Enum(CaseStatus, native_enum=False, length=16), default=CaseStatus.received, index=True
    )
    received_on: Mapped[date] = mapped_column(info={"past": True})
    accepted_on: Mapped[date | None] = mapped_column(info={"past": True})
    limit_amount: Mapped[int | None]
    limit_unit: Mapped[LimitUnit | None] = mapped_column(
        Enum(LimitUnit, native_enum=False, length=16)
    )
    limit_max_amount: Mapped[int | None]
    due_on: Mapped[date | None] = mapped_column(index=True)
    #: working days the clock stood still while waiting for the citizen
    paused_since: Mapped[date | None]
    paused_working_days: Mapped[int] = mapped_column(default=0)
    result: Mapped[str | None] = mapped_column(Text)
    delivery_note: Mapped[str | None] = mapped_column(Text)
    closed_at: Mapped[datetime | None]
    due_soon_reminded_for: Mapped[date | None]
    overdue_reminded_for: Mapped[date | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    township: Mapped[OrgUnit] = relationship(foreign_keys=[township_id], lazy="joined")
    department: Mapped[OrgUnit | None] = relationship(foreign_keys=[department_id], lazy="joined")
    applicant: Mapped[Person | None] = relationship(lazy="joined")
    first_responder: Mapped[User] = relationship(foreign_keys=[first_responder_id], lazy="joined")
    handler: Mapped[User | None] = relationship(foreign_keys=[handler_id], lazy="joined")
    events: Mapped[list[CaseEvent]] = relationship(
        back_populates="case", order_by="CaseEvent.id", lazy="select"
    )

    def __str__(self) -> str:
        return f"{self.receipt_no} {self.title}"


class CaseEvent(db.Model):
    """One entry of a case's append-only trail: who, when, what, before and after."""

    __tablename__ = "core_case_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("core_case.id"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"))
    action: Mapped[str] = mapped_column(String(32))
    before: Mapped[dict | None]
    after: Mapped[dict | None]
    note: Mapped[str | None] = mapped_column(Text)

    case: Mapped[Case] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship(lazy="joined")


class ExtensionRequest(db.Model):
    """A handler asks a leader to extend a case's time limit."""

    __tablename__ = "core_extension_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("core_case.id"), index=True)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("core_user.id"))
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    amount: Mapped[int]
    reason: Mapped[str] = mapped_column(Text)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"))
    decided_at: Mapped[datetime | None]
    approved: Mapped[bool | None]

    case: Mapped[Case] = relationship(lazy="joined")
    requested_by: Mapped[User] = relationship(foreign_keys=[requested_by_id], lazy="joined")


class AppendOnlyError(RuntimeError):
    pass


@event.listens_for(CaseEvent, "before_update")
@event.listens_for(CaseEvent, "before_delete")
def _case_events_are_append_only(mapper, connection, target):
    raise AppendOnlyError("case events are append-only")
