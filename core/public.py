"""The public site: the township list, each township's public pages, case lookup."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template, request
from flask_babel import gettext as _
from sqlalchemy import select

from core.cases import public_view
from core.db import db
from core.extensions import limiter
from core.institutions import enabled_keys
from core.models import Case, OrgUnit, UnitKind
from core.plugins import state

bp = Blueprint("public", __name__)


def township_by_code(code: str) -> OrgUnit | None:
    return db.session.scalar(
        select(OrgUnit).where(OrgUnit.code == code, OrgUnit.kind == UnitKind.township)
    )


def public_pages(township: OrgUnit) -> list[tuple[str, str]]:
    """(label, endpoint) of the public landing page of each institution the township enabled."""
    pages = []
    keys = enabled_keys(township.id)
    for key, loaded in sorted(state().plugins.items()):
        endpoint = f"{key}.index"
        if key in keys and endpoint in current_app.view_functions:
            pages.append((loaded.info, endpoint))
    return pages


@bp.get("/")
def index():
    townships = db.session.scalars(
        select(OrgUnit).where(OrgUnit.kind == UnitKind.township).order_by(OrgUnit.name)
    ).all()
    return render_template("core/public/index.html", townships=townships)


@bp.get("/t/<code>/")
def township(code: str):
    unit = township_by_code(code)
    if unit is None:
        abort(404)
    return render_template("core/public/township.html", township=unit, pages=public_pages(unit))


@bp.get("/lookup")
@limiter.limit("30 per minute")
def lookup():
    """A citizen looks up a case by its receipt number: status and dates, nothing personal."""
    receipt = (request.args.get("receipt") or "").strip().upper()
    found = None
    error = None
    if receipt:
        case = db.session.scalar(select(Case).where(Case.receipt_no == receipt))
        if case is None:
            error = _("No case has this receipt number. Check it and try again.")
        else:
            found = public_view(case)
    return render_template("core/public/lookup.html", receipt=receipt, case=found, error=error), (
        404 if error else 200
    )
