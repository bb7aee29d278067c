"""The rules of proxy handling (办事代理制度) as functions over the session.

A proxy record (代办单) belongs to one case. Its course: taken over with the materials
received → (sent to a county office → back) → progress notes → delivered to the
citizen's home with an acknowledgement image → signed off by a leader. Each service
checks its input, writes, commits; a refused step writes nothing (``ProxyError`` with
a message for the clerk).

*On time* (the monthly report): delivered on or before the promised day.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import case as sql_case
from sqlalchemy import func, select

from core import clock
from core.access import can
from core.cases import CaseError, deliver_case
from core.contract import ArchivalRecord, ReceiptStep
from core.db import db, utcnow
from core.inbox import announce
from core.labels import shorten
from core.links import link
from core.models import Case, CaseStatus, OrgUnit, User
from plugins.proxy.models import (
    AckKind,
    MaterialFate,
    ProxyDelivery,
    ProxyMaterial,
    ProxyNote,
    ProxyReason,
    ProxyRecord,
    ProxyStatus,
    ProxyTransfer,
)

KEY = "proxy"
WRITE = "proxy.write"
SIGN_OFF = "proxy.sign_off"
INBOX_IN_HAND = "proxy.in_hand"
INBOX_SIGN_OFF = "proxy.sign_off"

#: acknowledgement images: declared type → file signature
ACK_TYPES = {"image/jpeg": b"\xff\xd8\xff", "image/png": b"\x89PNG\r\n\x1a\n"}
ACK_MAX_BYTES = 2 * 1024 * 1024


class ProxyError(ValueError):
    """A proxy step that is not allowed; ``str(exc)`` is the message for the clerk."""


# ---------------------------------------------------------------------------
# Checks
# ---------------------------------------------------------------------------


def _text(value: str | None, limit: int | None, label: str, required: bool = True) -> str:
    value = (value or "").strip()
    if required and not value:
        raise ProxyError(_("%(field)s is required.", field=label))
    if limit is not None and len(value) > limit:
        raise ProxyError(_("%(field)s is longer than %(n)s characters.", field=label, n=limit))
    return value


def _past_date(
    day: date | None, township_id: int, label: str, not_before: date | None = None
) -> date:
    today = clock.today(township_id)
    day = day or today
    earliest = date(int(current_app.config.get("EARLIEST_YEAR", 2000)), 1, 1)
    if day > today:
        raise ProxyError(_("%(field)s cannot be in the future.", field=label))
    if day < earliest:
        raise ProxyError(_("%(field)s is before %(year)s.", field=label, year=earliest.year))
    if not_before is not None and day < not_before:
        raise ProxyError(
            _("%(field)s cannot be before %(day)s.", field=label, day=not_before.isoformat())
        )
    return day


def _require(user: User, permission: str, township_id: int) -> None:
    if not can(user, permission, township_id):
        raise ProxyError(_("You may not do this in this township."))


def _open(record: ProxyRecord) -> None:
    if record.status != ProxyStatus.open:
        raise ProxyError(_("This proxy record is already delivered."))


def parse_materials(raw: str) -> list[tuple[str, int, bool]]:
    """Materials from a textarea, one a line: ``户口簿 原件 1`` → (name, copies, original).

    A trailing number is the number of copies; the word 原件 (original) marks an original.
    """
    items = []
    for line in (raw or "").splitlines():
        line = line.strip()
        if not line:
            continue
        parts = line.split()
        copies = 1
        if len(parts) > 1 and parts[-1].isdigit():
            copies = int(parts.pop())
        original = False
        if len(parts) > 1 and parts[-1] in ("原件", "original"):
            original = True
            parts.pop()
        items.append((" ".join(parts), copies, original))
    return items


# ---------------------------------------------------------------------------
# The course of a proxy record
# ---------------------------------------------------------------------------


def take_over(
    case: Case,
    *,
    staff: User,
    leader: User,
    reason: ProxyReason | str,
    materials: list[tuple[str, int, bool]],
    promised_on: date | None = None,
    taken_on: date | None = None,
) -> ProxyRecord:
    """The receiving staff takes a case over as a proxy record with the materials received."""
    tid = case.township_id
    _require(staff, WRITE, tid)
    if not can(leader, SIGN_OFF, tid):
        raise ProxyError(_("The supervising leader must be a leader of this township."))
    if db.session.scalar(select(ProxyRecord.id).where(ProxyRecord.case_id == case.id)):
        raise ProxyError(_("This case already has a proxy record."))
    if case.status == CaseStatus.closed:
        raise ProxyError(_("A closed case cannot be taken over."))
    try:
        reason = ProxyReason(reason)
    except ValueError as exc:
        raise ProxyError(_("Choose why the matter is taken over.")) from exc
    if not materials:
        raise ProxyError(_("List at least one material the citizen handed over."))
    for name, copies, _original in materials:
        _text(name, 200, _("A material's name"))
        if not 1 <= copies <= 99:
            raise ProxyError(_("Copies must be between 1 and 99."))
    taken_on = _past_date(taken_on, tid, _("The date taken over"), not_before=case.received_on)
    promised_on = promised_on or case.due_on or taken_on
    if promised_on < taken_on:
        raise ProxyError(_("The promised delivery date cannot be before the date taken over."))
    record = ProxyRecord(
        township_id=tid,
        case_id=case.id,
        taken_by_id=staff.id,
        leader_id=leader.id,
        reason=reason,
        taken_on=taken_on,
        promised_on=promised_on,
    )
    db.session.add(record)
    db.session.flush()
    for name, copies, original in materials:
        db.session.add(
            ProxyMaterial(
                township_id=tid,
                record_id=record.id,
                name=name.strip(),
                copies=copies,
                original=original,
            )
        )
    _announce(record, [staff], INBOX_IN_HAND)
    db.session.commit()
    return record


def _announce(record: ProxyRecord, users: list[User], source: str) -> None:
    with force_locale(current_app.config["DEFAULT_LOCALE"]):
        if source == INBOX_IN_HAND:
            title = _("Proxy record: %(title)s", title=record.case.title)
        else:
            title = _("Proxy record to sign off: %(title)s", title=record.case.title)
    announce(
        users,
        source,
        record.id,
        shorten(title, 190)[0],
        township_id=record.township_id,
        link=link("proxy_records.details_view", id=record.id),
    )


def set_material_fate(
    material: ProxyMaterial, fate: MaterialFate | str, by: User, on: date | None = None
) -> ProxyMaterial:
    """A material was returned to the citizen or passed on to the deciding office."""
    record = material.record
    _require(by, WRITE, record.township_id)
    _open(record)
    try:
        fate = MaterialFate(fate)
    except ValueError as exc:
        raise ProxyError(_("Choose what became of the material.")) from exc
    material.fate = fate
    material.fate_on = (
        None
        if fate == MaterialFate.held
        else _past_date(on, record.township_id, _("The date"), not_before=record.taken_on)
    )
    db.session.commit()
    return material


def send_on(
    record: ProxyRecord,
    *,
    office: str,
    by: User,
    sent_on: date | None = None,
    expected_on: date | None = None,
) -> ProxyTransfer:
    """The matter went to a (county) office; ``expected_on`` is when it should be back."""
    _require(by, WRITE, record.township_id)
    _open(record)
    office = _text(office, 200, _("The office"))
    sent_on = _past_date(
        sent_on, record.township_id, _("The date sent"), not_before=record.taken_on
    )
    if expected_on is None:
        raise ProxyError(_("Say when the office should be done."))
    if expected_on < sent_on:
        raise ProxyError(_("The expected date cannot be before the date sent."))
    if any(t.back_on is None for t in record.transfers):
        raise ProxyError(_("The matter is still at another office; record its return first."))
    transfer = ProxyTransfer(
        township_id=record.township_id,
        record_id=record.id,
        office=office,
        sent_on=sent_on,
        expected_on=expected_on,
    )
    db.session.add(transfer)
    db.session.commit()
    return transfer


def came_back(
    transfer: ProxyTransfer, *, by: User, back_on: date | None = None, result: str = ""
) -> ProxyTransfer:
    """The office finished; the papers are back at the township."""
    record = transfer.record
    _require(by, WRITE, record.township_id)
    _open(record)
    if transfer.back_on is not None:
        raise ProxyError(_("This step is already back."))
    transfer.back_on = _past_date(
        back_on, record.township_id, _("The date back"), not_before=transfer.sent_on
    )
    transfer.result = _text(result, 2000, _("The result"), required=False) or None
    db.session.commit()
    return transfer


def add_note(record: ProxyRecord, *, text: str, by: User, on: date | None = None) -> ProxyNote:
    """A progress note (the citizen reads it under the receipt)."""
    _require(by, WRITE, record.township_id)
    note = ProxyNote(
        township_id=record.township_id,
        record_id=record.id,
        noted_on=_past_date(on, record.township_id, _("The date"), not_before=record.taken_on),
        text=_text(text, 1000, _("The note")),
        by_id=by.id,
    )
    db.session.add(note)
    db.session.commit()
    return note


def check_ack(data: bytes | None, mime: str | None) -> str:
    """The acknowledgement must be a JPEG or PNG image of at most 2 MB whose content matches
    its declared type; returns the type."""
    mime = (mime or "").split(";")[0].strip().lower()
    if not data:
        raise ProxyError(_("Attach the citizen's acknowledgement (a photo or a signature image)."))
    if len(data) > ACK_MAX_BYTES:
        raise ProxyError(_("The acknowledgement image is larger than 2 MB."))
    signature = ACK_TYPES.get(mime)
    if signature is None or not data.startswith(signature):
        raise ProxyError(_("The acknowledgement must be a JPEG or PNG image."))
    return mime


def deliver(
    record: ProxyRecord,
    *,
    by: User,
    what: str,
    ack_kind: AckKind | str,
    data: bytes | None,
    mime: str | None,
    delivered_on: date | None = None,
) -> ProxyDelivery:
    """The papers reached the citizen's home (送达). Every material must have been returned or
    passed on and every office step be back. If the case is resolved, the core records its
    delivery in the same transaction."""
    _require(by, WRITE, record.township_id)
    _open(record)
    what = _text(what, 2000, _("What was delivered"))
    try:
        ack_kind = AckKind(ack_kind)
    except ValueError as exc:
        raise ProxyError(_("Say whether the acknowledgement is a photo or a signature.")) from exc
    mime = check_ack(data, mime)
    held = [m.name for m in record.materials if m.fate == MaterialFate.held]
    if held:
        raise ProxyError(
            _(
                "Say whether these materials were returned or passed on: %(names)s",
                names="、".join(held),
            )
        )
    if any(t.back_on is None for t in record.transfers):
        raise ProxyError(_("The matter is still at another office; record its return first."))
    delivered_on = _past_date(
        delivered_on, record.township_id, _("The delivery date"), not_before=record.taken_on
    )
    delivery = ProxyDelivery(
        township_id=record.township_id,
        record_id=record.id,
        delivered_on=delivered_on,
        by_id=by.id,
        what=what,
        ack_kind=ack_kind,
        ack_mime=mime,
        ack_size=len(data),
        ack_image=data,
    )
    db.session.add(delivery)
    record.status = ProxyStatus.delivered
    record.delivered_on = delivered_on
    db.session.flush()
    _announce(record, [record.leader], INBOX_SIGN_OFF)
    case = record.case
    if case.status == CaseStatus.resolved:
        try:
            deliver_case(case, by, _("Delivered to the citizen's home: %(what)s", what=what))
        except CaseError as exc:  # pragma: no cover - the status was just checked
            db.session.rollback()
            raise ProxyError(str(exc)) from exc
    else:
        db.session.commit()
    return delivery


def sign_off(record: ProxyRecord, *, leader: User, note: str = "") -> ProxyRecord:
    """The supervising leader (or another leader of the township) signs the record off; it
    goes to the archive."""
    from core.records import produce

    if not can(leader, SIGN_OFF, record.township_id):
        raise ProxyError(_("Only a leader of the township can sign a proxy record off."))
    if record.status != ProxyStatus.delivered:
        raise ProxyError(_("Only a delivered proxy record can be signed off."))
    record.status = ProxyStatus.signed_off
    record.signed_off_by_id = leader.id
    record.signed_off_at = utcnow()
    record.sign_off_note = _text(note, 2000, _("The note"), required=False) or None
    db.session.flush()
    produce(record.case.township, archival_record(record, leader))
    db.session.commit()
    return record


def archival_record(record: ProxyRecord, leader: User) -> ArchivalRecord:
    steps = public_steps(record)
    return ArchivalRecord(
        source=KEY,
        reference=f"proxy-record:{record.id}",
        kind="proxy_record",
        title=f"代办单 {record.case.receipt_no} {record.case.title}",
        produced_at=record.signed_off_at or utcnow(),
        summary=f"{record.taken_by.name} 代办，{leader.name} 签字确认",
        url=link("proxy_records.details_view", id=record.id),
        responsible=record.case.township.name,
        retention_hint="10y",
        trail=tuple({"at": str(s.on), "who": "", "what": s.label, "note": s.note} for s in steps),
    )


# ---------------------------------------------------------------------------
# What the citizen sees under the receipt
# ---------------------------------------------------------------------------


def public_steps(record: ProxyRecord) -> list[ReceiptStep]:
    """The course of a proxy record in dated steps, nothing personal beyond the office names."""
    steps = [
        ReceiptStep(
            record.taken_on,
            _("Taken over for you (%(n)s materials received)", n=len(record.materials)),
        )
    ]
    for t in record.transfers:
        steps.append(ReceiptStep(t.sent_on, _("Sent to %(office)s", office=t.office)))
        if t.back_on:
            steps.append(ReceiptStep(t.back_on, _("Back from %(office)s", office=t.office)))
    for m in record.materials:
        if m.fate != MaterialFate.held and m.fate_on:
            steps.append(ReceiptStep(m.fate_on, f"{m.name}: {m.fate.label}"))
    for n in record.notes:
        steps.append(ReceiptStep(n.noted_on, _("Progress note"), n.text))
    if record.delivered_on:
        steps.append(ReceiptStep(record.delivered_on, _("Delivered to your home")))
    if record.signed_off_at:
        steps.append(
            ReceiptStep(
                clock.local(record.signed_off_at, record.township_id).date(),
                _("Signed off by the supervising leader"),
            )
        )
    return sorted(steps, key=lambda s: s.on)


def record_of_case(case_id: int) -> ProxyRecord | None:
    return db.session.scalar(select(ProxyRecord).where(ProxyRecord.case_id == case_id))


# ---------------------------------------------------------------------------
# Overdue steps
# ---------------------------------------------------------------------------


def overdue_steps(township_ids: set[int]) -> list[tuple[str, int, str]]:
    """(kind, id, due date) of steps past their day: office steps not back by the expected
    day, and records not delivered by the promised day (two queries)."""
    if not township_ids:
        return []
    out: list[tuple[str, int, str]] = []
    for tid_set_day, ids in clock.today_groups(township_ids).items():
        for tid, due in db.session.execute(
            select(ProxyTransfer.id, ProxyTransfer.expected_on)
            .join(ProxyRecord, ProxyRecord.id == ProxyTransfer.record_id)
            .where(
                ProxyTransfer.township_id.in_(ids),
                ProxyTransfer.back_on.is_(None),
                ProxyTransfer.expected_on < tid_set_day,
                ProxyRecord.status == ProxyStatus.open,
            )
        ):
            out.append(("transfer", tid, due.isoformat()))
        for rid, due in db.session.execute(
            select(ProxyRecord.id, ProxyRecord.promised_on).where(
                ProxyRecord.township_id.in_(ids),
                ProxyRecord.status == ProxyStatus.open,
                ProxyRecord.promised_on < tid_set_day,
            )
        ):
            out.append(("record", rid, due.isoformat()))
    return out


# ---------------------------------------------------------------------------
# Report per staff member and month
# ---------------------------------------------------------------------------


@dataclass
class StaffMonth:
    user_id: int
    name: str
    taken: int = 0
    delivered: int = 0
    on_time: int = 0
    late: int = 0
    open_overdue: int = 0
    records: list[int] = field(default_factory=list)


def staff_month_report(township_id: int, year: int, month: int) -> list[StaffMonth]:
    """Per staff member: records taken over in the month, delivered in the month (on time
    = on or before the promised day, or late), and records still open past their promised
    day (one query)."""
    first = date(year, month, 1)
    after = date(year + (month == 12), month % 12 + 1, 1)
    today = clock.today(township_id)
    rows = db.session.execute(
        select(
            ProxyRecord.id,
            ProxyRecord.taken_by_id,
            User.name,
            ProxyRecord.taken_on,
            ProxyRecord.promised_on,
            ProxyRecord.delivered_on,
            ProxyRecord.status,
        )
        .join(User, User.id == ProxyRecord.taken_by_id)
        .where(
            ProxyRecord.township_id == township_id,
            (
                (ProxyRecord.taken_on >= first) & (ProxyRecord.taken_on < after)
                | (ProxyRecord.delivered_on >= first) & (ProxyRecord.delivered_on < after)
                | (ProxyRecord.status == ProxyStatus.open) & (ProxyRecord.taken_on < after)
            ),
        )
    )
    people: dict[int, StaffMonth] = {}
    for rid, uid, name, taken_on, promised_on, delivered_on, status in rows:
        row = people.setdefault(uid, StaffMonth(uid, name))
        if first <= taken_on < after:
            row.taken += 1
        if delivered_on and first <= delivered_on < after:
            row.delivered += 1
            if delivered_on <= promised_on:
                row.on_time += 1
            else:
                row.late += 1
        if status == ProxyStatus.open and promised_on < min(today, after):
            row.open_overdue += 1
        row.records.append(rid)
    return sorted(people.values(), key=lambda r: r.name)


def open_counts(townships: list[OrgUnit]) -> dict[int, tuple[int, int]]:
    """(open records, of which past their promised day) of each township, by township id,
    for the dashboard; "past" by each township's own today. One grouped query whatever the
    number of townships."""
    for township in townships:
        clock.zone_name(township)  # the zone is read from the row: no query for it below
    ids = {t.id for t in townships}
    counts = {tid: (0, 0) for tid in ids}
    if not ids:
        return counts
    late = sql_case(
        (clock.before_today(ProxyRecord.promised_on, ProxyRecord.township_id, ids), 1), else_=0
    )
    for tid, open_count, late_count in db.session.execute(
        select(ProxyRecord.township_id, func.count(ProxyRecord.id), func.sum(late))
        .where(ProxyRecord.township_id.in_(ids), ProxyRecord.status == ProxyStatus.open)
        .group_by(ProxyRecord.township_id)
    ):
        counts[tid] = (int(open_count), int(late_count or 0))
    return counts
