"""Django's admin over each measured list: the same columns, 50 rows a page,
``list_select_related`` for the related rows shown, the list's first two filters,
search where the list searches, exact counts (Django's default)."""

from django.contrib import admin

from peerapp.models import MODELS, SPEC


def _blank(name):
    def column(obj):
        return ""

    column.short_description = name
    return column


for table, spec in SPEC["tables"].items():
    page = spec.get("page")
    if not page:
        continue
    names = {c["name"] for c in spec["columns"]}
    display = [c if c in names else _blank(c) for c in page["list_display"]]
    attrs = {
        "list_display": display,
        "list_per_page": page.get("per_page", 50),
        "list_select_related": page.get("select_related") or False,
        "list_filter": page.get("filters", []),
        "search_fields": page.get("search", []),
        "ordering": page.get("ordering") or None,
        "actions": None if page.get("no_actions") else admin.ModelAdmin.actions,
    }
    admin.site.register(MODELS[table], type(f"{spec['model']}Admin", (admin.ModelAdmin,), attrs))
