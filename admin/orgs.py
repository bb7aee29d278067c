"""Villages (村) and stations/offices (站办所) of a township.

Township administrators keep their own township's units; county administrators
those of every township of the county. Townships themselves are created by the
county operator with ``township units create`` (they are tenants: a new one
needs its code, time zone and first administrator).
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from wtforms import SelectField, StringField, ValidationError
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Regexp

from admin.views import TownshipModelView
from core.db import db
from core.models import Case, Membership, OrgUnit, Person, UnitKind

KIND_LABELS = {UnitKind.village: _l("Village"), UnitKind.station: _l("Station or office")}
CODE_RULE = r"^[a-z0-9][a-z0-9-]*$"


def _kind_formatter(view, context, model, name):
    return KIND_LABELS.get(model.kind, model.kind)


class UnitView(TownshipModelView):
    # staff who work with the register see villages and stations; a learner does not
    permission_read = "people.read"
    permission_write = "units.manage"
    can_view_details = False
    column_list = ("name", "kind", "code", "township")
    column_labels = {
        "name": _l("Unit name"),
        "kind": _l("Kind"),
        "code": _l("Code"),
        "township": _l("Township"),
    }
    column_formatters = {"kind": _kind_formatter}
    column_searchable_list = ("name", "code")
    column_sortable_list = ("name", "code")
    column_default_sort = ("name", False)
    form_columns = ("kind", "name", "code")

    def __init__(self, **kwargs: Any):
        kwargs.setdefault("name", _l("Villages and stations"))
        kwargs.setdefault("endpoint", "admin_units")
        super().__init__(OrgUnit, **kwargs)

    def scaffold_form(self):
        form_class = super().scaffold_form()
        form_class.kind = SelectField(
            _l("Kind"),
            coerce=UnitKind,
            choices=[SelectChoice(kind.value, label) for kind, label in KIND_LABELS.items()],
        )
        form_class.name = StringField(_l("Unit name"), validators=[DataRequired(), Length(max=120)])
        form_class.code = StringField(
            _l("Code"),
            description=_l("Short and unique, lower-case letters, digits and dashes."),
            validators=[
                DataRequired(),
                Length(max=64),
                Regexp(CODE_RULE, message=_l("Use lower-case letters, digits and dashes.")),
            ],
        )
        return form_class

    def _scope(self, query):
        return super()._scope(query).filter(OrgUnit.kind.in_(list(KIND_LABELS)))

    def get_one(self, id):
        unit = super().get_one(id)
        if unit.kind not in KIND_LABELS:
            from flask import abort

            abort(404)
        return unit

    def on_model_change(self, form, model, is_created):
        with db.session.no_autoflush:  # the new row itself must not be found
            query = select(OrgUnit.id).where(OrgUnit.code == model.code)
            if not is_created:
                query = query.where(OrgUnit.id != model.id)
            taken = db.session.scalar(query)
        if taken:
            raise ValidationError(_l("The code %(code)s is taken.", code=model.code))
        super().on_model_change(form, model, is_created)
        model.parent_id = model.township_id

    def on_model_delete(self, model):
        used = sum(
            db.session.scalar(select(func.count()).where(column == model.id)) or 0
            for column in (Person.village_id, Membership.org_unit_id, Case.department_id)
        )
        if used:
            raise ValidationError(
                _l("%(name)s is still used by people, staff roles or cases.", name=model.name)
            )
        super().on_model_delete(model)
