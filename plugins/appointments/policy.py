"""Policy figures and the case kind of leader appointments (群众预约领导制度).

The rule book says the leader, once back, visits the citizen "promptly" (及时) and
gives no figure: the visit deadline below (5 working days after the leader's return)
is this platform's default, which the township sets for itself.

Each card is a core case of kind ``appointments.card``. Its time limit is the
service commitment's ceiling (服务承诺制度: "never beyond 30 days" from acceptance),
counted by the core like every other case; the visit deadline is the card's own.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from core.contract import CaseKind, PolicySpec
from core.models import LimitUnit

KEY = "appointments"
KIND = "appointments.card"
VISIT_WORKING_DAYS = "appointments.visit_working_days"

VISIT_WORKING_DAYS_DEFAULT = 5
CASE_LIMIT_DAYS = 30

POLICIES = [
    PolicySpec(
        VISIT_WORKING_DAYS,
        "领导返回后上门走访期限（工作日）",
        "Working days after the leader's return to visit the citizen",
        default=VISIT_WORKING_DAYS_DEFAULT,
        minimum=1,
        maximum=30,
        unit=_l("working days"),
        help=_l(
            'The rule book says the leader visits the citizen "promptly" after returning '
            "and sets no figure; 5 working days is this platform's default. Counted from the "
            "day the leader is back (or the day the card is taken, if the leader is present). "
            "A card not visited by then reminds the leader and the supervisors once."
        ),
    ),
]

CASE_KINDS = [
    CaseKind(
        KIND,
        "群众预约领导",
        "Appointment with a leader",
        CASE_LIMIT_DAYS,
        LimitUnit.calendar_days,
        max_amount=None,
        archive_class="YW.appointments",
    )
]
