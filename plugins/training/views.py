"""The ``training`` blueprint, mounted at ``/t/<township>/training/`` (township in ``g.township``).

It carries the plugin's template folder (the admin views render from it) and a
staff JSON endpoint of the month's compliance. Staff pages require a signed-in
user who may read the township's training reports.
"""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, g, jsonify, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from core.access import can, visible_township_ids
from plugins.training.services import monthly_compliance, township_today

bp = Blueprint("training", __name__, template_folder="templates")


def require_reader() -> None:
    """Anonymous → sign-in; another township → 404; no read permission → 403."""
    if not current_user.is_authenticated:
        abort(redirect(url_for("auth.login", next=request.full_path)))
    township_id = g.township.id
    if township_id not in visible_township_ids(current_user):
        abort(404)
    if not (
        can(current_user, "training.read", township_id)
        or can(current_user, "dashboard.read", township_id)
    ):
        abort(403)


@bp.get("/compliance.json")
def compliance_json():
    """The month's compliance (``?month=YYYY-MM``, default this month) as JSON."""
    require_reader()
    raw = request.args.get("month", "")
    if raw:
        try:
            year, month = (int(part) for part in raw.split("-"))
            date(year, month, 1)
        except ValueError:
            return jsonify(error=_("Give the month as YYYY-MM.")), 400
    else:
        today = township_today(g.township.id)
        year, month = today.year, today.month
    return jsonify(monthly_compliance(g.township.id, year, month).to_dict())
