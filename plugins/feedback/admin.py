"""Admin views of information feedback (信息反馈), in its own menu:

* duty reports (值班报告): the list, each report's page with the form the person on duty
  files it with (reached from the inbox);
* stages (阶段): the township's reporting stages, editable by the office, and the
  quarters written in one step;
* stage reports: service teams' progress and villages' instructive activity reports;
* compliance per stage: villages against the policy (red where behind), service teams,
  XLSX export;
* reports to the office with attachments and the office's acknowledgement;
* the monthly digest for the leadership (printable, A4).

Permissions: ``feedback.read`` reads; ``feedback.report`` files stage reports and
reports to the office; ``feedback.office`` acknowledges, defines stages and files a
duty report on someone's behalf; ``feedback.digest`` reads the monthly digest.
"""

from __future__ import annotations

from datetime import date

from flask import Response, abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_admin.contrib.sqla.filters import FilterEqual
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import ValidationError

from admin.audit import record_audit
from admin.views import TownshipBaseView, TownshipModelView, township_choices
from core import clock, duty
from core.access import can
from core.db import db
from core.labels import enum_choices
from core.models import OrgUnit
from plugins.feedback import services
from plugins.feedback.models import (
    OPEN_STATUSES,
    DutyReportStatus,
    FeedbackAttachment,
    FeedbackDutyReport,
    FeedbackOfficeReport,
    FeedbackStage,
    FeedbackStageReport,
    ReportCategory,
    ReporterRole,
    StageReportKind,
)
from plugins.feedback.policy import KEY
from plugins.feedback.services import DIGEST, OFFICE, READ, REPORT, FeedbackError

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _day(name: str) -> tuple[date | None, str | None]:
    raw = (request.form.get(name) or "").strip()
    if not raw:
        return None, None
    try:
        return date.fromisoformat(raw), None
    except ValueError:
        return None, raw


def _township_for(view, permission: str) -> OrgUnit:
    """The township of ``?township=`` among those the user may act on here (the first if
    not given); 404 otherwise."""
    allowed = view.township_ids(permission)
    choices = township_choices(allowed)
    if not choices:
        abort(404)
    chosen = request.values.get("township", type=int)
    if chosen is None:
        chosen = choices[0][0]
    if chosen not in allowed:
        abort(404)
    return db.session.get(OrgUnit, chosen)


def _status(view, context, model, name):
    from markupsafe import Markup

    css = {
        DutyReportStatus.missing: "badge-danger",
        DutyReportStatus.late: "badge-warning",
        DutyReportStatus.filed: "badge-success",
    }.get(model.status, "badge-secondary")
    return Markup('<span class="badge {}">{}</span>').format(css, model.status.label)


def _duty_link(view, context, model, name):
    from markupsafe import Markup

    return Markup('<a href="{}">{}</a>').format(
        url_for(".details_view", id=model.id), model.duty_date.isoformat()
    )


class DutyReportView(TownshipModelView):
    """Duty reports (值班报告): one per township and duty day, filed by the person on duty."""

    plugin_key = KEY
    permission_read = READ
    allow_create = allow_edit = allow_delete = False
    action_disallowed_list = ["delete"]
    column_list = (
        "duty_date",
        "on_duty",
        "status",
        "due_on",
        "letters",
        "visits",
        "calls",
        "filed_by",
    )
    column_labels = {
        "duty_date": _l("Duty day"),
        "on_duty": _l("On duty"),
        "status": _l("Status"),
        "due_on": _l("Due on"),
        "letters": _l("Letters"),
        "visits": _l("Visits"),
        "calls": _l("Hotline calls"),
        "filed_by": _l("Filed by"),
    }
    column_formatters = {"status": _status, "duty_date": _duty_link}
    column_filters = (
        FilterEqual(
            FeedbackDutyReport.status, _l("Status"), options=enum_choices(DutyReportStatus)
        ),
        "duty_date",
    )
    column_sortable_list = ("duty_date", "status", "due_on")
    column_default_sort = ("duty_date", True)
    list_template = "feedback/admin/duty_list.html"

    @expose("/details/")
    def details_view(self):
        return self._details(self.get_one(request.args.get("id", "")))

    def _details(self, report: FeedbackDutyReport, problems: list[str] | None = None, form=None):
        return self.render(
            "feedback/admin/duty_report.html",
            report=report,
            may_file=report.status in OPEN_STATUSES and services.may_file(report, current_user),
            problems=problems or [],
            form=form or {},
            due=clock.format_datetime(report.due_at, report.township_id),
            filed=clock.format_datetime(report.filed_at, report.township_id),
        )

    @expose("/<int:report_id>/file", methods=("POST",))
    def file(self, report_id):
        report = self.get_one(str(report_id))
        try:
            services.file_report(
                report,
                by=current_user._get_current_object(),
                letters=request.form.get("letters"),
                visits=request.form.get("visits"),
                calls=request.form.get("calls"),
                summary=request.form.get("summary", ""),
                follow_up=request.form.get("follow_up", ""),
            )
        except FeedbackError as exc:
            db.session.rollback()
            return self._details(self.get_one(str(report_id)), exc.problems, request.form), 400
        if report.status == DutyReportStatus.late:
            flash(_("The duty report is filed, after its time."), "warning")
        else:
            flash(_("The duty report is filed."), "success")
        return redirect(url_for(".details_view", id=report_id), 303)

    @expose("/today", methods=("POST",))
    def today(self):
        """Open the report of the duty day running now (written if the sweep has not yet)."""
        township = _township_for(self, READ)
        day = duty.duty_day(township)
        report = services.report_for(township.id, day)
        if report is None:
            flash(_("Nobody is on duty on %(day)s.", day=day.isoformat()), "warning")
            return redirect(url_for(".index_view"), 303)
        return redirect(url_for(".details_view", id=report.id), 303)


