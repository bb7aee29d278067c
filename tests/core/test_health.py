"""Probes: /healthz is alive; /readyz checks the database and the broker, quickly."""

from __future__ import annotations

import time

import pytest

from core.testing.fixtures import amqp_url, built_app, redis_url, require_service

#: a port nothing listens on: connections are refused at once
CLOSED_REDIS = "redis://127.0.0.1:1/0"
CLOSED_AMQP = "amqp://guest:s3cret-pw@127.0.0.1:1/%2F"
CLOSED_DATABASE = "postgresql://postgres:s3cret-pw@127.0.0.1:1/township"


def test_healthz_answers_while_the_process_runs(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_readyz_is_ready_with_the_database_up(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ready"
    assert body["checks"] == {"database": "ok", "broker": "embedded"}


@pytest.mark.parametrize("broker_url", [CLOSED_REDIS, CLOSED_AMQP], ids=["redis", "rabbitmq"])
def test_readyz_names_an_unreachable_broker(app, broker_url):
    started = time.monotonic()
    with built_app(app, BROKER_URL=broker_url) as other:
        assert time.monotonic() - started < 10, "building the app waited for the broker"
        started = time.monotonic()
        response = other.test_client().get("/readyz")
        assert time.monotonic() - started < 5, "the probe waited too long for the broker"
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "unavailable"
    assert body["checks"] == {"database": "ok", "broker": "unreachable"}
    assert len(body["problems"]) == 1 and body["problems"][0].startswith("broker:")
    assert "s3cret-pw" not in response.get_data(as_text=True)


def test_readyz_names_an_unreachable_database(app):
    with built_app(app, DATABASE_URL=CLOSED_DATABASE) as other:
        started = time.monotonic()
        response = other.test_client().get("/readyz")
        assert time.monotonic() - started < 5
        assert other.test_client().get("/healthz").status_code == 200
    assert response.status_code == 503
    body = response.get_json()
    assert body["checks"] == {"database": "unreachable", "broker": "embedded"}
    assert body["problems"][0].startswith("database:")
    assert "s3cret-pw" not in response.get_data(as_text=True)


@pytest.mark.services
@pytest.mark.parametrize("which", ["redis", "rabbitmq"])
def test_readyz_is_ready_with_a_real_broker(app, which):
    url = require_service(redis_url() if which == "redis" else amqp_url(), which)
    with built_app(app, BROKER_URL=url) as other:
        response = other.test_client().get("/readyz")
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["checks"] == {"database": "ok", "broker": "ok"}


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("amqp://guest:pw@host:5672/%2F", "amqp://guest:***@host:5672/%2F"),
        ("redis://:pw@host:6379/0", "redis://:***@host:6379/0"),
        ("redis://host:6379/0", "redis://host:6379/0"),
    ],
)
def test_broker_urls_are_shown_without_their_password(url, shown):
    from core.health import redacted

    assert redacted(url) == shown
