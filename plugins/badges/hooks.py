"""What the badge institution does when the core calls it: panels, figures, enabling."""

from __future__ import annotations

from flask import has_request_context, url_for
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import case, func, select
from werkzeug.routing import BuildError

from core.contract import DashboardFigure, PublicSection
from core.db import db
from core.models import OrgUnit
from plugins.badges import services
from plugins.badges.models import BadgeCard


def on_enabled(township: OrgUnit) -> None:
    """A township adopted the institution: its numbering scheme (idempotent); commits."""
    services.ensure_numbering(township)
    db.session.commit()


def public_sections(township: OrgUnit) -> list[PublicSection]:
    """ "Who serves you" on the township's public page: how many staff, and the link."""
    count = db.session.scalar(
        select(func.count(BadgeCard.id)).where(
            BadgeCard.township_id == township.id, BadgeCard.active.is_(True)
        )
    )
    try:
        link = url_for("badges.index", township=township.code)
    except (BuildError, RuntimeError):
        return []
    html = Markup(
        '<p class="mb-1">{}</p><a class="btn btn-outline-primary btn-sm" id="badges-public-link" '
        'href="{}">{}</a>'
    ).format(
        _("%(n)s staff members on duty wear their badge.", n=count or 0),
        link,
        _("See who serves you"),
    )
    return [PublicSection(_("Who serves you"), html, order=20)]


def county_dashboard_figures(townships: list[OrgUnit]) -> dict[int, list[DashboardFigure]]:
    """Each township's cards on duty, and how many lack a photo (one grouped query)."""
    ids = [t.id for t in townships]
    counts = {
        tid: (int(on_duty or 0), int(without_photo or 0))
        for tid, on_duty, without_photo in db.session.execute(
            select(
                BadgeCard.township_id,
                func.count(BadgeCard.id),
                func.sum(case((BadgeCard.photo_id.is_(None), 1), else_=0)),
            )
            .where(BadgeCard.township_id.in_(ids), BadgeCard.active.is_(True))
            .group_by(BadgeCard.township_id)
        )
    }
    link = None
    if has_request_context():
        try:
            link = url_for("badges_cards.index_view")
        except BuildError:
            link = None
    figures: dict[int, list[DashboardFigure]] = {}
    for tid in ids:
        on_duty, without_photo = counts.get(tid, (0, 0))
        figures[tid] = [
            DashboardFigure(
                label=_("Staff cards on duty (without photo)"),
                value=f"{on_duty} ({without_photo})",
                link=link,
                level="warning" if without_photo else "success",
            )
        ]
    return figures
