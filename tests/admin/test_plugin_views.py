"""Plugin admin views: checked at start-up, put in the plugin's menu category."""

from __future__ import annotations

import pytest

from core import hookimpl
from core.contract import AdminView, PluginInfo
from core.plugins import PluginError


class ThrowawayPlugin:
    """A plugin built in the test, with the admin views it is given."""

    def __init__(self, key: str, views):
        self.key = key
        self._views = views
        self.__name__ = f"throwaway_{key}"

    @hookimpl
    def township_plugin_info(self):
        return PluginInfo(key=self.key, name="临时", name_en="Throwaway", version="0")

    @hookimpl
    def township_admin_views(self):
        return [AdminView(view) for view in self._views()]


def _note_view(endpoint):
    def views():
        from admin.views import TownshipModelView
        from tests.example_plugin.models import ExampleNote

        class View(TownshipModelView):
            form_columns = ("title",)

        return [View(ExampleNote, name="Notes", endpoint=endpoint)]

    return views


def test_an_admin_endpoint_outside_the_namespace_is_refused(build_app):
    with pytest.raises(PluginError, match="admin endpoint 'notes'"):
        build_app(ThrowawayPlugin("throwaway", _note_view("notes")))


def test_an_unsecured_admin_view_is_refused(build_app):
    def views():
        from flask_admin import BaseView, expose

        class Open(BaseView):
            @expose("/")
            def index(self):
                return "anyone"

        return [Open(name="open", endpoint="throwaway_open")]

    with pytest.raises(PluginError, match="must derive from"):
        build_app(ThrowawayPlugin("throwaway", views))


def test_plugin_views_join_the_plugins_menu_category(build_app):
    new = build_app(ThrowawayPlugin("throwaway", _note_view("throwaway_notes")))
    admin = new.extensions["township_admin"]
    view = next(v for v in admin._views if getattr(v, "endpoint", None) == "throwaway_notes")
    assert (view.category, view.plugin_key) == ("临时", "throwaway")


def test_the_example_plugin_view_is_in_its_category(app):
    admin = app.extensions["township_admin"]
    view = next(v for v in admin._views if getattr(v, "endpoint", None) == "example_notes")
    assert (view.category, view.plugin_key) == ("示例", "example")
