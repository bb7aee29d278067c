"""The public site: the township list, each township's public pages, case lookup.

Everything here is for visitors without an account: these pages never load a user
nor write a session, carry an ETag and a short Cache-Control, and are held in
:mod:`core.cache` until what they show changes (:func:`core.cache.public_page`).
The case lookup shows what
:func:`core.cases.public_view` returns (status, dates, department) and nothing
personal; it is rate limited per address so receipt numbers cannot be guessed.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template, request
from flask_babel import gettext as _
from sqlalchemy import select

from core import receipts
from core.cache import public_page
from core.db import db
from core.extensions import limiter
from core.institutions import enabled_keys
from core.models import OrgUnit, UnitKind
from core.plugins import state

bp = Blueprint("public", __name__)

#: lookups per address; a receipt number has 40 random bits, so guessing is hopeless
LOOKUP_RATE_LIMIT = "30 per minute"
#: what a receipt number may look like (kept here for callers of the old name)
RECEIPT_PATTERN = receipts.RECEIPT_PATTERN
TOWNSHIPS_PER_PAGE = 50


def township_by_code(code: str) -> OrgUnit | None:
    """The township with this code (every public URL names one): from :mod:`core.cache`
    without a query once it has been read, until an org unit changes."""
    if not code or len(code) > 64 or "\x00" in code:  # PostgreSQL refuses NUL in text
        return None
    from core import cache

    def load():
        unit = db.session.scalar(
            select(OrgUnit).where(OrgUnit.code == code, OrgUnit.kind == UnitKind.township)
        )
        return cache.row_values(unit) if unit is not None else False

    values = cache.memo(f"township:{code}", load, areas=[(None, cache.UNITS)])
    return cache.attached(OrgUnit, values) if values else None


def _township_areas(code: str) -> list[tuple[int | None, str]]:
    """What a township's page shows: its institutions' public panels (a plugin may
    ``core.cache.touch(township_id, <its key>)``) and the township itself."""
    unit = township_by_code(code)
    if unit is None:
        return []
    return [(unit.id, "township")] + [(unit.id, key) for key in state().plugins]


#: how long a looked-up receipt's page may be held: a case's change shows at once (the
#: core watches cases); a receipt another institution issued shows a change within this
LOOKUP_CACHE_SECONDS = 30


def _lookup_areas() -> list[tuple[int | None, str]]:
    from core import cache

    return [(None, cache.ANY_CASE)]


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
@public_page()
def index():
    """The townships of this deployment, a page at a time (a page past the last: 404)."""
    from core.pagination import page_arg, paginate_or_404

    query = (
        select(OrgUnit).where(OrgUnit.kind == UnitKind.township).order_by(OrgUnit.name, OrgUnit.id)
    )
    pagination = paginate_or_404(query, page=page_arg(), per_page=TOWNSHIPS_PER_PAGE)
    return render_template(
        "core/public/index.html",
        townships=pagination.items,
        page=pagination.page,
        pages=max(pagination.pages, 1),
        total=pagination.total,
    )


@bp.get("/t/<code>/")
@public_page(_township_areas)
def township(code: str):
    """A township's page: the public pages of the institutions it adopted, and the panels
    they add (service hall hours, who is on duty ...)."""
    from core.institutions import enabled_hook

    unit = township_by_code(code)
    if unit is None:
        abort(404)
    caller = enabled_hook("township_public_sections", unit.id)
    sections = sorted(
        (s for group in caller(township=unit) for s in group or ()), key=lambda s: s.order
    )
    return render_template(
        "core/public/township.html", township=unit, pages=public_pages(unit), sections=sections
    )


def _lookup_exempt() -> bool:
    """Only actual look-ups count against the limit, not opening the empty form."""
    return not (request.args.get("receipt") or "").strip()


@bp.get("/lookup")
@limiter.limit(LOOKUP_RATE_LIMIT, exempt_when=_lookup_exempt)
@public_page(_lookup_areas, timeout=LOOKUP_CACHE_SECONDS)
def lookup():
    """A citizen looks up any receipt by its number: status and dates, nothing personal,
    and what the township's institutions add under it."""
    receipt_no = receipts.normalise(request.args.get("receipt"))
    found = None
    error = None
    status = 200
    found_sections = []
    if receipt_no:
        if not receipts.is_well_formed(receipt_no):
            error = _(
                "A receipt number has letters, digits and dashes, as printed on your receipt."
            )
            status = 400
        else:
            found = receipts.find(receipt_no)
            if found is None:
                error = _("No receipt has this number. Check it and try again.")
                status = 404
            else:
                found_sections = receipts.sections(found)
    return render_template(
        "core/public/lookup.html",
        receipt_no=receipt_no[:40],
        receipt=found,
        sections=found_sections,
        error=error,
        qr=None,
        staff=False,
        lookup_base=receipts.lookup_url("").split("?")[0],
    ), status


@bp.get("/receipt/<receipt_no>")
@limiter.limit(LOOKUP_RATE_LIMIT)
def receipt(receipt_no: str):
    """The printable receipt (A5, with a QR code to the lookup). Staff of the township see
    the matter's title and the applicant on it; anyone else sees the public receipt."""
    from flask_login import current_user

    from core.access import visible_township_ids

    found = receipts.find(receipt_no)
    if found is None:
        abort(404)
    staff = found.township.id in visible_township_ids(current_user)
    back = request.args.get("back") if staff else None
    return render_template(
        "core/receipt_print.html",
        receipt=found,
        staff=staff,
        qr=receipts.qr_svg(receipts.lookup_url(found.receipt_no)),
        lookup_base=receipts.lookup_url("").split("?")[0],
        back=back if back and back.startswith("/") and not back.startswith("//") else None,
    )


@bp.errorhandler(429)
def _too_many_lookups(exc):
    """A friendly page instead of the bare 429 when someone looks up too fast."""
    error = _("Too many look-ups from your address. Please wait a minute and try again.")
    response = render_template(
        "core/public/lookup.html",
        receipt_no="",
        receipt=None,
        sections=[],
        error=error,
        qr=None,
        staff=False,
        lookup_base="",
    )
    return response, 429
