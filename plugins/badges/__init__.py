"""佩证上岗制度: badge on duty — staff cards, printable badges, "who serves you".

Hook implementations only; each delegates to the plugin's modules. The public
staff page shows the links other institutions offer through
``township_staff_public_links`` (read with :func:`core.people.staff_links`).
"""

from __future__ import annotations

from pathlib import Path

from core import hookimpl
from core.contract import Permission, PluginInfo, Role

__version__ = "0.1.0"


@hookimpl
def township_plugin_info():
    return PluginInfo(
        key="badges",
        name="佩证上岗",
        name_en="Badge on duty",
        version=__version__,
        description="Staff cards with photo, post, number and phone; printable badges with a "
        "QR code; the public page 'who serves you' (佩证上岗制度).",
        migrations=Path(__file__).parent / "migrations" / "versions",
    )


@hookimpl
def township_models():
    from plugins.badges.models import MODELS

    return MODELS


@hookimpl
def township_roles():
    return [
        Role(
            "badges_officer",
            "工作证管理员",
            "Badge officer",
            frozenset({"admin.access", "dashboard.read"}),
        )
    ]


@hookimpl
def township_permissions():
    return [
        Permission(
            "badges.read",
            "查看工作证",
            "See staff cards",
            default_roles=frozenset(
                {"badges_officer", "township_admin", "county_admin", "leader", "clerk"}
            ),
        ),
        Permission(
            "badges.write",
            "制发工作证",
            "Issue staff cards and print badges",
            default_roles=frozenset({"badges_officer", "township_admin", "county_admin"}),
        ),
    ]


@hookimpl
def township_admin_views():
    from core.contract import AdminView
    from plugins.badges.admin import admin_views

    return [AdminView(view) for view in admin_views()]


@hookimpl
def township_blueprints():
    from plugins.badges.views import bp

    return [bp]


@hookimpl
def township_public_sections(township):
    from plugins.badges.hooks import public_sections

    return public_sections(township)


@hookimpl
def county_dashboard_figures(townships, session):
    from plugins.badges.hooks import county_dashboard_figures

    return county_dashboard_figures(townships)


@hookimpl
def township_institution_toggled(township, plugin_key, enabled):
    if plugin_key == "badges" and enabled:
        from plugins.badges.hooks import on_enabled

        on_enabled(township)


@hookimpl
def township_demo_data(township, session):
    from plugins.badges.demo import seed

    seed(township)
