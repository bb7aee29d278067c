"""Staff views of the supervision institution (服务监督), in its own admin menu.

Permissions (declared in ``__init__``): ``supervision.read`` to see; ``supervision.record``
to record findings (the group); ``supervision.lead`` for the leading group's decisions;
``supervision.verify`` to verify remedies; ``supervision.manage`` for terms, members,
areas and serious errors.
"""

from __future__ import annotations

from datetime import date

from flask import Response, abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import or_, select
from wtforms import SelectField, SelectMultipleField, ValidationError
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional

from admin.audit import record_audit
from admin.views import TownshipBaseView, TownshipModelView, township_choices
from core import clock
from core.access import can
from core.db import db
from core.models import OrgUnit
from plugins.supervision import services
from plugins.supervision.models import (
    FindingKind,
    FindingStatus,
    MemberRole,
    SupervisionArea,
    SupervisionCoverage,
    SupervisionFinding,
    SupervisionMember,
    SupervisionPhoto,
    SupervisionSeriousError,
    SupervisionTerm,
)

READ = services.READ


def _date(raw: str | None) -> date | None:
    try:
        return date.fromisoformat((raw or "").strip())
    except ValueError:
        return None


def _optional_int(value):
    return int(value) if value not in (None, "", "None") else None


def _where(view, context, model, name):
    return model.where() or "–"


def _owner(view, context, model, name):
    return model.remedy_owner.name if model.remedy_owner else "–"


def _writable_or_first(view, writable: set[int]) -> OrgUnit:
    townships = township_choices(writable)
    chosen = request.values.get("township", type=int)
    if chosen not in writable:
        chosen = townships[0][0]
    return db.session.get(OrgUnit, chosen)


