"""Plugins add API resources (``township_api_resources``): mounted under
``/api/v1/<key>/``, in the one OpenAPI document, 404 for townships that did not enable
the plugin, and refused at start when they break the namespace."""

from __future__ import annotations

import types

import pytest
from flask import Blueprint

from core import hookimpl
from core.api import ApiBlueprint, create_token
from core.contract import PluginInfo
from core.institutions import set_enabled
from core.plugins import PluginError
from core.testing.fixtures import built_app
from tests.core.test_api import Api, assert_json_error


def test_township_api_resources(app, db, client, clerk, township):
    """The example plugin's notes: 404 until the township enables the plugin, then a
    paginated list and a validated create, described in the same document."""
    api = Api(client, create_token(clerk, "example")[1])
    assert_json_error(api.get("/api/v1/example/east/notes"), 404)
    set_enabled(township, "example", True)
    assert api.get("/api/v1/example/east/notes").get_json()["items"] == []
    created = api.post("/api/v1/example/east/notes", {"title": "第一条"})
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["title"] == "第一条"
    error = assert_json_error(api.post("/api/v1/example/east/notes", {"title": ""}), 422)
    assert set(error["details"]["fields"]) == {"title"}
    assert [n["title"] for n in api.get("/api/v1/example/east/notes").get_json()["items"]] == [
        "第一条"
    ]
    assert_json_error(Api(client, None).get("/api/v1/example/east/notes"), 401)

    document = client.get("/api/openapi.json").get_json()
    notes = document["paths"]["/api/v1/example/{township}/notes"]
    assert notes["get"]["operationId"] == "listExampleNotes"
    assert "401" in notes["post"]["responses"] and "422" in notes["post"]["responses"]
    assert {"/api/v1/releases/{township}/products", "/api/v1/training/{township}/hours"} <= set(
        document["paths"]
    )
    assert {"example_api", "releases_api", "training_api"} <= {t["name"] for t in document["tags"]}


def _plugin(key: str, resources) -> types.ModuleType:
    module = types.ModuleType(f"plugin_{key}")
    module.township_plugin_info = hookimpl(
        lambda: PluginInfo(key=key, name=key, name_en=key, version="0")
    )
    module.township_api_resources = hookimpl(lambda: resources)
    return module


def refused(app, plugin, match: str) -> None:
    """Building an app with ``plugin`` fails with ``match``; what building changes
    globally (dramatiq's broker, actor bindings, the rate limiter) is put back."""
    import dramatiq

    from core import create_app
    from core.extensions import limiter
    from core.tasks import declared_actors

    saved_limiter = dict(vars(limiter))
    saved_broker = dramatiq.get_broker()
    saved_bindings = {lazy: lazy._actor for lazy in declared_actors().values()}
    config = {
        key: app.config[key]
        for key in ("TESTING", "SECRET_KEY", "DATABASE_URL", "SERVER_NAME", "EXTRA_PLUGINS")
    }
    config["EXTRA_PLUGINS"] = [*config["EXTRA_PLUGINS"], plugin]
    try:
        with pytest.raises(PluginError, match=match):
            create_app(config)
    finally:
        dramatiq.set_broker(saved_broker)
        for lazy, bound in saved_bindings.items():
            lazy._actor = bound
        vars(limiter).clear()
        vars(limiter).update(saved_limiter)


def test_an_api_resource_outside_the_namespace_is_refused(app):
    stray = ApiBlueprint("notes_api", __name__)
    refused(app, _plugin("sneaky", [stray]), r"'sneaky'.*notes_api")


def test_an_api_resource_must_be_an_api_blueprint(app):
    refused(app, _plugin("plain", [Blueprint("plain_api", __name__)]), "ApiBlueprint")


def test_a_plugin_resource_answers_only_in_its_namespace(app, db, township, clerk):
    """A plugin's blueprint mounts at /api/v1/<key>/ whatever it says, and the core
    scopes its township (the plugin writes no check of its own)."""
    from core.api import townships_with

    extra = ApiBlueprint("extra_api", __name__)

    @extra.route("/<code:township>/hello")
    @extra.response(200)
    def hello(township):
        return {"township": township.code, "visible": sorted(townships_with(plugin="extra"))}

    plugins = [*app.config["EXTRA_PLUGINS"], _plugin("extra", [extra])]
    with built_app(app, EXTRA_PLUGINS=plugins) as other:
        client = other.test_client()
        api = Api(client, create_token(clerk, "extra")[1])
        assert_json_error(api.get("/api/v1/extra/east/hello"), 404)
        with other.app_context():
            set_enabled(township, "extra", True)
        assert api.get("/api/v1/extra/east/hello").get_json() == {
            "township": "east",
            "visible": [township.id],
        }
        assert_json_error(api.get("/api/v1/extra/nowhere/hello"), 404)
        assert client.get("/api/v1/hello").status_code == 404
        assert (
            "/api/v1/extra/{township}/hello" in client.get("/api/openapi.json").get_json()["paths"]
        )
