"""The JSON API under /api/v1 (staff token authentication, township-scoped).

* Authentication: ``Authorization: Bearer <token>``. A token belongs to a staff
  user; only its SHA-256 is stored (:class:`~core.models.ApiToken`). Tokens are
  made with :func:`create_token` (``township users token USERNAME``) and
  withdrawn with :func:`revoke_token`.
* Scope: a user sees, through the API, only the townships where one of their roles
  grants ``api.use``; reading cases also needs ``cases.read`` there, changing them
  ``cases.write``. Anything of another township answers 404, as if it did not exist.
* Errors are JSON ``{"error": {"status", "message", "details"?}}`` (:func:`json_error`);
  bad input answers 400/422 with a message per field and writes nothing.
* The OpenAPI document is served at ``/api/openapi.json`` (:mod:`core.openapi`).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, current_app, g, jsonify, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import and_, func, not_, select
from sqlalchemy.orm import defaultload, lazyload

from core import clock
from core.access import township_ids_with
from core.cases import (
    STATUS_LABELS,
    CaseError,
    accept_case,
    assign_case,
    close_case,
    decide_extension,
    deliver_case,
    forward_case,
    register_case,
    reopen_case,
    request_extension,
    resolve_case,
    start_case,
    timeliness,
    wait_for_citizen,
)
from core.db import db, utcnow
from core.extensions import csrf
from core.institutions import is_enabled
from core.models import (
    OPEN_STATUSES,
    ApiToken,
    Case,
    CaseEvent,
    CaseStatus,
    ExtensionRequest,
    OrgUnit,
    Person,
    UnitKind,
    User,
)
from core.plugins import CORE_KEY, state

bp = Blueprint("api", __name__)
#: the version 1 endpoints, mounted under the ``api`` blueprint: ``/api/v1/...``
v1 = Blueprint("v1", __name__, url_prefix="/v1")

#: every plaintext token starts with this, so a leaked one is easy to recognise
TOKEN_PREFIX = "tsk_"
#: ``last_used_at`` is written at most this often per token (not on every request)
LAST_USED_RESOLUTION = timedelta(seconds=60)
MAX_PER_PAGE = 100
#: the earliest date a case may carry (catches mistyped years such as 0225)
EARLIEST_DATE = date(2000, 1, 1)


# ---------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------


def json_error(status: int, message: str, **details):
    """Every API error: JSON with a message, never an HTML page."""
    body = {"error": {"status": status, "message": message}}
    if details:
        body["error"]["details"] = details
    return jsonify(body), status


class ApiError(Exception):
    """Raised by API views; answered with :func:`json_error`."""

    def __init__(self, status: int, message: str, **details: Any):
        super().__init__(message)
        self.status = status
        self.message = message
        self.details = details


@bp.errorhandler(ApiError)
def _api_error(exc: ApiError):
    response, status = json_error(exc.status, exc.message, **exc.details)
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="township"'
    return response, status


def _invalid(fields: dict[str, str]) -> ApiError:
    return ApiError(422, _("The request has errors; see the fields."), fields=fields)


# ---------------------------------------------------------------------------
# Tokens
# ---------------------------------------------------------------------------


def hash_token(plaintext: str) -> str:
    """The SHA-256 (hex) stored for a token."""
    return hashlib.sha256(plaintext.encode("utf-8")).hexdigest()


def create_token(user: User, name: str) -> tuple[ApiToken, str]:
    """Make an API token for ``user``, commit it, and return it with its plaintext.

    The plaintext is shown once (the CLI prints it) and never stored.
    """
    name = (name or "").strip()
    if not name:
        raise ValueError(_("Give the token a name, e.g. the system that will use it."))
    if len(name) > 120:
        raise ValueError(_("The token name is longer than 120 characters."))
    plaintext = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, name=name, token_hash=hash_token(plaintext))
    db.session.add(token)
    db.session.commit()
    return token, plaintext


def revoke_token(token: ApiToken) -> ApiToken:
    """Withdraw a token: requests carrying it answer 401 from now on."""
    token.revoked = True
    db.session.commit()
    return token


def token_for(plaintext: str) -> ApiToken | None:
    """The live token with this plaintext (not revoked, its user active), or None."""
    if not plaintext:
        return None
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(plaintext)))
    if token is None or token.revoked or not token.user.active:
        return None
    return token


@v1.before_request
def _authenticate() -> None:
    """Every /api/v1 request carries a live staff token."""
    from core.access import clear_cache

    clear_cache()
    scheme, _sep, credentials = request.headers.get("Authorization", "").partition(" ")
    credentials = credentials.strip()
    if scheme.lower() != "bearer" or not credentials:
        raise ApiError(401, _("Send a staff API token: Authorization: Bearer <token>."))
    token = token_for(credentials)
    if token is None:
        raise ApiError(401, _("This API token is unknown, revoked, or its account is disabled."))
    g.api_token = token
    g.api_user = token.user
    g._login_user = token.user  # Flask-Login's current_user (e.g. the user's language)
    now = utcnow()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        token.last_used_at = now
        db.session.commit()


@v1.teardown_request
def _forget_user(exc: BaseException | None = None) -> None:
    """Nothing of this request's user outlives it (``g`` may outlive a request in tests)."""
    for name in ("api_token", "api_user", "_login_user"):
        g.pop(name, None)


