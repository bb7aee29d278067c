"""Tables of the information release and disclosure institution (信息收集与发布 + 政务村务公开).

Every row carries ``township_id`` (indexed). The release archive is append-only:
a withdrawal is a new archive row, never an edit of the old one.
"""

from __future__ import annotations

from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    JSON,
    Column,
    Enum,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import db, utcnow
from core.labels import LabelledEnum, register_codes
from core.models import Case, OrgUnit, User


class SourceChannel(LabelledEnum):
    """Where an item was collected (信息来源)."""

    internet = "internet"
    tv = "tv"
    radio = "radio"
    press = "press"
    field_visit = "field_visit"

    @classmethod
    def labels(cls):
        return {
            cls.internet: _l("Internet"),
            cls.tv: _l("TV"),
            cls.radio: _l("Radio"),
            cls.press: _l("Press"),
            cls.field_visit: _l("Field visit"),
        }


SOURCE_LABELS = {
    SourceChannel.internet: ("互联网", "Internet"),
    SourceChannel.tv: ("电视", "TV"),
    SourceChannel.radio: ("广播电台", "Radio"),
    SourceChannel.press: ("报刊", "Press"),
    SourceChannel.field_visit: ("实地走访", "Field visit"),
}


class ReleaseChannel(LabelledEnum):
    """How a release reaches citizens (发布渠道). Only ``web`` is on-line."""

    web = "web"
    tv = "tv"
    broadcast = "broadcast"
    meeting = "meeting"
    blackboard = "blackboard"
    display_window = "display_window"
    leaflet = "leaflet"

    @classmethod
    def labels(cls):
        return {
            cls.web: _l("Web portal"),
            cls.tv: _l("TV programme"),
            cls.broadcast: _l("Broadcast"),
            cls.meeting: _l("Release meeting"),
            cls.blackboard: _l("Blackboard"),
            cls.display_window: _l("Display window"),
            cls.leaflet: _l("Leaflet"),
        }


CHANNEL_LABELS = {
    ReleaseChannel.web: ("门户网站", "Web portal"),
    ReleaseChannel.tv: ("电视节目", "TV programme"),
    ReleaseChannel.broadcast: ("广播", "Broadcast"),
    ReleaseChannel.meeting: ("信息发布会", "Release meeting"),
    ReleaseChannel.blackboard: ("黑板报", "Blackboard"),
    ReleaseChannel.display_window: ("宣传橱窗", "Display window"),
    ReleaseChannel.leaflet: ("宣传单", "Leaflet"),
}

# the channels of a plan, a batch and an archive entry are a JSON list of codes
register_codes("releases.channel", ReleaseChannel.labels())

#: channels an officer must tick off by hand after each release
OFFLINE_CHANNELS = tuple(c for c in ReleaseChannel if c != ReleaseChannel.web)


class ProductStatus(LabelledEnum):
    draft = "draft"
    submitted = "submitted"  # waiting for a leader
    approved = "approved"  # queued for the next release
    published = "published"
    withdrawn = "withdrawn"

    @classmethod
    def labels(cls):
        return {
            cls.draft: _l("Draft"),
            cls.submitted: _l("Waiting for approval"),
            cls.approved: _l("Approved, waiting for the next release"),
            cls.published: _l("Published"),
            cls.withdrawn: _l("Withdrawn"),
        }


class BatchStatus(LabelledEnum):
    pending = "pending"
    published = "published"

    @classmethod
    def labels(cls):
        return {cls.pending: _l("Waiting to be published"), cls.published: _l("Published")}


class ArchiveKind(LabelledEnum):
    published = "published"
    empty = "empty"
    withdrawn = "withdrawn"

    @classmethod
    def labels(cls):
        return {
            cls.published: _l("Published"),
            cls.empty: _l("Empty release"),
            cls.withdrawn: _l("Withdrawn"),
        }


class TopicStatus(LabelledEnum):
    open = "open"
    disclosed = "disclosed"
    declined = "declined"

    @classmethod
    def labels(cls):
        return {
            cls.open: _l("Waiting for an answer"),
            cls.disclosed: _l("Disclosed"),
            cls.declined: _l("Declined"),
        }


class DisclosureStage(LabelledEnum):
    """The course of a matter: before, during, after (事前、事中、事后)."""

    before = "before"
    during = "during"
    after = "after"

    @classmethod
    def labels(cls):
        return {
            cls.before: _l("Before the matter"),
            cls.during: _l("While it is handled"),
            cls.after: _l("After the result"),
        }


def _township_today(context) -> date:
    """The row's township's today (a column default: never the server's date)."""
    from core import clock

    if context is None:  # a form asking for the default
        return clock.today()
    return clock.today(context.get_current_parameters().get("township_id"))


def _township_fk() -> Mapped[int]:
    return mapped_column(ForeignKey("core_org_unit.id"), index=True)


