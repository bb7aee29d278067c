"""Admin views of the training institution (学习培训).

Access: ``training.write`` records (the training officer); reading needs
``training.read`` or ``training.read_reports`` (declared by the plugin for leaders
and administrators, see the package docstring); ``training.self`` opens "my study
record" only.
"""

from __future__ import annotations

import math
from datetime import date

from flask import Response, abort, flash, jsonify, redirect, request, url_for
from flask_admin import expose
from flask_admin.actions import action
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup, escape
from sqlalchemy import func, or_, select
from wtforms import SelectField, ValidationError
from wtforms.fields.choices import SelectChoice
from wtforms.validators import NumberRange, Optional

from admin.audit import register_audit_words
from admin.views import (
    TownshipBaseView,
    TownshipModelView,
    enabling_townships,
    township_choices,
)
from core import clock
from core.access import township_ids_with
from core.db import db
from core.models import Membership, OrgUnit, Person, UnitKind, User
from plugins.training import exports, imports
from plugins.training.charts import village_chart
from plugins.training.models import (
    AttendanceStatus,
    Education,
    LearnerCategory,
    LogStatus,
    MaterialKind,
    TrainingAttendance,
    TrainingImport,
    TrainingLearner,
    TrainingMastery,
    TrainingSession,
    TrainingStudyLog,
    TrainingTechnique,
)
from plugins.training.services import (
    INBOX_CONFIRM,
    Mark,
    StudyEntry,
    TrainingError,
    compliance_page,
    confirm_logs,
    learner_of_user,
    log_study,
    monthly_compliance,
    monthly_compliances,
    parse_hours,
    record_attendance,
    return_logs,
    session_learners,
    township_today,
    yearly_hours,
)

register_audit_words(
    {
        "TrainingStudyLog": _l("Self-study entry"),
        "TrainingLearner": _l("Learner"),
        "TrainingSession": _l("Session"),
        "TrainingTechnique": _l("Technique"),
        "TrainingMastery": _l("Technique mastered"),
    }
)

READ = "training.read"
WRITE = "training.write"
SELF = "training.self"
#: the declared permission of leaders and administrators to read the township's reports
CORE_READ = "training.read_reports"


class TrainingAccess:
    """``training.read`` also granted by ``training.read_reports`` (leaders, admins)."""

    plugin_key = "training"
    permission_read = READ
    permission_write = WRITE

    def township_ids(self, permission: str | None = None) -> set[int]:
        if permission == READ:
            ids = township_ids_with(current_user, READ) | township_ids_with(current_user, CORE_READ)
            return ids & enabling_townships(self.plugin_key)
        return super().township_ids(permission)  # type: ignore[misc]


def _today(township_id: int) -> date:
    return township_today(township_id)


# ---------------------------------------------------------------------------
# Model views: roster, sessions, techniques, mastery, self-study log
# ---------------------------------------------------------------------------


def _optional_int(value):
    return int(value) if value not in (None, "", "None") else None


