"""The JSON API under ``/api/v1`` on flask-smorest: one set of marshmallow schemas
validates the input, shapes the output and writes the OpenAPI document
(``/api/openapi.json``).

* Authentication: ``Authorization: Bearer <token>``. A token belongs to a staff
  user; only its SHA-256 is stored (:class:`~core.models.ApiToken`). Tokens are
  made with :func:`create_token` (``township users token USERNAME``) and
  withdrawn with :func:`revoke_token`.
* Scope: a user sees, through the API, only the townships where one of their roles
  grants ``api.use``; reading cases also needs ``cases.read`` there, changing them
  ``cases.write``. Anything of another township answers 404, as if it did not exist.
* Errors are JSON ``{"error": {"status", "message", "details"?}}``; bad input answers
  422 with a message per field in ``details.fields`` and writes nothing; a body that
  is not a JSON object answers 400 (415 if it is not JSON at all).
* Plugins add resources with the hook ``township_api_resources``: blueprints made
  with :class:`ApiBlueprint`, mounted at ``/api/v1/<key>/``, in the same document.
  A route with ``<code:township>`` in its path gets the township (an
  :class:`~core.models.OrgUnit`) as its ``township`` argument; a township the user
  cannot see through the API, or that has not enabled the plugin, answers 404. Other
  converters: ``<case_ref:ref>``, ``<month:month>`` (YYYY-MM, given as a tuple).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

import flask_smorest
from flask import Flask, Response, current_app, g, jsonify, request
from flask_babel import gettext as _
from sqlalchemy import select
from webargs.flaskparser import FlaskParser
from werkzeug.exceptions import HTTPException
from werkzeug.routing import BaseConverter

from core.api import fields as f
from core.db import db, utcnow
from core.models import ApiToken, OrgUnit, UnitKind, User

#: every plaintext token starts with this, so a leaked one is easy to recognise
TOKEN_PREFIX = "tsk_"
#: ``last_used_at`` is written at most this often per token (not on every request)
LAST_USED_RESOLUTION = timedelta(seconds=60)
#: where plugin resources live: ``/api/v1/<key>/...``
V1 = "/api/v1"

#: a township's (or any org unit's) code in a path
CODE_PATTERN = r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}"
#: a case's id or receipt number in a path
CASE_REF_PATTERN = r"[A-Za-z0-9][A-Za-z0-9_\-]{0,39}"
#: a month in a path, YYYY-MM
MONTH_PATTERN = r"[12][0-9]{3}-(?:0[1-9]|1[0-2])"


# ---------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------


def json_error(status: int, message: str, **details: Any) -> Response:
    """Every API error: JSON with a message, never an HTML page (a response with its
    status set, so a caller may add headers)."""
    body: dict[str, Any] = {"error": {"status": status, "message": str(message)}}
    if details:
        body["error"]["details"] = details
    response = jsonify(body)
    response.status_code = status
    return response


class ApiError(Exception):
    """Raised by API views (the core's and plugins'); answered with :func:`json_error`.

    ``fields`` (a dict of field → message) and ``problems`` (a list) go into
    ``details``.
    """

    def __init__(self, status: int, message: str, **details: Any):
        super().__init__(message)
        self.status = status
        self.message = message
        self.details = details


def invalid(fields_: dict[str, str], message: str | None = None) -> ApiError:
    """A 422 naming the bad fields (nothing was written)."""
    return ApiError(422, message or _("The request has errors; see the fields."), fields=fields_)


def _api_error(exc: ApiError) -> Response:
    response = json_error(exc.status, exc.message, **exc.details)
    if exc.status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="township"'
    return response


def _flatten(messages: Any, prefix: str = "") -> dict[str, str]:
    """webargs' nested messages (``{"json": {"title": ["..."]}}``) as ``{"title": "..."}``."""
    out: dict[str, str] = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            out.update(_flatten(value, name))
    elif isinstance(messages, (list, tuple)):
        texts = [str(m) for m in messages if not isinstance(m, (dict, list, tuple))]
        if texts:
            out[prefix or "_schema"] = " ".join(texts)
        for item in messages:
            if isinstance(item, (dict, list, tuple)):
                out.update(_flatten(item, prefix))
    else:
        out[prefix or "_schema"] = str(messages)
    return out


