"""The plugin contract: one test per hook (the contract test checks each exists),
and the checks that refuse a plugin breaking the rules."""

import types
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from core import cases as svc
from core import create_app, hookimpl, hookspecs
from core.contract import JobSpec, PluginInfo
from core.institutions import is_enabled, set_enabled
from core.plugins import PluginError, state
from core.policies import get_policy, set_policy
from tests import example_plugin

ROOT = Path(__file__).resolve().parents[2]


def make_plugin(name: str, **hooks) -> types.ModuleType:
    """A throwaway plugin module with the given hook implementations."""
    module = types.ModuleType(name)
    for hook_name, fn in hooks.items():
        setattr(module, hook_name, hookimpl(fn))
    return module


def info(key: str):
    return lambda: PluginInfo(key=key, name=key, name_en=key, version="0")


def build(tmp_path, *plugins):
    return create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "x",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}",
            "EXTRA_PLUGINS": list(plugins),
        }
    )


# ---------------------------------------------------------------------------
# The contract keeps its documentation and tests honest
# ---------------------------------------------------------------------------


def test_every_hook_is_documented_in_code_and_readme():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name in hookspecs.hook_names():
        doc = getattr(hookspecs, name).__doc__ or ""
        assert doc.split(":", 1)[0] in {"Collect", "Decide", "React"}, name
        assert f"`{name}`" in readme, f"{name} is not in the README's hook reference"


def test_every_hook_has_a_test():
    sources = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "tests").rglob("test_*.py"))
    missing = [name for name in hookspecs.hook_names() if f"def test_{name}" not in sources]
    assert not missing, f"hooks without a test named test_<hook>: {missing}"


def test_misspelt_hook_is_an_error_not_silence(tmp_path):
    bad = make_plugin("bad", township_plugin_info=info("bad"), township_plugin_inf0=lambda: 1)
    with pytest.raises(PluginError, match="does not offer"):
        build(tmp_path, bad)


def test_duplicate_entry_point_names_are_refused(monkeypatch):
    from importlib.metadata import EntryPoint

    from core import plugins

    eps = [
        EntryPoint("dup", "tests.example_plugin", plugins.ENTRY_POINT_GROUP),
        EntryPoint("dup", "core.coreplugin", plugins.ENTRY_POINT_GROUP),
    ]
    monkeypatch.setattr(plugins, "entry_points", lambda group: eps)
    with pytest.raises(PluginError, match="two plugins are called 'dup'"):
        plugins._discover(None)


# ---------------------------------------------------------------------------
# One test per hook
# ---------------------------------------------------------------------------


def test_township_plugin_info(app, db, township):
    loaded = state(app).plugins["example"]
    assert loaded.info.version == "0.1"
    assert "township_plugin_info" in loaded.hooks
    assert "example" in [i.key for i in state(app).institutions()]
    assert "core" not in [i.key for i in state(app).institutions()]


def test_township_plugin_info_is_required(tmp_path):
    with pytest.raises(PluginError, match="must implement township_plugin_info"):
        build(tmp_path, make_plugin("anon", township_roles=lambda: []))


def test_township_models(app, tmp_path):
    from core.db import db as _db

    assert "example_note" in _db.metadata.tables

    class Stray:
        __tablename__ = "stray_table"

    bad = make_plugin(
        "strays", township_plugin_info=info("strays"), township_models=lambda: [Stray]
    )
    with pytest.raises(PluginError, match="must start with 'strays_'"):
        build(tmp_path, bad)


def test_township_admin_views(app, db, staff, township, create_user):
    user = create_user("officer", "clerk", township)
    staff.login(user)
    client = staff.client
    assert client.get("/admin/example_notes/").status_code == 404
    set_enabled(township, "example", True)
    assert client.get("/admin/example_notes/").status_code == 200


def test_township_blueprints(app, db, client, township, other_township):
    assert client.get(f"/t/{township.code}/example/").status_code == 404
    set_enabled(township, "example", True)
    page = client.get(f"/t/{township.code}/example/")
    assert page.status_code == 200 and township.name in page.text
    assert client.get(f"/t/{other_township.code}/example/").status_code == 404
    assert client.get("/t/nowhere/example/").status_code == 404
    set_enabled(township, "example", False)
    assert client.get(f"/t/{township.code}/example/").status_code == 404