class TrainingModelView(TrainingAccess, TownshipModelView):
    """A training model view whose reference fields offer rows of the user's townships only.

    References are plain select fields over ``*_id`` columns (``scoped_fields``:
    field name → function of the township ids returning ``(id, label)`` pairs),
    filled per request; ``same_township`` names (field, model) pairs whose row must
    belong to the row's township.
    """

    scoped_fields: dict = {}
    optional_fields: tuple[str, ...] = ()
    same_township: tuple = ()

    #: enum columns as plain selects: field name → function returning (value, label) pairs
    enum_fields: dict = {}

    def scaffold_form(self):
        form_class = super().scaffold_form()
        for name, make_choices in self.enum_fields.items():
            setattr(
                form_class,
                name,
                SelectField(
                    self.column_labels.get(name, name),
                    choices=lambda make=make_choices: [SelectChoice(v, lb) for v, lb in make()],
                    coerce=str,
                ),
            )
        for name in self.scoped_fields:
            label = self.column_labels.get(name, name)
            if name in self.optional_fields:
                field = SelectField(label, coerce=_optional_int, validators=[Optional()])
            else:
                field = SelectField(label, coerce=int)
            setattr(form_class, name, field)
        return form_class

    def _scope_fields(self, form):
        ids = self.writable_township_ids()
        for name, make_choices in self.scoped_fields.items():
            field = getattr(form, name, None)
            if field is not None:
                choices = [SelectChoice(str(value), label) for value, label in make_choices(ids)]
                if name in self.optional_fields:
                    choices.insert(0, SelectChoice("", "—"))
                field.choices = choices
        township = getattr(form, "township_id", None)
        if township is not None and isinstance(township, SelectField):
            township.choices = [
                c if isinstance(c, SelectChoice) else SelectChoice(str(c[0]), c[1])
                for c in township.choices or ()
            ]
        return form

    def create_form(self, obj=None):
        return self._scope_fields(super().create_form(obj))

    def edit_form(self, obj=None):
        return self._scope_fields(super().edit_form(obj))

    def on_model_change(self, form, model, is_created):
        if model.township_id is None and getattr(form, "township_id", None) is not None:
            model.township_id = form.township_id.data
        for name, related in self.same_township:
            value = getattr(model, name)
            if value is None:
                continue
            owner = db.session.scalar(select(related.township_id).where(related.id == value))
            if owner != model.township_id:
                raise ValidationError(_("That choice belongs to another township."))
        super().on_model_change(form, model, is_created)


def _villages(ids):
    return (
        db.session.query(OrgUnit)
        .filter(OrgUnit.kind == UnitKind.village, OrgUnit.township_id.in_(ids))
        .order_by(OrgUnit.name)
    )


def _learners(ids):
    return (
        db.session.query(TrainingLearner)
        .join(Person, Person.id == TrainingLearner.person_id)
        .filter(TrainingLearner.township_id.in_(ids), TrainingLearner.active.is_(True))
        .order_by(Person.name)
    )


def education_label(code: str) -> str:
    return Education(code).label if code in Education.__members__ else code


def _pairs(query):
    return [(row.id, str(row)) for row in query]


class LearnerView(TrainingModelView):
    column_list = ("person", "category", "village", "education", "joined_on", "active")
    column_labels = {
        "person": _l("Name"),
        "person_id": _l("Person (township register)"),
        "category": _l("Category"),
        "village": _l("Village"),
        "village_id": _l("Village"),
        "education": _l("Education"),
        "joined_on": _l("Joined on"),
        "active": _l("Active"),
        "user_id": _l("Account (for my study record)"),
    }
    column_filters = ("category", "education", "joined_on", "active")
    column_default_sort = ("joined_on", True)
    form_columns = (
        "person_id",
        "category",
        "village_id",
        "education",
        "joined_on",
        "user_id",
        "active",
    )
    optional_fields = ("village_id", "user_id")
    scoped_fields = {
        "person_id": lambda ids: _pairs(
            db.session.query(Person).filter(Person.township_id.in_(ids)).order_by(Person.name)
        ),
        "village_id": lambda ids: _pairs(_villages(ids)),
        "user_id": lambda ids: [
            (row.id, f"{row.name} ({row.username})")
            for row in db.session.query(User)
            .join(Membership, Membership.user_id == User.id)
            .join(OrgUnit, OrgUnit.id == Membership.org_unit_id)
            .filter(OrgUnit.township_id.in_(ids))
            .distinct()
            .order_by(User.name)
        ],
    }
    same_township = (("person_id", Person), ("village_id", OrgUnit))
    enum_fields = {
        "category": lambda: [(c.value, exports.category_label(c.value)) for c in LearnerCategory],
        "education": lambda: [(e.value, education_label(e.value)) for e in Education],
    }

    def on_model_change(self, form, model, is_created):
        if model.joined_on and model.township_id and model.joined_on > _today(model.township_id):
            raise ValidationError(_("The joining date cannot be in the future."))
        super().on_model_change(form, model, is_created)


