"""Unmanaged Django models over the platform's tables, built from the spec ``bench/run.py``
writes (``BENCH_PEER_SPEC``): one model per table a measured list shows, with the same
columns, and foreign keys where the list shows a related row."""

import json
import os

from django.db import models

with open(os.environ["BENCH_PEER_SPEC"], encoding="utf-8") as fh:
    SPEC = json.load(fh)
MODELS = {}


def _field(column):
    field = _plain_field(column)
    if field is not None and column.get("db_column"):
        field.db_column = column["db_column"]
    return field


def _plain_field(column):
    kind = column["type"]
    null = column.get("null", True)
    if kind == "fk":
        return None  # added once every model exists
    if kind == "int":
        if column["name"] == "id":
            return models.AutoField(primary_key=True)
        return models.IntegerField(null=null)
    if kind == "str":
        choices = column.get("choices")
        return models.CharField(
            max_length=column.get("length") or 255, null=null, choices=choices or None
        )
    if kind == "text":
        return models.TextField(null=null)
    if kind == "date":
        return models.DateField(null=null)
    if kind == "datetime":
        return models.DateTimeField(null=null)
    if kind == "bool":
        return models.BooleanField(null=null)
    if kind == "json":
        # psycopg hands json columns over decoded; Django's JSONField would decode again
        return models.TextField(null=null)
    return models.TextField(null=null)


def _str_of(display):
    def __str__(self):
        return str(getattr(self, display, self.pk))

    return __str__


for table, spec in SPEC["tables"].items():
    attrs = {
        "__module__": __name__,
        "Meta": type("Meta", (), {"managed": False, "db_table": table, "app_label": "peerapp"}),
        "__str__": _str_of(spec.get("display") or "id"),
    }
    for column in spec["columns"]:
        field = _field(column)
        if field is not None:
            attrs[column["name"]] = field
    MODELS[table] = type(spec["model"], (models.Model,), attrs)

for table, spec in SPEC["tables"].items():
    for column in spec["columns"]:
        if column["type"] == "fk" and column["target"] in MODELS:
            models.ForeignKey(
                MODELS[column["target"]],
                on_delete=models.DO_NOTHING,
                db_column=column["db_column"],
                null=True,
                related_name="+",
            ).contribute_to_class(MODELS[table], column["name"])