class FindingView(TownshipModelView):
    """Findings and citizens' reports; one page per finding for each next step.

    Whoever owns a remedy sees that finding (and only that, without ``supervision.read``).
    """

    permission_read = "admin.access"

    def _mine_or_readable(self):
        return or_(
            SupervisionFinding.township_id.in_(self.township_ids(READ)),
            SupervisionFinding.remedy_owner_id == current_user.id,
        )

    def get_query(self):
        return super().get_query().filter(self._mine_or_readable())

    def get_count_query(self):
        return super().get_count_query().filter(self._mine_or_readable())

    def get_one(self, id):
        finding = super().get_one(id)
        if (
            finding.township_id not in self.township_ids(READ)
            and finding.remedy_owner_id != current_user.id
        ):
            abort(404)
        return finding

    permission_write = services.RECORD
    allow_edit = False
    allow_delete = False
    column_list = (
        "observed_on",
        "kind",
        "source",
        "area",
        "status",
        "remedy_owner",
        "remedy_deadline",
    )
    column_filters = ("kind", "source", "status", "observed_on", "remedy_deadline")
    column_searchable_list = ("evidence", "receipt_no")
    column_default_sort = ("created_at", True)
    column_formatters = {"area": _where, "remedy_owner": _owner}
    column_details_list = (
        "observed_on",
        "kind",
        "source",
        "receipt_no",
        "area",
        "evidence",
        "status",
        "remedy_measure",
        "remedy_owner",
        "remedy_deadline",
        "remedy_done_note",
        "verify_note",
        "dismissed_reason",
        "created_at",
    )
    column_formatters_detail = {"area": _where, "remedy_owner": _owner}
    column_labels = {
        "observed_on": _l("Seen on"),
        "kind": _l("What was found"),
        "source": _l("Found by"),
        "receipt_no": _l("Receipt number"),
        "area": _l("Where"),
        "evidence": _l("Evidence"),
        "status": _l("Status"),
        "remedy_measure": _l("Remedy"),
        "remedy_owner": _l("Owner"),
        "remedy_deadline": _l("Rectification deadline"),
        "remedy_done_note": _l("What was done"),
        "verify_note": _l("Verification"),
        "dismissed_reason": _l("Reason for dismissal"),
        "created_at": _l("Recorded at"),
    }
    list_template = "supervision/admin/finding_list.html"

    @expose("/new/", methods=("GET", "POST"))
    def create_view(self):
        if not self.can_create:
            abort(403)
        township = _writable_or_first(self, self.writable_township_ids())
        values = (
            dict(request.form)
            if request.method == "POST"
            else {"observed_on": clock.today(township).isoformat()}
        )
        problems: list[str] = []
        if request.method == "POST":
            upload = request.files.get("photo")
            photo = (
                upload.read(services.MAX_PHOTO_BYTES + 1) if upload and upload.filename else None
            )
            try:
                finding = services.record_finding(
                    township,
                    services.FindingInput(
                        kind=request.form.get("kind") or None,
                        observed_on=_date(request.form.get("observed_on")),
                        evidence=request.form.get("evidence", ""),
                        case_receipt=request.form.get("case_receipt", ""),
                        staff_user_id=request.form.get("staff_user_id", type=int),
                        department_id=request.form.get("department_id", type=int),
                        area_id=request.form.get("area_id", type=int),
                        window=request.form.get("window", ""),
                        found_by_member_id=request.form.get("member_id", type=int),
                    ),
                    current_user,
                    photo,
                )
            except services.SupervisionError as exc:
                db.session.rollback()
                problems = exc.problems
            else:
                record_audit("create", "SupervisionFinding", finding.id, township_id=township.id)
                db.session.commit()
                flash(_("The finding was recorded and sent to the leading group."), "success")
                return redirect(url_for(".handle_view", id=finding.id), 303)
        day = _date(values.get("observed_on")) or clock.today(township)
        return self.render(
            "supervision/admin/finding_new.html",
            township=township,
            townships=township_choices(self.writable_township_ids()),
            kinds=list(FindingKind),
            staff=services.township_staff(township.id),
            departments=services.stations(township.id),
            areas=services.areas(township.id),
            members=services.members_on(township.id, day),
            values=values,
            problems=problems,
            max_kb=services.MAX_PHOTO_BYTES // 1024,
        ), (400 if problems else 200)

    @expose("/handle/", methods=("GET", "POST"))
    def handle_view(self):
        finding = self.get_one(str(request.values.get("id", type=int) or 0))
        problems: list[str] = []
        values = dict(request.form) if request.method == "POST" else {}
        if request.method == "POST":
            step = request.form.get("step")
            try:
                if step == "assign":
                    services.assign_remedy(
                        finding,
                        current_user,
                        request.form.get("measure", ""),
                        request.form.get("owner_id", type=int),
                        _date(request.form.get("deadline")),
                    )
                elif step == "dismiss":
                    services.dismiss(finding, current_user, request.form.get("reason", ""))
                elif step == "remedied":
                    services.report_remedied(finding, current_user, request.form.get("note", ""))
                elif step in ("verify", "send_back"):
                    services.verify(
                        finding,
                        current_user,
                        step == "verify",
                        request.form.get("note", ""),
                        _date(request.form.get("new_deadline")),
                    )
                else:
                    abort(400)
            except services.SupervisionError as exc:
                db.session.rollback()
                problems = exc.problems
            else:
                flash(_("Saved."), "success")
                return redirect(url_for(".handle_view", id=finding.id), 303)
        db.session.refresh(finding)
        tid = finding.township_id
        status = finding.status
        photos = db.session.scalars(
            select(SupervisionPhoto.id).where(SupervisionPhoto.finding_id == finding.id)
        ).all()
        return self.render(
            "supervision/admin/finding.html",
            finding=finding,
            photos=photos,
            may_lead=status == FindingStatus.raised and can(current_user, services.LEAD, tid),
            may_report=status == FindingStatus.remedying
            and (
                finding.remedy_owner_id == current_user.id or can(current_user, services.LEAD, tid)
            ),
            may_verify=status == FindingStatus.remedied
            and can(current_user, services.VERIFY, tid)
            and finding.remedy_owner_id != current_user.id,
            overdue=status == FindingStatus.remedying
            and finding.remedy_deadline is not None
            and finding.remedy_deadline < clock.today(tid),
            staff=services.township_staff(tid),
            trail=services.trail(finding.id),
            action_label=services.action_label,
            values=values,
            problems=problems,
        ), (400 if problems else 200)

    @expose("/photo/")
    def photo_view(self):
        """An evidence photo (staff only), served with its checked type and no sniffing."""
        photo = db.session.get(SupervisionPhoto, request.args.get("id", type=int) or 0)
        if photo is None:
            abort(404)
        self.get_one(str(photo.finding_id))  # 404 for another township
        response = Response(photo.data, mimetype=photo.content_type)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Content-Security-Policy"] = "default-src 'none'"
        response.headers["Cache-Control"] = "private, max-age=300"
        return response


