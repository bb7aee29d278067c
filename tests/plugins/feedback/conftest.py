"""Fixtures of the information feedback tests: an enabled township, its rota, villages.

Run with ``TOWNSHIP_TEST_EXTRA_PLUGINS=plugins.feedback,plugins.extended_hours`` until
the plugins are registered as entry points.
"""

from __future__ import annotations

from datetime import date

import pytest

from core.testing.fixtures import PASSWORD

WORKING, REST = False, True


@pytest.fixture
def feedback_township(db, township):
    from core.institutions import set_enabled

    set_enabled(township, "feedback", True)
    return township


@pytest.fixture
def on_hotline(db, township):
    """Put ``user`` on the duty phone on ``days`` ([(weekday, rest_day)]) from ``since``."""
    from core import duty
    from core.models import DutyPost

    def _put(user, days, since=date(2025, 1, 1), post=DutyPost.hotline):
        return duty.add_to_pattern(township, post, user, days, valid_from=since)

    return _put


@pytest.fixture
def villages(db, create_unit, township):
    return [
        create_unit(name, f"east-v{n}", "village", township)
        for n, name in enumerate(["前进村", "红星村", "光明村"], 1)
    ]


def login(client, user):
    response = client.post("/login", data={"username": user.username, "password": PASSWORD})
    assert response.status_code in (302, 303), response.status_code
    return response
