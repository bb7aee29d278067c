"""The institution switchboard: which township has adopted which institution (plugin).

A switch takes effect at once: the plugin's menu category and pages appear or
vanish for that township's staff on their next request, no restart.
"""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from admin.audit import record_audit
from admin.views import TownshipBaseView, forget_enabling, township_choices
from core.db import db
from core.institutions import set_enabled
from core.models import InstitutionSetting, OrgUnit
from core.plugins import state

MANAGE = "institutions.manage"


class SwitchboardView(TownshipBaseView):
    permission_read = MANAGE

    @expose("/")
    def index(self):
        ids = self.township_ids(MANAGE)
        townships = township_choices(ids)
        enabled: set[tuple[int, str]] = {
            (row.township_id, row.plugin_key)
            for row in db.session.execute(
                select(InstitutionSetting.township_id, InstitutionSetting.plugin_key).where(
                    InstitutionSetting.township_id.in_(ids), InstitutionSetting.enabled.is_(True)
                )
            )
        }
        return self.render(
            "admin/township/switchboard.html",
            townships=townships,
            institutions=state().institutions(),
            enabled=enabled,
        )

    @expose("/toggle/", methods=("POST",))
    def toggle(self):
        """Switch one institution on or off for one township."""
        tid = request.form.get("township", type=int)
        key = request.form.get("plugin", "")
        want = request.form.get("enabled") == "1"
        if tid not in self.township_ids(MANAGE):
            abort(404)
        township = db.session.get(OrgUnit, tid)
        if township is None or key not in {i.key for i in state().institutions()}:
            abort(404)
        try:
            set_enabled(township, key, want, by=current_user._get_current_object())
        except ValueError as exc:
            db.session.rollback()
            flash(str(exc), "danger")
            return redirect(url_for(".index"), 303)
        record_audit(
            "enable" if want else "disable",
            "Institution",
            key,
            township_id=tid,
            after={"plugin": key, "enabled": want},
        )
        db.session.commit()
        forget_enabling()
        name = state().plugins[key].info.name
        flash(
            _("%(name)s is now enabled for %(township)s.", name=name, township=township.name)
            if want
            else _("%(name)s is now disabled for %(township)s.", name=name, township=township.name),
            "success",
        )
        return redirect(url_for(".index"), 303)
