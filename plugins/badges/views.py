"""Public pages: "who serves you" (为您服务) per township and per staff member, and photos.

Mounted at ``/t/<township>/badges/``. Staff names, posts, numbers, office phones and
departments are public (the rule book: so citizens can find and supervise them); a
photo only where the staff member's consent is recorded. Nothing about citizens.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, g, render_template, request

from core.people import staff_links
from plugins.badges import services

bp = Blueprint("badges", __name__, template_folder="templates")


def _page() -> int:
    raw = request.args.get("page", "1")
    return int(raw) if raw.isdecimal() and 0 < int(raw) < 100_000 else 1


@bp.get("/")
def index():
    """Every staff member on duty in the township, a page at a time."""
    per_page = int(current_app.config.get("PAGE_SIZE") or 20)
    page = _page()
    cards, total = services.public_cards(g.township.id, page, per_page)
    pages = max(1, -(-total // per_page))
    if page > pages:
        abort(404)
    return render_template(
        "badges/index.html", township=g.township, cards=cards, page=page, pages=pages, total=total
    )


@bp.get("/s/<number>")
def staff(number: str):
    """One staff member's page (the badge's QR code opens it), with the links the
    township's institutions offer ("rate this service", "report a problem")."""
    card = services.card_by_number(g.township.id, number)
    if card is None:
        abort(404)
    return render_template(
        "badges/staff.html",
        township=g.township,
        card=card,
        links=staff_links(g.township, card.user),
    )


@bp.get("/photo/<int:card_id>")
def photo(card_id: int):
    """A card's photo, only with the staff member's consent recorded."""
    found = services.public_photo(g.township.id, card_id)
    if found is None:
        abort(404)
    response = Response(found.data, mimetype=found.content_type)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'"
    response.headers["Cache-Control"] = "public, max-age=300"
    response.set_etag(found.sha256)
    return response.make_conditional(request)
