"""The public page at ``/t/<township>/extended_hours/``: weekend and after-hours duty for
the coming days (who, office phone), readable on a phone; nothing personal beyond staff
names and office phones. Cached for anonymous visitors until the rota (the core's area)
or the township's settings change, and at most ``TOWNSHIP_PUBLIC_CACHE_SECONDS``."""

from __future__ import annotations

from flask import Blueprint, g, render_template

from core.cache import public_page
from plugins.extended_hours import services

bp = Blueprint("extended_hours", __name__, template_folder="templates")


def _areas(**kwargs):
    township = getattr(g, "township", None)
    if township is None:
        return []
    from core import cache

    return [
        (township.id, "core"),
        (township.id, "extended_hours"),
        (None, cache.POLICIES),
        (None, cache.CALENDAR),
    ]


@bp.get("/")
@public_page(_areas)
def index():
    township = g.township
    opens, closes = services.office_hours(township.id)
    return render_template(
        "extended_hours/index.html",
        township=township,
        days=services.public_duty(township.id),
        opens=opens.strftime("%H:%M"),
        closes=closes.strftime("%H:%M"),
    )
