"""Staff users and their role memberships.

A township administrator manages the users who hold a role in their township (or
its villages and stations); a county administrator manages every user of the
county. Nobody grants a role outside the units they manage, and only someone who
manages a county grants a county-level role there.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_admin.contrib.sqla import ModelView
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import exists, or_, select
from wtforms import PasswordField, SelectField, ValidationError

from admin.audit import record_audit, snapshot
from admin.views import SecureForm, SecureViewMixin
from core.access import clear_cache, township_ids_with
from core.auth import hash_password, validate_new_password
from core.db import db
from core.models import Membership, OrgUnit, UnitKind, User
from core.plugins import state

MANAGE = "users.manage"


def managed_county_ids(user: User) -> set[int]:
    """County units where ``user`` holds a county-level role that manages users."""
    roles = state().roles
    return {
        m.org_unit_id
        for m in user.memberships
        if m.org_unit.kind == UnitKind.county
        and (role := roles.get(m.role)) is not None
        and role.county_level
        and MANAGE in role.permissions
    }


def manageable_units_clause(user: User):
    """An SQL condition on :class:`OrgUnit`: the units ``user`` may grant roles in."""
    townships = township_ids_with(user, MANAGE)
    counties = managed_county_ids(user)
    return or_(OrgUnit.township_id.in_(townships), OrgUnit.id.in_(counties))


def manageable_units(user: User) -> list[OrgUnit]:
    return list(
        db.session.scalars(
            select(OrgUnit)
            .where(manageable_units_clause(user))
            .order_by(OrgUnit.township_id, OrgUnit.kind, OrgUnit.name)
        )
    )


def unit_label(unit: OrgUnit) -> str:
    if unit.kind in (UnitKind.village, UnitKind.station) and unit.parent is not None:
        return f"{unit.parent.name} / {unit.name}"
    return unit.name


def check_grant(granter: User, role_code: str, unit: OrgUnit | None) -> None:
    """Raise ValueError with a clear message unless ``granter`` may give this role here."""
    role = state().roles.get(role_code)
    if role is None:
        raise ValueError(_("Unknown role."))
    if unit is None:
        raise ValueError(_("Choose an org unit."))
    if role.county_level:
        if unit.kind != UnitKind.county or unit.id not in managed_county_ids(granter):
            raise ValueError(_("Only a county administrator grants county roles, in the county."))
        return
    if unit.kind == UnitKind.county:
        raise ValueError(_("This role is held in a township, a village or a station."))
    if unit.township_id not in township_ids_with(granter, MANAGE):
        raise ValueError(_("You may not grant roles in %(unit)s.", unit=unit.name))


class NoPopulate:
    """A form field the view reads itself (``populate_obj`` leaves the model alone)."""

    def populate_obj(self, obj: Any, name: str) -> None:
        return None


class PasswordInput(NoPopulate, PasswordField):
    pass


class ChoiceInput(NoPopulate, SelectField):
    pass


def _roles_formatter(view, context, model, name):
    from flask import current_app

    label = current_app.jinja_env.globals["label"]
    roles = state().roles
    parts = [
        f"{label(roles[m.role]) if m.role in roles else m.role} @ {m.org_unit.name}"
        for m in model.memberships
    ]
    return Markup("<br>").join(parts)


class UserView(SecureViewMixin, ModelView):
    permission_read = MANAGE
    form_base_class = SecureForm
    can_delete = False
    can_view_details = True
    page_size = 20
    column_list = ("username", "name", "email", "active", "memberships")
    column_details_list = ("username", "name", "email", "phone", "active", "memberships")
    column_labels = {
        "username": _l("User name"),
        "name": _l("Name"),
        "email": _l("E-mail"),
        "phone": _l("Phone"),
        "active": _l("Active"),
        "memberships": _l("Roles"),
    }
    column_searchable_list = ("username", "name")
    column_sortable_list = ("username", "name")
    column_formatters = {"memberships": _roles_formatter}
    form_columns = ("username", "name", "email", "phone", "active")
    details_template = "admin/township/user_details.html"

    def __init__(self, **kwargs: Any):
        kwargs.setdefault("name", _l("Users"))
        kwargs.setdefault("endpoint", "admin_users")
        super().__init__(User, db, **kwargs)

    # -- scope --------------------------------------------------------------
    def _in_scope(self):
        return exists().where(
            Membership.user_id == User.id,
            Membership.org_unit_id.in_(
                select(OrgUnit.id).where(manageable_units_clause(current_user))
            ),
        )

    def get_query(self):
        return super().get_query().filter(self._in_scope())

    def get_count_query(self):
        return super().get_count_query().filter(self._in_scope())

    def get_one(self, id):
        if not str(id).isdecimal():
            abort(404)
        user = db.session.scalar(select(User).where(User.id == int(id), self._in_scope()))
        if user is None:
            abort(404)
        return user

    # -- forms ----------------------------------------------------------------
    def scaffold_form(self):
        form_class = super().scaffold_form()
        form_class.password = PasswordInput(_l("Password"))
        form_class.role = ChoiceInput(_l("Role"))
        form_class.org_unit_id = ChoiceInput(_l("Org unit"), coerce=int)
        return form_class

    def _role_choices(self) -> list[tuple[str, str]]:
        from flask import current_app

        label = current_app.jinja_env.globals["label"]
        return [(code, label(role)) for code, role in state().roles.items()]

    def create_form(self, obj=None):
        form = super().create_form(obj)
        form.role.choices = self._role_choices()
        form.org_unit_id.choices = [(u.id, unit_label(u)) for u in manageable_units(current_user)]
        return form

    def edit_form(self, obj=None):
        form = super().edit_form(obj)
        del form.role
        del form.org_unit_id
        return form

    def on_model_change(self, form, model, is_created):
        with db.session.no_autoflush:
            self._check_and_fill(form, model, is_created)

    def _check_and_fill(self, form, model, is_created) -> None:
        model.username = (model.username or "").strip()
        if not model.username or not (model.name or "").strip():
            raise ValidationError(_("A user needs a user name and a name."))
        taken = db.session.scalar(
            select(User.id).where(User.username == model.username, User.id != (model.id or -1))
        )
        if taken:
            raise ValidationError(_("The user name %(name)s is taken.", name=model.username))
        password = form.password.data or ""
        if is_created or password:
            try:
                validate_new_password(password)
            except ValueError as exc:
                raise ValidationError(str(exc)) from exc
            model.password_hash = hash_password(password)
        if is_created:
            unit = db.session.get(OrgUnit, form.org_unit_id.data or 0)
            try:
                check_grant(current_user, form.role.data, unit)
            except ValueError as exc:
                raise ValidationError(str(exc)) from exc
            db.session.flush()
            db.session.add(Membership(user_id=model.id, org_unit_id=unit.id, role=form.role.data))
            record_audit(
                "create", "User", model.id, township_id=unit.township_id, after=snapshot(model)
            )
        else:
            outside = [m for m in model.memberships if not self._may_manage(m)]
            if outside:
                raise ValidationError(
                    _("This user also works for units you do not manage; ask the county.")
                )
            from admin.audit import changes

            before, after = changes(model)
            if password:
                after["password"] = "changed"
            if after:
                record_audit("update", "User", model.id, before=before, after=after)

    def _may_manage(self, membership: Membership) -> bool:
        unit = membership.org_unit
        if unit.kind == UnitKind.county:
            return unit.id in managed_county_ids(current_user)
        return unit.township_id in township_ids_with(current_user, MANAGE)

    # -- memberships ------------------------------------------------------------
    @expose("/details/")
    def details_view(self):
        return self._details(self.get_one(request.args.get("id", type=int) or 0))

    def _details(self, user: User):
        return self.render(
            self.details_template,
            model=user,
            memberships=user.memberships,
            may_manage={m.id: self._may_manage(m) for m in user.memberships},
            roles=state().roles,
            role_choices=self._role_choices(),
            units=[(u.id, unit_label(u)) for u in manageable_units(current_user)],
            return_url=url_for(".index_view"),
        )

    @expose("/memberships/<int:user_id>/", methods=("POST",))
    def memberships_view(self, user_id: int):
        """Add (``role``, ``org_unit_id``) or remove (``remove``) one membership."""
        user = self.get_one(user_id)
        back = redirect(url_for(".details_view", id=user.id), 303)
        remove = request.form.get("remove", type=int)
        if remove is not None:
            membership = db.session.get(Membership, remove)
            if membership is None or membership.user_id != user.id:
                abort(404)
            if not self._may_manage(membership):
                abort(403)
            record_audit(
                "delete",
                "Membership",
                membership.id,
                township_id=membership.org_unit.township_id,
                before=snapshot(membership),
            )
            db.session.delete(membership)
            db.session.commit()
            clear_cache()
            flash(_("The role was removed."), "success")
            return back
        role = request.form.get("role", "")
        unit = db.session.get(OrgUnit, request.form.get("org_unit_id", type=int) or 0)
        try:
            check_grant(current_user, role, unit)
        except ValueError as exc:
            flash(str(exc), "danger")
            return self._details(user), 400
        duplicate = db.session.scalar(
            select(Membership.id).where(
                Membership.user_id == user.id,
                Membership.org_unit_id == unit.id,
                Membership.role == role,
            )
        )
        if duplicate:
            flash(_("The user already has this role there."), "info")
            return back
        membership = Membership(user_id=user.id, org_unit_id=unit.id, role=role)
        db.session.add(membership)
        db.session.flush()
        record_audit(
            "create",
            "Membership",
            membership.id,
            township_id=unit.township_id,
            after=snapshot(membership),
        )
        db.session.commit()
        clear_cache()
        flash(_("The role was granted."), "success")
        return back
