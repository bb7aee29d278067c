"""Admin views of the service guide (服务“四限”): the catalogue, the county's model
catalogue and its adoption, registering a case from a matter, fees, the service hall and
the village service rooms, and the on-time report.

Permissions: ``guide.read`` reads; ``guide.write`` keeps the catalogue, the hall and the
rooms; ``guide.register`` registers cases from matters and records fees; ``guide.model``
(the county administrator) keeps the county's model catalogue.
"""

from __future__ import annotations

from datetime import date

from flask import Response, abort, flash, g, redirect, request, url_for
from flask_admin import expose
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup, escape
from sqlalchemy import select
from wtforms import DecimalField, SelectField
from wtforms import ValidationError as FormValidationError
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, NumberRange, Optional

from admin.views import TownshipBaseView, TownshipModelView, township_choices
from core import clock
from core.db import db
from core.models import Case, Membership, OrgUnit, UnitKind, User
from plugins.guide import exports, services
from plugins.guide.models import (
    GuideCaseMatter,
    GuideFee,
    GuideMatter,
    GuideModelMatter,
    GuideServiceHall,
    GuideServiceRoom,
    Place,
    to_fen,
    yuan,
)
from plugins.guide.services import GuideError

READ = "guide.read"
WRITE = "guide.write"
REGISTER = "guide.register"
MODEL = "guide.model"


def _optional_int(value):
    return int(value) if value not in (None, "", "None") else None


def check_phone(raw: str | None, label: str, required: bool = True) -> str:
    """A Chinese phone number (mobile or landline) in its national form, or a ValidationError."""
    import phonenumbers

    raw = (raw or "").strip()
    if not raw:
        if required:
            raise FormValidationError(_("%(field)s is required.", field=label))
        return ""
    try:
        number = phonenumbers.parse(raw, "CN")
    except phonenumbers.NumberParseException as exc:
        raise FormValidationError(_("%(field)s is not a phone number.", field=label)) from exc
    if not phonenumbers.is_valid_number(number):
        raise FormValidationError(_("%(field)s is not a phone number.", field=label))
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)


def _stations(ids):
    return [
        (u.id, u.name)
        for u in db.session.scalars(
            select(OrgUnit)
            .where(OrgUnit.township_id.in_(ids), OrgUnit.kind == UnitKind.station)
            .order_by(OrgUnit.name)
        )
    ]


def _villages(ids):
    return [
        (u.id, u.name)
        for u in db.session.scalars(
            select(OrgUnit)
            .where(OrgUnit.township_id.in_(ids), OrgUnit.kind == UnitKind.village)
            .order_by(OrgUnit.name)
        )
    ]


def _staff(ids):
    return [
        (u.id, u.name)
        for u in db.session.scalars(
            select(User)
            .join(Membership, Membership.user_id == User.id)
            .join(OrgUnit, OrgUnit.id == Membership.org_unit_id)
            .where(OrgUnit.township_id.in_(ids), User.active.is_(True))
            .distinct()
            .order_by(User.name)
        )
    ]


def place_select(label) -> SelectField:
    """The place as a select of labels (values are the codes)."""
    return SelectField(
        label,
        choices=lambda: [SelectChoice(p.value, p.label) for p in Place],
        validators=[InputRequired()],
        coerce=str,
    )


def fee_field() -> DecimalField:
    return DecimalField(
        _l("Fee standard (yuan, 0 = free)"),
        places=2,
        default=0,
        validators=[InputRequired(), NumberRange(min=0, max=1_000_000)],
    )


def _kind(view, context, model, name):
    return services.kind_label(model.case_kind)


def _limit(view, context, model, name):
    return services.limit_text(model.township_id, model.case_kind)


def _fee(view, context, model, name):
    value = yuan(model.fee_standard_fen)
    return _("Free") if value == 0 else _("%(n)s yuan", n=value)


def _name_with_register_link(matter) -> Markup:
    """The matter's name, and a link to register a case from it for those who may."""
    from core.access import can

    if not matter.published or not can(current_user, REGISTER, matter.township_id):
        return Markup("{}").format(matter.name)
    return Markup('{} <a class="small register-link" href="{}">{}</a>').format(
        matter.name,
        url_for("guide_register.index", township=matter.township_id, matter=matter.id),
        _("Register a case"),
    )


