"""The institution's policy figures with their defaults."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from core.contract import PolicySpec

#: the longest a loan lasts, whatever the borrower asked for (days)
LOAN_DAYS = "archives.loan_days"

POLICIES = [
    PolicySpec(
        LOAN_DAYS,
        "档案借阅最长期限（天）",
        "Longest loan of archives (days)",
        default=30,
        minimum=1,
        maximum=365,
        unit=_l("days"),
        help=_l("Borrowed archives are due back at the latest this many days after lending."),
    ),
]