def http_error(exc: HTTPException):
    """Any HTTP error under ``/api/`` as JSON, keeping its headers (``Allow`` on a 405,
    ``Retry-After`` on a 429, ``WWW-Authenticate`` on a 401)."""
    status = exc.code or 500
    data = getattr(exc, "data", None) or {}
    details: dict[str, Any] = {}
    message = data.get("message")
    if data.get("messages"):
        locations = data["messages"]
        merged: dict[str, str] = {}
        for value in locations.values() if isinstance(locations, dict) else [locations]:
            merged.update(_flatten(value))
        details["fields"] = merged
        message = message or _("The request has errors; see the fields.")
    if status == 405:
        message = message or _("This address does not answer that method.")
    elif status == 404:
        message = message or _("Nothing is here. Check the address.")
    elif status == 429:
        message = message or _("Too many requests. Wait a moment and try again.")
    response = json_error(status, message or exc.description or exc.name, **details)
    for name, value in exc.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    for name, value in (data.get("headers") or {}).items():
        response.headers[name] = value
    if status == 401:
        response.headers.setdefault("WWW-Authenticate", 'Bearer realm="township"')
    return response


# ---------------------------------------------------------------------------
# The extension, the blueprint class, request parsing
# ---------------------------------------------------------------------------


class ErrorDetails(f.OutputSchema):
    fields = f.Dict(
        keys=f.String(),
        values=f.String(),
        metadata={"description": "One message per bad field (nested fields joined by dots)."},
    )
    problems = f.List(f.String(), metadata={"description": "Every reason a change was refused."})


class ErrorBody(f.OutputSchema):
    status = f.Integer(required=True, metadata={"description": "The HTTP status."})
    message = f.String(required=True, metadata={"description": "For people to read."})
    details = f.Nested(ErrorDetails)


class ErrorSchema(f.OutputSchema):
    """Every error of the API."""

    error = f.Nested(ErrorBody, required=True)


#: the error responses, as documented once in ``components/responses``
ERROR_RESPONSES = {
    400: ("BadBody", "The body is not valid JSON, or not a JSON object. Nothing was written."),
    401: ("Unauthorized", "No token, or an unknown or revoked one."),
    403: ("Forbidden", "You may read but not change this."),
    404: (
        "NotFound",
        "No such object in your townships (another township's answers the same).",
    ),
    409: ("Conflict", "The object's state does not allow this; nothing changed."),
    415: ("NotJson", "The body is not JSON (send Content-Type: application/json)."),
    422: ("Invalid", "Bad input; `details.fields` has a message per field. Nothing was written."),
}


class Parser(FlaskParser):
    """webargs' parser: a body must be a JSON object (400), sent as JSON (415)."""

    DEFAULT_VALIDATION_STATUS = 422

    def load_json(self, req, schema):
        if not req.is_json:
            raise ApiError(415, _("Send a JSON body with Content-Type: application/json."))
        data = req.get_json(silent=True)
        if data is None:
            raise ApiError(400, _("The body is not valid JSON."))
        if not isinstance(data, dict):
            raise ApiError(400, _("The body must be a JSON object."))
        return data


