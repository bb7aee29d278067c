"""The institution's policy figures (the rule book gives no figure; the default is ours)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from core.contract import PolicySpec

ACCOUNTABILITY_DAYS = "supervision.accountability_days"

POLICIES = [
    PolicySpec(
        ACCOUNTABILITY_DAYS,
        "监督失职追溯天数",
        "Days before a serious error in which a finding clears its supervisors",
        default=90,
        minimum=7,
        maximum=366,
        unit=_l("days"),
        help=_l(
            "When a serious error happens in an area and no finding was raised there in "
            "this many days before it, the supervisors who covered the area are named."
        ),
    ),
]
