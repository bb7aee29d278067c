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

import re
import time
from dataclasses import dataclass
from enum import Enum
from typing import Any

from flask import abort, g, redirect, request, url_for
from flask_admin import BaseView, expose
from flask_admin.actions import action
from flask_admin.babel import lazy_gettext as admin_lazy_gettext
from flask_admin.contrib.sqla import ModelView
from flask_babel import LazyString, get_locale
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
    add_column_checks,
)
from core.access import township_ids_with, visible_township_ids
from core.db import db
from core.institutions import townships_enabling
from core.models import OrgUnit
from core.plugins import CORE_KEY

#: the lean list template (admin/templates/admin/township/list.html)
LEAN_LIST_TEMPLATE = "admin/township/list.html"
#: how long a process remembers that a list is past its count threshold (it then asks
#: the planner for an estimate without counting first)
BIG_COUNT_SECONDS = 600
#: how long a process shows the same "about N" of a big list without asking the planner
#: again (planner statistics move only with ANALYZE and the table's growth anyway)
ESTIMATE_SECONDS = 60
#: (view, townships, search, filters) -> until when (time.monotonic()) the list is "big"
_big_counts: dict[tuple, float] = {}
#: (the same key, the user) -> (until when, the planner's estimate) of a big list: some
#: lists also show the user's own rows, which the townships in the key do not tell
_estimates: dict[tuple, tuple[float, int]] = {}
#: (endpoint, site root, arguments) -> the address of a static file
_static_urls: dict[tuple, str] = {}


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
    g.pop("_township_view_ids", None)


def township_choices(ids: set[int]) -> list[tuple[int, str]]:
    """(id, name) of the given townships, by name: one query, then from core.cache until
    an org unit changes."""
    if not ids:
        return []
    from core import cache

    key = ",".join(map(str, sorted(ids)))

    def load() -> list[tuple[int, str]]:
        rows = db.session.execute(
            select(OrgUnit.id, OrgUnit.name).where(OrgUnit.id.in_(ids)).order_by(OrgUnit.name)
        )
        return [(row.id, row.name) for row in rows]

    return list(cache.memo(f"township-choices:{key}", load, areas=[(None, cache.UNITS)]))


_SPACES = re.compile(r"\s+")
_COMMENTS = re.compile(r"<!--.*?-->", re.S)


def cached_menu(render) -> str:
    """The admin menu as ``render()`` (flask-admin's ``layout.menu`` macro) draws it, kept
    per user, current view and language until roles, grants, units or institution
    switches change: drawing it asks every view whether the user may see it."""
    from flask import request
    from markupsafe import Markup

    from core import cache
    from core.app import current_locale

    if not current_user.is_authenticated:
        return render()
    key = f"admin-menu:{current_user.id}:{current_locale()}:{request.endpoint}"
    html = cache.memo(
        key,
        # the macro's indentation and comments were a quarter of a list page's bytes
        lambda: _SPACES.sub(" ", _COMMENTS.sub("", str(render()))).strip(),
        areas=[(None, cache.ACCESS), (None, cache.INSTITUTIONS), (None, cache.UNITS)],
    )
    return Markup(html)


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
        """Townships whose rows this user may see here (or act on, with ``permission``);
        worked out once per request (the menu asks every view)."""
        memo = g.setdefault("_township_view_ids", {})
        key = (self.plugin_key, permission)
        if key not in memo:
            ids = (
                township_ids_with(current_user, permission)
                if permission
                else visible_township_ids(current_user)
            )
            if self.plugin_key != CORE_KEY:
                ids &= enabling_townships(self.plugin_key)
            memo[key] = frozenset(ids)
        return set(memo[key])

    def is_accessible(self) -> bool:
        if not current_user.is_authenticated:
            return False
        return bool(self.township_ids(self.permission_read))

    def get_url(self, endpoint: str, **kwargs: Any) -> str:
        """flask-admin's ``get_url``; a static file's address (a page asks for twenty:
        scripts, styles) is worked out once per process and site root."""
        if not endpoint.endswith("static"):
            return super().get_url(endpoint, **kwargs)  # type: ignore[misc]
        key = (endpoint, request.script_root, tuple(sorted(kwargs.items())))
        url = _static_urls.get(key)
        if url is None:
            url = _static_urls[key] = super().get_url(endpoint, **kwargs)  # type: ignore[misc]
        return url

    def is_visible(self) -> bool:
        return self.is_accessible()

    def inaccessible_callback(self, name, **kwargs):
        if not current_user.is_authenticated:
            return redirect(url_for("auth.login", next=request.full_path))
        abort(404)


