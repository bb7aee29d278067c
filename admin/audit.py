"""Writing the admin's audit trail (core :class:`~core.models.AuditEvent` rows)."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flask_login import current_user
from sqlalchemy import inspect as sa_inspect

from core.db import db
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