class TermView(TownshipModelView):
    """Terms of the township's supervision group."""

    permission_read = READ
    permission_write = services.MANAGE
    column_list = ("name", "starts_on", "ends_on")
    column_default_sort = ("starts_on", True)
    form_columns = ("name", "starts_on", "ends_on")
    column_labels = {
        "name": _l("Term"),
        "starts_on": _l("Starts on"),
        "ends_on": _l("Until"),
        "created_at": _l("Created at"),
        "township": _l("Township"),
    }

    def on_model_change(self, form, model, is_created):
        super().on_model_change(form, model, is_created)
        problems = services.check_term(model.name, model.starts_on, model.ends_on)
        if problems:
            raise ValidationError("; ".join(problems))

    def on_model_delete(self, model):
        if db.session.scalar(
            select(SupervisionMember.id).where(SupervisionMember.term_id == model.id)
        ):
            raise ValidationError(_("A term with members cannot be deleted."))
        super().on_model_delete(model)


def _department_choices(ids):
    rows = db.session.scalars(
        select(OrgUnit)
        .where(OrgUnit.township_id.in_(ids), OrgUnit.kind == "station")
        .order_by(OrgUnit.name)
    )
    return [SelectChoice("", "—")] + [SelectChoice(str(u.id), u.name) for u in rows]


class AreaView(TownshipModelView):
    """Areas the group watches: departments and their service windows."""

    permission_read = READ
    permission_write = services.MANAGE
    column_list = ("name", "department", "window", "active")
    column_default_sort = ("name", False)
    form_columns = ("name", "department_id", "window", "active")
    column_labels = {
        "name": _l("Area"),
        "department": _l("Department concerned"),
        "department_id": _l("Department concerned"),
        "window": _l("Window"),
        "active": _l("Watched"),
        "township": _l("Township"),
    }

    def scaffold_form(self):
        form_class = super().scaffold_form()
        form_class.department_id = SelectField(
            _l("Department concerned"), coerce=_optional_int, validators=[Optional()]
        )
        return form_class

    def _offer(self, form):
        form.department_id.choices = _department_choices(self.writable_township_ids())
        return form

    def create_form(self, obj=None):
        return self._offer(super().create_form(obj))

    def edit_form(self, obj=None):
        return self._offer(super().edit_form(obj))

    def on_model_change(self, form, model, is_created):
        super().on_model_change(form, model, is_created)
        if not (model.name or "").strip():
            raise ValidationError(_("Name the area."))
        if len((model.window or "").strip()) > services.WINDOW_MAX:
            raise ValidationError(_("The window is longer than 60 characters."))
        model.window = (model.window or "").strip()
        if model.department_id:
            unit = db.session.get(OrgUnit, model.department_id)
            if unit is None or unit.township_id != model.township_id:
                raise ValidationError(_("The department belongs to another township."))


def _member_name(view, context, model, name):
    return model.name


def _member_areas(view, context, model, name):
    rows = db.session.scalars(
        select(SupervisionArea.name)
        .join(SupervisionCoverage, SupervisionCoverage.area_id == SupervisionArea.id)
        .where(SupervisionCoverage.member_id == model.id)
        .order_by(SupervisionArea.name)
    )
    return "、".join(rows) or "–"