class SessionView(TrainingModelView):
    column_list = ("held_on", "organiser", "half_days", "topic", "place", "attendance")
    column_labels = {
        "held_on": _l("Date"),
        "organiser": _l("Organised by"),
        "organiser_id": _l("Organised by"),
        "half_days": _l("Half days"),
        "topic": _l("Topic"),
        "readings": _l("Set readings"),
        "place": _l("Place"),
        "attendance": _l("Attendance"),
    }
    column_default_sort = ("held_on", True)
    column_filters = ("held_on", "topic")
    form_columns = ("organiser_id", "held_on", "half_days", "topic", "readings", "place")
    form_args = {
        "half_days": {
            "validators": [NumberRange(min=1, max=62)],
            "description": _l("1 = half a day, 2 = one day"),
        }
    }
    scoped_fields = {
        "organiser_id": lambda ids: _pairs(
            db.session.query(OrgUnit)
            .filter(
                or_(
                    OrgUnit.id.in_(ids),
                    (OrgUnit.kind == UnitKind.village) & OrgUnit.township_id.in_(ids),
                )
            )
            .order_by(OrgUnit.kind.desc(), OrgUnit.name)
        )
    }
    same_township = (("organiser_id", OrgUnit),)

    def _attendance_link(view, context, model, name):
        caption = _("Mark attendance")
        href = url_for("training_attendance.index", session=model.id)
        return Markup(f'<a href="{escape(href)}">{escape(caption)}</a>')

    column_formatters = {"attendance": _attendance_link}


class TechniqueView(TrainingModelView):
    column_list = ("name", "description")
    column_labels = {"name": _l("Technique"), "description": _l("Description")}
    column_searchable_list = ("name",)
    form_columns = ("name", "description")


class MasteryView(TrainingModelView):
    column_list = ("learner", "technique", "mastered_on", "verified_by")
    column_labels = {
        "learner": _l("Learner"),
        "learner_id": _l("Learner"),
        "technique": _l("Technique"),
        "technique_id": _l("Technique"),
        "mastered_on": _l("Mastered on"),
        "verified_by": _l("Verified by"),
    }
    column_default_sort = ("mastered_on", True)
    form_columns = ("learner_id", "technique_id", "mastered_on", "verified_by")
    scoped_fields = {
        "learner_id": lambda ids: _pairs(_learners(ids)),
        "technique_id": lambda ids: _pairs(
            db.session.query(TrainingTechnique)
            .filter(TrainingTechnique.township_id.in_(ids))
            .order_by(TrainingTechnique.name)
        ),
    }
    same_township = (("learner_id", TrainingLearner), ("technique_id", TrainingTechnique))

    def on_model_change(self, form, model, is_created):
        if (
            model.mastered_on
            and model.township_id
            and model.mastered_on > _today(model.township_id)
        ):
            raise ValidationError(_("The date cannot be in the future."))
        super().on_model_change(form, model, is_created)


