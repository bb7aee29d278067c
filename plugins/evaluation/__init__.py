"""社会监督考评制度: social supervision and evaluation — citizens rate closed cases under
their receipt, leaders and peers rate cadres and units in rounds, problems get
rectification plans, low satisfaction has consequences a leader decides, and each cadre
has an annual sheet.

Hook implementations only; each delegates to the plugin's modules.
"""

from __future__ import annotations

from pathlib import Path

from core import hookimpl
from core.contract import Permission, PluginInfo, Role

__version__ = "0.1.0"

_LEADERS = frozenset({"leader"})
_DECIDERS = frozenset({"leader", "township_admin", "county_admin"})
_OFFICERS = frozenset({"evaluation_officer", "township_admin", "county_admin"})


@hookimpl
def township_plugin_info():
    return PluginInfo(
        key="evaluation",
        name="社会监督考评",
        name_en="Social supervision and evaluation",
        version=__version__,
        description="Citizen satisfaction under the receipt, follow-ups, evaluation rounds, "
        "rectification, consequences and the annual sheet per cadre (社会监督考评制度).",
        migrations=Path(__file__).parent / "migrations" / "versions",
    )


@hookimpl
def township_models():
    from plugins.evaluation.models import MODELS

    return MODELS


@hookimpl
def township_roles():
    return [
        Role(
            "evaluation_officer",
            "考评专干",
            "Evaluation officer",
            frozenset({"admin.access", "dashboard.read", "cases.read"}),
        )
    ]


@hookimpl
def township_permissions():
    return [
        Permission(
            "evaluation.read",
            "查看评价与考评",
            "See ratings, rounds and annual sheets",
            default_roles=_OFFICERS | _DECIDERS | {"clerk"},
        ),
        Permission(
            "evaluation.record",
            "记录电话回访、制定整改",
            "Record phone follow-ups and rectification plans",
            default_roles=_OFFICERS | _DECIDERS | {"clerk"},
        ),
        Permission(
            "evaluation.follow_up",
            "处理不满意评价",
            "Follow up dissatisfied ratings (reopen or answer)",
            default_roles=_LEADERS,
        ),
        Permission(
            "evaluation.decide",
            "评定等次、验收整改、决定停职",
            "Grade cadres, check rectifications, decide suspensions",
            default_roles=_DECIDERS,
        ),
        Permission(
            "evaluation.manage",
            "管理考评轮次",
            "Run evaluation rounds and apply the rule",
            default_roles=_OFFICERS,
        ),
        Permission(
            "evaluation.mark",
            "参与考评打分",
            "Mark cadres and units in rounds",
            default_roles=_OFFICERS | _DECIDERS | {"clerk", "duty_leader"},
        ),
        Permission(
            "evaluation.rate_as_leader",
            "以领导身份评分",
            "Marks count among the leaders'",
            default_roles=_LEADERS,
        ),
    ]


@hookimpl
def township_policies():
    from plugins.evaluation.policy import POLICIES

    return POLICIES


@hookimpl
def township_jobs():
    from plugins.evaluation.jobs import JOBS

    return JOBS


@hookimpl
def township_actors():
    from plugins.evaluation.tasks import ACTORS

    return ACTORS


@hookimpl
def township_admin_views():
    from core.contract import AdminView
    from plugins.evaluation.admin import admin_views

    return [AdminView(view) for view in admin_views()]


@hookimpl
def township_blueprints():
    from plugins.evaluation.views import bp

    return [bp]


@hookimpl
def township_inbox_sources(user, township_ids):
    from plugins.evaluation.hooks import inbox_sources

    return inbox_sources(user, township_ids)


@hookimpl
def township_receipt_sections(receipt):
    from plugins.evaluation.hooks import receipt_sections

    return receipt_sections(receipt)


@hookimpl
def township_staff_public_links(township, user):
    from plugins.evaluation.hooks import staff_links

    return staff_links(township, user)


@hookimpl
def township_person_year_figures(township, year, user_ids):
    from plugins.evaluation.services import person_year_figures

    return person_year_figures(township, year, user_ids)


@hookimpl
def township_case_reopened(case):
    from plugins.evaluation.services import case_reopened

    case_reopened(case)


@hookimpl
def county_dashboard_figures(townships, session):
    from plugins.evaluation.hooks import county_dashboard_figures

    return county_dashboard_figures(townships)


@hookimpl
def township_demo_data(township, session):
    from plugins.evaluation.demo import seed

    seed(township)
