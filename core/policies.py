"""Policy figures: every figure of the rule book is a per-township policy with a default."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from core.db import db
from core.models import PolicyValue
from core.plugins import state


def get_policy(township_id: int, key: str) -> Any:
    """The township's value for ``key``, or the declared default."""
    spec = state().policies[key]
    row = db.session.scalar(
        select(PolicyValue).where(PolicyValue.township_id == township_id, PolicyValue.key == key)
    )
    if row is None:
        return spec.default
    return row.value.get("value", spec.default)


def policies_for(township_id: int) -> dict[str, Any]:
    """Every policy in force for a township, in one query."""
    specs = state().policies
    values = {key: spec.default for key, spec in specs.items()}
    for row in db.session.scalars(
        select(PolicyValue).where(PolicyValue.township_id == township_id)
    ):
        if row.key in specs:
            values[row.key] = row.value.get("value")
    return values


def set_policy(township_id: int, key: str, raw: Any) -> Any:
    """Validate and store a township's value; raises ValueError with a clear message."""
    spec = state().policies.get(key)
    if spec is None:
        raise ValueError(f"unknown policy {key!r}")
    value = spec.validate(raw)
    row = db.session.scalar(
        select(PolicyValue).where(PolicyValue.township_id == township_id, PolicyValue.key == key)
    )
    if row is None:
        row = PolicyValue(township_id=township_id, key=key, value={"value": value})
        db.session.add(row)
    else:
        row.value = {"value": value}
    return value
