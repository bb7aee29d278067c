"""The OpenAPI 3.1 document of the JSON API, served at ``/api/openapi.json``.

Written by hand next to :mod:`core.api`; ``tests/core/test_api.py`` validates it with
openapi-spec-validator and checks that every ``/api/v1`` route of the app appears here.
"""

from __future__ import annotations

from typing import Any

from core import __version__
from core.models import CaseStatus

OPENAPI_VERSION = "3.1.0"

#: the actions of ``POST /api/v1/cases/{ref}/transitions`` and the fields each reads
TRANSITION_FIELDS: dict[str, dict[str, Any]] = {
    "accept": {"on": {"$ref": "#/components/schemas/Date"}},
    "assign": {
        "handler": {"type": ["string", "null"], "description": "User name; null clears."},
        "department": {"type": ["string", "null"], "description": "Station code; null clears."},
    },
    "start": {},
    "wait": {"note": {"type": "string", "description": "What the citizen must bring."}},
    "forward": {
        "department": {"type": "string", "description": "Station code (optional)."},
        "note": {"type": "string", "description": "Where and why."},
    },
    "request_extension": {
        "amount": {"type": "integer", "minimum": 1, "description": "The new limit."},
        "reason": {"type": "string"},
    },
    "decide_extension": {
        "approve": {"type": "boolean", "description": "true approves, false refuses."},
        "note": {"type": "string"},
    },
    "resolve": {"result": {"type": "string"}},
    "deliver": {"delivery_note": {"type": "string"}},
    "close": {"note": {"type": "string"}},
    "reopen": {"reason": {"type": "string"}},
}
TRANSITION_REQUIRED: dict[str, list[str]] = {
    "wait": ["note"],
    "forward": ["note"],
    "request_extension": ["amount", "reason"],
    "decide_extension": ["approve"],
    "resolve": ["result"],
    "deliver": ["delivery_note"],
    "reopen": ["reason"],
}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _error(description: str) -> dict[str, Any]:
    return _json(_ref("Error"), description)


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


STANDARD_ERRORS = {
    "401": {"$ref": "#/components/responses/Unauthorized"},
    "500": {"$ref": "#/components/responses/ServerError"},
}


