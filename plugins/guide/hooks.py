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
    """The service hall's address, hours and phone, today's duty staff (the core's rota:
    the leader in charge and the window staff, names only), and a link to the guide."""
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
                _("Street address"),
                hall.address,
                _("Opening hours"),
                hall.hours,
                _("Phone"),
                hall.phone,
            )
        )
    duty = today_on_duty(township)
    if duty:
        parts.append(
            Markup('<p class="mb-1" id="hall-duty"><strong>{}</strong> {}</p>').format(
                _("On duty today:"), "；".join(f"{post}：{names}" for post, names in duty)
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


def today_on_duty(township: OrgUnit) -> list[tuple[str, str]]:
    """(post, names) of the hall's duty today from the core's rota: the leader in charge and
    the window staff."""
    from core import clock, duty
    from core.models import DutyPost

    posts = (DutyPost.duty_leader, DutyPost.window)
    entries = [e for e in duty.on_duty(township, clock.today(township)) if e.post in posts]
    out = []
    for post in posts:
        names = "、".join(e.user.name for e in entries if e.post is post)
        if names:
            out.append((post.label, names))
    return out


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
