"""The county administrator's home page: each township's proxy records in hand and those
past the promised day by its own today, every township answered at once, in the same
queries for one township as for two."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from core import clock
from core.institutions import set_enabled
from plugins.proxy import services

SHANGHAI = ZoneInfo("Asia/Shanghai")
# 01:00 on 1 April 2026 in the east (Shanghai) is still 23:00 on 31 March in the west
# (Asia/Urumqi, two hours behind)
NOW = datetime(2026, 4, 1, 1, 0, tzinfo=SHANGHAI)
TAKEN = datetime(2026, 3, 20, 9, 0, tzinfo=SHANGHAI)


def _label(late: int) -> str:
    return f"Proxy: records in hand (past the promised day: {late})"


@pytest.fixture
def take(db, make_case):
    """``take(township, staff, leader, promised_on)``: a record taken over on 20 March."""

    def _take(township, staff, leader, promised_on: date):
        with time_machine.travel(TAKEN, tick=False):
            return services.take_over(
                make_case(township=township, responder=staff),
                staff=staff,
                leader=leader,
                reason="county",
                materials=[("宅基地申请书", 1, True)],
                promised_on=promised_on,
            )

    return _take


@pytest.fixture
def east(db, proxy_township, clerk, leader, take):
    """Two records in hand: one promised for 31 March (past on 1 April), one for 5 April."""
    take(proxy_township, clerk, leader, date(2026, 3, 31))
    take(proxy_township, clerk, leader, date(2026, 4, 5))
    return proxy_township


@pytest.fixture
def west(db, other_township, other_clerk, create_user, take):
    """One record in hand promised for 31 March: still today in the west."""
    other_township.timezone = "Asia/Urumqi"
    db.session.commit()
    clock.forget()
    set_enabled(other_township, "proxy", True)
    west_leader = create_user("wleader", "leader", other_township, name="西镇镇长")
    take(other_township, other_clerk, west_leader, date(2026, 3, 31))
    yield other_township
    clock.forget()


def _figures(app, townships) -> dict[int, list[tuple]]:
    from admin.dashboard import county_plugin_figures

    with time_machine.travel(NOW, tick=False), app.test_request_context():
        boards = county_plugin_figures(townships)
    return {tid: [(f.label, f.value, f.level) for f in found] for tid, found in boards.items()}


def test_each_township_counts_its_records_late_by_its_own_today(app, db, east, west):
    figures = _figures(app, [east, west])
    assert figures[east.id] == [(_label(1), 2, "danger")]
    assert figures[west.id] == [(_label(0), 1, "info")]


def test_a_township_with_no_record_shows_none_in_hand(app, db, east, create_unit):
    empty = create_unit("北镇", "north", "township", east.parent)
    set_enabled(empty, "proxy", True)
    figures = _figures(app, [east, empty])
    assert figures[empty.id] == [(_label(0), 0, "info")]
    assert figures[east.id] == [(_label(1), 2, "danger")]


def test_one_township_or_two_cost_the_same_queries(east, west, dashboard_queries):

    with time_machine.travel(NOW, tick=False):
        one = dashboard_queries([east])
        two = dashboard_queries([east, west])
    assert len(one) == len(two), "\n".join(two)