def test_township_blueprints_outside_the_namespace_are_refused(tmp_path):
    from flask import Blueprint

    bad = make_plugin(
        "bp",
        township_plugin_info=info("bp"),
        township_blueprints=lambda: [Blueprint("elsewhere", "x")],
    )
    with pytest.raises(PluginError, match="blueprint 'elsewhere'"):
        build(tmp_path, bad)


def test_township_actors(app):
    actors = state(app).actors
    assert actors["example.stamp"].queue_name == "example"
    with app.app_context():  # each app in this process sends on its own broker
        assert actors["example.stamp"].actor.broker is app.extensions["township_broker"]


def test_township_actors_outside_the_namespace_are_refused(tmp_path):
    from core.tasks import actor

    @actor("wrong.thing", queue_name="wrong")
    def thing():
        pass

    bad = make_plugin("act", township_plugin_info=info("act"), township_actors=lambda: [thing])
    with pytest.raises(PluginError, match=r"actor 'wrong\.thing' must start with 'act\.'"):
        build(tmp_path, bad)

    @actor("act.thing", queue_name="default")
    def thing2():
        pass

    bad2 = make_plugin("act2", township_plugin_info=info("act"), township_actors=lambda: [thing2])
    with pytest.raises(PluginError, match="queue 'default'"):
        build(tmp_path, bad2)


def test_an_actor_declared_twice_refuses_to_start_and_actors_know_their_plugin(app, tmp_path):
    from core.tasks import actor

    assert state(app).actor_owners["example.stamp"] == "example"
    assert state(app).actor_owners["core.case_reminder"] == "core"

    @actor("twice.job", queue_name="twice")
    def job():
        pass

    twice = make_plugin(
        "twice", township_plugin_info=info("twice"), township_actors=lambda: [job, job]
    )
    with pytest.raises(PluginError, match=r"'twice\.job' is declared by 'twice' and again"):
        build(tmp_path, twice)


def test_township_jobs(app, tmp_path):
    assert state(app).jobs["example.tick"].trigger == "every 3 seconds"
    bad = make_plugin(
        "jobs",
        township_plugin_info=info("jobs"),
        township_jobs=lambda: [JobSpec("core.stolen", "jobs.x", "every 1 minutes", label="x")],
    )
    with pytest.raises(PluginError, match=r"must start with 'jobs\.'"):
        build(tmp_path, bad)


def test_township_policies(app, db, township):
    assert get_policy(township.id, "example.threshold") == 20
    set_policy(township.id, "example.threshold", "35")
    db.session.commit()
    assert get_policy(township.id, "example.threshold") == 35
    with pytest.raises(ValueError, match="at most 100"):
        set_policy(township.id, "example.threshold", 101)
    with pytest.raises(ValueError, match="Not a whole number"):
        set_policy(township.id, "example.threshold", "many")
    db.session.rollback()
    assert get_policy(township.id, "example.threshold") == 35


def test_township_case_kinds(app):
    kind = state(app).case_kinds["example.visit"]
    assert (kind.amount, kind.unit) == (2, "working_days")
    assert {"inquiry", "service", "approval", "commitment"} <= set(state(app).case_kinds)


def test_township_roles(app, db, township, create_user):
    from core.access import can

    officer = create_user("ex", "example_officer", township)
    assert can(officer, "example.write", township.id)
    assert not can(officer, "cases.write", township.id)


def test_township_make_receipt_number(tmp_path):
    custom = make_plugin(
        "receipts",
        township_plugin_info=info("receipts"),
        township_make_receipt_number=lambda township, kind: "R-1",
    )
    app = build(tmp_path, custom)
    unit = types.SimpleNamespace(code="x")
    assert state(app).hook.township_make_receipt_number(township=unit, kind="service") == "R-1"
    default = build(tmp_path)
    number = state(default).hook.township_make_receipt_number(township=unit, kind="service")
    assert number.startswith("X-") and len(number.split("-")[-1]) == 8


@pytest.fixture
def accepted(db, township, clerk):
    set_enabled(township, "example", True)
    example_plugin.EVENTS.clear()
    return svc.register_case(
        township=township,
        kind="inquiry",
        title="t",
        applicant_name="a",
        first_responder=clerk,
        accept=True,
    )


def test_township_case_accepted(accepted):
    assert example_plugin.EVENTS == [("accepted", accepted.id)]