def _amount(view, context, model, name):
    return _("%(n)s yuan", n=yuan(model.amount_fen))


class GuideModelView(TownshipModelView):
    """A guide model view whose reference fields offer rows of the user's townships only."""

    plugin_key = "guide"
    permission_read = READ
    permission_write = WRITE
    #: field name -> (function of township ids returning pairs, optional, model of the row)
    scoped_fields: dict = {}

    def scaffold_form(self):
        form_class = super().scaffold_form()
        for name, (_source, optional) in self.scoped_fields.items():
            label = self.column_labels.get(name, name)
            if optional:
                field = SelectField(label, coerce=_optional_int, validators=[Optional()])
            else:
                field = SelectField(label, coerce=int, validators=[InputRequired()])
            setattr(form_class, name, field)
        return form_class

    def _scope_fields(self, form):
        ids = self.writable_township_ids()
        for name, (source, optional) in self.scoped_fields.items():
            field = getattr(form, name, None)
            if field is not None:
                choices = [SelectChoice(str(v), label) for v, label in source(ids)]
                if optional:
                    choices.insert(0, SelectChoice("", "—"))
                field.choices = choices
        return form

    def create_form(self, obj=None):
        return self._scope_fields(super().create_form(obj))

    def edit_form(self, obj=None):
        return self._scope_fields(super().edit_form(obj))

    def _same_township(self, model, name, unit_kind=None):
        value = getattr(model, name)
        if value is None:
            return
        if name.endswith("_id") and name not in ("responsible_id",):
            unit = db.session.get(OrgUnit, value)
            if unit is None or unit.township_id != model.township_id:
                raise FormValidationError(_("That choice belongs to another township."))
            if unit_kind is not None and unit.kind != unit_kind:
                raise FormValidationError(_("That choice belongs to another township."))


class MatterView(GuideModelView):
    """The township's catalogue of matters (办事指南)."""

    column_list = (
        "name",
        "department",
        "place",
        "case_kind",
        "limit",
        "fee_standard_fen",
        "responsible",
        "published",
    )
    column_labels = {
        "name": _l("Matter"),
        "department": _l("Department"),
        "department_id": _l("Department"),
        "place": _l("Where it is done"),
        "authority": _l("Authority (law or rule)"),
        "case_kind": _l("Case kind (time limit)"),
        "limit": _l("Time limit"),
        "fee_standard_fen": _l("Fee standard"),
        "fee_standard": _l("Fee standard (yuan, 0 = free)"),
        "fee_basis": _l("Basis of the fee"),
        "materials": _l("Materials to bring (one a line)"),
        "steps": _l("Steps (one a line)"),
        "responsible": _l("Person responsible"),
        "responsible_id": _l("Person responsible"),
        "published": _l("Published"),
        "township": _l("Township"),
        "township_id": _l("Township"),
        "model_id": _l("Model matter"),
        "created_at": _l("Created at"),
        "updated_at": _l("Updated at"),
    }
    column_details_list = (
        "name",
        "department",
        "place",
        "authority",
        "case_kind",
        "limit",
        "fee_standard_fen",
        "fee_basis",
        "materials",
        "steps",
        "responsible",
        "published",
    )
    column_searchable_list = ("name",)
    column_filters = ("place", "published")
    column_default_sort = "name"
    column_formatters = {
        "case_kind": _kind,
        "limit": _limit,
        "fee_standard_fen": _fee,
        "name": lambda v, c, m, n: _name_with_register_link(m),
    }
    column_formatters_detail = {
        "case_kind": _kind,
        "limit": _limit,
        "fee_standard_fen": _fee,
    }
    form_columns = (
        "name",
        "department_id",
        "place",
        "authority",
        "case_kind",
        "fee_basis",
        "materials",
        "steps",
        "responsible_id",
        "published",
    )
    scoped_fields = {"department_id": (_stations, True), "responsible_id": (_staff, True)}

    def scaffold_form(self):
        form_class = super().scaffold_form()
        form_class.place = place_select(_l("Where it is done"))
        form_class.fee_standard = fee_field()
        form_class.case_kind = SelectField(
            _l("Case kind (time limit)"),
            choices=lambda: [SelectChoice(c, lb) for c, lb in services.kind_choices()],
            validators=[InputRequired()],
        )
        return form_class

    def on_model_change(self, form, model, is_created):
        if model.township_id is None and getattr(form, "township_id", None) is not None:
            model.township_id = form.township_id.data
        self._same_township(model, "department_id", UnitKind.station)
        if model.responsible_id is not None and model.responsible_id not in {
            uid for uid, _n in _staff({model.township_id})
        }:
            raise FormValidationError(_("That choice belongs to another township."))
        fee = form.fee_standard.data
        if fee is not None and fee != fee.quantize(type(fee)("0.01")):
            raise FormValidationError(_("The fee has at most two decimals (fen)."))
        try:
            services.check_matter(model)
        except GuideError as exc:
            raise FormValidationError(str(exc)) from exc
        super().on_model_change(form, model, is_created)


