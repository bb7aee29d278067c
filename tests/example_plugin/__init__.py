"""A tiny plugin that exercises the whole contract in the tests (not shipped)."""

from __future__ import annotations

from pathlib import Path

import click

from core import hookimpl
from core.contract import (
    AdminView,
    CaseKind,
    DashboardFigure,
    JobSpec,
    PluginInfo,
    PolicySpec,
    Role,
)
from core.models import LimitUnit

#: events received, for tests to inspect
EVENTS: list[tuple[str, object]] = []


@hookimpl
def township_plugin_info():
    return PluginInfo(
        key="example",
        name="示例",
        name_en="Example",
        version="0.1",
        description="Exercises the plugin contract.",
        migrations=Path(__file__).parent / "migrations" / "versions",
    )


@hookimpl
def township_models():
    from tests.example_plugin.models import ExampleNote, ExampleStamp

    return [ExampleNote, ExampleStamp]


@hookimpl
def township_admin_views():
    from tests.example_plugin.admin import NoteView
    from tests.example_plugin.models import ExampleNote

    return [AdminView(NoteView(ExampleNote, name="Notes", endpoint="example_notes"))]


@hookimpl
def township_blueprints():
    from tests.example_plugin.views import bp

    return [bp]


@hookimpl
def township_actors():
    from tests.example_plugin import tasks

    return [tasks.stamp, tasks.tick]


@hookimpl
def township_jobs():
    return [
        JobSpec(
            "example.tick",
            "example.tick",
            "every 3 seconds",
            label="示例",
            label_en="Example tick",
            misfire_grace_time=2,
        )
    ]


@hookimpl
def township_policies():
    return [
        PolicySpec(
            "example.threshold", "示例阈值", "Example threshold", default=20, minimum=0, maximum=100
        )
    ]


@hookimpl
def township_case_kinds():
    return [CaseKind("example.visit", "示例走访", "Example visit", 2, LimitUnit.working_days)]


@hookimpl
def township_roles():
    return [
        Role(
            "example_officer",
            "示例专员",
            "Example officer",
            frozenset({"admin.access", "example.write"}),
        )
    ]


@hookimpl
def township_case_accepted(case):
    EVENTS.append(("accepted", case.id))


@hookimpl
def township_case_forwarded(case, department):
    EVENTS.append(("forwarded", case.id))


@hookimpl
def township_case_extended(case, amount):
    EVENTS.append(("extended", (case.id, amount)))


@hookimpl
def township_case_overdue(case):
    EVENTS.append(("overdue", case.id))


@hookimpl
def township_case_closed(case):
    EVENTS.append(("closed", case.id))


@hookimpl
def township_case_reopened(case):
    EVENTS.append(("reopened", case.id))


@hookimpl
def township_record_produced(township, record):
    EVENTS.append(("record", (township.id, record.source, record.reference)))


@hookimpl
def township_institution_toggled(township, plugin_key, enabled):
    EVENTS.append(("toggled", (township.id, plugin_key, enabled)))


@hookimpl
def township_dashboard_figures(township, session):
    from sqlalchemy import func, select

    from tests.example_plugin.models import ExampleNote

    count = session.scalar(
        select(func.count(ExampleNote.id)).where(ExampleNote.township_id == township.id)
    )
    return [DashboardFigure(label="示例笔记", value=count)]


@hookimpl
def township_demo_data(township, session):
    from sqlalchemy import select

    from tests.example_plugin.models import ExampleNote

    if session.scalar(select(ExampleNote).where(ExampleNote.township_id == township.id)) is None:
        session.add(ExampleNote(township_id=township.id, title="demo note"))


@hookimpl
def township_cli_commands():
    @click.group("example")
    def group():
        """Example plugin commands."""

    @group.command("hello")
    def hello():
        click.echo("hello from example")

    return [group]


@hookimpl
def township_app_created(app):
    app.jinja_env.globals["example_loaded"] = True
