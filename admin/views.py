"""Base views of the admin site: secured, CSRF-protected, scoped to the user's townships.

Every model view of the core and of plugins derives from :class:`TownshipModelView`:

* only signed-in staff with ``admin.access`` see it; anonymous users go to the
  sign-in page, others get 404 (the view "does not exist" for them);
* a plugin's view (``plugin_key``) exists only for users of a township that
  enabled the plugin; rows of townships that did not enable it are invisible;
* lists show rows of the user's townships only; reading, editing or deleting a
  row of another township answers 404; creating sets the township (or offers a
  choice among the user's townships) and refuses any other;
* every create, update and delete writes an :class:`~core.models.AuditEvent`
  with the changed simple columns before and after.
"""

from __future__ import annotations

from typing import Any

from flask import abort, g, redirect, request, url_for
from flask_admin import BaseView
from flask_admin.actions import action
from flask_admin.babel import lazy_gettext as admin_lazy_gettext
from flask_admin.contrib.sqla import ModelView
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import false, select
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.exc import StatementError
from wtforms import SelectField, ValidationError

from admin.audit import changes, record_audit, snapshot
from admin.formatting import (
    COMMON_LABELS,
    DISPLAYED,
    TYPE_FORMATTERS,
    LabelledFilterConverter,
    LabelledModelConverter,
)
from core.access import township_ids_with, visible_township_ids
from core.db import db
from core.institutions import townships_enabling
from core.models import OrgUnit
from core.plugins import CORE_KEY


def enabling_townships(key: str) -> set[int]:
    """Townships that enabled plugin ``key``, cached for the request (menus ask often)."""
    cache = g.setdefault("_admin_enabling", {})
    if key not in cache:
        cache[key] = townships_enabling(key)
    return set(cache[key])


def forget_enabling() -> None:
    """Drop the request cache after the switchboard changed a setting."""
    g.pop("_admin_enabling", None)
    g.pop("_township_enabled", None)


def township_choices(ids: set[int]) -> list[tuple[int, str]]:
    """(id, name) of the given townships, by name, in one query."""
    if not ids:
        return []
    rows = db.session.execute(
        select(OrgUnit.id, OrgUnit.name).where(OrgUnit.id.in_(ids)).order_by(OrgUnit.name)
    )
    return [(row.id, row.name) for row in rows]


class SecureForm(FlaskForm):
    """Flask-WTF's form: CSRF on every admin form (see STACK-NOTES)."""


class SecureViewMixin:
    """Access rules shared by model views and plain views."""

    #: the plugin a view belongs to; ``core`` views exist for every township
    plugin_key: str = CORE_KEY
    #: permission needed to see the view at all
    permission_read: str = "admin.access"
    #: permission needed to create, edit or delete
    permission_write: str | None = None

    def township_ids(self, permission: str | None = None) -> set[int]:
        """Townships whose rows this user may see here (or act on, with ``permission``)."""
        ids = (
            township_ids_with(current_user, permission)
            if permission
            else visible_township_ids(current_user)
        )
        if self.plugin_key != CORE_KEY:
            ids &= enabling_townships(self.plugin_key)
        return ids

    def is_accessible(self) -> bool:
        if not current_user.is_authenticated:
            return False
        return bool(self.township_ids(self.permission_read))

    def is_visible(self) -> bool:
        return self.is_accessible()

    def inaccessible_callback(self, name, **kwargs):
        if not current_user.is_authenticated:
            return redirect(url_for("auth.login", next=request.full_path))
        abort(404)


