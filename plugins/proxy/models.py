"""办事代理制度: proxy records (代办单) linked to cases.

A matter that cannot be finished the same day (policy, higher approval, staff away) or
that belongs to the county is taken over by the receiving staff: the materials the
citizen handed over (each returned or passed on), where it went (county offices, with
dates), progress notes, delivery to the citizen's home with an acknowledgement image,
and the supervising leader's sign-off.
"""

from __future__ import annotations

from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import Enum, ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import db, utcnow
from core.labels import LabelledEnum
from core.models import Case, User


class ProxyReason(LabelledEnum):
    policy = "policy"
    higher_approval = "higher_approval"
    staff_away = "staff_away"
    county = "county"

    @classmethod
    def labels(cls):
        return {
            cls.policy: _l("Policy does not allow finishing it the same day"),
            cls.higher_approval: _l("Needs approval higher up"),
            cls.staff_away: _l("The responsible staff is away"),
            cls.county: _l("A county matter, handled on the citizen's behalf"),
        }


class ProxyStatus(LabelledEnum):
    open = "open"
    delivered = "delivered"
    signed_off = "signed_off"

    @classmethod
    def labels(cls):
        return {
            cls.open: _l("In hand"),
            cls.delivered: _l("Delivered, waiting for the leader's sign-off"),
            cls.signed_off: _l("Signed off"),
        }


class MaterialFate(LabelledEnum):
    held = "held"
    returned = "returned"
    passed_on = "passed_on"

    @classmethod
    def labels(cls):
        return {
            cls.held: _l("Held by the township"),
            cls.returned: _l("Returned to the citizen"),
            cls.passed_on: _l("Passed on to the office that decides"),
        }


class AckKind(LabelledEnum):
    photo = "photo"
    signature = "signature"

    @classmethod
    def labels(cls):
        return {cls.photo: _l("Photo"), cls.signature: _l("Signature")}


class ProxyRecord(db.Model):
    """A proxy record (代办单): who took the matter over, why, by when, and its course."""

    __tablename__ = "proxy_record"
    __table_args__ = (
        UniqueConstraint("case_id"),
        Index("ix_proxy_record_township_status", "township_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    township_id: Mapped[int] = mapped_column(ForeignKey("core_org_unit.id"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("core_case.id"))
    taken_by_id: Mapped[int] = mapped_column(ForeignKey("core_user.id"), index=True)
    leader_id: Mapped[int] = mapped_column(ForeignKey("core_user.id"), index=True)
    reason: Mapped[ProxyReason] = mapped_column(Enum(ProxyReason, native_enum=False, length=32))
    status: Mapped[ProxyStatus] = mapped_column(
        Enum(ProxyStatus, native_enum=False, length=16), default=ProxyStatus.open
    )
    taken_on: Mapped[date]
    #: the day the papers are promised at the citizen's home
    promised_on: Mapped[date] = mapped_column(index=True)
    delivered_on: Mapped[date | None]
    signed_off_by_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"))
    signed_off_at: Mapped[datetime | None]
    sign_off_note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    case: Mapped[Case] = relationship(lazy="joined")
    taken_by: Mapped[User] = relationship(foreign_keys=[taken_by_id], lazy="joined")
    leader: Mapped[User] = relationship(foreign_keys=[leader_id], lazy="joined")
    signed_off_by: Mapped[User | None] = relationship(foreign_keys=[signed_off_by_id])
    materials: Mapped[list[ProxyMaterial]] = relationship(
        back_populates="record", order_by="ProxyMaterial.id", lazy="select"
    )
    transfers: Mapped[list[ProxyTransfer]] = relationship(
        back_populates="record", order_by="ProxyTransfer.id", lazy="select"
    )
    notes: Mapped[list[ProxyNote]] = relationship(
        back_populates="record", order_by="ProxyNote.id", lazy="select"
    )
    delivery: Mapped[ProxyDelivery | None] = relationship(back_populates="record", lazy="select")

    def __str__(self) -> str:
        return f"{self.case.receipt_no} {self.case.title}" if self.case else f"#{self.id}"


class ProxyMaterial(db.Model):
    """One item of what the citizen handed over (收件), and what became of it."""

    __tablename__ = "proxy_material"

    id: Mapped[int] = mapped_column(primary_key=True)
    township_id: Mapped[int] = mapped_column(ForeignKey("core_org_unit.id"), index=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("proxy_record.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    copies: Mapped[int] = mapped_column(default=1)
    original: Mapped[bool] = mapped_column(default=False)
    fate: Mapped[MaterialFate] = mapped_column(
        Enum(MaterialFate, native_enum=False, length=16), default=MaterialFate.held
    )
    fate_on: Mapped[date | None]

    record: Mapped[ProxyRecord] = relationship(back_populates="materials")


class ProxyTransfer(db.Model):
    """Where the matter went (a county office) and when it came back."""

    __tablename__ = "proxy_transfer"
    __table_args__ = (Index("ix_proxy_transfer_township_expected", "township_id", "expected_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    township_id: Mapped[int] = mapped_column(ForeignKey("core_org_unit.id"), index=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("proxy_record.id"), index=True)
    office: Mapped[str] = mapped_column(String(200))
    sent_on: Mapped[date]
    expected_on: Mapped[date]
    back_on: Mapped[date | None]
    result: Mapped[str | None] = mapped_column(Text)

    record: Mapped[ProxyRecord] = relationship(back_populates="transfers")


class ProxyNote(db.Model):
    """A progress note; citizens read them under the receipt."""

    __tablename__ = "proxy_note"

    id: Mapped[int] = mapped_column(primary_key=True)
    township_id: Mapped[int] = mapped_column(ForeignKey("core_org_unit.id"), index=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("proxy_record.id"), index=True)
    noted_on: Mapped[date]
    text: Mapped[str] = mapped_column(Text)
    by_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    record: Mapped[ProxyRecord] = relationship(back_populates="notes")
    by: Mapped[User | None] = relationship(lazy="joined")


class ProxyDelivery(db.Model):
    """Delivery to the citizen's home (送达): when, by whom, what, and the acknowledgement."""

    __tablename__ = "proxy_delivery"
    __table_args__ = (UniqueConstraint("record_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    township_id: Mapped[int] = mapped_column(ForeignKey("core_org_unit.id"), index=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("proxy_record.id"))
    delivered_on: Mapped[date]
    by_id: Mapped[int] = mapped_column(ForeignKey("core_user.id"))
    what: Mapped[str] = mapped_column(Text)
    ack_kind: Mapped[AckKind] = mapped_column(Enum(AckKind, native_enum=False, length=16))
    ack_mime: Mapped[str] = mapped_column(String(32))
    ack_size: Mapped[int]
    ack_image: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    record: Mapped[ProxyRecord] = relationship(back_populates="delivery")
    by: Mapped[User] = relationship(lazy="joined")


MODELS = [ProxyRecord, ProxyMaterial, ProxyTransfer, ProxyNote, ProxyDelivery]
