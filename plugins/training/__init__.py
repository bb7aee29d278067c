"""学习培训制度: training records (the plugin object: hook implementations that delegate).

Permissions: ``training.write`` (the training officer) records; reading the
township's reports needs ``training.read`` (the officer's role) *or*
``training.read_reports``, which the plugin declares for the core's leaders,
township and county administrators (a township changes the grant under 角色与权限);
``training.self`` (a learner) sees only "my study record".
"""

from __future__ import annotations

from pathlib import Path

from core import hookimpl
from core.contract import PluginInfo, Role

__version__ = "0.1.0"


@hookimpl
def township_plugin_info():
    return PluginInfo(
        key="training",
        name="学习培训",
        name_en="Training records",
        version=__version__,
        description="Roster, concentrated sessions and attendance, self-study hours, "
        "practical techniques and monthly compliance (学习培训制度).",
        migrations=Path(__file__).parent / "migrations" / "versions",
    )


@hookimpl
def township_models():
    from plugins.training.models import ALL_MODELS

    return ALL_MODELS


@hookimpl
def township_policies():
    from plugins.training.policy import POLICIES

    return POLICIES


@hookimpl
def township_roles():
    return [
        Role(
            "training_officer",
            "培训专干",
            "Training officer",
            frozenset(
                {"admin.access", "training.read", "training.write", "dashboard.read", "api.use"}
            ),
        ),
        Role(
            "training_learner",
            "参训干部",
            "Learner (own study record)",
            frozenset({"admin.access", "training.self"}),
        ),
    ]


@hookimpl
def township_permissions():
    from core.contract import Permission

    return [
        Permission(
            "training.read_reports",
            "查看学习培训报表",
            "Read the township's training reports",
            default_roles=frozenset({"leader", "township_admin", "county_admin"}),
        )
    ]


@hookimpl
def township_inbox_sources(user, township_ids):
    from plugins.training.admin import inbox_sources

    return inbox_sources(user, township_ids)


@hookimpl
def township_admin_views():
    from plugins.training.admin import admin_views

    return admin_views()


@hookimpl
def township_blueprints():
    from plugins.training.views import bp

    return [bp]


@hookimpl
def township_api_resources():
    from plugins.training.api import bp

    return [bp]


@hookimpl
def township_actors():
    from plugins.training.tasks import ACTORS

    return ACTORS


@hookimpl
def township_jobs():
    from plugins.training.jobs import JOBS

    return JOBS


@hookimpl
def county_dashboard_figures(townships, session):
    from plugins.training.admin import county_dashboard_figures

    return county_dashboard_figures(townships)


@hookimpl
def township_demo_data(township, session):
    from core.institutions import is_enabled
    from plugins.training.demo import seed

    if is_enabled(township.id, "training"):
        seed(township, session)


@hookimpl
def township_person_year_figures(township, year, user_ids):
    from plugins.training.yearly import person_year_figures

    return person_year_figures(township, year, user_ids)


@hookimpl
def township_cli_commands():
    from plugins.training.cli import COMMANDS

    return COMMANDS
