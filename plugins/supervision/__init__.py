"""服务监督制度: service supervision — the supervision group and its terms, findings (also
citizens' reports from the "who serves you" page) with remedies the leading group
assigns, overdue reminders, accountability of supervisors, and a yearly report.

Hook implementations only; each delegates to the plugin's modules.
"""

from __future__ import annotations

from pathlib import Path

from core import hookimpl
from core.contract import Permission, PluginInfo, Role

__version__ = "0.1.0"

_ADMINS = frozenset({"township_admin", "county_admin"})


@hookimpl
def township_plugin_info():
    return PluginInfo(
        key="supervision",
        name="服务监督",
        name_en="Service supervision",
        version=__version__,
        description="The supervision group, findings and citizens' reports, remedies with an "
        "owner and a deadline, accountability of supervisors, the yearly report (服务监督制度).",
        migrations=Path(__file__).parent / "migrations" / "versions",
    )


@hookimpl
def township_models():
    from plugins.supervision.models import MODELS

    return MODELS


@hookimpl
def township_roles():
    return [
        Role(
            "supervision_member",
            "监督员",
            "Supervisor (supervision group)",
            frozenset({"admin.access", "cases.read"}),
        )
    ]


@hookimpl
def township_permissions():
    return [
        Permission(
            "supervision.read",
            "查看服务监督",
            "See supervision findings and reports",
            default_roles=_ADMINS | {"leader", "supervision_member"},
        ),
        Permission(
            "supervision.record",
            "记录监督发现的问题",
            "Record findings",
            default_roles=_ADMINS | {"leader", "supervision_member"},
        ),
        Permission(
            "supervision.lead",
            "领导班子处理监督问题",
            "Assign remedies and dismiss findings (leading group)",
            default_roles=_ADMINS | {"leader"},
        ),
        Permission(
            "supervision.verify",
            "核实整改",
            "Verify remedies",
            default_roles=_ADMINS | {"leader", "supervision_member"},
        ),
        Permission(
            "supervision.manage",
            "管理监督小组、区域和严重失误",
            "Manage the group, its areas and serious errors",
            default_roles=_ADMINS,
        ),
    ]


@hookimpl
def township_policies():
    from plugins.supervision.policy import POLICIES

    return POLICIES


@hookimpl
def township_jobs():
    from plugins.supervision.jobs import JOBS

    return JOBS


@hookimpl
def township_actors():
    from plugins.supervision.tasks import ACTORS

    return ACTORS


@hookimpl
def township_admin_views():
    from core.contract import AdminView
    from plugins.supervision.admin import admin_views

    return [AdminView(view) for view in admin_views()]


@hookimpl
def township_blueprints():
    from plugins.supervision.views import bp

    return [bp]


@hookimpl
def township_inbox_sources(user, township_ids):
    from plugins.supervision.hooks import inbox_sources

    return inbox_sources(user, township_ids)


@hookimpl
def township_find_receipt(receipt_no):
    from plugins.supervision.services import find_receipt

    return find_receipt(receipt_no)


@hookimpl
def township_staff_public_links(township, user):
    from plugins.supervision.hooks import staff_links

    return staff_links(township, user)


@hookimpl
def township_person_year_figures(township, year, user_ids):
    from plugins.supervision.services import person_year_figures

    return person_year_figures(township, year, user_ids)


@hookimpl
def county_dashboard_figures(townships, session):
    from plugins.supervision.hooks import county_dashboard_figures

    return county_dashboard_figures(townships)


@hookimpl
def township_demo_data(township, session):
    from plugins.supervision.demo import seed

    seed(township)
