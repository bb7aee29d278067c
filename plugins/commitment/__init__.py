"""服务承诺制度: service commitments, three-level mediation and the yearly quotas.

Hook implementations only; each delegates to the plugin's modules.
"""

from __future__ import annotations

from pathlib import Path

from core import hookimpl
from core.contract import Permission, PluginInfo

__version__ = "0.1.0"

KEY = "commitment"


@hookimpl
def township_plugin_info():
    return PluginInfo(
        key=KEY,
        name="服务承诺",
        name_en="Service commitments",
        version=__version__,
        description="Leaders take matters (on the spot or assigned by urgency), disputes in "
        "three-level mediation, and each leader's and cadre's yearly quota (服务承诺制度).",
        migrations=Path(__file__).parent / "migrations" / "versions",
    )


@hookimpl
def township_models():
    from plugins.commitment.models import MODELS

    return MODELS


@hookimpl
def township_policies():
    from plugins.commitment.policy import POLICIES

    return POLICIES


@hookimpl
def township_permissions():
    return [
        Permission(
            "commitment.read",
            "查看服务承诺与考核",
            "Read commitments and the quota report",
            frozenset({"leader", "township_admin", "county_admin", "clerk", "duty_leader"}),
        ),
        Permission(
            "commitment.take",
            "领导接办事项",
            "Take a matter as a leader",
            frozenset({"leader"}),
        ),
        Permission(
            "commitment.mediate",
            "记录纠纷调处",
            "Record disputes and mediations",
            frozenset({"leader", "clerk", "township_admin"}),
        ),
        Permission(
            "commitment.quota_leader",
            "按领导计算年度办事数(10件)",
            "Counted as a leader for the yearly quota",
            frozenset({"leader"}),
        ),
        Permission(
            "commitment.quota_cadre",
            "按镇干部计算年度办事数(5件)",
            "Counted as a township cadre for the yearly quota",
            frozenset({"clerk", "duty_leader"}),
        ),
    ]


@hookimpl
def township_blueprints():
    from plugins.commitment.views import bp

    return [bp]


@hookimpl
def township_admin_views():
    from plugins.commitment.admin import admin_views

    return admin_views()


@hookimpl
def township_inbox_sources(user, township_ids):
    from plugins.commitment.hooks import inbox_sources

    return inbox_sources(user, township_ids)


@hookimpl
def township_person_year_figures(township, year, user_ids):
    from core.institutions import is_enabled
    from plugins.commitment.services import person_year_figures

    if not is_enabled(township.id, KEY):
        return []
    return person_year_figures(township, year, user_ids)


@hookimpl
def county_dashboard_figures(townships, session):
    from plugins.commitment.admin import county_dashboard_figures

    return county_dashboard_figures(townships)


@hookimpl
def township_demo_data(township, session):
    from plugins.commitment.demo import seed

    seed(township)
