"""The core's resources under ``/api/v1``: the token's user, townships, cases, their trail
and their transitions (the one table :data:`core.cases.TRANSITIONS_BY_ACTION`)."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import marshmallow as ma
from flask import g, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import and_, not_, select
from sqlalchemy.orm import defaultload, lazyload

from core import clock
from core.api import (
    ApiBlueprint,
    ApiError,
    Parser,
    _flatten,
    api_user,
    invalid,
    townships_with,
    visible_township,
)
from core.api import fields as f
from core.api.schemas import (
    CaseListArgs,
    CaseSchema,
    EventSchema,
    MeSchema,
    NewCaseSchema,
    PageArgs,
    TownshipSchema,
    page,
    page_of,
)
from core.cases import (
    STATUS_LABELS,
    TRANSITIONS_BY_ACTION,
    CaseAction,
    CaseError,
    register_case,
    timeliness,
)
from core.db import db
from core.institutions import is_enabled
from core.models import (
    OPEN_STATUSES,
    ApiToken,
    Case,
    CaseEvent,
    CaseStatus,
    OrgUnit,
    Person,
    UnitKind,
    User,
)
from core.plugins import CORE_KEY, state

bp = ApiBlueprint(
    "api",
    __name__,
    description="The core: the token's user, townships, cases and their trail.",
)

_CASE_ID = re.compile(r"[0-9]{1,9}")

# ---------------------------------------------------------------------------
# Representations
# ---------------------------------------------------------------------------


def _label(obj: Any) -> str:
    """The label of a case kind in the request's language."""
    english = str(get_locale()) == "en"
    return obj.label_en if english and obj.label_en else obj.label


def _is_overdue(case: Case, today: date) -> bool:
    return case.status in OPEN_STATUSES and case.due_on is not None and case.due_on < today


def case_json(case: Case, *, detail: bool = False) -> dict[str, Any]:
    """A case as the API shows it to staff (``detail`` adds the timeliness); dumped by
    :class:`~core.api.schemas.CaseSchema`."""
    kind = state().case_kinds.get(case.kind)
    body: dict[str, Any] = {
        "id": case.id,
        "receipt_no": case.receipt_no,
        "kind": case.kind,
        "kind_label": _label(kind) if kind else case.kind,
        "township": case.township,
        "title": case.title,
        "description": case.description or "",
        "applicant_id": case.applicant_id,
        "applicant_name": case.applicant_name,
        "first_responder": case.first_responder,
        "handler": case.handler,
        "department": case.department,
        "status": case.status.value,
        "status_label": str(STATUS_LABELS[case.status]),
        "received_on": case.received_on,
        "accepted_on": case.accepted_on,
        "limit": (
            {
                "amount": case.limit_amount,
                "unit": case.limit_unit.value if case.limit_unit else None,
                "max_amount": case.limit_max_amount,
            }
            if case.limit_amount is not None
            else None
        ),
        "due_on": case.due_on,
        "overdue": _is_overdue(case, clock.today(case.township_id)),
        "paused_since": case.paused_since,
        "result": case.result,
        "delivery_note": case.delivery_note,
        "closed_at": case.closed_at,
        "created_at": case.created_at,
        "updated_at": case.updated_at,
        "links": {
            "self": url_for("api.get_case", ref=case.id),
            "events": url_for("api.case_events", ref=case.id),
            "transitions": url_for("api.case_transition", ref=case.id),
        },
    }
    if detail:
        body["timeliness"] = timeliness(case)
    return body


def _township_json(unit: OrgUnit) -> dict[str, Any]:
    from core.access import permissions

    return {
        "id": unit.id,
        "code": unit.code,
        "name": unit.name,
        "timezone": unit.timezone,
        "permissions": sorted(permissions(api_user(), unit.id)),
    }


def _case_list_query():
    """Cases with what the list shows loaded in the same query (no N+1)."""
    return select(Case).options(
        lazyload(Case.applicant),
        defaultload(Case.first_responder).lazyload(User.memberships),
        defaultload(Case.handler).lazyload(User.memberships),
    )