def _user() -> User:
    return g.api_user


def _townships_with(permission: str) -> set[int]:
    """Townships where the API user has ``api.use`` and ``permission``."""
    user = _user()
    return township_ids_with(user, "api.use") & township_ids_with(user, permission)


# ---------------------------------------------------------------------------
# Reading the request
# ---------------------------------------------------------------------------


def _json_object() -> dict[str, Any]:
    """The request body as a JSON object, or a 400/415 saying what is wrong."""
    if not request.is_json:
        raise ApiError(415, _("Send a JSON body with Content-Type: application/json."))
    data = request.get_json(silent=True)
    if data is None:
        raise ApiError(400, _("The body is not valid JSON."))
    if not isinstance(data, dict):
        raise ApiError(400, _("The body must be a JSON object."))
    return data


class Fields:
    """Reads typed fields from a JSON object, collecting one message per bad field."""

    def __init__(self, data: dict[str, Any], allowed: set[str]):
        self.data = data
        self.errors: dict[str, str] = {}
        for name in sorted(set(data) - allowed):
            self.errors[name] = _("Unknown field.")

    def has(self, name: str) -> bool:
        return name in self.data

    def string(
        self, name: str, *, required: bool = False, max_length: int | None = None
    ) -> str | None:
        value = self.data.get(name)
        if value is None:
            if required:
                self.errors[name] = _("This field is required.")
            return None
        if not isinstance(value, str):
            self.errors[name] = _("Must be a string.")
            return None
        value = value.strip()
        if required and not value:
            self.errors[name] = _("This field is required.")
            return None
        if max_length is not None and len(value) > max_length:
            self.errors[name] = _("Must be at most %(n)s characters.", n=max_length)
            return None
        return value

    def integer(self, name: str, *, required: bool = False, minimum: int = 1) -> int | None:
        value = self.data.get(name)
        if value is None:
            if required:
                self.errors[name] = _("This field is required.")
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.errors[name] = _("Must be an integer.")
            return None
        if value < minimum or value > 2**31 - 1:
            self.errors[name] = _("Must be an integer of at least %(n)s.", n=minimum)
            return None
        return value

    def boolean(self, name: str, default: bool = False) -> bool:
        value = self.data.get(name, default)
        if not isinstance(value, bool):
            self.errors[name] = _("Must be true or false.")
            return default
        return value

    def date(self, name: str, *, required: bool = False) -> date | None:
        """An ISO date (YYYY-MM-DD) between :data:`EARLIEST_DATE` and today."""
        value = self.data.get(name)
        if value is None:
            if required:
                self.errors[name] = _("This field is required.")
            return None
        try:
            if not isinstance(value, str):
                raise TypeError
            day = date.fromisoformat(value)
            if len(value) != 10:
                raise ValueError
        except (TypeError, ValueError):
            self.errors[name] = _("Must be a date written YYYY-MM-DD.")
            return None
        if day > clock.today():
            self.errors[name] = _("The date cannot be in the future.")
            return None
        if day < EARLIEST_DATE:
            self.errors[name] = _("The date cannot be before %(day)s.", day=EARLIEST_DATE)
            return None
        return day

    def raise_if_invalid(self) -> None:
        if self.errors:
            raise _invalid(self.errors)


