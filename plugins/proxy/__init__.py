"""办事代理制度: proxy handling to the citizen's door ("不让群众走回头路").

Hook implementations only; each delegates to the plugin's modules.
"""

from __future__ import annotations

from pathlib import Path

from core import hookimpl
from core.contract import Permission, PluginInfo

__version__ = "0.1.0"

KEY = "proxy"


@hookimpl
def township_plugin_info():
    return PluginInfo(
        key=KEY,
        name="办事代理",
        name_en="Proxy handling",
        version=__version__,
        description="Proxy records (代办单): materials received, county steps, progress, "
        "delivery to the citizen's home and the leader's sign-off (办事代理制度).",
        migrations=Path(__file__).parent / "migrations" / "versions",
    )


@hookimpl
def township_models():
    from plugins.proxy.models import MODELS

    return MODELS


@hookimpl
def township_permissions():
    return [
        Permission(
            "proxy.read",
            "查看代办单",
            "Read proxy records",
            frozenset({"leader", "township_admin", "county_admin", "clerk", "duty_leader"}),
        ),
        Permission(
            "proxy.write",
            "办理代办事项",
            "Take matters over and record their steps",
            frozenset({"clerk", "leader", "township_admin", "duty_leader"}),
        ),
        Permission(
            "proxy.sign_off",
            "代办单签字确认",
            "Sign proxy records off",
            frozenset({"leader", "township_admin"}),
        ),
    ]


@hookimpl
def township_blueprints():
    from plugins.proxy.views import bp

    return [bp]


@hookimpl
def township_admin_views():
    from plugins.proxy.admin import admin_views

    return admin_views()


@hookimpl
def township_actors():
    from plugins.proxy.tasks import ACTORS

    return ACTORS


@hookimpl
def township_jobs():
    from plugins.proxy.jobs import JOBS

    return JOBS


@hookimpl
def township_inbox_sources(user, township_ids):
    from plugins.proxy.hooks import inbox_sources

    return inbox_sources(user, township_ids)


@hookimpl
def township_receipt_sections(receipt):
    from plugins.proxy.hooks import receipt_sections

    return receipt_sections(receipt)


@hookimpl
def county_dashboard_figures(townships, session):
    from plugins.proxy.admin import county_dashboard_figures

    return county_dashboard_figures(townships)


@hookimpl
def township_demo_data(township, session):
    from plugins.proxy.demo import seed

    seed(township)
