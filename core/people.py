"""Staff as other institutions see them: figures per person and year, public links.

Institutions offer figures about a staff member's year through
``township_person_year_figures`` (matters handled against the quota, training
compliance, supervision findings); the evaluation institution reads them with
:func:`year_figures` without importing anyone. ``township_staff_public_links`` lets
institutions add links to a staff member's public page ("rate this service").
"""

from __future__ import annotations

from collections import defaultdict

from core.contract import PersonYearFigure, PublicLink
from core.models import OrgUnit, User


def year_figures(
    township: OrgUnit, year: int, user_ids: list[int] | None = None
) -> dict[int, list[PersonYearFigure]]:
    """Every enabled institution's figures for these staff members (all if None) in ``year``,
    by user id. An institution the township has not enabled is not asked."""
    from core.institutions import enabled_hook

    caller = enabled_hook("township_person_year_figures", township.id)
    out: dict[int, list[PersonYearFigure]] = defaultdict(list)
    for group in caller(township=township, year=year, user_ids=user_ids):
        for figure in group or ():
            if user_ids is None or figure.user_id in user_ids:
                out[figure.user_id].append(figure)
    return dict(out)


def staff_links(township: OrgUnit, user: User) -> list[PublicLink]:
    """Links the township's enabled institutions offer on a staff member's public page."""
    from core.institutions import enabled_hook

    caller = enabled_hook("township_staff_public_links", township.id)
    links = [link for group in caller(township=township, user=user) for link in group or ()]
    return sorted(links, key=lambda link: link.order)
