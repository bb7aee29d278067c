"""The county administrator's home page: each township's appointment figures, this month
taken on its own today, all townships answered at once."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from core import clock
from core.institutions import set_enabled
from plugins.appointments import services

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(*args):
    return time_machine.travel(datetime(*args, tzinfo=SHANGHAI), tick=False)


def visit(card, leader) -> None:
    services.record_visit(
        card, by=leader, visited_on=None, findings="f", outcome="resolved", result="r"
    )


@pytest.fixture
def west(db, other_township, other_clerk, create_user, card_input):
    """The west township, two hours behind (Asia/Urumqi): on 2 March 2026 its leader got
    three cards and visited one of them at once."""
    other_township.timezone = "Asia/Urumqi"
    db.session.commit()
    clock.forget()
    set_enabled(other_township, "appointments", True)
    leader = create_user("wleader", "leader", other_township, name="钱镇长")
    with at(2026, 3, 2, 12):
        for _n in range(2):
            services.take_card(other_township, card_input(leader), taken_by=other_clerk)
        visit(services.take_card(other_township, card_input(leader), taken_by=other_clerk), leader)
    yield other_township
    clock.forget()


@pytest.fixture
def east(db, appointments_township, clerk, leader, card_input):
    """The east township: on 2 March 2026 its leader got two cards and visited one."""
    with at(2026, 3, 2, 9):
        services.take_card(appointments_township, card_input(leader), taken_by=clerk)
        visit(services.take_card(appointments_township, card_input(leader), taken_by=clerk), leader)
    return appointments_township


def test_each_township_sees_its_own_appointment_figures_on_its_own_today(client, east, west):
    from admin.dashboard import county_plugin_figures

    # 1 April 01:00 in the east is still 31 March (23:00) in the west
    with at(2026, 4, 1, 1), client.application.test_request_context():
        boards = county_plugin_figures([east, west])
    figures = {
        tid: {f.label: f.value for f in found if f.label.startswith("Appointments")}
        for tid, found in boards.items()
    }
    assert figures[east.id] == {
        "Appointments for 李镇长: to visit 1, waiting for the return 0": 1,
        "Appointments: home visits overdue": 1,
        "Appointments: home visits this month": 0,  # April already
    }
    assert figures[west.id] == {
        "Appointments for 钱镇长: to visit 2, waiting for the return 0": 2,
        "Appointments: home visits overdue": 2,
        "Appointments: home visits this month": 1,  # still March
    }


def test_the_appointment_figures_of_two_townships_cost_the_queries_of_one(
    east, west, dashboard_queries
):
    one = dashboard_queries([east], "appointments")
    assert len(dashboard_queries([east, west], "appointments")) == len(one), "\n".join(one)