class StudyLogView(TrainingModelView):
    """Self-study entries: listed, filtered, confirmed or deleted (written on the study page)."""

    column_list = (
        "learner",
        "studied_on",
        "hours",
        "material_kind",
        "material",
        "note_chars",
        "status",
    )
    column_labels = {
        "learner": _l("Learner"),
        "studied_on": _l("Date"),
        "hours": _l("Class hours"),
        "material_kind": _l("Kind"),
        "material": _l("Material"),
        "note_chars": _l("Note characters"),
        "status": _l("Status"),
    }
    column_filters = ("status", "studied_on", "material_kind")
    column_default_sort = ("studied_on", True)
    can_view_details = False

    allow_create = False  # entries come from the logging screens
    allow_edit = False

    def _entry(self) -> TrainingStudyLog:
        entry = db.session.get(TrainingStudyLog, request.values.get("id", type=int) or 0)
        if entry is None or entry.township_id not in self.township_ids(READ):
            abort(404)
        return entry

    @expose("/review/", methods=("GET", "POST"))
    def review_view(self):
        """A learner's own hours: what they logged, with their other waiting entries;
        confirm, or send back with a reason (the learner is told)."""
        from admin.audit import object_trail, record_audit

        entry = self._entry()
        tid = entry.township_id
        may_write = tid in self.writable_township_ids()
        waiting = db.session.scalars(
            select(TrainingStudyLog)
            .where(
                TrainingStudyLog.learner_id == entry.learner_id,
                TrainingStudyLog.status == LogStatus.pending,
            )
            .order_by(TrainingStudyLog.studied_on)
            .limit(100)
        ).all()
        error, reason, status = None, "", 200
        if request.method == "POST":
            if not may_write:
                abort(403)
            chosen = [int(i) for i in request.form.getlist("log") if i.isdecimal()] or [entry.id]
            decision = request.form.get("decision")
            reason = (request.form.get("reason") or "").strip()
            try:
                if decision == "confirm":
                    done = confirm_logs(tid, chosen, current_user.id)
                    message = _("%(n)s entries confirmed.", n=done)
                elif decision == "send_back":
                    done = return_logs(tid, chosen, current_user.id, reason)
                    message = _("%(n)s entries sent back to the learner.", n=done)
                else:
                    abort(400)
            except TrainingError as exc:
                db.session.rollback()
                error, status = "; ".join(exc.problems), 400
            else:
                for log_id in chosen:
                    record_audit(
                        "confirm" if decision == "confirm" else "send_back",
                        "TrainingStudyLog",
                        log_id,
                        township_id=tid,
                        after={"reason": reason} if reason else {"status": "confirmed"},
                    )
                db.session.commit()
                flash(message, "success")
                return redirect(url_for(".index_view"), 303)
        return self.render(
            "training/log_review.html",
            entry=entry,
            waiting=waiting,
            may_write=may_write,
            trail=object_trail("TrainingStudyLog", entry.id),
            error=error,
            reason=reason,
        ), status

    def _review_link(view, context, model, name):
        if model.status == LogStatus.pending:
            href = url_for(".review_view", id=model.id)
            return Markup('<a href="{}">{}</a>').format(href, model.status.label)
        return model.status.label

    column_formatters = {"status": _review_link}

    @action("confirm", _l("Confirm"), _l("Confirm the selected entries?"))
    def action_confirm(self, ids):
        done = 0
        for township_id in self.writable_township_ids():
            done += confirm_logs(township_id, [int(i) for i in ids], current_user.id)
        flash(_("%(n)s entries confirmed.", n=done), "success")

    def is_action_allowed(self, name):
        return bool(self.writable_township_ids()) and super().is_action_allowed(name)


# ---------------------------------------------------------------------------
# Attendance: one screen for a whole session
# ---------------------------------------------------------------------------


class AttendanceView(TrainingAccess, TownshipBaseView):
    def _session(self, permission: str) -> TrainingSession:
        session = db.session.get(TrainingSession, request.values.get("session", type=int) or 0)
        if session is None or session.township_id not in self.township_ids(READ):
            abort(404)
        if permission == WRITE and session.township_id not in self.township_ids(WRITE):
            abort(403)
        return session

    def _sessions(self):
        """The latest sessions of the user's townships with how many learners are marked
        (two queries), for the attendance menu item."""
        ids = self.township_ids(READ)
        sessions = db.session.scalars(
            select(TrainingSession)
            .where(TrainingSession.township_id.in_(ids))
            .order_by(TrainingSession.held_on.desc(), TrainingSession.id.desc())
            .limit(50)
        ).all()
        marked = dict(
            db.session.execute(
                select(TrainingAttendance.session_id, func.count(TrainingAttendance.id))
                .where(TrainingAttendance.session_id.in_([s.id for s in sessions]))
                .group_by(TrainingAttendance.session_id)
            ).all()
        )
        return [(s, marked.get(s.id, 0)) for s in sessions]

    @expose("/", methods=("GET", "POST"))
    def index(self):
        if "session" not in request.values:
            return self.render("training/attendance_sessions.html", rows=self._sessions())
        session = self._session(READ)
        posted: dict[int, tuple[str, str]] = {}
        problems: list[str] = []
        status_code = 200
        if request.method == "POST":
            self._session(WRITE)
            marks = []
            everyone_present = bool(request.form.get("all_present"))
            for raw in request.form.getlist("learner"):
                try:
                    learner_id = int(raw)
                except ValueError:
                    abort(400)
                status = request.form.get(f"status-{learner_id}", "")
                if everyone_present and not status:
                    status = AttendanceStatus.present.value  # "all present": the unmarked ones
                reason = request.form.get(f"reason-{learner_id}", "")
                posted[learner_id] = (status, reason)
                if status:
                    marks.append(Mark(learner_id, status, reason))
            try:
                saved = record_attendance(session.township_id, session.id, marks)
            except TrainingError as exc:
                problems = exc.problems
                status_code = 400
            else:
                flash(_("Attendance saved for %(n)s learners.", n=saved), "success")
                return redirect(url_for(".index", session=session.id), 303)
        learners = session_learners(session)
        existing = {
            row.learner_id: (row.status.value, row.reason)
            for row in db.session.scalars(
                select(TrainingAttendance).where(TrainingAttendance.session_id == session.id)
            )
        }
        existing.update(posted)
        return (
            self.render(
                "training/attendance.html",
                session=session,
                learners=learners,
                marks=existing,
                problems=problems,
                statuses=list(AttendanceStatus),
                can_write=session.township_id in self.township_ids(WRITE),
            ),
            status_code,
        )


