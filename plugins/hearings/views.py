"""Public pages of hearings and inquiries, at ``/t/<township>/hearings/``: the
announcements and results (readable on a phone), each hearing with its questions (open
ones stay visible until answered), and the registration form for citizens concerned
(rate limited per address; a receipt number the public lookup finds).
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, g, render_template, request, url_for
from flask_babel import gettext as _

from core.cache import public_page, watch
from core.db import db
from core.extensions import limiter
from core.pagination import page_arg, paginate_or_404
from core.receipts import watch_receipts
from plugins.hearings import services
from plugins.hearings.models import Hearing, HearingParticipant, HearingQuestion

bp = Blueprint("hearings", __name__, template_folder="templates")

# the public pages are cached (core.cache) until a row they show changes
for _model in (Hearing, HearingQuestion, HearingParticipant):
    watch(_model, "hearings", township_attr="township_id")
watch_receipts(Hearing, HearingParticipant)  # a registration's receipt shows the result

#: registrations per address: a citizen needs one or two; a script gets a 429
REGISTER_RATE_LIMIT = "5 per hour"


def _only_posts() -> bool:
    return request.method != "POST"


@bp.get("/")
@public_page("hearings")
def index():
    """Announcements, hearings in session and published results, newest first, and the
    questions still waiting for their answer."""
    page = paginate_or_404(
        services.public_hearings(g.township.id),
        page=page_arg(),
        per_page=int(current_app.config.get("PAGE_SIZE", 20)),
    )
    return render_template(
        "hearings/index.html",
        township=g.township,
        page=page,
        open_questions=services.open_questions(g.township.id),
    )


def _hearing_or_404(hearing_id: int) -> Hearing:
    hearing = db.session.get(Hearing, hearing_id)
    if hearing is None or hearing.township_id != g.township.id or not services.is_public(hearing):
        abort(404)
    return hearing


@bp.get("/<int:hearing_id>")
@public_page("hearings")
def hearing(hearing_id: int):
    """One hearing: announcement, questions and answers, the result once concluded."""
    item = _hearing_or_404(hearing_id)
    return render_template(
        "hearings/hearing.html",
        township=g.township,
        hearing=item,
        questions=services.questions(item.id),
        registration_open=services.registration_open(item),
        seats_left=services.seats_left(item),
    )


def _form(hearing: Hearing, values: dict, problems: list[str], status: int = 200, error=None):
    return render_template(
        "hearings/register.html",
        township=g.township,
        hearing=hearing,
        values=values,
        problems=problems,
        error=error,
        registration_open=services.registration_open(hearing),
        seats_left=services.seats_left(hearing),
    ), status


@bp.route("/<int:hearing_id>/register", methods=("GET", "POST"))
@limiter.limit(REGISTER_RATE_LIMIT, exempt_when=_only_posts)
def register(hearing_id: int):
    """A citizen concerned registers to take part; they leave with a receipt number."""
    item = _hearing_or_404(hearing_id)
    if request.method == "GET":
        return _form(item, {}, [])
    values = {k: request.form.get(k, "") for k in ("name", "phone", "concern")}
    try:
        participant = services.register(item, values["name"], values["phone"], values["concern"])
    except services.HearingError as exc:
        db.session.rollback()
        return _form(item, values, exc.problems, 400)
    return render_template(
        "hearings/registered.html",
        township=g.township,
        hearing=item,
        participant=participant,
        lookup=url_for("public.lookup", receipt=participant.receipt_no),
    ), 201


@bp.errorhandler(429)
def _too_many(exc):
    hearing_id = (request.view_args or {}).get("hearing_id")
    item = _hearing_or_404(hearing_id) if hearing_id else abort(429)
    return _form(
        item, {}, [], 429, _("Too many registrations from your address. Please try again later.")
    )
