"""Public pages: the reception schedule (which leader receives petitioners when and where),
how to petition, and the online petition form that gives a receipt number.

Mounted by the core at ``/t/<township>/petitions/``; the township is ``g.township`` and
the core answers 404 where the institution is not enabled. The schedule is cached for
anonymous visitors until a session changes; the form is rate limited per address.
"""

from __future__ import annotations

from flask import Blueprint, g, render_template, request, url_for
from flask_babel import gettext as _

from core import clock
from core.cache import public_page, watch
from core.db import db
from core.extensions import limiter
from core.models import UnitKind
from core.policies import get_policy
from plugins.petitions import services
from plugins.petitions.models import PetitionCategory, ReceptionSession

bp = Blueprint("petitions", __name__, template_folder="templates")

watch(ReceptionSession, "petitions", township_attr="township_id")

#: online petitions per address: a citizen needs one or two; a script gets a 429
ONLINE_RATE_LIMIT = "5 per hour"


def _only_posts() -> bool:
    return request.method != "POST"


@bp.get("/")
@public_page("petitions", max_age=300)
def index():
    """The published reception schedule for the next four weeks and how to petition."""
    township = g.township
    return render_template(
        "petitions/index.html",
        township=township,
        schedule=services.public_schedule(township),
        today=clock.today(township),
        accept_days=get_policy(township.id, services.ACCEPT_DAYS),
    )


def _form(values, problems: list[str], status: int = 200, error: str | None = None):
    township = g.township
    return render_template(
        "petitions/online.html",
        township=township,
        categories=list(PetitionCategory),
        villages=services.units(township.id, UnitKind.village),
        values=values,
        problems=problems,
        error=error,
    ), status


@bp.route("/online", methods=("GET", "POST"))
@limiter.limit(ONLINE_RATE_LIMIT, exempt_when=_only_posts)
def online():
    """The online petition form; a petition sent gets the case's receipt number."""
    if request.method == "GET":
        return _form({}, [])
    values = request.form
    if values.get("website"):  # a field people never see: a robot filled it in
        return _form(values, [_("Your petition could not be sent.")], 400)
    raw_village = (values.get("village_id") or "").strip()
    data = services.PetitionInput(
        category=values.get("category") or None,
        matter=values.get("matter", ""),
        description=values.get("description", ""),
        village_id=int(raw_village) if raw_village.isdigit() and len(raw_village) < 10 else None,
        is_group=False,
        head_count=1,
        petitioners=[
            services.PetitionerInput(
                values.get("name", ""),
                values.get("id_number", ""),
                values.get("phone", ""),
                values.get("address", ""),
            )
        ],
    )
    try:
        petition = services.submit_online(g.township, data)
    except services.PetitionError as exc:
        db.session.rollback()
        return _form(values, exc.problems, 400)
    receipt_no = petition.case.receipt_no
    return render_template(
        "petitions/submitted.html",
        township=g.township,
        receipt_no=receipt_no,
        decide_by=petition.decide_by,
        lookup=url_for("public.lookup", receipt=receipt_no),
        printable=url_for("public.receipt", receipt_no=receipt_no),
    ), 201


@bp.errorhandler(429)
def _too_many(exc):
    return _form({}, [], 429, _("Too many petitions from your address. Please try again later."))
