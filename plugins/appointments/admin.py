"""Admin views of leader appointments (群众预约领导): the cards with their visits on one
page, filling in a card, and the printable card (A5, the form's layout, with the
receipt's QR code).

Permissions: ``appointments.read`` reads cards; ``appointments.write`` takes cards and
records visits; ``appointments.read_personal`` sees the citizen's phone and address
whole (masked otherwise, on screen and on paper).
"""

from __future__ import annotations

from datetime import date

from flask import flash, redirect, request, url_for
from flask_admin import expose
from flask_admin.contrib.sqla.filters import BaseSQLAFilter, FilterEqual
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select

from admin.views import TownshipBaseView, TownshipModelView, township_choices
from core import clock
from core.access import can, township_ids_with
from core.contract import AdminView
from core.db import db
from core.labels import LazyChoices, enum_choices
from core.models import Membership, User
from core.receipts import lookup_url, qr_svg
from plugins.appointments import services
from plugins.appointments.hooks import public_state
from plugins.appointments.models import AppointmentCard, CardChannel, CardStatus, VisitOutcome
from plugins.appointments.policy import KEY
from plugins.appointments.services import READ, WRITE, AppointmentError


def _day(name: str) -> tuple[date | None, str | None]:
    """(the date in form field ``name``, or None; the raw text if it could not be read)."""
    raw = (request.form.get(name) or "").strip()
    if not raw:
        return None, None
    try:
        return date.fromisoformat(raw), None
    except ValueError:
        return None, raw


def _receipt_link(view, context, model, name):
    return Markup('<a href="{}">{}</a>').format(
        url_for(".details_view", id=model.id), model.case.receipt_no
    )


def _due(view, context, model, name):
    if model.visit_due_on is None:
        return Markup("&ndash;")
    text = model.visit_due_on.isoformat()
    if model.status == CardStatus.queued and model.visit_due_on < clock.today(model.township_id):
        return Markup('{} <span class="badge badge-danger">{}</span>').format(text, _("Overdue"))
    return text


def _visible_leaders() -> list[tuple[str, str]]:
    """Leaders of the townships the user may read cards of (the leader filter's options)."""
    ids = township_ids_with(current_user, READ)
    if not ids:
        return []
    rows = db.session.execute(
        select(User.id, User.name)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.org_unit_id.in_(ids), Membership.role == services.LEADER_ROLE)
        .distinct()
        .order_by(User.name)
    ).all()
    return [(str(r.id), r.name) for r in rows]


class LeaderFilter(BaseSQLAFilter):
    """Cards asking for one leader (the dashboard's figure per leader links here)."""

    def apply(self, query, value, alias=None):
        try:
            return query.filter(AppointmentCard.leader_id == int(value))
        except (TypeError, ValueError):
            return query

    def operation(self):
        return _l("is")


