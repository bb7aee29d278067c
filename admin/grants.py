"""Roles and permissions (角色与权限): which role holds which institution's permission.

Plugins declare their permissions with the roles that hold them by default
(``township_permissions``); a township's administrator sees the grid and may give a
permission to another role or take it away, for that township only. Every change
is in the audit trail.
"""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_admin import expose
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from admin.audit import record_audit
from admin.views import TownshipBaseView, township_choices
from core.access import clear_cache, township_grants
from core.db import db
from core.models import RoleGrant
from core.plugins import state

MANAGE = "users.manage"


def grid(township_id: int) -> tuple[list, list, dict[tuple[str, str], bool]]:
    """(permissions, roles, {(role, permission): held}) for a township."""
    township = state()
    permissions = sorted(township.permissions.values(), key=lambda p: p.code)
    roles = list(township.roles.values())
    changes = township_grants({township_id})
    held = {}
    for role in roles:
        defaults = township.default_permissions(role.code)
        change = changes.get((township_id, role.code), {})
        for permission in permissions:
            held[(role.code, permission.code)] = change.get(
                permission.code, permission.code in defaults
            )
    return permissions, roles, held


class GrantsView(TownshipBaseView):
    permission_read = MANAGE

    @expose("/", methods=("GET", "POST"))
    def index(self):
        township = self.chosen_township(MANAGE)
        if request.method == "POST":
            changed = self._save(township.id)
            flash(_("%(n)d grant(s) changed.", n=changed), "success")
            return redirect(url_for(".index", township=township.id), 303)
        permissions, roles, held = grid(township.id)
        return self.render(
            "admin/township/grants.html",
            township=township,
            townships=township_choices(self.township_ids(MANAGE)),
            permissions=permissions,
            roles=roles,
            held=held,
        )

    def _save(self, township_id: int) -> int:
        township = state()
        permissions, roles, held = grid(township_id)
        wanted = set(request.form.getlist("grant"))
        rows = {
            (row.role, row.permission): row
            for row in db.session.scalars(
                select(RoleGrant).where(RoleGrant.township_id == township_id)
            )
        }
        changed = 0
        for role in roles:
            defaults = township.default_permissions(role.code)
            for permission in permissions:
                key = (role.code, permission.code)
                want = f"{role.code}|{permission.code}" in wanted
                if want == held[key]:
                    continue
                changed += 1
                row = rows.get(key)
                if want == (permission.code in defaults):
                    if row is not None:
                        db.session.delete(row)
                elif row is None:
                    db.session.add(
                        RoleGrant(
                            township_id=township_id,
                            role=role.code,
                            permission=permission.code,
                            granted=want,
                            changed_by_id=current_user.id,
                        )
                    )
                else:
                    row.granted = want
                    row.changed_by_id = current_user.id
                record_audit(
                    "update",
                    "RoleGrant",
                    f"{role.code}:{permission.code}",
                    township_id=township_id,
                    before={"granted": held[key]},
                    after={"granted": want},
                )
        db.session.commit()
        clear_cache()
        return changed
