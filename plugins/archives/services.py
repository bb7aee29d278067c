"""The rules of the archives institution (档案管理制度) as functions over ``db.session``.

Who does what:

* the archivist (role ``archives_archivist``, permission ``archives.write``; township
  and county administrators hold it too) keeps the classification scheme, files
  items from the filing inbox (待归档), registers paper documents, attaches digital
  copies, keeps boxes and volumes, lends, takes back, appraises;
* any staff member with ``archives.read`` searches the catalogue and asks to borrow;
* the head of archives (``archives.approve_loan``: leaders and administrators by
  default) approves borrowing;
* a leader (``archives.approve_destruction``) approves a destruction.

Functions that finish a piece of work commit; :func:`receive_record` runs inside the
producer's transaction and does not. A refusal raises :class:`ArchivesError` with a
message for the person, before anything is written.
"""

from __future__ import annotations

import hashlib
import html as html_lib
import io
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import nh3
from flask import current_app, has_request_context, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import Date, and_, cast, func, insert, null, or_, select, union, update
from sqlalchemy.exc import IntegrityError
from werkzeug.routing import BuildError

from core import clock
from core.access import can, users_with
from core.contract import ArchivalRecord
from core.db import db, is_sqlite, utcnow
from core.inbox import announce
from core.models import OrgUnit, ProducedRecord, User
from core.notifications import notify
from core.plugins import state
from core.policies import get_policy
from core.records import as_record, records_since
from plugins.archives.models import (
    ArchiveClass,
    Attachment,
    Box,
    Counter,
    Destruction,
    DestructionStatus,
    FrozenContent,
    Item,
    ItemEvent,
    ItemStatus,
    Loan,
    LoanStatus,
    Loss,
    Retention,
    ReturnCondition,
    Settings,
    ViewLog,
    Volume,
    YearClosing,
)
from plugins.archives.policy import LOAN_DAYS
from plugins.archives.storage import storage

KEY = "archives"
READ = "archives.read"
WRITE = "archives.write"
APPROVE_LOAN = "archives.approve_loan"
APPROVE_DESTRUCTION = "archives.approve_destruction"
ARCHIVIST_ROLE = "archives_archivist"
PAPER = "paper"

