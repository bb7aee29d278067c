"""What the evaluation institution answers when the core asks: inbox sources, the rating
form under a receipt, the staff page's link, figures for the dashboard."""

from __future__ import annotations

from flask import has_request_context, render_template, url_for
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import Date, cast, func, null, or_, select
from werkzeug.routing import BuildError

from core import clock
from core.access import township_ids_with
from core.contract import DashboardFigure, InboxSource, PublicLink, ReceiptSection
from core.db import db
from core.links import link
from core.models import Case, OrgUnit, User
from plugins.evaluation import services
from plugins.evaluation.models import (
    ConsequenceKind,
    ConsequenceStatus,
    EvaluationConsequence,
    EvaluationFollowUp,
    EvaluationRectification,
    FollowUpStatus,
    RatingLevel,
    RectificationStatus,
)


def inbox_sources(user: User, township_ids: set[int]) -> list[InboxSource]:
    """Follow-ups for leaders, rectifications for their owners, checks and suspension
    decisions for leaders."""
    sources = []
    following = township_ids_with(user, services.FOLLOW_UP) & township_ids
    if following:
        sources.append(
            InboxSource(
                services.INBOX_FOLLOW_UP,
                "不满意评价待回访",
                "Dissatisfied rating to follow up",
                select(
                    EvaluationFollowUp.id.label("object_id"),
                    Case.title.label("title"),
                    EvaluationFollowUp.township_id.label("township_id"),
                    EvaluationFollowUp.created_at.label("since"),
                    EvaluationFollowUp.due_on.label("due_on"),
                )
                .join(Case, Case.id == EvaluationFollowUp.case_id)
                .where(
                    EvaluationFollowUp.status == FollowUpStatus.open,
                    EvaluationFollowUp.township_id.in_(following),
                    or_(
                        EvaluationFollowUp.leader_id == user.id,
                        EvaluationFollowUp.leader_id.is_(None),
                    ),
                    func.coalesce(Case.handler_id, Case.first_responder_id) != user.id,
                ),
                "evaluation_follow_ups.handle_view",
            )
        )
    sources.append(
        InboxSource(
            services.INBOX_RECTIFY,
            "整改待落实",
            "Rectification to carry out",
            select(
                EvaluationRectification.id.label("object_id"),
                EvaluationRectification.problem.label("title"),
                EvaluationRectification.township_id.label("township_id"),
                EvaluationRectification.created_at.label("since"),
                EvaluationRectification.deadline.label("due_on"),
            ).where(
                EvaluationRectification.owner_id == user.id,
                EvaluationRectification.status == RectificationStatus.open,
            ),
            "evaluation_rectifications.handle_view",
        )
    )
    deciding = township_ids_with(user, services.DECIDE) & township_ids
    if deciding:
        sources.append(
            InboxSource(
                services.INBOX_CHECK,
                "整改待验收",
                "Rectification to check",
                select(
                    EvaluationRectification.id.label("object_id"),
                    EvaluationRectification.problem.label("title"),
                    EvaluationRectification.township_id.label("township_id"),
                    EvaluationRectification.done_at.label("since"),
                    cast(null(), Date).label("due_on"),
                ).where(
                    EvaluationRectification.status == RectificationStatus.done,
                    EvaluationRectification.township_id.in_(deciding),
                    EvaluationRectification.owner_id != user.id,
                ),
                "evaluation_rectifications.handle_view",
            )
        )
        sources.append(
            InboxSource(
                services.INBOX_SUSPENSION,
                "停职建议待决定",
                "Proposed suspension to decide",
                select(
                    EvaluationConsequence.id.label("object_id"),
                    User.name.label("title"),
                    EvaluationConsequence.township_id.label("township_id"),
                    EvaluationConsequence.created_at.label("since"),
                    cast(null(), Date).label("due_on"),
                )
                .join(User, User.id == EvaluationConsequence.user_id)
                .where(
                    EvaluationConsequence.kind == ConsequenceKind.suspension,
                    EvaluationConsequence.status == ConsequenceStatus.proposed,
                    EvaluationConsequence.township_id.in_(deciding),
                    EvaluationConsequence.user_id != user.id,
                ),
                "evaluation_consequences.decide",
            )
        )
    return sources


def receipt_sections(receipt) -> list[ReceiptSection]:
    """Under a case's receipt: the rating form once the case is closed, or the rating given."""
    case = receipt.obj
    if not isinstance(case, Case) or not has_request_context():
        return []
    rating = services.rating_of(case.id)
    try:
        action = url_for("evaluation.rate", township=case.township.code, receipt=case.receipt_no)
    except BuildError:
        return []
    html = Markup(
        render_template(
            "evaluation/_rating_section.html",
            case=case,
            rating=rating,
            closed=services.can_be_rated(case),
            action=action,
            levels=list(RatingLevel),
            values={},
            problems=[],
        )
    )
    return [ReceiptSection(_("How was our service?"), html, order=10)]


def staff_links(township: OrgUnit, user: User) -> list[PublicLink]:
    url = link("evaluation.rate_start", township=township.code, staff=user.id)
    return [PublicLink(_("Rate this service"), url, order=10)] if url else []


def county_dashboard_figures(townships: list[OrgUnit]) -> dict[int, list[DashboardFigure]]:
    """Per township, by id: the citizen satisfaction of its year (from its own today) and
    the open follow-ups (two queries for them all)."""
    if not townships:
        return {}
    years = {t.id: clock.today(t).year for t in townships}
    satisfaction = services.township_satisfaction(years)
    open_follow_ups = dict(
        db.session.execute(
            select(EvaluationFollowUp.township_id, func.count(EvaluationFollowUp.id))
            .where(
                EvaluationFollowUp.township_id.in_(list(years)),
                EvaluationFollowUp.status == FollowUpStatus.open,
            )
            .group_by(EvaluationFollowUp.township_id)
        ).all()
    )
    ratings = _link("evaluation_ratings.index_view")
    follow_ups = _link("evaluation_follow_ups.index_view")
    out = {}
    for tid, year in years.items():
        totals = satisfaction[tid]
        waiting = open_follow_ups.get(tid, 0)
        limits = services.thresholds(tid)
        share = totals.share
        out[tid] = [
            DashboardFigure(
                label=_("Citizen satisfaction %(year)d (%(n)d ratings)", year=year, n=totals.total),
                value=f"{share:g}%" if share is not None else "–",
                link=ratings,
                level="info"
                if share is None
                else ("success" if share >= limits.warning else "warning"),
            ),
            DashboardFigure(
                label=_("Dissatisfied ratings waiting for a leader"),
                value=waiting,
                link=follow_ups,
                level="warning" if waiting else "success",
            ),
        ]
    return out


def _link(endpoint: str) -> str | None:
    if not has_request_context():
        return None
    try:
        return url_for(endpoint)
    except BuildError:
        return None
