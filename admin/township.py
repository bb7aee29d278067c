"""A township's own settings: its time zone (a select of IANA zones, China's first).

Every "today" and every time shown for the township follows this zone
(:mod:`core.clock`); saving it forgets the cached zone so the change applies at once.
"""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_admin import expose
from flask_babel import gettext as _

from admin.audit import record_audit
from admin.views import TownshipBaseView, township_choices
from core import clock
from core.db import db

MANAGE = "units.manage"


class TownshipSettingsView(TownshipBaseView):
    permission_read = MANAGE

    @expose("/", methods=("GET", "POST"))
    def index(self):
        township = self.chosen_township(MANAGE)
        error, status = None, 200
        if request.method == "POST":
            zone = (request.form.get("timezone") or "").strip()
            if zone not in dict(clock.zone_choices()):
                error, status = _("Choose a time zone from the list."), 400
            else:
                before = township.timezone
                township.timezone = zone
                record_audit(
                    "update",
                    "OrgUnit",
                    township.id,
                    township_id=township.id,
                    before={"timezone": before},
                    after={"timezone": zone},
                )
                db.session.commit()
                clock.forget(township.id)
                flash(
                    _("%(name)s now keeps the time of %(zone)s.", name=township.name, zone=zone),
                    "success",
                )
                return redirect(url_for(".index", township=township.id), 303)
        return self.render(
            "admin/township/township_settings.html",
            township=township,
            townships=township_choices(self.township_ids(MANAGE)),
            now=clock.now(township),
            error=error,
        ), status
