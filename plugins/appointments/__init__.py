"""群众预约领导制度: leader appointments.

When a citizen needs a leader who is away, the receiving staff fills in an appointment
card; when the leader is back, the leader visits the citizen at home and the result is
registered on the card. Hook implementations only; each delegates to the plugin's
modules.
"""

from __future__ import annotations

from pathlib import Path

from core import hookimpl
from core.contract import Permission, PluginInfo

__version__ = "0.1.0"

KEY = "appointments"


@hookimpl
def township_plugin_info():
    return PluginInfo(
        key=KEY,
        name="群众预约领导",
        name_en="Leader appointments",
        version=__version__,
        description="Appointment cards for a leader who is away, the leader's queue on "
        "return, home visits and their results (群众预约领导制度).",
        migrations=Path(__file__).parent / "migrations" / "versions",
    )


@hookimpl
def township_models():
    from plugins.appointments.models import MODELS

    return MODELS


@hookimpl
def township_permissions():
    return [
        Permission(
            "appointments.read",
            "查看群众预约办公卡",
            "Read appointment cards",
            frozenset({"leader", "township_admin", "county_admin", "clerk", "duty_leader"}),
        ),
        Permission(
            "appointments.write",
            "填写预约卡、登记走访",
            "Take appointment cards and record home visits",
            frozenset({"clerk", "leader", "township_admin", "duty_leader"}),
        ),
        Permission(
            "appointments.read_personal",
            "查看预约群众的电话和住址",
            "See the phone and address of citizens asking for an appointment",
            frozenset({"leader", "township_admin"}),
        ),
        Permission(
            "appointments.supervise",
            "督促领导按期走访",
            "Supervise the leaders' home visits (reminded of overdue cards)",
            frozenset({"township_admin"}),
        ),
    ]


@hookimpl
def township_policies():
    from plugins.appointments.policy import POLICIES

    return POLICIES


@hookimpl
def township_case_kinds():
    from plugins.appointments.policy import CASE_KINDS

    return CASE_KINDS


@hookimpl
def township_blueprints():
    from plugins.appointments.views import bp

    return [bp]


@hookimpl
def township_admin_views():
    from plugins.appointments.admin import admin_views

    return admin_views()


@hookimpl
def township_actors():
    from plugins.appointments.tasks import ACTORS

    return ACTORS


@hookimpl
def township_jobs():
    from plugins.appointments.jobs import JOBS

    return JOBS


@hookimpl
def township_user_returned(user, township, absence):
    from plugins.appointments.services import leader_returned

    leader_returned(user, township, absence)


@hookimpl
def township_institution_toggled(township, plugin_key, enabled):
    from plugins.appointments.services import catch_up_returns

    if plugin_key == KEY and enabled:
        catch_up_returns({township.id})


@hookimpl
def township_case_closed(case):
    from plugins.appointments.policy import KIND
    from plugins.appointments.services import case_closed

    if case.kind == KIND:
        case_closed(case)


@hookimpl
def township_case_reopened(case):
    from plugins.appointments.policy import KIND
    from plugins.appointments.services import case_reopened

    if case.kind == KIND:
        case_reopened(case)


@hookimpl
def township_inbox_sources(user, township_ids):
    from plugins.appointments.hooks import inbox_sources

    return inbox_sources(user, township_ids)


@hookimpl
def township_receipt_sections(receipt):
    from plugins.appointments.hooks import receipt_sections

    return receipt_sections(receipt)


@hookimpl
def township_public_sections(township):
    from plugins.appointments.hooks import public_sections

    return public_sections(township)


@hookimpl
def township_person_year_figures(township, year, user_ids):
    from plugins.appointments.services import person_year_figures

    return person_year_figures(township, year, user_ids)


@hookimpl
def county_dashboard_figures(townships, session):
    from plugins.appointments.hooks import county_dashboard_figures

    return county_dashboard_figures(townships)


@hookimpl
def township_demo_data(township, session):
    from plugins.appointments.demo import seed

    seed(township)
