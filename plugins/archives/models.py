"""Tables of the archives institution (档案管理制度).

Every row carries ``township_id`` (indexed). What the law wants kept is append-only,
enforced by ORM listeners like the core's ``CaseEvent``:

* :class:`FrozenContent` — the content and trail of a record as it was handed over
  (or registered), never updated or deleted;
* :class:`ItemEvent` — the trail of a filed item's metadata changes;
* :class:`ViewLog` — every on-screen reading of a digital copy.

Items (件) are never deleted: a destroyed item keeps its row, its reference code
(档号) and its destruction register entry.
"""

from __future__ import annotations

from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import Enum, ForeignKey, Index, String, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import db, utcnow
from core.labels import LabelledEnum
from core.models import User


class Retention(LabelledEnum):
    """保管期限 as DA/T 22-2015 sets them; the value is what producers hint."""

    permanent = "permanent"
    y30 = "30y"
    y10 = "10y"

    @classmethod
    def labels(cls):
        return {cls.permanent: _l("Permanent"), cls.y30: _l("30 years"), cls.y10: _l("10 years")}

    @property
    def code(self) -> str:
        """The segment of the reference code: Y, D30, D10 (DA/T 22-2015)."""
        return {"permanent": "Y", "30y": "D30", "10y": "D10"}[self.value]

    @property
    def years(self) -> int | None:
        return {"permanent": None, "30y": 30, "10y": 10}[self.value]


class ItemStatus(LabelledEnum):
    waiting = "waiting"  # in the filing inbox (待归档)
    filed = "filed"
    destroyed = "destroyed"

    @classmethod
    def labels(cls):
        return {
            cls.waiting: _l("Waiting to be filed"),
            cls.filed: _l("Filed"),
            cls.destroyed: _l("Destroyed"),
        }


class LoanStatus(LabelledEnum):
    requested = "requested"
    approved = "approved"
    refused = "refused"
    lent = "lent"
    returned = "returned"
    lost = "lost"

    @classmethod
    def labels(cls):
        return {
            cls.requested: _l("Waiting for approval"),
            cls.approved: _l("Approved, to be handed out"),
            cls.refused: _l("Refused"),
            cls.lent: _l("Lent out"),
            cls.returned: _l("Returned"),
            cls.lost: _l("Lost"),
        }


class ReturnCondition(LabelledEnum):
    complete = "complete"
    damaged = "damaged"
    missing_pages = "missing_pages"

    @classmethod
    def labels(cls):
        return {
            cls.complete: _l("Complete"),
            cls.damaged: _l("Damaged"),
            cls.missing_pages: _l("Pages missing"),
        }


class DestructionStatus(LabelledEnum):
    proposed = "proposed"
    approved = "approved"
    refused = "refused"
    destroyed = "destroyed"

    @classmethod
    def labels(cls):
        return {
            cls.proposed: _l("Waiting for a leader's approval"),
            cls.approved: _l("Approved, to be destroyed"),
            cls.refused: _l("Refused: keep"),
            cls.destroyed: _l("Destroyed"),
        }


class Settings(db.Model):
    """A township's archive: its fonds code (全宗号), whether it binds by volume, and how
    far it has read the records the core kept (``core_record``)."""

    __tablename__ = "archives_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    township_id: Mapped[int] = mapped_column(ForeignKey("core_org_unit.id"), unique=True)
    fonds_code: Mapped[str] = mapped_column(String(16))
    bind_by_volume: Mapped[bool] = mapped_column(default=False)
    #: the last ``core_record`` id taken into the filing inbox
    records_read_through: Mapped[int] = mapped_column(default=0)


