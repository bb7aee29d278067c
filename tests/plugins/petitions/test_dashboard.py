"""The county administrator's home page: each township's petition figures, all townships
answered at once."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core import clock
from core.institutions import set_enabled
from plugins.petitions import services


@pytest.fixture
def west(db, other_township, create_user, create_unit):
    """The west township with petitions enabled and one petition received 20 days ago,
    its acceptance still undecided (the time to decide is 15 days)."""
    set_enabled(other_township, "petitions", True)
    officer = create_user("wofficer", "petitions_officer", other_township, name="郑信访")
    village = create_unit("西村", "west-v1", "village", other_township)
    services.register_petition(
        other_township,
        services.PetitionInput(
            channel="visit",
            category="construction",
            matter="要求修缮村小学围墙",
            village_id=village.id,
            received_on=clock.today(other_township) - timedelta(days=20),
            petitioners=[services.PetitionerInput("钱大山")],
        ),
        by=officer,
    )
    return other_township


@pytest.fixture
def east(db, session, make_petition, officer):
    """The east township: a session held today (two observers present), a petition
    registered there and a group petition (a risk flag)."""
    services.record_attendance(
        session, {i.id: "present" for i in session.invitations[:2]}, by=officer
    )
    make_petition(session_id=session.id)
    make_petition(
        is_group=True,
        head_count=8,
        petitioners=[services.PetitionerInput("高志刚"), services.PetitionerInput("马秀英")],
    )
    return session.township


def test_each_township_of_the_county_sees_its_own_petition_figures(client, east, west):
    from admin.dashboard import county_plugin_figures

    with client.application.test_request_context():
        boards = county_plugin_figures([east, west])
    figures = {tid: {f.label: f.value for f in found} for tid, found in boards.items()}
    assert figures[east.id]["Petitions open (due within a week: 0, overdue: 0)"] == 2
    assert figures[east.id]["Petitions: acceptance not decided in time"] == 0
    assert figures[east.id]["Open petition risk flags"] == 1
    assert figures[east.id]["Reception sessions this month (observers present: 2)"] == 1
    assert figures[west.id]["Petitions open (due within a week: 0, overdue: 0)"] == 1
    assert figures[west.id]["Petitions: acceptance not decided in time"] == 1
    assert figures[west.id]["Open petition risk flags"] == 0
    assert figures[west.id]["Reception sessions this month (observers present: 0)"] == 0


def test_the_petition_figures_of_two_townships_cost_the_queries_of_one(
    east, west, dashboard_queries
):
    one = dashboard_queries([east], "petitions")
    assert len(dashboard_queries([east, west], "petitions")) == len(one), "\n".join(one)
