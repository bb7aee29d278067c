"""The core's figures on the county's dashboard: who is on duty today in each township
(by its own today) and who is away now, nothing for a township that keeps no rota and
has nobody away, and the same queries for one township as for two."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine

from core import clock, duty, presence
from core.models import DutyPost
from core.testing.fixtures import page_text

SINCE = date(2025, 1, 1)
# 17:00 UTC on Monday 22 September 2025: Tuesday the 23rd in Shanghai, still Monday
# the 22nd in Los Angeles
NOW = datetime(2025, 9, 22, 17, 0, tzinfo=UTC)
WORKING = False


@pytest.fixture
def west(db, other_township):
    other_township.timezone = "America/Los_Angeles"
    db.session.commit()
    clock.forget(other_township.id)
    return other_township


@pytest.fixture
def rotas(db, township, west, create_user, other_clerk):
    """East: 甲 at the window on Tuesdays, 乙 on Mondays. West: its clerk at the window on
    Mondays and away now, 丙 at the duty phone on Mondays."""
    a = create_user("ua", "clerk", township, name="甲")
    b = create_user("ub", "clerk", township, name="乙")
    c = create_user("uc", "clerk", west, name="丙")
    duty.add_to_pattern(township, DutyPost.window, a, [(1, WORKING)], valid_from=SINCE)
    duty.add_to_pattern(township, DutyPost.window, b, [(0, WORKING)], valid_from=SINCE)
    duty.add_to_pattern(west, DutyPost.window, other_clerk, [(0, WORKING)], valid_from=SINCE)
    duty.add_to_pattern(west, DutyPost.hotline, c, [(0, WORKING)], valid_from=SINCE)
    with time_machine.travel(NOW, tick=False):
        presence.record_absence(
            west, other_clerk, NOW - timedelta(hours=1), NOW + timedelta(hours=3), "县里开会"
        )
    return township, west


def _figures(app, townships) -> dict:
    from admin.dashboard import county_plugin_figures

    with time_machine.travel(NOW, tick=False), app.test_request_context():
        return county_plugin_figures(townships)


def _by_label(figures) -> dict:
    return {f.label: f for f in figures}


def test_each_township_shows_its_own_duty_today_and_staff_away(app, db, rotas, create_unit):
    east, west = rotas
    quiet = create_unit("北镇", "north", "township", east.parent)
    figures = _figures(app, [east, west, quiet])

    mine = _by_label(figures[east.id])
    today = str(mine["On duty today (2025-09-23)"].chart)
    assert page_text(today, "tr[data-post='window'] td") == "甲"
    assert page_text(today, "tr[data-post='hotline'] td") == "nobody"
    assert (mine["Staff away now"].value, mine["Staff away now"].level) == (0, "info")

    theirs = _by_label(figures[west.id])
    today = str(theirs["On duty today (2025-09-22)"].chart)
    assert page_text(today, "tr[data-post='window'] td") == "西镇办事员 away"
    assert page_text(today, "tr[data-post='hotline'] td") == "丙"
    assert (theirs["Staff away now"].value, theirs["Staff away now"].level) == (1, "warning")

    assert figures[quiet.id] == []  # no rota, nobody away


def test_a_township_without_a_rota_shows_only_who_is_away(app, db, township, west, other_clerk):
    with time_machine.travel(NOW, tick=False):
        presence.record_absence(
            west, other_clerk, NOW - timedelta(hours=1), NOW + timedelta(hours=3), "县里开会"
        )
    figures = _figures(app, [township, west])
    assert figures[township.id] == []
    assert [(f.label, f.value) for f in figures[west.id]] == [("Staff away now", 1)]


def test_one_township_or_two_cost_the_same_queries(rotas, dashboard_queries):

    east, west = rotas
    with time_machine.travel(NOW, tick=False):
        one = dashboard_queries([east])
        two = dashboard_queries([east, west])
    assert len(one) == len(two), "\n".join(two)
