"""The county administrator's home page: each township's hearing figures, on its own
today, all townships answered at once."""

from __future__ import annotations

from datetime import date

import pytest

from core import clock
from core.institutions import set_enabled
from plugins.hearings import services

from .conftest import at, hearing_input


@pytest.fixture
def west(db, other_township, create_user):
    """The west township, two hours behind (Asia/Urumqi), with a hearing announced for
    Tuesday 17 March 2026."""
    other_township.timezone = "Asia/Urumqi"
    db.session.commit()
    clock.forget()
    set_enabled(other_township, "hearings", True)
    secretary = create_user("wsecretary", "hearings_secretary", other_township)
    with at(2026, 3, 2, 9):
        hearing = services.create_hearing(
            other_township, hearing_input(held_on=date(2026, 3, 17)), secretary
        )
        services.announce_hearing(hearing, secretary)
    yield other_township
    clock.forget()


@pytest.fixture
def east(db, hearings_township, secretary, clerk, announced):
    """The east township: a hearing announced for 10 March, never opened, and one held on
    12 March where a question was left for the clerk to answer by 16 March."""
    with at(2026, 3, 2, 9):
        held = services.create_hearing(
            hearings_township, hearing_input(held_on=date(2026, 3, 12)), secretary
        )
        services.announce_hearing(held, secretary)
    with at(2026, 3, 12, 9):
        services.open_hearing(held, secretary)
        services.record_question(
            held,
            secretary,
            services.QuestionInput(
                question="补偿标准？",
                asker_name="村民",
                reason="需请示",
                responsible_id=clerk.id,
                deadline=date(2026, 3, 16),
            ),
        )
    return hearings_township


def test_each_township_sees_its_own_hearing_figures_on_its_own_today(client, east, west):
    from admin.dashboard import county_plugin_figures

    # 18 March 01:00 in the east is still 17 March (23:00) in the west
    with at(2026, 3, 18, 1), client.application.test_request_context():
        boards = county_plugin_figures([east, west])
    figures = {tid: {f.label: f.value for f in found} for tid, found in boards.items()}
    assert figures[east.id]["Hearings announced"] == 1
    assert figures[east.id]["Hearings to conclude"] == 2  # held, and announced in the past
    assert figures[east.id]["Hearing questions awaiting an answer (overdue)"] == "1 (1)"
    assert figures[west.id]["Hearings announced"] == 1
    assert figures[west.id]["Hearings to conclude"] == 0  # it is held today
    assert figures[west.id]["Hearing questions awaiting an answer (overdue)"] == "0 (0)"


def test_the_hearing_figures_of_two_townships_cost_the_queries_of_one(
    east, west, dashboard_queries
):
    one = dashboard_queries([east], "hearings")
    assert len(dashboard_queries([east, west], "hearings")) == len(one), "\n".join(one)
