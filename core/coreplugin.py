"""The core's own hook implementations (STYLE.md habit 6: the core is made of plugins too).

Decision hooks here are ``trylast`` defaults a plugin overrides by answering first.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from core import __version__, hookimpl
from core.contract import CaseKind, JobSpec, PluginInfo, PolicySpec, Role
from core.models import LimitUnit

READ = {"admin.access", "cases.read", "people.read", "dashboard.read"}
WRITE = {"cases.write", "people.write"}
MANAGE = {
    "people.read_sensitive",
    "users.manage",
    "institutions.manage",
    "policies.manage",
    "calendar.manage",
    "units.manage",
    "audit.read",
    "cases.approve_extension",
}
#: the office's work: keeping the duty rota and recording other staff members' away periods
OFFICE = {"duty.manage", "presence.manage"}


@hookimpl
def township_plugin_info():
    return PluginInfo(
        key="core",
        name="核心",
        name_en="Core",
        version=__version__,
        description="Org units, identities, cases, calendar, scheduling.",
    )


@hookimpl
def township_roles():
    return [
        Role(
            "county_admin",
            "县级管理员",
            "County administrator",
            frozenset(READ | WRITE | MANAGE | OFFICE | {"jobs.manage", "api.use"}),
            county_level=True,
        ),
        Role(
            "township_admin",
            "镇管理员",
            "Township administrator",
            frozenset(READ | WRITE | MANAGE | OFFICE | {"api.use"}),
        ),
        Role(
            "leader",
            "领导",
            "Leader",
            frozenset(READ | WRITE | {"cases.approve_extension", "audit.read", "api.use"}),
        ),
        Role("duty_leader", "值班领导", "Duty leader", frozenset(READ | WRITE)),
        Role(
            "clerk",
            "办事员",
            "Clerk",
            frozenset(READ | WRITE | OFFICE | {"people.read_sensitive", "api.use"}),
        ),
    ]


@hookimpl
def township_case_kinds():
    # 限时服务制度 and 服务承诺制度: counted from the day of acceptance
    return [
        CaseKind(
            "inquiry", "咨询（需请示或调研）", "Inquiry", 15, LimitUnit.calendar_days, max_amount=30
        ),
        CaseKind("service", "办事", "Service", 3, LimitUnit.working_days),
        CaseKind("approval", "审批", "Approval", 5, LimitUnit.working_days),
        CaseKind(
            "commitment",
            "服务承诺事项",
            "Service commitment",
            10,
            LimitUnit.calendar_days,
            max_amount=30,
        ),
    ]


@hookimpl
def township_policies():
    return [
        PolicySpec(
            "core.due_soon_working_days",
            "到期提醒提前工作日数",
            "Working days before the due date a case counts as due soon",
            default=2,
            minimum=0,
            maximum=10,
            unit=_l("working days"),
        ),
        PolicySpec(
            "core.duty_handover_hour",
            "值班交接时间（时）",
            "Hour at which the duty day hands over to the next",
            default=8,
            minimum=0,
            maximum=23,
            unit=_l("o'clock"),
            help=_l(
                "Before this hour, the previous day's duty staff are still on duty "
                "(who is on duty now, the duty phone on the public page)."
            ),
        ),
    ]


@hookimpl
def township_jobs():
    return [
        JobSpec(
            "core.deadline_sweep",
            "core.deadline_sweep",
            "*/15 * * * *",
            label="到期与逾期提醒",
            label_en="Due-soon and overdue reminders",
            misfire_grace_time=900,
        ),
        JobSpec(
            "core.resend_sweep",
            "core.resend_sweep",
            "every 120 seconds",
            label="补发未完成任务",
            label_en="Re-send pending tasks",
            misfire_grace_time=60,
        ),
    ]


@hookimpl
def township_actors():
    from core import deadlines, notifications, tasks

    return [
        tasks.run_tasks,
        notifications.send_email,
        deadlines.case_reminder,
        deadlines.deadline_sweep_job,
        deadlines.resend_sweep_job,
    ]


@hookimpl(trylast=True)
def township_make_receipt_number(township, kind):
    from core.cases import make_receipt_number

    return make_receipt_number(township, kind)


@hookimpl
def township_inbox_sources(user, township_ids):
    from core.cases import inbox_sources

    return inbox_sources(user, township_ids)


@hookimpl(trylast=True)
def township_find_receipt(receipt_no):
    from core.receipts import find_case_receipt

    return find_case_receipt(receipt_no)


@hookimpl
def county_dashboard_figures(townships, session):
    from core.duty import county_dashboard_figures

    return county_dashboard_figures(townships)


@hookimpl
def township_public_sections(township):
    from core.duty import public_sections

    return public_sections(township)
