"""The county administrator's home page: each township's on-time rate and fees of its own
month (by its own today), every township answered at once, in the same queries for one
township as for two."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from core import clock
from core.institutions import set_enabled
from plugins.guide import services

SHANGHAI = ZoneInfo("Asia/Shanghai")
# 01:00 on 1 April 2026 in the east (Shanghai) is still 23:00 on 31 March in the west
# (Asia/Urumqi, two hours behind): April for the one, March for the other
NOW = datetime(2026, 4, 1, 1, 0, tzinfo=SHANGHAI)


def at(*args):
    return time_machine.travel(datetime(*args, tzinfo=SHANGHAI), tick=False)


def finished(matter, clerk, accepted, resolved, fee=None):
    """A case registered from ``matter`` (and its fee) then resolved."""
    from core.cases import resolve_case

    with at(*accepted):
        case = services.register_from_matter(matter, clerk=clerk, applicant_name="群众", fee=fee)
    with at(*resolved):
        resolve_case(case, clerk, "办结")
    return case


@pytest.fixture
def east(db, make_matter, clerk, guide_township):
    """March: two cases, one late (not this month's). April: one on time, 15 yuan charged."""
    matter = make_matter("开具证明", kind="service", fee_fen=1500)  # 3 working days
    finished(matter, clerk, (2026, 3, 2, 9), (2026, 3, 4, 10))
    finished(matter, clerk, (2026, 3, 2, 9), (2026, 3, 10, 10))
    finished(matter, clerk, (2026, 4, 1, 0, 10), (2026, 4, 1, 0, 20), fee="15")
    return guide_township


@pytest.fixture
def west(db, other_township, other_clerk, make_matter):
    """March: one case on time, one late with 7.50 yuan charged."""
    other_township.timezone = "Asia/Urumqi"
    db.session.commit()
    clock.forget()
    set_enabled(other_township, "guide", True)
    matter = make_matter("开具证明", township=other_township, kind="service", fee_fen=1500)
    finished(matter, other_clerk, (2026, 3, 2, 9), (2026, 3, 4, 10))
    finished(matter, other_clerk, (2026, 3, 2, 9), (2026, 3, 10, 10), fee="7.5")
    yield other_township
    clock.forget()


def _figures(app, townships) -> dict[int, list[tuple]]:
    from admin.dashboard import county_plugin_figures

    with time_machine.travel(NOW, tick=False), app.test_request_context():
        boards = county_plugin_figures(townships)
    return {
        tid: [(f.label, f.value, f.level, f.link) for f in found] for tid, found in boards.items()
    }


def test_each_township_shows_its_own_month(app, db, east, west):
    figures = _figures(app, [east, west])
    assert figures[east.id] == [
        (
            "Guide: finished on time this month (1 of 1)",
            "100%",
            "success",
            f"/admin/guide_ontime/?township={east.id}",
        ),
        (
            "Guide: fees charged this month (yuan)",
            "15.00",
            "info",
            f"/admin/guide_fee_report/?township={east.id}",
        ),
    ]
    assert [(label, value, level) for label, value, level, _link in figures[west.id]] == [
        ("Guide: finished on time this month (1 of 2)", "50%", "warning"),
        ("Guide: fees charged this month (yuan)", "7.50", "info"),
    ]


def test_a_township_with_nothing_finished_shows_no_rate(app, db, east, create_unit):
    empty = create_unit("北镇", "north", "township", east.parent)
    set_enabled(empty, "guide", True)
    figures = _figures(app, [east, empty])
    assert [(label, value, level) for label, value, level, _link in figures[empty.id]] == [
        ("Guide: finished on time this month (0 of 0)", "–", "info"),
        ("Guide: fees charged this month (yuan)", "0.00", "info"),
    ]


def test_a_township_with_summer_time_is_counted_by_its_own_rules_beside_the_others(
    app, db, east, other_township, other_clerk, make_matter
):
    """Berlin changes its offset on 29 March: its cases are judged one by one in its zone,
    while the east's are counted in SQL, in the same call."""
    from core.cases import resolve_case

    berlin = ZoneInfo("Europe/Berlin")
    other_township.timezone = "Europe/Berlin"
    db.session.commit()
    clock.forget()
    set_enabled(other_township, "guide", True)
    matter = make_matter("开具证明", township=other_township, kind="service")
    # accepted Monday 23 March, due 26 March: resolved at 23:30 that day (22:30 UTC, already
    # the 27th in Shanghai) is on time in Berlin; at 00:30 on the 27th it is late
    for resolved in ((2026, 3, 26, 23, 30), (2026, 3, 27, 0, 30)):
        with time_machine.travel(datetime(2026, 3, 23, 9, tzinfo=berlin), tick=False):
            case = services.register_from_matter(matter, clerk=other_clerk, applicant_name="群众")
        with time_machine.travel(datetime(*resolved, tzinfo=berlin), tick=False):
            resolve_case(case, other_clerk, "办结")
    try:
        figures = _figures(app, [east, other_township])
    finally:
        clock.forget()
    assert (figures[other_township.id][0][:2]) == (
        "Guide: finished on time this month (1 of 2)",
        "50%",
    )
    assert figures[east.id][0][:2] == ("Guide: finished on time this month (1 of 1)", "100%")


def test_one_township_or_two_cost_the_same_queries(east, west, dashboard_queries):

    with time_machine.travel(NOW, tick=False):
        one = dashboard_queries([east])
        two = dashboard_queries([east, west])
    assert len(one) == len(two), "\n".join(two)