class StageView(TownshipModelView):
    """The township's reporting stages (阶段); without any, the quarters apply."""

    plugin_key = KEY
    permission_read = READ
    permission_write = OFFICE
    column_list = ("name", "starts_on", "ends_on")
    column_labels = {
        "name": _l("Stage"),
        "starts_on": _l("First day of the stage"),
        "ends_on": _l("Last day of the stage"),
    }
    form_columns = ("township_id", "name", "starts_on", "ends_on")
    column_default_sort = ("starts_on", True)
    list_template = "feedback/admin/stage_list.html"

    def render(self, template, **kwargs):
        if template == self.list_template:
            ids = self.township_ids(READ)
            kwargs["uses_quarters"] = not any(services.defines_stages(tid) for tid in ids)
            kwargs["this_year"] = clock.today(min(ids) if ids else None).year
            kwargs["may_write"] = bool(self.writable_township_ids())
        return super().render(template, **kwargs)

    def on_model_change(self, form, model, is_created):
        if model.township_id is not None:
            try:
                with db.session.no_autoflush:
                    services.check_stage(
                        model.township_id,
                        model.name,
                        model.starts_on,
                        model.ends_on,
                        stage_id=model.id,
                    )
            except FeedbackError as exc:
                raise ValidationError(" ".join(exc.problems)) from exc
        super().on_model_change(form, model, is_created)

    @expose("/quarters", methods=("POST",))
    def quarters(self):
        township = _township_for(self, OFFICE)
        year = request.form.get("year", type=int) or clock.today(township).year
        try:
            written = services.fill_quarters(township.id, year)
        except FeedbackError as exc:
            db.session.rollback()
            flash(" ".join(exc.problems), "error")
        else:
            flash(
                _("%(n)s quarters of %(year)s written as stages.", n=written, year=year), "success"
            )
        return redirect(url_for(".index_view"), 303)


def _village_or_team(view, context, model, name):
    return model.village.name if model.village else (model.team or "–")


class StageReportView(TownshipModelView):
    """Stage reports: service teams' progress, villages' instructive activity reports."""

    plugin_key = KEY
    permission_read = READ
    permission_write = REPORT
    allow_edit = allow_delete = False
    action_disallowed_list = ["delete"]
    column_list = ("reported_on", "kind", "village", "title", "reported_by")
    column_labels = {
        "reported_on": _l("Date"),
        "kind": _l("Kind of report"),
        "village": _l("Village or team"),
        "team": _l("Service team"),
        "title": _l("Title"),
        "body": _l("Report text"),
        "reported_by": _l("Reported by"),
    }
    column_details_list = ("reported_on", "kind", "village", "team", "title", "body", "reported_by")
    column_formatters = {"village": _village_or_team}
    column_filters = (
        FilterEqual(
            FeedbackStageReport.kind, _l("Kind of report"), options=enum_choices(StageReportKind)
        ),
        "reported_on",
    )
    column_searchable_list = ("title", "team")
    column_sortable_list = ("reported_on", "kind")
    column_default_sort = ("reported_on", True)

    @expose("/new/", methods=("GET", "POST"))
    def create_view(self):
        if not self.can_create:
            abort(404)
        township = _township_for(self, REPORT)
        problems: list[str] = []
        if request.method == "POST":
            reported_on, bad = _day("reported_on")
            try:
                report = services.add_stage_report(
                    township,
                    services.StageReportInput(
                        kind=request.form.get("kind") or None,
                        village_id=request.form.get("village_id", type=int),
                        team=request.form.get("team", ""),
                        title=request.form.get("title", ""),
                        body=request.form.get("body", ""),
                        reported_on=reported_on,
                        bad_date=bad,
                    ),
                    by=current_user._get_current_object(),
                )
            except FeedbackError as exc:
                db.session.rollback()
                problems = exc.problems
            else:
                record_audit("create", "FeedbackStageReport", report.id, township_id=township.id)
                db.session.commit()
                flash(_("The report is recorded."), "success")
                return redirect(url_for(".index_view"), 303)
        return (
            self.render(
                "feedback/admin/stage_report_new.html",
                township=township,
                townships=township_choices(self.township_ids(REPORT)),
                kinds=list(StageReportKind),
                villages=services.villages(township.id),
                problems=problems,
                form=request.form,
                today=clock.today(township),
            ),
            400 if problems else 200,
        )


