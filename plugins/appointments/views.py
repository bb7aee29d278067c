"""Public pages: a citizen asks for an appointment with a leader of the township (网上预约);
the request becomes an appointment card with a receipt number the public lookup finds.
Rate limited per address.

Mounted at ``/t/<township>/appointments/``.
"""

from __future__ import annotations

from flask import Blueprint, g, render_template, request, url_for
from flask_babel import gettext as _

from core import clock
from core.extensions import limiter
from plugins.appointments import services

bp = Blueprint("appointments", __name__, template_folder="templates")

#: requests per address: a citizen needs one or two; a script gets a 429
REQUEST_RATE_LIMIT = "5 per hour"


def _only_posts() -> bool:
    return request.method != "POST"


def _form(values: dict, problems: list[str], status: int = 200, error: str | None = None):
    from core.presence import away_user_ids

    township = g.township
    leaders = services.leaders(township.id)
    away = away_user_ids(township, [u.id for u in leaders])
    return render_template(
        "appointments/request.html",
        township=township,
        leaders=leaders,
        away=away,
        values=values,
        problems=problems,
        error=error,
    ), status


@bp.route("/", methods=("GET", "POST"))
@limiter.limit(REQUEST_RATE_LIMIT, exempt_when=_only_posts)
def request_form():
    if request.method == "GET":
        return _form({}, [])
    values = dict(request.form)
    try:
        card = services.take_card(
            g.township,
            services.CardInput(
                citizen_name=values.get("citizen_name", ""),
                phone=values.get("phone", ""),
                address=values.get("address", ""),
                matter=values.get("matter", ""),
                leader_id=request.form.get("leader_id", type=int),
                taken_on=clock.today(g.township),
            ),
            taken_by=None,
        )
    except services.AppointmentError as exc:
        return _form(values, exc.problems, 400)
    from plugins.appointments.hooks import public_state

    return render_template(
        "appointments/requested.html",
        township=g.township,
        card=card,
        state=public_state(card),
        lookup=url_for("public.lookup", receipt=card.case.receipt_no),
        receipt_print=url_for("public.receipt", receipt_no=card.case.receipt_no),
    ), 201


@bp.errorhandler(429)
def _too_many(exc):
    return _form({}, [], 429, _("Too many requests from your address. Please try again later."))
