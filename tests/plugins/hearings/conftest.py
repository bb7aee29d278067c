"""Fixtures of the hearings institution's tests: an enabled township, the hearings
secretary, a person of each register category, and a hearing at a known date.

The plugin loads as an entry point or, before it is registered, with
``TOWNSHIP_TEST_EXTRA_PLUGINS=plugins.hearings``.
"""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
import time_machine

from core.testing.fixtures import PASSWORD

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(*args):
    """Travel to a moment of the township's clock (Asia/Shanghai)."""
    return time_machine.travel(datetime(*args, tzinfo=SHANGHAI), tick=False)


def login(client, user):
    client.post("/login", data={"username": user.username, "password": PASSWORD})


@pytest.fixture(autouse=True)
def _hearings_loaded(app):
    from core.plugins import state

    if "hearings" not in state(app).plugins:
        pytest.fail(
            "the hearings plugin is not loaded: register its entry point or run with "
            "TOWNSHIP_TEST_EXTRA_PLUGINS=plugins.hearings"
        )


@pytest.fixture
def hearings_township(db, township):
    from core.institutions import set_enabled

    set_enabled(township, "hearings", True)
    return township


@pytest.fixture
def secretary(create_user, hearings_township):
    return create_user(
        "secretary",
        "hearings_secretary",
        hearings_township,
        name="孙秘书",
        email="sec@example.test",
    )


@pytest.fixture
def retired(db, hearings_township):
    from core.models import Person, PersonCategory

    person = Person(
        township_id=hearings_township.id,
        name="王桂兰",
        category=PersonCategory.retired_cadre,
        phone="13600004444",
    )
    db.session.add(person)
    db.session.commit()
    return person


def hearing_input(**changes):
    from plugins.hearings import services

    values = dict(
        kind="hearing",
        topic="垃圾中转站选址听证会",
        background="拟在红星村东侧新建垃圾中转站。",
        decided_by="镇党委",
        decided_on=date(2026, 2, 20),
        held_on=date(2026, 3, 10),
        start_time=time(9, 30),
        place="镇政府三楼会议室",
        public_seats=None,
    )
    values.update(changes)
    return services.HearingInput(**values)


@pytest.fixture
def called(db, hearings_township, secretary):
    """A hearing called on 2 March 2026 for Tuesday 10 March (in preparation)."""
    from plugins.hearings import services

    with at(2026, 3, 2, 9):
        return services.create_hearing(hearings_township, hearing_input(), secretary)


@pytest.fixture
def announced(db, called, secretary):
    from plugins.hearings import services

    with at(2026, 3, 2, 10):
        return services.announce_hearing(called, secretary)
