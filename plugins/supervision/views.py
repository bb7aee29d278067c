"""Public pages: a citizen reports a problem with the service (反映问题), e.g. from a staff
member's "who serves you" page; the report becomes a finding for the leading group and the
citizen gets a receipt number the public lookup finds. Rate limited per address.

Mounted at ``/t/<township>/supervision/``.
"""

from __future__ import annotations

from datetime import date

from flask import Blueprint, g, render_template, request, url_for
from flask_babel import gettext as _

from core import clock
from core.db import db
from core.extensions import limiter
from core.models import User
from core.receipts import watch_receipts
from plugins.supervision import services
from plugins.supervision.models import FindingKind, SupervisionFinding

bp = Blueprint("supervision", __name__, template_folder="templates")
watch_receipts(SupervisionFinding)  # a finding's answer shows under its receipt at once

#: reports per address: a citizen needs one or two; a script gets a 429
REPORT_RATE_LIMIT = "5 per hour"


def _only_posts() -> bool:
    return request.method != "POST"


def _staff() -> User | None:
    staff_id = request.values.get("staff", type=int)
    if staff_id and services.is_staff(g.township.id, staff_id):
        return db.session.get(User, staff_id)
    return None


def _form(values: dict, problems: list[str], status: int = 200, error: str | None = None):
    return render_template(
        "supervision/report.html",
        township=g.township,
        staff=_staff(),
        kinds=list(FindingKind),
        departments=services.stations(g.township.id),
        values=values,
        problems=problems,
        today=clock.today(g.township),
        error=error,
    ), status


@bp.route("/report", methods=("GET", "POST"))
@limiter.limit(REPORT_RATE_LIMIT, exempt_when=_only_posts)
def report():
    if request.method == "GET":
        return _form({"observed_on": clock.today(g.township).isoformat()}, [])
    values = dict(request.form)
    try:
        observed_on = date.fromisoformat(values.get("observed_on", "").strip())
    except ValueError:
        observed_on = None
    staff = _staff()
    try:
        finding = services.submit_citizen_report(
            g.township,
            services.FindingInput(
                kind=values.get("kind") or None,
                observed_on=observed_on,
                evidence=values.get("what", ""),
                staff_user_id=staff.id if staff else None,
                department_id=request.form.get("department_id", type=int),
                window=values.get("window", ""),
            ),
            contact=values.get("contact", ""),
        )
    except services.SupervisionError as exc:
        return _form(values, exc.problems, 400)
    return render_template(
        "supervision/reported.html",
        township=g.township,
        finding=finding,
        lookup=url_for("public.lookup", receipt=finding.receipt_no),
    ), 201


@bp.errorhandler(429)
def _too_many(exc):
    return _form({}, [], 429, _("Too many reports from your address. Please try again later."))
