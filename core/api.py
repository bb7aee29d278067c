"""The JSON API under /api/v1 (staff token authentication, township-scoped)."""

from __future__ import annotations

from flask import Blueprint, jsonify

bp = Blueprint("api", __name__)


def json_error(status: int, message: str, **details):
    """Every API error: JSON with a message, never an HTML page."""
    body = {"error": {"status": status, "message": message}}
    if details:
        body["error"]["details"] = details
    return jsonify(body), status
