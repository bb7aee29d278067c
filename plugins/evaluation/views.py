"""Public pages: the citizen's rating of a closed case (tied to its receipt number) and
"rate this service" from a staff member's page.

Mounted at ``/t/<township>/evaluation/``. The form itself is shown under the receipt on
the public lookup (``township_receipt_sections``); it posts here. Posts are rate limited
per address, and the database keeps one rating per case, so ratings cannot be stuffed.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from core.db import db
from core.extensions import limiter
from core.models import Case, User
from core.receipts import is_well_formed, normalise
from plugins.evaluation import services
from plugins.evaluation.models import RatingChannel, RatingLevel

bp = Blueprint("evaluation", __name__, template_folder="templates")

#: ratings per address: a family rates a few matters; a script gets a 429
RATE_LIMIT = "10 per hour"


def _only_posts() -> bool:
    return request.method != "POST"


def _case(receipt: str) -> Case:
    number = normalise(receipt)
    if not is_well_formed(number):
        abort(404)
    case = db.session.scalar(
        select(Case).where(Case.receipt_no == number, Case.township_id == g.township.id)
    )
    if case is None:
        abort(404)
    return case


@bp.route("/rate/<receipt>", methods=("GET", "POST"))
@limiter.limit(RATE_LIMIT, exempt_when=_only_posts)
def rate(receipt: str):
    """Rate a closed case: satisfied, basically satisfied or dissatisfied, and a comment."""
    case = _case(receipt)
    lookup = url_for("public.lookup", receipt=case.receipt_no)
    if request.method == "GET":
        return redirect(f"{lookup}#evaluation-rating", 303)
    values = {"level": request.form.get("level", ""), "comment": request.form.get("comment", "")}
    try:
        services.rate_case(
            case, values["level"] or None, values["comment"], channel=RatingChannel.receipt
        )
    except services.EvaluationError as exc:
        rated = services.rating_of(case.id)
        return render_template(
            "evaluation/rate.html",
            township=g.township,
            case=case,
            rating=rated,
            closed=services.can_be_rated(case),
            action=url_for(".rate", receipt=case.receipt_no),
            levels=list(RatingLevel),
            values=values,
            problems=exc.problems,
        ), (409 if rated is not None else 400)
    flash(_("Thank you. Your rating reached the township."), "success")
    return redirect(f"{lookup}#evaluation-rating", 303)


@bp.get("/rate")
def rate_start():
    """ "Rate this service" from a staff member's page: ratings belong to a matter, so the
    citizen enters the receipt number of the matter this staff member served."""
    staff = None
    staff_id = request.args.get("staff", type=int)
    if staff_id and services.is_staff(g.township.id, staff_id):
        staff = db.session.get(User, staff_id)
    return render_template("evaluation/rate_start.html", township=g.township, staff=staff)


@bp.errorhandler(429)
def _too_many(exc):
    return render_template(
        "evaluation/rate_start.html",
        township=g.township,
        staff=None,
        error=_("Too many ratings from your address. Please try again later."),
    ), 429