# ---------------------------------------------------------------------------
# Self-study: one learner, or a grid (rows learners, one date and material)
# ---------------------------------------------------------------------------

GRID_PAGE = 100


class StudyView(TrainingAccess, TownshipBaseView):
    permission_read = WRITE

    @expose("/", methods=("GET", "POST"))
    def index(self):
        township = self.chosen_township(WRITE)
        today = _today(township.id)
        village_id = request.values.get("village", type=int)
        page = max(request.values.get("page", 0, type=int), 0)
        query = (
            select(TrainingLearner)
            .join(Person, Person.id == TrainingLearner.person_id)
            .where(TrainingLearner.township_id == township.id, TrainingLearner.active.is_(True))
        )
        if village_id:
            query = query.where(TrainingLearner.village_id == village_id)
        total = db.session.scalar(select(func.count()).select_from(query.subquery()))
        learners = list(
            db.session.scalars(
                query.order_by(Person.name).offset(page * GRID_PAGE).limit(GRID_PAGE)
            )
        )
        problems: list[str] = []
        values = request.form if request.method == "POST" else {}
        status_code = 200
        if request.method == "POST":
            try:
                entries = self._entries(request.form)
                saved = log_study(township.id, entries, logged_by_id=current_user.id)
            except TrainingError as exc:
                problems, status_code = exc.problems, 400
            else:
                flash(_("%(n)s self-study entries saved.", n=saved), "success")
                return redirect(
                    url_for(".index", township=township.id, village=village_id or None, page=page),
                    303,
                )
        return (
            self.render(
                "training/study.html",
                township=township,
                townships=township_choices(self.township_ids(WRITE)),
                villages=list(_villages({township.id})),
                village_id=village_id,
                learners=learners,
                all_learners=list(_learners({township.id})),
                page=page,
                pages=max(math.ceil((total or 0) / GRID_PAGE), 1),
                today=today,
                values=values,
                problems=problems,
                kinds=list(MaterialKind),
            ),
            status_code,
        )

    @staticmethod
    def _entries(form) -> list[StudyEntry]:
        """Entries of the single form (``mode=single``) or the grid; TrainingError if unreadable."""
        problems: list[str] = []
        try:
            studied_on = date.fromisoformat(form.get("studied_on", ""))
        except ValueError:
            raise TrainingError(_("Give the date as YYYY-MM-DD.")) from None
        material = form.get("material", "")
        kind = form.get("material_kind", MaterialKind.set_reading.value)
        rows = (
            [form.get("learner_id", "")]
            if form.get("mode") == "single"
            else form.getlist("learner")
        )
        entries = []
        for raw in rows:
            try:
                learner_id = int(raw)
            except ValueError:
                problems.append(_("Choose a learner."))
                continue
            suffix = "" if form.get("mode") == "single" else f"-{learner_id}"
            hours = form.get(f"hours{suffix}", "").strip()
            notes = form.get(f"notes{suffix}", "").strip()
            if not hours and not notes:
                continue  # an empty grid row: nothing studied
            try:
                half_hours = parse_hours(hours)
            except ValueError as exc:
                problems.append(f"#{learner_id}: {exc}")
                continue
            try:
                note_chars = int(notes or 0)
            except ValueError:
                problems.append(_("Note characters must be a whole number."))
                continue
            entries.append(
                StudyEntry(learner_id, studied_on, half_hours, material, kind, note_chars)
            )
        if problems:
            raise TrainingError(problems)
        if not entries:
            raise TrainingError(_("Enter the class hours of at least one learner."))
        return entries


