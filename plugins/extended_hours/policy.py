"""Policy figures of extended hours (延时办理制度).

* ``extended_hours.office_opens`` / ``extended_hours.office_closes`` — the township's
  office hours on a working day ("the eight hours"; 08:30 to 17:30 with an hour's lunch
  break by default). A service counts as after-hours when it lies, at least partly,
  outside them or on a rest day.
* ``extended_hours.coverage_weeks`` — how many weeks ahead the coverage check looks for
  days without anyone at a service window ("five working days, seven days of service").
"""

from __future__ import annotations

import re
from datetime import time

from flask_babel import lazy_gettext as _l

from core.contract import PolicySpec

KEY = "extended_hours"
OPENS = "extended_hours.office_opens"
CLOSES = "extended_hours.office_closes"
COVERAGE_WEEKS = "extended_hours.coverage_weeks"

OPENS_DEFAULT = "08:30"
CLOSES_DEFAULT = "17:30"
COVERAGE_WEEKS_DEFAULT = 4

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


def time_of(value: str | None, default: str) -> time:
    """``"08:30"`` as a :class:`datetime.time` (the default if unreadable)."""
    found = _CLOCK.fullmatch(str(value or "").strip()) or _CLOCK.fullmatch(default)
    return time(int(found[1]), int(found[2]))


POLICIES = [
    TimeOfDayPolicy(
        OPENS,
        "工作日上班时间",
        "Office hours on a working day: opening time",
        default=OPENS_DEFAULT,
        type=str,
        help=_l("Services before this time on a working day are after-hours services (延时服务)."),
    ),
    TimeOfDayPolicy(
        CLOSES,
        "工作日下班时间",
        "Office hours on a working day: closing time",
        default=CLOSES_DEFAULT,
        type=str,
        help=_l(
            "Services after this time on a working day, and any service on a rest day, are "
            "after-hours services (延时服务)."
        ),
    ),
    PolicySpec(
        COVERAGE_WEEKS,
        "窗口值班覆盖检查（周）",
        "Weeks ahead the window coverage check looks",
        default=COVERAGE_WEEKS_DEFAULT,
        minimum=1,
        maximum=12,
        unit=_l("weeks"),
        help=_l(
            "Five working days, seven days of service: every day of these weeks, working day "
            "or rest day, needs someone at a service window; days without anyone are shown "
            "on the dashboard and in the township administrators' inbox."
        ),
    ),
]