class ArchiveClass(db.Model):
    """A class of the classification scheme (分类方案), a tree with codes."""

    __tablename__ = "archives_class"
    __table_args__ = (UniqueConstraint("township_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    township_id: Mapped[int] = mapped_column(ForeignKey("core_org_unit.id"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("archives_class.id"), index=True)
    #: the 机构(问题) segment of reference codes, e.g. ``WS`` or ``YW.releases``
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(120))
    #: the institution (plugin key) whose records this class receives, if any
    institution: Mapped[str | None] = mapped_column(String(64))
    default_retention: Mapped[Retention] = mapped_column(
        Enum(Retention, native_enum=False, length=16), default=Retention.y30
    )
    position: Mapped[int] = mapped_column(default=0)

    parent: Mapped[ArchiveClass | None] = relationship(remote_side=[id], lazy="joined")

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Box(db.Model):
    """An archive box (档案盒) and where it stands: room, shelf. Its items move with it."""

    __tablename__ = "archives_box"
    __table_args__ = (UniqueConstraint("township_id", "box_no"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    township_id: Mapped[int] = mapped_column(ForeignKey("core_org_unit.id"), index=True)
    box_no: Mapped[str] = mapped_column(String(32))
    room: Mapped[str] = mapped_column(String(64), default="")
    shelf: Mapped[str] = mapped_column(String(64), default="")
    year: Mapped[int | None]
    class_id: Mapped[int | None] = mapped_column(ForeignKey("archives_class.id"))
    retention: Mapped[Retention | None] = mapped_column(
        Enum(Retention, native_enum=False, length=16)
    )
    note: Mapped[str] = mapped_column(String(200), default="")

    archive_class: Mapped[ArchiveClass | None] = relationship(lazy="joined")

    def __str__(self) -> str:
        return f"{self.box_no} ({self.room} {self.shelf})".strip()


class Volume(db.Model):
    """A file or volume (卷) binding items, for townships that bind by volume."""

    __tablename__ = "archives_volume"
    __table_args__ = (UniqueConstraint("township_id", "volume_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    township_id: Mapped[int] = mapped_column(ForeignKey("core_org_unit.id"), index=True)
    volume_code: Mapped[str] = mapped_column(String(80))
    title: Mapped[str] = mapped_column(String(300))
    year: Mapped[int]
    class_id: Mapped[int] = mapped_column(ForeignKey("archives_class.id"))
    retention: Mapped[Retention] = mapped_column(Enum(Retention, native_enum=False, length=16))
    box_id: Mapped[int | None] = mapped_column(ForeignKey("archives_box.id"))

    archive_class: Mapped[ArchiveClass] = relationship(lazy="joined")
    box: Mapped[Box | None] = relationship(lazy="joined")

    def __str__(self) -> str:
        return f"{self.volume_code} {self.title}"


class Counter(db.Model):
    """The last item number (件号) given per township, year, class and retention: the
    grouping of a reference code. Incremented under a row lock, so numbers are
    gap-free and never reused (a rolled-back filing rolls its numbers back too)."""

    __tablename__ = "archives_counter"
    __table_args__ = (UniqueConstraint("township_id", "year", "class_id", "retention"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    township_id: Mapped[int] = mapped_column(ForeignKey("core_org_unit.id"))
    year: Mapped[int]
    class_id: Mapped[int] = mapped_column(ForeignKey("archives_class.id"))
    retention: Mapped[Retention] = mapped_column(Enum(Retention, native_enum=False, length=16))
    last_no: Mapped[int] = mapped_column(default=0)


class Item(db.Model):
    """An item (件), the unit of filing. Waiting in the inbox until an archivist files it,
    then it carries its reference code (档号) for good."""

    __tablename__ = "archives_item"
    __table_args__ = (
        UniqueConstraint("township_id", "source", "reference"),
        UniqueConstraint("township_id", "reference_code"),
        Index("ix_archives_item_township_status_year", "township_id", "status", "year"),
        Index("ix_archives_item_grouping", "township_id", "year", "class_id", "retention"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    township_id: Mapped[int] = mapped_column(ForeignKey("core_org_unit.id"), index=True)
    status: Mapped[ItemStatus] = mapped_column(
        Enum(ItemStatus, native_enum=False, length=16), default=ItemStatus.waiting, index=True
    )
    #: the producing institution (plugin key; ``core`` for cases), ``paper`` for hand entries
    source: Mapped[str] = mapped_column(String(64), index=True)
    reference: Mapped[str] = mapped_column(String(200))
    record_id: Mapped[int | None] = mapped_column(ForeignKey("core_record.id"))
    kind: Mapped[str] = mapped_column(String(64), default="")
    title: Mapped[str] = mapped_column(String(300))
    responsible: Mapped[str] = mapped_column(String(120), default="", index=True)
    doc_number: Mapped[str] = mapped_column(String(64), default="")
    doc_date: Mapped[date] = mapped_column(index=True)
    year: Mapped[int] = mapped_column(index=True)
    pages: Mapped[int | None]
    note: Mapped[str] = mapped_column(Text, default="")
    url: Mapped[str | None] = mapped_column(String(300))
    class_id: Mapped[int | None] = mapped_column(ForeignKey("archives_class.id"), index=True)
    retention: Mapped[Retention | None] = mapped_column(
        Enum(Retention, native_enum=False, length=16), index=True
    )
    item_no: Mapped[int | None]
    reference_code: Mapped[str | None] = mapped_column(String(80))
    volume_id: Mapped[int | None] = mapped_column(ForeignKey("archives_volume.id"), index=True)
    box_id: Mapped[int | None] = mapped_column(ForeignKey("archives_box.id"), index=True)
    #: the last day of the retention period (None: permanent or not filed)
    retention_ends_on: Mapped[date | None] = mapped_column(index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    filed_at: Mapped[datetime | None]
    filed_by_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"))

    archive_class: Mapped[ArchiveClass | None] = relationship(lazy="joined")
    box: Mapped[Box | None] = relationship(lazy="joined")
    volume: Mapped[Volume | None] = relationship(lazy="select")
    filed_by: Mapped[User | None] = relationship(lazy="select")
    content: Mapped[FrozenContent | None] = relationship(
        lazy="select", uselist=False, viewonly=True
    )

    def __str__(self) -> str:
        return f"{self.reference_code or ''} {self.title}".strip()


class FrozenContent(db.Model):
    """The frozen copy of an item's content and trail; never changes once written."""

    __tablename__ = "archives_content"

    item_id: Mapped[int] = mapped_column(ForeignKey("archives_item.id"), primary_key=True)
    #: HTML as the producer handed it over (sanitised again when shown)
    html: Mapped[str] = mapped_column(Text, default="")
    #: the same as plain text, for the catalogue search
    text: Mapped[str] = mapped_column(Text, default="")
    summary: Mapped[str] = mapped_column(Text, default="")
    trail: Mapped[list] = mapped_column(default=list)
    sha256: Mapped[str] = mapped_column(String(64))
    frozen_at: Mapped[datetime] = mapped_column(default=utcnow)


class ItemEvent(db.Model):
    """One entry of an item's append-only trail: filed, changed, moved, lent, destroyed."""

    __tablename__ = "archives_item_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("archives_item.id"), index=True)
    township_id: Mapped[int] = mapped_column(ForeignKey("core_org_unit.id"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"))
    action: Mapped[str] = mapped_column(String(32))
    before: Mapped[dict | None]
    after: Mapped[dict | None]
    note: Mapped[str | None] = mapped_column(Text)

    actor: Mapped[User | None] = relationship(lazy="joined")


class Attachment(db.Model):
    """A digital copy of an item: type checked by file signature, size checked, SHA-256 kept;
    the bytes live in the storage (:mod:`plugins.archives.storage`)."""

    __tablename__ = "archives_attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    township_id: Mapped[int] = mapped_column(ForeignKey("core_org_unit.id"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("archives_item.id"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    media_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(200))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)


class Loan(db.Model):
    """Borrowing (借阅): an item or a whole box, requested, approved, lent, returned."""

    __tablename__ = "archives_loan"
    __table_args__ = (
        Index("ix_archives_loan_township_status_due", "township_id", "status", "due_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    township_id: Mapped[int] = mapped_column(ForeignKey("core_org_unit.id"), index=True)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("archives_item.id"), index=True)
    box_id: Mapped[int | None] = mapped_column(ForeignKey("archives_box.id"), index=True)
    borrower_id: Mapped[int] = mapped_column(ForeignKey("core_user.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(300))
    wanted_until: Mapped[date]
    status: Mapped[LoanStatus] = mapped_column(
        Enum(LoanStatus, native_enum=False, length=16), default=LoanStatus.requested, index=True
    )
    #: the approver allowed downloading the digital copies (on-screen reading otherwise)
    may_download: Mapped[bool] = mapped_column(default=False)
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"))
    decided_at: Mapped[datetime | None]
    decision_note: Mapped[str] = mapped_column(String(300), default="")
    lent_by_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"))
    lent_at: Mapped[datetime | None]
    due_on: Mapped[date | None] = mapped_column(index=True)
    returned_at: Mapped[datetime | None]
    received_by_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"))
    return_condition: Mapped[ReturnCondition | None] = mapped_column(
        Enum(ReturnCondition, native_enum=False, length=16)
    )
    return_note: Mapped[str] = mapped_column(String(300), default="")
    #: the due date an overdue reminder was sent for (once per due date)
    reminded_for: Mapped[date | None]

    item: Mapped[Item | None] = relationship(lazy="joined")
    box: Mapped[Box | None] = relationship(lazy="joined")
    borrower: Mapped[User] = relationship(foreign_keys=[borrower_id], lazy="joined")
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id], lazy="joined")

    def __str__(self) -> str:
        what = self.item or self.box
        return f"{what} — {self.borrower.name if self.borrower else ''}"


class ViewLog(db.Model):
    """One on-screen reading (or download) of a digital copy; append-only."""

    __tablename__ = "archives_view_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    township_id: Mapped[int] = mapped_column(ForeignKey("core_org_unit.id"), index=True)
    attachment_id: Mapped[int] = mapped_column(ForeignKey("archives_attachment.id"), index=True)
    loan_id: Mapped[int | None] = mapped_column(ForeignKey("archives_loan.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("core_user.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    downloaded: Mapped[bool] = mapped_column(default=False)

    user: Mapped[User] = relationship(lazy="joined")


class Loss(db.Model):
    """The loss register (遗失登记): what was lost, the custodian's account, the follow-up."""

    __tablename__ = "archives_loss"

    id: Mapped[int] = mapped_column(primary_key=True)
    township_id: Mapped[int] = mapped_column(ForeignKey("core_org_unit.id"), index=True)
    loan_id: Mapped[int | None] = mapped_column(ForeignKey("archives_loan.id"), unique=True)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("archives_item.id"), index=True)
    box_id: Mapped[int | None] = mapped_column(ForeignKey("archives_box.id"))
    reported_at: Mapped[datetime] = mapped_column(default=utcnow)
    reported_by_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"))
    custodian_account: Mapped[str] = mapped_column(Text)
    follow_up: Mapped[str] = mapped_column(Text, default="")
    settled: Mapped[bool] = mapped_column(default=False)

    item: Mapped[Item | None] = relationship(lazy="joined")
    reported_by: Mapped[User | None] = relationship(lazy="joined")


class Destruction(db.Model):
    """Appraisal (鉴定) ending in destruction: proposed, approved by a leader, carried out
    before witnesses. Rows with ``destroyed`` status are the destruction register."""

    __tablename__ = "archives_destruction"

    id: Mapped[int] = mapped_column(primary_key=True)
    township_id: Mapped[int] = mapped_column(ForeignKey("core_org_unit.id"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("archives_item.id"), index=True)
    status: Mapped[DestructionStatus] = mapped_column(
        Enum(DestructionStatus, native_enum=False, length=16),
        default=DestructionStatus.proposed,
        index=True,
    )
    reason: Mapped[str] = mapped_column(String(300))
    proposed_by_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"))
    proposed_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"))
    decided_at: Mapped[datetime | None]
    witnesses: Mapped[str] = mapped_column(String(300), default="")
    destroyed_on: Mapped[date | None]
    destroyed_by_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"))

    item: Mapped[Item] = relationship(lazy="joined")
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id], lazy="joined")


class YearClosing(db.Model):
    """Yearly filing (年度立卷): a year closed, with what it held; nothing files into it after."""

    __tablename__ = "archives_year"
    __table_args__ = (UniqueConstraint("township_id", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    township_id: Mapped[int] = mapped_column(ForeignKey("core_org_unit.id"), index=True)
    year: Mapped[int]
    items: Mapped[int]
    closed_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"))


class AppendOnlyError(RuntimeError):
    """Frozen content, item trails and view logs are never changed or deleted."""


@event.listens_for(FrozenContent, "before_update")
@event.listens_for(FrozenContent, "before_delete")
@event.listens_for(ItemEvent, "before_update")
@event.listens_for(ItemEvent, "before_delete")
@event.listens_for(ViewLog, "before_update")
@event.listens_for(ViewLog, "before_delete")
@event.listens_for(Attachment, "before_delete")
def _append_only(mapper, connection, target):
    raise AppendOnlyError(f"{type(target).__name__} rows are append-only")


@event.listens_for(Item, "before_delete")
def _items_are_never_deleted(mapper, connection, target):
    raise AppendOnlyError("archive items are never deleted; destroy them through appraisal")


MODELS = [
    Settings,
    ArchiveClass,
    Box,
    Volume,
    Counter,
    Item,
    FrozenContent,
    ItemEvent,
    Attachment,
    Loan,
    ViewLog,
    Loss,
    Destruction,
    YearClosing,
]
