"""Fixtures of the extended hours tests: an enabled township and its window rota.

Run with ``TOWNSHIP_TEST_EXTRA_PLUGINS=plugins.feedback,plugins.extended_hours`` until
the plugins are registered as entry points.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from core.testing.fixtures import PASSWORD

WORKING, REST = False, True
SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(day: date, hour: int, minute: int = 0) -> datetime:
    """A moment of the township's day (Asia/Shanghai)."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=SHANGHAI)


@pytest.fixture
def hours_township(db, township):
    from core.institutions import set_enabled

    set_enabled(township, "extended_hours", True)
    return township


@pytest.fixture
def put_on(db, township):
    """Put ``user`` in ``post`` (default: the windows) on ``days`` ([(weekday, rest_day)])."""
    from core import duty
    from core.models import DutyPost

    def _put(user, days, since=date(2025, 1, 1), post=DutyPost.window):
        return duty.add_to_pattern(township, post, user, days, valid_from=since)

    return _put


def login(client, user):
    response = client.post("/login", data={"username": user.username, "password": PASSWORD})
    assert response.status_code in (302, 303), response.status_code
    return response
