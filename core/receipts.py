"""Receipts (回执): the number a citizen leaves with, and what they see under it.

Every institution that takes something from a citizen (a case, a topic request, a
petition, an appointment card ...) gives a receipt number. The public lookup and
the printed receipt find any number through one hook, ``township_find_receipt``:
the institution that issued it answers with a :class:`~core.contract.PublicReceipt`
(status and dates, nothing personal). The core answers for cases (a ``trylast``
default) and checks that the answering institution is enabled for the receipt's
township. ``township_receipt_sections`` lets institutions add to what the citizen
sees under a receipt (a rating form, a delivery's progress).

The printed receipt (A5) carries a QR code (drawn as SVG by ``segno``) that opens
the public lookup at ``PUBLIC_BASE_URL``.

The lookup is cached for anonymous visitors until a receipt changes: an institution
whose receipts are not cases names the models they show with :func:`watch_receipts`.
"""

from __future__ import annotations

import io
import re

from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import select

from core import clock
from core.contract import PublicReceipt, ReceiptSection, ReceiptStep
from core.db import db
from core.models import OPEN_STATUSES, Case, CaseEvent, CaseStatus


def watch_receipts(*models) -> None:
    """The public lookup shows rows of ``models`` (an institution's own receipts): a
    commit that writes one refreshes the cached lookup at once."""
    from core import cache

    for model in models:
        cache.watch(model, cache.ANY_CASE)


#: what a receipt number may look like (the core's: ``EAST-250124-K7M2Q9XA``)
RECEIPT_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9_-]{2,39}$")

#: trail actions a citizen sees under a case's receipt (notes and names stay inside)
PUBLIC_ACTIONS = (
    "registered",
    "accepted",
    "forwarded",
    "paused",
    "resumed",
    "extended",
    "resolved",
    "delivered",
    "closed",
    "reopened",
)


def normalise(receipt_no: str | None) -> str:
    return (receipt_no or "").strip().upper()


def is_well_formed(receipt_no: str) -> bool:
    return bool(RECEIPT_PATTERN.match(receipt_no))


def find(receipt_no: str) -> PublicReceipt | None:
    """The receipt with this number from whichever institution issued it, or None (also
    when that institution is no longer enabled for the township)."""
    from core.institutions import is_enabled
    from core.plugins import state

    receipt_no = normalise(receipt_no)
    if not is_well_formed(receipt_no):
        return None
    found = state().hook.township_find_receipt(receipt_no=receipt_no)
    if found is None or not is_enabled(found.township.id, found.source):
        return None
    return found


def sections(receipt: PublicReceipt) -> list[ReceiptSection]:
    """What the township's enabled institutions add under the receipt, in order."""
    from core.institutions import enabled_hook

    caller = enabled_hook("township_receipt_sections", receipt.township.id)
    found = [s for group in caller(receipt=receipt) for s in group or ()]
    return sorted(found, key=lambda s: s.order)


def qr_svg(url: str, scale: int = 3) -> Markup:
    """A QR code for ``url`` as inline SVG (no image file, no network)."""
    import segno

    out = io.BytesIO()
    segno.make(url, error="m").save(
        out, kind="svg", xmldecl=False, svgns=True, scale=scale, border=2, svgclass="qr"
    )
    return Markup(out.getvalue().decode("utf-8"))


def lookup_url(receipt_no: str) -> str:
    """The absolute public lookup URL of a receipt (what the QR code opens)."""
    from urllib.parse import quote

    from core.links import public_url

    return public_url(f"/lookup?receipt={quote(receipt_no)}")


# ---------------------------------------------------------------------------
# The core's answer: cases
# ---------------------------------------------------------------------------


def due_explained(case: Case) -> str:
    """How a case's due date was counted, in words."""
    from core.cases import UNIT_LABELS

    if case.limit_amount is None or case.limit_unit is None:
        return _("The time limit starts when the case is accepted.")
    text = _(
        "%(n)s %(unit)s, counted from the day after acceptance",
        n=case.limit_amount,
        unit=UNIT_LABELS[case.limit_unit],
    )
    if case.paused_working_days:
        text += _(
            "; %(n)s working days added while waiting for the citizen",
            n=case.paused_working_days,
        )
    return text


def case_receipt(case: Case) -> PublicReceipt:
    """A case's public receipt: kind, status, dates, who answers for it, its public steps."""
    from core.cases import EVENT_LABELS, case_kind

    events = db.session.scalars(
        select(CaseEvent)
        .where(CaseEvent.case_id == case.id, CaseEvent.action.in_(PUBLIC_ACTIONS))
        .order_by(CaseEvent.id)
    ).all()
    from core.app import current_locale

    kind = case_kind(case.kind)
    responsible = case.handler or case.first_responder
    return PublicReceipt(
        receipt_no=case.receipt_no,
        township=case.township,
        source=case.kind.split(".", 1)[0] if "." in case.kind else "core",
        kind_label=kind.label_en if current_locale() == "en" else kind.label,
        status_label=CaseStatus(case.status).label,
        received_on=case.received_on,
        due_on=case.due_on,
        due_explained=due_explained(case),
        department=case.department.name if case.department else None,
        responsible=responsible.name if responsible else None,
        contact=responsible.phone if responsible else None,
        steps=[
            ReceiptStep(clock.local(e.at, case.township), str(EVENT_LABELS.get(e.action, e.action)))
            for e in events
        ],
        finished=case.status not in OPEN_STATUSES and case.status != CaseStatus.waiting,
        obj=case,
        staff_title=case.title,
        staff_applicant=case.applicant_name,
    )


def find_case_receipt(receipt_no: str) -> PublicReceipt | None:
    case = db.session.scalar(select(Case).where(Case.receipt_no == receipt_no))
    return case_receipt(case) if case is not None else None
