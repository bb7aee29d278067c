"""Policy figures: every figure of the rule book is a per-township policy with a default.

A township's values are read on many requests, so they are cached in
:mod:`core.cache` and built again after any change to them (any process).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from core.db import db
from core.models import PolicyValue
from core.plugins import state


def _stored(township_id: int) -> dict[str, Any]:
    """The township's own values (``{key: value}``), cached until a policy changes."""
    from core import cache

    def load() -> dict[str, Any]:
        return {
            key: value
            for key, value in db.session.execute(
                select(PolicyValue.key, PolicyValue.value).where(
                    PolicyValue.township_id == township_id
                )
            )
        }

    return cache.memo(f"policies:{township_id}", load, areas=[(None, cache.POLICIES)])


def stored_for(township_ids) -> dict[int, dict[str, Any]]:
    """The own values of several townships (each cached as :func:`_stored` caches it;
    those not cached are read in one query)."""
    from core import cache

    def load(ids: list[int]) -> dict[int, dict[str, Any]]:
        found: dict[int, dict[str, Any]] = {tid: {} for tid in ids}
        for tid, key, value in db.session.execute(
            select(PolicyValue.township_id, PolicyValue.key, PolicyValue.value).where(
                PolicyValue.township_id.in_(ids)
            )
        ):
            found[tid][key] = value
        return found

    return cache.memo_each("policies", township_ids, load, areas=[(None, cache.POLICIES)])


def get_policy(township_id: int, key: str) -> Any:
    """The township's value for ``key``, or the declared default."""
    spec = state().policies[key]
    stored = _stored(township_id).get(key)
    if stored is None:
        return spec.default
    return stored.get("value", spec.default)


def policies_for(township_id: int) -> dict[str, Any]:
    """Every policy in force for a township (one query, or none when cached)."""
    specs = state().policies
    values = {key: spec.default for key, spec in specs.items()}
    for key, stored in _stored(township_id).items():
        if key in specs:
            values[key] = stored.get("value")
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
