"""Records for the archive (立卷归档): institutions hand them over, the core keeps them.

:func:`produce` is how an institution hands over a finished record (a published
release batch, a session record, a hearing's minutes): the core stores it frozen in
``core_record`` (once per source and reference) and tells the plugins the township
enabled through ``township_record_produced``, in the producer's transaction. Closed
cases are handed over by the core itself (:func:`case_record`).

Because the core keeps every record, an archives institution enabled later files
what was produced before it: it reads :func:`records_since` for its township.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import select

from core import clock
from core.contract import ArchivalRecord
from core.db import db
from core.models import Case, CaseEvent, OrgUnit, ProducedRecord


def _data(record: ArchivalRecord) -> dict[str, Any]:
    data = dataclasses.asdict(record)
    for key in ("source", "reference", "kind", "title", "produced_at"):
        data.pop(key)
    data["trail"] = list(record.trail)
    return data


def as_record(row: ProducedRecord) -> ArchivalRecord:
    """The stored row as the :class:`ArchivalRecord` that was handed over."""
    data = dict(row.data)
    data["trail"] = tuple(data.get("trail") or ())
    return ArchivalRecord(
        source=row.source,
        reference=row.reference,
        kind=row.kind,
        title=row.title,
        produced_at=row.produced_at,
        **data,
    )


def produce(township: OrgUnit, record: ArchivalRecord) -> bool:
    """Keep ``record`` and tell the township's enabled institutions (in the caller's
    transaction; the caller commits). A reference handed over before is ignored:
    returns whether it was new."""
    from core.institutions import enabled_hook

    exists = db.session.scalar(
        select(ProducedRecord.id).where(
            ProducedRecord.source == record.source, ProducedRecord.reference == record.reference
        )
    )
    if exists is not None:
        return False
    db.session.add(
        ProducedRecord(
            township_id=township.id,
            source=record.source,
            reference=record.reference,
            kind=record.kind,
            title=record.title[:300],
            produced_at=record.produced_at,
            data=_data(record),
        )
    )
    db.session.flush()
    enabled_hook("township_record_produced", township.id)(township=township, record=record)
    return True


def records_since(
    township_id: int, after_id: int = 0, batch: int = 500
) -> Iterator[ProducedRecord]:
    """Every record of a township kept after row ``after_id``, oldest first, a batch at a time."""
    last = after_id
    while True:
        rows = db.session.scalars(
            select(ProducedRecord)
            .where(ProducedRecord.township_id == township_id, ProducedRecord.id > last)
            .order_by(ProducedRecord.id)
            .limit(batch)
        ).all()
        if not rows:
            return
        yield from rows
        last = rows[-1].id


def in_product_language(text) -> str:
    """``text`` (a lazy string or a label) in the product's default language: records are
    documents and keep the words they were filed with, whoever's request filed them."""
    from flask import current_app
    from flask_babel import force_locale

    with force_locale(current_app.config.get("DEFAULT_LOCALE", "zh_CN")):
        return str(text() if callable(text) else text)


def _trail_word(action: str) -> str:
    """A case trail action in words, in the product's default language (records are
    documents: they keep the words they were filed with)."""
    from flask import current_app
    from flask_babel import force_locale

    from core.cases import EVENT_LABELS

    label = EVENT_LABELS.get(action)
    if label is None:
        return action
    with force_locale(current_app.config.get("DEFAULT_LOCALE", "zh_CN")):
        return str(label)


def case_record(case: Case, closed_at: datetime) -> ArchivalRecord:
    """A closed case as a record: its fields and its whole trail, frozen as they are now."""
    from markupsafe import escape

    from core.labels import display
    from core.plugins import state

    kind = state().case_kinds.get(case.kind)
    owner = case.kind.split(".", 1)[0] if "." in case.kind else "core"
    events = db.session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)
    ).all()
    rows = [
        ("回执号 Receipt", case.receipt_no),
        ("事项 Title", case.title),
        ("申请人 Applicant", case.applicant_name),
        ("受理日期 Accepted on", display(case.accepted_on)),
        ("办理期限 Due on", display(case.due_on)),
        ("办理结果 Result", case.result or ""),
        ("送达 Delivery", case.delivery_note or ""),
    ]
    content = "".join(
        f"<tr><th>{escape(label)}</th><td>{escape(value)}</td></tr>" for label, value in rows
    )
    return ArchivalRecord(
        source=owner,
        reference=f"case:{case.id}:{closed_at.isoformat()}",
        kind=f"case:{case.kind}",
        title=case.title,
        produced_at=closed_at,
        summary=f"{case.receipt_no} {kind.label if kind else case.kind}",
        responsible=case.handler.name if case.handler else case.first_responder.name,
        doc_number=case.receipt_no,
        class_hint=kind.archive_class if kind else None,
        content=f"<table class='record'>{content}</table>",
        trail=tuple(
            {
                # a frozen document: the time in the township's zone and the action in
                # words (the product's language), the code kept beside them
                "at": clock.format_datetime(e.at, case.township),
                "who": e.actor.name if e.actor else "",
                "what": _trail_word(e.action),
                "action": e.action,
                "note": e.note or "",
                "before": e.before,
                "after": e.after,
            }
            for e in events
        ),
    )