def test_case_events_reach_only_plugins_the_township_enabled(db, other_township, other_clerk):
    example_plugin.EVENTS.clear()
    case = svc.register_case(
        township=other_township,
        kind="inquiry",
        title="t",
        applicant_name="a",
        first_responder=other_clerk,
        accept=True,
    )
    svc.resolve_case(case, other_clerk, "ok")
    svc.close_case(case, other_clerk)
    assert example_plugin.EVENTS == []


def test_township_case_reopened(accepted, clerk):
    svc.resolve_case(accepted, clerk, "ok")
    svc.reopen_case(accepted, clerk, "群众不满意")
    assert example_plugin.EVENTS[-1] == ("reopened", accepted.id)


def test_township_case_forwarded(accepted, clerk, station):
    svc.forward_case(accepted, clerk, station, "转民政办")
    assert ("forwarded", accepted.id) in example_plugin.EVENTS


def test_township_case_extended(accepted, clerk, leader):
    req = svc.request_extension(accepted, clerk, 30, "需调研")
    svc.decide_extension(req, leader, True)
    assert ("extended", (accepted.id, 30)) in example_plugin.EVENTS


def test_township_case_overdue(db, accepted, stub_worker):
    from core.deadlines import sweep_deadlines

    sweep_deadlines(date(2999, 1, 1))
    stub_worker.join()
    assert ("overdue", accepted.id) in example_plugin.EVENTS


def test_township_case_closed(accepted, clerk):
    svc.resolve_case(accepted, clerk, "ok")
    svc.close_case(accepted, clerk)
    assert example_plugin.EVENTS[-1] == ("closed", accepted.id)


def test_township_institution_toggled(db, township):
    example_plugin.EVENTS.clear()
    set_enabled(township, "example", True)
    assert is_enabled(township.id, "example")
    assert example_plugin.EVENTS == [("toggled", (township.id, "example", True))]
    with pytest.raises(ValueError, match="unknown institution"):
        set_enabled(township, "nope", True)


def test_township_dashboard_figures(app, db, township):
    from tests.example_plugin.models import ExampleNote

    db.session.add(ExampleNote(township_id=township.id, title="n"))
    db.session.commit()
    from admin.dashboard import plugin_figures

    assert plugin_figures(township) == []  # asked only where the plugin is enabled
    set_enabled(township, "example", True)
    assert [(f.label, f.value) for f in plugin_figures(township)] == [("示例笔记", 1)]


def test_township_demo_data(app, db):
    from core.demo import load_demo
    from core.models import OrgUnit
    from tests.example_plugin.models import ExampleNote

    load_demo()
    load_demo()  # idempotent
    townships = db.session.scalars(select(OrgUnit).where(OrgUnit.kind == "township")).all()
    notes = db.session.scalars(select(ExampleNote)).all()
    assert len(townships) == 2 and len(notes) == 2


def test_township_cli_commands(app):
    result = CliRunner().invoke(app.cli, ["example", "hello"])
    assert result.exit_code == 0, result.output
    assert "hello from example" in result.output


def test_township_app_created(app):
    assert app.jinja_env.globals["example_loaded"] is True


def test_township_record_produced(app, db, township, other_township):
    from datetime import UTC, datetime

    from core.contract import ArchivalRecord
    from core.models import ProducedRecord
    from core.records import as_record, produce, records_since

    def record(reference):
        return ArchivalRecord(
            source="core",
            reference=reference,
            kind="case",
            title="t",
            produced_at=datetime(2026, 12, 1, tzinfo=UTC),
            content="<p>原文</p>",
            trail=({"at": "2026-12-01T00:00:00+00:00", "who": "王", "what": "closed"},),
        )

    set_enabled(township, "example", True)
    example_plugin.EVENTS.clear()
    assert produce(township, record("case:1"))
    assert not produce(township, record("case:1"))  # handed over once
    produce(other_township, record("case:2"))
    db.session.commit()
    assert example_plugin.EVENTS == [("record", (township.id, "core", "case:1"))]
    # the core keeps every record, also where no institution listened
    kept = {r.reference: r for r in db.session.scalars(select(ProducedRecord))}
    assert set(kept) == {"case:1", "case:2"}
    assert [r.reference for r in records_since(other_township.id)] == ["case:2"]
    assert as_record(kept["case:2"]) == record("case:2")
