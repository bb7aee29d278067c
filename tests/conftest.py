"""The tests load the tiny example plugin, so the plugin contract is exercised.

``TOWNSHIP_TEST_EXTRA_PLUGINS=plugins.archives,plugins.guide`` loads plugins that are
not (yet) registered as entry points, e.g. while one is being written.
"""

import importlib
import os

import pytest


@pytest.fixture(scope="session")
def app_config():
    from tests import example_plugin

    extra = [
        importlib.import_module(name.strip())
        for name in os.environ.get("TOWNSHIP_TEST_EXTRA_PLUGINS", "").split(",")
        if name.strip()
    ]
    return {"EXTRA_PLUGINS": [example_plugin, *extra]}