class MemberView(TownshipModelView):
    """Members of the group in a term, and the areas each covers."""

    permission_read = READ
    permission_write = services.MANAGE
    column_list = ("person", "term", "role", "user_id")
    column_formatters = {"person": _member_name, "user_id": _member_areas}
    column_labels = {
        "person": _l("Supervisor"),
        "term": _l("Term"),
        "term_id": _l("Term"),
        "role": _l("Role in the group"),
        "user_id": _l("Areas covered"),
        "person_id": _l("Or someone of the people register"),
        "area_ids": _l("Areas covered"),
        "created_at": _l("Created at"),
        "township": _l("Township"),
        "user": _l("Staff member"),
    }
    column_details_list = ("person", "term", "role", "user_id", "created_at")
    column_formatters_detail = {"person": _member_name, "user_id": _member_areas}
    form_columns = ("term_id", "user_id", "person_id", "role")

    def scaffold_form(self):
        form_class = super().scaffold_form()
        form_class.term_id = SelectField(_l("Term"), coerce=int)
        form_class.user_id = SelectField(
            _l("Staff member"), coerce=_optional_int, validators=[Optional()]
        )
        form_class.person_id = SelectField(
            _l("Or someone of the people register"), coerce=_optional_int, validators=[Optional()]
        )
        form_class.role = SelectField(
            _l("Role in the group"),
            choices=lambda: [SelectChoice(r.value, r.label) for r in MemberRole],
            coerce=MemberRole,
            default=MemberRole.member,
        )
        form_class.area_ids = SelectMultipleField(_l("Areas covered"), coerce=int)
        return form_class

    def _offer(self, form, obj=None):
        ids = self.writable_township_ids()
        terms = db.session.scalars(
            select(SupervisionTerm)
            .where(SupervisionTerm.township_id.in_(ids))
            .order_by(SupervisionTerm.starts_on.desc())
        )
        form.term_id.choices = [SelectChoice(str(t.id), t.name) for t in terms]
        staff = [u for tid in ids for u in services.township_staff(tid)]
        form.user_id.choices = [SelectChoice("", "—")] + [
            SelectChoice(str(u.id), u.name) for u in staff
        ]
        people = [p for tid in ids for p in services.people_register(tid)]
        form.person_id.choices = [SelectChoice("", "—")] + [
            SelectChoice(str(p.id), f"{p.name}（{p.category.label}）") for p in people
        ]
        areas = [a for tid in ids for a in services.areas(tid)]
        form.area_ids.choices = [SelectChoice(str(a.id), a.name) for a in areas]
        if obj is not None and request.method == "GET":
            form.area_ids.data = list(
                db.session.scalars(
                    select(SupervisionCoverage.area_id).where(
                        SupervisionCoverage.member_id == obj.id
                    )
                )
            )
        return form

    def create_form(self, obj=None):
        return self._offer(super().create_form(obj))

    def edit_form(self, obj=None):
        return self._offer(super().edit_form(obj), obj)

    def on_model_change(self, form, model, is_created):
        term = db.session.get(SupervisionTerm, model.term_id or 0)
        if term is None:
            raise ValidationError(_("Choose the term."))
        model.township_id = term.township_id
        super().on_model_change(form, model, is_created)
        if bool(model.user_id) == bool(model.person_id):
            raise ValidationError(
                _("Choose either a staff member or someone of the people register.")
            )
        if model.user_id and not services.is_staff(term.township_id, model.user_id):
            raise ValidationError(_("The staff member does not work for this township."))
        if model.person_id:
            from core.models import Person

            person = db.session.get(Person, model.person_id)
            if person is None or person.township_id != term.township_id:
                raise ValidationError(_("The person is registered in another township."))
        chosen = set(form.area_ids.data or [])
        valid = {a.id for a in services.areas(term.township_id)}
        if chosen - valid:
            raise ValidationError(_("An area belongs to another township."))
        db.session.flush()
        db.session.execute(
            SupervisionCoverage.__table__.delete().where(SupervisionCoverage.member_id == model.id)
        )
        for area_id in sorted(chosen):
            db.session.add(
                SupervisionCoverage(
                    township_id=term.township_id, member_id=model.id, area_id=area_id
                )
            )

    def on_model_delete(self, model):
        db.session.execute(
            SupervisionCoverage.__table__.delete().where(SupervisionCoverage.member_id == model.id)
        )
        super().on_model_delete(model)