# ---------------------------------------------------------------------------
# Look-ups inside the user's scope
# ---------------------------------------------------------------------------


def _case_or_404(ref: str) -> Case:
    """A case by id or receipt number, in a township the user may read; else 404."""
    readable = townships_with("cases.read")
    if _CASE_ID.fullmatch(ref):
        condition = Case.id == int(ref)
    else:
        condition = Case.receipt_no == ref.strip().upper()
    case = None
    if readable:
        case = db.session.scalar(select(Case).where(condition, Case.township_id.in_(readable)))
    if case is None:
        raise ApiError(404, _("No case %(ref)s is visible to you.", ref=ref))
    return case


def _require_write(township_id: int, permission: str = "cases.write") -> None:
    if township_id not in townships_with(permission):
        if permission == "cases.approve_extension":
            raise ApiError(403, _("Only a leader of the township can decide on an extension."))
        raise ApiError(403, _("You may read but not change the cases of this township."))


def _staff_of(township: OrgUnit, username: str) -> User | None:
    """An active user who works for the township (by user name), or None."""
    user = db.session.scalar(select(User).where(User.username == username, User.active.is_(True)))
    if user is None:
        return None
    from core.access import visible_township_ids

    return user if township.id in visible_township_ids(user) else None


def _station_of(township: OrgUnit, code: str) -> OrgUnit | None:
    return db.session.scalar(
        select(OrgUnit).where(
            OrgUnit.code == code,
            OrgUnit.kind == UnitKind.station,
            OrgUnit.township_id == township.id,
        )
    )


def _kind_enabled(township: OrgUnit, kind: str) -> bool:
    """A plugin's case kinds (``<key>.<name>``) exist only where the plugin is enabled."""
    owner = kind.split(".", 1)[0] if "." in kind else CORE_KEY
    return kind in state().case_kinds and (
        owner not in state().plugins or is_enabled(township.id, owner)
    )


CASE_LINKS = {
    "GetCase": {"operationId": "getCase", "parameters": {"ref": "$response.body#/id"}},
    "ListCaseEvents": {
        "operationId": "listCaseEvents",
        "parameters": {"ref": "$response.body#/id"},
    },
    "TransitionCase": {
        "operationId": "transitionCase",
        "parameters": {"ref": "$response.body#/id"},
    },
}

# ---------------------------------------------------------------------------
# The token's user and townships
# ---------------------------------------------------------------------------


@bp.route("/me", tags=["meta"])
@bp.doc(operationId="me", summary="The token's user and their townships")
@bp.response(200, MeSchema)
def me():
    """Who the token belongs to and what they may do in which township."""
    user = api_user()
    ids = townships_with()
    units = (
        db.session.scalars(select(OrgUnit).where(OrgUnit.id.in_(ids)).order_by(OrgUnit.code)).all()
        if ids
        else []
    )
    token: ApiToken = g.api_token
    return {
        "id": user.id,
        "username": user.username,
        "name": user.name,
        "email": user.email,
        "token": token,
        "townships": [_township_json(u) for u in units],
    }


@bp.route("/townships", tags=["townships"])
@bp.doc(operationId="listTownships", summary="Townships visible to you")
@bp.arguments(PageArgs, location="query")
@bp.response(200, page_of(TownshipSchema))
def list_townships(args):
    """The townships visible to the user through the API, with their permissions there."""
    ids = townships_with()
    query = select(OrgUnit).where(OrgUnit.id.in_(ids)).order_by(OrgUnit.code)
    body = page(query, args)
    body["items"] = [_township_json(u) for u in body["items"]]
    return body


# ---------------------------------------------------------------------------
# Cases
# ---------------------------------------------------------------------------