class ApiBlueprint(flask_smorest.Blueprint):
    """A flask-smorest blueprint whose every operation needs a token (401 documented),
    whose JSON bodies are JSON objects (400, 415 documented), and which documents the
    errors it names with :meth:`errors`."""

    ARGUMENTS_PARSER = Parser()

    def route(self, rule, *, parameters=None, tags=None, **options):
        base = super().route

        def decorator(func):
            func = self.errors(401)(func)
            return base(rule, parameters=parameters, tags=tags, **options)(func)

        return decorator

    def arguments(self, schema, *, location="json", **kwargs):
        decorator = super().arguments(schema, location=location, **kwargs)
        if location != "json":

            def with_invalid(func):
                func = decorator(func)
                func._apidoc["arguments"]["responses"][422] = ERROR_RESPONSES[422][0]
                return func

            return with_invalid

        def with_body_errors(func):
            func = decorator(func)
            # the 422 flask-smorest documents points at the platform's own response
            func._apidoc["arguments"]["responses"][422] = ERROR_RESPONSES[422][0]
            return self.errors(400, 415)(func)

        return with_body_errors

    def errors(self, *statuses: int):
        """Document these error statuses (404, 409 ...) on the operation."""

        def decorator(func):
            for status in statuses:
                func = self.alt_response(status, response=ERROR_RESPONSES[status][0])(func)
            return func

        return decorator


class Api(flask_smorest.Api):
    """flask-smorest with the platform's error shape; the app's own error handler
    answers every HTTP error (JSON under /api/, pages elsewhere)."""

    ERROR_SCHEMA = ErrorSchema
    DEFAULT_ERROR_RESPONSE_NAME = None

    def _register_error_handlers(self):
        """Not flask-smorest's handler: :func:`http_error` via ``core.app``."""


class CodeConverter(BaseConverter):
    """``<code:township>``: an org unit's code (anything else never reaches a view)."""

    regex = CODE_PATTERN


class CaseRefConverter(BaseConverter):
    """``<case_ref:ref>``: a case's id or receipt number."""

    regex = CASE_REF_PATTERN


class MonthConverter(BaseConverter):
    """``<month:month>``: a month written YYYY-MM, given to the view as ``(year, month)``."""

    regex = MONTH_PATTERN

    def to_python(self, value: str) -> tuple[int, int]:
        return int(value[:4]), int(value[5:])

    def to_url(self, value) -> str:
        return value if isinstance(value, str) else f"{value[0]:04d}-{value[1]:02d}"


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


# ---------------------------------------------------------------------------
# The request's user and townships (for the core's and plugins' resources)
# ---------------------------------------------------------------------------


def api_user() -> User:
    """The staff user whose token signed this request."""
    return g.api_user


def townships_with(permission: str | None = None, plugin: str | None = None) -> set[int]:
    """Townships where the API user holds ``api.use`` (and ``permission``), and which
    enabled ``plugin`` if given."""
    from core.access import township_ids_with

    user = api_user()
    ids = township_ids_with(user, "api.use")
    if permission:
        ids &= township_ids_with(user, permission)
    if plugin:
        from core.institutions import townships_enabling

        ids &= townships_enabling(plugin)
    return ids


def visible_township(code: str, field: str = "township", plugin: str | None = None) -> OrgUnit:
    """The township with this code if the API user may use it (and it enabled ``plugin``),
    else a 404 as if it did not exist."""
    unit = db.session.scalar(
        select(OrgUnit).where(OrgUnit.code == code, OrgUnit.kind == UnitKind.township)
    )
    if unit is None or unit.id not in townships_with(plugin=plugin):
        raise ApiError(
            404,
            _("No township with the code %(code)s is visible to you.", code=code),
            fields={field: _("No township with this code is visible to you.")},
        )
    return unit


def require(permission: str, township_id: int) -> None:
    """403 unless the API user holds ``permission`` in the township."""
    from core.access import can

    if not can(api_user(), permission, township_id):
        raise ApiError(403, _("You may read but not change this in this township."))


def _authenticate() -> None:
    """Every request to an API resource carries a live staff token; a plugin route's
    ``township`` becomes the township (404 if not visible or the plugin is off there)."""
    owners: dict[str, str] = current_app.extensions["township_api"]["blueprints"]
    if request.blueprint not in owners:
        return
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
    key = owners[request.blueprint]
    if key != "core" and request.view_args and "township" in request.view_args:
        unit = visible_township(request.view_args["township"], plugin=key)
        request.view_args["township"] = unit
        g.api_township = unit