class CountyScoped:
    """Rows of a county (``county_id``): the counties of the user's townships."""

    township_attr = "county_id"

    def township_ids(self, permission: str | None = None) -> set[int]:
        """Worked out once per request: the page asks several times (access, menu,
        rows, count)."""
        tids = super().township_ids(permission)  # type: ignore[misc]
        if not tids:
            return set()
        memo = g.setdefault("_admin_guide_county_ids", {})
        key = frozenset(tids)
        if key not in memo:
            memo[key] = frozenset(
                db.session.scalars(
                    select(OrgUnit.parent_id).where(
                        OrgUnit.id.in_(tids), OrgUnit.parent_id.is_not(None)
                    )
                )
            )
        return set(memo[key])


class ModelMatterView(CountyScoped, GuideModelView):
    """The county's model catalogue (示范事项目录) its townships adopt and adjust."""

    permission_write = MODEL
    column_list = ("name", "department_name", "place", "case_kind", "fee_standard_fen", "county")
    column_labels = {
        **MatterView.column_labels,
        "department_name": _l("Department"),
        "county": _l("County"),
        "county_id": _l("County"),
    }
    column_searchable_list = ("name",)
    column_filters = ("place",)
    column_formatters = {"case_kind": _kind, "fee_standard_fen": _fee}
    column_formatters_detail = {"case_kind": _kind, "fee_standard_fen": _fee}
    column_details_list = (
        "name",
        "department_name",
        "place",
        "authority",
        "case_kind",
        "fee_standard_fen",
        "fee_basis",
        "materials",
        "steps",
        "county",
    )
    form_columns = (
        "name",
        "department_name",
        "place",
        "authority",
        "case_kind",
        "fee_basis",
        "materials",
        "steps",
    )

    def scaffold_form(self):
        form_class = super().scaffold_form()
        if hasattr(form_class, "county"):
            delattr(form_class, "county")
        form_class.county_id = SelectField(_l("County"), coerce=int)
        form_class.place = place_select(_l("Where it is done"))
        form_class.fee_standard = fee_field()
        form_class.case_kind = SelectField(
            _l("Case kind (time limit)"),
            choices=lambda: [SelectChoice(c, lb) for c, lb in services.kind_choices()],
            validators=[InputRequired()],
        )
        return form_class

    def _offer_counties(self, form):
        form.county_id.choices = [
            SelectChoice(str(i), n) for i, n in township_choices(self.writable_township_ids())
        ]
        if form.county_id.data is None and len(form.county_id.choices) == 1:
            form.county_id.data = int(form.county_id.choices[0].value)
        return form

    def create_form(self, obj=None):
        return self._offer_counties(super().create_form(obj))

    def edit_form(self, obj=None):
        return self._offer_counties(super().edit_form(obj))


class HallView(GuideModelView):
    """The township's service hall: address, hours, phone (shown on its public page)."""

    column_list = ("address", "hours", "phone")
    column_labels = {
        "address": _l("Street address"),
        "hours": _l("Opening hours"),
        "phone": _l("Phone"),
        "note": _l("Note"),
        "township_id": _l("Township"),
    }
    form_columns = ("address", "hours", "phone", "note")

    def on_model_change(self, form, model, is_created):
        if model.township_id is None and getattr(form, "township_id", None) is not None:
            model.township_id = form.township_id.data
        model.phone = check_phone(model.phone, _("The phone"))
        if is_created and db.session.scalar(
            select(GuideServiceHall.id).where(GuideServiceHall.township_id == model.township_id)
        ):
            raise FormValidationError(
                _("The township's service hall is already recorded; edit it.")
            )
        super().on_model_change(form, model, is_created)


