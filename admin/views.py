"""Base views of the admin site: secured, CSRF-protected, scoped to the user's townships.

Every model view of the core and of plugins derives from :class:`TownshipModelView`:

* only signed-in staff with ``admin.access`` see it; anonymous users go to the
  sign-in page, others get 404 (the view "does not exist" for them);
* a plugin's view (``plugin_key``) exists only for users of a township that
  enabled the plugin; rows of townships that did not enable it are invisible;
* lists show rows of the user's townships only; reading, editing or deleting a
  row of another township answers 404; creating sets the township (or offers a
  choice among the user's townships) and refuses any other.
"""

from __future__ import annotations

from typing import Any

from flask import abort, redirect, request, url_for
from flask_admin import BaseView
from flask_admin.contrib.sqla import ModelView
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import false
from wtforms import ValidationError

from core.access import township_ids_with, visible_township_ids
from core.db import db
from core.institutions import townships_enabling
from core.plugins import CORE_KEY


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
            ids &= townships_enabling(self.plugin_key)
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

    def __init__(self, model, session=None, **kwargs: Any):
        super().__init__(model, session or db.session, **kwargs)

    # -- permissions ------------------------------------------------------
    @property
    def can_create(self) -> bool:  # type: ignore[override]
        return self.permission_write is not None and bool(self.township_ids(self.permission_write))

    @property
    def can_edit(self) -> bool:  # type: ignore[override]
        return self.can_create

    @property
    def can_delete(self) -> bool:  # type: ignore[override]
        return self.can_create

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
        obj = super().get_one(id)
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
        super().on_model_change(form, model, is_created)

    def on_model_delete(self, model):
        if getattr(model, self.township_attr) not in self.writable_township_ids():
            abort(404)
        super().on_model_delete(model)


class TownshipBaseView(SecureViewMixin, BaseView):
    """A plain (non-model) admin page with the same access rules."""
