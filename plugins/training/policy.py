"""The training rule book's figures (学习培训制度) as township policies with their defaults."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from core.contract import PolicySpec

TOWNSHIP_DAYS = "training.township_study_days"
VILLAGE_DAYS = "training.village_study_days"
SELF_STUDY_HOURS = "training.self_study_hours"
TOWNSHIP_CADRE_PARTICIPATION = "training.township_cadre_participation"
PARTY_MEMBER_PARTICIPATION = "training.party_member_participation"
CADRE_TECHNIQUES = "training.cadre_techniques"
CADRE_NOTE_CHARS = "training.cadre_note_chars"
PARTY_MEMBER_NOTE_CHARS = "training.party_member_note_chars"

POLICIES = [
    PolicySpec(
        TOWNSHIP_DAYS,
        "镇集中学习天数(每月)",
        "Township concentrated study days a month",
        default=2,
        type=float,
        minimum=0,
        maximum=31,
        unit=_l("days"),
    ),
    PolicySpec(
        VILLAGE_DAYS,
        "各村集中学习天数(每月)",
        "Concentrated study days a month in each village",
        default=2,
        type=float,
        minimum=0,
        maximum=31,
        unit=_l("days"),
    ),
    PolicySpec(
        SELF_STUDY_HOURS,
        "每人每月自学课时",
        "Self-study class hours per person a month",
        default=20,
        type=float,
        minimum=0,
        maximum=372,
        unit=_l("class hours"),
    ),
    PolicySpec(
        TOWNSHIP_CADRE_PARTICIPATION,
        "镇干部集中培训参训率",
        "Participation of township cadres in concentrated training",
        default=100,
        type=float,
        minimum=0,
        maximum=100,
        unit="%",
    ),
    PolicySpec(
        PARTY_MEMBER_PARTICIPATION,
        "农村党员集中培训参训率",
        "Participation of rural party members in concentrated training",
        default=85,
        type=float,
        minimum=0,
        maximum=100,
        unit="%",
    ),
    PolicySpec(
        CADRE_TECHNIQUES,
        "干部掌握实用技术(项)",
        "Practical techniques a cadre masters",
        default=6,
        type=int,
        minimum=0,
        maximum=100,
    ),
    PolicySpec(
        CADRE_NOTE_CHARS,
        "干部学习笔记字数(每月)",
        "Study-note characters of a cadre a month",
        default=5000,
        type=int,
        minimum=0,
        maximum=1_000_000,
        unit=_l("characters"),
    ),
    PolicySpec(
        PARTY_MEMBER_NOTE_CHARS,
        "初中以上农村党员学习笔记字数(每月)",
        "Study-note characters a month of rural party members with junior middle school or more",
        default=None,
        type=int,
        minimum=0,
        maximum=1_000_000,
        unit=_l("characters"),
        help=_l("The rule book leaves this figure to the township (“XX”): not set until it is."),
    ),
]
