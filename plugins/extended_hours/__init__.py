"""延时办理制度: extended hours — five working days, seven days of service.

Service windows rotate staff so that weekends and holidays are covered; urgent matters
are served outside the eight hours with the same attitude, efficiency and result;
staff accept no meals or gifts from citizens during extended service. Hook
implementations only; each delegates to the plugin's modules.
"""

from __future__ import annotations

from pathlib import Path

from core import hookimpl
from core.contract import Permission, PluginInfo

__version__ = "0.1.0"

KEY = "extended_hours"


@hookimpl
def township_plugin_info():
    return PluginInfo(
        key=KEY,
        name="延时办理",
        name_en="Extended hours",
        version=__version__,
        description="Window coverage at weekends and on holidays, the after-hours service "
        "log, the yearly conduct rule and the public weekend duty (延时办理制度).",
        migrations=Path(__file__).parent / "migrations" / "versions",
    )


@hookimpl
def township_models():
    from plugins.extended_hours.models import MODELS

    return MODELS


@hookimpl
def township_permissions():
    return [
        Permission(
            "extended_hours.read",
            "查看延时服务登记和窗口值班覆盖",
            "Read the after-hours service log and the window coverage",
            frozenset({"leader", "township_admin", "county_admin", "clerk", "duty_leader"}),
        ),
        Permission(
            "extended_hours.write",
            "登记延时服务",
            "Record after-hours services",
            frozenset({"leader", "township_admin", "clerk", "duty_leader"}),
        ),
        Permission(
            "extended_hours.coverage",
            "接收窗口无人值班提醒",
            "Be told of days without anyone at the service windows",
            frozenset({"township_admin"}),
        ),
    ]


@hookimpl
def township_policies():
    from plugins.extended_hours.policy import POLICIES

    return POLICIES


@hookimpl
def township_admin_views():
    from plugins.extended_hours.admin import admin_views

    return admin_views()


@hookimpl
def township_blueprints():
    from plugins.extended_hours.views import bp

    return [bp]


@hookimpl
def township_actors():
    from plugins.extended_hours.tasks import ACTORS

    return ACTORS


@hookimpl
def township_jobs():
    from plugins.extended_hours.jobs import JOBS

    return JOBS


@hookimpl
def township_inbox_sources(user, township_ids):
    from plugins.extended_hours.hooks import inbox_sources

    return inbox_sources(user, township_ids)


@hookimpl
def township_public_sections(township):
    from plugins.extended_hours.hooks import public_sections

    return public_sections(township)


@hookimpl
def township_receipt_sections(receipt):
    from plugins.extended_hours.hooks import receipt_sections

    return receipt_sections(receipt)


@hookimpl
def township_person_year_figures(township, year, user_ids):
    from plugins.extended_hours.services import person_year_figures

    return person_year_figures(township, year, user_ids)


@hookimpl
def county_dashboard_figures(townships, session):
    from core.institutions import is_enabled
    from plugins.extended_hours.hooks import county_dashboard_figures

    figures = county_dashboard_figures([t for t in townships if is_enabled(t.id, KEY)])
    return {t.id: figures.get(t.id, []) for t in townships}


@hookimpl
def township_demo_data(township, session):
    from plugins.extended_hours.demo import seed

    seed(township)
