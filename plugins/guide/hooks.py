"""What the guide does when the core calls it: the public panel, the section under a
case's receipt."""

from __future__ import annotations

from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import func, select

from core.contract import PublicSection, ReceiptSection
from core.db import db
from core.links import link
from core.models import Case, OrgUnit
from plugins.guide.models import GuideCaseMatter, GuideFee, GuideServiceHall, yuan


def public_sections(township: OrgUnit) -> list[PublicSection]:
    """The service hall's address, hours and phone, and a link to the guide (one query)."""
    hall = db.session.scalar(
        select(GuideServiceHall).where(GuideServiceHall.township_id == township.id)
    )
    parts = []
    if hall is not None:
        parts.append(
            Markup(
                '<dl class="row mb-0" id="service-hall">'
                '<dt class="col-sm-3">{}</dt><dd class="col-sm-9">{}</dd>'
                '<dt class="col-sm-3">{}</dt><dd class="col-sm-9">{}</dd>'
                '<dt class="col-sm-3">{}</dt><dd class="col-sm-9">{}</dd></dl>'
            ).format(
                _("Address"), hall.address, _("Opening hours"), hall.hours, _("Phone"), hall.phone
            )
        )
    guide = link("guide.index", township=township.code)
    if guide:
        parts.append(
            Markup('<p class="mb-0"><a href="{}">{}</a></p>').format(
                guide, _("Service guide: what can be done where, in how long, at what fee")
            )
        )
    return [PublicSection(_("Service hall"), Markup("").join(parts), order=10)]


def receipt_sections(receipt) -> list[ReceiptSection]:
    """Under a case's receipt: the matter of the guide, its fee standard and the fees charged."""
    case = receipt.obj
    if not isinstance(case, Case):
        return []
    found = db.session.scalar(select(GuideCaseMatter).where(GuideCaseMatter.case_id == case.id))
    if found is None:
        return []
    charged = db.session.scalar(
        select(func.coalesce(func.sum(GuideFee.amount_fen), 0)).where(GuideFee.case_id == case.id)
    )
    notice = link("guide.notice", township=receipt.township.code, matter_id=found.matter_id)
    html = Markup(
        '<dl class="row mb-0" id="guide-receipt">'
        '<dt class="col-sm-4">{}</dt><dd class="col-sm-8">{}</dd>'
        '<dt class="col-sm-4">{}</dt><dd class="col-sm-8">{}</dd>'
        '<dt class="col-sm-4">{}</dt><dd class="col-sm-8" id="guide-fee-charged">{}</dd></dl>'
    ).format(
        _("Matter"),
        found.matter.name,
        _("Fee standard"),
        _("%(n)s yuan", n=found.fee_standard) if found.fee_standard_fen else _("Free"),
        _("Fees charged"),
        _("%(n)s yuan", n=yuan(charged)),
    )
    if notice:
        html += Markup('<p class="mb-0 no-print"><a href="{}">{}</a></p>').format(
            notice, _("Printable notice")
        )
    return [ReceiptSection(_("Service guide"), html, order=20)]