def _schemas() -> dict[str, Any]:
    string = {"type": "string"}
    nullable_string = {"type": ["string", "null"]}
    transition_variants = []
    for action, props in TRANSITION_FIELDS.items():
        transition_variants.append(
            {
                "type": "object",
                "title": action,
                "properties": {"action": {"const": action}, **props},
                "required": ["action", *TRANSITION_REQUIRED.get(action, [])],
                "additionalProperties": False,
            }
        )
    page_fields = {
        "page": {"type": "integer", "minimum": 1},
        "per_page": {"type": "integer", "minimum": 1, "maximum": 100},
        "total": {"type": "integer", "minimum": 0},
        "pages": {"type": "integer", "minimum": 1},
        "next": {**nullable_string, "description": "Path of the next page, or null."},
        "prev": {**nullable_string, "description": "Path of the previous page, or null."},
    }
    page_required = ["items", "page", "per_page", "total", "pages", "next", "prev"]
    return {
        "Date": {"type": "string", "format": "date", "examples": ["2025-01-24"]},
        "Error": {
            "type": "object",
            "required": ["error"],
            "properties": {
                "error": {
                    "type": "object",
                    "required": ["status", "message"],
                    "properties": {
                        "status": {"type": "integer"},
                        "message": string,
                        "details": {
                            "type": "object",
                            "properties": {
                                "fields": {
                                    "type": "object",
                                    "description": "One message per bad field.",
                                    "additionalProperties": string,
                                }
                            },
                        },
                    },
                }
            },
        },
        "Unit": {
            "type": "object",
            "required": ["id", "code", "name"],
            "properties": {"id": {"type": "integer"}, "code": string, "name": string},
        },
        "UserRef": {
            "type": "object",
            "required": ["id", "username", "name"],
            "properties": {"id": {"type": "integer"}, "username": string, "name": string},
        },
        "Township": {
            "type": "object",
            "required": ["id", "code", "name", "timezone", "permissions"],
            "properties": {
                "id": {"type": "integer"},
                "code": string,
                "name": string,
                "timezone": string,
                "permissions": {"type": "array", "items": string},
            },
        },
        "TownshipPage": {
            "type": "object",
            "required": page_required,
            "properties": {"items": {"type": "array", "items": _ref("Township")}, **page_fields},
        },
        "Me": {
            "type": "object",
            "required": ["id", "username", "name", "token", "townships"],
            "properties": {
                "id": {"type": "integer"},
                "username": string,
                "name": string,
                "email": nullable_string,
                "token": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "integer"},
                        "name": string,
                        "created_at": {"type": "string", "format": "date-time"},
                        "last_used_at": {"type": ["string", "null"], "format": "date-time"},
                    },
                },
                "townships": {"type": "array", "items": _ref("Township")},
            },
        },
        "Case": {
            "type": "object",
            "required": ["id", "receipt_no", "kind", "township", "status", "received_on"],
            "properties": {
                "id": {"type": "integer"},
                "receipt_no": {"type": "string", "description": "Public receipt number."},
                "kind": string,
                "kind_label": string,
                "township": _ref("Unit"),
                "title": string,
                "description": string,
                "applicant_id": {"type": ["integer", "null"]},
                "applicant_name": string,
                "first_responder": _ref("UserRef"),
                "handler": _nullable(_ref("UserRef")),
                "department": _nullable(_ref("Unit")),
                "status": {"type": "string", "enum": [s.value for s in CaseStatus]},
                "status_label": string,
                "received_on": _ref("Date"),
                "accepted_on": _nullable(_ref("Date")),
                "limit": _nullable(
                    {
                        "type": "object",
                        "properties": {
                            "amount": {"type": "integer"},
                            "unit": {"type": "string", "enum": ["working_days", "calendar_days"]},
                            "max_amount": {"type": ["integer", "null"]},
                        },
                    }
                ),
                "due_on": _nullable(_ref("Date")),
                "overdue": {"type": "boolean"},
                "timeliness": {
                    "type": "string",
                    "enum": ["on_time", "due_soon", "overdue", "paused", "done"],
                    "description": "Only on a single case, not in lists.",
                },
                "paused_since": _nullable(_ref("Date")),
                "result": nullable_string,
                "delivery_note": nullable_string,
                "closed_at": {"type": ["string", "null"], "format": "date-time"},
                "created_at": {"type": "string", "format": "date-time"},
                "updated_at": {"type": "string", "format": "date-time"},
                "links": {
                    "type": "object",
                    "properties": {"self": string, "events": string, "transitions": string},
                },
            },
        },
        "CasePage": {
            "type": "object",
            "required": page_required,
            "properties": {"items": {"type": "array", "items": _ref("Case")}, **page_fields},
        },
        "NewCase": {
            "type": "object",
            "required": ["township", "kind", "title", "applicant_name"],
            "additionalProperties": False,
            "properties": {
                "township": {
                    "type": "string",
                    "description": "Code of a township you may write in.",
                },
                "kind": {"type": "string", "description": "A case kind, e.g. inquiry, service."},
                "title": {"type": "string", "maxLength": 200},
                "applicant_name": {"type": "string", "maxLength": 120},
                "description": string,
                "applicant_id": {"type": "integer", "description": "A person of the township."},
                "handler": {"type": "string", "description": "User name of the handler."},
                "department": {"type": "string", "description": "Code of a station."},
                "received_on": {**_ref("Date"), "description": "Default today; never later."},
                "accept": {
                    "type": "boolean",
                    "default": False,
                    "description": "Accept at once (the time limit starts).",
                },
            },
        },
        "Event": {
            "type": "object",
            "required": ["id", "at", "action"],
            "properties": {
                "id": {"type": "integer"},
                "at": {"type": "string", "format": "date-time"},
                "action": string,
                "actor": _nullable(_ref("UserRef")),
                "before": {"type": ["object", "null"]},
                "after": {"type": ["object", "null"]},
                "note": nullable_string,
            },
        },
        "EventPage": {
            "type": "object",
            "required": page_required,
            "properties": {"items": {"type": "array", "items": _ref("Event")}, **page_fields},
        },
        "Transition": {
            "description": "An action and the fields it reads.",
            "oneOf": transition_variants,
            "discriminator": {"propertyName": "action"},
        },
    }


def _page_parameters() -> list[dict[str, Any]]:
    return [
        {"$ref": "#/components/parameters/page"},
        {"$ref": "#/components/parameters/per_page"},
    ]