class TownshipModelView(SecureViewMixin, ModelView):
    """A model view over rows that carry ``township_id``."""

    form_base_class = SecureForm
    page_size = 20
    can_set_page_size = True
    page_size_options = (20, 50, 100)
    can_view_details = True
    #: the column naming the row's township
    township_attr = "township_id"
    form_excluded_columns: tuple[str, ...] = ("created_at", "updated_at")
    # enums in words, booleans as 是/否, times in the township's zone (admin.formatting)
    model_form_converter = LabelledModelConverter
    filter_converter = LabelledFilterConverter()
    column_type_formatters = TYPE_FORMATTERS
    column_type_formatters_detail = TYPE_FORMATTERS
    column_type_formatters_export = TYPE_FORMATTERS

    def __init__(self, model, session=None, **kwargs: Any):
        # shared names (township, created at ...) in words unless the view says otherwise
        self.column_labels = {**COMMON_LABELS, **(self.column_labels or {})}
        super().__init__(model, session or db, **kwargs)

    def _get_list_value(self, context, model, name, column_formatters, column_type_formatters):
        """Values no column formatter owns, shown in words (a time in the row's township's zone)."""
        if name not in column_formatters and not self._column_choices_map.get(name):
            value = self._get_field_value(model, name)
            if isinstance(value, DISPLAYED):
                from core.labels import display

                return display(value, getattr(model, self.township_attr, None))
        return super()._get_list_value(
            context, model, name, column_formatters, column_type_formatters
        )

    # -- the township field -------------------------------------------------
    def scaffold_form(self):
        """The model's form, with the township as a choice among the user's townships.

        A relationship field named ``township`` (a choice among *every* org unit)
        is removed; a ``township_id`` select takes its place, its choices set per
        request, so a township the user may not write to is "not a valid choice".
        """
        form_class = super().scaffold_form()
        if hasattr(form_class, "township"):
            delattr(form_class, "township")
        if self.township_attr == "township_id" and not hasattr(form_class, "township_id"):
            form_class.township_id = SelectField(_l("Township"), coerce=int)
        return form_class

    def _offer_townships(self, form):
        field = getattr(form, "township_id", None)
        if field is not None and isinstance(field, SelectField):
            field.choices = township_choices(self.writable_township_ids())
            if field.data is None and len(field.choices) == 1:
                field.data = field.choices[0][0]
        return form

    def create_form(self, obj=None):
        return self._offer_townships(super().create_form(obj))

    def edit_form(self, obj=None):
        return self._offer_townships(super().edit_form(obj))

    # -- permissions ------------------------------------------------------
    #: what the view offers at all; users also need ``permission_write`` in a township
    allow_create = True
    allow_edit = True
    allow_delete = True

    def _may_write(self) -> bool:
        return self.permission_write is not None and bool(self.township_ids(self.permission_write))

    @property
    def can_create(self) -> bool:  # type: ignore[override]
        return self.allow_create and self._may_write()

    @property
    def can_edit(self) -> bool:  # type: ignore[override]
        return self.allow_edit and self._may_write()

    @property
    def can_delete(self) -> bool:  # type: ignore[override]
        return self.allow_delete and self._may_write()

    # -- scoping ----------------------------------------------------------
    def _scope(self, query):
        column = getattr(self.model, self.township_attr)
        ids = self.township_ids(self.permission_read)
        return query.filter(column.in_(ids) if ids else false())

    def get_query(self):
        return self._scope(super().get_query())

    def get_count_query(self):
        return self._scope(super().get_count_query())

    def get_one(self, id):
        try:
            obj = super().get_one(id)
        except (StatementError, ValueError, TypeError):
            db.session.rollback()  # e.g. "abc" for an integer key on PostgreSQL
            abort(404)
        if obj is None or getattr(obj, self.township_attr) not in self.township_ids(
            self.permission_read
        ):
            abort(404)
        return obj

    def writable_township_ids(self) -> set[int]:
        return self.township_ids(self.permission_write) if self.permission_write else set()

    def on_model_change(self, form, model, is_created):
        allowed = self.writable_township_ids()
        current = getattr(model, self.township_attr, None)
        if current is None and len(allowed) == 1:
            setattr(model, self.township_attr, next(iter(allowed)))
            current = next(iter(allowed))
        if current not in allowed:
            raise ValidationError(_l("You may not add or change rows of that township."))
        if not is_created:
            history = sa_inspect(model).attrs[self.township_attr].history
            if history.deleted and history.deleted[0] not in allowed:
                raise ValidationError(_l("You may not add or change rows of that township."))
        super().on_model_change(form, model, is_created)
        self.audit_change(model, is_created)

    def audit_change(self, model, is_created: bool) -> None:
        """Write the audit row of a create or update (in the same transaction)."""
        if is_created:
            db.session.flush()
            before, after = None, snapshot(model)
        else:
            before, after = changes(model)
            if not after:
                return
        record_audit(
            "create" if is_created else "update",
            self.model.__name__,
            self.get_pk_value(model),
            township_id=getattr(model, self.township_attr, None),
            before=before,
            after=after,
        )

    @action(
        "delete",
        admin_lazy_gettext("Delete"),
        admin_lazy_gettext("Are you sure you want to delete selected records?"),
    )
    def action_delete(self, ids):
        """Bulk delete: flask-admin hands the ids over as text, which PostgreSQL will not
        compare with an integer key (a 500, and the rows stayed); typed first."""
        return super().action_delete(self.typed_ids(ids))

    def typed_ids(self, ids) -> list:
        """The selected row ids as the primary key's type (unreadable ones dropped)."""
        try:
            integer = sa_inspect(self.model).primary_key[0].type.python_type is int
        except NotImplementedError:
            integer = False
        if not integer:
            return list(ids)
        return [int(i) for i in ids if str(i).isascii() and str(i).isdigit() and len(str(i)) < 10]

    def on_model_delete(self, model):
        if getattr(model, self.township_attr) not in self.writable_township_ids():
            abort(404)
        super().on_model_delete(model)
        record_audit(
            "delete",
            self.model.__name__,
            self.get_pk_value(model),
            township_id=getattr(model, self.township_attr, None),
            before=snapshot(model),
        )


class TownshipBaseView(SecureViewMixin, BaseView):
    """A plain (non-model) admin page with the same access rules."""

    def chosen_township(self, permission: str | None = None) -> OrgUnit:
        """The township named by ``?township=<id>`` (default: the first allowed); 404 if not
        one the user may work on here."""
        allowed = self.township_ids(permission or self.permission_read)
        raw = request.values.get("township", type=int)
        if raw is None:
            choices = township_choices(allowed)
            if not choices:
                abort(404)
            raw = choices[0][0]
        if raw not in allowed:
            abort(404)
        unit = db.session.get(OrgUnit, raw)
        if unit is None:
            abort(404)
        return unit
