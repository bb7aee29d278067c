"""服务承诺制度: leaders taking matters (on the spot or assigned with a deadline by
urgency) and disputes in three-level mediation (三级调处). The commitment itself is the
core's case (kind ``commitment``: 10 calendar days, extendable to 30)."""

from __future__ import annotations

from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import Enum, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import db, utcnow
from core.labels import LabelledEnum
from core.models import Case, OrgUnit, User


class TakeMode(LabelledEnum):
    on_spot = "on_spot"
    assigned = "assigned"

    @classmethod
    def labels(cls):
        return {
            cls.on_spot: _l("Answered on the spot"),
            cls.assigned: _l("Assigned to a handler with a deadline"),
        }


class Urgency(LabelledEnum):
    urgent = "urgent"
    pressing = "pressing"
    normal = "normal"

    @classmethod
    def labels(cls):
        return {cls.urgent: _l("Urgent"), cls.pressing: _l("Pressing"), cls.normal: _l("Normal")}


class CommitmentTake(db.Model):
    """A leader took a matter: answered it at once, or assigned a handler and a deadline."""

    __tablename__ = "commitment_take"
    __table_args__ = (UniqueConstraint("case_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    township_id: Mapped[int] = mapped_column(ForeignKey("core_org_unit.id"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("core_case.id"))
    leader_id: Mapped[int] = mapped_column(ForeignKey("core_user.id"), index=True)
    mode: Mapped[TakeMode] = mapped_column(Enum(TakeMode, native_enum=False, length=16))
    urgency: Mapped[Urgency | None] = mapped_column(Enum(Urgency, native_enum=False, length=16))
    handler_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"), index=True)
    deadline: Mapped[date | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    case: Mapped[Case] = relationship(lazy="joined")
    leader: Mapped[User] = relationship(foreign_keys=[leader_id], lazy="joined")
    handler: Mapped[User | None] = relationship(foreign_keys=[handler_id], lazy="joined")

    def __str__(self) -> str:
        return str(self.case) if self.case else f"#{self.id}"


class MediationLevel(LabelledEnum):
    village = "village"
    township = "township"
    county = "county"

    @classmethod
    def labels(cls):
        return {
            cls.village: _l("Village mediation"),
            cls.township: _l("Township mediation"),
            cls.county: _l("County referral"),
        }


#: the order a dispute climbs
LEVELS = (MediationLevel.village, MediationLevel.township, MediationLevel.county)


class MediationOutcome(LabelledEnum):
    agreed = "agreed"
    failed = "failed"

    @classmethod
    def labels(cls):
        return {cls.agreed: _l("Agreement reached"), cls.failed: _l("No agreement")}


class DisputeStatus(LabelledEnum):
    open = "open"
    settled = "settled"
    unresolved = "unresolved"

    @classmethod
    def labels(cls):
        return {
            cls.open: _l("Under mediation"),
            cls.settled: _l("Settled by agreement"),
            cls.unresolved: _l("Not settled at any level"),
        }


class CommitmentDispute(db.Model):
    """A dispute in three-level mediation (三级调处)."""

    __tablename__ = "commitment_dispute"
    __table_args__ = (Index("ix_commitment_dispute_township_status", "township_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    township_id: Mapped[int] = mapped_column(ForeignKey("core_org_unit.id"), index=True)
    village_id: Mapped[int | None] = mapped_column(ForeignKey("core_org_unit.id"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("core_case.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    parties: Mapped[str] = mapped_column(Text)
    status: Mapped[DisputeStatus] = mapped_column(
        Enum(DisputeStatus, native_enum=False, length=16), default=DisputeStatus.open
    )
    opened_on: Mapped[date]
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    village: Mapped[OrgUnit | None] = relationship(foreign_keys=[village_id], lazy="joined")
    case: Mapped[Case | None] = relationship(lazy="joined")
    mediations: Mapped[list[CommitmentMediation]] = relationship(
        back_populates="dispute", order_by="CommitmentMediation.id", lazy="select"
    )

    def __str__(self) -> str:
        return self.title


class CommitmentMediation(db.Model):
    """One level of mediation: date, mediators, outcome and the agreement's text."""

    __tablename__ = "commitment_mediation"
    __table_args__ = (UniqueConstraint("dispute_id", "level"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    township_id: Mapped[int] = mapped_column(ForeignKey("core_org_unit.id"), index=True)
    dispute_id: Mapped[int] = mapped_column(ForeignKey("commitment_dispute.id"), index=True)
    level: Mapped[MediationLevel] = mapped_column(
        Enum(MediationLevel, native_enum=False, length=16)
    )
    held_on: Mapped[date]
    mediators: Mapped[str] = mapped_column(String(300))
    outcome: Mapped[MediationOutcome] = mapped_column(
        Enum(MediationOutcome, native_enum=False, length=16)
    )
    agreement: Mapped[str] = mapped_column(Text, default="")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    dispute: Mapped[CommitmentDispute] = relationship(back_populates="mediations")


MODELS = [CommitmentTake, CommitmentDispute, CommitmentMediation]
