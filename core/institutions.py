"""Which township has adopted which institution (plugin), switched without a restart.

The switchboard is read on nearly every request (menus, plugin pages, hooks), so it
is cached in :mod:`core.cache` and built again after any change to it.
"""

from __future__ import annotations

from flask import g, has_app_context, has_request_context
from sqlalchemy import select

from core.db import db
from core.models import InstitutionSetting, OrgUnit, User
from core.plugins import CORE_KEY, state


def _switchboard() -> dict[int, frozenset[str]]:
    """Every township's enabled plugin keys, in one query, cached until a switch changes
    (:mod:`core.cache`, area ``institutions``; a county has at most a few hundred rows)."""
    if has_request_context() and "_township_enabled" in g:
        return g._township_enabled
    from core import cache

    def load() -> dict[int, frozenset[str]]:
        out: dict[int, set[str]] = {}
        for township_id, key in db.session.execute(
            select(InstitutionSetting.township_id, InstitutionSetting.plugin_key).where(
                InstitutionSetting.enabled.is_(True)
            )
        ):
            out.setdefault(township_id, set()).add(key)
        return {tid: frozenset(keys) for tid, keys in out.items()}

    board = cache.memo("institutions", load, areas=[(None, cache.INSTITUTIONS)])
    if has_request_context():
        g._township_enabled = board
    return board


def enabled_keys(township_id: int) -> set[str]:
    """Plugin keys the township enabled (and the core's)."""
    return set(_switchboard().get(township_id, ())) | {CORE_KEY}


def is_enabled(township_id: int, key: str) -> bool:
    return key == CORE_KEY or key in _switchboard().get(township_id, ())


def townships_enabling(key: str) -> set[int]:
    return {tid for tid, keys in _switchboard().items() if key in keys}


def set_enabled(township: OrgUnit, key: str, enabled: bool, by: User | None = None) -> None:
    """Enable or disable an institution for a township, commit, and tell the plugins."""
    if key not in state().plugins or key == CORE_KEY:
        raise ValueError(f"unknown institution {key!r}")
    info = state().plugins[key].info
    if enabled:
        missing = [d for d in info.dependencies if not is_enabled(township.id, d)]
        if missing:
            raise ValueError(f"enable {', '.join(missing)} first")
    row = db.session.scalar(
        select(InstitutionSetting).where(
            InstitutionSetting.township_id == township.id, InstitutionSetting.plugin_key == key
        )
    )
    if row is None:
        row = InstitutionSetting(township_id=township.id, plugin_key=key)
        db.session.add(row)
    row.enabled = enabled
    row.changed_by_id = by.id if by else None
    db.session.commit()  # bumps the cached switchboard (core.cache watches the table)
    if has_app_context():
        g.pop("_township_enabled", None)
    state().hook.township_institution_toggled(township=township, plugin_key=key, enabled=enabled)


def enabled_hook(name: str, township_id: int):
    """A caller of hook ``name`` that skips the plugins the township has not enabled
    (the core always answers)."""
    township_state = state()
    enabled = enabled_keys(township_id)
    skipped = [
        loaded.obj
        for key, loaded in township_state.plugins.items()
        if key != CORE_KEY and key not in enabled
    ]
    return township_state.pm.subset_hook_caller(name, skipped)
