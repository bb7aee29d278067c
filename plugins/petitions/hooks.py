"""What the petition institution does when the core calls it: inbox sources, the section
under a petition's receipt, the dashboard figures and the public panel."""

from __future__ import annotations

from flask import url_for
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import Date, cast, exists, null, select

from core import clock
from core.access import township_ids_with
from core.contract import DashboardFigure, InboxSource, PublicSection, ReceiptSection
from core.models import Case, OrgUnit, User
from plugins.petitions import services
from plugins.petitions.models import (
    Acceptance,
    Decision,
    FollowUp,
    Petition,
    RiskFlag,
)


def inbox_sources(user: User, township_ids: set[int]) -> list[InboxSource]:
    """Follow-ups one owns (due by the department's deadline); for officers, petitions whose
    acceptance is to be decided and risk flags without measures; for leaders, major
    petitions waiting for the collective decision."""
    sources = [
        InboxSource(
            services.INBOX_FOLLOW_UP,
            "信访件督办",
            "Petition to follow up",
            select(
                FollowUp.petition_id.label("object_id"),
                Case.title.label("title"),
                FollowUp.township_id.label("township_id"),
                FollowUp.created_at.label("since"),
                FollowUp.due_on.label("due_on"),
            )
            .join(Petition, Petition.id == FollowUp.petition_id)
            .join(Case, Case.id == Petition.case_id)
            .where(
                FollowUp.owner_id == user.id,
                FollowUp.done_on.is_(None),
                FollowUp.township_id.in_(township_ids),
            ),
            "petitions_petitions.details_view",
        )
    ]
    writing = township_ids_with(user, services.WRITE) & township_ids
    if writing:
        sources.append(
            InboxSource(
                services.INBOX_ACCEPT,
                "信访件待决定是否受理",
                "Petition: decide whether to accept",
                select(
                    Petition.id.label("object_id"),
                    Case.title.label("title"),
                    Petition.township_id.label("township_id"),
                    Petition.created_at.label("since"),
                    Petition.decide_by.label("due_on"),
                )
                .join(Case, Case.id == Petition.case_id)
                .where(
                    Petition.acceptance == Acceptance.pending,
                    Petition.township_id.in_(writing),
                ),
                "petitions_petitions.details_view",
            )
        )
        sources.append(
            InboxSource(
                services.INBOX_MEASURES,
                "信访风险待定措施",
                "Petition risk: measures to decide",
                select(
                    RiskFlag.id.label("object_id"),
                    Case.title.label("title"),
                    RiskFlag.township_id.label("township_id"),
                    RiskFlag.created_at.label("since"),
                    cast(null(), Date).label("due_on"),
                )
                .join(Petition, Petition.id == RiskFlag.petition_id)
                .join(Case, Case.id == Petition.case_id)
                .where(
                    RiskFlag.measures == "",
                    RiskFlag.closed_on.is_(None),
                    RiskFlag.township_id.in_(writing),
                ),
                "petitions_risks.details_view",
            )
        )
    deciding = township_ids_with(user, services.DECIDE) & township_ids
    if deciding:
        sources.append(
            InboxSource(
                services.INBOX_DECISION,
                "重大信访事项待集体研究",
                "Major petition for a collective decision",
                select(
                    Petition.id.label("object_id"),
                    Case.title.label("title"),
                    Petition.township_id.label("township_id"),
                    Petition.created_at.label("since"),
                    Case.due_on.label("due_on"),
                )
                .join(Case, Case.id == Petition.case_id)
                .where(
                    Petition.escalated_on.is_not(None),
                    ~exists().where(Decision.petition_id == Petition.id),
                    Petition.township_id.in_(deciding),
                ),
                "petitions_petitions.details_view",
            )
        )
    return sources


def receipt_sections(receipt) -> list[ReceiptSection]:
    """Under a petition's receipt: when acceptance is decided, and the answer's course;
    nothing personal."""
    case = receipt.obj
    if not isinstance(case, Case) or case.kind != services.KIND:
        return []
    from core.db import db

    petition = db.session.scalar(select(Petition).where(Petition.case_id == case.id))
    if petition is None:
        return []
    if petition.acceptance == Acceptance.pending:
        text = _(
            "Whether your petition is accepted will be decided by %(day)s.",
            day=petition.decide_by.isoformat(),
        )
    elif petition.acceptance == Acceptance.accepted:
        text = _(
            "Your petition was accepted on %(day)s and is handled within the time limit.",
            day=petition.decided_on.isoformat(),
        )
    else:
        text = _(
            "Your petition was not accepted (%(day)s): %(reason)s",
            day=petition.decided_on.isoformat(),
            reason=petition.not_accepted_reason or "",
        )
    html = Markup('<p class="mb-0" id="petition-acceptance">{}</p>').format(text)
    return [ReceiptSection(_("Petition"), html, order=20)]


def county_dashboard_figures(townships: list[OrgUnit]) -> dict[int, list[DashboardFigure]]:
    """Each township's figures, by id, each on its own today (four queries for them all)."""
    found = services.figures({t.id: clock.today(t) for t in townships})
    petitions = url_for("petitions_petitions.index_view")
    risks = url_for("petitions_risks.index_view")
    sessions = url_for("petitions_sessions.index_view")
    return {t.id: _figures(found[t.id], petitions, risks, sessions) for t in townships}


def _figures(
    f: services.Figures, petitions: str, risks: str, sessions: str
) -> list[DashboardFigure]:
    return [
        DashboardFigure(
            label=_(
                "Petitions open (due within a week: %(soon)s, overdue: %(late)s)",
                soon=f.due_within_week,
                late=f.overdue,
            ),
            value=f.open,
            link=petitions,
            level="danger" if f.overdue else ("warning" if f.due_within_week else "info"),
        ),
        DashboardFigure(
            label=_("Petitions overdue"),
            value=f.overdue,
            link=petitions,
            level="danger" if f.overdue else "success",
        ),
        DashboardFigure(
            label=_("Petitions: acceptance not decided in time"),
            value=f.undecided_late,
            link=petitions,
            level="danger" if f.undecided_late else "success",
        ),
        DashboardFigure(
            label=_("Open petition risk flags"),
            value=f.open_flags,
            link=risks,
            level="warning" if f.open_flags else "success",
        ),
        DashboardFigure(
            label=_(
                "Reception sessions this month (observers present: %(n)s)",
                n=f.observers_this_month,
            ),
            value=f.sessions_this_month,
            link=sessions,
        ),
    ]


def public_sections(township: OrgUnit) -> list[PublicSection]:
    """A short panel on the township's page: the next reception and the online form."""
    entries = services.public_schedule(township, days=14)
    link = url_for("petitions.index", township=township.code)
    if entries:
        first = entries[0]
        text = _(
            "Next: %(day)s %(time)s %(leader)s receives petitioners (%(place)s).",
            day=first.day.isoformat(),
            time=first.time,
            leader=first.leader,
            place=first.place,
        )
    else:
        text = _("No reception is scheduled in the next two weeks.")
    html = Markup('<p class="mb-1">{}</p><p class="mb-0"><a href="{}">{}</a></p>').format(
        text, link, _("Reception schedule and online petitions")
    )
    return [PublicSection(_("Leader reception"), html, order=40)]