class LeanListMixin:
    """The fast list of a flask-admin model view (every ``TownshipModelView`` has it).

    flask-admin keeps what it does well (filters, search, sorting, actions, the
    pager, the forms); the list itself is lean:

    * **loading**: the eager relationships a model declares (``lazy="joined"``,
      ``"selectin"``) are switched off for the list; the relationships the list
      shows are joined (collections: one extra SELECT), and their own eager
      collections stay unloaded; text, JSON and binary columns the list does not
      show are not read. A formatter that needs another relationship names it in
      :attr:`list_also_load` (else each row would load it: the query-count tests
      see that);
    * **counting**: on PostgreSQL at most :attr:`count_estimate_threshold` + 1 rows
      are counted; past that the planner's estimate is shown as "about N" (a few
      milliseconds whatever the table's size); SQLite counts exactly;
    * **rendering**: the cells and the view/edit/delete buttons of every row are
      rendered in one pass in Python (``admin/township/list.html``), not through
      flask-admin's per-row macros.

    A view with its own ``list_template`` or ``column_editable_list`` keeps
    flask-admin's rendering, and still gets the loading and counting.
    """

    list_template = LEAN_LIST_TEMPLATE
    #: relationships formatters read besides the shown columns (loaded with the rows)
    list_also_load: tuple[str, ...] = ()
    #: rows counted exactly before the list shows an estimate ("about N"); 0 = always exact
    count_estimate_threshold: int = 10_000
    #: past this many rows a page reads its keys first, then its rows with their relations
    #: (two short queries instead of one that joins every row before sorting)
    page_first_from: int = 2_000

    # -- loading ----------------------------------------------------------
    def list_load_options(self) -> list:
        """Loader options for the rows of a list page (see the class docstring); they
        depend on the view only, and are worked out once."""
        options = self.__dict__.get("_list_load_options")
        if options is None:
            options = self.__dict__["_list_load_options"] = self._make_list_load_options()
        return options

    def _make_list_load_options(self) -> list:
        from sqlalchemy import JSON, LargeBinary, Text
        from sqlalchemy.orm import defer, joinedload, lazyload, selectinload

        mapper = sa_inspect(self.model)
        shown = [name for name, _ in self._list_columns]
        wanted = [*shown, *self.list_also_load]
        # a relation shown as itself (no formatter) prints its name, which may be made
        # of its own eager relations (a learner's person); one a formatter shows reads
        # only its columns, and what else it needs is named in list_also_load
        as_itself = {name for name in shown if name not in (self.column_formatters or {})}
        plain = {name for name in self.list_also_load if "." not in name}
        options: list = [lazyload("*")]
        for head in dict.fromkeys(name.split(".", 1)[0] for name in wanted):
            rel = mapper.relationships.get(head)
            if rel is None:
                continue
            attr = getattr(self.model, head)
            loader = selectinload(attr) if rel.uselist else joinedload(attr)
            target = rel.mapper.class_
            named = {n.split(".", 2)[1] for n in self.list_also_load if n.startswith(head + ".")}
            # a model may say which relationships its str() reads (``str_reads``: an org
            # unit's name reads none, so a township column does not join its parent)
            str_reads = getattr(target, "str_reads", None)
            nested = []
            for sub in rel.mapper.relationships:
                sub_attr = getattr(target, sub.key)
                keep = head in plain or (
                    head in as_itself and (str_reads is None or sub.key in str_reads)
                )
                if sub.key in named:
                    nested.append(
                        (selectinload(sub_attr) if sub.uselist else joinedload(sub_attr)).lazyload(
                            "*"
                        )
                    )
                elif sub.lazy in ("selectin", "joined", "subquery", "immediate"):
                    nested.append(
                        joinedload(sub_attr).lazyload("*")
                        if keep and not sub.uselist
                        else lazyload(sub_attr)
                    )
            options.append(loader.options(*nested) if nested else loader)
        for prop in mapper.column_attrs:
            if prop.key in wanted or len(prop.columns) != 1:
                continue
            column_type = prop.columns[0].type
            if (
                isinstance(column_type, Text | JSON | LargeBinary)
                and not prop.columns[0].primary_key
            ):
                options.append(defer(getattr(self.model, prop.key)))
        return options

    # -- counting ---------------------------------------------------------
    def count_rows(self, count_query, key: Any = None) -> int:
        """The rows of the filtered list: exact up to the threshold, estimated past it.

        On PostgreSQL a list found to be past the threshold (``key``: the view, the
        user's townships, the search and filters) is remembered by the process for
        :data:`BIG_COUNT_SECONDS`, and its next requests ask the planner only (one
        ``EXPLAIN``, no counting), as long as the estimate stays past the threshold. The
        estimate itself is kept for :data:`ESTIMATE_SECONDS`: meanwhile the list's pages
        show the same "about N" and ask nothing to count.
        """
        from sqlalchemy import func, literal_column
        from sqlalchemy import select as sa_select

        g._township_count_estimate = False
        threshold = self.count_estimate_threshold
        session = db.session
        if not threshold or session.get_bind().dialect.name != "postgresql":
            return count_query.scalar() or 0
        rows = count_query.statement.with_only_columns(literal_column("1"))
        now = time.monotonic()
        mine = (key, current_user.get_id())
        if key is not None and _big_counts.get(key, 0) > now:
            kept = _estimates.get(mine)
            if kept is not None and kept[0] > now:
                g._township_count_estimate = True
                return kept[1]
            estimate = self._planned_rows(rows)
            if estimate > threshold:
                g._township_count_estimate = True
                _estimates[mine] = (now + ESTIMATE_SECONDS, estimate)
                return estimate
            _big_counts.pop(key, None)
            _estimates.pop(mine, None)
        capped = session.scalar(
            sa_select(func.count()).select_from(rows.limit(threshold + 1).subquery())
        )
        if capped <= threshold:
            return capped
        g._township_count_estimate = True
        estimate = max(self._planned_rows(rows), threshold + 1)
        if key is not None:
            if len(_big_counts) > 1000 or len(_estimates) > 10_000:
                _big_counts.clear()
                _estimates.clear()
            _big_counts[key] = now + BIG_COUNT_SECONDS
            _estimates[mine] = (now + ESTIMATE_SECONDS, estimate)
        return estimate

    @staticmethod
    def _planned_rows(rows) -> int:
        """The planner's estimate of the rows of ``rows`` (PostgreSQL ``EXPLAIN``)."""
        session = db.session
        compiled = rows.compile(
            dialect=session.get_bind().dialect, compile_kwargs={"render_postcompile": True}
        )
        plan = (
            session.connection()
            .exec_driver_sql("EXPLAIN (FORMAT JSON) " + str(compiled), compiled.params)
            .scalar()
        )
        if isinstance(plan, str):
            import json

            plan = json.loads(plan)
        return int(plan[0]["Plan"]["Plan Rows"])

    def get_list(self, page, sort_column, sort_desc, search, filters, execute=True, page_size=None):
        """flask-admin's ``get_list`` with the list's loading and counting (see above)."""
        joins: dict = {}
        count_joins: dict = {}
        query = self.get_query()
        count_query = self.get_count_query() if not self.simple_list_pager else None
        if self._search_supported and search:
            query, count_query, joins, count_joins = self._apply_search(
                query, count_query, joins, count_joins, search
            )
        if filters and self._filters:
            query, count_query, joins, count_joins = self._apply_filters(
                query, count_query, joins, count_joins, filters
            )
        count = None
        if count_query is not None:
            key = (
                self.endpoint,
                tuple(sorted(self.township_ids(self.permission_read))),
                search,
                repr(filters),
            )
            count = self.count_rows(count_query, key)
        listing = bool(g.get("_township_listing"))
        if not listing:
            for join in self._auto_joins:
                from sqlalchemy.orm import joinedload

                query = query.options(joinedload(join))
        query, joins = self._apply_sorting(query, joins, sort_column, sort_desc)
        query = self._apply_pagination(query, page, page_size)
        if not listing:
            return count, (query.all() if execute else query)
        options = self.list_load_options()
        if execute and count is not None and count > self.page_first_from:
            pk = sa_inspect(self.model).primary_key
            if len(pk) == 1 and len(options) > 1:
                return count, self._page_first(query, pk[0], options)
        query = query.options(*options)
        if execute:
            query = query.all()
        return count, query

    def _page_first(self, query, pk, options) -> list:
        """The page's keys first (sorted and cut on the list's own table), then its rows
        with what they show: a join before the sort would join every filtered row."""
        ids = [row[0] for row in query.with_entities(pk)]
        if not ids:
            return []
        rows = (
            db.session.query(self.model)
            .filter(pk.in_(ids))
            .options(*options)
            .populate_existing()
            .all()
        )
        position = {key: n for n, key in enumerate(ids)}
        return sorted(rows, key=lambda row: position[sa_inspect(row).identity[0]])

    # -- rendering --------------------------------------------------------
    def _filters_in_language(self) -> tuple[Any, Any]:
        """flask-admin's filters in the request's language, and as the page's script reads
        them (``#filter-groups-data``).

        A list page turned every label of every option into text on each request. The
        groups whose options are fixed (tuples, an enum's labels: ``fixed = True``) are
        worked out once per view and language; options read per request (the townships
        and handlers this user may see) are read again every time.
        """
        from jinja2.utils import htmlsafe_json_dumps

        key = (str(get_locale()), id(self._filter_groups))
        memo = self.__dict__.setdefault("_filters_by_language", {})
        found = memo.get(key)
        if found is None:
            parts = {
                name: group.non_lazy() if all(_fixed(f["options"]) for f in group) else None
                for name, group in self._filter_groups.items()
            }
            whole = None
            if all(parts.values()):
                groups = dict(parts.values())
                whole = (groups, htmlsafe_json_dumps(groups))
            found = memo[key] = (parts, whole)
        parts, whole = found
        if whole is not None:
            return whole
        groups = dict(part or self._filter_groups[name].non_lazy() for name, part in parts.items())
        return groups, htmlsafe_json_dumps(groups)

    def _get_filter_groups(self):
        return self._filters_in_language()[0] if self._filter_groups else None

    def filter_groups_json(self) -> Any:
        return self._filters_in_language()[1] if self._filter_groups else None

    def lean_rendering(self) -> bool:
        return self.list_template == LEAN_LIST_TEMPLATE and not self.column_editable_list

    @expose("/")
    def index_view(self):
        g._township_listing = True
        try:
            return super().index_view()
        finally:
            g.pop("_township_listing", None)

    def delete_form(self):
        """flask-admin builds a delete form for every list page; the lean list renders
        its delete buttons itself (with the CSRF token), so a list page skips it."""
        if g.get("_township_listing") and self.lean_rendering():
            return None
        return super().delete_form()  # type: ignore[misc]

    def render(self, template, **kwargs):
        if template == self.list_template and "data" in kwargs and "list_columns" in kwargs:
            kwargs["count_is_estimate"] = bool(g.pop("_township_count_estimate", False))
            if self.lean_rendering():
                rows, others = self._lean_rows(kwargs)
                kwargs["lean_rows"] = rows
                kwargs["other_row_actions"] = others
                kwargs["lean_table"] = self._lean_table(rows, others, kwargs.get("actions"))
        return super().render(template, **kwargs)

    def _lean_rows(self, kwargs) -> tuple[list, list]:
        """``[(row, LeanRow)]`` and the row actions this method does not render itself."""
        from urllib.parse import quote

        from flask_admin.babel import gettext as admin_gettext
        from flask_admin.model.template import DeleteRowAction, EditRowAction, ViewRowAction
        from markupsafe import Markup, escape

        return_url = kwargs.get("return_url") or ""
        quoted_return = quote(return_url, safe="")
        buttons, others = [], []
        for row_action in kwargs.get("list_row_actions") or ():
            kind = type(row_action)
            if kind is ViewRowAction:
                base = self.get_url(".details_view")
                title = escape(admin_gettext("View Record"))
                buttons.append(
                    lambda pk, b=base, t=title: Markup(
                        f'<a class="icon" href="{b}?id={pk}&amp;url={quoted_return}" title="{t}">'
                        '<span class="fa fa-eye glyphicon glyphicon-eye-open"></span></a>'
                    )
                )
            elif kind is EditRowAction:
                base = self.get_url(".edit_view")
                title = escape(admin_gettext("Edit Record"))
                buttons.append(
                    lambda pk, b=base, t=title: Markup(
                        f'<a class="icon" href="{b}?id={pk}&amp;url={quoted_return}" title="{t}">'
                        '<span class="fa fa-pencil glyphicon glyphicon-pencil"></span></a>'
                    )
                )
            elif kind is DeleteRowAction:
                from flask_wtf.csrf import generate_csrf

                action_url = self.get_url(".delete_view")
                csrf = escape(generate_csrf()) if current_app_csrf() else ""
                confirm = escape(admin_gettext("Are you sure you want to delete this record?"))
                title = escape(admin_gettext("Delete Record"))
                token = f'<input type="hidden" name="csrf_token" value="{csrf}"/>' if csrf else ""
                buttons.append(
                    lambda pk, u=action_url, c=confirm, t=title, k=token: Markup(
                        f'<form class="icon" method="POST" action="{u}">'
                        f'<input id="id" name="id" type="hidden" value="{pk}">'
                        f'<input id="url" name="url" type="hidden" value="{escape(return_url)}">'
                        f"{k}<button onclick=\"return faHelpers.safeConfirm('{c}');\" "
                        f'title="{t}"><span class="fa fa-trash glyphicon glyphicon-trash">'
                        "</span></button></form>"
                    )
                )
            else:
                others.append(row_action)
        columns = [name for name, _ in kwargs["list_columns"]]
        classes = [f' class="col-{escape(name)}"' for name in columns]
        # a label shared by many rows (a status, a kind) is translated once
        words: dict[int, Any] = {}

        def cell(value: Any) -> Any:
            if isinstance(value, LazyString):
                found = words.get(id(value))
                if found is None:
                    found = words[id(value)] = (value, escape(str(value)))
                return found[1]
            return escape(value)

        readers = [self.list_cell_reader(name) for name in columns]
        rows = []
        for model in kwargs["data"]:
            pk = escape(quote(str(self.get_pk_value(model)), safe=""))
            cells = "".join(
                f"<td{css}>{cell(read(model))}</td>"
                for read, css in zip(readers, classes, strict=True)
            )
            rows.append(
                (
                    model,
                    LeanRow(
                        pk=Markup(pk),
                        buttons=Markup("".join(button(pk) for button in buttons)),
                        cells=Markup(cells),
                    ),
                )
            )
        return rows, others

    def _get_list_url(self, view_args) -> str:
        """flask-admin's list address (page, sort, search, filters) built on the list's own
        address, asked of the URL map once per request: a list page has twenty links (the
        pager, the sortable headers) and each went through the whole URL map."""
        from werkzeug.urls import _urlencode

        base = g.get("_admin_list_url")
        if base is None or base[0] != self.endpoint:
            base = g._admin_list_url = (self.endpoint, self.get_url(".index_view"))
        query = {
            "page": view_args.page or None,
            "sort": view_args.sort,
            "desc": 1 if view_args.sort_desc else None,
            "search": view_args.search,
            **view_args.extra_args,
            "page_size": self.get_safe_page_size(view_args.page_size),
            **self._get_filters(view_args.filters),
        }
        encoded = _urlencode(query)
        return f"{base[1]}?{encoded}" if encoded else base[1]

    def list_cell_reader(self, name: str):
        """``model -> value`` of one list column, as ``get_list_value`` shows it."""
        return lambda model: self.get_list_value(None, model, name)

    def _lean_table(self, rows, others, actions) -> Any:
        """The whole ``<tr>`` list in one string, when no template block or row action
        needs a row of its own (the usual case)."""
        from flask_admin.babel import gettext as admin_gettext
        from markupsafe import Markup, escape

        if others or type(self).list_template != LEAN_LIST_TEMPLATE:
            return None
        select = escape(admin_gettext("Select record"))
        with_buttons = self.column_display_actions
        parts = []
        for _model, lean in rows:
            parts.append("<tr>")
            if actions:
                parts.append(
                    f'<td><input type="checkbox" name="rowid" class="action-checkbox" '
                    f'value="{lean.pk}" title="{select}" /></td>'
                )
            if with_buttons:
                parts.append(f'<td class="list-buttons-column">{lean.buttons}</td>')
            parts.append(lean.cells)
            parts.append("</tr>")
        return Markup("".join(parts))


