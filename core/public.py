"""The public site: the township list, each township's public pages, case lookup.

Everything here is for visitors without an account. The case lookup shows what
:func:`core.cases.public_view` returns (status, dates, department) and nothing
personal; it is rate limited per address so receipt numbers cannot be guessed.
"""

from __future__ import annotations

import re

from flask import Blueprint, abort, current_app, render_template, request
from flask_babel import gettext as _
from sqlalchemy import func, select

from core.cases import public_view
from core.db import db
from core.extensions import limiter
from core.institutions import enabled_keys
from core.models import Case, OrgUnit, UnitKind
from core.plugins import state

bp = Blueprint("public", __name__)

#: lookups per address; a receipt number has 40 random bits, so guessing is hopeless
LOOKUP_RATE_LIMIT = "30 per minute"
#: what a receipt number may look like (the core's: ``EAST-250124-K7M2Q9XA``)
RECEIPT_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9_-]{2,31}$")
TOWNSHIPS_PER_PAGE = 50


def township_by_code(code: str) -> OrgUnit | None:
    return db.session.scalar(
        select(OrgUnit).where(OrgUnit.code == code, OrgUnit.kind == UnitKind.township)
    )


def public_pages(township: OrgUnit) -> list[tuple[object, str]]:
    """(plugin info, endpoint) of the public landing page of each institution enabled."""
    pages = []
    keys = enabled_keys(township.id)
    for key, loaded in sorted(state().plugins.items()):
        endpoint = f"{key}.index"
        if key in keys and endpoint in current_app.view_functions:
            pages.append((loaded.info, endpoint))
    return pages


@bp.get("/")
def index():
    """The townships of this deployment, a page at a time."""
    page = request.args.get("page", "1")
    page = int(page) if page.isdigit() and int(page) > 0 else 1
    where = OrgUnit.kind == UnitKind.township
    total = db.session.scalar(select(func.count(OrgUnit.id)).where(where)) or 0
    townships = db.session.scalars(
        select(OrgUnit)
        .where(where)
        .order_by(OrgUnit.name, OrgUnit.id)
        .limit(TOWNSHIPS_PER_PAGE)
        .offset((page - 1) * TOWNSHIPS_PER_PAGE)
    ).all()
    pages = max(1, -(-total // TOWNSHIPS_PER_PAGE))
    return render_template(
        "core/public/index.html", townships=townships, page=page, pages=pages, total=total
    )


@bp.get("/t/<code>/")
def township(code: str):
    """A township's page: the public pages of the institutions it adopted."""
    unit = township_by_code(code)
    if unit is None:
        abort(404)
    return render_template("core/public/township.html", township=unit, pages=public_pages(unit))


def _lookup_exempt() -> bool:
    """Only actual look-ups count against the limit, not opening the empty form."""
    return not (request.args.get("receipt") or "").strip()


@bp.get("/lookup")
@limiter.limit(LOOKUP_RATE_LIMIT, exempt_when=_lookup_exempt)
def lookup():
    """A citizen looks up a case by its receipt number: status and dates, nothing personal."""
    receipt = (request.args.get("receipt") or "").strip().upper()
    found = None
    kind = None
    error = None
    status = 200
    if receipt:
        if not RECEIPT_PATTERN.match(receipt):
            error = _(
                "A receipt number has letters, digits and dashes, as printed on your receipt."
            )
            status = 400
        else:
            case = db.session.scalar(select(Case).where(Case.receipt_no == receipt))
            if case is None:
                error = _("No case has this receipt number. Check it and try again.")
                status = 404
            else:
                found = public_view(case)
                kind = state().case_kinds.get(case.kind)
    return render_template(
        "core/public/lookup.html", receipt=receipt[:40], case=found, kind=kind, error=error
    ), status


@bp.errorhandler(429)
def _too_many_lookups(exc):
    """A friendly page instead of the bare 429 when someone looks up too fast."""
    error = _("Too many look-ups from your address. Please wait a minute and try again.")
    return render_template(
        "core/public/lookup.html", receipt="", case=None, kind=None, error=error
    ), 429
