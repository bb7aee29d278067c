"""The service commitment rule book's figures (服务承诺制度) as township policies.

The 10-day limit (extendable to 30, never beyond) is the core's ``commitment`` case kind,
edited with the other time limits; the quotas and the urgency deadlines are here.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from core.contract import PolicySpec

LEADER_QUOTA = "commitment.leader_matters_per_year"
CADRE_QUOTA = "commitment.cadre_matters_per_year"
URGENT_DAYS = "commitment.urgent_days"
PRESSING_DAYS = "commitment.pressing_days"

POLICIES = [
    PolicySpec(
        LEADER_QUOTA,
        "每位领导每年办理服务事项(件)",
        "Service matters each leader handles a year",
        default=10,
        minimum=0,
        maximum=1000,
        unit=_l("matters"),
    ),
    PolicySpec(
        CADRE_QUOTA,
        "每位镇干部每年办理服务事项(件)",
        "Service matters each township cadre handles a year",
        default=5,
        minimum=0,
        maximum=1000,
        unit=_l("matters"),
    ),
    PolicySpec(
        URGENT_DAYS,
        "紧急事项办结期限(日)",
        "Days to finish an urgent matter",
        default=3,
        minimum=1,
        maximum=30,
        unit=_l("calendar days"),
    ),
    PolicySpec(
        PRESSING_DAYS,
        "较急事项办结期限(日)",
        "Days to finish a pressing matter",
        default=5,
        minimum=1,
        maximum=30,
        unit=_l("calendar days"),
    ),
]
