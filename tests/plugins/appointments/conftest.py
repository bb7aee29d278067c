"""Fixtures of the leader appointments tests: an enabled township, a leader who is away,
a card taken for them.

Run with ``TOWNSHIP_TEST_EXTRA_PLUGINS=plugins.appointments`` until the plugin is
registered as an entry point.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.testing.fixtures import PASSWORD


@pytest.fixture
def appointments_township(db, township):
    from core.institutions import set_enabled

    set_enabled(township, "appointments", True)
    return township


@pytest.fixture
def away(db, appointments_township, clerk):
    """Record ``user`` as away from an hour ago for two days; returns the absence."""
    from core import clock, presence

    def _away(user, township=None, reason="到县里开会"):
        now = clock.now_utc()
        return presence.record_absence(
            township or appointments_township,
            user,
            now - timedelta(hours=1),
            now + timedelta(days=2),
            reason,
            by=clerk,
        )

    return _away


@pytest.fixture
def card_input():
    from plugins.appointments.services import CardInput

    def _input(leader, **changes):
        values = {
            "citizen_name": "刘桂兰",
            "phone": "13904711234",
            "address": "东村三组18号",
            "matter": "老房屋顶漏雨，申请危房改造补助",
            "leader_id": leader.id,
            "channel": "visit",
        }
        values.update(changes)
        return CardInput(**values)

    return _input


@pytest.fixture
def away_card(db, appointments_township, clerk, leader, away, card_input):
    """A card taken by the clerk for the leader, who is away."""
    from plugins.appointments import services

    away(leader)
    card = services.take_card(appointments_township, card_input(leader), taken_by=clerk)
    return card


def login(client, user):
    response = client.post("/login", data={"username": user.username, "password": PASSWORD})
    assert response.status_code in (302, 303), response.status_code
    return response
