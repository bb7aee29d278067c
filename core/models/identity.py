"""Staff users, their role memberships, API tokens, and people who are not users."""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from flask_login import UserMixin
from sqlalchemy import Enum, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import db, utcnow
from core.labels import LabelledEnum
from core.models.orgs import OrgUnit


class User(UserMixin, db.Model):
    """A staff member who signs in."""

    __tablename__ = "core_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    email: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(32), info={"check": "phone"})
    password_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(default=True)
    locale: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.active

    def __str__(self) -> str:
        return self.name


class Membership(db.Model):
    """A user holds a role in an org unit; a county role reaches its townships."""

    __tablename__ = "core_membership"
    __table_args__ = (UniqueConstraint("user_id", "org_unit_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("core_user.id", ondelete="CASCADE"), index=True)
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("core_org_unit.id"), index=True)
    role: Mapped[str] = mapped_column(String(64))

    user: Mapped[User] = relationship(back_populates="memberships")
    org_unit: Mapped[OrgUnit] = relationship(lazy="joined")


class ApiToken(db.Model):
    """A staff member's token for the JSON API; only its SHA-256 is stored."""

    __tablename__ = "core_api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("core_user.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked: Mapped[bool] = mapped_column(default=False)

    user: Mapped[User] = relationship(lazy="joined")


class PersonCategory(LabelledEnum):
    citizen = "citizen"
    party_member = "party_member"
    cadre = "cadre"
    observer = "observer"
    deputy = "deputy"
    retired_cadre = "retired_cadre"

    @classmethod
    def labels(cls):
        return {
            cls.citizen: _l("Citizen"),
            cls.party_member: _l("Party member"),
            cls.cadre: _l("Cadre"),
            cls.observer: _l("Observer"),
            cls.deputy: _l("People's congress deputy"),
            cls.retired_cadre: _l("Retired cadre"),
        }


class Person(db.Model):
    """Someone the township knows who is not a user (群众, 党员, 旁听人员 ...)."""

    __tablename__ = "core_person"

    id: Mapped[int] = mapped_column(primary_key=True)
    township_id: Mapped[int] = mapped_column(ForeignKey("core_org_unit.id"), index=True)
    village_id: Mapped[int | None] = mapped_column(ForeignKey("core_org_unit.id"), index=True)
    name: Mapped[str] = mapped_column(String(120), index=True)
    category: Mapped[PersonCategory] = mapped_column(
        Enum(PersonCategory, native_enum=False, length=32), default=PersonCategory.citizen
    )
    id_number: Mapped[str | None] = mapped_column(String(18), info={"check": "resident_id"})
    phone: Mapped[str | None] = mapped_column(String(32), info={"check": "phone"})
    address: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    township: Mapped[OrgUnit] = relationship(foreign_keys=[township_id], lazy="joined")
    village: Mapped[OrgUnit | None] = relationship(foreign_keys=[village_id], lazy="joined")

    def __str__(self) -> str:
        return self.name


class AuditEvent(db.Model):
    """Append-only trail of staff changes made through the admin and the API."""

    __tablename__ = "core_audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"), index=True)
    township_id: Mapped[int | None] = mapped_column(ForeignKey("core_org_unit.id"), index=True)
    action: Mapped[str] = mapped_column(String(32))
    object_type: Mapped[str] = mapped_column(String(64))
    object_id: Mapped[str | None] = mapped_column(String(64))
    before: Mapped[dict | None]
    after: Mapped[dict | None]

    user: Mapped[User | None] = relationship(lazy="joined")
    township: Mapped[OrgUnit | None] = relationship(lazy="joined")
