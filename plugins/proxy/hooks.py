"""What proxy handling does when the core calls it: inbox sources, the progress under a
case's receipt."""

from __future__ import annotations

from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import Date, cast, null, select

from core.access import township_ids_with
from core.contract import InboxSource, ReceiptSection
from core.models import Case, User
from plugins.proxy import services
from plugins.proxy.models import ProxyRecord, ProxyStatus


def inbox_sources(user: User, township_ids: set[int]) -> list[InboxSource]:
    """Records in one's hands (due by the promised day) and, for leaders, records delivered
    and waiting for a sign-off."""
    sources = [
        InboxSource(
            services.INBOX_IN_HAND,
            "代办事项",
            "Proxy record in hand",
            select(
                ProxyRecord.id.label("object_id"),
                Case.title.label("title"),
                ProxyRecord.township_id.label("township_id"),
                ProxyRecord.created_at.label("since"),
                ProxyRecord.promised_on.label("due_on"),
            )
            .join(Case, Case.id == ProxyRecord.case_id)
            .where(
                ProxyRecord.taken_by_id == user.id,
                ProxyRecord.status == ProxyStatus.open,
                ProxyRecord.township_id.in_(township_ids),
            ),
            "proxy_records.details_view",
        )
    ]
    signing = township_ids_with(user, services.SIGN_OFF) & township_ids
    if signing:
        sources.append(
            InboxSource(
                services.INBOX_SIGN_OFF,
                "代办单待签字确认",
                "Proxy record to sign off",
                select(
                    ProxyRecord.id.label("object_id"),
                    Case.title.label("title"),
                    ProxyRecord.township_id.label("township_id"),
                    ProxyRecord.created_at.label("since"),
                    cast(null(), Date).label("due_on"),
                )
                .join(Case, Case.id == ProxyRecord.case_id)
                .where(
                    ProxyRecord.status == ProxyStatus.delivered,
                    ProxyRecord.township_id.in_(signing),
                ),
                "proxy_records.details_view",
            )
        )
    return sources


def receipt_sections(receipt) -> list[ReceiptSection]:
    """The proxy record's progress under the case's receipt, step by step."""
    case = receipt.obj
    if not isinstance(case, Case):
        return []
    record = services.record_of_case(case.id)
    if record is None:
        return []
    items = Markup("").join(
        Markup('<li class="proxy-step"><span class="text-nowrap">{}</span> {}{}</li>').format(
            step.on.isoformat(), step.label, Markup("：{}").format(step.note) if step.note else ""
        )
        for step in services.public_steps(record)
    )
    html = Markup('<p class="mb-1">{}</p><ol id="proxy-steps" class="mb-0">{}</ol>').format(
        _("The township handles this matter for you and delivers the result to your home."),
        items,
    )
    return [ReceiptSection(_("Proxy handling"), html, order=30)]
