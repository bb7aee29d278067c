"""The tests load the tiny example plugin, so the plugin contract is exercised."""

import pytest


@pytest.fixture(scope="session")
def app_config():
    from tests import example_plugin

    return {"EXTRA_PLUGINS": [example_plugin]}
