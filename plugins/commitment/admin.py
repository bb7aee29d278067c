"""Admin views of service commitments (服务承诺): a leader takes a matter, the matters
taken, disputes in three-level mediation, and the yearly quota report with its export.

Permissions: ``commitment.read`` reads; ``commitment.take`` (leaders) takes matters;
``commitment.mediate`` records disputes and mediations.
"""

from __future__ import annotations

import io
from datetime import date

from flask import Response, abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select

from admin.views import TownshipBaseView, TownshipModelView, township_choices
from core import clock
from core.access import can
from core.db import db
from core.models import Case, OrgUnit, UnitKind, User
from plugins.commitment import services
from plugins.commitment.models import (
    CommitmentDispute,
    CommitmentTake,
    MediationLevel,
    MediationOutcome,
    TakeMode,
    Urgency,
)
from plugins.commitment.services import CommitmentError

READ = "commitment.read"
TAKE = "commitment.take"
MEDIATE = "commitment.mediate"
FORMULA_STARTS = ("=", "+", "-", "@")
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _safe(value):
    """Text a spreadsheet must not run as a formula gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _day(name: str) -> date | None:
    raw = (request.form.get(name) or "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError as exc:
        raise CommitmentError(_("Give the date as YYYY-MM-DD.")) from exc


def _staff(township_id: int) -> list[User]:
    ids = services.staff_ids(township_id)
    if not ids:
        return []
    return list(db.session.scalars(select(User).where(User.id.in_(ids)).order_by(User.name)))


class TakeView(TownshipBaseView):
    """A leader takes a matter: answers it at once, or assigns a handler by urgency."""

    plugin_key = "commitment"
    permission_read = TAKE

    @expose("/", methods=("GET", "POST"))
    def index(self):
        township = self.chosen_township(TAKE)
        staff = _staff(township.id)
        error = None
        if request.method == "POST":
            handler = next(
                (u for u in staff if u.id == request.form.get("handler_id", type=int)), None
            )
            try:
                take = services.take_matter(
                    township,
                    leader=current_user._get_current_object(),
                    title=request.form.get("title", ""),
                    applicant_name=request.form.get("applicant_name", ""),
                    description=request.form.get("description", ""),
                    mode=request.form.get("mode", ""),
                    answer=request.form.get("answer", ""),
                    handler=handler,
                    urgency=request.form.get("urgency") or None,
                )
            except CommitmentError as exc:
                error = str(exc)
            else:
                flash(
                    _(
                        "Matter %(no)s recorded: %(mode)s.",
                        no=take.case.receipt_no,
                        mode=take.mode.label,
                    ),
                    "success",
                )
                return redirect(url_for("admin_cases.details_view", id=take.case_id), 303)
        return (
            self.render(
                "commitment/admin/take.html",
                township=township,
                townships=township_choices(self.township_ids(TAKE)),
                staff=staff,
                modes=TakeMode,
                urgencies=Urgency,
                error=error,
                form=request.form,
            ),
            400 if error else 200,
        )


def _case_link(view, context, model, name):
    return Markup('<a href="{}">{}</a>').format(
        url_for("admin_cases.details_view", id=model.case_id), model.case.receipt_no
    )


class TakenView(TownshipModelView):
    """Matters leaders took, answered on the spot or assigned."""

    plugin_key = "commitment"
    permission_read = READ
    allow_create = allow_edit = allow_delete = False
    column_list = ("case", "title", "leader", "mode", "urgency", "handler", "deadline", "status")
    column_labels = {
        "case": _l("Receipt number"),
        "title": _l("Matter"),
        "leader": _l("Leader"),
        "mode": _l("How it is handled"),
        "urgency": _l("Urgency"),
        "handler": _l("Handler"),
        "deadline": _l("Deadline to finish"),
        "status": _l("Status"),
    }
    column_formatters = {
        "case": _case_link,
        "title": lambda v, c, m, n: m.case.title,
        "status": lambda v, c, m, n: m.case.status.label,
    }
    column_filters = ("mode", "urgency", "deadline")
    column_default_sort = ("created_at", True)


def _dispute_link(view, context, model, name):
    return Markup('<a href="{}">{}</a>').format(url_for(".details_view", id=model.id), model.title)


class DisputeView(TownshipModelView):
    """Disputes in three-level mediation (三级调处), each with its trail."""

    plugin_key = "commitment"
    permission_read = READ
    permission_write = MEDIATE
    allow_edit = allow_delete = False
    column_list = ("title", "village", "opened_on", "level", "status")
    column_labels = {
        "title": _l("Dispute"),
        "village": _l("Village"),
        "opened_on": _l("Recorded on"),
        "level": _l("Reached level"),
        "status": _l("Status"),
    }
    column_formatters = {
        "title": _dispute_link,
        "level": lambda v, c, m, n: m.mediations[-1].level.label if m.mediations else "–",
    }
    column_filters = ("status", "opened_on")
    column_default_sort = ("opened_on", True)

    @expose("/new/", methods=("GET", "POST"))
    def create_view(self):
        ids = self.writable_township_ids()
        if not ids:
            abort(404)
        choices = township_choices(ids)
        tid = request.values.get("township", type=int) or choices[0][0]
        if tid not in ids:
            abort(404)
        township = db.session.get(OrgUnit, tid)
        villages = db.session.scalars(
            select(OrgUnit)
            .where(OrgUnit.township_id == tid, OrgUnit.kind == UnitKind.village)
            .order_by(OrgUnit.name)
        ).all()
        error = None
        if request.method == "POST":
            village = next(
                (v for v in villages if v.id == request.form.get("village_id", type=int)), None
            )
            receipt = (request.form.get("receipt") or "").strip().upper()
            case = None
            try:
                if receipt:
                    case = db.session.scalar(
                        select(Case).where(Case.receipt_no == receipt, Case.township_id == tid)
                    )
                    if case is None:
                        raise CommitmentError(
                            _("No case of this township has this receipt number.")
                        )
                dispute = services.open_dispute(
                    township,
                    by=current_user._get_current_object(),
                    title=request.form.get("title", ""),
                    parties=request.form.get("parties", ""),
                    village=village,
                    case=case,
                    opened_on=_day("opened_on"),
                )
            except CommitmentError as exc:
                error = str(exc)
            else:
                flash(_("Dispute recorded; record the village mediation next."), "success")
                return redirect(url_for(".details_view", id=dispute.id), 303)
        return (
            self.render(
                "commitment/admin/dispute_new.html",
                township=township,
                townships=choices,
                villages=villages,
                error=error,
                form=request.form,
                today=clock.today(township),
            ),
            400 if error else 200,
        )

    @expose("/details/")
    def details_view(self):
        return self._details(self.get_one(request.args.get("id", "")))

    def _details(self, dispute, error=None):
        return self.render(
            "commitment/admin/dispute.html",
            dispute=dispute,
            trail=services.trail(dispute),
            next_level=services.next_level(dispute),
            may_write=can(current_user, MEDIATE, dispute.township_id),
            levels=MediationLevel,
            outcomes=MediationOutcome,
            error=error,
            form=request.form,
            today=clock.today(dispute.township_id),
        )

    @expose("/<int:dispute_id>/mediation", methods=("POST",))
    def mediation(self, dispute_id):
        dispute = self.get_one(str(dispute_id))
        try:
            services.record_mediation(
                dispute,
                by=current_user._get_current_object(),
                level=request.form.get("level", ""),
                held_on=_day("held_on"),
                mediators=request.form.get("mediators", ""),
                outcome=request.form.get("outcome", ""),
                agreement=request.form.get("agreement", ""),
            )
        except CommitmentError as exc:
            db.session.rollback()
            return self._details(self.get_one(str(dispute_id)), str(exc)), 400
        flash(_("Saved."), "success")
        return redirect(url_for(".details_view", id=dispute.id), 303)


class QuotaView(TownshipBaseView):
    """The yearly quota report per person: handled, on time, by kind, against the quota."""

    plugin_key = "commitment"
    permission_read = READ

    def _report(self):
        township = self.chosen_township(READ)
        today = clock.today(township)
        year = request.args.get("year", type=int) or today.year
        if not 2000 <= year <= today.year + 1:
            abort(400, _("Choose a year."))
        return township, services.quota_report(township.id, year, today)

    @expose("/")
    def index(self):
        township, report = self._report()
        only_behind = request.args.get("behind") == "1"
        return self.render(
            "commitment/admin/quota.html",
            township=township,
            townships=township_choices(self.township_ids(READ)),
            report=report,
            rows=report.behind if only_behind else report.people,
            only_behind=only_behind,
            kind_label=services.kind_label,
        )

    @expose("/export")
    def export(self):
        from openpyxl import Workbook
        from openpyxl.styles import Font, PatternFill

        township, report = self._report()
        book = Workbook()
        sheet = book.active
        sheet.title = str(report.year)
        header = [
            _("Name"),
            _("Role"),
            _("Quota"),
            _("Expected so far"),
            _("Handled"),
            _("Finished on time"),
            _("Answered on the spot"),
            *[services.kind_label(k) for k in report.kinds],
            _("Behind schedule"),
        ]
        sheet.append([_safe(h) for h in header])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        red = PatternFill("solid", fgColor="F8D7DA")
        for p in report.people:
            sheet.append(
                [
                    _safe(p.name),
                    _("Leader") if p.role == "leader" else _("Township cadre"),
                    p.quota,
                    p.expected,
                    p.handled,
                    p.on_time,
                    p.on_spot,
                    *[p.by_kind.get(k, 0) for k in report.kinds],
                    _("Yes") if p.behind else _("No"),
                ]
            )
            if p.behind:
                for cell in sheet[sheet.max_row]:
                    cell.fill = red
        out = io.BytesIO()
        book.save(out)
        return Response(
            out.getvalue(),
            mimetype=XLSX_MIMETYPE,
            headers={
                "Content-Disposition": (
                    f'attachment; filename="quota-{township.code}-{report.year}.xlsx"'
                )
            },
        )


def admin_views() -> list:
    from core.contract import AdminView

    return [
        AdminView(QuotaView(name=_l("Yearly quota report"), endpoint="commitment_quota")),
        AdminView(TakeView(name=_l("Take a matter"), endpoint="commitment_take")),
        AdminView(
            TakenView(
                CommitmentTake, name=_l("Matters taken by leaders"), endpoint="commitment_taken"
            )
        ),
        AdminView(
            DisputeView(
                CommitmentDispute,
                name=_l("Disputes (three-level mediation)"),
                endpoint="commitment_disputes",
            )
        ),
    ]


def county_dashboard_figures(townships: list[OrgUnit]) -> dict[int, list]:
    """Each township's staff behind their yearly quota so far, by its own today (a fixed
    number of queries for all of them)."""
    from core.contract import DashboardFigure

    periods = {}
    for township in townships:
        today = clock.today(township)
        periods[township.id] = (today.year, today)
    reports = services.quota_reports(periods)
    figures: dict[int, list] = {}
    for township in townships:
        report = reports[township.id]
        behind = report.behind
        figures[township.id] = [
            DashboardFigure(
                label=_(
                    "Commitments: staff behind their yearly quota so far (of %(n)s)",
                    n=len(report.people),
                ),
                value=len(behind),
                link=url_for("commitment_quota.index", township=township.id),
                level="warning" if behind else "success",
            )
        ]
    return figures
