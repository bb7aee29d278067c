"""信息反馈制度: information feedback.

Leaders, cadres, the mediation group and unit heads report the service situation to the
office; service team leaders report progress by stage; the person on duty reports the
letters, visits and hotline calls received before handing over the next day; each
village reports at least three instructive activity reports per stage. Hook
implementations only; each delegates to the plugin's modules.
"""

from __future__ import annotations

from pathlib import Path

from core import hookimpl
from core.contract import Permission, PluginInfo, Role

__version__ = "0.1.0"

KEY = "feedback"


@hookimpl
def township_plugin_info():
    return PluginInfo(
        key=KEY,
        name="信息反馈",
        name_en="Information feedback",
        version=__version__,
        description="Duty reports before the hand-over, stage reports of service teams and "
        "villages, reports to the office and the monthly digest (信息反馈制度).",
        migrations=Path(__file__).parent / "migrations" / "versions",
    )


@hookimpl
def township_models():
    from plugins.feedback.models import MODELS

    return MODELS


@hookimpl
def township_roles():
    return [
        Role(
            "feedback_team_leader",
            "服务队队长",
            "Service team leader",
            frozenset({"admin.access", "dashboard.read", "feedback.read", "feedback.report"}),
        )
    ]


@hookimpl
def township_permissions():
    return [
        Permission(
            "feedback.read",
            "查看值班报告和情况报告",
            "Read duty reports and reports to the office",
            frozenset({"leader", "township_admin", "county_admin", "clerk", "duty_leader"}),
        ),
        Permission(
            "feedback.report",
            "向办公室报告、报送阶段报告",
            "Report to the office and file stage reports",
            frozenset({"leader", "township_admin", "clerk", "duty_leader"}),
        ),
        Permission(
            "feedback.office",
            "办公室：签收报告、督促值班报告、设定阶段",
            "The office: acknowledge reports, follow up missing duty reports, define stages",
            frozenset({"township_admin", "clerk"}),
        ),
        Permission(
            "feedback.digest",
            "接收信息反馈月度汇总",
            "Receive the monthly information feedback digest",
            frozenset({"leader", "township_admin", "county_admin"}),
        ),
    ]


@hookimpl
def township_policies():
    from plugins.feedback.policy import POLICIES

    return POLICIES


@hookimpl
def township_admin_views():
    from plugins.feedback.admin import admin_views

    return admin_views()


@hookimpl
def township_blueprints():
    from plugins.feedback.views import bp

    return [bp]


@hookimpl
def township_actors():
    from plugins.feedback.tasks import ACTORS

    return ACTORS


@hookimpl
def township_jobs():
    from plugins.feedback.jobs import JOBS

    return JOBS


@hookimpl
def township_inbox_sources(user, township_ids):
    from plugins.feedback.hooks import inbox_sources

    return inbox_sources(user, township_ids)


@hookimpl
def township_person_year_figures(township, year, user_ids):
    from plugins.feedback.services import duty_year_figures

    return duty_year_figures(township, year, user_ids)


@hookimpl
def county_dashboard_figures(townships, session):
    from plugins.feedback.hooks import county_dashboard_figures

    return county_dashboard_figures(townships)


@hookimpl
def township_demo_data(township, session):
    from plugins.feedback.demo import seed

    seed(township)