@bp.route("/cases", methods=["GET"], tags=["cases"])
@bp.doc(
    operationId="listCases",
    summary="Cases of your townships, newest first",
    responses={
        200: {
            "links": {
                name: {**link, "parameters": {"ref": "$response.body#/items/0/id"}}
                for name, link in CASE_LINKS.items()
            }
        }
    },
)
@bp.arguments(CaseListArgs, location="query")
@bp.response(200, page_of(CaseSchema))
@bp.errors(404)
def list_cases(args):
    """Cases of the user's townships, newest first, filtered and paginated on the server."""
    readable = townships_with("cases.read")
    conditions = [Case.township_id.in_(readable)]
    if args.get("status"):
        conditions.append(Case.status == CaseStatus(args["status"]))
    if args.get("kind"):
        conditions.append(Case.kind == args["kind"])
    if "overdue" in args:
        is_overdue = and_(
            Case.status.in_(OPEN_STATUSES),
            Case.due_on.is_not(None),
            Case.due_on < clock.today(),
        )
        conditions.append(is_overdue if args["overdue"] else not_(is_overdue))
    if args.get("township"):
        conditions.append(Case.township_id == visible_township(args["township"]).id)
    query = _case_list_query().where(and_(*conditions)).order_by(Case.id.desc())
    body = page(query, args)
    body["items"] = [case_json(c) for c in body["items"]]
    return body


@bp.route("/cases", methods=["POST"], tags=["cases"])
@bp.doc(
    operationId="createCase",
    summary="Register a case (you are its first responder)",
    responses={201: {"links": CASE_LINKS}},
)
@bp.arguments(NewCaseSchema)
@bp.response(
    201,
    CaseSchema,
    description="The case, registered.",
    headers={"Location": {"description": "The case's address.", "schema": {"type": "string"}}},
)
@bp.errors(403, 404)
def create_case(data):
    """Register a case (the token's user is the first responder); 201 with the case."""
    kind = data["kind"]
    township = visible_township(data["township"])
    _require_write(township.id)
    errors: dict[str, str] = {}
    if not _kind_enabled(township, kind):
        errors["kind"] = _("Unknown case kind.")
    handler = department = applicant = None
    if data.get("handler"):
        handler = _staff_of(township, data["handler"])
        if handler is None:
            errors["handler"] = _("No staff member with this user name works here.")
    if data.get("department"):
        department = _station_of(township, data["department"])
        if department is None:
            errors["department"] = _("No station or office of this township has this code.")
    if data.get("applicant_id") is not None:
        applicant = db.session.get(Person, data["applicant_id"])
        if applicant is None or applicant.township_id != township.id:
            errors["applicant_id"] = _("No person of this township has this id.")
    if errors:
        raise invalid(errors)
    try:
        case = register_case(
            township=township,
            kind=kind,
            title=data["title"],
            applicant_name=data["applicant_name"],
            first_responder=api_user(),
            description=data.get("description") or "",
            applicant=applicant,
            handler=handler,
            department=department,
            received_on=data.get("received_on"),
            accept=data.get("accept", False),
        )
    except CaseError as exc:
        db.session.rollback()
        raise ApiError(422, str(exc)) from exc
    return case_json(case, detail=True), 201, {"Location": url_for("api.get_case", ref=case.id)}


@bp.route("/cases/<case_ref:ref>", tags=["cases"])
@bp.doc(
    operationId="getCase",
    summary="One case by id or receipt number",
    responses={200: {"links": CASE_LINKS}},
)
@bp.response(200, CaseSchema)
@bp.errors(404)
def get_case(ref: str):
    """One case, by id or receipt number."""
    return case_json(_case_or_404(ref), detail=True)


@bp.route("/cases/<case_ref:ref>/events", tags=["cases"])
@bp.doc(operationId="listCaseEvents", summary="The case's trail, oldest first")
@bp.arguments(PageArgs, location="query")
@bp.response(200, page_of(EventSchema))
@bp.errors(404)
def case_events(args, ref: str):
    """The case's trail, oldest first, paginated."""
    case = _case_or_404(ref)
    query = (
        select(CaseEvent)
        .options(defaultload(CaseEvent.actor).lazyload(User.memberships))
        .where(CaseEvent.case_id == case.id)
        .order_by(CaseEvent.id)
    )
    return page(query, args)


# ---------------------------------------------------------------------------
# Transitions: one schema per action of core.cases.TRANSITIONS_BY_ACTION
# ---------------------------------------------------------------------------

#: the largest new limit an extension request may name (days)
MAX_LIMIT = 366


