"""Probes for load balancers and operators: alive, and ready (database and broker).

``/healthz`` answers as long as the process serves requests. ``/readyz`` checks that
the database answers ``SELECT 1`` and that the broker (Redis or RabbitMQ, when one
is configured) accepts a connection within :data:`CHECK_TIMEOUT_SECONDS`; it answers
503 with the name of each problem otherwise. The broker check opens its own short
connection, so a dead broker never makes the probe (or the app) hang.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit, urlunsplit

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

from core.db import db

bp = Blueprint("health", __name__)
log = logging.getLogger(__name__)

#: how long a broker check may take before the broker counts as unreachable
CHECK_TIMEOUT_SECONDS = 2.0


@bp.get("/healthz")
def healthz():
    """The process answers."""
    return jsonify(status="ok")


def redacted(url: str) -> str:
    """The URL without its password, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)[1]
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc}"))


def check_redis(url: str, timeout: float = CHECK_TIMEOUT_SECONDS) -> None:
    """Raise unless the Redis server at ``url`` answers PING within ``timeout`` seconds."""
    import redis

    client = redis.Redis.from_url(
        url,
        socket_connect_timeout=timeout,
        socket_timeout=timeout,
        retry_on_timeout=False,
    )
    try:
        client.ping()
    finally:
        client.close()


def check_rabbitmq(url: str, timeout: float = CHECK_TIMEOUT_SECONDS) -> None:
    """Raise unless the RabbitMQ server at ``url`` opens a connection and a channel."""
    import pika

    params = pika.URLParameters(url)
    params.connection_attempts = 1
    params.retry_delay = 0
    params.socket_timeout = timeout
    params.stack_timeout = timeout * 2
    params.blocked_connection_timeout = timeout
    connection = pika.BlockingConnection(params)
    try:
        connection.channel().close()
    finally:
        connection.close()


def check_broker(url: str | None) -> str | None:
    """None if the broker is reachable (or embedded), else what is wrong with it."""
    if not url:
        return None
    try:
        if url.startswith(("redis://", "rediss://", "unix://")):
            check_redis(url)
        elif url.startswith(("amqp://", "amqps://")):
            check_rabbitmq(url)
        else:
            return f"broker: unsupported URL {redacted(url)}"
    except Exception as exc:
        log.warning("broker at %s not reachable: %r", redacted(url), exc)
        return f"broker: {redacted(url)} unreachable ({type(exc).__name__})"
    return None


def check_database() -> str | None:
    """None if the database answers ``SELECT 1``, else what is wrong with it."""
    try:
        db.session.execute(text("SELECT 1"))
    except Exception as exc:
        log.warning("database not reachable: %r", exc)
        return f"database: unreachable ({type(exc).__name__})"
    finally:
        db.session.remove()
    return None


@bp.get("/readyz")
def readyz():
    """The database and the broker are reachable: 200, else 503 naming each problem."""
    broker_url = current_app.config.get("BROKER_URL")
    checks = {"database": check_database(), "broker": check_broker(broker_url)}
    problems = [problem for problem in checks.values() if problem]
    body = {
        "status": "unavailable" if problems else "ready",
        "checks": {
            "database": "unreachable" if checks["database"] else "ok",
            "broker": "unreachable" if checks["broker"] else ("ok" if broker_url else "embedded"),
        },
    }
    if problems:
        body["problems"] = problems
        return jsonify(body), 503
    return jsonify(body)