def _fixed(options: Any) -> bool:
    """Whether a filter's options are the same for every user (given the language)."""
    return options is None or isinstance(options, list | tuple) or getattr(options, "fixed", False)


@dataclass(frozen=True)
class LeanRow:
    pk: Any
    buttons: Any
    cells: Any


def current_app_csrf() -> bool:
    from flask import current_app

    return bool(current_app.config.get("WTF_CSRF_ENABLED", True))


class TownshipModelView(LeanListMixin, SecureViewMixin, ModelView):
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

    def list_cell_reader(self, name: str):
        """What :meth:`_get_list_value` shows, worked out once per view and column: the
        formatter, the choices and the type formatter of each kind of value are looked up
        once, not per cell (a 50-row list has 400 cells)."""
        readers = self.__dict__.setdefault("_list_cell_readers", {})
        reader = readers.get(name)
        if reader is None:
            reader = readers[name] = self._make_cell_reader(name)
        return reader

    def _make_cell_reader(self, name: str):
        from flask_admin.tools import rec_getattr

        formatter = (self.column_formatters or {}).get(name)
        choices = self._column_choices_map.get(name) or {}
        type_formatters = self.column_type_formatters
        by_type: dict[type, Any] = {}

        def shown(value):
            kind = type(value)
            try:
                type_formatter = by_type[kind]
            except KeyError:
                type_formatter = by_type[kind] = next(
                    (f for k, f in type_formatters.items() if isinstance(value, k)), None
                )
            return value if type_formatter is None else type_formatter(self, value, name)

        if formatter is not None:

            def read_formatted(model):
                value = formatter(self, None, model, name)
                if choices:
                    return choices.get(value) or value
                return shown(value)

            return read_formatted
        if choices:

            def read_choice(model):
                value = rec_getattr(model, name)
                return choices.get(value) or value

            return read_choice

        def read(model):
            value = rec_getattr(model, name)
            if isinstance(value, DISPLAYED):
                return self._in_words(model, value)
            return shown(value)

        return read

    def _in_words(self, model, value):
        """A value :func:`core.labels.display` shows (a time in the row's township's
        zone); an enum's or a boolean's label, which many rows share, once per request."""
        from core.labels import display

        if isinstance(value, Enum | bool):
            words = g.setdefault("_admin_words", {})
            key = (type(value), value)
            word = words.get(key)
            if word is None:
                word = words[key] = display(value)
            return word
        return display(value, getattr(model, self.township_attr, None))

    def _get_list_value(self, context, model, name, column_formatters, column_type_formatters):
        """Values no column formatter owns, shown in words (a time in the row's township's zone)."""
        if name not in column_formatters and not self._column_choices_map.get(name):
            value = self._get_field_value(model, name)
            if isinstance(value, DISPLAYED):
                return self._in_words(model, value)
        return super()._get_list_value(
            context, model, name, column_formatters, column_type_formatters
        )

    def get_export_value(self, model, name):
        """Exported cells never start a formula (core.spreadsheets)."""
        from core.spreadsheets import safe_cell

        return safe_cell(super().get_export_value(model, name))

    # -- the township field -------------------------------------------------
    def scaffold_form(self):
        """The model's form, with the township as a choice among the user's townships.

        A relationship field named ``township`` (a choice among *every* org unit)
        is removed; a ``township_id`` select takes its place, its choices set per
        request, so a township the user may not write to is "not a valid choice".
        """
        form_class = super().scaffold_form()
        add_column_checks(form_class, self.model)
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