def _named(view, context, model, name):
    if model.findings_before:
        return _("No one: %(n)d finding(s) raised before", n=model.findings_before)
    return "、".join(a.member.name for a in model.named) or _("No one covered the area")


class ErrorView(TownshipModelView):
    """Serious errors in service, and the supervisors they name."""

    permission_read = READ
    permission_write = services.MANAGE
    allow_edit = False
    allow_delete = False
    column_list = ("occurred_on", "area", "description", "named")
    column_formatters = {"named": _named, "description": lambda v, c, m, n: m.description[:60]}
    column_formatters_detail = {"named": _named}
    column_details_list = (
        "occurred_on",
        "area",
        "case",
        "description",
        "findings_before",
        "named",
        "created_at",
    )
    column_default_sort = ("occurred_on", True)
    column_labels = {
        "occurred_on": _l("Occurred on"),
        "area": _l("Area"),
        "case": _l("Case"),
        "description": _l("What happened"),
        "findings_before": _l("Findings raised before it"),
        "named": _l("Supervisors named"),
        "created_at": _l("Recorded at"),
    }

    @expose("/new/", methods=("GET", "POST"))
    def create_view(self):
        if not self.can_create:
            abort(403)
        township = _writable_or_first(self, self.writable_township_ids())
        values = dict(request.form) if request.method == "POST" else {}
        problems: list[str] = []
        if request.method == "POST":
            try:
                error = services.record_serious_error(
                    township,
                    services.ErrorInput(
                        occurred_on=_date(request.form.get("occurred_on")),
                        area_id=request.form.get("area_id", type=int),
                        description=request.form.get("description", ""),
                        case_receipt=request.form.get("case_receipt", ""),
                    ),
                    current_user,
                )
            except services.SupervisionError as exc:
                db.session.rollback()
                problems = exc.problems
            else:
                record_audit("create", "SupervisionSeriousError", error.id, township_id=township.id)
                db.session.commit()
                flash(_("The serious error was recorded."), "success")
                return redirect(url_for(".details_view", id=error.id), 303)
        return self.render(
            "supervision/admin/error_new.html",
            township=township,
            townships=township_choices(self.writable_township_ids()),
            areas=services.areas(township.id, active_only=False),
            values=values,
            problems=problems,
        ), (400 if problems else 200)


class ReportView(TownshipBaseView):
    """The yearly report: findings per area and per supervisor; printable on A4."""

    permission_read = READ

    def _report(self):
        township = self.chosen_township()
        today = clock.today(township)
        year = request.args.get("year", type=int) or today.year
        if not services.earliest_date().year <= year <= today.year:
            abort(404)
        return services.yearly_report(township, year), today

    @expose("/")
    def index(self):
        report, today = self._report()
        return self.render(
            "supervision/admin/report.html",
            report=report,
            townships=township_choices(self.township_ids(self.permission_read)),
            years=list(
                range(today.year, max(services.earliest_date().year, today.year - 9) - 1, -1)
            ),
            kinds=list(FindingKind),
        )

    @expose("/print")
    def print_view(self):
        report, _today = self._report()
        return self.render(
            "supervision/admin/report_print.html", report=report, kinds=list(FindingKind)
        )


def admin_views():
    return [
        FindingView(SupervisionFinding, name=_l("Findings"), endpoint="supervision_findings"),
        ErrorView(
            SupervisionSeriousError, name=_l("Serious errors"), endpoint="supervision_errors"
        ),
        ReportView(name=_l("Yearly report"), endpoint="supervision_report"),
        MemberView(SupervisionMember, name=_l("Supervision group"), endpoint="supervision_members"),
        TermView(SupervisionTerm, name=_l("Terms"), endpoint="supervision_terms"),
        AreaView(SupervisionArea, name=_l("Areas"), endpoint="supervision_areas"),
    ]
