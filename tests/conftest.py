"""The tests load the tiny example plugin, so the plugin contract is exercised.

``TOWNSHIP_TEST_EXTRA_PLUGINS=plugins.archives,plugins.guide`` loads plugins that are
not (yet) registered as entry points, e.g. while one is being written.
"""

import importlib
import os

import pytest

#: modules that share one Redis database, RabbitMQ's default vhost, the PostgreSQL
#: server's backends, or that kill processes and wait on real time: ``make test`` runs
#: them after the rest, in one process, on a machine no other test is loading (they are
#: marked ``shared_services``; the rest runs on two pytest-xdist workers)
SHARED_SERVICES = {
    "tests/core/test_brokers.py",
    "tests/core/test_cache.py",
    "tests/core/test_doctor.py",
    "tests/core/test_health.py",
    "tests/core/test_migrations.py",
    "tests/core/test_scale_out.py",
    "tests/core/test_serve.py",
    "tests/core/test_worker_processes.py",
    "tests/scheduler/test_processes.py",
    "tests/scheduler/test_service.py",
    "tests/scheduler/test_skipped.py",
}


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.get_closest_marker("services") or item.nodeid.split("::")[0] in SHARED_SERVICES:
            item.add_marker(pytest.mark.shared_services)


@pytest.fixture(scope="session")
def app_config():
    from tests import example_plugin

    extra = [
        importlib.import_module(name.strip())
        for name in os.environ.get("TOWNSHIP_TEST_EXTRA_PLUGINS", "").split(",")
        if name.strip()
    ]
    return {"EXTRA_PLUGINS": [example_plugin, *extra]}
