"""延时办理制度: five working days, seven days of service.

* :class:`ExtendedHoursService` (延时服务登记) — a citizen served outside the eight hours:
  who, what, when, by whom, the result; an urgent matter is linked to its case;
* :class:`ExtendedHoursPledge` — a staff member acknowledged the conduct rule (no meals
  or gifts from citizens during extended service) for a year;
* :class:`ExtendedHoursGap` — a day of the coming weeks with nobody at a service window
  (the coverage check writes it; it waits in the township administrators' inbox until
  the rota covers it).

The window rota itself is the core's (:mod:`core.duty`, post ``window``).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import db, utcnow
from core.models import Case, User


class ExtendedHoursService(db.Model):
    """An after-hours service (延时服务): a citizen served outside the office hours."""

    __tablename__ = "extended_hours_service"
    __table_args__ = (
        Index("ix_extended_hours_service_township_served", "township_id", "served_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    township_id: Mapped[int] = mapped_column(ForeignKey("core_org_unit.id"))
    citizen_name: Mapped[str] = mapped_column(String(60))
    citizen_phone: Mapped[str] = mapped_column(String(20), default="", info={"check": "phone"})
    matter: Mapped[str] = mapped_column(String(1000))
    #: the township's date of ``starts_at`` (reports group by it)
    served_on: Mapped[date] = mapped_column(info={"past": True})
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    staff_id: Mapped[int] = mapped_column(ForeignKey("core_user.id"), index=True)
    result: Mapped[str] = mapped_column(String(1000))
    urgent: Mapped[bool] = mapped_column(default=False)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("core_case.id"), index=True)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("core_user.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    staff: Mapped[User] = relationship(foreign_keys=[staff_id], lazy="joined")
    recorded_by: Mapped[User] = relationship(foreign_keys=[recorded_by_id], lazy="joined")
    case: Mapped[Case | None] = relationship(lazy="joined")

    def __str__(self) -> str:
        return f"{self.served_on.isoformat()} {self.citizen_name}"


class ExtendedHoursPledge(db.Model):
    """A staff member's yearly acknowledgement of the conduct rule of extended service."""

    __tablename__ = "extended_hours_pledge"
    __table_args__ = (UniqueConstraint("township_id", "user_id", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    township_id: Mapped[int] = mapped_column(ForeignKey("core_org_unit.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("core_user.id"), index=True)
    year: Mapped[int]
    acknowledged_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship(lazy="joined")


class ExtendedHoursGap(db.Model):
    """A coming day with nobody at a service window (found by the coverage check)."""

    __tablename__ = "extended_hours_gap"
    __table_args__ = (
        UniqueConstraint("township_id", "day"),
        Index("ix_extended_hours_gap_township_covered", "township_id", "covered_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    township_id: Mapped[int] = mapped_column(ForeignKey("core_org_unit.id"))
    day: Mapped[date]
    found_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: when the rota covered the day again (None: still a gap)
    covered_at: Mapped[datetime | None]


MODELS = [ExtendedHoursService, ExtendedHoursPledge, ExtendedHoursGap]
