"""The core's API schemas: they load the requests, dump the responses and are the
``components/schemas`` of the OpenAPI document. Plugins build theirs from
:mod:`core.api.fields` and :func:`page_of` the same way."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import marshmallow as ma
from flask import current_app, request

from core.api import fields as f
from core.models import CaseStatus, LimitUnit
from core.pagination import MAX_PAGE, MAX_PER_PAGE, paginate

# ---------------------------------------------------------------------------
# Paging
# ---------------------------------------------------------------------------


class QuerySchema(ma.Schema):
    """Query-string arguments: an unknown one is ignored (caches add their own)."""

    class Meta:
        unknown = ma.EXCLUDE


class PageArgs(QuerySchema):
    page = f.QueryInteger(
        load_default=1,
        validate=f.Range(min=1, max=MAX_PAGE),
        metadata={"description": "Page number; a page past the last one is empty."},
    )
    per_page = f.QueryInteger(
        validate=f.Range(min=1, max=MAX_PER_PAGE),
        metadata={"description": "Rows per page (default: the PAGE_SIZE setting)."},
    )


def default_page_size() -> int:
    return min(int(current_app.config.get("PAGE_SIZE") or 20), MAX_PER_PAGE)


class PageMeta(f.OutputSchema):
    page = f.Integer(required=True, validate=f.Range(min=1))
    per_page = f.Integer(required=True, validate=f.Range(min=1, max=MAX_PER_PAGE))
    total = f.Integer(required=True, validate=f.Range(min=0))
    pages = f.Integer(required=True, validate=f.Range(min=1))
    next = f.String(
        required=True, allow_none=True, metadata={"description": "Path of the next page, or null."}
    )
    prev = f.String(
        required=True,
        allow_none=True,
        metadata={"description": "Path of the previous page, or null."},
    )


_PAGES: dict[Any, type[ma.Schema]] = {}


def page_of(item: type[ma.Schema], name: str | None = None) -> type[ma.Schema]:
    """The schema of a page of ``item``: ``items``, ``page``, ``per_page``, ``total``,
    ``pages``, ``next``, ``prev``."""
    if item not in _PAGES:
        name = name or item.__name__.removesuffix("Schema") + "Page"
        _PAGES[item] = type(
            name,
            (PageMeta,),
            {"items": f.List(f.Nested(item), required=True)},
        )
    return _PAGES[item]


def _page_link(page: int, per_page: int) -> str:
    args = request.args.to_dict()
    args.update(page=str(page), per_page=str(per_page))
    return f"{request.path}?{urlencode(args)}"


def page(query, args: dict[str, Any]) -> dict[str, Any]:
    """A page of ``query`` (a select of a model) as :func:`page_of` dumps it, through the
    platform's one paginator (:func:`core.pagination.paginate`)."""
    number = args.get("page") or 1
    per_page = args.get("per_page") or default_page_size()
    pagination = paginate(query, page=number, per_page=per_page)
    return page_from(pagination.items, number, per_page, pagination.total)


