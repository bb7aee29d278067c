"""The county administrator's home page: each township's staff behind their yearly quota
so far, in the year of its own today, every township answered at once, in the same
queries for one township as for two."""

from __future__ import annotations

from datetime import datetime

import pytest
import time_machine

from core import clock
from core.institutions import set_enabled
from tests.plugins.commitment.conftest import SHANGHAI, at

# 01:00 on 1 January 2027 in the east (Shanghai) is still 23:00 on New Year's Eve 2026
# in the west (Asia/Urumqi, two hours behind)
NEW_YEAR = datetime(2027, 1, 1, 1, 0, tzinfo=SHANGHAI)
# 1 July 2026: 182 of 365 days gone, a leader owes 4 matters so far, a cadre 2
MIDYEAR = datetime(2026, 7, 1, 9, 0, tzinfo=SHANGHAI)


def _label(people: int) -> str:
    return f"Commitments: staff behind their yearly quota so far (of {people})"


@pytest.fixture
def east(db, commitment_township, leader, clerk, closed_case):
    """The leader handled five matters in the first half of 2026, the clerk none."""
    for n in range(5):
        closed_case(leader, (2026, 3, 2 + n, 9), (2026, 3, 3 + n, 9), (2026, 3, 4 + n, 9))
    return commitment_township


@pytest.fixture
def west(db, other_township, other_clerk):
    """The west's clerk handled two matters in the first half of 2026."""
    from core.cases import close_case, register_case, resolve_case

    other_township.timezone = "Asia/Urumqi"
    db.session.commit()
    clock.forget()
    set_enabled(other_township, "commitment", True)
    for n in range(2):
        with at(2026, 4, 6 + n, 9):
            case = register_case(
                township=other_township,
                kind="service",
                title="办理事项",
                applicant_name="群众",
                first_responder=other_clerk,
                handler=other_clerk,
                accept=True,
            )
        with at(2026, 4, 7 + n, 9):
            resolve_case(case, other_clerk, "办结")
        with at(2026, 4, 8 + n, 9):
            close_case(case, other_clerk)
    yield other_township
    clock.forget()


def _figures(app, townships, now) -> dict[int, list[tuple]]:
    from admin.dashboard import county_plugin_figures

    with time_machine.travel(now, tick=False), app.test_request_context():
        boards = county_plugin_figures(townships)
    return {
        tid: [(f.label, f.value, f.level, f.link) for f in found] for tid, found in boards.items()
    }


def test_each_township_counts_its_own_staff(app, db, east, west):
    figures = _figures(app, [east, west], MIDYEAR)
    # the leader's 5 are ahead of the 4 owed so far, the clerk's 0 behind the 2
    assert figures[east.id] == [
        (_label(2), 1, "warning", f"/admin/commitment_quota/?township={east.id}")
    ]
    # the west's clerk has the 2 owed so far
    assert figures[west.id] == [
        (_label(1), 0, "success", f"/admin/commitment_quota/?township={west.id}")
    ]


def test_each_township_counts_the_year_of_its_own_today(app, db, east, west):
    figures = _figures(app, [east, west], NEW_YEAR)
    # 2027 has just begun in the east: nothing is owed yet
    assert [(label, value) for label, value, _level, _link in figures[east.id]] == [(_label(2), 0)]
    # 2026 is not over in the west: its clerk owes the whole quota of 5 and has 2
    assert [(label, value) for label, value, _level, _link in figures[west.id]] == [(_label(1), 1)]


def test_one_township_or_two_cost_the_same_queries(east, west, dashboard_queries):

    with time_machine.travel(MIDYEAR, tick=False):
        one = dashboard_queries([east])
        two = dashboard_queries([east, west])
    assert len(one) == len(two), "\n".join(two)
