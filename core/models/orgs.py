"""Org units: county (县/旗) > township (镇) > village (村), and stations (站办所)."""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar

from flask_babel import lazy_gettext as _l
from sqlalchemy import Enum, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import db, utcnow
from core.labels import LabelledEnum


class UnitKind(LabelledEnum):
    county = "county"
    township = "township"
    village = "village"
    station = "station"

    @classmethod
    def labels(cls):
        return {
            cls.county: _l("County"),
            cls.township: _l("Township"),
            cls.village: _l("Village"),
            cls.station: _l("Station or office"),
        }


class OrgUnit(db.Model):
    """One node of the administrative tree. The township is the tenant."""

    __tablename__ = "core_org_unit"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[UnitKind] = mapped_column(Enum(UnitKind, native_enum=False, length=16), index=True)
    name: Mapped[str] = mapped_column(String(120))
    #: short, unique, URL-safe code (used in public URLs: /t/<code>/...)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("core_org_unit.id"), index=True)
    #: the township a village or station belongs to; a township points at itself
    township_id: Mapped[int | None] = mapped_column(ForeignKey("core_org_unit.id"), index=True)
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    parent: Mapped[OrgUnit | None] = relationship(
        remote_side=[id], foreign_keys=[parent_id], lazy="joined", join_depth=1
    )

    #: the relationships ``str()`` reads: none (a list showing a unit by its name need
    #: not join its parent; see ``admin.views.LeanListMixin``)
    str_reads: ClassVar[tuple[str, ...]] = ()

    def __str__(self) -> str:
        return self.name


class CalendarDay(db.Model):
    """A township's own working-day exception: a local holiday or an extra working day."""

    __tablename__ = "core_calendar_day"
    __table_args__ = (UniqueConstraint("township_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    township_id: Mapped[int] = mapped_column(ForeignKey("core_org_unit.id"), index=True)
    day: Mapped[date] = mapped_column(index=True)
    is_workday: Mapped[bool]
    note: Mapped[str] = mapped_column(String(200), default="")

    township: Mapped[OrgUnit] = relationship(lazy="joined")


class InstitutionSetting(db.Model):
    """Whether a township has adopted an institution (a plugin)."""

    __tablename__ = "core_institution_setting"
    __table_args__ = (UniqueConstraint("township_id", "plugin_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    township_id: Mapped[int] = mapped_column(ForeignKey("core_org_unit.id"), index=True)
    plugin_key: Mapped[str] = mapped_column(String(64), index=True)
    enabled: Mapped[bool] = mapped_column(default=False)
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"))
    changed_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    township: Mapped[OrgUnit] = relationship(lazy="joined")


class PolicyValue(db.Model):
    """A township's value for a policy figure declared by the core or a plugin."""

    __tablename__ = "core_policy_value"
    __table_args__ = (UniqueConstraint("township_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    township_id: Mapped[int] = mapped_column(ForeignKey("core_org_unit.id"), index=True)
    key: Mapped[str] = mapped_column(String(120))
    value: Mapped[dict]
    changed_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class RoleGrant(db.Model):
    """A township's change to a declared permission's default grant to a role.

    ``granted=True`` gives the role the permission in that township although it is
    not among the permission's default roles; ``False`` takes it away although it is.
    """

    __tablename__ = "core_role_grant"
    __table_args__ = (UniqueConstraint("township_id", "role", "permission"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    township_id: Mapped[int] = mapped_column(ForeignKey("core_org_unit.id"), index=True)
    role: Mapped[str] = mapped_column(String(64))
    permission: Mapped[str] = mapped_column(String(120))
    granted: Mapped[bool]
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"))
    changed_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
