"""An observable plugin system: TRACE_PLUGINS logs every hook call (through pluggy's hook
caller, so nothing bypasses it) with its plugins and duration, and ``township plugins
list`` shows every hook a plugin implements."""

from __future__ import annotations

import logging
import re

from click.testing import CliRunner

from core import hookspecs
from core.testing.fixtures import built_app
from tests import example_plugin

#: the hooks called while an app is built, each answered by the example plugin
BUILD_HOOKS = {
    "township_plugin_info",
    "township_models",
    "township_roles",
    "township_case_kinds",
    "township_policies",
    "township_jobs",
    "township_permissions",
    "township_actors",
    "township_blueprints",
    "township_api_resources",
    "township_admin_views",
    "township_cli_commands",
    "township_app_created",
}

LINE = re.compile(r"hook (\w+) -> (.+?) \((\d+\.\d) ms\)$")


def traced(caplog) -> dict[str, set[str]]:
    calls: dict[str, set[str]] = {}
    for record in caplog.records:
        if record.name != "township.plugins.trace":
            continue
        match = LINE.match(record.getMessage())
        assert match, record.getMessage()
        calls.setdefault(match[1], set()).update(match[2].split(", "))
    return calls


def test_trace_plugins_logs_every_hook_call_of_the_app_factory(app, caplog):
    caplog.set_level(logging.INFO, logger="township.plugins.trace")
    with built_app(app, TRACE_PLUGINS=True):
        pass
    calls = traced(caplog)
    missing = BUILD_HOOKS - set(calls)
    assert not missing, f"hooks called without the trace seeing them: {missing}"
    for hook in BUILD_HOOKS:
        assert "tests.example_plugin" in calls[hook], hook
    assert {"releases", "training"} <= calls["township_api_resources"]
    assert {"core", "releases", "training"} <= calls["township_plugin_info"]


def test_trace_plugins_logs_calls_while_serving_and_seeding(app, db, caplog, township):
    from core.demo import load_demo
    from core.institutions import set_enabled

    caplog.set_level(logging.INFO, logger="township.plugins.trace")
    with built_app(app, TRACE_PLUGINS=True) as other:
        with other.app_context():
            set_enabled(township, "example", True)
        caplog.clear()
        other.test_client().get(f"/t/{township.code}/")
        with other.app_context():
            load_demo()
    calls = traced(caplog)
    assert "tests.example_plugin" in calls["township_public_sections"]
    assert "tests.example_plugin" in calls["township_demo_data"]
    assert "core" not in calls["township_demo_data"]


def test_plugins_list_shows_every_hook_a_plugin_implements(app, db):
    from flask.cli import ScriptInfo

    from core.cli import main

    result = CliRunner().invoke(main, ["plugins", "list"], obj=ScriptInfo(create_app=lambda: app))
    assert result.exit_code == 0, result.output
    block = result.output.split("example 0.1", 1)[1].split("\n\n", 1)[0]
    hooks_line = next(line for line in block.splitlines() if line.strip().startswith("hooks:"))
    listed = {h.strip() for h in hooks_line.split(":", 1)[1].split(",")}
    implemented = {name for name in hookspecs.hook_names() if hasattr(example_plugin, name)}
    assert listed == implemented
    assert "township_api_resources" in listed and len(listed) >= 30