def _page_args() -> tuple[int, int]:
    errors: dict[str, str] = {}
    values = {}
    default_size = min(int(current_app.config.get("PAGE_SIZE") or 20), MAX_PER_PAGE)
    for name, default, most in (("page", 1, None), ("per_page", default_size, MAX_PER_PAGE)):
        raw = request.args.get(name)
        if raw is None or raw == "":
            values[name] = default
            continue
        if not raw.isdigit() or int(raw) < 1 or (most is not None and int(raw) > most):
            errors[name] = (
                _("Must be a whole number from 1 to %(n)s.", n=most)
                if most
                else _("Must be a whole number of at least 1.")
            )
            continue
        values[name] = int(raw)
    if errors:
        raise _invalid(errors)
    return values["page"], values["per_page"]


def _page_link(page: int, per_page: int) -> str:
    args = request.args.to_dict()
    args.update(page=str(page), per_page=str(per_page))
    return f"{request.path}?{urlencode(args)}"


def _paginated(rows: list[dict[str, Any]], page: int, per_page: int, total: int) -> dict:
    pages = max(1, -(-total // per_page))
    return {
        "items": rows,
        "page": page,
        "per_page": per_page,
        "total": total,
        "pages": pages,
        "next": _page_link(page + 1, per_page) if page < pages else None,
        "prev": _page_link(min(page - 1, pages), per_page) if page > 1 else None,
    }


# ---------------------------------------------------------------------------
# Representations
# ---------------------------------------------------------------------------


def _label(obj: Any) -> str:
    """The label of a case kind in the request's language."""
    english = str(get_locale()) == "en"
    return obj.label_en if english and obj.label_en else obj.label


def _iso(value: date | datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _unit_json(unit: OrgUnit | None) -> dict[str, Any] | None:
    if unit is None:
        return None
    return {"id": unit.id, "code": unit.code, "name": unit.name}


def _user_json(user: User | None) -> dict[str, Any] | None:
    if user is None:
        return None
    return {"id": user.id, "username": user.username, "name": user.name}


def _is_overdue(case: Case, today: date) -> bool:
    return case.status in OPEN_STATUSES and case.due_on is not None and case.due_on < today


def case_json(case: Case, *, detail: bool = False) -> dict[str, Any]:
    """A case as the API shows it to staff (``detail`` adds the timeliness)."""
    kind = state().case_kinds.get(case.kind)
    body: dict[str, Any] = {
        "id": case.id,
        "receipt_no": case.receipt_no,
        "kind": case.kind,
        "kind_label": _label(kind) if kind else case.kind,
        "township": _unit_json(case.township),
        "title": case.title,
        "description": case.description,
        "applicant_id": case.applicant_id,
        "applicant_name": case.applicant_name,
        "first_responder": _user_json(case.first_responder),
        "handler": _user_json(case.handler),
        "department": _unit_json(case.department),
        "status": case.status.value,
        "status_label": str(STATUS_LABELS[case.status]),
        "received_on": _iso(case.received_on),
        "accepted_on": _iso(case.accepted_on),
        "limit": (
            {
                "amount": case.limit_amount,
                "unit": case.limit_unit.value if case.limit_unit else None,
                "max_amount": case.limit_max_amount,
            }
            if case.limit_amount is not None
            else None
        ),
        "due_on": _iso(case.due_on),
        "overdue": _is_overdue(case, clock.today(case.township_id)),
        "paused_since": _iso(case.paused_since),
        "result": case.result,
        "delivery_note": case.delivery_note,
        "closed_at": _iso(case.closed_at),
        "created_at": _iso(case.created_at),
        "updated_at": _iso(case.updated_at),
        "links": {
            "self": url_for("api.v1.get_case", ref=case.id),
            "events": url_for("api.v1.case_events", ref=case.id),
            "transitions": url_for("api.v1.case_transition", ref=case.id),
        },
    }
    if detail:
        body["timeliness"] = timeliness(case)
    return body


def _event_json(event: CaseEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "at": _iso(event.at),
        "action": event.action,
        "actor": _user_json(event.actor),
        "before": event.before,
        "after": event.after,
        "note": event.note,
    }


def _township_json(unit: OrgUnit, permissions: set[str]) -> dict[str, Any]:
    return {
        "id": unit.id,
        "code": unit.code,
        "name": unit.name,
        "timezone": unit.timezone,
        "permissions": sorted(permissions),
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


def _visible_township(code: str, field: str = "township") -> OrgUnit:
    """The township with this code if the API user may see it, else 404 (as if absent)."""
    unit = db.session.scalar(
        select(OrgUnit).where(OrgUnit.code == code, OrgUnit.kind == UnitKind.township)
    )
    if unit is None or unit.id not in township_ids_with(_user(), "api.use"):
        raise ApiError(
            404,
            _("No township with the code %(code)s is visible to you.", code=code),
            fields={field: _("No township with this code is visible to you.")},
        )
    return unit


def _case_or_404(ref: str) -> Case:
    """A case by id or receipt number, in a township the user may read; else 404."""
    readable = _townships_with("cases.read")
    if ref.isdigit():
        condition = Case.id == int(ref) if len(ref) < 10 else Case.id.is_(None)
    else:
        condition = Case.receipt_no == ref.strip().upper()
    case = None
    if readable:
        case = db.session.scalar(select(Case).where(condition, Case.township_id.in_(readable)))
    if case is None:
        raise ApiError(404, _("No case %(ref)s is visible to you.", ref=ref))
    return case


def _require_write(township_id: int) -> None:
    if township_id not in _townships_with("cases.write"):
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


# ---------------------------------------------------------------------------
# Endpoints
# ---------------------------------------------------------------------------


@v1.get("/me")
def me():
    """Who the token belongs to and what they may do in which township."""
    user = _user()
    ids = township_ids_with(user, "api.use")
    from core.access import permissions

    units = (
        db.session.scalars(select(OrgUnit).where(OrgUnit.id.in_(ids)).order_by(OrgUnit.code)).all()
        if ids
        else []
    )
    token: ApiToken = g.api_token
    return jsonify(
        id=user.id,
        username=user.username,
        name=user.name,
        email=user.email,
        token={
            "id": token.id,
            "name": token.name,
            "created_at": _iso(token.created_at),
            "last_used_at": _iso(token.last_used_at),
        },
        townships=[_township_json(u, permissions(user, u.id)) for u in units],
    )


@v1.get("/townships")
def list_townships():
    """The townships visible to the user through the API, with their permissions there."""
    from core.access import permissions

    page, per_page = _page_args()
    ids = township_ids_with(_user(), "api.use")
    total, units = 0, []
    if ids:
        where = OrgUnit.id.in_(ids)
        total = db.session.scalar(select(func.count(OrgUnit.id)).where(where)) or 0
        units = db.session.scalars(
            select(OrgUnit)
            .where(where)
            .order_by(OrgUnit.code)
            .limit(per_page)
            .offset((page - 1) * per_page)
        ).all()
    rows = [_township_json(u, permissions(_user(), u.id)) for u in units]
    return jsonify(_paginated(rows, page, per_page, total))


@v1.get("/cases")
def list_cases():
    """Cases of the user's townships, newest first, filtered and paginated on the server."""
    page, per_page = _page_args()
    readable = _townships_with("cases.read")
    errors: dict[str, str] = {}
    conditions = [Case.township_id.in_(readable)]
    status = request.args.get("status")
    if status:
        if status not in CaseStatus.__members__:
            errors["status"] = _(
                "Unknown status; use one of: %(names)s.", names=", ".join(CaseStatus)
            )
        else:
            conditions.append(Case.status == CaseStatus(status))
    kind = request.args.get("kind")
    if kind:
        if kind not in state().case_kinds:
            errors["kind"] = _("Unknown case kind.")
        conditions.append(Case.kind == kind)
    overdue = request.args.get("overdue")
    if overdue:
        if overdue.lower() not in ("true", "false", "1", "0"):
            errors["overdue"] = _("Must be true or false.")
        else:
            is_overdue = and_(
                Case.status.in_(OPEN_STATUSES),
                Case.due_on.is_not(None),
                Case.due_on < clock.today(),
            )
            conditions.append(is_overdue if overdue.lower() in ("true", "1") else not_(is_overdue))
    if errors:
        raise _invalid(errors)
    code = request.args.get("township")
    if code:
        conditions.append(Case.township_id == _visible_township(code).id)

    total, cases = 0, []
    if readable:
        where = and_(*conditions)
        total = db.session.scalar(select(func.count(Case.id)).where(where)) or 0
        cases = (
            db.session.scalars(
                _case_list_query()
                .where(where)
                .order_by(Case.id.desc())
                .limit(per_page)
                .offset((page - 1) * per_page)
            )
            .unique()
            .all()
        )
    return jsonify(_paginated([case_json(c) for c in cases], page, per_page, total))


CREATE_FIELDS = {
    "township",
    "kind",
    "title",
    "applicant_name",
    "description",
    "applicant_id",
    "handler",
    "department",
    "received_on",
    "accept",
}


@v1.post("/cases")
def create_case():
    """Register a case (the token's user is the first responder); 201 with the case."""
    fields = Fields(_json_object(), CREATE_FIELDS)
    code = fields.string("township", required=True, max_length=64)
    kind = fields.string("kind", required=True, max_length=64)
    title = fields.string("title", required=True, max_length=200)
    applicant_name = fields.string("applicant_name", required=True, max_length=120)
    description = fields.string("description", max_length=20_000)
    applicant_id = fields.integer("applicant_id")
    handler_name = fields.string("handler", max_length=64)
    department_code = fields.string("department", max_length=64)
    received_on = fields.date("received_on")
    accept = fields.boolean("accept")
    if kind and kind not in state().case_kinds:
        fields.errors["kind"] = _("Unknown case kind.")
    fields.raise_if_invalid()

    township = _visible_township(code)
    _require_write(township.id)
    if not _kind_enabled(township, kind):
        fields.errors["kind"] = _("Unknown case kind.")
    handler = department = applicant = None
    if handler_name:
        handler = _staff_of(township, handler_name)
        if handler is None:
            fields.errors["handler"] = _("No staff member with this user name works here.")
    if department_code:
        department = _station_of(township, department_code)
        if department is None:
            fields.errors["department"] = _("No station or office of this township has this code.")
    if applicant_id is not None:
        applicant = db.session.get(Person, applicant_id)
        if applicant is None or applicant.township_id != township.id:
            fields.errors["applicant_id"] = _("No person of this township has this id.")
    fields.raise_if_invalid()

    try:
        case = register_case(
            township=township,
            kind=kind,
            title=title,
            applicant_name=applicant_name,
            first_responder=_user(),
            description=description or "",
            applicant=applicant,
            handler=handler,
            department=department,
            received_on=received_on,
            accept=accept,
        )
    except CaseError as exc:
        db.session.rollback()
        raise ApiError(422, str(exc)) from exc
    response = jsonify(case_json(case, detail=True))
    response.status_code = 201
    response.headers["Location"] = url_for("api.v1.get_case", ref=case.id)
    return response


@v1.get("/cases/<ref>")
def get_case(ref: str):
    """One case, by id or receipt number."""
    return jsonify(case_json(_case_or_404(ref), detail=True))


@v1.get("/cases/<ref>/events")
def case_events(ref: str):
    """The case's trail, oldest first, paginated."""
    case = _case_or_404(ref)
    page, per_page = _page_args()
    total = (
        db.session.scalar(select(func.count(CaseEvent.id)).where(CaseEvent.case_id == case.id)) or 0
    )
    events = db.session.scalars(
        select(CaseEvent)
        .options(defaultload(CaseEvent.actor).lazyload(User.memberships))
        .where(CaseEvent.case_id == case.id)
        .order_by(CaseEvent.id)
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return jsonify(_paginated([_event_json(e) for e in events], page, per_page, total))


@dataclass(frozen=True)
class Transition:
    """What an action reads from the body and which case service it calls."""

    fields: frozenset[str]
    run: Callable[[Case, User, Fields], Any]


def _department_field(case: Case, fields: Fields) -> OrgUnit | None:
    code = fields.string("department", max_length=64)
    if not code:
        return None
    department = _station_of(case.township, code)
    if department is None:
        fields.errors["department"] = _("No station or office of this township has this code.")
    return department


def _run_accept(case: Case, user: User, fields: Fields):
    on = fields.date("on")
    fields.raise_if_invalid()
    return accept_case(case, user, on)


def _run_assign(case: Case, user: User, fields: Fields):
    if not (fields.has("handler") or fields.has("department")):
        fields.errors["handler"] = _("Give a handler, a department, or both.")
    handler = case.handler
    department = case.department
    if fields.has("handler"):
        username = fields.string("handler", max_length=64)
        handler = _staff_of(case.township, username) if username else None
        if username and handler is None:
            fields.errors["handler"] = _("No staff member with this user name works here.")
    if fields.has("department"):
        department = _department_field(case, fields)
    fields.raise_if_invalid()
    return assign_case(case, user, handler, department)


def _run_forward(case: Case, user: User, fields: Fields):
    department = _department_field(case, fields)
    note = fields.string("note", required=True, max_length=2000)
    fields.raise_if_invalid()
    return forward_case(case, user, department, note)


def _run_extension(case: Case, user: User, fields: Fields):
    amount = fields.integer("amount", required=True)
    reason = fields.string("reason", required=True, max_length=2000)
    fields.raise_if_invalid()
    return request_extension(case, user, amount, reason)


def _run_decide(case: Case, user: User, fields: Fields):
    """A leader approves or refuses the extension request waiting on this case."""
    if "approve" not in fields.data:
        fields.errors["approve"] = _("This field is required.")
    approve = fields.boolean("approve")
    note = fields.string("note", max_length=2000) or ""
    fields.raise_if_invalid()
    pending = db.session.scalar(
        select(ExtensionRequest).where(
            ExtensionRequest.case_id == case.id, ExtensionRequest.approved.is_(None)
        )
    )
    if pending is None:
        raise CaseError(_("There is no extension request to decide."))
    return decide_extension(pending, user, approve, note)


def _with_text(name: str, service: Callable[[Case, User, str], Any], required: bool = True):
    def run(case: Case, user: User, fields: Fields):
        text = fields.string(name, required=required, max_length=20_000)
        fields.raise_if_invalid()
        return service(case, user, text)

    return run


def _run_start(case: Case, user: User, fields: Fields):
    fields.raise_if_invalid()
    return start_case(case, user)


TRANSITIONS: dict[str, Transition] = {
    "accept": Transition(frozenset({"on"}), _run_accept),
    "assign": Transition(frozenset({"handler", "department"}), _run_assign),
    "start": Transition(frozenset(), _run_start),
    "wait": Transition(frozenset({"note"}), _with_text("note", wait_for_citizen)),
    "forward": Transition(frozenset({"department", "note"}), _run_forward),
    "request_extension": Transition(frozenset({"amount", "reason"}), _run_extension),
    "decide_extension": Transition(frozenset({"approve", "note"}), _run_decide),
    "resolve": Transition(frozenset({"result"}), _with_text("result", resolve_case)),
    "deliver": Transition(frozenset({"delivery_note"}), _with_text("delivery_note", deliver_case)),
    "close": Transition(frozenset({"note"}), _with_text("note", close_case, required=False)),
    "reopen": Transition(frozenset({"reason"}), _with_text("reason", reopen_case)),
}


@v1.post("/cases/<ref>/transitions")
def case_transition(ref: str):
    """Move a case on: ``{"action": "accept" | "assign" | ..., ...}``; 409 if not allowed."""
    case = _case_or_404(ref)
    _require_write(case.township_id)
    data = _json_object()
    action = data.get("action")
    if not isinstance(action, str) or action not in TRANSITIONS:
        raise _invalid(
            {"action": _("Unknown action; use one of: %(names)s.", names=", ".join(TRANSITIONS))}
        )
    transition = TRANSITIONS[action]
    fields = Fields(data, {"action", *transition.fields})
    try:
        transition.run(case, _user(), fields)
    except CaseError as exc:
        db.session.rollback()
        raise ApiError(409, str(exc)) from exc
    except ApiError:
        db.session.rollback()
        raise
    return jsonify(case_json(case, detail=True))


@bp.get("/openapi.json")
def openapi_json():
    """The OpenAPI 3.1 document of this API (no token needed)."""
    from core.openapi import openapi_document

    return jsonify(openapi_document())


bp.register_blueprint(v1)
# Flask-WTF checks the innermost blueprint: exempting ``api`` (app.py) does not cover
# ``api.v1``. Token-authenticated requests carry no session cookie to protect.
csrf.exempt(v1)
