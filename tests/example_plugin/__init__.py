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
def township_api_resources():
    from tests.example_plugin.api import bp

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


@hookimpl
def township_permissions():
    from core.contract import Permission

    return [
        Permission(
            "example.review",
            "审阅示例笔记",
            "Review example notes",
            default_roles=frozenset({"leader", "example_officer"}),
        )
    ]


@hookimpl
def township_inbox_sources(user, township_ids):
    """Notes wait for whoever may review them (leaders by default)."""
    from sqlalchemy import literal, select

    from core.access import township_ids_with
    from core.contract import InboxSource
    from tests.example_plugin.models import ExampleNote

    ids = township_ids_with(user, "example.review") & township_ids
    if not ids:
        return []
    return [
        InboxSource(
            "example.note_review",
            "待审阅示例笔记",
            "Example note to review",
            select(
                ExampleNote.id.label("object_id"),
                ExampleNote.title.label("title"),
                ExampleNote.township_id.label("township_id"),
                ExampleNote.created_at.label("since"),
                literal(None).label("due_on"),
            ).where(ExampleNote.township_id.in_(ids)),
            "example_notes.details_view",
        )
    ]


@hookimpl
def township_find_receipt(receipt_no):
    """Notes have receipts ``EX-<id>`` (a stand-in for an institution's own numbers)."""
    from core.contract import PublicReceipt
    from core.db import db
    from core.models import OrgUnit
    from tests.example_plugin.models import ExampleNote

    if not receipt_no.startswith("EX-") or not receipt_no[3:].isdigit():
        return None
    note = db.session.get(ExampleNote, int(receipt_no[3:]))
    if note is None:
        return None
    return PublicReceipt(
        receipt_no=receipt_no,
        township=db.session.get(OrgUnit, note.township_id),
        source="example",
        kind_label="示例笔记",
        status_label="已收到",
        received_on=note.created_at.date(),
        obj=note,
    )


@hookimpl
def township_receipt_sections(receipt):
    from markupsafe import Markup

    from core.contract import ReceiptSection

    return [
        ReceiptSection(
            "示例补充", Markup("<p id='example-section'>{}</p>").format(receipt.receipt_no)
        )
    ]


@hookimpl
def township_public_sections(township):
    from markupsafe import Markup

    from core.contract import PublicSection

    return [
        PublicSection("示例公告", Markup("<p id='example-public'>{}</p>").format(township.name))
    ]


@hookimpl
def township_staff_public_links(township, user):
    from core.contract import PublicLink

    return [PublicLink("评价示例", f"/t/{township.code}/example/?rate={user.id}")]


@hookimpl
def township_person_year_figures(township, year, user_ids):
    from core.contract import PersonYearFigure

    return [
        PersonYearFigure(
            "example.notes",
            "示例笔记",
            "Example notes",
            user_id=uid,
            year=year,
            value=1,
            target=1,
            met=True,
        )
        for uid in (user_ids or [])
    ]


@hookimpl
def township_user_returned(user, township, absence):
    EVENTS.append(("returned", (user.id, township.id)))