# ---------------------------------------------------------------------------
# Compliance: the month at a glance, JSON, exports
# ---------------------------------------------------------------------------

LEARNER_PAGE = 50


def _month(township_id: int) -> tuple[int, int]:
    raw = request.values.get("month", "")
    if raw:
        try:
            year, month = (int(part) for part in raw.split("-"))
            date(year, month, 1)
            return year, month
        except ValueError:
            abort(400, _("Give the month as YYYY-MM."))
    today = _today(township_id)
    return today.year, today.month


class ComplianceView(TrainingAccess, TownshipBaseView):
    @expose("/")
    def index(self):
        township = self.chosen_township(READ)
        year, month = _month(township.id)
        only_behind = request.args.get("behind") == "1"
        page = max(request.args.get("page", 0, type=int), 0)
        # the unit figures of every learner and one page of rows, paged in the database
        report, rows, total = compliance_page(
            township.id, year, month, page=page, per_page=LEARNER_PAGE, only_behind=only_behind
        )
        return self.render(
            "training/compliance.html",
            township=township,
            townships=township_choices(self.township_ids(READ)),
            report=report,
            rows=rows,
            page=page,
            pages=max(math.ceil(total / LEARNER_PAGE), 1),
            only_behind=only_behind,
            month_value=f"{year:04d}-{month:02d}",
            chart=village_chart(report),
            category_label=exports.category_label,
            measure_label=exports.measure_label,
        )

    @expose("/json")
    def json(self):
        township = self.chosen_township(READ)
        year, month = _month(township.id)
        return jsonify(monthly_compliance(township.id, year, month).to_dict())

    @expose("/export")
    def export(self):
        township = self.chosen_township(READ)
        year, month = _month(township.id)
        period = request.args.get("period", "month")
        fmt = request.args.get("format", "xlsx")
        if period not in ("month", "year") or fmt not in ("xlsx", "csv"):
            abort(400)
        reports = exports.reports_for(township.id, year, month if period == "month" else None)
        stem = f"training-{township.code}-{year:04d}" + (
            f"-{month:02d}" if period == "month" else ""
        )
        if fmt == "csv":
            body, mimetype = exports.to_csv(reports), "text/csv; charset=utf-8"
        else:
            body = exports.to_xlsx(reports)
            mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        return Response(
            body,
            mimetype=mimetype,
            headers={"Content-Disposition": f'attachment; filename="{stem}.{fmt}"'},
        )


# ---------------------------------------------------------------------------
# Import: upload, preview every bad row, confirm all or nothing
# ---------------------------------------------------------------------------

MAX_UPLOAD = 5 * 1024 * 1024


