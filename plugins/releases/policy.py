"""The institution's policy figures with the rule book's defaults."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from core.contract import PolicySpec

#: 每月发布一次: how many releases a month the plan must achieve (compliance figure)
RELEASES_PER_MONTH = "releases.releases_per_month"
#: 点题公开: working days to answer a citizen's topic request
TOPIC_ANSWER_DAYS = "releases.topic_answer_working_days"

POLICIES = [
    PolicySpec(
        RELEASES_PER_MONTH,
        "每月信息发布次数",
        "Releases per month",
        default=1,
        minimum=1,
        maximum=31,
        unit=_l("releases"),
        help=_l("The rule book: information is released once a month."),
    ),
    PolicySpec(
        TOPIC_ANSWER_DAYS,
        "点题公开答复时限（工作日）",
        "Working days to answer a topic request",
        default=15,
        minimum=1,
        maximum=60,
        unit=_l("working days"),
        help=_l("A citizen's request that a topic be disclosed is answered within this time."),
    ),
]