class RoomView(GuideModelView):
    """Each village's service room and its contact person (村级代办员)."""

    column_list = ("village", "address", "hours", "phone", "agent_name", "agent_phone")
    column_labels = {
        "village": _l("Village"),
        "village_id": _l("Village"),
        "address": _l("Street address"),
        "hours": _l("Opening hours"),
        "phone": _l("Phone of the room"),
        "agent_name": _l("Village contact (代办员)"),
        "agent_phone": _l("Contact's phone"),
        "township_id": _l("Township"),
    }
    form_columns = ("village_id", "address", "hours", "phone", "agent_name", "agent_phone")
    scoped_fields = {"village_id": (_villages, False)}

    def on_model_change(self, form, model, is_created):
        if model.township_id is None and getattr(form, "township_id", None) is not None:
            model.township_id = form.township_id.data
        self._same_township(model, "village_id", UnitKind.village)
        model.phone = check_phone(model.phone, _("The phone of the room"), required=False)
        model.agent_phone = check_phone(model.agent_phone, _("The contact's phone"))
        other = db.session.scalar(
            select(GuideServiceRoom.id).where(
                GuideServiceRoom.village_id == model.village_id,
                GuideServiceRoom.id != (model.id or 0),
            )
        )
        if other:
            raise FormValidationError(_("This village's service room is already recorded."))
        super().on_model_change(form, model, is_created)


def _receipt_link(view, context, model, name):
    return Markup('<a href="{}">{}</a>').format(
        url_for("admin_cases.details_view", id=model.case_id), model.case.receipt_no
    )


class CaseMatterView(GuideModelView):
    """Cases registered from the guide, with the reason a village matter came to the township."""

    allow_create = allow_edit = allow_delete = False
    permission_write = None
    column_list = ("case", "matter", "place", "fee_standard_fen", "village_reason", "created_at")
    column_labels = {
        "case": _l("Receipt number"),
        "matter": _l("Matter"),
        "place": _l("Where it is done"),
        "fee_standard_fen": _l("Fee standard"),
        "village_reason": _l("Why accepted at the township"),
        "created_at": _l("Registered at"),
    }
    column_formatters = {
        "case": _receipt_link,
        "fee_standard_fen": _fee,
        "place": lambda v, c, m, n: Place(m.matter.place).label,
    }
    column_default_sort = ("created_at", True)


class FeeView(GuideModelView):
    """Fees charged on cases (never above the matter's standard)."""

    allow_create = allow_edit = allow_delete = False
    permission_write = None
    column_list = ("charged_on", "case", "matter", "amount_fen", "bill_no", "charged_by")
    column_labels = {
        "charged_on": _l("Charged on"),
        "case": _l("Receipt number"),
        "matter": _l("Matter"),
        "amount_fen": _l("Fee amount"),
        "bill_no": _l("Bill number"),
        "charged_by": _l("Charged by"),
    }
    column_formatters = {"case": _receipt_link, "amount_fen": _amount}
    column_filters = ("charged_on",)
    column_default_sort = ("charged_on", True)


# ---------------------------------------------------------------------------
# Pages
# ---------------------------------------------------------------------------


class GuidePage(TownshipBaseView):
    plugin_key = "guide"
    permission_read = READ


class AdoptView(GuidePage):
    """Adopt matters of the county's model catalogue into the township's guide."""

    permission_read = WRITE

    @expose("/", methods=("GET", "POST"))
    def index(self):
        township = self.chosen_township(WRITE)
        if request.method == "POST":
            ids = [int(v) for v in request.form.getlist("model") if v.isascii() and v.isdigit()]
            try:
                created = services.adopt_models(township, ids)
            except GuideError as exc:
                flash(str(exc), "danger")
            else:
                flash(
                    _("%(n)s matters adopted; adjust them in the catalogue.", n=len(created)),
                    "success",
                )
                return redirect(url_for(".index", township=township.id), 303)
        return self.render(
            "guide/admin/adopt.html",
            township=township,
            townships=township_choices(self.township_ids(WRITE)),
            models=services.models_to_adopt(township),
            kind_label=services.kind_label,
            yuan=yuan,
        )