class CardView(TownshipModelView):
    """Appointment cards (群众预约领导办公卡); the visit is a form on the card's page."""

    plugin_key = KEY
    permission_read = READ
    permission_write = WRITE
    allow_create = allow_edit = allow_delete = False
    action_disallowed_list = ["delete"]
    column_list = (
        "case",
        "citizen_name",
        "leader",
        "channel",
        "taken_on",
        "status",
        "visit_due_on",
    )
    column_labels = {
        "case": _l("Receipt number"),
        "citizen_name": _l("Citizen asking"),
        "leader": _l("Leader asked for"),
        "channel": _l("How asked"),
        "taken_on": _l("Date taken"),
        "status": _l("Status"),
        "visit_due_on": _l("Visit due by"),
    }
    column_formatters = {"case": _receipt_link, "visit_due_on": _due}
    column_searchable_list = ("citizen_name",)
    column_sortable_list = ("citizen_name", "taken_on", "status", "visit_due_on")
    column_filters = (
        LeaderFilter(
            AppointmentCard.leader_id, _l("Leader asked for"), options=LazyChoices(_visible_leaders)
        ),
        FilterEqual(AppointmentCard.status, _l("Status"), options=enum_choices(CardStatus)),
        FilterEqual(AppointmentCard.channel, _l("How asked"), options=enum_choices(CardChannel)),
        "taken_on",
        "visit_due_on",
    )
    column_default_sort = ("taken_on", True)

    def _card(self, card_id) -> AppointmentCard:
        return self.get_one(str(card_id))

    @expose("/details/")
    def details_view(self):
        return self._details(self._card(request.args.get("id", "")))

    def _details(self, card: AppointmentCard, error: list[str] | None = None, form=None):
        from core.presence import current_absence

        tid = card.township_id
        phone, address, whole = services.personal(card, current_user)
        return self.render(
            "appointments/admin/details.html",
            card=card,
            phone=phone,
            address=address,
            personal_whole=whole,
            absence=current_absence(card.leader)
            if card.status == CardStatus.waiting_return
            else None,
            errors=error or [],
            form=form or {},
            may_write=can(current_user, WRITE, tid),
            outcomes=list(VisitOutcome),
            today=clock.today(tid),
            overdue=card.status == CardStatus.queued
            and card.visit_due_on is not None
            and card.visit_due_on < clock.today(tid),
            public_state=public_state(card),
        )

    @expose("/<int:card_id>/visit", methods=("POST",))
    def visit(self, card_id):
        card = self._card(card_id)
        visited_on, bad = _day("visited_on")
        try:
            if bad is not None:
                raise AppointmentError(_("Give the date as YYYY-MM-DD."))
            services.record_visit(
                card,
                by=current_user._get_current_object(),
                visited_on=visited_on,
                companions=request.form.get("companions", ""),
                findings=request.form.get("findings", ""),
                outcome=request.form.get("outcome") or None,
                result=request.form.get("result", ""),
            )
        except AppointmentError as exc:
            db.session.rollback()
            return self._details(self._card(card_id), exc.problems, request.form), 400
        card = self._card(card_id)
        if card.status == CardStatus.closed:
            flash(
                _("The visit is recorded; the result is registered and the card closed."), "success"
            )
        else:
            flash(_("The visit is recorded; the card stays open for another visit."), "success")
        return redirect(url_for(".details_view", id=card_id), 303)

    @expose("/<int:card_id>/print")
    def print_view(self, card_id):
        """The card as the paper form (A5), with the receipt's QR code."""
        card = self._card(card_id)
        phone, address, _whole = services.personal(card, current_user)
        url = lookup_url(card.case.receipt_no)
        return self.render(
            "appointments/admin/card_print.html",
            card=card,
            phone=phone,
            address=address,
            qr=qr_svg(url),
            lookup=url,
        )


class NewCardView(TownshipBaseView):
    """Fill in an appointment card for a citizen who asks for a leader."""

    plugin_key = KEY
    permission_read = WRITE

    @expose("/", methods=("GET", "POST"))
    def index(self):
        from core.presence import away_now

        township = self.chosen_township(WRITE)
        problems: list[str] = []
        if request.method == "POST":
            taken_on, bad = _day("taken_on")
            try:
                card = services.take_card(
                    township,
                    services.CardInput(
                        citizen_name=request.form.get("citizen_name", ""),
                        phone=request.form.get("phone", ""),
                        address=request.form.get("address", ""),
                        matter=request.form.get("matter", ""),
                        leader_id=request.form.get("leader_id", type=int),
                        channel=request.form.get("channel") or None,
                        taken_on=taken_on,
                        bad_date=bad,
                    ),
                    taken_by=current_user._get_current_object(),
                )
            except AppointmentError as exc:
                db.session.rollback()
                problems = exc.problems
            else:
                if card.status == CardStatus.waiting_return:
                    message = _(
                        "Card %(receipt)s taken; %(leader)s is away, and the card waits for the "
                        "return.",
                        receipt=card.case.receipt_no,
                        leader=card.leader.name,
                    )
                else:
                    message = _(
                        "Card %(receipt)s taken and put in %(leader)s's queue (visit by %(day)s).",
                        receipt=card.case.receipt_no,
                        leader=card.leader.name,
                        day=card.visit_due_on.isoformat(),
                    )
                flash(message, "success")
                return redirect(url_for("appointments_cards.details_view", id=card.id), 303)
        away = {a.user_id: a for a in away_now(township)}
        return (
            self.render(
                "appointments/admin/new.html",
                township=township,
                townships=township_choices(self.township_ids(WRITE)),
                leaders=services.leaders(township.id),
                away=away,
                channels=[CardChannel.visit, CardChannel.phone],
                problems=problems,
                form=request.form,
                today=clock.today(township),
            ),
            400 if problems else 200,
        )


def admin_views() -> list[AdminView]:
    return [
        AdminView(
            CardView(AppointmentCard, name=_l("Appointment cards"), endpoint="appointments_cards")
        ),
        AdminView(NewCardView(name=_l("Fill in a card"), endpoint="appointments_new")),
    ]
