"""What the plugin does when the core calls it: enabling, dashboard figures."""

from __future__ import annotations

from flask import has_request_context, url_for
from flask_babel import gettext as _
from werkzeug.routing import BuildError

from core import clock
from core.contract import DashboardFigure
from core.db import db
from core.institutions import is_enabled
from core.models import OrgUnit
from plugins.releases import services


def on_enabled(township: OrgUnit) -> None:
    """A township adopted the institution: the default monthly plan and the rule book's
    disclosure categories (idempotent); commits."""
    services.ensure_plan(township.id)
    services.ensure_categories(township.id)
    db.session.commit()


def _link(endpoint: str) -> str | None:
    if not has_request_context():
        return None
    try:
        return url_for(endpoint)
    except BuildError:
        return None


def dashboard_figures(township: OrgUnit) -> list[DashboardFigure]:
    """This month's releases against the policy, and open topic requests (three queries).

    Nothing for a township that has not enabled the institution (the dashboard asks
    only enabling townships' plugins, but a direct hook call asks everyone).
    """
    if not is_enabled(township.id, services.KEY):
        return []
    compliance = services.monthly_compliance(township)
    open_count, first_due = services.open_topic_summary(township.id)
    figures = [
        DashboardFigure(
            label=_("Releases this month (required %(n)d)", n=compliance.required),
            value=compliance.releases,
            link=_link("releases_batches.index_view"),
            level="success" if compliance.met else "warning",
        ),
        DashboardFigure(
            label=_("Open topic requests"),
            value=(
                _("%(n)d, first due %(due)s", n=open_count, due=first_due)
                if first_due
                else open_count
            ),
            link=_link("releases_topics.index_view"),
            level=(
                "danger"
                if first_due and first_due < clock.today(township)
                else ("info" if open_count == 0 else "warning")
            ),
        ),
    ]
    return figures