def openapi_document() -> dict[str, Any]:
    """The whole OpenAPI document (a plain dict, ready for ``jsonify``)."""
    case_ref = {"$ref": "#/components/parameters/case_ref"}
    not_found = _error("No such object in your townships (another township's answers the same).")
    invalid = _error("Bad input; `details.fields` has a message per field. Nothing was written.")
    bad_body = _error("The body is not a JSON object.")
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "Township service platform API",
            "version": __version__,
            "description": (
                "Staff API of a township service platform. Authenticate with "
                "`Authorization: Bearer <token>` (a token made with "
                "`township users token USERNAME`). Everything is scoped to the "
                "townships where you hold a role granting `api.use`; an object of "
                "another township answers 404. Errors are JSON objects with a message."
            ),
        },
        "servers": [{"url": "/"}],
        "security": [{"bearerAuth": []}],
        "tags": [{"name": "cases"}, {"name": "townships"}, {"name": "meta"}],
        "paths": {
            "/api/openapi.json": {
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
            "/api/v1/me": {
                "get": {
                    "tags": ["meta"],
                    "summary": "The token's user and their townships",
                    "operationId": "me",
                    "responses": {"200": _json(_ref("Me"), "The user."), **STANDARD_ERRORS},
                }
            },
            "/api/v1/townships": {
                "get": {
                    "tags": ["townships"],
                    "summary": "Townships visible to you",
                    "operationId": "listTownships",
                    "parameters": _page_parameters(),
                    "responses": {
                        "200": _json(_ref("TownshipPage"), "A page of townships."),
                        "422": invalid,
                        **STANDARD_ERRORS,
                    },
                }
            },
            "/api/v1/cases": {
                "get": {
                    "tags": ["cases"],
                    "summary": "Cases of your townships, newest first",
                    "operationId": "listCases",
                    "parameters": [
                        *_page_parameters(),
                        {
                            "name": "status",
                            "in": "query",
                            "schema": {"type": "string", "enum": [s.value for s in CaseStatus]},
                        },
                        {"name": "kind", "in": "query", "schema": {"type": "string"}},
                        {
                            "name": "township",
                            "in": "query",
                            "description": "A township code (404 if not visible to you).",
                            "schema": {"type": "string"},
                        },
                        {
                            "name": "overdue",
                            "in": "query",
                            "description": "Open cases past their due date (true) or not.",
                            "schema": {"type": "boolean"},
                        },
                    ],
                    "responses": {
                        "200": _json(_ref("CasePage"), "A page of cases."),
                        "404": not_found,
                        "422": invalid,
                        **STANDARD_ERRORS,
                    },
                },
                "post": {
                    "tags": ["cases"],
                    "summary": "Register a case (you are its first responder)",
                    "operationId": "createCase",
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": _ref("NewCase")}},
                    },
                    "responses": {
                        "201": _json(_ref("Case"), "The case, registered."),
                        "400": bad_body,
                        "403": _error("You may not write in this township."),
                        "404": not_found,
                        "415": _error("The body is not JSON."),
                        "422": invalid,
                        **STANDARD_ERRORS,
                    },
                },
            },
            "/api/v1/cases/{ref}": {
                "get": {
                    "tags": ["cases"],
                    "summary": "One case by id or receipt number",
                    "operationId": "getCase",
                    "parameters": [case_ref],
                    "responses": {
                        "200": _json(_ref("Case"), "The case."),
                        "404": not_found,
                        **STANDARD_ERRORS,
                    },
                }
            },
            "/api/v1/cases/{ref}/events": {
                "get": {
                    "tags": ["cases"],
                    "summary": "The case's trail, oldest first",
                    "operationId": "listCaseEvents",
                    "parameters": [case_ref, *_page_parameters()],
                    "responses": {
                        "200": _json(_ref("EventPage"), "A page of events."),
                        "404": not_found,
                        "422": invalid,
                        **STANDARD_ERRORS,
                    },
                }
            },
            "/api/v1/cases/{ref}/transitions": {
                "post": {
                    "tags": ["cases"],
                    "summary": "Move a case on (accept, assign, start, wait, forward, ...)",
                    "operationId": "transitionCase",
                    "parameters": [case_ref],
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": _ref("Transition")}},
                    },
                    "responses": {
                        "200": _json(_ref("Case"), "The case after the transition."),
                        "400": bad_body,
                        "403": _error("You may read but not change this township's cases."),
                        "404": not_found,
                        "409": _error("The case's state does not allow this; nothing changed."),
                        "415": _error("The body is not JSON."),
                        "422": invalid,
                        **STANDARD_ERRORS,
                    },
                }
            },
        },
        "components": {
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A staff API token.",
                }
            },
            "parameters": {
                "page": {
                    "name": "page",
                    "in": "query",
                    "schema": {"type": "integer", "minimum": 1, "default": 1},
                },
                "per_page": {
                    "name": "per_page",
                    "in": "query",
                    "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20},
                },
                "case_ref": {
                    "name": "ref",
                    "in": "path",
                    "required": True,
                    "description": "The case's id or its receipt number.",
                    "schema": {"type": "string"},
                },
            },
            "responses": {
                "Unauthorized": _error("No token, or an unknown or revoked one."),
                "ServerError": _error("An unexpected error; it was logged."),
            },
            "schemas": _schemas(),
        },
    }