#: digital copies: accepted types, their file signatures and the size limit
ATTACHMENT_TYPES = {
    "application/pdf": (b"%PDF-",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/tiff": (b"II*\x00", b"MM\x00*"),
}
EXTENSIONS = {
    ".pdf": "application/pdf",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".tif": "image/tiff",
    ".tiff": "image/tiff",
}
ATTACHMENT_MAX_BYTES = 20 * 1024 * 1024
CLASS_CODE = re.compile(r"^[A-Za-z0-9.·]{1,32}$")


class ArchivesError(ValueError):
    """A rule of the institution refused the action; the message says why."""


# ---------------------------------------------------------------------------
# Settings and the classification scheme
# ---------------------------------------------------------------------------


def ensure_settings(township_id: int) -> Settings:
    """The township's archive settings, created with a fonds code from its code (flushes)."""
    row = db.session.scalar(select(Settings).where(Settings.township_id == township_id))
    if row is None:
        unit = db.session.get(OrgUnit, township_id)
        fonds = re.sub(r"[^A-Za-z0-9]", "", (unit.code if unit else "") or "")[:8].upper()
        row = Settings(township_id=township_id, fonds_code=fonds or f"Q{township_id:03d}")
        db.session.add(row)
        db.session.flush()
    return row


def default_scheme() -> list[tuple[str, str, str | None, Retention, str | None]]:
    """``(code, name, parent code, default retention, institution)`` of a township's default
    scheme: 文书, 会计, 业务 with one class per institution, 声像, 实物."""
    rows: list[tuple[str, str, str | None, Retention, str | None]] = [
        ("WS", "文书", None, Retention.y30, None),
        ("KJ", "会计", None, Retention.y30, None),
        ("YW", "业务", None, Retention.y30, None),
        ("YW.core", "事项办理", "YW", Retention.y10, "core"),
    ]
    for info in state().institutions():
        if info.key == KEY:
            continue
        rows.append((f"YW.{info.key}", info.name, "YW", Retention.y30, info.key))
    rows += [
        ("SX", "声像", None, Retention.permanent, None),
        ("SW", "实物", None, Retention.permanent, None),
    ]
    return rows


def ensure_scheme(township_id: int) -> None:
    """Seed the default scheme; adds classes for institutions installed since (flushes)."""
    existing = {
        c.code: c
        for c in db.session.scalars(
            select(ArchiveClass).where(ArchiveClass.township_id == township_id)
        )
    }
    for position, (code, name, parent, retention, institution) in enumerate(default_scheme()):
        if code in existing:
            continue
        row = ArchiveClass(
            township_id=township_id,
            code=code,
            name=name,
            parent_id=existing[parent].id if parent else None,
            default_retention=retention,
            institution=institution,
            position=position * 10,
        )
        db.session.add(row)
        db.session.flush()
        existing[code] = row


def check_class(archive_class: ArchiveClass) -> None:
    """A class code may appear in reference codes: letters, digits, dots, no hyphen."""
    if not CLASS_CODE.match(archive_class.code or ""):
        raise ArchivesError(
            _(
                "A class code is 1 to 32 letters, digits or dots (no hyphen: it separates the "
                "parts of a reference code)."
            )
        )
    parent = archive_class.parent_id and db.session.get(ArchiveClass, archive_class.parent_id)
    seen = {archive_class.id}
    while parent:
        if parent.township_id != archive_class.township_id:
            raise ArchivesError(_("The parent class belongs to another township."))
        if parent.id in seen:
            raise ArchivesError(_("A class cannot be its own ancestor."))
        seen.add(parent.id)
        parent = parent.parent_id and db.session.get(ArchiveClass, parent.parent_id)


def class_in_use(class_id: int) -> bool:
    return bool(
        db.session.scalar(select(Item.id).where(Item.class_id == class_id).limit(1))
        or db.session.scalar(
            select(ArchiveClass.id).where(ArchiveClass.parent_id == class_id).limit(1)
        )
    )


def suggest_class(township_id: int, hint: str | None, source: str) -> ArchiveClass | None:
    """The class a record's hint names (``YW.releases`` or ``releases``), else the class of
    its institution, else none (the archivist chooses)."""
    classes = db.session.scalars(
        select(ArchiveClass).where(ArchiveClass.township_id == township_id)
    ).all()
    by_code = {c.code: c for c in classes}
    for code in (hint, f"YW.{hint}" if hint else None):
        if code and code in by_code:
            return by_code[code]
    for c in classes:
        if c.institution == source:
            return c
    return None


# ---------------------------------------------------------------------------
# The filing inbox: records handed over, paper registered by hand
# ---------------------------------------------------------------------------


def plain_text(markup: str) -> str:
    """The words of an HTML fragment (for the search): tags removed, entities decoded."""
    text = nh3.clean(markup or "", tags=set())
    return " ".join(html_lib.unescape(text).split())


def sanitize(markup: str) -> str:
    """Frozen HTML made safe to show (the producer escaped it; this is belt and braces)."""
    return nh3.clean(
        markup or "",
        tags={
            "p",
            "br",
            "strong",
            "em",
            "b",
            "i",
            "u",
            "ul",
            "ol",
            "li",
            "h2",
            "h3",
            "h4",
            "blockquote",
            "table",
            "thead",
            "tbody",
            "tr",
            "th",
            "td",
            "article",
            "a",
        },
        attributes={"a": {"href"}, "table": {"class"}},
        url_schemes={"http", "https"},
    )


def _freeze(item: Item, markup: str, summary: str, trail: Iterable[dict]) -> FrozenContent:
    trail = [dict(entry) for entry in trail]
    digest = hashlib.sha256(markup.encode("utf-8")).hexdigest()
    text = " ".join(p for p in (summary, plain_text(markup)) if p)
    content = FrozenContent(
        item_id=item.id, html=markup, text=text, summary=summary, trail=trail, sha256=digest
    )
    db.session.add(content)
    return content


def _item_from_record(township_id: int, record: ArchivalRecord, record_id: int | None) -> Item:
    local_day = clock.local(record.produced_at, township_id).date()
    hint = suggest_class(township_id, record.class_hint, record.source)
    try:
        retention = Retention(record.retention_hint) if record.retention_hint else None
    except ValueError:
        retention = None
    item = Item(
        township_id=township_id,
        status=ItemStatus.waiting,
        source=record.source,
        reference=record.reference[:200],
        record_id=record_id,
        kind=record.kind[:64],
        title=record.title[:300],
        responsible=(record.responsible or "")[:120],
        doc_number=(record.doc_number or "")[:64],
        doc_date=local_day,
        year=local_day.year,
        pages=record.pages,
        url=record.url,
        class_id=hint.id if hint else None,
        retention=retention or (hint.default_retention if hint else None),
    )
    db.session.add(item)
    db.session.flush()
    _freeze(item, record.content or "", record.summary or "", record.trail)
    return item


def receive_record(township: OrgUnit, record: ArchivalRecord) -> Item | None:
    """A record handed over (``township_record_produced``): it waits in the filing inbox with
    its metadata and a frozen copy of its content and trail. Idempotent by reference; in
    the producer's transaction (no commit)."""
    exists = db.session.scalar(
        select(Item.id).where(
            Item.township_id == township.id,
            Item.source == record.source,
            Item.reference == record.reference[:200],
        )
    )
    if exists is not None:
        return None
    ensure_scheme(township.id)
    settings = ensure_settings(township.id)
    record_id = db.session.scalar(
        select(ProducedRecord.id).where(
            ProducedRecord.source == record.source, ProducedRecord.reference == record.reference
        )
    )
    item = _item_from_record(township.id, record, record_id)
    if record_id:
        settings.records_read_through = max(settings.records_read_through, record_id)
    _announce_waiting(item)
    return item


def _announce_waiting(item: Item) -> None:
    with force_locale(current_app.config.get("DEFAULT_LOCALE", "zh_CN")):
        title = _("To file: %(title)s", title=item.title)
    announce(
        users_with(WRITE, item.township_id),
        "archives.filing",
        item.id,
        title,
        township_id=item.township_id,
        link=_link("archives_inbox.edit_view", id=item.id),
    )


def import_backlog(township: OrgUnit) -> int:
    """Take into the filing inbox every record the core kept for the township since the last
    one read (``core.records.records_since``): what was produced while the institution was
    off, or before it was first enabled. Idempotent; commits. Returns how many arrived."""
    ensure_scheme(township.id)
    settings = ensure_settings(township.id)
    known = set(
        tuple(row)
        for row in db.session.execute(
            select(Item.source, Item.reference).where(
                Item.township_id == township.id, Item.source != PAPER
            )
        )
    )
    arrived = 0
    last = settings.records_read_through
    for row in list(records_since(township.id, settings.records_read_through)):
        last = max(last, row.id)
        if (row.source, row.reference[:200]) in known:
            continue
        _item_from_record(township.id, as_record(row), row.id)
        known.add((row.source, row.reference[:200]))
        arrived += 1
    settings.records_read_through = last
    db.session.commit()
    return arrived


def on_enabled(township: OrgUnit) -> int:
    """The township (re-)enabled the institution: scheme, settings, and the backlog."""
    ensure_settings(township.id)
    ensure_scheme(township.id)
    db.session.commit()
    return import_backlog(township)


def _validate_metadata(values: dict[str, Any], township_id: int) -> None:
    title = (values.get("title") or "").strip()
    if not title:
        raise ArchivesError(_("An item needs a title."))
    limits = {
        "title": (300, _("Archival title")),
        "responsible": (120, _("Responsible party")),
        "doc_number": (64, _("Document number")),
    }
    for name, (limit, label) in limits.items():
        if len(values.get(name) or "") > limit:
            raise ArchivesError(
                _("%(field)s is longer than %(n)d characters.", field=label, n=limit)
            )
    doc_date = values.get("doc_date")
    if doc_date is not None:
        earliest = current_app.config.get("EARLIEST_YEAR", 2000)
        if doc_date.year < earliest:
            raise ArchivesError(_("The date is before %(year)d.", year=earliest))
        if doc_date > clock.today(township_id):
            raise ArchivesError(_("The date is in the future."))
    pages = values.get("pages")
    if pages is not None and (pages < 1 or pages > 100000):
        raise ArchivesError(_("Pages must be between 1 and 100000."))


def register_paper(
    township_id: int,
    *,
    title: str,
    responsible: str,
    doc_date: date,
    doc_number: str = "",
    pages: int | None = None,
    class_id: int | None = None,
    retention: Retention | None = None,
    note: str = "",
    description: str = "",
    by: User | None = None,
) -> Item:
    """A paper document registered by hand: it waits in the filing inbox like any record;
    its description is its frozen content. Commits."""
    values = {
        "title": title,
        "responsible": responsible,
        "doc_number": doc_number,
        "doc_date": doc_date,
        "pages": pages,
    }
    _validate_metadata(values, township_id)
    if class_id is not None:
        _class_of(township_id, class_id)
    ensure_settings(township_id)
    item = Item(
        township_id=township_id,
        source=PAPER,
        reference=f"paper:{utcnow().timestamp():.6f}:{by.id if by else 0}",
        kind="paper",
        title=title.strip(),
        responsible=(responsible or "").strip(),
        doc_number=(doc_number or "").strip(),
        doc_date=doc_date,
        year=doc_date.year,
        pages=pages,
        class_id=class_id,
        retention=retention,
        note=note or "",
    )
    db.session.add(item)
    db.session.flush()
    item.reference = f"paper:{item.id}"
    _freeze(item, str(html_lib.escape(description or "")), "", ())
    _event(item, by, "registered", None, _snapshot(item))
    db.session.commit()
    return item


def _class_of(township_id: int, class_id: int) -> ArchiveClass:
    archive_class = db.session.get(ArchiveClass, class_id)
    if archive_class is None or archive_class.township_id != township_id:
        raise ArchivesError(_("Choose a class of this township's scheme."))
    return archive_class


# ---------------------------------------------------------------------------
# Filing: reference codes (档号)
# ---------------------------------------------------------------------------

EDITABLE = ("title", "responsible", "doc_number", "doc_date", "pages", "note")
WAITING_EDITABLE = (*EDITABLE, "class_id", "retention", "year")


def _plain(value: Any) -> Any:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if hasattr(value, "value"):
        return value.value
    return value


def _snapshot(item: Item, fields: Iterable[str] = WAITING_EDITABLE) -> dict[str, Any]:
    return {name: _plain(getattr(item, name)) for name in fields}


def _event(
    item: Item,
    actor: User | None,
    action: str,
    before: dict | None,
    after: dict | None,
    note: str | None = None,
) -> None:
    db.session.add(
        ItemEvent(
            item_id=item.id,
            township_id=item.township_id,
            actor_id=actor.id if actor else None,
            action=action,
            before=before,
            after=after,
            note=note,
        )
    )


def retention_end(year: int, retention: Retention) -> date | None:
    """The last day an item of ``year`` must be kept: counted from 1 January of the next
    year, so a 10-year item of 2016 may be destroyed from 2027 on."""
    if retention.years is None:
        return None
    return date(year + retention.years, 12, 31)


def reference_code(fonds: str, year: int, retention: Retention, class_code: str, no: int) -> str:
    """全宗号-年度-保管期限-机构(问题)-件号, e.g. ``DONGFENG-2026-D30-YW.core-0007``."""
    return f"{fonds}-{year}-{retention.code}-{class_code}-{no:04d}"


def _take_numbers(township_id: int, year: int, class_id: int, retention: Retention, n: int) -> int:
    """Reserve ``n`` consecutive item numbers in a group; returns the first.

    The counter row is created if missing (INSERT ... ON CONFLICT DO NOTHING), then
    ``UPDATE ... SET last_no = last_no + n ... RETURNING last_no`` increments it: on
    PostgreSQL the UPDATE holds the row lock until the filing commits, so a second filer
    waits and continues from the committed number; SQLite has one writer at a time. A
    rolled-back filing gives its numbers back: codes stay gap-free.
    """
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    db.session.execute(
        dialect_insert(Counter)
        .values(
            township_id=township_id, year=year, class_id=class_id, retention=retention, last_no=0
        )
        .on_conflict_do_nothing(index_elements=["township_id", "year", "class_id", "retention"])
    )
    last = db.session.execute(
        update(Counter)
        .where(
            Counter.township_id == township_id,
            Counter.year == year,
            Counter.class_id == class_id,
            Counter.retention == retention,
        )
        .values(last_no=Counter.last_no + n)
        .returning(Counter.last_no)
        .execution_options(synchronize_session=False)
    ).scalar_one()
    return last - n + 1


def closed_years(township_id: int) -> set[int]:
    return set(
        db.session.scalars(select(YearClosing.year).where(YearClosing.township_id == township_id))
    )


def file_items(township_id: int, item_ids: Iterable[int], by: User) -> list[Item]:
    """File waiting items in one batch: each gets the next item number of its group
    (township, year, class, retention) and its reference code, for good. All or nothing:
    an item without class or retention, of a closed year, of another township or no
    longer waiting refuses the whole batch with the reason. Commits."""
    ids = sorted({int(i) for i in item_ids})
    if not ids:
        raise ArchivesError(_("Choose the items to file."))
    if not can(by, WRITE, township_id):
        raise ArchivesError(_("Only the archivist files items."))
    items = db.session.scalars(
        select(Item).where(Item.id.in_(ids)).order_by(Item.doc_date, Item.id)
    ).all()
    if len(items) != len(ids) or any(i.township_id != township_id for i in items):
        raise ArchivesError(_("Some of the items are not in this township's filing inbox."))
    closed = closed_years(township_id)
    problems = []
    for item in items:
        if item.status != ItemStatus.waiting:
            problems.append(_("“%(title)s” is already filed.", title=item.title))
        elif item.class_id is None or item.retention is None:
            problems.append(
                _("“%(title)s” needs a class and a retention period.", title=item.title)
            )
        elif item.year in closed:
            problems.append(
                _(
                    "“%(title)s”: the year %(year)d is closed; file it under another year.",
                    title=item.title,
                    year=item.year,
                )
            )
    if problems:
        raise ArchivesError(" ".join(problems))
    classes = {
        c.id: c
        for c in db.session.scalars(
            select(ArchiveClass).where(ArchiveClass.id.in_({i.class_id for i in items}))
        )
    }
    if any(c.township_id != township_id for c in classes.values()):
        raise ArchivesError(_("Choose a class of this township's scheme."))
    # claim the items first: a second filer of the same items waits here, then finds none
    claimed = db.session.execute(
        update(Item)
        .where(Item.id.in_(ids), Item.status == ItemStatus.waiting)
        .values(status=ItemStatus.filed)
        .returning(Item.id)
        .execution_options(synchronize_session=False)
    ).all()
    if len(claimed) != len(ids):
        db.session.rollback()
        raise ArchivesError(_("Another archivist filed some of these items just now."))
    fonds = ensure_settings(township_id).fonds_code
    groups: dict[tuple[int, int, Retention], list[Item]] = defaultdict(list)
    for item in items:
        groups[(item.year, item.class_id, item.retention)].append(item)
    now = utcnow()
    updates, events = [], []
    # lock the counters in one order, so two batch filers never deadlock
    for year, class_id, retention in sorted(groups, key=lambda g: (g[0], g[1], g[2].value)):
        members = groups[(year, class_id, retention)]
        first = _take_numbers(township_id, year, class_id, retention, len(members))
        for offset, item in enumerate(members):
            number = first + offset
            code = reference_code(fonds, year, retention, classes[class_id].code, number)
            updates.append(
                {
                    "id": item.id,
                    "item_no": number,
                    "reference_code": code,
                    "filed_at": now,
                    "filed_by_id": by.id,
                    "retention_ends_on": retention_end(year, retention),
                }
            )
            events.append(
                {
                    "item_id": item.id,
                    "township_id": township_id,
                    "at": now,
                    "actor_id": by.id,
                    "action": "filed",
                    "before": None,
                    "after": {**_snapshot(item), "reference_code": code},
                    "note": None,
                }
            )
    try:
        db.session.execute(update(Item), updates)
        db.session.execute(insert(ItemEvent), events)
        db.session.commit()
    except IntegrityError as exc:
        db.session.rollback()
        raise ArchivesError(
            _("A reference code would be given twice; nothing was filed. Try again.")
        ) from exc
    db.session.expire_all()
    return list(db.session.scalars(select(Item).where(Item.id.in_(ids)).order_by(Item.item_no)))


def update_item(item: Item, values: dict[str, Any], by: User | None) -> None:
    """Change an item's descriptive metadata. A filed item keeps its class, retention and
    reference code; every change of a filed item is a trail entry. Commits."""
    allowed = WAITING_EDITABLE if item.status == ItemStatus.waiting else EDITABLE
    if item.status == ItemStatus.destroyed:
        raise ArchivesError(_("A destroyed item is not changed."))
    refused = set(values) - set(allowed)
    if refused:
        raise ArchivesError(
            _(
                "A filed item keeps its class, retention and year: its reference code depends "
                "on them."
            )
        )
    merged = {name: getattr(item, name) for name in allowed} | values
    _validate_metadata(merged, item.township_id)
    if values.get("class_id") is not None:
        _class_of(item.township_id, values["class_id"])
    before = _snapshot(item, values)
    for name, value in values.items():
        setattr(item, name, value)
    if "doc_date" in values and item.status == ItemStatus.waiting and "year" not in values:
        item.year = item.doc_date.year
    after = _snapshot(item, values)
    changed = {k for k in values if before[k] != after[k]}
    if changed:
        _event(
            item,
            by,
            "changed",
            {k: before[k] for k in changed},
            {k: after[k] for k in changed},
        )
    db.session.commit()


def place_item(item: Item, box: Box | None, volume: Volume | None, by: User | None) -> None:
    """Put a filed item into a box and/or a volume (same township); a trail entry. Commits."""
    for thing in (box, volume):
        if thing is not None and thing.township_id != item.township_id:
            raise ArchivesError(_("The box or volume belongs to another township."))
    if item.status != ItemStatus.filed:
        raise ArchivesError(_("Only a filed item is put into a box or a volume."))
    before = {"box": item.box.box_no if item.box else None, "volume": item.volume_id}
    item.box_id = box.id if box else None
    item.volume_id = volume.id if volume else None
    db.session.flush()
    _event(
        item,
        by,
        "placed",
        before,
        {"box": box.box_no if box else None, "volume": volume.id if volume else None},
    )
    db.session.commit()


def move_box(box: Box, room: str, shelf: str, by: User | None) -> int:
    """Move a box to another room or shelf: its items move with it, each item's trail says
    so. Commits; returns how many items moved."""
    before = {"room": box.room, "shelf": box.shelf}
    box.room, box.shelf = room.strip(), shelf.strip()
    after = {"room": box.room, "shelf": box.shelf}
    if before == after:
        return 0
    ids = db.session.scalars(select(Item.id).where(Item.box_id == box.id)).all()
    now = utcnow()
    if ids:
        db.session.execute(
            insert(ItemEvent),
            [
                {
                    "item_id": i,
                    "township_id": box.township_id,
                    "at": now,
                    "actor_id": by.id if by else None,
                    "action": "moved",
                    "before": before,
                    "after": after,
                    "note": box.box_no,
                }
                for i in ids
            ],
        )
    db.session.commit()
    return len(ids)


def close_year(township_id: int, year: int, by: User) -> YearClosing:
    """Yearly filing (年度立卷): close a year once nothing of it waits in the inbox. Commits."""
    if year >= clock.today(township_id).year:
        raise ArchivesError(_("Only a past year can be closed."))
    waiting = db.session.scalar(
        select(func.count(Item.id)).where(
            Item.township_id == township_id, Item.year == year, Item.status == ItemStatus.waiting
        )
    )
    if waiting:
        raise ArchivesError(
            _("%(n)d item(s) of %(year)d still wait to be filed.", n=waiting, year=year)
        )
    if year in closed_years(township_id):
        raise ArchivesError(_("The year %(year)d is already closed.", year=year))
    count = db.session.scalar(
        select(func.count(Item.id)).where(
            Item.township_id == township_id, Item.year == year, Item.status != ItemStatus.waiting
        )
    )
    row = YearClosing(township_id=township_id, year=year, items=count or 0, closed_by_id=by.id)
    db.session.add(row)
    db.session.commit()
    return row


def year_overview(township_id: int) -> list[dict[str, Any]]:
    """Per year: waiting, filed, destroyed, and whether it is closed (one query)."""
    rows = db.session.execute(
        select(Item.year, Item.status, func.count(Item.id))
        .where(Item.township_id == township_id)
        .group_by(Item.year, Item.status)
    ).all()
    closed = {
        y.year: y
        for y in db.session.scalars(
            select(YearClosing).where(YearClosing.township_id == township_id)
        )
    }
    years: dict[int, dict[str, Any]] = {}
    for year, status, n in rows:
        entry = years.setdefault(year, {"year": year, "waiting": 0, "filed": 0, "destroyed": 0})
        entry[ItemStatus(status).value] = n
    for year in closed:
        years.setdefault(year, {"year": year, "waiting": 0, "filed": 0, "destroyed": 0})
    for entry in years.values():
        entry["closed"] = closed.get(entry["year"])
    return sorted(years.values(), key=lambda e: e["year"], reverse=True)


# ---------------------------------------------------------------------------
# Digital copies
# ---------------------------------------------------------------------------


def check_attachment(filename: str, declared_type: str | None, data: bytes) -> str:
    """The media type of an upload whose declared type, extension and file signature
    agree; anything else is refused with the reason."""
    if not data:
        raise ArchivesError(_("The file is empty."))
    if len(data) > ATTACHMENT_MAX_BYTES:
        raise ArchivesError(
            _("The file is larger than %(mb)d MB.", mb=ATTACHMENT_MAX_BYTES // (1024 * 1024))
        )
    suffix = "." + filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    by_name = EXTENSIONS.get(suffix)
    declared = (declared_type or "").split(";")[0].strip().lower()
    if declared in ("", "application/octet-stream"):
        declared = by_name or ""
    if declared not in ATTACHMENT_TYPES:
        raise ArchivesError(_("Only PDF, JPEG, PNG and TIFF files are kept."))
    if by_name is not None and by_name != declared:
        raise ArchivesError(_("The file name and the declared type disagree."))
    if not any(data.startswith(sig) for sig in ATTACHMENT_TYPES[declared]):
        raise ArchivesError(
            _("The file is not what it claims to be: its content is not %(type)s.", type=declared)
        )
    return declared


def attach(
    item: Item, filename: str, declared_type: str | None, data: bytes, by: User
) -> Attachment:
    """Keep a digital copy of an item: checked, hashed (SHA-256), stored. Commits."""
    if item.status == ItemStatus.destroyed:
        raise ArchivesError(_("A destroyed item takes no attachment."))
    filename = (filename or "").replace("\\", "/").rsplit("/", 1)[-1].strip() or "file"
    if len(filename) > 200:
        raise ArchivesError(_("The file name is longer than 200 characters."))
    media_type = check_attachment(filename, declared_type, data)
    digest = hashlib.sha256(data).hexdigest()
    storage().put(digest, data)
    row = Attachment(
        township_id=item.township_id,
        item_id=item.id,
        filename=filename,
        media_type=media_type,
        size=len(data),
        sha256=digest,
        storage_key=digest,
        uploaded_by_id=by.id,
    )
    db.session.add(row)
    db.session.flush()
    _event(item, by, "attached", None, {"file": filename, "sha256": digest, "size": len(data)})
    db.session.commit()
    return row


def read_attachment(row: Attachment) -> bytes:
    """The stored bytes, checked against the kept SHA-256."""
    data = storage().get(row.storage_key)
    if hashlib.sha256(data).hexdigest() != row.sha256:
        raise ArchivesError(_("The stored file does not match its hash; tell the archivist."))
    return data


def reading_loan(user: User, item: Item) -> Loan | None:
    """The user's approved or current loan of the item (or of its box), if any."""
    today = clock.today(item.township_id)
    conditions = [Loan.item_id == item.id]
    if item.box_id:
        conditions.append(Loan.box_id == item.box_id)
    return db.session.scalar(
        select(Loan)
        .where(
            Loan.borrower_id == user.id,
            Loan.township_id == item.township_id,
            Loan.status.in_((LoanStatus.approved, LoanStatus.lent)),
            or_(*conditions),
            func.coalesce(Loan.due_on, Loan.wanted_until) >= today,
        )
        .order_by(Loan.may_download.desc(), Loan.id.desc())
        .limit(1)
    )


def may_read(user: User, attachment: Attachment, item: Item) -> tuple[bool, bool, Loan | None]:
    """``(may read on screen, may download, the loan)``: the archivist always; a borrower
    with an approved loan, downloading only if the approver allowed it."""
    if item.status == ItemStatus.destroyed:
        return False, False, None
    if can(user, WRITE, item.township_id):
        return True, True, None
    loan = reading_loan(user, item)
    if loan is None:
        return False, False, None
    return True, loan.may_download, loan


def log_view(user: User, attachment: Attachment, loan: Loan | None, downloaded: bool) -> None:
    db.session.add(
        ViewLog(
            township_id=attachment.township_id,
            attachment_id=attachment.id,
            loan_id=loan.id if loan else None,
            user_id=user.id,
            downloaded=downloaded,
        )
    )
    db.session.commit()


# ---------------------------------------------------------------------------
# Borrowing (借阅)
# ---------------------------------------------------------------------------


def _loan_target_open(township_id: int, item: Item | None, box: Box | None) -> Loan | None:
    """A loan that has the item or box (or the item's box, or an item of the box) out now."""
    conditions = []
    if item is not None:
        conditions.append(Loan.item_id == item.id)
        if item.box_id:
            conditions.append(Loan.box_id == item.box_id)
    if box is not None:
        conditions.append(Loan.box_id == box.id)
        conditions.append(Loan.item_id.in_(select(Item.id).where(Item.box_id == box.id)))
    return db.session.scalar(
        select(Loan)
        .where(Loan.township_id == township_id, Loan.status == LoanStatus.lent, or_(*conditions))
        .limit(1)
    )


def request_loan(
    borrower: User,
    *,
    township_id: int,
    item: Item | None = None,
    box: Box | None = None,
    purpose: str,
    wanted_until: date,
) -> Loan:
    """A staff member asks to borrow an item or a box (purpose, wanted until); the head of
    archives is told. Commits."""
    if (item is None) == (box is None):
        raise ArchivesError(_("Ask for one item or one box."))
    target = item or box
    if target.township_id != township_id:
        raise ArchivesError(_("That item or box belongs to another township."))
    if not can(borrower, READ, township_id):
        raise ArchivesError(_("You may not borrow from this archive."))
    if item is not None and item.status != ItemStatus.filed:
        raise ArchivesError(_("Only a filed item can be borrowed."))
    purpose = (purpose or "").strip()
    if not purpose:
        raise ArchivesError(_("Say what you need it for."))
    if len(purpose) > 300:
        raise ArchivesError(_("The purpose is longer than 300 characters."))
    today = clock.today(township_id)
    if wanted_until < today:
        raise ArchivesError(_("The date wanted until is in the past."))
    if wanted_until > today + timedelta(days=366):
        raise ArchivesError(_("A loan lasts at most a year."))
    loan = Loan(
        township_id=township_id,
        item_id=item.id if item else None,
        box_id=box.id if box else None,
        borrower_id=borrower.id,
        purpose=purpose,
        wanted_until=wanted_until,
    )
    db.session.add(loan)
    db.session.flush()
    with force_locale(current_app.config.get("DEFAULT_LOCALE", "zh_CN")):
        title = _("Borrowing to approve: %(what)s", what=str(target))
    approvers = [u for u in users_with(APPROVE_LOAN, township_id) if u.id != borrower.id]
    announce(
        approvers,
        "archives.loan_approval",
        loan.id,
        title,
        township_id=township_id,
        link=_link("archives_loans.details_view", id=loan.id),
    )
    db.session.commit()
    return loan


def decide_loan(
    loan: Loan, approver: User, approve: bool, *, may_download: bool = False, note: str = ""
) -> None:
    """The head of archives approves (optionally allowing downloads) or refuses. Commits."""
    if not can(approver, APPROVE_LOAN, loan.township_id):
        raise ArchivesError(_("Only the head of archives approves borrowing."))
    if loan.borrower_id == approver.id:
        raise ArchivesError(_("Nobody approves their own borrowing."))
    if loan.status != LoanStatus.requested:
        raise ArchivesError(_("This request is already decided."))
    if len(note or "") > 300:
        raise ArchivesError(_("The note is longer than 300 characters."))
    loan.status = LoanStatus.approved if approve else LoanStatus.refused
    loan.decided_by_id = approver.id
    loan.decided_at = utcnow()
    loan.decision_note = (note or "").strip()
    loan.may_download = bool(approve and may_download)
    with force_locale(current_app.config.get("DEFAULT_LOCALE", "zh_CN")):
        title = (
            _("Borrowing approved: %(what)s", what=str(loan.item or loan.box))
            if approve
            else _("Borrowing refused: %(what)s", what=str(loan.item or loan.box))
        )
    link = _link("archives_loans.details_view", id=loan.id)
    notify(
        [loan.borrower],
        title,
        loan.decision_note,
        link=link,
        key=f"archives-loan-decided:{loan.id}",
        township_id=loan.township_id,
    )
    if approve:
        announce(
            users_with(WRITE, loan.township_id),
            "archives.loan_to_lend",
            loan.id,
            title,
            township_id=loan.township_id,
            link=link,
        )
    db.session.commit()


def lend(loan: Loan, archivist: User) -> None:
    """The archivist hands the item or box out: who took it, when, due when. Commits."""
    if not can(archivist, WRITE, loan.township_id):
        raise ArchivesError(_("Only the archivist lends."))
    if loan.status != LoanStatus.approved:
        raise ArchivesError(_("Only an approved request is lent."))
    if loan.item is not None and loan.item.status != ItemStatus.filed:
        raise ArchivesError(_("This item is no longer in the archive."))
    busy = _loan_target_open(loan.township_id, loan.item, loan.box)
    if busy is not None:
        raise ArchivesError(_("It is lent out already (to %(name)s).", name=busy.borrower.name))
    today = clock.today(loan.township_id)
    longest = today + timedelta(days=int(get_policy(loan.township_id, LOAN_DAYS)))
    loan.status = LoanStatus.lent
    loan.lent_by_id = archivist.id
    loan.lent_at = utcnow()
    loan.due_on = max(today, min(loan.wanted_until, longest))
    for item in _items_of(loan):
        _event(
            item,
            archivist,
            "lent",
            None,
            {"borrower": loan.borrower.name, "due_on": loan.due_on.isoformat()},
        )
    db.session.commit()


def _items_of(loan: Loan) -> list[Item]:
    if loan.item is not None:
        return [loan.item]
    return list(db.session.scalars(select(Item).where(Item.box_id == loan.box_id)))


def take_back(loan: Loan, archivist: User, condition: ReturnCondition, note: str = "") -> None:
    """The archivist checks what came back: complete, damaged or pages missing (the last
    two need a note). A return without a loan out is refused. Commits."""
    if not can(archivist, WRITE, loan.township_id):
        raise ArchivesError(_("Only the archivist takes items back."))
    if loan.status != LoanStatus.lent:
        raise ArchivesError(_("Nothing of this request is lent out: there is nothing to return."))
    note = (note or "").strip()
    if condition != ReturnCondition.complete and not note:
        raise ArchivesError(_("Say what is damaged or which pages are missing."))
    if len(note) > 300:
        raise ArchivesError(_("The note is longer than 300 characters."))
    loan.status = LoanStatus.returned
    loan.returned_at = utcnow()
    loan.received_by_id = archivist.id
    loan.return_condition = condition
    loan.return_note = note
    for item in _items_of(loan):
        _event(item, archivist, "returned", None, {"condition": condition.value}, note or None)
    db.session.commit()


def report_loss(loan: Loan, archivist: User, custodian_account: str) -> Loss:
    """A lent item or box is lost: the loss register records it with the custodian's
    account; the follow-up is written later. Commits."""
    if not can(archivist, WRITE, loan.township_id):
        raise ArchivesError(_("Only the archivist registers a loss."))
    if loan.status != LoanStatus.lent:
        raise ArchivesError(_("Only something lent out can be reported lost."))
    account = (custodian_account or "").strip()
    if not account:
        raise ArchivesError(_("Write down the custodian's account of the loss."))
    loan.status = LoanStatus.lost
    loss = Loss(
        township_id=loan.township_id,
        loan_id=loan.id,
        item_id=loan.item_id,
        box_id=loan.box_id,
        reported_by_id=archivist.id,
        custodian_account=account,
    )
    db.session.add(loss)
    for item in _items_of(loan):
        _event(item, archivist, "lost", None, {"borrower": loan.borrower.name}, account)
    with force_locale(current_app.config.get("DEFAULT_LOCALE", "zh_CN")):
        title = _("Archive loss registered: %(what)s", what=str(loan.item or loan.box))
    notify(
        users_with(APPROVE_LOAN, loan.township_id),
        title,
        account,
        key=f"archives-loss:{loan.id}",
        township_id=loan.township_id,
        link=_link("archives_losses.index_view"),
    )
    db.session.commit()
    return loss


def follow_up_loss(loss: Loss, text: str, settled: bool, by: User) -> None:
    if not can(by, WRITE, loss.township_id):
        raise ArchivesError(_("Only the archivist writes the follow-up."))
    if not (text or "").strip():
        raise ArchivesError(_("Write the follow-up."))
    stamp = clock.format_datetime(utcnow(), loss.township_id)
    loss.follow_up = "\n".join(
        p for p in (loss.follow_up, f"{stamp} {by.name}: {text.strip()}") if p
    )
    loss.settled = settled
    db.session.commit()


def overdue_loans(today: date | None = None):
    """Lent loans past their due date not yet reminded for it (a select)."""
    base = select(Loan.id, Loan.due_on).where(
        Loan.status == LoanStatus.lent,
        Loan.due_on.is_not(None),
        or_(Loan.reminded_for.is_(None), Loan.reminded_for != Loan.due_on),
    )
    if today is not None:
        return base.where(Loan.due_on < today)
    ids = set(db.session.scalars(select(Loan.township_id).where(Loan.status == LoanStatus.lent)))
    return base.where(clock.before_today(Loan.due_on, Loan.township_id, ids))


def overdue_sweep(today: date | None = None) -> int:
    """The job's work: enqueue one durable reminder per overdue loan and due date (the
    task key makes a second sweep a no-op). Commits; returns how many were enqueued."""
    from core.tasks import enqueue

    rows = db.session.execute(overdue_loans(today)).all()
    for loan_id, due_on in rows:
        enqueue(
            "archives.loan_reminder",
            f"archives-overdue:{loan_id}:{due_on.isoformat()}",
            loan_id=loan_id,
            due_on=due_on.isoformat(),
        )
    db.session.commit()
    return len(rows)


def send_overdue_reminder(loan_id: int, due_on: str) -> bool:
    """Tell the borrower and the archivists that a loan is overdue, once per due date
    (durable task; no commit: the task commits with its row). Returns whether it told."""
    loan = db.session.get(Loan, loan_id)
    if loan is None or loan.status != LoanStatus.lent or loan.due_on is None:
        return False
    if loan.due_on.isoformat() != due_on or loan.reminded_for == loan.due_on:
        return False
    with force_locale(current_app.config.get("DEFAULT_LOCALE", "zh_CN")):
        title = _("Borrowed archive overdue: %(what)s", what=str(loan.item or loan.box))
        body = _("%(name)s was to return it by %(due)s.", name=loan.borrower.name, due=due_on)
    people = [loan.borrower, *users_with(WRITE, loan.township_id)]
    notify(
        people,
        title,
        body,
        key=f"archives-overdue:{loan.id}:{due_on}",
        township_id=loan.township_id,
        link=_link("archives_loans.details_view", id=loan.id),
    )
    loan.reminded_for = loan.due_on
    db.session.flush()
    return True


# ---------------------------------------------------------------------------
# Appraisal (鉴定) and destruction
# ---------------------------------------------------------------------------


def due_for_appraisal(township_ids: Iterable[int]):
    """Filed items whose retention period has ended and no destruction is under way."""
    ids = set(township_ids)
    pending = select(Destruction.item_id).where(
        Destruction.status.in_((DestructionStatus.proposed, DestructionStatus.approved))
    )
    return select(Item).where(
        Item.township_id.in_(ids),
        Item.status == ItemStatus.filed,
        Item.retention_ends_on.is_not(None),
        clock.before_today(Item.retention_ends_on, Item.township_id, ids),
        Item.id.not_in(pending),
    )


def keep_longer(item: Item, years: int, reason: str, by: User) -> None:
    """Appraisal outcome "keep": the retention end moves ``years`` later; a trail entry."""
    if not can(by, WRITE, item.township_id):
        raise ArchivesError(_("Only the archivist appraises."))
    if not 1 <= years <= 100:
        raise ArchivesError(_("Keep it between 1 and 100 more years."))
    if not (reason or "").strip():
        raise ArchivesError(_("Give the appraisal's reason."))
    if item.retention_ends_on is None:
        raise ArchivesError(_("A permanent item is not appraised."))
    before = {"retention_ends_on": item.retention_ends_on.isoformat()}
    base = max(item.retention_ends_on, clock.today(item.township_id))
    item.retention_ends_on = date(base.year + years, 12, 31)
    _event(
        item,
        by,
        "appraised",
        before,
        {"retention_ends_on": item.retention_ends_on.isoformat()},
        reason.strip(),
    )
    db.session.commit()


def propose_destruction(item: Item, reason: str, by: User) -> Destruction:
    """The archivist proposes destroying an item past its retention; leaders are told."""
    if not can(by, WRITE, item.township_id):
        raise ArchivesError(_("Only the archivist appraises."))
    if item.status != ItemStatus.filed:
        raise ArchivesError(_("Only a filed item can be destroyed."))
    today = clock.today(item.township_id)
    if item.retention_ends_on is None or item.retention_ends_on >= today:
        raise ArchivesError(
            _(
                "Its retention period has not ended: it may not be destroyed before %(day)s.",
                day=(item.retention_ends_on + timedelta(days=1)).isoformat()
                if item.retention_ends_on
                else _("never (permanent)"),
            )
        )
    if _loan_target_open(item.township_id, item, None) is not None:
        raise ArchivesError(_("It is lent out; take it back first."))
    reason = (reason or "").strip()
    if not reason or len(reason) > 300:
        raise ArchivesError(_("Give the appraisal's reason (at most 300 characters)."))
    open_one = db.session.scalar(
        select(Destruction.id).where(
            Destruction.item_id == item.id,
            Destruction.status.in_((DestructionStatus.proposed, DestructionStatus.approved)),
        )
    )
    if open_one:
        raise ArchivesError(_("A destruction of this item is already under way."))
    row = Destruction(
        township_id=item.township_id, item_id=item.id, reason=reason, proposed_by_id=by.id
    )
    db.session.add(row)
    db.session.flush()
    _event(item, by, "destruction_proposed", None, None, reason)
    with force_locale(current_app.config.get("DEFAULT_LOCALE", "zh_CN")):
        title = _("Destruction to approve: %(what)s", what=str(item))
    announce(
        users_with(APPROVE_DESTRUCTION, item.township_id),
        "archives.destruction_approval",
        row.id,
        title,
        township_id=item.township_id,
        link=_link("archives_destructions.details_view", id=row.id),
    )
    db.session.commit()
    return row


def decide_destruction(row: Destruction, leader: User, approve: bool) -> None:
    if not can(leader, APPROVE_DESTRUCTION, row.township_id):
        raise ArchivesError(_("Only a leader approves a destruction."))
    if row.status != DestructionStatus.proposed:
        raise ArchivesError(_("This destruction is already decided."))
    row.status = DestructionStatus.approved if approve else DestructionStatus.refused
    row.decided_by_id = leader.id
    row.decided_at = utcnow()
    _event(
        row.item, leader, "destruction_approved" if approve else "destruction_refused", None, None
    )
    db.session.commit()


def carry_out_destruction(row: Destruction, by: User, witnesses: str, on: date) -> None:
    """Destroy an approved item before witnesses: the item stays in the catalogue as
    destroyed, with its code; the register keeps what, when, approved by, witnesses."""
    if not can(by, WRITE, row.township_id):
        raise ArchivesError(_("Only the archivist carries out a destruction."))
    if row.status != DestructionStatus.approved:
        raise ArchivesError(_("A destruction needs a leader's approval first."))
    names = [w for w in re.split(r"[,，、;；\s]+", witnesses or "") if w]
    if len(names) < 2:
        raise ArchivesError(_("Name at least two witnesses."))
    if len(witnesses) > 300:
        raise ArchivesError(_("The witnesses are longer than 300 characters."))
    today = clock.today(row.township_id)
    if on > today:
        raise ArchivesError(_("The date is in the future."))
    item = row.item
    if item.retention_ends_on is None or item.retention_ends_on >= on:
        raise ArchivesError(_("Its retention period has not ended on that date."))
    row.status = DestructionStatus.destroyed
    row.witnesses = "、".join(names)
    row.destroyed_on = on
    row.destroyed_by_id = by.id
    item.status = ItemStatus.destroyed
    _event(item, by, "destroyed", {"status": "filed"}, {"status": "destroyed"}, row.witnesses)
    db.session.commit()


# ---------------------------------------------------------------------------
# The catalogue: search, export
# ---------------------------------------------------------------------------


@dataclass
class CatalogueFilter:
    q: str = ""
    code: str = ""
    year: int | None = None
    class_id: int | None = None
    retention: Retention | None = None
    institution: str = ""
    responsible: str = ""
    status: ItemStatus | None = None


def _escape_like(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def matching_ids(q: str) -> list:
    """Selects of item ids, one per word of ``q``, whose title or frozen content contains
    the word (an item must be in every one).

    Chinese has no spaces: words are found inside longer text (「宅基地」 in
    「宅基地审批」). SQLite: the FTS5 table ``archives_fts`` (trigram tokenizer) for
    words of three or more characters, a scan for shorter ones. PostgreSQL: ILIKE
    served by pg_trgm GIN indexes on the title and the content.
    """
    words = [w for w in q.split() if w][:5]
    selects = []
    sqlite = is_sqlite()
    long_words = [w for w in words if len(w) >= 3] if sqlite else []
    if long_words:
        from sqlalchemy import literal_column, table, text

        expression = " AND ".join('"' + w.replace('"', '""') + '"' for w in long_words)
        selects.append(
            select(literal_column("rowid"))
            .select_from(table("archives_fts"))
            .where(text("archives_fts MATCH :expression").bindparams(expression=expression))
        )
    for word in words:
        if word in long_words:
            continue
        pattern = f"%{_escape_like(word)}%"
        title = Item.title.like if sqlite else Item.title.ilike
        body = FrozenContent.text.like if sqlite else FrozenContent.text.ilike
        selects.append(
            union(
                select(Item.id).where(title(pattern, escape="\\")),
                select(FrozenContent.item_id).where(body(pattern, escape="\\")),
            )
        )
    return selects


def apply_filter(query, f: CatalogueFilter):
    """The catalogue's conditions on a select of :class:`Item`."""
    if f.q.strip():
        for ids in matching_ids(f.q.strip()):
            query = query.where(Item.id.in_(ids))
    if f.code.strip():
        query = query.where(
            Item.reference_code.like(f"%{_escape_like(f.code.strip())}%", escape="\\")
        )
    if f.year:
        query = query.where(Item.year == f.year)
    if f.class_id:
        query = query.where(Item.class_id == f.class_id)
    if f.retention:
        query = query.where(Item.retention == f.retention)
    if f.institution:
        query = query.where(Item.source == f.institution)
    if f.responsible.strip():
        query = query.where(
            Item.responsible.like(f"%{_escape_like(f.responsible.strip())}%", escape="\\")
        )
    if f.status:
        query = query.where(Item.status == f.status)
    return query


def catalogue(
    township_ids: Iterable[int], f: CatalogueFilter, page: int = 1, per_page: int = 50
) -> tuple[list[Item], int]:
    """One page of filed (and destroyed) items and the total: two queries."""
    base = select(Item).where(
        Item.township_id.in_(set(township_ids)), Item.status != ItemStatus.waiting
    )
    base = apply_filter(base, f)
    total = db.session.scalar(select(func.count()).select_from(base.subquery())) or 0
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    rows = db.session.scalars(
        base.order_by(Item.year.desc(), Item.reference_code)
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return list(rows), total


CATALOGUE_COLUMNS = ("item_no", "responsible", "doc_number", "title", "doc_date", "pages", "note")


def catalogue_header() -> list[str]:
    """归档文件目录 as DA/T 22-2015 lays it out."""
    return [
        _("Item no."),
        _("Responsible party"),
        _("Doc. no."),
        _("Archival title"),
        _("Date"),
        _("Number of pages"),
        _("Remarks"),
    ]


def catalogue_rows(items: Iterable[Item]) -> list[list[Any]]:
    return [
        [
            i.reference_code or "",
            i.responsible,
            i.doc_number,
            i.title,
            i.doc_date.isoformat(),
            i.pages or "",
            i.note or ("" if i.status == ItemStatus.filed else i.status.label),
        ]
        for i in items
    ]


def export_xlsx(township: OrgUnit, items: Iterable[Item], heading: str) -> bytes:
    """The catalogue (归档文件目录) as an XLSX workbook (openpyxl)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    book = Workbook()
    sheet = book.active
    sheet.title = _("Catalogue")[:31]
    sheet.append([heading])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append(catalogue_header())
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    for row in catalogue_rows(items):
        sheet.append(row)
    for letter, width in zip("ABCDEFG", (28, 16, 16, 48, 12, 8, 20), strict=True):
        sheet.column_dimensions[letter].width = width
    for row in sheet.iter_rows(min_row=3):
        row[3].alignment = Alignment(wrap_text=True)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# ---------------------------------------------------------------------------
# Dashboard and inbox
# ---------------------------------------------------------------------------


@dataclass
class Figures:
    waiting: int
    lent: int
    overdue: int
    appraisal: int
    completeness: list[tuple[str, int, int]]  # (institution, filed, total) this year


def county_figures(townships: Iterable[OrgUnit]) -> dict[int, Figures]:
    """The dashboard's numbers of each township, by township id, in four queries
    (whatever the number of townships; each township's today is its own)."""
    today = {t.id: clock.today(t) for t in townships}
    ids = set(today)
    if not ids:
        return {}
    waiting = dict(
        db.session.execute(
            select(Item.township_id, func.count(Item.id))
            .where(Item.township_id.in_(ids), Item.status == ItemStatus.waiting)
            .group_by(Item.township_id)
        ).all()
    )
    loans = {
        tid: (lent, overdue)
        for tid, lent, overdue in db.session.execute(
            select(
                Loan.township_id,
                func.count(Loan.id),
                func.count(Loan.id).filter(clock.before_today(Loan.due_on, Loan.township_id, ids)),
            )
            .where(Loan.township_id.in_(ids), Loan.status == LoanStatus.lent)
            .group_by(Loan.township_id)
        )
    }
    due = due_for_appraisal(ids).subquery()
    appraisal = dict(
        db.session.execute(
            select(due.c.township_id, func.count()).group_by(due.c.township_id)
        ).all()
    )
    years: dict[int, set[int]] = defaultdict(set)
    for tid, day in today.items():
        years[day.year].add(tid)
    completeness: dict[int, list[tuple[str, int, int]]] = defaultdict(list)
    for tid, source, filed, total in db.session.execute(
        select(
            Item.township_id,
            Item.source,
            func.count(Item.id).filter(Item.status != ItemStatus.waiting),
            func.count(Item.id),
        )
        .where(
            or_(
                *(
                    and_(Item.township_id.in_(tids), Item.year == year)
                    for year, tids in years.items()
                )
            )
        )
        .group_by(Item.township_id, Item.source)
        .order_by(Item.township_id, Item.source)
    ):
        completeness[tid].append((source, filed, total))
    return {
        tid: Figures(
            waiting=waiting.get(tid, 0),
            lent=loans.get(tid, (0, 0))[0] or 0,
            overdue=loans.get(tid, (0, 0))[1] or 0,
            appraisal=appraisal.get(tid, 0),
            completeness=completeness.get(tid, []),
        )
        for tid in ids
    }


def institution_label(key: str) -> str:
    from core.app import current_locale

    if key == PAPER:
        return _("Paper registered by hand")
    if key == "core":
        return _("Cases")
    loaded = state().plugins.get(key)
    if loaded is None:
        return key
    return loaded.info.name_en if current_locale() == "en" else loaded.info.name


def _link(endpoint: str, **values: Any) -> str | None:
    if not has_request_context():
        return None
    try:
        return url_for(endpoint, **values)
    except BuildError:
        return None


def inbox_sources(user: User, township_ids: set[int]) -> list:
    """What waits in the archive: items to file and loans to hand out (archivists),
    borrowing and destructions to approve (head of archives, leaders), overdue loans
    (the archivist and the borrower)."""
    from core.access import township_ids_with
    from core.contract import InboxSource

    sources = []
    writers = township_ids_with(user, WRITE) & township_ids
    if writers:
        sources.append(
            InboxSource(
                "archives.filing",
                "待归档",
                "To file",
                select(
                    Item.id.label("object_id"),
                    Item.title.label("title"),
                    Item.township_id.label("township_id"),
                    Item.created_at.label("since"),
                    cast(null(), Date).label("due_on"),
                ).where(Item.township_id.in_(writers), Item.status == ItemStatus.waiting),
                "archives_inbox.edit_view",
            )
        )
        sources.append(
            InboxSource(
                "archives.loan_to_lend",
                "待出借档案",
                "Approved loan to hand out",
                select(
                    Loan.id.label("object_id"),
                    Loan.purpose.label("title"),
                    Loan.township_id.label("township_id"),
                    Loan.decided_at.label("since"),
                    Loan.wanted_until.label("due_on"),
                ).where(Loan.township_id.in_(writers), Loan.status == LoanStatus.approved),
                "archives_loans.details_view",
            )
        )
    approvers = township_ids_with(user, APPROVE_LOAN) & township_ids
    if approvers:
        sources.append(
            InboxSource(
                "archives.loan_approval",
                "借阅待审批",
                "Borrowing to approve",
                select(
                    Loan.id.label("object_id"),
                    Loan.purpose.label("title"),
                    Loan.township_id.label("township_id"),
                    Loan.requested_at.label("since"),
                    Loan.wanted_until.label("due_on"),
                ).where(
                    Loan.township_id.in_(approvers),
                    Loan.status == LoanStatus.requested,
                    Loan.borrower_id != user.id,
                ),
                "archives_loans.details_view",
            )
        )
    leaders = township_ids_with(user, APPROVE_DESTRUCTION) & township_ids
    if leaders:
        sources.append(
            InboxSource(
                "archives.destruction_approval",
                "档案销毁待审批",
                "Destruction to approve",
                select(
                    Destruction.id.label("object_id"),
                    Destruction.reason.label("title"),
                    Destruction.township_id.label("township_id"),
                    Destruction.proposed_at.label("since"),
                    cast(null(), Date).label("due_on"),
                ).where(
                    Destruction.township_id.in_(leaders),
                    Destruction.status == DestructionStatus.proposed,
                ),
                "archives_destructions.details_view",
            )
        )
    overdue = and_(
        Loan.status == LoanStatus.lent,
        clock.before_today(Loan.due_on, Loan.township_id, township_ids),
        or_(Loan.borrower_id == user.id, Loan.township_id.in_(writers or {0})),
    )
    sources.append(
        InboxSource(
            "archives.overdue_loan",
            "借阅逾期",
            "Overdue loan",
            select(
                Loan.id.label("object_id"),
                Loan.purpose.label("title"),
                Loan.township_id.label("township_id"),
                Loan.lent_at.label("since"),
                Loan.due_on.label("due_on"),
            ).where(Loan.township_id.in_(township_ids), overdue),
            "archives_loans.details_view",
        )
    )
    return sources