class ImportView(TrainingAccess, TownshipBaseView):
    permission_read = WRITE

    @expose("/", methods=("GET", "POST"))
    def index(self):
        township = self.chosen_township(WRITE)
        error = None
        if request.method == "POST":
            upload = request.files.get("file")
            kind = request.form.get("kind", "hours")
            if kind not in imports.KINDS:
                error = _("Unknown kind of import: %(kind)s.", kind=kind)
            elif upload is None or not upload.filename:
                error = _("Choose an XLSX file.")
            else:
                data = upload.read(MAX_UPLOAD + 1)
                if len(data) > MAX_UPLOAD:
                    error = _("The file is larger than 5 MB.")
                else:
                    import io

                    try:
                        record = imports.create_import(
                            township.id,
                            kind,
                            io.BytesIO(data),
                            filename=upload.filename,
                            user_id=current_user.id,
                        )
                    except ValueError as exc:
                        db.session.rollback()
                        error = str(exc)
                    else:
                        return redirect(url_for(".preview", id=record.id), 303)
        return (
            self.render(
                "training/import.html",
                township=township,
                townships=township_choices(self.township_ids(WRITE)),
                error=error,
            ),
            400 if error else 200,
        )

    def _record(self, import_id: int) -> TrainingImport:
        record = db.session.get(TrainingImport, import_id)
        if record is None or record.township_id not in self.township_ids(WRITE):
            abort(404)
        return record

    @expose("/<int:id>/")
    def preview(self, id):
        record = self._record(id)
        return self.render(
            "training/import_preview.html", record=record, column_label=imports.column_label
        )

    @expose("/<int:id>/confirm", methods=("POST",))
    def confirm(self, id):
        record = self._record(id)
        try:
            count = imports.confirm_import(record.id, record.township_id, user_id=current_user.id)
        except TrainingError as exc:
            for problem in exc.problems:
                flash(problem, "danger")
            return self.render(
                "training/import_preview.html", record=record, column_label=imports.column_label
            ), 400
        flash(_("%(n)s rows imported.", n=count), "success")
        return redirect(url_for(".index", township=record.township_id), 303)


# ---------------------------------------------------------------------------
# My study record (a cadre signed in)
# ---------------------------------------------------------------------------


class MyRecordView(TrainingAccess, TownshipBaseView):
    permission_read = SELF

    def _learner(self) -> TrainingLearner:
        learner = learner_of_user(current_user.id, self.township_ids(SELF))
        if learner is None:
            abort(404, _("You are not on a training roster."))
        return learner

    @expose("/")
    def index(self):
        learner = self._learner()
        today = _today(learner.township_id)
        report = monthly_compliance(
            learner.township_id, today.year, today.month, learner_id=learner.id
        )
        pending = db.session.scalars(
            select(TrainingStudyLog)
            .where(
                TrainingStudyLog.learner_id == learner.id,
                TrainingStudyLog.status == LogStatus.pending,
            )
            .order_by(TrainingStudyLog.studied_on.desc())
            .limit(50)
        ).all()
        returned = db.session.scalars(
            select(TrainingStudyLog)
            .where(
                TrainingStudyLog.learner_id == learner.id,
                TrainingStudyLog.status == LogStatus.returned,
            )
            .order_by(TrainingStudyLog.studied_on.desc())
            .limit(20)
        ).all()
        reasons = _return_reasons([log.id for log in returned])
        return self.render(
            "training/my_record.html",
            returned=[(log, reasons.get(str(log.id), "")) for log in returned],
            learner=learner,
            row=report.learners[0] if report.learners else None,
            report=report,
            year_hours=yearly_hours(learner.id, today.year),
            today=today,
            pending=pending,
            kinds=list(MaterialKind),
            measure_label=exports.measure_label,
        )

    @expose("/log", methods=("POST",))
    def log(self):
        learner = self._learner()
        form = request.form
        try:
            try:
                studied_on = date.fromisoformat(form.get("studied_on", ""))
                half_hours = parse_hours(form.get("hours"))
                note_chars = int(form.get("notes") or 0)
            except ValueError as exc:
                raise TrainingError(str(exc)) from None
            log_study(
                learner.township_id,
                [
                    StudyEntry(
                        learner.id,
                        studied_on,
                        half_hours,
                        form.get("material", ""),
                        form.get("material_kind", MaterialKind.set_reading.value),
                        note_chars,
                    )
                ],
                logged_by_id=current_user.id,
                confirmed=False,
            )
        except TrainingError as exc:
            for problem in exc.problems:
                flash(problem, "danger")
            return redirect(url_for(".index")), 400
        flash(_("Saved; a training officer will confirm it."), "success")
        return redirect(url_for(".index"), 303)