class ComplianceView(TownshipBaseView):
    """Per stage: each village's instructive activity reports against the policy (red where
    behind) and the service teams' progress reports; XLSX export."""

    plugin_key = KEY
    permission_read = READ

    def _stage(self, township: OrgUnit) -> tuple[services.StagePeriod | None, list]:
        choices = services.stage_choices(township.id)
        wanted = request.args.get("stage", "")
        found = next((s for s in choices if s.key == wanted), None)
        if found is None and wanted:
            try:
                found = services.stage_on(township.id, date.fromisoformat(wanted))
            except ValueError:
                abort(404)
        if found is None:
            found = services.stage_on(township.id, clock.today(township)) or (
                choices[0] if choices else None
            )
        return found, choices

    @expose("/")
    def index(self):
        township = self.chosen_township(READ)
        stage, choices = self._stage(township)
        rows = services.village_compliance(township.id, stage) if stage else []
        return self.render(
            "feedback/admin/compliance.html",
            township=township,
            townships=township_choices(self.township_ids(READ)),
            stage=stage,
            stages=choices,
            rows=rows,
            teams=services.team_progress(township.id, stage) if stage else [],
            own_stages=services.defines_stages(township.id),
        )

    @expose("/xlsx")
    def xlsx(self):
        township = self.chosen_township(READ)
        stage, _choices = self._stage(township)
        if stage is None:
            abort(404)
        body = services.compliance_xlsx(township, stage)
        filename = f"feedback-{township.code}-{stage.key}.xlsx"
        return Response(
            body,
            mimetype=XLSX_MIMETYPE,
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )


def _acknowledged(view, context, model, name):
    from core.labels import display

    return display(model.acknowledged_at, model.township_id)


def _report_link(view, context, model, name):
    from markupsafe import Markup

    return Markup('<a href="{}">{}</a>').format(url_for(".details_view", id=model.id), model.title)


