"""The institution's policy figures. The rule book gives the rule, not the figures: the
defaults below are this platform's choice, stated in README and docs/evaluation.md.

* citizen satisfaction of a cadre's year = (satisfied + basically satisfied) ÷ all
  ratings of cases the cadre handled, rated in that calendar year;
* below the **warning threshold** (default 80 %) the cadre is warned and may not be
  rated excellent, promoted or listed as reserve that year (rule book figure 20);
* below the **non-acceptance threshold** (default 60 %) the cadre is proposed for
  suspension (figure 21): a leader decides;
* with fewer than **minimum ratings** (default 5) in the year neither applies (too
  few voices to judge).
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from core.contract import PolicySpec

WARNING = "evaluation.warning_threshold"
NON_ACCEPTANCE = "evaluation.non_acceptance_threshold"
MINIMUM_RATINGS = "evaluation.minimum_ratings"
FOLLOW_UP_DAYS = "evaluation.follow_up_working_days"
LEADER_WEIGHT = "evaluation.leader_weight"

POLICIES = [
    PolicySpec(
        WARNING,
        "群众满意率警示线",
        "Citizen satisfaction warning threshold",
        default=80,
        type=float,
        minimum=0,
        maximum=100,
        unit="%",
        help=_l(
            "A cadre whose share of satisfied and basically satisfied ratings in a year is "
            "below this is warned and may not be rated excellent, promoted or listed as "
            "reserve that year."
        ),
    ),
    PolicySpec(
        NON_ACCEPTANCE,
        "群众不认可线",
        "Citizen non-acceptance threshold",
        default=60,
        type=float,
        minimum=0,
        maximum=100,
        unit="%",
        help=_l(
            "A cadre whose yearly satisfaction is below this is proposed for suspension; "
            "a leader decides."
        ),
    ),
    PolicySpec(
        MINIMUM_RATINGS,
        "判定所需最少评价数",
        "Ratings needed in a year before the thresholds apply",
        default=5,
        minimum=1,
        maximum=1000,
        unit=_l("ratings"),
    ),
    PolicySpec(
        FOLLOW_UP_DAYS,
        "不满意评价回访时限（工作日）",
        "Working days for a leader to follow up a dissatisfied rating",
        default=5,
        minimum=1,
        maximum=30,
        unit=_l("working days"),
    ),
    PolicySpec(
        LEADER_WEIGHT,
        "考评中领导评分权重",
        "Weight of the leaders' marks in a round",
        default=50,
        minimum=0,
        maximum=100,
        unit="%",
        help=_l("The peers' marks weigh the rest."),
    ),
]
