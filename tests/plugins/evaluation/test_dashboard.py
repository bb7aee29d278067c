"""The county administrator's home page: each township's citizen satisfaction of its own
year (from its own today) and its follow-ups, all townships answered at once."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from core import clock
from core.institutions import set_enabled
from plugins.evaluation import services

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(*args):
    return time_machine.travel(datetime(*args, tzinfo=SHANGHAI), tick=False)


@pytest.fixture
def east(db, evaluation_township, clerk, leader, closed_case, quick_ratings):
    """The east township: on New Year's Day 2027 three citizens were satisfied with the
    clerk and one was not; a dissatisfied rating of June 2026 waits for the leader."""
    quick_ratings(evaluation_township, clerk, "satisfied", 3, date(2027, 1, 1))
    quick_ratings(evaluation_township, clerk, "dissatisfied", 1, date(2027, 1, 1))
    with at(2026, 6, 1, 10):
        services.rate_case(closed_case(), "dissatisfied", "太慢")
    return evaluation_township


@pytest.fixture
def west(db, other_township, other_clerk, quick_ratings):
    """The west township, two hours behind (Asia/Urumqi): two satisfied ratings on New
    Year's Eve 2026, one dissatisfied in 2025."""
    other_township.timezone = "Asia/Urumqi"
    db.session.commit()
    clock.forget()
    set_enabled(other_township, "evaluation", True)
    quick_ratings(other_township, other_clerk, "satisfied", 2, date(2026, 12, 31))
    quick_ratings(other_township, other_clerk, "dissatisfied", 1, date(2025, 5, 5))
    yield other_township
    clock.forget()


def test_each_township_sees_its_own_satisfaction_of_its_own_year(client, east, west):
    from admin.dashboard import county_plugin_figures

    # 1 January 2027 01:00 in the east is still New Year's Eve (23:00) in the west
    with at(2027, 1, 1, 1), client.application.test_request_context():
        boards = county_plugin_figures([east, west])
    figures = {tid: {f.label: f.value for f in found} for tid, found in boards.items()}
    assert figures[east.id]["Citizen satisfaction 2027 (4 ratings)"] == "75%"
    assert figures[east.id]["Dissatisfied ratings waiting for a leader"] == 1
    assert figures[west.id]["Citizen satisfaction 2026 (2 ratings)"] == "100%"
    assert figures[west.id]["Dissatisfied ratings waiting for a leader"] == 0


def test_the_evaluation_figures_of_two_townships_cost_the_queries_of_one(
    east, west, dashboard_queries
):
    one = dashboard_queries([east], "evaluation")
    assert len(dashboard_queries([east, west], "evaluation")) == len(one), "\n".join(one)
