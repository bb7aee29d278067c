"""Writing the admin's audit trail (core :class:`~core.models.AuditEvent` rows)."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup, escape
from sqlalchemy import Enum as SAEnum
from sqlalchemy import inspect as sa_inspect

from core.db import db
from core.labels import code_label, display, label_of, shorten
from core.models import AuditEvent

#: columns never copied into the trail
SECRET_COLUMNS = frozenset({"password_hash", "token_hash"})


def plain(value: Any) -> Any:
    """A JSON-friendly copy of a simple column value."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (dict, list)):
        return value
    return str(value)


def snapshot(obj: Any) -> dict[str, Any]:
    """Every simple column of a row (secrets left out)."""
    mapper = sa_inspect(obj).mapper
    return {
        attr.key: plain(getattr(obj, attr.key))
        for attr in mapper.column_attrs
        if attr.key not in SECRET_COLUMNS
    }


def changes(obj: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """(before, after) of the simple columns changed on a row not yet flushed."""
    state = sa_inspect(obj)
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for attr in state.mapper.column_attrs:
        if attr.key in SECRET_COLUMNS:
            continue
        history = state.attrs[attr.key].history
        if not history.has_changes():
            continue
        old = history.deleted[0] if history.deleted else None
        new = history.added[0] if history.added else None
        if plain(old) == plain(new):
            continue
        before[attr.key] = plain(old)
        after[attr.key] = plain(new)
    return before, after


def record_audit(
    action: str,
    object_type: str,
    object_id: Any = None,
    *,
    township_id: int | None = None,
    before: dict | None = None,
    after: dict | None = None,
) -> AuditEvent:
    """Add one audit row for the signed-in user (the caller commits)."""
    user_id = current_user.id if getattr(current_user, "is_authenticated", False) else None
    event = AuditEvent(
        user_id=user_id,
        township_id=township_id,
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        before=before,
        after=after,
    )
    db.session.add(event)
    return event


# ---------------------------------------------------------------------------
# Reading the trail: actions, objects, fields and values in words
# ---------------------------------------------------------------------------

#: what happened, in words (plugins add theirs with :func:`register_audit_words`)
ACTION_LABELS = {
    "create": _l("Created"),
    "update": _l("Changed"),
    "delete": _l("Deleted"),
    "enable": _l("Enabled"),
    "disable": _l("Disabled"),
    "submit": _l("Submitted"),
    "approve": _l("Approved"),
    "send_back": _l("Sent back"),
    "withdraw": _l("Withdrawn"),
    "confirm": _l("Confirmed"),
    "answer": _l("Answered"),
}

#: the objects of the core's trail (plugins add theirs with :func:`register_audit_words`)
OBJECT_LABELS = {
    "Case": _l("Case"),
    "Person": _l("Person"),
    "User": _l("User"),
    "Membership": _l("Role of a user"),
    "OrgUnit": _l("Org unit"),
    "Policy": _l("Policy"),
    "TimeLimitPolicy": _l("Time limit"),
    "CalendarDay": _l("Calendar day"),
    "JobSchedule": _l("Scheduled job"),
    "Institution": _l("Institution"),
    "InstitutionSetting": _l("Institution"),
    "RoleGrant": _l("Permission of a role"),
    "DutyPattern": _l("Duty pattern"),
    "DutyChange": _l("Duty change"),
    "Absence": _l("Absence record"),
}

#: how long a value may be in the trail before it is shortened (the whole is one click away)
SHORT = 80


def register_audit_words(objects: dict | None = None, actions: dict | None = None) -> None:
    """A plugin names its objects and actions for the trail (``{"Product": _l("...")}``)."""
    OBJECT_LABELS.update(objects or {})
    ACTION_LABELS.update(actions or {})


def action_label(code: str) -> str:
    return str(ACTION_LABELS.get(code, code))


def object_label(code: str) -> str:
    return str(OBJECT_LABELS.get(code, code))


def _model_class(object_type: str):
    """The model named ``object_type`` (a trail page asks on every row)."""
    if object_type not in _MODELS:  # a name not seen yet: the models are read again
        for mapper in db.Model.registry.mappers:
            _MODELS.setdefault(mapper.class_.__name__, mapper.class_)
        _MODELS.setdefault(object_type, None)
    return _MODELS[object_type]


def _admin_view(object_type: str):
    """The first admin view of the model named ``object_type``, from a dict the admin
    keeps (a trail page asks on every row)."""
    from flask import current_app

    admin = current_app.extensions.get("township_admin")
    if admin is None:
        return None
    by_model = getattr(admin, "_township_views_by_model", None)
    if by_model is None:
        by_model = {}
        for view in admin._views:
            model = getattr(view, "model", None)
            if model is not None:
                by_model.setdefault(model.__name__, view)
        admin._township_views_by_model = by_model
    return by_model.get(object_type)


#: model name -> model class (None: no such model)
_MODELS: dict[str, Any] = {}


def field_label(object_type: str, key: str) -> str:
    """A field of the trail by the label its admin view gives it (or a shared label);
    worked out once per language (a trail page asks for several on every row)."""
    memo_key = (str(get_locale()), object_type, key)
    label = _FIELD_LABELS.get(memo_key)
    if label is None:
        label = _FIELD_LABELS[memo_key] = _field_label(object_type, key)
    return label


def _field_label(object_type: str, key: str) -> str:
    from admin.formatting import COMMON_LABELS

    view = _admin_view(object_type)
    if view is not None and key in (view.column_labels or {}):
        return str(view.column_labels[key])
    if key in COMMON_LABELS:
        return str(COMMON_LABELS[key])
    return str(FIELD_WORDS.get(key, key))


#: (language, model name, field) -> label; bounded by the models' fields and languages
_FIELD_LABELS: dict[tuple[str, str, str], str] = {}


#: trail keys no view labels
FIELD_WORDS = {
    "value": _l("Value"),
    "reason": _l("Reason"),
    "trigger": _l("Schedule"),
    "timezone": _l("Time zone"),
    "enabled": _l("Enabled"),
    "cron": _l("Schedule"),
    "channels": _l("Channels"),
    "role": _l("Role"),
    "permission": _l("Permission"),
    "granted": _l("Granted"),
    "amount": _l("Amount"),
    "unit": _l("Unit"),
    "max_amount": _l("Longest extension"),
}


def value_words(object_type: str, key: str, value: Any) -> str:
    """A stored trail value in words: an enum code by its label, a boolean as 是/否."""
    if isinstance(value, str):
        enum_class = _enum_of(object_type, key)
        if enum_class is not None:
            try:
                return label_of(enum_class(value))
            except ValueError:
                return value
        if key == "channels":
            return value
    if key == "channels" and isinstance(value, list):
        return "、".join(code_label("releases.channel", c) for c in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {v}" for k, v in value.items())
    return display(value)


def _enum_of(object_type: str, key: str):
    """The enum class of a model's column stored as an enum (None for any other)."""
    memo_key = (object_type, key)
    if memo_key not in _ENUMS:
        model = _model_class(object_type)
        column = getattr(getattr(model, "__table__", None), "c", {}).get(key) if model else None
        column_type = getattr(column, "type", None)
        enum_class = getattr(column_type, "enum_class", None)
        _ENUMS[memo_key] = enum_class if isinstance(column_type, SAEnum) else None
    return _ENUMS[memo_key]


_ENUMS: dict[tuple[str, str], Any] = {}


def readable_changes(object_type: str, change: dict | None) -> list[dict[str, Any]]:
    """``[{"field", "text", "whole", "cut"}]`` of a before/after dict, long values shortened."""
    out = []
    for key, value in (change or {}).items():
        whole = value_words(object_type, key, value)
        text, cut = shorten(whole, SHORT)
        out.append(
            {"field": field_label(object_type, key), "text": text, "whole": whole, "cut": cut}
        )
    return out


def render_changes(object_type: str, change: dict | None):
    """The change as HTML: one line per field; a shortened value opens to show it whole."""
    lines = []
    for item in readable_changes(object_type, change):
        if item["cut"]:
            value = (
                f'<details class="audit-long"><summary>{escape(item["text"])}</summary>'
                f'<div style="white-space: pre-wrap">{escape(item["whole"])}</div></details>'
            )
        else:
            value = escape(item["text"])
        lines.append(f'<div><span class="text-muted">{escape(item["field"])}</span>: {value}</div>')
    return Markup("".join(lines))


def object_trail(object_type: str, object_id: Any, limit: int = 50) -> list[dict[str, Any]]:
    """The trail of one object, oldest first, in words (one query)."""
    from sqlalchemy import select

    events = db.session.scalars(
        select(AuditEvent)
        .where(AuditEvent.object_type == object_type, AuditEvent.object_id == str(object_id))
        .order_by(AuditEvent.id)
        .limit(limit)
    ).all()
    return [
        {
            "at": event.at,
            "user": event.user.name if event.user else None,
            "action": action_label(event.action),
            "before": render_changes(object_type, event.before),
            "after": render_changes(object_type, event.after),
        }
        for event in events
    ]
