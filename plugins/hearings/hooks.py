"""What the hearings institution answers when the core asks: inbox sources, dashboard
figures, the panel on the township's public page and the section under a receipt."""

from __future__ import annotations

from datetime import date

from flask import has_request_context, render_template, url_for
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import and_, case, func, or_, select
from werkzeug.routing import BuildError

from core import clock
from core.access import township_ids_with
from core.contract import DashboardFigure, InboxSource, PublicSection, ReceiptSection
from core.db import db
from core.models import Case, OrgUnit, User
from plugins.hearings import services
from plugins.hearings.models import (
    Hearing,
    HearingParticipant,
    HearingQuestion,
    HearingStatus,
    QuestionStatus,
)

S = HearingStatus


def inbox_sources(user: User, township_ids: set[int]) -> list[InboxSource]:
    """Hearings to conclude (those who run hearings) and questions whose answer is due (the
    person responsible; once overdue, the core's "overdue case" item takes over)."""
    sources = []
    managing = township_ids_with(user, services.MANAGE) & township_ids
    if managing:
        sources.append(
            InboxSource(
                services.INBOX_CONCLUDE,
                "听证质询会待总结公布",
                "Hearing to conclude",
                select(
                    Hearing.id.label("object_id"),
                    Hearing.topic.label("title"),
                    Hearing.township_id.label("township_id"),
                    func.coalesce(
                        Hearing.opened_at, Hearing.announced_at, Hearing.created_at
                    ).label("since"),
                    Hearing.held_on.label("due_on"),
                ).where(
                    Hearing.township_id.in_(managing),
                    or_(
                        Hearing.status == S.held,
                        and_(
                            Hearing.status == S.announced,
                            clock.before_today(Hearing.held_on, Hearing.township_id, managing),
                        ),
                    ),
                ),
                "hearings_hearings.details_view",
            )
        )
    sources.append(
        InboxSource(
            services.INBOX_QUESTION,
            "听证质询问题待答复",
            "Hearing question to answer",
            select(
                HearingQuestion.id.label("object_id"),
                HearingQuestion.question.label("title"),
                HearingQuestion.township_id.label("township_id"),
                HearingQuestion.created_at.label("since"),
                Case.due_on.label("due_on"),
            )
            .join(Case, Case.id == HearingQuestion.case_id)
            .where(
                HearingQuestion.responsible_id == user.id,
                HearingQuestion.status == QuestionStatus.pending,
                clock.on_or_after_today(Case.due_on, HearingQuestion.township_id, township_ids),
            ),
            "hearings_questions.answer_view",
        )
    )
    return sources


def _link(endpoint: str, **values) -> str | None:
    if not has_request_context():
        return None
    try:
        return url_for(endpoint, **values)
    except BuildError:
        return None


def county_dashboard_figures(townships: list[OrgUnit]) -> dict[int, list[DashboardFigure]]:
    """Per township, by id: hearings announced, hearings to conclude, questions waiting for
    their answer (and how many are overdue), each on its own today: two queries for all."""
    if not townships:
        return {}
    todays = {t.id: clock.today(t) for t in townships}
    ids = list(todays)
    hearings = {
        tid: (int(announced or 0), int(to_conclude or 0))
        for tid, announced, to_conclude in db.session.execute(
            select(
                Hearing.township_id,
                func.sum(case((Hearing.status == S.announced, 1), else_=0)),
                func.sum(
                    case(
                        (
                            or_(
                                Hearing.status == S.held,
                                and_(
                                    Hearing.status == S.announced,
                                    _before(Hearing.held_on, Hearing.township_id, todays),
                                ),
                            ),
                            1,
                        ),
                        else_=0,
                    )
                ),
            )
            .where(Hearing.township_id.in_(ids))
            .group_by(Hearing.township_id)
        )
    }
    asked = {
        tid: (int(pending or 0), int(overdue or 0))
        for tid, pending, overdue in db.session.execute(
            select(
                HearingQuestion.township_id,
                func.count(HearingQuestion.id),
                func.sum(
                    case(
                        (_before(Case.due_on, HearingQuestion.township_id, todays), 1),
                        else_=0,
                    )
                ),
            )
            .join(Case, Case.id == HearingQuestion.case_id)
            .where(
                HearingQuestion.township_id.in_(ids),
                HearingQuestion.status == QuestionStatus.pending,
            )
            .group_by(HearingQuestion.township_id)
        )
    }
    links = (_link("hearings_hearings.index_view"), _link("hearings_questions.index_view"))
    return {
        tid: _figures(*hearings.get(tid, (0, 0)), *asked.get(tid, (0, 0)), *links) for tid in ids
    }


def _before(column, township_column, todays: dict[int, date]):
    """A SQL condition: ``column`` lies before the today of the row's township (one branch
    per distinct today: one unless the townships' zones straddle midnight)."""
    groups: dict[date, list[int]] = {}
    for tid, today in todays.items():
        groups.setdefault(today, []).append(tid)
    return or_(*(and_(township_column.in_(ids), column < day) for day, ids in groups.items()))


def _figures(
    announced: int,
    to_conclude: int,
    pending: int,
    overdue: int,
    hearings_link: str | None,
    questions_link: str | None,
) -> list[DashboardFigure]:
    return [
        DashboardFigure(
            label=_("Hearings announced"),
            value=announced,
            link=hearings_link,
        ),
        DashboardFigure(
            label=_("Hearings to conclude"),
            value=to_conclude,
            link=hearings_link,
            level="warning" if to_conclude else "success",
        ),
        DashboardFigure(
            label=_("Hearing questions awaiting an answer (overdue)"),
            value=f"{pending} ({overdue})",
            link=questions_link,
            level="danger" if overdue else ("warning" if pending else "success"),
        ),
    ]


def public_sections(township: OrgUnit) -> list[PublicSection]:
    """Hearings announced or in session, on the township's public page."""
    rows = db.session.scalars(
        select(Hearing)
        .where(
            Hearing.township_id == township.id,
            Hearing.status.in_((S.announced, S.held)),
        )
        .order_by(Hearing.held_on, Hearing.id)
        .limit(5)
    ).all()
    if not rows:
        return []
    html = render_template("hearings/_public_panel.html", township=township, hearings=rows)
    return [PublicSection(_("Public hearings and inquiries"), Markup(html), order=60)]


def receipt_sections(receipt) -> list[ReceiptSection]:
    """Under a registration's receipt: the hearing's date, time and place, and its page."""
    participant = receipt.obj
    if not isinstance(participant, HearingParticipant):
        return []
    hearing = participant.hearing
    html = render_template("hearings/_receipt_section.html", hearing=hearing)
    return [ReceiptSection(_("The hearing"), Markup(html), order=20)]