def page_from(items: list, number: int, per_page: int, total: int) -> dict[str, Any]:
    """The page body for rows already fetched (``items``) out of ``total``."""
    pages = max(1, -(-total // per_page))
    return {
        "items": items,
        "page": number,
        "per_page": per_page,
        "total": total,
        "pages": pages,
        "next": _page_link(number + 1, per_page) if number < pages else None,
        "prev": _page_link(min(number - 1, pages), per_page) if number > 1 else None,
    }


# ---------------------------------------------------------------------------
# Townships, users, the token's owner
# ---------------------------------------------------------------------------


class UnitSchema(f.OutputSchema):
    id = f.Integer(required=True)
    code = f.String(required=True)
    name = f.String(required=True)


class UserRefSchema(f.OutputSchema):
    id = f.Integer(required=True)
    username = f.String(required=True)
    name = f.String(required=True)


class TownshipSchema(f.OutputSchema):
    id = f.Integer(required=True)
    code = f.String(required=True)
    name = f.String(required=True)
    timezone = f.String(required=True)
    permissions = f.List(f.String(), required=True)


class TokenSchema(f.OutputSchema):
    id = f.Integer(required=True)
    name = f.String(required=True)
    created_at = f.DateTime(required=True)
    last_used_at = f.DateTime(required=True, allow_none=True)


class MeSchema(f.OutputSchema):
    id = f.Integer(required=True)
    username = f.String(required=True)
    name = f.String(required=True)
    email = f.String(required=True, allow_none=True)
    token = f.Nested(TokenSchema, required=True)
    townships = f.List(f.Nested(TownshipSchema), required=True)


# ---------------------------------------------------------------------------
# Cases
# ---------------------------------------------------------------------------

STATUSES = [s.value for s in CaseStatus]
TIMELINESS = ["on_time", "due_soon", "overdue", "paused", "done"]


class LimitSchema(f.OutputSchema):
    amount = f.Integer(required=True)
    unit = f.String(required=True, validate=f.OneOf([u.value for u in LimitUnit]))
    max_amount = f.Integer(required=True, allow_none=True)


class CaseLinksSchema(f.OutputSchema):
    self = f.String(required=True)
    events = f.String(required=True)
    transitions = f.String(required=True)


class CaseSchema(f.OutputSchema):
    id = f.Integer(required=True)
    receipt_no = f.String(required=True, metadata={"description": "Public receipt number."})
    kind = f.String(required=True)
    kind_label = f.String(required=True)
    township = f.Nested(UnitSchema, required=True)
    title = f.String(required=True)
    description = f.String(required=True)
    applicant_id = f.Integer(required=True, allow_none=True)
    applicant_name = f.String(required=True)
    first_responder = f.Nested(UserRefSchema, required=True)
    handler = f.Nested(UserRefSchema, required=True, allow_none=True)
    department = f.Nested(UnitSchema, required=True, allow_none=True)
    status = f.String(required=True, validate=f.OneOf(STATUSES))
    status_label = f.String(required=True)
    received_on = f.Date(required=True)
    accepted_on = f.Date(required=True, allow_none=True)
    limit = f.Nested(LimitSchema, required=True, allow_none=True)
    due_on = f.Date(required=True, allow_none=True)
    overdue = f.Boolean(required=True)
    timeliness = f.String(
        validate=f.OneOf(TIMELINESS), metadata={"description": "Only on a single case."}
    )
    paused_since = f.Date(required=True, allow_none=True)
    result = f.String(required=True, allow_none=True)
    delivery_note = f.String(required=True, allow_none=True)
    closed_at = f.DateTime(required=True, allow_none=True)
    created_at = f.DateTime(required=True)
    updated_at = f.DateTime(required=True)
    links = f.Nested(CaseLinksSchema, required=True)


class EventSchema(f.OutputSchema):
    id = f.Integer(required=True)
    at = f.DateTime(required=True)
    action = f.String(required=True)
    actor = f.Nested(UserRefSchema, required=True, allow_none=True)
    before = f.Dict(required=True, allow_none=True)
    after = f.Dict(required=True, allow_none=True)
    note = f.String(required=True, allow_none=True)


def _known_kind(value: str) -> None:
    from flask_babel import gettext as _

    from core.plugins import state

    if value not in state().case_kinds:
        raise ma.ValidationError(_("Unknown case kind."))


class CaseListArgs(PageArgs):
    status = f.Text(
        validate=[f.OneOf(STATUSES)], metadata={"description": "Only cases in this status."}
    )
    kind = f.Text(
        min_length=1,
        max_length=64,
        validate=[_known_kind],
        metadata={"description": "A case kind, e.g. `service`."},
    )
    township = f.Text(
        min_length=1,
        max_length=64,
        metadata={"description": "A township code (404 if not visible to you)."},
    )
    overdue = f.QueryBoolean(
        metadata={"description": "Open cases past their due date (true) or the others (false)."}
    )


class NewCaseSchema(f.Schema):
    township = f.Text(
        required=True,
        max_length=64,
        metadata={"description": "Code of a township you may write in."},
    )
    kind = f.Text(
        required=True,
        max_length=64,
        validate=[_known_kind],
        metadata={"description": "A case kind, e.g. inquiry, service."},
    )
    title = f.Text(required=True, max_length=200)
    applicant_name = f.Text(required=True, max_length=120)
    description = f.Text(max_length=20_000)
    applicant_id = f.Integer(
        validate=f.Range(min=1, max=2**31 - 1),
        metadata={"description": "A person of the township's register."},
    )
    handler = f.Text(
        min_length=1, max_length=64, metadata={"description": "User name of the handler."}
    )
    department = f.Text(
        min_length=1, max_length=64, metadata={"description": "Code of a station or office."}
    )
    received_on = f.PastDate(metadata={"description": "Default today; never later."})
    accept = f.Boolean(
        load_default=False, metadata={"description": "Accept at once (the time limit starts)."}
    )
