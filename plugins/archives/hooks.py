"""What the plugin shows when the core calls it: dashboard figures."""

from __future__ import annotations

from flask import has_request_context, url_for
from flask_babel import gettext as _
from markupsafe import Markup
from werkzeug.routing import BuildError

from core.contract import DashboardFigure
from core.institutions import is_enabled
from core.models import OrgUnit
from plugins.archives import services


def _link(endpoint: str) -> str | None:
    if not has_request_context():
        return None
    try:
        return url_for(endpoint)
    except BuildError:
        return None


def county_dashboard_figures(townships: list[OrgUnit]) -> dict[int, list[DashboardFigure]]:
    """Each township's items waiting, lent and overdue, due for appraisal, and this
    year's filing completeness per institution, by township id (four queries for all)."""
    adopting = [t for t in townships if is_enabled(t.id, services.KEY)]
    counted = services.county_figures(adopting)
    answer: dict[int, list[DashboardFigure]] = {t.id: [] for t in townships}
    for township in adopting:
        answer[township.id] = _figures(counted[township.id])
    return answer


def _figures(f: services.Figures) -> list[DashboardFigure]:
    figures = [
        DashboardFigure(
            label=_("Items waiting to be filed"),
            value=f.waiting,
            link=_link("archives_inbox.index_view"),
            level="warning" if f.waiting else "success",
        ),
        DashboardFigure(
            label=_("Archives lent out (overdue)"),
            value=f"{f.lent} ({f.overdue})",
            link=_link("archives_loans.index_view"),
            level="danger" if f.overdue else "info",
        ),
        DashboardFigure(
            label=_("Items due for appraisal"),
            value=f.appraisal,
            link=_link("archives_appraisal.index"),
            level="warning" if f.appraisal else "info",
        ),
    ]
    if f.completeness:
        rows = Markup("").join(
            Markup("<tr><td>{}</td><td>{}</td><td>{}</td><td>{}%</td></tr>").format(
                services.institution_label(source),
                filed,
                total,
                round(100 * filed / total) if total else 100,
            )
            for source, filed, total in f.completeness
        )
        table = Markup(
            '<table class="table table-sm archives-completeness"><thead><tr><th>{}</th><th>{}</th>'
            "<th>{}</th><th>{}</th></tr></thead><tbody>{}</tbody></table>"
        ).format(_("Institution"), _("Filed"), _("Records this year"), _("Complete"), rows)
        figures.append(
            DashboardFigure(label=_("Filing completeness this year"), chart=table, level="info")
        )
    return figures
