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


def register_person(
    township: OrgUnit,
    name: str,
    *,
    phone: str | None = None,
    id_number: str | None = None,
    village: OrgUnit | None = None,
):
    """Add a citizen to the township's register (the caller commits): the name fits its
    column, the phone and the resident ID number are checked (``core.validation``), the
    village belongs to the township. Raises :class:`core.validation.InvalidInput`."""
    from flask_babel import lazy_gettext as _l

    from core.db import db
    from core.models import Person, UnitKind
    from core.validation import InvalidInput, check_phone, check_resident_id, fits

    name = (name or "").strip()
    if not name:
        raise InvalidInput(_l("Give the person's name."))
    fits(name, Person.name, label=_l("Name"))
    if village is not None and (
        village.township_id != township.id or village.kind != UnitKind.village
    ):
        raise InvalidInput(_l("The village belongs to another township."))
    person = Person(
        township_id=township.id,
        name=name,
        phone=check_phone(phone),
        id_number=check_resident_id(id_number),
        village_id=village.id if village is not None else None,
    )
    db.session.add(person)
    db.session.flush()
    return person