class RegisterView(GuidePage):
    """Register (and accept) a case from a matter: kind, limit, department, fee from it."""

    permission_read = REGISTER

    def _matters(self, township):
        return db.session.scalars(
            select(GuideMatter)
            .where(GuideMatter.township_id == township.id, GuideMatter.published.is_(True))
            .order_by(GuideMatter.name)
        ).all()

    @expose("/", methods=("GET", "POST"))
    def index(self):
        township = self.chosen_township(REGISTER)
        matters = self._matters(township)
        chosen = request.values.get("matter", type=int)
        matter = next((m for m in matters if m.id == chosen), None)
        if chosen is not None and matter is None:
            abort(404)
        error = None
        if request.method == "POST":
            if matter is None:
                error = _("Choose a matter.")
            else:
                try:
                    case = services.register_from_matter(
                        matter,
                        clerk=current_user._get_current_object(),
                        applicant_name=request.form.get("applicant_name", ""),
                        title=request.form.get("title", ""),
                        description=request.form.get("description", ""),
                        fee=request.form.get("fee", ""),
                        bill_no=request.form.get("bill_no", ""),
                        village_reason=request.form.get("village_reason", ""),
                    )
                except GuideError as exc:
                    error = str(exc)
                else:
                    flash(
                        _(
                            "Case %(no)s registered and accepted; due %(due)s.",
                            no=case.receipt_no,
                            due=case.due_on,
                        ),
                        "success",
                    )
                    return redirect(url_for("admin_cases.details_view", id=case.id), 303)
        return (
            self.render(
                "guide/admin/register.html",
                township=township,
                townships=township_choices(self.township_ids(REGISTER)),
                matters=matters,
                matter=matter,
                error=error,
                form=request.form,
                limit_text=services.limit_text,
                kind_label=services.kind_label,
                yuan=yuan,
            ),
            400 if error else 200,
        )

    @expose("/fee", methods=("GET", "POST"))
    def fee(self):
        """Record a fee charged on a case registered from a matter (found by receipt number)."""
        township = self.chosen_township(REGISTER)
        receipt = (request.values.get("receipt") or "").strip().upper()
        case = None
        link = None
        error = None
        if receipt:
            case = db.session.scalar(
                select(Case).where(Case.receipt_no == receipt, Case.township_id == township.id)
            )
            link = services.link_of(case.id) if case else None
            if case is None:
                error = _("No case of this township has this receipt number.")
        if request.method == "POST" and case is not None and error is None:
            try:
                raw_day = request.form.get("charged_on") or ""
                day = date.fromisoformat(raw_day) if raw_day else None
            except ValueError:
                error = _("Give the date as YYYY-MM-DD.")
            else:
                try:
                    services.charge_fee(
                        case,
                        by=current_user._get_current_object(),
                        amount=request.form.get("amount"),
                        charged_on=day,
                        bill_no=request.form.get("bill_no", ""),
                    )
                except GuideError as exc:
                    error = str(exc)
                else:
                    flash(_("Fee recorded."), "success")
                    return redirect(url_for("guide_fees.index_view"), 303)
        fees = (
            db.session.scalars(select(GuideFee).where(GuideFee.case_id == case.id)).all()
            if case is not None
            else []
        )
        return (
            self.render(
                "guide/admin/fee.html",
                township=township,
                receipt=receipt,
                case=case,
                link=link,
                fees=fees,
                error=error,
                form=request.form,
                yuan=yuan,
                today=clock.today(township),
            ),
            400 if error else 200,
        )


def _period(township_id: int):
    raw = request.args.get("month", "")
    whole_year = request.args.get("period") == "year"
    try:
        year, month = services.month_of(raw, township_id)
    except GuideError as exc:
        abort(400, str(exc))
    return year, (None if whole_year else month), f"{year:04d}-{month:02d}"


