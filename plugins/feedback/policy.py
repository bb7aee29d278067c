"""Policy figures of information feedback (信息反馈制度).

* ``feedback.duty_report_due_time`` — the person on duty reports the letters, visits and
  hotline calls received "before handing over the next day": the report is due at this
  time of the next working day (08:30 by default; a Friday's duty reports on Monday, or
  on the adjusted working day 调休 after a holiday).
* ``feedback.village_reports_per_stage`` — each village reports at least three
  instructive activity reports (典型活动报告) per stage (the rule book's figure).
"""

from __future__ import annotations

import re
from datetime import time

from flask_babel import lazy_gettext as _l

from core.contract import PolicySpec

KEY = "feedback"
DUE_TIME = "feedback.duty_report_due_time"
VILLAGE_REPORTS = "feedback.village_reports_per_stage"

DUE_TIME_DEFAULT = "08:30"
VILLAGE_REPORTS_DEFAULT = 3

_CLOCK = re.compile(r"(\d{1,2})[:：](\d{2})")


class TimeOfDayPolicy(PolicySpec):
    """A policy whose value is a time of day, kept as ``HH:MM``."""

    def validate(self, value):
        from flask_babel import gettext as _

        text = str(value if value is not None else "").strip()
        if not text:
            raise ValueError(_("A value is required."))
        found = _CLOCK.fullmatch(text)
        if not found or int(found[1]) > 23 or int(found[2]) > 59:
            raise ValueError(_("Give a time of day as HH:MM, for example 08:30."))
        return f"{int(found[1]):02d}:{found[2]}"


def time_of(value: str | None, default: str = DUE_TIME_DEFAULT) -> time:
    """``"08:30"`` as a :class:`datetime.time` (the default if the stored value is unreadable)."""
    found = _CLOCK.fullmatch(str(value or "").strip()) or _CLOCK.fullmatch(default)
    return time(int(found[1]), int(found[2]))


POLICIES = [
    TimeOfDayPolicy(
        DUE_TIME,
        "值班报告报送时间（次一工作日）",
        "Time of the next working day by which the duty report is due",
        default=DUE_TIME_DEFAULT,
        type=str,
        help=_l(
            "The person on duty reports the letters, visits and hotline calls received before "
            "handing over the next day: the report is due at this time of the next working day "
            "(a Friday's duty reports on Monday, or on the adjusted working day after a holiday)."
        ),
    ),
    PolicySpec(
        VILLAGE_REPORTS,
        "每村每阶段典型活动报告（篇）",
        "Instructive activity reports each village makes per stage",
        default=VILLAGE_REPORTS_DEFAULT,
        minimum=1,
        maximum=50,
        unit=_l("reports"),
        help=_l(
            "The rule book asks each village for at least three instructive activity reports "
            "per stage; a village with fewer is behind."
        ),
    ),
]
