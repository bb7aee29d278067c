from admin.views import TownshipModelView


class NoteView(TownshipModelView):
    plugin_key = "example"
    permission_write = "cases.write"
    column_list = ("title", "township", "created_at")
    form_columns = ("title",)
