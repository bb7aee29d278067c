"""What the supervision institution answers when the core asks: inbox sources, the staff
page's "report a problem" link, dashboard figures."""

from __future__ import annotations

from datetime import date

from flask import has_request_context, url_for
from flask_babel import gettext as _
from sqlalchemy import Date, and_, case, cast, func, null, or_, select
from werkzeug.routing import BuildError

from core import clock
from core.access import township_ids_with
from core.contract import DashboardFigure, InboxSource, PublicLink
from core.db import db
from core.institutions import is_enabled
from core.links import link
from core.models import OrgUnit, User
from plugins.supervision import services
from plugins.supervision.models import OPEN_FINDINGS, FindingStatus, SupervisionFinding


def _columns(title, since, due):
    return (
        SupervisionFinding.id.label("object_id"),
        title.label("title"),
        SupervisionFinding.township_id.label("township_id"),
        since.label("since"),
        due.label("due_on"),
    )


def inbox_sources(user: User, township_ids: set[int]) -> list[InboxSource]:
    """Findings waiting for the leading group, remedies for their owners, remedies to verify."""
    sources = []
    leading = township_ids_with(user, services.LEAD) & township_ids
    if leading:
        sources.append(
            InboxSource(
                services.INBOX_RAISED,
                "服务监督问题待领导班子处理",
                "Supervision finding for the leading group",
                select(
                    *_columns(
                        SupervisionFinding.evidence,
                        SupervisionFinding.created_at,
                        cast(null(), Date),
                    )
                ).where(
                    SupervisionFinding.status == FindingStatus.raised,
                    SupervisionFinding.township_id.in_(leading),
                ),
                "supervision_findings.handle_view",
            )
        )
    sources.append(
        InboxSource(
            services.INBOX_REMEDY,
            "服务监督问题待整改",
            "Supervision remedy to carry out",
            select(
                *_columns(
                    SupervisionFinding.remedy_measure,
                    SupervisionFinding.remedy_assigned_at,
                    SupervisionFinding.remedy_deadline,
                )
            ).where(
                SupervisionFinding.status == FindingStatus.remedying,
                SupervisionFinding.remedy_owner_id == user.id,
            ),
            "supervision_findings.handle_view",
        )
    )
    verifying = township_ids_with(user, services.VERIFY) & township_ids
    if verifying:
        sources.append(
            InboxSource(
                services.INBOX_VERIFY,
                "服务监督整改待核实",
                "Supervision remedy to verify",
                select(
                    *_columns(
                        SupervisionFinding.remedy_done_note,
                        SupervisionFinding.remedy_done_at,
                        cast(null(), Date),
                    )
                ).where(
                    SupervisionFinding.status == FindingStatus.remedied,
                    SupervisionFinding.township_id.in_(verifying),
                    SupervisionFinding.remedy_owner_id != user.id,
                ),
                "supervision_findings.handle_view",
            )
        )
    return sources


def staff_links(township: OrgUnit, user: User) -> list[PublicLink]:
    url = link("supervision.report", township=township.code, staff=user.id)
    return [PublicLink(_("Report a problem"), url, order=20)] if url else []


def county_dashboard_figures(townships: list[OrgUnit]) -> dict[int, list[DashboardFigure]]:
    """Each township's open findings and overdue remedies (each by its own today), by
    township id, in one query."""
    figures: dict[int, list[DashboardFigure]] = {t.id: [] for t in townships}
    days: dict[date, list[int]] = {}
    for township in townships:
        if is_enabled(township.id, services.KEY):
            days.setdefault(clock.today(township), []).append(township.id)
    if not days:
        return figures
    overdue_now = or_(
        *(
            and_(
                SupervisionFinding.township_id.in_(ids),
                SupervisionFinding.remedy_deadline < today,
            )
            for today, ids in days.items()
        )
    )
    counts = {
        tid: (int(open_count or 0), int(overdue or 0))
        for tid, open_count, overdue in db.session.execute(
            select(
                SupervisionFinding.township_id,
                func.sum(case((SupervisionFinding.status.in_(OPEN_FINDINGS), 1), else_=0)),
                func.sum(
                    case(
                        (
                            (SupervisionFinding.status == FindingStatus.remedying) & overdue_now,
                            1,
                        ),
                        else_=0,
                    )
                ),
            )
            .where(SupervisionFinding.township_id.in_([t for ids in days.values() for t in ids]))
            .group_by(SupervisionFinding.township_id)
        )
    }
    target = None
    if has_request_context():
        try:
            target = url_for("supervision_findings.index_view")
        except BuildError:
            target = None
    for ids in days.values():
        for tid in ids:
            open_count, overdue = counts.get(tid, (0, 0))
            figures[tid] = [
                DashboardFigure(
                    label=_("Open supervision findings (remedies overdue)"),
                    value=f"{open_count} ({overdue})",
                    link=target,
                    level="danger" if overdue else ("warning" if open_count else "success"),
                )
            ]
    return figures
