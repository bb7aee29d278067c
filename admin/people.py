"""The people register (人员名册): citizens, party members, observers ... of a township.

ID numbers and phones are masked in lists and details unless the viewer may read
them in the row's township (``people.read_sensitive``); such a viewer's edit form
leaves them out, so a masked value is never shown nor overwritten.
"""

from __future__ import annotations

from typing import Any

from flask import g
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from wtforms import SelectField, ValidationError
from wtforms.fields.choices import SelectChoice

from admin.views import TownshipModelView
from core.access import can, mask_id_number, mask_phone, township_ids_with
from core.db import db
from core.models import OrgUnit, Person, PersonCategory, UnitKind

SENSITIVE = "people.read_sensitive"

CATEGORY_LABELS = {
    PersonCategory.citizen: _l("Citizen"),
    PersonCategory.party_member: _l("Party member"),
    PersonCategory.cadre: _l("Cadre"),
    PersonCategory.observer: _l("Observer"),
    PersonCategory.deputy: _l("Deputy"),
    PersonCategory.retired_cadre: _l("Retired cadre"),
}


def _optional_id(value) -> int | None:
    if value in (None, "", "None"):
        return None
    return int(value)


def _category_formatter(view, context, model, name):
    return CATEGORY_LABELS.get(model.category, model.category)


def _sensitive_townships() -> frozenset[int]:
    """Townships where the user reads ID numbers and phones in full (once per request:
    a list asks on every row)."""
    found = g.get("_admin_people_sensitive")
    if found is None:
        found = g._admin_people_sensitive = frozenset(township_ids_with(current_user, SENSITIVE))
    return found


def _masked(mask):
    def formatter(view, context, model, name):
        value = getattr(model, name)
        if model.township_id in _sensitive_townships():
            return value
        return mask(value)

    return formatter


class PersonView(TownshipModelView):
    permission_read = "people.read"
    permission_write = "people.write"
    column_list = ("name", "category", "village", "id_number", "phone", "township")
    column_details_list = (
        "name",
        "category",
        "township",
        "village",
        "id_number",
        "phone",
        "address",
        "note",
        "created_at",
    )
    column_labels = {
        "name": _l("Name"),
        "category": _l("Category"),
        "village": _l("Village"),
        "id_number": _l("ID number"),
        "phone": _l("Phone"),
        "township": _l("Township"),
        "address": _l("Address"),
        "note": _l("Note"),
        "created_at": _l("Registered at"),
    }
    column_searchable_list = ("name",)
    column_filters = ("category",)
    column_sortable_list = ("name", "category", "created_at")
    column_default_sort = ("name", False)
    column_formatters = {
        "id_number": _masked(mask_id_number),
        "phone": _masked(mask_phone),
        "category": _category_formatter,
    }
    form_columns = ("name", "category", "id_number", "phone", "address", "note")

    def __init__(self, **kwargs: Any):
        kwargs.setdefault("name", _l("People"))
        kwargs.setdefault("endpoint", "admin_people")
        super().__init__(Person, **kwargs)

    def _village_choices(self) -> list[SelectChoice]:
        rows = db.session.execute(
            select(OrgUnit.id, OrgUnit.name)
            .where(
                OrgUnit.kind == UnitKind.village,
                OrgUnit.township_id.in_(self.writable_township_ids()),
            )
            .order_by(OrgUnit.name)
        )
        return [SelectChoice("", "–")] + [SelectChoice(str(r.id), r.name) for r in rows]

    def scaffold_form(self):
        form_class = super().scaffold_form()
        form_class.category = SelectField(
            _l("Category"),
            coerce=PersonCategory,
            choices=[SelectChoice(c.value, CATEGORY_LABELS[c]) for c in PersonCategory],
            default=PersonCategory.citizen,
        )
        form_class.village_id = SelectField(_l("Village"), coerce=_optional_id)
        return form_class

    def _limit_villages(self, form):
        form.village_id.choices = self._village_choices()
        return form

    def create_form(self, obj=None):
        return self._limit_villages(super().create_form(obj))

    def edit_form(self, obj=None):
        form = self._limit_villages(super().edit_form(obj))
        if obj is not None and not can(current_user, SENSITIVE, obj.township_id):
            del form.id_number
            del form.phone
        return form

    def on_model_change(self, form, model, is_created):
        village = db.session.get(OrgUnit, model.village_id) if model.village_id else None
        if village is not None and (
            village.kind != UnitKind.village or village.township_id != model.township_id
        ):
            raise ValidationError(
                str(
                    _l(
                        "The village %(village)s is not in this person's township.",
                        village=village.name,
                    )
                )
            )
        super().on_model_change(form, model, is_created)
