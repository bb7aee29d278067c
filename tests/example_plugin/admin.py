from admin.views import TownshipModelView
from tests.example_plugin.models import ExampleNote

__all__ = ["ExampleNote", "NoteView"]


class NoteView(TownshipModelView):
    plugin_key = "example"
    permission_write = "cases.write"
    column_list = ("title", "township", "created_at")
    form_columns = ("title",)
