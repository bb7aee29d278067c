"""服务“四限”制度: the service guide and the four limits (time, place, matters, fees).

Hook implementations only; each delegates to the plugin's modules.
"""

from __future__ import annotations

from pathlib import Path

from core import hookimpl
from core.contract import Permission, PluginInfo

__version__ = "0.1.0"

KEY = "guide"
READERS = frozenset({"leader", "township_admin", "county_admin", "clerk", "duty_leader"})


@hookimpl
def township_plugin_info():
    return PluginInfo(
        key=KEY,
        name="办事指南与四限",
        name_en="Service guide and the four limits",
        version=__version__,
        description="The catalogue of matters (where, on what authority, in how long, at what "
        "fee), fees charged, village service rooms and the on-time rate (服务“四限”制度).",
        migrations=Path(__file__).parent / "migrations" / "versions",
    )


@hookimpl
def township_models():
    from plugins.guide.models import MODELS

    return MODELS


@hookimpl
def township_permissions():
    return [
        Permission("guide.read", "查看办事指南与报表", "Read the service guide's reports", READERS),
        Permission(
            "guide.write",
            "维护办事指南",
            "Keep the service guide",
            frozenset({"township_admin", "county_admin"}),
        ),
        Permission(
            "guide.register",
            "按指南登记事项与收费",
            "Register cases from the guide and record fees",
            frozenset({"clerk", "leader", "township_admin", "duty_leader"}),
        ),
        Permission(
            "guide.model",
            "维护县级示范目录",
            "Keep the county's model catalogue",
            frozenset({"county_admin"}),
        ),
    ]


@hookimpl
def township_admin_views():
    from plugins.guide.admin import admin_views

    return admin_views()


@hookimpl
def township_blueprints():
    from plugins.guide.views import bp

    return [bp]


@hookimpl
def county_dashboard_figures(townships, session):
    from plugins.guide.admin import county_dashboard_figures

    return county_dashboard_figures(townships)


@hookimpl
def township_public_sections(township):
    from plugins.guide.hooks import public_sections

    return public_sections(township)


@hookimpl
def township_receipt_sections(receipt):
    from plugins.guide.hooks import receipt_sections

    return receipt_sections(receipt)


@hookimpl
def township_demo_data(township, session):
    from plugins.guide.demo import seed

    seed(township)
