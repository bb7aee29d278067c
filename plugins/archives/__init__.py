"""档案管理制度: the township's archive — filing, the catalogue, borrowing, appraisal.

Hook implementations only; each delegates to the plugin's modules.
"""

from pathlib import Path

from core import hookimpl
from core.contract import Permission, PluginInfo, Role

__version__ = "0.1.0"

STAFF = frozenset({"clerk", "leader", "duty_leader", "township_admin", "county_admin"})
HEADS = frozenset({"leader", "township_admin", "county_admin"})


@hookimpl
def township_plugin_info():
    return PluginInfo(
        key="archives",
        name="档案管理",
        name_en="Archives",
        version=__version__,
        description="Every institution's records filed with reference codes, a searchable "
        "catalogue, borrowing with approval, appraisal and destruction.",
        migrations=Path(__file__).parent / "migrations" / "versions",
        # the catalogue's search: an FTS5 table on SQLite, trigram indexes on PostgreSQL
        unmanaged=("archives_fts*", "ix_archives_*_trgm"),
    )


@hookimpl
def township_models():
    from plugins.archives.models import MODELS

    return MODELS


@hookimpl
def township_roles():
    return [
        Role(
            "archives_archivist",
            "档案员",
            "Archivist",
            frozenset(
                {"admin.access", "dashboard.read", "cases.read", "archives.read", "archives.write"}
            ),
        )
    ]


@hookimpl
def township_permissions():
    return [
        Permission(
            "archives.read",
            "查阅档案目录、申请借阅",
            "Search the archive catalogue and ask to borrow",
            default_roles=STAFF,
        ),
        Permission(
            "archives.write",
            "档案整理归档、出借与鉴定",
            "File, lend and appraise archives",
            default_roles=frozenset({"township_admin", "county_admin"}),
        ),
        Permission(
            "archives.approve_loan",
            "审批档案借阅",
            "Approve borrowing from the archive",
            default_roles=HEADS,
        ),
        Permission(
            "archives.approve_destruction",
            "审批档案销毁",
            "Approve destroying archives",
            default_roles=HEADS,
        ),
    ]


@hookimpl
def township_policies():
    from plugins.archives.policy import POLICIES

    return POLICIES


@hookimpl
def township_jobs():
    from plugins.archives.jobs import JOBS

    return JOBS


@hookimpl
def township_actors():
    from plugins.archives import tasks

    return [tasks.overdue_sweep_job, tasks.loan_reminder]


@hookimpl
def township_admin_views():
    from core.contract import AdminView
    from plugins.archives.admin import admin_views

    return [AdminView(view) for view in admin_views()]


@hookimpl
def township_blueprints():
    from plugins.archives.views import bp

    return [bp]


@hookimpl
def township_record_produced(township, record):
    from plugins.archives.services import receive_record

    receive_record(township, record)


@hookimpl
def township_institution_toggled(township, plugin_key, enabled):
    if plugin_key == "archives" and enabled:
        from plugins.archives.services import on_enabled

        on_enabled(township)


@hookimpl
def township_inbox_sources(user, township_ids):
    from plugins.archives.services import inbox_sources

    return inbox_sources(user, township_ids)


@hookimpl
def county_dashboard_figures(townships, session):
    from plugins.archives.hooks import county_dashboard_figures

    return county_dashboard_figures(townships)


@hookimpl
def township_demo_data(township, session):
    from plugins.archives.demo import seed

    seed(township)
