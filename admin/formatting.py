"""How the admin shows values: labels for enums, 是/否 for booleans, the township's time.

Used by :class:`admin.views.TownshipModelView` for lists, details and exports, and by
its form and filter converters, so an enum offered in a select or a filter reads in
words in the user's language (flask-admin's own converters offer the raw values).
"""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime
from typing import Any

from flask_admin.contrib.sqla.filters import FilterConverter
from flask_admin.contrib.sqla.form import AdminModelConverter
from flask_admin.form import Select2Field
from flask_admin.model import filters
from flask_admin.model.form import converts
from flask_babel import lazy_gettext as _l
from wtforms import validators

from core.labels import LazyChoices, display, enum_choices, label_of


def _enum_class(column) -> type[enum.Enum] | None:
    return getattr(getattr(column, "type", None), "enum_class", None)


class LabelledModelConverter(AdminModelConverter):
    """Enum columns become selects of labels (the stored value stays the code)."""

    @converts("sqlalchemy.sql.sqltypes.Enum")
    def convert_enum(self, column, field_args, **extra: Any):
        enum_class = _enum_class(column)
        if enum_class is None:
            return super().convert_enum(column, field_args, **extra)
        accepted = [m.value for m in enum_class]
        if column.nullable:
            field_args["allow_blank"] = True
            accepted.append(None)
        self._nullable_common(column, field_args)
        field_args["choices"] = LazyChoices(lambda: [(m.value, label_of(m)) for m in enum_class])
        field_args["validators"].append(validators.AnyOf(accepted))
        field_args["coerce"] = lambda v: v.value if isinstance(v, enum.Enum) else str(v)
        return Select2Field(**field_args)


class LabelledFilterConverter(FilterConverter):
    """Enum filters offer the labels."""

    @filters.convert("enum")
    def conv_enum(self, column, name, options=None, **kwargs: Any):
        enum_class = _enum_class(column)
        if not options and enum_class is not None:
            options = enum_choices(enum_class)
        return super().conv_enum(column, name, options, **kwargs)


def _type_formatter(view, value, name):
    return display(value)


#: type formatters for lists, details and exports (values a column formatter did not own)
TYPE_FORMATTERS = {
    type(None): _type_formatter,
    bool: _type_formatter,
    enum.Enum: _type_formatter,
    datetime: _type_formatter,
    date: _type_formatter,
    list: _type_formatter,
}

#: values :func:`display` turns into words in the row's township's zone
DISPLAYED = (type(None), bool, enum.Enum, datetime, date, list, tuple)


#: labels of columns many models share; a view's own ``column_labels`` win
COMMON_LABELS = {
    "township": _l("Township"),
    "township_id": _l("Township"),
    "created_at": _l("Created at"),
    "updated_at": _l("Updated at"),
    "recorded_at": _l("Recorded at"),
    "user": _l("User"),
    "user_id": _l("User"),
    "person": _l("Person"),
    "title": _l("Title"),
    "name": _l("Name"),
    "body": _l("Content"),
    "status": _l("Status"),
    "kind": _l("Kind"),
    "note": _l("Note"),
    "reason": _l("Reason"),
    "description": _l("Description"),
    "category": _l("Category"),
    "channels": _l("Channels"),
    "active": _l("Active"),
    "approved_by": _l("Approved by"),
    "approved_at": _l("Approved at"),
    "published_at": _l("Published at"),
    "withdrawn_at": _l("Withdrawn at"),
    "withdrawn_reason": _l("Reason for the withdrawal"),
    "batch": _l("Release batch"),
    "product": _l("Information product"),
    "items": _l("Collected items"),
    "audience": _l("Audience"),
    "answered_by": _l("Answered by"),
    "disclosure": _l("Disclosure"),
    "case": _l("Case"),
    "learner": _l("Learner"),
    "session": _l("Session"),
    "village": _l("Village"),
    "organiser": _l("Organised by"),
}


def in_zone(value: datetime | None, timezone: str) -> str:
    """A time in the job's zone, to the minute (``2026-12-01 09:00``)."""
    from zoneinfo import ZoneInfo

    if value is None:
        return "–"
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    try:
        return value.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M")
    except (ValueError, KeyError):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def outcome_label(code: str) -> str:
    """A job run's outcome in words."""
    return str(
        {
            "ok": _l("done"),
            "done": _l("done"),
            "error": _l("failed"),
            "failed": _l("failed"),
            "skipped": _l("skipped"),
            "enqueued": _l("sent to the workers"),
        }.get(code, code)
    )


def weekday_short(value: date) -> str:
    """The day of the week of a date, short ("Mon" / "周一")."""
    names = (_l("Mon"), _l("Tue"), _l("Wed"), _l("Thu"), _l("Fri"), _l("Sat"), _l("Sun"))
    return str(names[value.weekday()])


def add_column_checks(form_class, model) -> None:
    """Validators from the model's columns on the generated form's fields (core.validation):
    the date range on every date field (``info={"past": True}``: not after today),
    ``info={"check": "resident_id"}`` and ``"phone"``."""
    from sqlalchemy import Date
    from sqlalchemy import inspect as sa_inspect

    from core.validation import CHECKS, DateInRange

    # (text longer than its column: flask-admin's converter already adds Length(max=...))
    for column in sa_inspect(model).columns:
        unbound = getattr(form_class, column.key, None)
        if unbound is None or not hasattr(unbound, "kwargs"):
            continue
        checks = unbound.kwargs.setdefault("validators", [])
        if isinstance(column.type, Date):
            checks.append(DateInRange(past=bool(column.info.get("past"))))
        check = CHECKS.get(column.info.get("check", ""))
        if check is not None:
            checks.append(check())
