"""Which township has adopted which institution (plugin), switched without a restart."""

from __future__ import annotations

from flask import g, has_app_context, has_request_context
from sqlalchemy import select

from core.db import db
from core.models import InstitutionSetting, OrgUnit, User
from core.plugins import CORE_KEY, state


def enabled_keys(township_id: int) -> set[str]:
    """Plugin keys the township enabled (cached for the request)."""
    cache = g.setdefault("_township_enabled", {}) if has_request_context() else {}
    if township_id not in cache:
        cache[township_id] = set(
            db.session.scalars(
                select(InstitutionSetting.plugin_key).where(
                    InstitutionSetting.township_id == township_id,
                    InstitutionSetting.enabled.is_(True),
                )
            )
        )
    return cache[township_id] | {CORE_KEY}


def is_enabled(township_id: int, key: str) -> bool:
    return key == CORE_KEY or key in enabled_keys(township_id)


def townships_enabling(key: str) -> set[int]:
    return set(
        db.session.scalars(
            select(InstitutionSetting.township_id).where(
                InstitutionSetting.plugin_key == key, InstitutionSetting.enabled.is_(True)
            )
        )
    )


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
    db.session.commit()
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
