"""服务“四限”制度: the service guide (办事指南), the four limits and the fees charged.

Every row carries ``township_id`` (the tenant) except the county's model catalogue,
which belongs to a county (``county_id``) and is adopted by its townships. Fees are
kept in whole fen (分) so sums are exact on every backend.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import Enum, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import db, utcnow
from core.labels import LabelledEnum
from core.models import Case, OrgUnit, User


class Place(LabelledEnum):
    """Limited place (限地点): where a matter is done."""

    household = "household"  # 入户办理
    village = "village"  # 村便民服务室
    township = "township"  # 镇便民服务大厅
    county = "county"  # 县级事项，由镇代办

    @classmethod
    def labels(cls):
        return {
            cls.household: _l("At the household"),
            cls.village: _l("Village service room"),
            cls.township: _l("Township service hall"),
            cls.county: _l("County (handled by the township on the citizen's behalf)"),
        }


#: places from which a matter need not come to the township hall
VILLAGE_PLACES = (Place.household, Place.village)


def yuan(fen: int | None) -> Decimal:
    return (Decimal(fen or 0) / 100).quantize(Decimal("0.01"))


def to_fen(amount: Decimal | int | float | str | None) -> int:
    return int((Decimal(str(amount or 0)) * 100).quantize(Decimal("1")))


class FeeMixin:
    """``fee_standard`` in yuan (a Decimal) over the stored ``fee_standard_fen``."""

    fee_standard_fen: int

    @property
    def fee_standard(self) -> Decimal:
        return yuan(self.fee_standard_fen)

    @fee_standard.setter
    def fee_standard(self, value) -> None:
        self.fee_standard_fen = to_fen(value)


class GuideModelMatter(FeeMixin, db.Model):
    """A matter of the county's model catalogue (示范事项目录), adopted by townships."""

    __tablename__ = "guide_model_matter"
    __table_args__ = (UniqueConstraint("county_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    county_id: Mapped[int] = mapped_column(ForeignKey("core_org_unit.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    #: the department's name; adopting maps it to the township's station of that name
    department_name: Mapped[str] = mapped_column(String(120), default="")
    place: Mapped[Place] = mapped_column(Enum(Place, native_enum=False, length=16))
    authority: Mapped[str] = mapped_column(Text, default="")
    case_kind: Mapped[str] = mapped_column(String(64))
    fee_standard_fen: Mapped[int] = mapped_column(Integer, default=0)
    fee_basis: Mapped[str] = mapped_column(String(300), default="")
    materials: Mapped[str] = mapped_column(Text, default="")
    steps: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    county: Mapped[OrgUnit] = relationship(lazy="joined")

    def __str__(self) -> str:
        return self.name


class GuideMatter(FeeMixin, db.Model):
    """A matter of a township's service guide (办事指南): where, on what authority, in how
    long, at what fee, with which materials and steps, and who answers for it."""

    __tablename__ = "guide_matter"
    __table_args__ = (
        UniqueConstraint("township_id", "name"),
        Index("ix_guide_matter_township_place", "township_id", "place"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    township_id: Mapped[int] = mapped_column(ForeignKey("core_org_unit.id"), index=True)
    model_id: Mapped[int | None] = mapped_column(ForeignKey("guide_model_matter.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("core_org_unit.id"), index=True)
    place: Mapped[Place] = mapped_column(Enum(Place, native_enum=False, length=16))
    #: the law or rule the matter rests on (限事项: staff stay within it)
    authority: Mapped[str] = mapped_column(Text, default="")
    #: a case kind of the core; its time limit is the township's for that kind
    case_kind: Mapped[str] = mapped_column(String(64))
    #: the published fee standard (限收费); 0 = free
    fee_standard_fen: Mapped[int] = mapped_column(Integer, default=0)
    fee_basis: Mapped[str] = mapped_column(String(300), default="")
    #: one material per line
    materials: Mapped[str] = mapped_column(Text, default="")
    #: one step per line
    steps: Mapped[str] = mapped_column(Text, default="")
    responsible_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"), index=True)
    published: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    department: Mapped[OrgUnit | None] = relationship(foreign_keys=[department_id], lazy="joined")
    responsible: Mapped[User | None] = relationship(lazy="joined")

    @property
    def can_be_done_in_village(self) -> bool:
        return self.place in VILLAGE_PLACES

    def material_list(self) -> list[str]:
        return [line.strip() for line in (self.materials or "").splitlines() if line.strip()]

    def step_list(self) -> list[str]:
        return [line.strip() for line in (self.steps or "").splitlines() if line.strip()]

    def __str__(self) -> str:
        return self.name


class GuideServiceHall(db.Model):
    """The township's service hall (便民服务大厅): address, hours, phone."""

    __tablename__ = "guide_service_hall"
    __table_args__ = (UniqueConstraint("township_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    township_id: Mapped[int] = mapped_column(ForeignKey("core_org_unit.id"), index=True)
    address: Mapped[str] = mapped_column(String(200))
    hours: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str] = mapped_column(String(32))
    note: Mapped[str] = mapped_column(Text, default="")

    def __str__(self) -> str:
        return self.address


class GuideServiceRoom(db.Model):
    """A village's service room (村便民服务室) and its contact person (村级代办员)."""

    __tablename__ = "guide_service_room"
    __table_args__ = (UniqueConstraint("village_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    township_id: Mapped[int] = mapped_column(ForeignKey("core_org_unit.id"), index=True)
    village_id: Mapped[int] = mapped_column(ForeignKey("core_org_unit.id"))
    address: Mapped[str] = mapped_column(String(200))
    hours: Mapped[str] = mapped_column(String(200), default="")
    phone: Mapped[str] = mapped_column(String(32), default="")
    agent_name: Mapped[str] = mapped_column(String(60))
    agent_phone: Mapped[str] = mapped_column(String(32))

    village: Mapped[OrgUnit] = relationship(foreign_keys=[village_id], lazy="joined")

    def __str__(self) -> str:
        return self.village.name if self.village else self.address


class GuideCaseMatter(db.Model):
    """A case registered from a matter of the guide (one per case)."""

    __tablename__ = "guide_case_matter"
    __table_args__ = (UniqueConstraint("case_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    township_id: Mapped[int] = mapped_column(ForeignKey("core_org_unit.id"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("core_case.id"))
    matter_id: Mapped[int] = mapped_column(ForeignKey("guide_matter.id"), index=True)
    #: the fee standard in force when the case was registered
    fee_standard_fen: Mapped[int] = mapped_column(Integer, default=0)
    #: why a matter that can be done in the village was accepted at the township
    village_reason: Mapped[str | None] = mapped_column(Text)
    registered_by_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    case: Mapped[Case] = relationship(lazy="joined")
    matter: Mapped[GuideMatter] = relationship(lazy="joined")

    @property
    def fee_standard(self) -> Decimal:
        return yuan(self.fee_standard_fen)

    def __str__(self) -> str:
        return f"{self.case.receipt_no} {self.matter.name}" if self.case else str(self.id)


class GuideFee(db.Model):
    """A fee charged on a case (收费记录), never above the matter's published standard."""

    __tablename__ = "guide_fee"
    __table_args__ = (Index("ix_guide_fee_township_charged", "township_id", "charged_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    township_id: Mapped[int] = mapped_column(ForeignKey("core_org_unit.id"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("core_case.id"), index=True)
    matter_id: Mapped[int] = mapped_column(ForeignKey("guide_matter.id"), index=True)
    amount_fen: Mapped[int] = mapped_column(Integer)
    charged_on: Mapped[date]
    charged_by_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"))
    #: the number of the receipt (票据号) handed to the citizen
    bill_no: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    case: Mapped[Case] = relationship(lazy="joined")
    matter: Mapped[GuideMatter] = relationship(lazy="joined")
    charged_by: Mapped[User | None] = relationship(lazy="joined")

    @property
    def amount(self) -> Decimal:
        return yuan(self.amount_fen)


MODELS = [
    GuideModelMatter,
    GuideMatter,
    GuideServiceHall,
    GuideServiceRoom,
    GuideCaseMatter,
    GuideFee,
]
