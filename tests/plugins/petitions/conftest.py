"""Fixtures of the petition institution's tests: an enabled township, the petition officer,
the executive deputy party secretary, observers, a session held today, petitions.

The plugin loads as an entry point or, before it is registered, with
``TOWNSHIP_TEST_EXTRA_PLUGINS=plugins.petitions``.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

SHANGHAI = ZoneInfo("Asia/Shanghai")
#: valid resident ID numbers (GB 11643 check digits)
ID_LI = "150102198809234520"
ID_GAO = "150102199007152421"
ID_ZHAO = "150102199203111811"


def at(*args):
    """Travel to a moment of the township's clock (Asia/Shanghai)."""
    return time_machine.travel(datetime(*args, tzinfo=SHANGHAI), tick=False)


@pytest.fixture(autouse=True)
def _petitions_loaded(app):
    from core.plugins import state

    if "petitions" not in state(app).plugins:
        pytest.fail(
            "the petitions plugin is not loaded: register its entry point or run with "
            "TOWNSHIP_TEST_EXTRA_PLUGINS=plugins.petitions"
        )


@pytest.fixture
def petitions_township(db, township):
    from core.institutions import set_enabled

    set_enabled(township, "petitions", True)
    return township


@pytest.fixture
def officer(create_user, township):
    return create_user(
        "officer", "petitions_officer", township, name="周信访", email="officer@example.test"
    )


@pytest.fixture
def deputy(create_user, township):
    """The executive deputy party secretary: a leader who convenes the sessions."""
    return create_user("deputy", "leader", township, name="吴副书记")


@pytest.fixture
def village2(create_unit, township):
    return create_unit("西村", "east-v2", "village", township)


@pytest.fixture
def observers(db, petitions_township, officer, clerk, village):
    """Three observers: a staff member (notified), a deputy and a citizen representative
    (on the printed list)."""
    from plugins.petitions import services

    return [
        services.add_observer(
            petitions_township, "station_head", by=officer, user=clerk, title="民政办主任"
        ),
        services.add_observer(
            petitions_township,
            "county_deputy",
            by=officer,
            new_name="赵德明",
            new_phone="13904711234",
            new_village=village,
            title="旗人大代表",
        ),
        services.add_observer(
            petitions_township,
            "citizen_representative",
            by=officer,
            new_name="陈志强",
            new_phone="13904712345",
        ),
    ]


@pytest.fixture
def make_session(db, petitions_township, officer, leader, deputy, observers):
    """A session (held today by default) with every observer invited."""
    from core import clock
    from plugins.petitions import services

    def _make(held_on=None):
        row = services.plan_session(
            petitions_township,
            by=officer,
            held_on=held_on or clock.today(petitions_township),
            place="镇政府信访接待室",
            leader=leader,
            convener=deputy,
            topic="民生事项集中接访",
        )
        services.invite(row, [o.id for o in observers], by=officer)
        return row

    return _make


@pytest.fixture
def session(make_session):
    """A session held today with every observer invited."""
    return make_session()


@pytest.fixture
def make_petition(db, petitions_township, officer, village):
    """Register a petition through the service (by the officer unless ``by``)."""
    from plugins.petitions import services

    def _make(by=None, township=None, petitioners=None, **fields):
        data = {
            "channel": "visit",
            "category": "construction",
            "matter": "要求硬化通村道路",
            "village_id": village.id,
            "petitioners": petitioners
            or [services.PetitionerInput("李玉山", ID_LI, "139 4711 0001", "东村三组12号")],
        }
        data.update(fields)
        return services.register_petition(
            township or petitions_township, services.PetitionInput(**data), by=by or officer
        )

    return _make


def login(client, user):
    from core.testing.fixtures import PASSWORD

    response = client.post("/login", data={"username": user.username, "password": PASSWORD})
    assert response.status_code == 302, response.status_code
    return response
