"""The tests load the tiny example plugin, so the plugin contract is exercised.

``TOWNSHIP_TEST_EXTRA_PLUGINS=plugins.archives,plugins.guide`` loads plugins that are
not (yet) registered as entry points, e.g. while one is being written.
"""

import importlib
import os

import pytest

#: modules sharing one Redis database, RabbitMQ's default vhost, fixed ports or the
#: PostgreSQL server's backends: with ``-n 2 --dist loadgroup`` (``make test``) they run
#: one after another on one worker; every other test runs on whichever worker is free
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
            item.add_marker(pytest.mark.xdist_group("services"))


@pytest.fixture(scope="session")
def app_config():
    from tests import example_plugin

    extra = [
        importlib.import_module(name.strip())
        for name in os.environ.get("TOWNSHIP_TEST_EXTRA_PLUGINS", "").split(",")
        if name.strip()
    ]
    return {"EXTRA_PLUGINS": [example_plugin, *extra]}
