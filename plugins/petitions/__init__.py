"""信访旁听制度 and 领导接待: petition auditing and leader reception.

Hook implementations only; each delegates to the plugin's modules.
"""

from __future__ import annotations

from pathlib import Path

from core import hookimpl
from core.contract import Permission, PluginInfo, Role

__version__ = "0.1.0"

KEY = "petitions"

_ADMINS = frozenset({"township_admin", "county_admin"})


@hookimpl
def township_plugin_info():
    return PluginInfo(
        key=KEY,
        name="信访接待",
        name_en="Petitions and leader reception",
        version=__version__,
        description="Reception sessions open to observers (信访旁听制度), the leader reception "
        "day (领导接待制度), petitions as cases with follow-up, collective decisions and "
        "risk flags.",
        migrations=Path(__file__).parent / "migrations" / "versions",
    )


@hookimpl
def township_models():
    from plugins.petitions.models import MODELS

    return MODELS


@hookimpl
def township_roles():
    return [
        Role(
            "petitions_officer",
            "信访专干",
            "Petition officer",
            frozenset(
                {
                    "admin.access",
                    "dashboard.read",
                    "cases.read",
                    "cases.write",
                    "people.read",
                    "people.write",
                    "api.use",
                }
            ),
        )
    ]


@hookimpl
def township_permissions():
    return [
        Permission(
            "petitions.read",
            "查看信访接待",
            "See petitions, reception sessions and the risk register",
            _ADMINS | {"petitions_officer", "leader", "duty_leader", "clerk"},
        ),
        Permission(
            "petitions.write",
            "办理信访事项",
            "Plan sessions, register and follow petitions up",
            frozenset({"petitions_officer", "township_admin"}),
        ),
        Permission(
            "petitions.read_personal",
            "查看信访人身份证号、电话和住址",
            "See petitioners' ID numbers, phones and addresses",
            frozenset({"petitions_officer", "township_admin", "leader"}),
        ),
        Permission(
            "petitions.decide",
            "记录领导班子集体研究决定",
            "Record the leadership team's collective decision",
            frozenset({"leader", "township_admin"}),
        ),
    ]


@hookimpl
def township_policies():
    from plugins.petitions.policy import POLICIES

    return POLICIES


@hookimpl
def township_case_kinds():
    from plugins.petitions.policy import CASE_KINDS

    return CASE_KINDS


@hookimpl
def township_admin_views():
    from plugins.petitions.admin import admin_views

    return admin_views()


@hookimpl
def township_blueprints():
    from plugins.petitions.views import bp

    return [bp]


@hookimpl
def township_actors():
    from plugins.petitions.tasks import ACTORS

    return ACTORS


@hookimpl
def township_jobs():
    from plugins.petitions.jobs import JOBS

    return JOBS


@hookimpl
def township_inbox_sources(user, township_ids):
    from plugins.petitions.hooks import inbox_sources

    return inbox_sources(user, township_ids)


@hookimpl
def township_receipt_sections(receipt):
    from plugins.petitions.hooks import receipt_sections

    return receipt_sections(receipt)


@hookimpl
def township_case_closed(case):
    from plugins.petitions.services import case_closed

    case_closed(case)


@hookimpl
def county_dashboard_figures(townships, session):
    from plugins.petitions.hooks import county_dashboard_figures

    return county_dashboard_figures(townships)


@hookimpl
def township_public_sections(township):
    from plugins.petitions.hooks import public_sections

    return public_sections(township)


@hookimpl
def township_demo_data(township, session):
    from plugins.petitions.demo import seed

    seed(township)