def admin_views() -> list:
    """The views, in menu order."""
    from core.contract import AdminView

    return [
        AdminView(ComplianceView(name=_l("Monthly compliance"), endpoint="training_compliance")),
        AdminView(LearnerView(TrainingLearner, name=_l("Roster"), endpoint="training_learners")),
        AdminView(SessionView(TrainingSession, name=_l("Sessions"), endpoint="training_sessions")),
        AdminView(AttendanceView(name=_l("Attendance"), endpoint="training_attendance")),
        AdminView(StudyView(name=_l("Log self-study"), endpoint="training_study")),
        AdminView(
            StudyLogView(TrainingStudyLog, name=_l("Self-study entries"), endpoint="training_logs")
        ),
        AdminView(
            TechniqueView(TrainingTechnique, name=_l("Techniques"), endpoint="training_techniques")
        ),
        AdminView(
            MasteryView(
                TrainingMastery, name=_l("Techniques mastered"), endpoint="training_mastery"
            )
        ),
        AdminView(ImportView(name=_l("Import"), endpoint="training_import")),
        AdminView(MyRecordView(name=_l("My study record"), endpoint="training_my_record")),
    ]


def _return_reasons(log_ids: list[int]) -> dict[str, str]:
    """Why each entry was sent back (the trail keeps the reason), in one query."""
    from core.models import AuditEvent

    if not log_ids:
        return {}
    rows = db.session.scalars(
        select(AuditEvent)
        .where(
            AuditEvent.object_type == "TrainingStudyLog",
            AuditEvent.action == "send_back",
            AuditEvent.object_id.in_([str(i) for i in log_ids]),
        )
        .order_by(AuditEvent.id)
    )
    return {row.object_id: (row.after or {}).get("reason", "") for row in rows}


def inbox_sources(user, township_ids: set[int]) -> list:
    """Learners' own hours waiting for a training officer (``training.write``)."""
    from sqlalchemy import String, cast, literal

    from core.contract import InboxSource

    ids = township_ids_with(user, WRITE) & township_ids
    if not ids:
        return []
    title = Person.name + literal(" · ") + cast(TrainingStudyLog.studied_on, String)
    return [
        InboxSource(
            INBOX_CONFIRM,
            "待确认自学课时",
            "Self-study hours to confirm",
            select(
                TrainingStudyLog.id.label("object_id"),
                title.label("title"),
                TrainingStudyLog.township_id.label("township_id"),
                TrainingStudyLog.created_at.label("since"),
                literal(None).label("due_on"),
            )
            .join(TrainingLearner, TrainingLearner.id == TrainingStudyLog.learner_id)
            .join(Person, Person.id == TrainingLearner.person_id)
            .where(
                TrainingStudyLog.township_id.in_(ids),
                TrainingStudyLog.status == LogStatus.pending,
            ),
            "training_logs.review_view",
        )
    ]


def county_dashboard_figures(townships: list[OrgUnit]) -> dict[int, list]:
    """Each township's self-study and study days of its own month, and its village chart,
    for the dashboards (the compliance of every township in the same few queries)."""
    from core.contract import DashboardFigure

    months = {}
    for township in townships:
        today = clock.today(township)
        months[township.id] = (today.year, today.month)
    reports = monthly_compliances(months, learners=False)  # the unit figures, in the database
    figures: dict[int, list] = {}
    for township in townships:
        report = reports[township.id]
        link = url_for("training_compliance.index", township=township.id)
        t = report.township
        figures[township.id] = [
            DashboardFigure(
                label=_("Training: learners behind this month (of %(n)s)", n=t.learners),
                value=t.behind,
                link=link,
                level="danger" if t.behind else "success",
            ),
            DashboardFigure(
                label=_(
                    "Training: township study days this month (of %(n)s)",
                    n=f"{t.required_days:g}",
                ),
                value=f"{t.study_days:g}",
                link=link,
                level="warning" if t.shortfalls else "success",
            ),
            DashboardFigure(
                label=_("Training: compliance by village"),
                chart=village_chart(report, width=360, bar=12),
                link=link,
                level="info",
            ),
        ]
    return figures