class OfficeReportView(TownshipModelView):
    """Reports to the office (情况报告) with attachments and the office's acknowledgement."""

    plugin_key = KEY
    permission_read = READ
    permission_write = REPORT
    allow_edit = allow_delete = False
    action_disallowed_list = ["delete"]
    column_list = (
        "reported_at",
        "reporter",
        "reporter_role",
        "category",
        "title",
        "acknowledged_at",
    )
    column_labels = {
        "reported_at": _l("Reported at"),
        "reporter": _l("Reported by"),
        "reporter_role": _l("Reporting as"),
        "category": _l("Category"),
        "title": _l("Title"),
        "acknowledged_at": _l("Office acknowledgement"),
    }
    column_formatters = {"acknowledged_at": _acknowledged, "title": _report_link}
    column_filters = (
        FilterEqual(
            FeedbackOfficeReport.category, _l("Category"), options=enum_choices(ReportCategory)
        ),
        FilterEqual(
            FeedbackOfficeReport.reporter_role,
            _l("Reporting as"),
            options=enum_choices(ReporterRole),
        ),
    )
    column_searchable_list = ("title",)
    column_sortable_list = ("reported_at", "category")
    column_default_sort = ("reported_at", True)

    @expose("/new/", methods=("GET", "POST"))
    def create_view(self):
        if not self.can_create:
            abort(404)
        township = _township_for(self, REPORT)
        problems: list[str] = []
        if request.method == "POST":
            uploads = [
                services.Upload(f.filename or "", f.read(services.MAX_ATTACHMENT_BYTES + 1))
                for f in request.files.getlist("attachments")
                if f and f.filename
            ]
            try:
                report = services.submit_report(
                    township,
                    services.ReportInput(
                        reporter_role=request.form.get("reporter_role") or None,
                        category=request.form.get("category") or None,
                        title=request.form.get("title", ""),
                        body=request.form.get("body", ""),
                        uploads=uploads,
                    ),
                    by=current_user._get_current_object(),
                )
            except FeedbackError as exc:
                db.session.rollback()
                problems = exc.problems
            else:
                record_audit("create", "FeedbackOfficeReport", report.id, township_id=township.id)
                db.session.commit()
                flash(_("The report is sent to the office."), "success")
                return redirect(url_for(".details_view", id=report.id), 303)
        return (
            self.render(
                "feedback/admin/report_new.html",
                township=township,
                townships=township_choices(self.township_ids(REPORT)),
                roles=list(ReporterRole),
                categories=list(ReportCategory),
                problems=problems,
                form=request.form,
                max_mb=services.MAX_ATTACHMENT_BYTES // (1024 * 1024),
                max_files=services.MAX_ATTACHMENTS,
            ),
            400 if problems else 200,
        )

    @expose("/details/")
    def details_view(self):
        return self._details(self.get_one(request.args.get("id", "")))

    def _details(self, report: FeedbackOfficeReport, problems: list[str] | None = None):
        return self.render(
            "feedback/admin/report.html",
            report=report,
            may_acknowledge=not report.acknowledged
            and can(current_user, OFFICE, report.township_id),
            problems=problems or [],
            reported=clock.format_datetime(report.reported_at, report.township_id),
            acknowledged=clock.format_datetime(report.acknowledged_at, report.township_id),
        )

    @expose("/<int:report_id>/acknowledge", methods=("POST",))
    def acknowledge(self, report_id):
        report = self.get_one(str(report_id))
        try:
            services.acknowledge(
                report, by=current_user._get_current_object(), note=request.form.get("note", "")
            )
        except FeedbackError as exc:
            db.session.rollback()
            return self._details(self.get_one(str(report_id)), exc.problems), 400
        flash(_("The report is acknowledged; the reporter is told."), "success")
        return redirect(url_for(".details_view", id=report_id), 303)

    @expose("/<int:report_id>/attachment/<int:attachment_id>")
    def attachment(self, report_id, attachment_id):
        report = self.get_one(str(report_id))
        found = db.session.get(FeedbackAttachment, attachment_id)
        if found is None or found.report_id != report.id:
            abort(404)
        return Response(
            found.data,
            mimetype=found.content_type,
            headers={
                "Content-Disposition": "attachment; filename*=UTF-8''" + _quote(found.filename),
                "X-Content-Type-Options": "nosniff",
            },
        )


def _quote(name: str) -> str:
    from urllib.parse import quote

    return quote(name, safe="")


class DigestView(TownshipBaseView):
    """The monthly digest for the leadership (printable, A4)."""

    plugin_key = KEY
    permission_read = DIGEST

    @expose("/")
    def index(self):
        township = self.chosen_township(DIGEST)
        today = clock.today(township)
        raw = request.args.get("month", "")
        try:
            year, month = (int(p) for p in raw.split("-")) if raw else (today.year, today.month)
            date(year, month, 1)
        except ValueError:
            abort(404)
        if date(year, month, 1) > today or year < 2000:
            abort(404)
        found = services.digest(township, year, month)
        return self.render(
            "feedback/admin/digest.html",
            township=township,
            townships=township_choices(self.township_ids(DIGEST)),
            digest=found,
            printing=request.args.get("print") == "1",
        )


def admin_views():
    from core.contract import AdminView

    return [
        AdminView(
            DutyReportView(
                FeedbackDutyReport, name=_l("Duty reports"), endpoint="feedback_duty_reports"
            )
        ),
        AdminView(
            OfficeReportView(
                FeedbackOfficeReport, name=_l("Reports to the office"), endpoint="feedback_reports"
            )
        ),
        AdminView(
            StageReportView(
                FeedbackStageReport, name=_l("Stage reports"), endpoint="feedback_stage_reports"
            )
        ),
        AdminView(ComplianceView(name=_l("Reports per stage"), endpoint="feedback_compliance")),
        AdminView(
            StageView(FeedbackStage, name=_l("Reporting stages"), endpoint="feedback_stages")
        ),
        AdminView(DigestView(name=_l("Monthly digest"), endpoint="feedback_digest")),
    ]
