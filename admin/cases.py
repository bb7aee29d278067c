"""Cases (事项) in the admin: list, details with the due-date explanation and the event
trail, registration, and every transition as a small POST form calling a service.

Case fields never change through a generic edit form: only the services in
:mod:`core.cases` change a case, so every change lands in the event trail.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_admin.contrib.sqla.filters import BaseSQLAFilter, FilterEqual
from flask_admin.model.ajax import AjaxModelLoader
from flask_admin.model.fields import AjaxSelectField
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import aliased
from wtforms import BooleanField, DateField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from admin.timeliness import prime, timeliness_of
from admin.views import TownshipModelView, township_choices
from core import cases as services
from core import clock
from core.access import can
from core.cases import (
    EVENT_LABELS,
    FIELD_LABELS,
    STATUS_LABELS,
    TRANSITIONS,
    UNIT_LABELS,
    CaseError,
    compute_due,
)
from core.db import db
from core.labels import LazyChoices
from core.models import (
    OPEN_STATUSES,
    Case,
    CaseEvent,
    CaseStatus,
    ExtensionRequest,
    LimitUnit,
    OrgUnit,
    Person,
    UnitKind,
    User,
)
from core.plugins import state
from core.validation import DateInRange, InvalidInput, Phone, ResidentId

S = CaseStatus

#: why a day counts or not, as the case page explains it
REASON_LABELS = {
    "weekday": _l("working day"),
    "weekend": _l("weekend"),
    "holiday": _l("public holiday"),
    "adjusted_workday": _l("adjusted working day (调休)"),
    "township": _l("township's own day"),
    "estimated_holiday": _l("estimated holiday (official schedule not yet known)"),
}

TIMELINESS_LABELS = {
    "on_time": _l("On time"),
    "due_soon": _l("Due soon"),
    "overdue": _l("Overdue"),
    "paused": _l("Clock paused"),
    "done": _l("Done"),
}
TIMELINESS_CLASSES = {
    "on_time": "info",
    "due_soon": "warning",
    "overdue": "danger",
    "paused": "secondary",
    "done": "success",
}

#: which actions each status offers (besides assigning and extensions)
ACTIONS_BY_TARGET = {
    S.accepted: "accept",
    S.in_progress: "start",
    S.waiting: "wait",
    S.forwarded: "forward",
    S.resolved: "resolve",
    S.delivered: "deliver",
    S.closed: "close",
    S.reopened: "reopen",
}


def limit_words(amount: int | None, unit: LimitUnit | str | None) -> str:
    """A time limit with its unit: "30 working days" / "30 calendar days"."""
    if amount is None:
        return "–"
    if unit in (LimitUnit.working_days, "working_days"):
        return _("%(n)s working days", n=amount)
    return _("%(n)s calendar days", n=amount)


def unit_words(unit: LimitUnit | str | None) -> str:
    """The unit of a time limit in words ("working days")."""
    return LimitUnit(unit).label if unit in LimitUnit.__members__ else ""


def _due_badges() -> dict[str, Markup]:
    """The "due soon" and "overdue" badges in the request's language (made once per
    request: a list shows them on many rows)."""
    from flask import g

    badges = g.get("_admin_due_badges")
    if badges is None:
        badges = g._admin_due_badges = {
            state_: Markup('<span class="badge badge-{}">{}</span>').format(
                TIMELINESS_CLASSES[state_], TIMELINESS_LABELS[state_]
            )
            for state_ in ("due_soon", "overdue")
        }
    return badges


def kind_label(code: str) -> str:
    from flask import current_app

    kind = state().case_kinds.get(code)
    return current_app.jinja_env.globals["label"](kind) if kind else code


def kind_options() -> list[tuple[str, str]]:
    return [(code, kind_label(code)) for code in state().case_kinds]


class LazyKindOptions:
    """Filter options read when the list renders (the plugins' kinds, in the user's language)."""

    fixed = True  # the same for every user of the app

    def __iter__(self):
        return iter(kind_options())

    def __bool__(self) -> bool:
        return True


class TimelinessFilter(BaseSQLAFilter):
    """Open cases whose due date has passed, or that fall due within a few days."""

    def apply(self, query, value, alias=None):
        from flask_login import current_user

        from core.access import visible_township_ids

        ids = visible_township_ids(current_user)
        query = query.filter(Case.status.in_(OPEN_STATUSES), Case.due_on.is_not(None))
        if value == "overdue":
            return query.filter(clock.before_today(Case.due_on, Case.township_id, ids))
        return query.filter(clock.on_or_after_today(Case.due_on, Case.township_id, ids))

    def operation(self):
        return _l("is")


def due_soon_cutoffs(township_ids: set[int]) -> dict[int, tuple]:
    """Per township: (today, the first day that is no longer "due soon")."""
    from admin.timeliness import calendars_for, due_soon_days_for

    calendars = calendars_for(township_ids)
    thresholds = due_soon_days_for(township_ids)
    out = {}
    for tid in township_ids:
        today = clock.today(tid)
        after = calendars[tid].add_working_days(today, thresholds[tid] + 1).due
        out[tid] = (today, after)
    return out


class WorkFilter(BaseSQLAFilter):
    """What a clerk or leader looks for first: my cases, due soon, overdue, my decisions."""

    def apply(self, query, value, alias=None):
        from sqlalchemy import and_, exists, false, or_

        from core.access import township_ids_with, visible_township_ids

        me = current_user.id
        ids = visible_township_ids(current_user)
        is_open = Case.status.in_(OPEN_STATUSES)
        if value == "mine":
            return query.filter(or_(Case.handler_id == me, Case.first_responder_id == me))
        if value == "overdue":
            return query.filter(
                is_open,
                Case.due_on.is_not(None),
                clock.before_today(Case.due_on, Case.township_id, ids),
            )
        if value == "due_soon":
            cutoffs = due_soon_cutoffs(ids)
            if not cutoffs:
                return query.filter(false())
            return query.filter(
                is_open,
                or_(
                    *(
                        and_(Case.township_id == tid, Case.due_on >= today, Case.due_on < after)
                        for tid, (today, after) in cutoffs.items()
                    )
                ),
            )
        if value == "decide":
            deciding = township_ids_with(current_user, "cases.approve_extension")
            return query.filter(
                Case.township_id.in_(deciding),
                exists().where(
                    ExtensionRequest.case_id == Case.id,
                    ExtensionRequest.approved.is_(None),
                    ExtensionRequest.requested_by_id != me,
                ),
            )
        if value == "open":
            return query.filter(is_open)
        return query

    def operation(self):
        return _l("is")


class TownshipFilter(BaseSQLAFilter):
    """Cases of one township (a county administrator sees several)."""

    def apply(self, query, value, alias=None):
        try:
            return query.filter(Case.township_id == int(value))
        except (TypeError, ValueError):
            return query

    def operation(self):
        return _l("is")


class HandlerFilter(BaseSQLAFilter):
    """Cases of one handler ("0": no handler yet), as the dashboard counts them."""

    def apply(self, query, value, alias=None):
        try:
            handler = int(value)
        except (TypeError, ValueError):
            return query
        if handler == 0:
            return query.filter(Case.handler_id.is_(None))
        return query.filter(Case.handler_id == handler)

    def operation(self):
        return _l("is")


def _visible_townships():
    from core.access import visible_township_ids

    return township_choices(visible_township_ids(current_user))


def _visible_handlers():
    from core import cache
    from core.access import visible_township_ids

    ids = sorted(visible_township_ids(current_user))

    def load() -> list[tuple[str, str]]:
        rows = db.session.execute(
            select(User.id, User.name)
            .where(User.id.in_(select(Case.handler_id).where(Case.township_id.in_(ids))))
            .order_by(User.name)
        ).all()
        return [(str(r.id), r.name) for r in rows]

    # a scan of the townships' cases: cached, a newly assigned handler shows within a minute
    handlers = cache.memo(
        f"case-handlers:{','.join(map(str, ids))}", load, areas=[(None, cache.ACCESS)], timeout=60
    )
    return [("0", _("(no handler yet)")), *handlers]


#: the "Show" filter's options, in the order the menu offers them
WORK_OPTIONS = (
    ("mine", _l("My cases (handler or first responder)")),
    ("due_soon", _l("Due soon")),
    ("overdue", _l("Overdue")),
    ("decide", _l("Waiting for my decision")),
    ("open", _l("Open")),
)


def staff_of(township_id: int) -> list[User]:
    """Users who may handle the township's cases (``cases.write`` through any of their
    roles, county roles included): a learner or a read-only role is not offered."""
    from core.access import users_with

    return users_with("cases.write", township_id)


def stations_of(township_id: int) -> list[OrgUnit]:
    return list(
        db.session.scalars(
            select(OrgUnit)
            .where(OrgUnit.township_id == township_id, OrgUnit.kind == UnitKind.station)
            .order_by(OrgUnit.name)
        )
    )


class PersonLoader(AjaxModelLoader):
    """The applicant lookup (flask-admin's AJAX select): people of the clerk's townships
    found by name, the last digits of the ID number or phone, or the village; each shown
    with what tells namesakes apart (village, masked ID number and phone)."""

    def format(self, model):
        if model is None:
            return None
        parts = [model.name]
        if model.village is not None:
            parts.append(model.village.name)
        if model.id_number:
            parts.append(_("ID …%(tail)s", tail=model.id_number[-4:]))
        if model.phone:
            parts.append(_("phone …%(tail)s", tail=model.phone[-4:]))
        return model.id, " · ".join(parts)

    def _allowed(self) -> set[int]:
        from core.access import township_ids_with

        return township_ids_with(current_user, "cases.write")

    def get_one(self, pk):
        try:
            person = db.session.get(Person, int(pk))
        except (TypeError, ValueError):
            return None
        return person if person is not None and person.township_id in self._allowed() else None

    def get_list(self, query, offset=0, limit=10):
        from sqlalchemy import or_

        term = (query or "").strip()
        village = aliased(OrgUnit)
        statement = (
            select(Person)
            .outerjoin(village, village.id == Person.village_id)
            .where(Person.township_id.in_(self._allowed()))
        )
        if term:
            like = "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            conditions = [Person.name.like(like, escape="\\"), village.name.like(like, escape="\\")]
            if term.isdigit() or term[:-1].isdigit():
                conditions += [
                    Person.id_number.like("%" + term.upper()),
                    Person.phone.like("%" + term),
                ]
            statement = statement.where(or_(*conditions))
        statement = (
            statement.order_by(Person.name, Person.id).offset(offset or 0).limit(min(limit, 50))
        )
        return list(db.session.scalars(statement))


class RegisterCaseForm(FlaskForm):
    """A citizen's matter, registered by the signed-in clerk as first responder.

    The applicant is looked up in the register (AJAX); one who is not there yet is
    registered in the same step with a phone or an ID number, or recorded by name only.
    """

    township_id = SelectField(_l("Township"), coerce=int)
    kind = SelectField(_l("Kind"), validators=[DataRequired()])
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    applicant_id = AjaxSelectField(
        PersonLoader("applicant", {}),
        _l("Applicant from the register"),
        allow_blank=True,
        blank_text=_l("(type a name, village or the last digits of the ID number or phone)"),
    )
    applicant_name = StringField(
        _l("Applicant's name (if not in the register)"), validators=[Length(max=120)]
    )
    applicant_phone = StringField(
        _l("Their phone (adds them to the register)"), validators=[Optional(), Phone()]
    )
    applicant_id_number = StringField(
        _l("Their resident ID number (optional)"), validators=[Optional(), ResidentId()]
    )
    applicant_village = SelectField(_l("Their village (optional)"), coerce=int, default=0)
    description = TextAreaField(_l("Description"), validators=[Optional()])
    received_on = DateField(_l("Received on"), validators=[Optional(), DateInRange(past=True)])
    accept = BooleanField(_l("Accept now"), default=False)


class CaseView(TownshipModelView):
    """The case list, its details page, registration and transitions."""

    permission_read = "cases.read"
    permission_write = "cases.write"
    can_view_details = True
    column_list = ("status", "kind", "receipt_no", "title", "handler", "due_on")
    column_labels = {
        "status": _l("Status"),
        "kind": _l("Kind"),
        "receipt_no": _l("Receipt number"),
        "title": _l("Title"),
        "handler": _l("Handler"),
        "due_on": _l("Due date"),
        "received_on": _l("Received on"),
        "applicant_name": _l("Applicant"),
    }
    column_searchable_list = ("title", "receipt_no", "applicant_name")
    column_sortable_list = ("status", "kind", "receipt_no", "title", "due_on", "received_on")
    column_default_sort = ("id", True)
    action_disallowed_list = ["delete"]
    # a case changes only through its transitions (each leaves a trail entry)
    allow_edit = False
    allow_delete = False

    def __init__(self, **kwargs: Any):
        kwargs.setdefault("name", _l("Cases"))
        kwargs.setdefault("endpoint", "admin_cases")
        super().__init__(Case, **kwargs)

    column_filters = (
        FilterEqual(
            Case.status,
            _l("Status"),
            options=[(status.value, label) for status, label in STATUS_LABELS.items()],
        ),
        FilterEqual(Case.kind, _l("Kind"), options=LazyKindOptions()),
        "due_on",
        "received_on",
        TimelinessFilter(
            Case.due_on,
            _l("Timeliness"),
            options=(("overdue", _l("Overdue")), ("open", _l("Open, not yet due"))),
        ),
        WorkFilter(Case.id, _l("Show"), options=WORK_OPTIONS),
        TownshipFilter(Case.township_id, _l("Township"), options=LazyChoices(_visible_townships)),
        HandlerFilter(Case.handler_id, _l("Handler"), options=LazyChoices(_visible_handlers)),
    )

    def filter_url(self, **chosen: Any) -> str:
        """The case list filtered as the dashboard counts (``show="overdue", township=3,
        handler=7``): one URL argument per chosen filter."""
        kinds = {"show": WorkFilter, "township": TownshipFilter, "handler": HandlerFilter}
        args = {}
        position = 0
        for name, value in chosen.items():
            if value is None:
                continue
            for index, flt in enumerate(self._filters or ()):
                if type(flt) is kinds[name]:
                    args[f"flt{position}_{self.get_filter_arg(index, flt)}"] = value
                    position += 1
                    break
        return url_for("admin_cases.index_view", **args)

    # -- list -------------------------------------------------------------
    def get_list(self, *args: Any, **kwargs: Any):
        count, rows = super().get_list(*args, **kwargs)
        prime({row.township_id for row in rows})
        return count, rows

    @staticmethod
    def _format_status(view, context, model, name):
        return STATUS_LABELS.get(model.status, model.status)

    @staticmethod
    def _format_kind(view, context, model, name):
        from flask import g

        labels = g.setdefault("_admin_kind_labels", {})
        label = labels.get(model.kind)
        if label is None:
            label = labels[model.kind] = kind_label(model.kind)
        return label

    @staticmethod
    def _format_due(view, context, model, name):
        if model.due_on is None:
            return Markup("&ndash;")
        badge = _due_badges().get(timeliness_of(model))
        due = model.due_on.isoformat()  # digits and dashes: nothing to escape
        return Markup(f"{due} {badge}") if badge else Markup(due)

    column_formatters = {
        "status": _format_status,
        "kind": _format_kind,
        "due_on": _format_due,
    }

    # -- no generic edit or delete ---------------------------------------
    @expose("/edit/", methods=("GET", "POST"))
    def edit_view(self):
        model = self.get_one(request.args.get("id", ""))
        flash(_("A case changes only through the actions on its page."), "info")
        return redirect(url_for(".details_view", id=model.id))

    @expose("/delete/", methods=("POST",))
    def delete_view(self):
        self.get_one(request.form.get("id", ""))
        abort(405)

    # -- registration -----------------------------------------------------
    #: the applicant lookup (``/admin/admin_cases/ajax/lookup/?name=applicant&query=...``)
    form_ajax_refs = {"applicant": PersonLoader("applicant", {})}

    def _register_form(self) -> RegisterCaseForm:
        form = RegisterCaseForm()
        allowed = self.writable_township_ids()
        form.township_id.choices = township_choices(allowed)
        if form.township_id.data is None and len(form.township_id.choices) == 1:
            form.township_id.data = form.township_id.choices[0][0]
        form.kind.choices = kind_options()
        villages = db.session.execute(
            select(OrgUnit.id, OrgUnit.name)
            .where(OrgUnit.township_id.in_(allowed), OrgUnit.kind == UnitKind.village)
            .order_by(OrgUnit.name)
        ).all()
        form.applicant_village.choices = [(0, "–")] + [(v.id, v.name) for v in villages]
        return form

    @staticmethod
    def _new_person(form, township: OrgUnit) -> Person | None:
        """The applicant registered in the same step (name and a phone or ID number)."""
        from core.people import register_person

        name = (form.applicant_name.data or "").strip()
        phone = form.applicant_phone.data or None
        id_number = form.applicant_id_number.data or None
        if not name or not (phone or id_number):
            return None
        village = db.session.get(OrgUnit, form.applicant_village.data or 0)
        return register_person(township, name, phone=phone, id_number=id_number, village=village)

    @expose("/new/", methods=("GET", "POST"))
    def create_view(self):
        if not self.can_create:
            abort(403)
        form = self._register_form()
        if form.validate_on_submit():
            township = db.session.get(OrgUnit, form.township_id.data)
            applicant = form.applicant_id.data
            try:
                if applicant is None:
                    applicant = self._new_person(form, township)
                case = services.register_case(
                    township=township,
                    kind=form.kind.data,
                    title=form.title.data,
                    applicant_name=form.applicant_name.data or "",
                    applicant=applicant,
                    description=form.description.data or "",
                    first_responder=current_user._get_current_object(),
                    received_on=form.received_on.data,
                    accept=form.accept.data,
                )
            except (CaseError, InvalidInput) as exc:
                db.session.rollback()
                flash(str(exc), "danger")
            else:
                flash(_("Case %(no)s registered.", no=case.receipt_no), "success")
                return redirect(url_for(".details_view", id=case.id))
        elif request.method == "POST":
            flash(_("The case was not registered; correct the fields marked below."), "danger")
        return self.render(
            "admin/township/case_register.html",
            form=form,
            return_url=url_for(".index_view"),
        ), (400 if request.method == "POST" else 200)

    # -- details ----------------------------------------------------------
    @staticmethod
    def readable_trail(events: list[CaseEvent]) -> list[dict[str, Any]]:
        """The trail as a clerk reads it: translated actions, field names and statuses,
        people and departments by name (two queries for the whole trail)."""
        ids: dict[str, set[int]] = {"handler_id": set(), "department_id": set()}
        for event in events:
            for change in (event.before or {}, event.after or {}):
                for key in ids:
                    if isinstance(change.get(key), int):
                        ids[key].add(change[key])
        users = dict(
            db.session.execute(
                select(User.id, User.name).where(User.id.in_(ids["handler_id"]))
            ).all()
        )
        units = dict(
            db.session.execute(
                select(OrgUnit.id, OrgUnit.name).where(OrgUnit.id.in_(ids["department_id"]))
            ).all()
        )

        def value(key: str, raw: Any) -> Any:
            if raw is None:
                return "–"
            if key == "status" and raw in CaseStatus.__members__:
                return STATUS_LABELS[CaseStatus(raw)]
            if key == "limit_unit" and raw in LimitUnit.__members__:
                return UNIT_LABELS[LimitUnit(raw)]
            if key == "kind":
                return kind_label(raw)
            if key == "handler_id":
                return users.get(raw, raw)
            if key == "department_id":
                return units.get(raw, raw)
            return raw

        def readable(change: dict | None) -> list[tuple[Any, Any]]:
            return [(FIELD_LABELS.get(k, k), value(k, v)) for k, v in (change or {}).items()]

        return [
            {
                "at": event.at,
                "actor": event.actor,
                "action": EVENT_LABELS.get(event.action, event.action),
                "before": readable(event.before),
                "after": readable(event.after),
                "note": event.note,
            }
            for event in events
        ]

    @expose("/details/")
    def details_view(self):
        case = self.get_one(request.args.get("id", ""))
        events = db.session.scalars(
            select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)
        ).all()
        pending = db.session.scalar(
            select(ExtensionRequest).where(
                ExtensionRequest.case_id == case.id, ExtensionRequest.approved.is_(None)
            )
        )
        tid = case.township_id
        may_write = can(current_user, "cases.write", tid)
        allowed = TRANSITIONS.get(case.status, set())
        actions = [ACTIONS_BY_TARGET[t] for t in ACTIONS_BY_TARGET if t in allowed]
        return self.render(
            "admin/township/case_details.html",
            case=case,
            events=self.readable_trail(events),
            due=compute_due(case),
            timeliness=timeliness_of(case),
            timeliness_labels=TIMELINESS_LABELS,
            timeliness_classes=TIMELINESS_CLASSES,
            reason_labels=REASON_LABELS,
            kind_label=kind_label(case.kind),
            pending=pending,
            may_write=may_write,
            may_decide=can(current_user, "cases.approve_extension", tid),
            actions=actions if may_write else [],
            staff=staff_of(tid) if may_write else [],
            stations=stations_of(tid) if may_write else [],
            return_url=url_for(".index_view"),
            limit_words=limit_words,
            unit_words=unit_words,
        )

    # -- transitions ------------------------------------------------------
    #: the admin's form names of two actions of :data:`core.cases.TRANSITIONS_BY_ACTION`
    ACTION_ALIASES = {"extend": "request_extension", "decide": "decide_extension"}

    @expose("/transition/<int:case_id>/<action>/", methods=("POST",))
    def transition_view(self, case_id: int, action: str):
        """Run one transition service; a refused one is flashed and changes nothing."""
        case = self.get_one(str(case_id))
        transition = services.TRANSITIONS_BY_ACTION.get(self.ACTION_ALIASES.get(action, action))
        if transition is None:
            abort(404)
        if not can(current_user, transition.permission, case.township_id):
            abort(403)
        actor = current_user._get_current_object()
        try:
            message = self._run(case, actor, transition, request.form)
        except CaseError as exc:
            db.session.rollback()
            flash(str(exc), "danger")
            return redirect(url_for(".details_view", id=case.id)), 303
        flash(message, "success")
        return redirect(url_for(".details_view", id=case.id)), 303

    def _unit(self, case: Case, raw: str | None) -> OrgUnit | None:
        if not raw:
            return None
        unit = db.session.get(OrgUnit, int(raw)) if raw.isascii() and raw.isdigit() else None
        if unit is None:
            raise CaseError(_("Choose a department from the list."))
        return unit

    def _user(self, case: Case, raw: str | None) -> User | None:
        if not raw:
            return None
        user = db.session.get(User, int(raw)) if raw.isascii() and raw.isdigit() else None
        if user is None:
            raise CaseError(_("Choose a handler from the list."))
        return user

    def _run(self, case: Case, actor: User, transition, form) -> str:
        """Read the transition's fields from the form (the table in :mod:`core.cases`
        says which), run its service, and say what happened."""
        values: dict[str, Any] = {}
        for field in transition.fields:
            if field.kind == "staff":
                value = self._user(case, form.get("handler_id"))
                if value is None and field.required:
                    raise CaseError(_("Choose a handler from the list."))
            elif field.kind == "department":
                value = self._unit(case, form.get("department_id"))
            elif field.kind == "amount":
                raw = (form.get(field.name) or "").strip()
                if not (raw.isascii() and raw.isdigit() and len(raw) < 6):
                    raise CaseError(_("The new limit must be a whole number of days."))
                value = int(raw)
            elif field.kind == "approve":
                decision = form.get("decision")
                if decision not in ("approve", "refuse"):
                    raise CaseError(_("Approve or refuse the request."))
                value = decision == "approve"
            elif field.kind == "date":
                continue  # the admin accepts as of today
            else:
                value = form.get(field.name) or ""
                if field.max_length and len(value) > field.max_length:
                    raise CaseError(_("Must be at most %(n)s characters.", n=field.max_length))
            if value is not None:
                values[field.name] = value
        transition(case, actor, values)
        return str(transition.done(case, values))
