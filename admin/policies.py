"""Policies per township: every figure of the rule book with its default and the
township's value, and the time limit of each case kind."""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_admin import expose
from flask_babel import gettext as _
from sqlalchemy import delete, select

from admin.audit import plain, record_audit
from admin.views import TownshipBaseView, township_choices
from core.db import db
from core.models import LimitUnit, TimeLimitPolicy
from core.plugins import state
from core.policies import policies_for, set_policy

MANAGE = "policies.manage"
#: a service commitment (服务承诺) never runs beyond this many days, extension included
COMMITMENT_CEILING = 30


def validate_time_limit(kind: str, amount: str, unit: str, max_amount: str) -> tuple:
    """(amount, unit, max_amount) from form text; ValueError with a clear message."""
    try:
        amount_ = int(amount)
    except (TypeError, ValueError):
        raise ValueError(_("The time limit must be a whole number of days.")) from None
    if amount_ <= 0:
        raise ValueError(_("The time limit must be at least one day."))
    try:
        unit_ = LimitUnit(unit)
    except ValueError:
        raise ValueError(_("Choose working days or calendar days.")) from None
    max_ = None
    if (max_amount or "").strip():
        try:
            max_ = int(max_amount)
        except ValueError:
            raise ValueError(_("The longest extension must be a whole number of days.")) from None
        if max_ < amount_:
            raise ValueError(_("The longest extension cannot be shorter than the limit itself."))
    if kind == "commitment" and max(amount_, max_ or 0) > COMMITMENT_CEILING:
        raise ValueError(
            _("A service commitment never runs beyond %(n)s days.", n=COMMITMENT_CEILING)
        )
    return amount_, unit_, max_


def _policy_name(spec) -> str:
    from core.app import current_locale

    return spec.label_en if current_locale() == "en" and spec.label_en else spec.label


class PolicyView(TownshipBaseView):
    permission_read = MANAGE

    @expose("/")
    def index(self):
        return self._page(self.chosen_township(MANAGE))

    def _page(self, township):
        values = policies_for(township.id)
        overrides = {
            row.kind: row
            for row in db.session.scalars(
                select(TimeLimitPolicy).where(TimeLimitPolicy.township_id == township.id)
            )
        }
        return self.render(
            "admin/township/policies.html",
            township=township,
            townships=township_choices(self.township_ids(MANAGE)),
            specs=state().policies,
            values=values,
            kinds=state().case_kinds,
            overrides=overrides,
        )

    @expose("/set/", methods=("POST",))
    def set_value(self):
        township = self.chosen_township(MANAGE)
        key = request.form.get("key", "")
        spec = state().policies.get(key)
        name = _policy_name(spec) if spec is not None else key
        back = redirect(url_for(".index", township=township.id), 303)
        before = policies_for(township.id).get(key)
        try:
            value = set_policy(township.id, key, request.form.get("value", ""))
        except ValueError as exc:
            db.session.rollback()
            flash(_("%(key)s was not saved: %(error)s", key=name, error=exc), "danger")
            return self._page(township), 400
        record_audit(
            "update",
            "Policy",
            key,
            township_id=township.id,
            before={"value": plain(before)},
            after={"value": plain(value)},
        )
        db.session.commit()
        shown = _("Not set") if value is None else f"{value} {spec.unit if spec else ''}".strip()
        flash(_("%(key)s is now %(value)s.", key=name, value=shown), "success")
        return back

    @expose("/time-limit/", methods=("POST",))
    def set_time_limit(self):
        township = self.chosen_township(MANAGE)
        kind = request.form.get("kind", "")
        if kind not in state().case_kinds:
            flash(_("Unknown case kind."), "danger")
            return self._page(township), 400
        row = db.session.scalar(
            select(TimeLimitPolicy).where(
                TimeLimitPolicy.township_id == township.id, TimeLimitPolicy.kind == kind
            )
        )
        before = (
            {"amount": row.amount, "unit": row.unit.value, "max_amount": row.max_amount}
            if row
            else None
        )
        if request.form.get("reset"):
            db.session.execute(
                delete(TimeLimitPolicy).where(
                    TimeLimitPolicy.township_id == township.id, TimeLimitPolicy.kind == kind
                )
            )
            record_audit("delete", "TimeLimitPolicy", kind, township_id=township.id, before=before)
            db.session.commit()
            flash(_("The time limit of %(kind)s is back to its default.", kind=kind), "success")
            return redirect(url_for(".index", township=township.id), 303)
        try:
            amount, unit, max_amount = validate_time_limit(
                kind,
                request.form.get("amount", ""),
                request.form.get("unit", ""),
                request.form.get("max_amount", ""),
            )
        except ValueError as exc:
            flash(_("The time limit was not saved: %(error)s", error=exc), "danger")
            return self._page(township), 400
        if row is None:
            row = TimeLimitPolicy(township_id=township.id, kind=kind)
            db.session.add(row)
        row.amount, row.unit, row.max_amount = amount, unit, max_amount
        record_audit(
            "update",
            "TimeLimitPolicy",
            kind,
            township_id=township.id,
            before=before,
            after={"amount": amount, "unit": unit.value, "max_amount": max_amount},
        )
        db.session.commit()
        flash(_("The time limit of %(kind)s is saved.", kind=kind), "success")
        return redirect(url_for(".index", township=township.id), 303)
