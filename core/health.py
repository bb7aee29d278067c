"""Probes for load balancers and operators: alive, and ready (database and broker)."""

from __future__ import annotations

import logging

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

from core.db import db

bp = Blueprint("health", __name__)
log = logging.getLogger(__name__)


@bp.get("/healthz")
def healthz():
    """The process answers."""
    return jsonify(status="ok")


def _check_broker() -> str | None:
    url = current_app.config.get("BROKER_URL")
    if not url:
        return None
    broker = current_app.extensions["township_broker"]
    try:
        if url.startswith(("redis", "unix")):
            broker.client.ping()
        else:
            broker.connection  # noqa: B018 - opening the connection is the check
            broker.channel.queue_declare("core", durable=True, passive=True)
    except Exception as exc:
        log.warning("broker not reachable: %s", exc)
        return f"broker: {type(exc).__name__}"
    return None


@bp.get("/readyz")
def readyz():
    """The database and the broker are reachable."""
    problems = []
    try:
        db.session.execute(text("SELECT 1"))
    except Exception as exc:
        log.warning("database not reachable: %s", exc)
        problems.append(f"database: {type(exc).__name__}")
    finally:
        db.session.remove()
    broker_problem = _check_broker()
    if broker_problem:
        problems.append(broker_problem)
    if problems:
        return jsonify(status="unavailable", problems=problems), 503
    return jsonify(status="ready")
