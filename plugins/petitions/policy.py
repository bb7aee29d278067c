"""Time limits of petition handling as township policies.

The rule book (信访旁听制度, 领导接待制度) sets no time limits; the defaults come from the
national Regulations on Petition Work (《信访工作条例》, 2022): decide whether to accept a
petition within 15 days of receiving it; handle an accepted one within 60 days, which a
leader may extend by at most 30 days. The 60 days and the extension are the time limit of
the core case kind ``petitions.petition`` (60 calendar days, extendable to 90), edited with
the other time limits; the acceptance decision and the follow-up deadline are here.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from core.contract import CaseKind, PolicySpec
from core.models import LimitUnit

KIND = "petitions.petition"
ACCEPT_DAYS = "petitions.accept_decision_days"
FOLLOW_UP_DAYS = "petitions.follow_up_days"
EXTENSION_DAYS = "petitions.extension_days"

#: 《信访工作条例》 defaults (the rule book gives none)
HANDLE_DAYS_DEFAULT = 60
EXTENSION_DAYS_DEFAULT = 30

REGULATION_NOTE = _l(
    "Default from the national Regulations on Petition Work (信访工作条例), not from the "
    "township's rule book, which sets no time limit."
)

POLICIES = [
    PolicySpec(
        ACCEPT_DAYS,
        "信访事项受理告知期限(日)",
        "Days to decide whether to accept a petition",
        default=15,
        minimum=1,
        maximum=60,
        unit=_l("calendar days"),
        help=_l(
            "Counted from the day the petition was received. Default from the national "
            "Regulations on Petition Work (信访工作条例), not from the township's rule book, "
            "which sets no time limit. The handling limit (60 days, extendable by 30 with a "
            "leader's approval) is the time limit of the case kind 'Petition' below."
        ),
    ),
    PolicySpec(
        EXTENSION_DAYS,
        "信访事项延期最多(日)",
        "Most days a leader may extend a petition's handling by",
        default=EXTENSION_DAYS_DEFAULT,
        minimum=0,
        maximum=90,
        unit=_l("calendar days"),
        help=_l(
            "Default from the national Regulations on Petition Work (信访工作条例), not from "
            "the township's rule book. An extension is also capped by the case kind's "
            "longest extension."
        ),
    ),
    PolicySpec(
        FOLLOW_UP_DAYS,
        "交办督办期限(日)",
        "Days a department has to report back on a petition handed to it",
        default=15,
        minimum=1,
        maximum=90,
        unit=_l("calendar days"),
        help=_l("The township's own default for a follow-up deadline; set per hand-over."),
    ),
]

CASE_KINDS = [
    CaseKind(
        KIND,
        "信访事项",
        "Petition",
        HANDLE_DAYS_DEFAULT,
        LimitUnit.calendar_days,
        max_amount=HANDLE_DAYS_DEFAULT + EXTENSION_DAYS_DEFAULT,
        archive_class="YW.petitions",
    )
]
