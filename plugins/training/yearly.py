"""Training compliance per person and year, for the annual evaluation sheet.

Offered to other institutions through ``township_person_year_figures``: for each learner
linked to a staff account, in how many months of the year (those on the roster, up to
the township's current month) every threshold of :func:`monthly_compliance` was met.
"""

from __future__ import annotations

from collections import defaultdict

from core import clock
from core.contract import PersonYearFigure
from core.models import OrgUnit
from plugins.training.services import monthly_compliance


def person_year_figures(
    township: OrgUnit, year: int, user_ids: list[int] | None
) -> list[PersonYearFigure]:
    """One figure per staff member on the roster: compliant months / months counted."""
    today = clock.today(township)
    if year > today.year:
        return []
    last_month = 12 if year < today.year else today.month
    counted: dict[int, int] = defaultdict(int)
    met: dict[int, int] = defaultdict(int)
    behind: dict[int, list[int]] = defaultdict(list)
    for month in range(1, last_month + 1):
        for row in monthly_compliance(township.id, year, month).learners:
            if row.user_id is None or (user_ids is not None and row.user_id not in user_ids):
                continue
            counted[row.user_id] += 1
            if row.behind:
                behind[row.user_id].append(month)
            else:
                met[row.user_id] += 1
    return [
        PersonYearFigure(
            "training.compliance",
            "学习培训达标月数",
            "Months meeting the training thresholds",
            user_id=uid,
            year=year,
            value=met[uid],
            target=months,
            met=met[uid] == months,
            note="、".join(f"{m}月" for m in behind[uid]),
        )
        for uid, months in sorted(counted.items())
    ]
