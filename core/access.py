"""Who may see and do what, in which township.

A membership gives a role in an org unit. A role held in a county reaches every
township of that county; a role held in a township, village or station reaches
that township. Permissions are the union of the roles' permissions per township.
Each user's map is cached per request on ``flask.g`` and across requests and
processes in :mod:`core.cache` (area ``access``: any change to memberships, role
grants, org units or users builds it again).
"""

from __future__ import annotations

from collections import defaultdict

from flask import abort, g, has_request_context
from sqlalchemy import select

from core.db import db
from core.models import Membership, OrgUnit, RoleGrant, UnitKind, User
from core.plugins import state


def _permission_map(user: User) -> dict[int, set[str]]:
    """``{township id: permissions}`` of a user: from the request, else from the shared
    cache (rebuilt after any change to memberships, grants, units or users), else
    computed in three queries."""
    cache_key = f"_township_perms_{user.id}"
    if has_request_context() and cache_key in g:
        return g.get(cache_key)
    from core import cache

    result = cache.memo(
        f"perms:{user.id}",
        lambda: _compute_permission_map(user.id),
        areas=[(None, cache.ACCESS)],
    )
    if has_request_context():
        setattr(g, cache_key, result)
    return result


def _compute_permission_map(user_id: int) -> dict[int, set[str]]:
    roles = state().roles
    memberships = db.session.execute(
        select(Membership.role, Membership.org_unit_id, OrgUnit.kind, OrgUnit.township_id)
        .join(OrgUnit, OrgUnit.id == Membership.org_unit_id)
        .where(Membership.user_id == user_id)
    ).all()
    county_ids = [m.org_unit_id for m in memberships if m.kind == UnitKind.county]
    townships_of_county: dict[int, list[int]] = defaultdict(list)
    if county_ids:
        for tid, parent in db.session.execute(
            select(OrgUnit.id, OrgUnit.parent_id).where(
                OrgUnit.kind == UnitKind.township, OrgUnit.parent_id.in_(county_ids)
            )
        ):
            townships_of_county[parent].append(tid)
    township = state()
    reach: list[tuple[str, list[int]]] = []
    for m in memberships:
        if m.role not in roles:
            continue  # a role of a plugin that is no longer installed
        if m.kind == UnitKind.county:
            targets = townships_of_county.get(m.org_unit_id, [])
        elif m.kind == UnitKind.township:
            targets = [m.org_unit_id]
        else:
            targets = [m.township_id] if m.township_id else []
        reach.append((m.role, targets))
    changes = township_grants({tid for _, targets in reach for tid in targets})
    perms: dict[int, set[str]] = defaultdict(set)
    for role_code, targets in reach:
        defaults = township.default_permissions(role_code)
        for tid in targets:
            granted = defaults
            for permission, on in changes.get((tid, role_code), {}).items():
                granted = granted | {permission} if on else granted - {permission}
            perms[tid] |= granted
    return dict(perms)


def township_grants(township_ids: set[int]) -> dict[tuple[int, str], dict[str, bool]]:
    """Each township's changes to declared permissions' default grants, by (township, role)."""
    if not township_ids:
        return {}
    declared = state().permissions
    out: dict[tuple[int, str], dict[str, bool]] = defaultdict(dict)
    for row in db.session.scalars(select(RoleGrant).where(RoleGrant.township_id.in_(township_ids))):
        if row.permission in declared:
            out[(row.township_id, row.role)][row.permission] = row.granted
    return out


def role_has(role_code: str, permission: str, township_id: int) -> bool:
    """Whether a role holds a permission in a township (defaults and the township's changes)."""
    granted = permission in state().default_permissions(role_code)
    change = township_grants({township_id}).get((township_id, role_code), {})
    return change.get(permission, granted)


def users_with(permission: str, township_id: int) -> list[User]:
    """Active users who hold ``permission`` in the township (through any of their roles,
    including county roles), e.g. the leaders who decide an extension."""
    township = db.session.get(OrgUnit, township_id)
    if township is None:
        return []
    units = [township_id] + ([township.parent_id] if township.parent_id else [])
    rows = db.session.execute(
        select(Membership.role, User)
        .join(User, User.id == Membership.user_id)
        .join(OrgUnit, OrgUnit.id == Membership.org_unit_id)
        .where(
            User.active.is_(True),
            (OrgUnit.township_id == township_id) | (Membership.org_unit_id.in_(units)),
        )
    ).all()
    roles = {role for role, _ in rows}
    holding = {role for role in roles if role_has(role, permission, township_id)}
    seen: dict[int, User] = {}
    for role, user in rows:
        if role in holding:
            seen.setdefault(user.id, user)
    return sorted(seen.values(), key=lambda u: u.name)


def visible_township_ids(user: User | None) -> set[int]:
    """Townships the user may see at all."""
    if user is None or not getattr(user, "is_authenticated", False):
        return set()
    return set(_permission_map(user))


def permissions(user: User, township_id: int) -> set[str]:
    return _permission_map(user).get(township_id, set())


def can(user: User | None, permission: str, township_id: int | None = None) -> bool:
    """Whether the user has ``permission`` in the township (or in any, if None)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    _check_known(permission)
    perms = _permission_map(user)
    if township_id is None:
        return any(permission in p for p in perms.values())
    return permission in perms.get(township_id, set())


def _check_known(permission: str) -> None:
    """In tests, a check of a permission no role grants and no plugin declares is a typo."""
    from flask import current_app, has_app_context

    if has_app_context() and current_app.testing and permission not in state().known_permissions():
        raise KeyError(f"permission {permission!r} is not declared by any plugin or role")


def township_ids_with(user: User | None, permission: str) -> set[int]:
    _check_known(permission)
    if user is None or not getattr(user, "is_authenticated", False):
        return set()
    return {tid for tid, p in _permission_map(user).items() if permission in p}


def require(user: User | None, permission: str, township_id: int) -> None:
    """404 when the township is not visible, 403 when visible but not permitted."""
    if township_id not in visible_township_ids(user):
        abort(404)
    if not can(user, permission, township_id):
        abort(403)


def clear_cache() -> None:
    """Forget the request's permission answers (after a change to roles or grants)."""
    if has_request_context():
        for key in [k for k in vars(g) if k.startswith(("_township_perms_", "_township_view"))]:
            delattr(g, key)


def mask_id_number(value: str | None) -> str | None:
    """``110101199003071234`` → ``1101**********1234``."""
    if not value:
        return value
    if len(value) <= 8:
        return "*" * len(value)
    return value[:4] + "*" * (len(value) - 8) + value[-4:]


def mask_phone(value: str | None) -> str | None:
    """``13812345678`` → ``138****5678``."""
    if not value:
        return value
    if len(value) <= 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]