class OnTimeView(GuidePage):
    """Cases finished within their limit per matter and department, per month (or year)."""

    @expose("/")
    def index(self):
        township = self.chosen_township(READ)
        year, month, month_value = _period(township.id)
        report = services.on_time_report(township.id, year, month)
        return self.render(
            "guide/admin/ontime.html",
            township=township,
            townships=township_choices(self.township_ids(READ)),
            report=report,
            month_value=month_value,
            whole_year=month is None,
        )

    @expose("/export")
    def export(self):
        township = self.chosen_township(READ)
        year, month, _value = _period(township.id)
        report = services.on_time_report(township.id, year, month)
        return Response(
            exports.on_time_xlsx(report),
            mimetype=exports.XLSX_MIMETYPE,
            headers={
                "Content-Disposition": (
                    f'attachment; filename="on-time-{township.code}-{report.period}.xlsx"'
                )
            },
        )


class FeeReportView(GuidePage):
    """Fees charged per matter in a month."""

    @expose("/")
    def index(self):
        township = self.chosen_township(READ)
        year, _m, month_value = _period(township.id)
        month = int(month_value[5:])
        rows, total = services.fee_report(township.id, year, month)
        return self.render(
            "guide/admin/fees.html",
            township=township,
            townships=township_choices(self.township_ids(READ)),
            rows=rows,
            total=total,
            month_value=month_value,
        )

    @expose("/export")
    def export(self):
        township = self.chosen_township(READ)
        year, _m, month_value = _period(township.id)
        rows, total = services.fee_report(township.id, year, int(month_value[5:]))
        return Response(
            exports.fees_xlsx(month_value, rows, total),
            mimetype=exports.XLSX_MIMETYPE,
            headers={
                "Content-Disposition": (
                    f'attachment; filename="fees-{township.code}-{month_value}.xlsx"'
                )
            },
        )


def admin_views() -> list:
    from core.contract import AdminView

    return [
        AdminView(MatterView(GuideMatter, name=_l("Service guide"), endpoint="guide_matters")),
        AdminView(RegisterView(name=_l("Register from the guide"), endpoint="guide_register")),
        AdminView(OnTimeView(name=_l("On-time rate"), endpoint="guide_ontime")),
        AdminView(FeeReportView(name=_l("Monthly fee report"), endpoint="guide_fee_report")),
        AdminView(FeeView(GuideFee, name=_l("Fees charged"), endpoint="guide_fees")),
        AdminView(
            CaseMatterView(GuideCaseMatter, name=_l("Cases from the guide"), endpoint="guide_cases")
        ),
        AdminView(HallView(GuideServiceHall, name=_l("Service hall"), endpoint="guide_hall")),
        AdminView(
            RoomView(GuideServiceRoom, name=_l("Village service rooms"), endpoint="guide_rooms")
        ),
        AdminView(
            ModelMatterView(
                GuideModelMatter, name=_l("County model catalogue"), endpoint="guide_models"
            )
        ),
        AdminView(AdoptView(name=_l("Adopt model matters"), endpoint="guide_adopt")),
    ]


def county_dashboard_figures(townships: list[OrgUnit]) -> dict[int, list]:
    """Each township's on-time rate and fees of its own month (at most five queries for all)."""
    from core.contract import DashboardFigure

    months = {}
    for township in townships:
        today = clock.today(township)
        months[township.id] = (today.year, today.month)
    reports = services.on_time_reports(months)
    fees = services.fee_reports(months)
    figures: dict[int, list] = {}
    for township in townships:
        total = reports[township.id].total
        rate = total.rate
        figures[township.id] = [
            DashboardFigure(
                label=_(
                    "Guide: finished on time this month (%(n)s of %(m)s)",
                    n=total.on_time,
                    m=total.finished,
                ),
                value="–" if rate is None else f"{rate:g}%",
                link=url_for("guide_ontime.index", township=township.id),
                level="info" if rate is None else ("success" if rate >= 95 else "warning"),
            ),
            DashboardFigure(
                label=_("Guide: fees charged this month (yuan)"),
                value=str(fees[township.id][1]),
                link=url_for("guide_fee_report.index", township=township.id),
            ),
        ]
    return figures


__all__ = ["admin_views", "county_dashboard_figures", "escape", "to_fen"]
