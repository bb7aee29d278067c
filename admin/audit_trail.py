"""The audit trail (read-only): who changed what through the admin, before and after."""

from __future__ import annotations

from typing import Any

from flask_admin.contrib.sqla.filters import FilterEqual
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import false, or_

from admin.audit import action_label, object_label, render_changes
from admin.views import TownshipModelView
from core.access import can
from core.db import db
from core.models import AuditEvent


def _json_formatter(view, context, model, name):
    return render_changes(model.object_type, getattr(model, name))


def _action(view, context, model, name):
    return action_label(model.action)


def _object(view, context, model, name):
    return object_label(model.object_type)


class _Codes:
    """Filter options read when the page renders: the codes in the trail, in words."""

    def __init__(self, column, words):
        self.column, self.words = column, words

    def __iter__(self):
        from sqlalchemy import select

        from core import cache

        def load() -> list[str]:
            return list(db.session.scalars(select(self.column).distinct().order_by(self.column)))

        # a new code shows in the filter within five minutes; the list stays lean
        codes = cache.memo(f"audit-codes:{self.column.key}", load, areas=(), timeout=300)
        return iter([(code, self.words(code)) for code in codes if code])

    def __bool__(self) -> bool:
        return True


class AuditView(TownshipModelView):
    """Rows of the user's townships; county-wide rows (jobs) for county administrators."""

    permission_read = "audit.read"
    can_create = False
    can_edit = False
    can_delete = False
    column_list = (
        "at",
        "user",
        "township",
        "action",
        "object_type",
        "object_id",
        "before",
        "after",
    )
    column_labels = {
        "at": _l("When"),
        "user": _l("Who"),
        "township": _l("Township"),
        "action": _l("Action"),
        "object_type": _l("Object"),
        "object_id": _l("Id"),
        "before": _l("Before"),
        "after": _l("After"),
    }
    column_default_sort = ("id", True)
    column_sortable_list = ("at", "action", "object_type")
    column_filters = (
        FilterEqual(
            AuditEvent.action, _l("Action"), options=_Codes(AuditEvent.action, action_label)
        ),
        FilterEqual(
            AuditEvent.object_type,
            _l("Object"),
            options=_Codes(AuditEvent.object_type, object_label),
        ),
    )
    column_formatters = {
        "before": _json_formatter,
        "after": _json_formatter,
        "action": _action,
        "object_type": _object,
    }
    column_formatters_detail = column_formatters

    def __init__(self, **kwargs: Any):
        kwargs.setdefault("name", _l("Audit trail"))
        kwargs.setdefault("endpoint", "admin_audit")
        super().__init__(AuditEvent, **kwargs)

    def _scope(self, query):
        ids = self.township_ids(self.permission_read)
        township_rows = AuditEvent.township_id.in_(ids) if ids else false()
        if can(current_user, "jobs.manage"):
            return query.filter(or_(township_rows, AuditEvent.township_id.is_(None)))
        return query.filter(township_rows)

    def get_one(self, id):
        from flask import abort

        obj = db.session.get(AuditEvent, int(id)) if str(id).isdecimal() else None
        if obj is None:
            abort(404)
        if obj.township_id is None:
            if not can(current_user, "jobs.manage"):
                abort(404)
        elif obj.township_id not in self.township_ids(self.permission_read):
            abort(404)
        return obj