def _field(field) -> ma.fields.Field:
    """The API field of an :class:`~core.cases.ActionField`."""
    if field.kind == "date":
        return f.PastDate(metadata={"description": "Default today."})
    if field.kind == "staff":
        return f.Text(
            required=field.required,
            min_length=1,
            max_length=64,
            metadata={"description": "User name of a staff member of the township."},
        )
    if field.kind == "department":
        return f.Text(
            min_length=1,
            max_length=64,
            metadata={"description": "Code of a station or office of the township."},
        )
    if field.kind == "amount":
        return f.Integer(
            required=field.required,
            validate=f.Range(min=1, max=MAX_LIMIT),
            metadata={"description": "The new limit, in the unit of the case's limit."},
        )
    if field.kind == "approve":
        return f.Boolean(
            required=field.required, metadata={"description": "true approves, false refuses."}
        )
    return f.Text(required=field.required, max_length=field.max_length)


def _transition_schema(action: CaseAction) -> type[ma.Schema]:
    name = "".join(part.title() for part in action.name.split("_")) + "Transition"
    attrs: dict[str, Any] = {
        "action": f.Text(required=True, validate=[f.OneOf([action.name])]),
        **{field.name: _field(field) for field in action.fields},
    }
    return type(name, (f.Schema,), attrs)


#: the body of each action, generated from the table
TRANSITION_SCHEMAS: dict[str, type[ma.Schema]] = {
    name: _transition_schema(action) for name, action in TRANSITIONS_BY_ACTION.items()
}


def transition_body() -> dict[str, Any]:
    """The request body of ``transitionCase`` in the document: one of the action schemas."""
    refs = {
        name: f"#/components/schemas/{schema.__name__}"
        for name, schema in TRANSITION_SCHEMAS.items()
    }
    return {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "oneOf": [{"$ref": ref} for ref in refs.values()],
                    "discriminator": {"propertyName": "action", "mapping": refs},
                }
            }
        },
    }


@bp.route("/cases/<case_ref:ref>/transitions", methods=["POST"], tags=["cases"])
@bp.doc(
    operationId="transitionCase",
    summary="Move a case on (accept, assign, start, wait, forward, ...)",
    requestBody=transition_body(),
    responses={200: {"links": CASE_LINKS}},
)
@bp.response(200, CaseSchema, description="The case after the transition.")
@bp.errors(400, 403, 404, 409, 415, 422)
def case_transition(ref: str):
    """Move a case on: ``{"action": "accept" | "assign" | ..., ...}``; 409 if not allowed."""
    case = _case_or_404(ref)
    data = Parser().load_json(request, None)
    name = data.get("action")
    if not isinstance(name, str) or name not in TRANSITIONS_BY_ACTION:
        names = ", ".join(TRANSITIONS_BY_ACTION)
        raise invalid({"action": _("Unknown action; use one of: %(names)s.", names=names)})
    action = TRANSITIONS_BY_ACTION[name]
    _require_write(case.township_id, action.permission)
    try:
        values = TRANSITION_SCHEMAS[name]().load(data)
    except ma.ValidationError as exc:
        raise invalid(_flatten(exc.messages)) from exc
    values.pop("action")
    errors: dict[str, str] = {}
    for field in action.fields:
        if field.kind == "staff" and field.name in values:
            values[field.name] = _staff_of(case.township, values[field.name])
            if values[field.name] is None:
                errors[field.name] = _("No staff member with this user name works here.")
        elif field.kind == "department" and field.name in values:
            values[field.name] = _station_of(case.township, values[field.name])
            if values[field.name] is None:
                errors[field.name] = _("No station or office of this township has this code.")
    if errors:
        raise invalid(errors)
    try:
        action(case, api_user(), values)
    except CaseError as exc:
        db.session.rollback()
        raise ApiError(409, str(exc)) from exc
    return case_json(case, detail=True)


def document(api) -> None:
    """Put the transition schemas into ``components/schemas`` (the request body refers to
    them by name)."""
    for schema in TRANSITION_SCHEMAS.values():
        api.spec.components.schema(schema.__name__, schema=schema)