class CollectedItem(db.Model):
    """A piece of information an officer collected (信息采集)."""

    __tablename__ = "releases_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    township_id: Mapped[int] = _township_fk()
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[SourceChannel] = mapped_column(
        Enum(SourceChannel, native_enum=False, length=16), index=True
    )
    source_detail: Mapped[str] = mapped_column(String(200), default="")
    category: Mapped[str] = mapped_column(String(64), index=True)
    #: the day the information stops being useful (时效)
    useful_until: Mapped[date | None] = mapped_column(index=True)
    collected_on: Mapped[date] = mapped_column(
        index=True, default=lambda context: _township_today(context), info={"past": True}
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    township: Mapped[OrgUnit] = relationship()

    def __str__(self) -> str:
        return self.title


product_items = Table(
    "releases_product_item",
    db.metadata,
    Column("product_id", ForeignKey("releases_product.id", ondelete="CASCADE"), primary_key=True),
    Column("item_id", ForeignKey("releases_item.id", ondelete="CASCADE"), primary_key=True),
)


class Product(db.Model):
    """An information product: items grouped for one audience (信息产品)."""

    __tablename__ = "releases_product"
    __table_args__ = (
        Index(
            "ix_releases_product_township_status_published", "township_id", "status", "published_at"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    township_id: Mapped[int] = _township_fk()
    title: Mapped[str] = mapped_column(String(200))
    audience: Mapped[str] = mapped_column(String(200))
    #: sanitised HTML (nh3) shown on the public pages
    body: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[ProductStatus] = mapped_column(
        Enum(ProductStatus, native_enum=False, length=16), default=ProductStatus.draft, index=True
    )
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"))
    approved_at: Mapped[datetime | None]
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("releases_batch.id"), index=True)
    published_at: Mapped[datetime | None] = mapped_column(index=True)
    withdrawn_at: Mapped[datetime | None]
    withdrawn_reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    township: Mapped[OrgUnit] = relationship()
    approved_by: Mapped[User | None] = relationship()
    items: Mapped[list[CollectedItem]] = relationship(secondary=product_items)

    def __str__(self) -> str:
        return self.title


class ReleasePlan(db.Model):
    """A township's release plan (发布计划): when releases happen and through which channels."""

    __tablename__ = "releases_plan"

    id: Mapped[int] = mapped_column(primary_key=True)
    township_id: Mapped[int] = mapped_column(ForeignKey("core_org_unit.id"), unique=True)
    #: crontab (cron's day-of-week numbering), e.g. ``0 9 1 * *``
    cron: Mapped[str] = mapped_column(String(120), default="0 9 1 * *")
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    channels: Mapped[list] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(default=True)
    #: when the cron or time zone last changed: fire times before it are not owed
    schedule_changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    township: Mapped[OrgUnit] = relationship()


class ReleaseBatch(db.Model):
    """One release (发布批次): created once per scheduled time, published once."""

    __tablename__ = "releases_batch"
    __table_args__ = (UniqueConstraint("township_id", "scheduled_for"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    township_id: Mapped[int] = _township_fk()
    scheduled_for: Mapped[datetime] = mapped_column(index=True)
    #: how many fire times of the plan this batch stands for (>1: missed ones coalesced)
    fire_times: Mapped[int] = mapped_column(default=1)
    #: the first of those fire times (lateness counts from it); None = ``scheduled_for``
    first_scheduled_for: Mapped[datetime | None]
    status: Mapped[BatchStatus] = mapped_column(
        Enum(BatchStatus, native_enum=False, length=16), default=BatchStatus.pending, index=True
    )
    channels: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_at: Mapped[datetime | None]
    #: seconds between the scheduled time and the publication
    lateness_seconds: Mapped[int | None]
    product_count: Mapped[int] = mapped_column(default=0)
    empty: Mapped[bool] = mapped_column(default=False)

    township: Mapped[OrgUnit] = relationship()

    def __str__(self) -> str:
        return f"{self.scheduled_for:%Y-%m-%d %H:%M} UTC"


class ArchiveEntry(db.Model):
    """The release archive (发布档案): append-only snapshots of what was released."""

    __tablename__ = "releases_archive"

    id: Mapped[int] = mapped_column(primary_key=True)
    township_id: Mapped[int] = _township_fk()
    kind: Mapped[ArchiveKind] = mapped_column(
        Enum(ArchiveKind, native_enum=False, length=16), index=True
    )
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("releases_batch.id"), index=True)
    product_id: Mapped[int | None] = mapped_column(ForeignKey("releases_product.id"), index=True)
    title: Mapped[str] = mapped_column(String(200), default="")
    audience: Mapped[str] = mapped_column(String(200), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    approved_by: Mapped[str] = mapped_column(String(120), default="")
    channels: Mapped[list] = mapped_column(JSON, default=list)
    reason: Mapped[str] = mapped_column(Text, default="")
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    township: Mapped[OrgUnit] = relationship()


class ArchiveIsImmutable(RuntimeError):
    """The release archive is append-only."""


@event.listens_for(ArchiveEntry, "before_update")
@event.listens_for(ArchiveEntry, "before_delete")
def _archive_is_append_only(mapper, connection, target):
    raise ArchiveIsImmutable("the release archive is append-only")


class ChecklistEntry(db.Model):
    """An off-line channel of one batch done by hand (blackboard updated, leaflet handed out)."""

    __tablename__ = "releases_checklist"
    __table_args__ = (UniqueConstraint("batch_id", "channel"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    township_id: Mapped[int] = _township_fk()
    batch_id: Mapped[int] = mapped_column(ForeignKey("releases_batch.id"), index=True)
    channel: Mapped[ReleaseChannel] = mapped_column(
        Enum(ReleaseChannel, native_enum=False, length=16)
    )
    done_on: Mapped[date] = mapped_column(info={"past": True})
    note: Mapped[str] = mapped_column(String(500), default="")
    done_by_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"))
    photo: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    photo_type: Mapped[str | None] = mapped_column(String(32))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)

    done_by: Mapped[User | None] = relationship()


class DisclosureCategory(db.Model):
    """A category of the disclosure board: the rule book's (builtin) and the township's own."""

    __tablename__ = "releases_disclosure_category"
    __table_args__ = (UniqueConstraint("township_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    township_id: Mapped[int] = _township_fk()
    name: Mapped[str] = mapped_column(String(120))
    #: the rule book's code (``homestead`` ...) or None for a township's own category
    builtin: Mapped[str | None] = mapped_column(String(32))
    position: Mapped[int] = mapped_column(default=100)

    def __str__(self) -> str:
        return self.name


class Disclosure(db.Model):
    """A matter on the disclosure board (公开栏) with every field the rule book requires."""

    __tablename__ = "releases_disclosure"
    __table_args__ = (
        Index("ix_releases_disclosure_township_updated", "township_id", "updated_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    township_id: Mapped[int] = _township_fk()
    category_id: Mapped[int] = mapped_column(
        ForeignKey("releases_disclosure_category.id"), index=True
    )
    title: Mapped[str] = mapped_column(String(200))
    stage: Mapped[DisclosureStage] = mapped_column(
        Enum(DisclosureStage, native_enum=False, length=16), default=DisclosureStage.before
    )
    policy: Mapped[str] = mapped_column(Text)
    conditions: Mapped[str] = mapped_column(Text)
    procedure: Mapped[str] = mapped_column(Text)
    time_limit: Mapped[str] = mapped_column(String(200))
    result: Mapped[str] = mapped_column(Text)
    fee: Mapped[str] = mapped_column(String(200))
    person_in_charge: Mapped[str] = mapped_column(String(120))
    liability: Mapped[str] = mapped_column(Text)
    #: a case disclosed through its course; only core.cases.public_view fields are shown
    case_id: Mapped[int | None] = mapped_column(ForeignKey("core_case.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    category: Mapped[DisclosureCategory] = relationship(lazy="joined")
    case: Mapped[Case | None] = relationship()

    def __str__(self) -> str:
        return self.title


class TopicRequest(db.Model):
    """A citizen's request that a topic be disclosed (点题公开)."""

    __tablename__ = "releases_topic_request"
    __table_args__ = (
        Index("ix_releases_topic_township_status_due", "township_id", "status", "due_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    township_id: Mapped[int] = _township_fk()
    receipt_no: Mapped[str] = mapped_column(String(32), unique=True)
    topic: Mapped[str] = mapped_column(String(200))
    details: Mapped[str] = mapped_column(Text, default="")
    #: how to reach the citizen (never shown publicly)
    contact: Mapped[str] = mapped_column(String(120), default="")
    submitted_on: Mapped[date]
    due_on: Mapped[date] = mapped_column(index=True)
    status: Mapped[TopicStatus] = mapped_column(
        Enum(TopicStatus, native_enum=False, length=16), default=TopicStatus.open
    )
    answer: Mapped[str] = mapped_column(Text, default="")
    disclosure_id: Mapped[int | None] = mapped_column(ForeignKey("releases_disclosure.id"))
    answered_at: Mapped[datetime | None]
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"))
    reminded_for: Mapped[date | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    disclosure: Mapped[Disclosure | None] = relationship()

    def __str__(self) -> str:
        return self.receipt_no


MODELS = [
    CollectedItem,
    Product,
    ReleasePlan,
    ReleaseBatch,
    ArchiveEntry,
    ChecklistEntry,
    DisclosureCategory,
    Disclosure,
    TopicRequest,
]
