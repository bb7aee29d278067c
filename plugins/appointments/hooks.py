"""What leader appointments does when the core calls it: the leader's queue in the inbox,
the card's status under its receipt, the dashboard figures, the public panel."""

from __future__ import annotations

from flask import url_for
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import Date, case, cast, null, select

from core import clock
from core.contract import DashboardFigure, InboxSource, PublicSection, ReceiptSection
from core.models import Case, OrgUnit, User
from plugins.appointments import services
from plugins.appointments.models import AppointmentCard, CardStatus


def inbox_sources(user: User, township_ids: set[int]) -> list[InboxSource]:
    """A leader's cards waiting for a home visit (due by the visit deadline; a card visited
    once and needing another visit has no due date)."""
    due = case(
        (AppointmentCard.status == CardStatus.queued, AppointmentCard.visit_due_on),
        else_=cast(null(), Date),
    )
    return [
        InboxSource(
            services.INBOX_TO_VISIT,
            "群众预约待走访",
            "Appointment card: home visit",
            select(
                AppointmentCard.id.label("object_id"),
                Case.title.label("title"),
                AppointmentCard.township_id.label("township_id"),
                AppointmentCard.queued_at.label("since"),
                due.label("due_on"),
            )
            .join(Case, Case.id == AppointmentCard.case_id)
            .where(
                AppointmentCard.leader_id == user.id,
                AppointmentCard.status.in_([CardStatus.queued, CardStatus.follow_up]),
                AppointmentCard.township_id.in_(township_ids),
            ),
            services.DETAILS_ENDPOINT,
        )
    ]


def public_state(card: AppointmentCard) -> str:
    """The card's status for the citizen, in words (no personal data)."""
    if card.status == CardStatus.waiting_return:
        return _(
            "%(leader)s is away; your card waits for the leader's return.", leader=card.leader.name
        )
    if card.status == CardStatus.queued:
        return _(
            "%(leader)s will visit you at home by %(day)s.",
            leader=card.leader.name,
            day=card.visit_due_on.isoformat(),
        )
    if card.status == CardStatus.follow_up:
        return _("%(leader)s visited you; another visit will follow.", leader=card.leader.name)
    return _("The visit is done and the result registered on the card.")


def receipt_sections(receipt) -> list[ReceiptSection]:
    """Under a card's receipt: the card's status and each visit's date and outcome."""
    obj = receipt.obj
    if not isinstance(obj, Case):
        return []
    card = services.card_of_case(obj.id)
    if card is None:
        return []
    visits = Markup("").join(
        Markup('<li class="appointments-visit"><span class="text-nowrap">{}</span> {}</li>').format(
            v.visited_on.isoformat(), v.outcome.label
        )
        for v in card.visits
    )
    html = Markup(
        '<p class="mb-1" id="appointments-status" data-status="{}">{}</p>'
        '<p class="mb-1 small text-muted">{}</p>{}'
    ).format(
        card.status.value,
        public_state(card),
        _(
            "Card taken on %(day)s (%(channel)s).",
            day=card.taken_on.isoformat(),
            channel=card.channel.label,
        ),
        Markup('<ol id="appointments-visits" class="mb-0">{}</ol>').format(visits)
        if visits
        else "",
    )
    return [ReceiptSection(_("Appointment with a leader"), html, order=30)]


def county_dashboard_figures(townships: list[OrgUnit]) -> dict[int, list[DashboardFigure]]:
    """Per township, by id: cards waiting per leader, overdue cards, visits this month,
    each on its own today (two queries for them all)."""
    todays = {t.id: clock.today(t) for t in townships}
    queues = services.leader_queues(todays)
    visits = services.visits_in_month(todays)
    cards = url_for("appointments_cards.index_view")
    out = {}
    for tid in todays:
        figures = []
        overdue = 0
        for queue in queues[tid]:
            overdue += queue.overdue
            label = _(
                "Appointments for %(name)s: to visit %(visit)s, waiting for the return %(wait)s",
                name=queue.name,
                visit=queue.to_visit,
                wait=queue.waiting_return,
            )
            figures.append(
                DashboardFigure(
                    label=label,
                    value=queue.to_visit + queue.waiting_return,
                    link=url_for("appointments_cards.index_view", flt0_0=str(queue.leader_id)),
                    level="danger" if queue.overdue else "info",
                )
            )
        figures.append(
            DashboardFigure(
                label=_("Appointments: home visits overdue"),
                value=overdue,
                link=cards,
                level="danger" if overdue else "success",
            )
        )
        figures.append(
            DashboardFigure(
                label=_("Appointments: home visits this month"),
                value=visits[tid],
                link=cards,
            )
        )
        out[tid] = figures
    return out


def dashboard_figures(township: OrgUnit) -> list[DashboardFigure]:
    """One township's figures (see :func:`county_dashboard_figures`)."""
    return county_dashboard_figures([township])[township.id]


def public_sections(township: OrgUnit) -> list[PublicSection]:
    """A link to the appointment request form on the township's public page."""
    html = Markup(
        '<p class="mb-1">{}</p><a href="{}" id="appointments-request-link">{}</a>'
    ).format(
        _(
            "Need a leader of the township who is away? Ask for an appointment; the leader "
            "visits you at home after returning."
        ),
        url_for("appointments.request_form", township=township.code),
        _("Ask for an appointment with a leader"),
    )
    return [PublicSection(_("Appointment with a leader"), html, order=60)]