def _forget_user(exc: BaseException | None = None) -> None:
    """Nothing of this request's user outlives it (``g`` may outlive a request in tests)."""
    for name in ("api_token", "api_user", "_login_user", "api_township"):
        g.pop(name, None)


# ---------------------------------------------------------------------------
# Wiring (called by the app factory)
# ---------------------------------------------------------------------------

DESCRIPTION = (
    "Staff API of a township service platform. Authenticate with "
    "`Authorization: Bearer <token>` (a token made with `township users token USERNAME`). "
    "Everything is scoped to the townships where you hold a role granting `api.use`; an "
    "object of another township answers 404. Errors are JSON objects "
    '`{"error": {"status", "message", "details"}}`. Institutions add their resources '
    "under `/api/v1/<institution>/`; they answer 404 for a township that has not "
    "enabled the institution."
)


def init_api(app: Flask, township) -> Api:
    """Register the core's resources and every plugin's (``township_api_resources``)."""
    from core import __version__
    from core.api import resources
    from core.extensions import csrf
    from core.plugins import CORE_KEY, PluginError, check_endpoint

    app.url_map.converters["code"] = CodeConverter
    app.url_map.converters["case_ref"] = CaseRefConverter
    app.url_map.converters["month"] = MonthConverter
    app.config.setdefault("API_TITLE", "Township service platform API")
    app.config.setdefault("API_VERSION", __version__)
    app.config.setdefault("OPENAPI_VERSION", "3.1.0")
    app.config.setdefault("OPENAPI_URL_PREFIX", "/api")
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    api = Api(
        app,
        spec_kwargs={
            "info": {"description": DESCRIPTION},
            "servers": [{"url": "/"}],
            "security": [{"bearerAuth": []}],
        },
    )
    api.spec.components.security_scheme(
        "bearerAuth", {"type": "http", "scheme": "bearer", "description": "A staff API token."}
    )
    for name, description in ERROR_RESPONSES.values():
        api.spec.components.response(
            name,
            {
                "description": description,
                "content": {"application/json": {"schema": "Error"}},
            },
        )
    api.register_converter(
        CodeConverter, lambda c: {"type": "string", "pattern": f"^{CODE_PATTERN}$"}
    )
    api.register_converter(
        CaseRefConverter, lambda c: {"type": "string", "pattern": f"^{CASE_REF_PATTERN}$"}
    )
    api.register_converter(
        MonthConverter, lambda c: {"type": "string", "pattern": f"^{MONTH_PATTERN}$"}
    )
    api.spec.path(
        rule=next(app.url_map.iter_rules(f"{api._make_doc_blueprint_name()}.openapi_json")),
        operations={
            "get": {
                "tags": ["meta"],
                "summary": "This document",
                "operationId": "openapi",
                "security": [],
                "responses": {
                    "200": {
                        "description": "The OpenAPI document.",
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    }
                },
            }
        },
    )

    owners: dict[str, str] = {}
    resources.document(api)
    api.register_blueprint(resources.bp, url_prefix=V1)
    owners[resources.bp.name] = CORE_KEY
    csrf.exempt(resources.bp)
    for key in township.plugins:
        if key == CORE_KEY:
            continue
        groups = township.call_for(key, "township_api_resources")
        for blp in (b for group in groups for b in group or ()):
            if not isinstance(blp, flask_smorest.Blueprint):
                raise PluginError(
                    f"plugin {key!r}: township_api_resources must return core.api.ApiBlueprint"
                    f" objects, not {type(blp).__name__}"
                )
            check_endpoint(key, blp.name, "API blueprint")
            api.register_blueprint(blp, url_prefix=f"{V1}/{key}")
            owners[blp.name] = key
            csrf.exempt(blp)
    app.extensions["township_api"] = {"api": api, "blueprints": owners}
    app.before_request(_authenticate)
    app.teardown_request(_forget_user)
    app.register_error_handler(ApiError, _api_error)
    return api
