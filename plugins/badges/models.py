"""Staff cards (工作证), their photos and each township's numbering scheme (佩证上岗制度)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import db, utcnow
from core.models import OrgUnit, User


class BadgeNumbering(db.Model):
    """A township's numbering scheme for staff numbers: ``<prefix><number, zero-padded>``.

    ``next_number`` is taken and advanced with one conditional UPDATE, so two clerks
    issuing cards at once never get the same number.
    """

    __tablename__ = "badges_numbering"
    __table_args__ = (UniqueConstraint("township_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    township_id: Mapped[int] = mapped_column(ForeignKey("core_org_unit.id"), index=True)
    prefix: Mapped[str] = mapped_column(String(12), default="")
    width: Mapped[int] = mapped_column(default=3)
    next_number: Mapped[int] = mapped_column(default=1)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    township: Mapped[OrgUnit] = relationship(lazy="joined")

    def format(self, number: int) -> str:
        return f"{self.prefix}{number:0{self.width}d}"

    def __str__(self) -> str:
        return self.format(self.next_number)


class BadgeCard(db.Model):
    """A staff member's card: what the badge worn on duty and the public page show."""

    __tablename__ = "badges_card"
    __table_args__ = (
        UniqueConstraint("township_id", "staff_number"),
        UniqueConstraint("township_id", "user_id"),
        Index("ix_badges_card_township_active_number", "township_id", "active", "staff_number"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    township_id: Mapped[int] = mapped_column(ForeignKey("core_org_unit.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("core_user.id"), index=True)
    staff_number: Mapped[str] = mapped_column(String(24))
    #: post (岗位/职务), e.g. 民政助理员
    post: Mapped[str] = mapped_column(String(60))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("core_org_unit.id"), index=True)
    office_phone: Mapped[str] = mapped_column(String(32), default="")
    #: shown on the public "who serves you" page
    active: Mapped[bool] = mapped_column(default=True)
    photo_id: Mapped[int | None] = mapped_column(ForeignKey("badges_photo.id"))
    #: the staff member agreed that the photo is shown on public pages
    photo_consent: Mapped[bool] = mapped_column(default=False)
    consent_recorded_at: Mapped[datetime | None]
    consent_recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    township: Mapped[OrgUnit] = relationship(foreign_keys=[township_id])
    user: Mapped[User] = relationship(foreign_keys=[user_id], lazy="joined")
    department: Mapped[OrgUnit | None] = relationship(foreign_keys=[department_id], lazy="joined")
    consent_recorded_by: Mapped[User | None] = relationship(foreign_keys=[consent_recorded_by_id])

    @property
    def name(self) -> str:
        return self.user.name if self.user else ""

    @property
    def public_photo(self) -> bool:
        """Whether public pages may show the photo (there is one and consent is recorded)."""
        return self.photo_id is not None and self.photo_consent

    def __str__(self) -> str:
        return f"{self.staff_number} {self.name}"


class BadgePhoto(db.Model):
    """A card's photo, kept in the database (never a file named by the uploader)."""

    __tablename__ = "badges_photo"

    id: Mapped[int] = mapped_column(primary_key=True)
    township_id: Mapped[int] = mapped_column(ForeignKey("core_org_unit.id"), index=True)
    #: the type found from the file's signature (not what the browser claimed)
    content_type: Mapped[str] = mapped_column(String(32))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"))


MODELS = [BadgeNumbering, BadgePhoto, BadgeCard]
