"""群众听证质询制度: public hearings and inquiries — the party committee calls a hearing on a
hot, hard or focal issue or a major decision, announces it on the public site (citizens
concerned register and get a receipt number), invites participants by category, records
attendance and every question with its answer or a responsible person and a deadline (a
core case), publishes the result, feeds it back to every participant and hands the minutes
to the archive.

Hook implementations only; each delegates to the plugin's modules.
"""

from __future__ import annotations

from pathlib import Path

from core import hookimpl
from core.contract import CaseKind, Permission, PluginInfo, Role
from core.models import LimitUnit

__version__ = "0.1.0"

KEY = "hearings"
_ADMINS = frozenset({"township_admin", "county_admin"})


@hookimpl
def township_plugin_info():
    return PluginInfo(
        key=KEY,
        name="群众听证质询",
        name_en="Public hearings and inquiries",
        version=__version__,
        description="Hearings and inquiries the party committee calls: announcement and "
        "registration, participants by category, questions answered on the spot or with a "
        "responsible person and a deadline, the result published and fed back, minutes to "
        "the archive (群众听证质询制度).",
        migrations=Path(__file__).parent / "migrations" / "versions",
    )


@hookimpl
def township_models():
    from plugins.hearings.models import MODELS

    return MODELS


@hookimpl
def township_roles():
    return [
        Role(
            "hearings_secretary",
            "听证会秘书",
            "Hearings secretary",
            frozenset({"admin.access", "cases.read", "people.read", "dashboard.read"}),
        )
    ]


@hookimpl
def township_permissions():
    return [
        Permission(
            "hearings.read",
            "查看听证质询会",
            "See hearings and inquiries",
            default_roles=_ADMINS | {"leader", "hearings_secretary"},
        ),
        Permission(
            "hearings.manage",
            "组织听证质询会（公告、邀请、记录、总结）",
            "Run hearings (announce, invite, record, conclude)",
            default_roles=_ADMINS | {"leader", "hearings_secretary"},
        ),
    ]


@hookimpl
def township_case_kinds():
    # the deadline set at the hearing replaces this default limit (see services)
    return [
        CaseKind(
            "hearings.question",
            "听证质询限期答复",
            "Hearing question to answer by a deadline",
            15,
            LimitUnit.calendar_days,
            archive_class=KEY,
        )
    ]


@hookimpl
def township_admin_views():
    from core.contract import AdminView
    from plugins.hearings.admin import admin_views

    return [AdminView(view) for view in admin_views()]


@hookimpl
def township_blueprints():
    from plugins.hearings.views import bp

    return [bp]


@hookimpl
def township_inbox_sources(user, township_ids):
    from plugins.hearings.hooks import inbox_sources

    return inbox_sources(user, township_ids)


@hookimpl
def township_find_receipt(receipt_no):
    from plugins.hearings.services import find_receipt

    return find_receipt(receipt_no)


@hookimpl
def township_receipt_sections(receipt):
    from plugins.hearings.hooks import receipt_sections

    return receipt_sections(receipt)


@hookimpl
def township_public_sections(township):
    from plugins.hearings.hooks import public_sections

    return public_sections(township)


@hookimpl
def township_case_closed(case):
    from plugins.hearings.services import case_closed

    case_closed(case)


@hookimpl
def county_dashboard_figures(townships, session):
    from plugins.hearings.hooks import county_dashboard_figures

    return county_dashboard_figures(townships)


@hookimpl
def township_demo_data(township, session):
    from plugins.hearings.demo import seed

    seed(township)
