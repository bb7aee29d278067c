"""信息收集与发布制度 + 政务村务公开制度: information release and disclosure.

Hook implementations only; each delegates to the plugin's modules.
"""

from pathlib import Path

from core import hookimpl
from core.contract import PluginInfo, Role

__version__ = "0.1.0"


@hookimpl
def township_plugin_info():
    return PluginInfo(
        key="releases",
        name="信息发布与公开",
        name_en="Information release",
        version=__version__,
        description="Collected information, products, a scheduled monthly release, "
        "the disclosure board and citizens' topic requests.",
        migrations=Path(__file__).parent / "migrations" / "versions",
    )


@hookimpl
def township_models():
    from plugins.releases.models import MODELS

    return MODELS


@hookimpl
def township_roles():
    return [
        Role(
            "releases_officer",
            "信息员",
            "Information officer",
            frozenset({"admin.access", "dashboard.read", "releases.write", "api.use"}),
        )
    ]


@hookimpl
def township_permissions():
    from core.contract import Permission

    return [
        Permission(
            "releases.approve",
            "审批信息产品",
            "Approve information products",
            default_roles=frozenset({"leader", "township_admin", "county_admin"}),
        )
    ]


@hookimpl
def township_inbox_sources(user, township_ids):
    from plugins.releases.hooks import inbox_sources

    return inbox_sources(user, township_ids)


@hookimpl
def township_find_receipt(receipt_no):
    from plugins.releases.hooks import find_receipt

    return find_receipt(receipt_no)


@hookimpl
def township_policies():
    from plugins.releases.policy import POLICIES

    return POLICIES


@hookimpl
def township_jobs():
    from plugins.releases.jobs import JOBS

    return JOBS


@hookimpl
def township_actors():
    from plugins.releases import tasks

    return [tasks.publish, tasks.plan_due, tasks.due_sweep_job, tasks.topic_reminders_job]


@hookimpl
def township_admin_views():
    from core.contract import AdminView
    from plugins.releases.admin import admin_views

    return [AdminView(view) for view in admin_views()]


@hookimpl
def township_blueprints():
    from plugins.releases.views import bp

    return [bp]


@hookimpl
def township_api_resources():
    from plugins.releases.api import bp

    return [bp]


@hookimpl
def township_institution_toggled(township, plugin_key, enabled):
    if plugin_key == "releases" and enabled:
        from plugins.releases.hooks import on_enabled

        on_enabled(township)


@hookimpl
def county_dashboard_figures(townships, session):
    from plugins.releases.hooks import county_dashboard_figures

    return county_dashboard_figures(townships)


@hookimpl
def township_demo_data(township, session):
    from plugins.releases.demo import seed

    seed(township)
