"""The county administrator's home page: each township's learners behind, study days and
village chart of its own month (by its own today), every township answered at once, in
the same queries for one township as for two."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from core import clock
from core.institutions import set_enabled
from core.testing.fixtures import page_text
from plugins.training.services import StudyEntry, log_study

SHANGHAI = ZoneInfo("Asia/Shanghai")
# 01:00 on 1 April 2026 in the east (Shanghai) is still 23:00 on 31 March in the west
# (Asia/Urumqi, two hours behind): April for the one, March for the other
NOW = datetime(2026, 4, 1, 1, 0, tzinfo=SHANGHAI)
BEHIND = "Training: learners behind this month (of {n})"
DAYS = "Training: township study days this month (of {n})"
CHART = "Training: compliance by village"


def hours(township, learner, day: date, amount: float, material: str = "党章") -> None:
    """Confirmed self-study hours, logged on the day itself."""
    log_study(township.id, [StudyEntry(learner.id, day, int(amount * 2), material)], today=day)


def member(make_learner, township, name, village=None):
    """A party member with primary education: owes the month's class hours, no notes."""
    return make_learner(
        township, name, category="party_member", education="primary", village=village
    )


@pytest.fixture
def north(create_unit, training_township):
    return create_unit("北村", "east-north", "village", training_township)


@pytest.fixture
def east(db, training_township, north, make_learner, make_session):
    """The east asks 8 class hours a month. April: of three learners only 甲 (in 北村)
    studied 8 hours; 丙's 20 hours are of March; the township organised one day of study
    (of two), 北村 none."""
    from core.policies import set_policy

    set_policy(training_township.id, "training.self_study_hours", 8)
    db.session.commit()
    a = member(make_learner, training_township, "甲", north)
    member(make_learner, training_township, "乙")
    c = member(make_learner, training_township, "丙")
    hours(training_township, a, date(2026, 4, 1), 5)
    hours(training_township, a, date(2026, 4, 1), 3, material="党史")
    hours(training_township, c, date(2026, 3, 20), 12)
    hours(training_township, c, date(2026, 3, 21), 8)
    make_session(training_township, date(2026, 3, 10), half_days=4)  # March: not counted
    make_session(training_township, date(2026, 4, 1), half_days=2)
    return training_township


@pytest.fixture
def west(db, other_township, make_learner, make_session):
    """The west asks the rule book's 20 class hours. March: its one learner studied 20
    hours, the township organised two days."""
    other_township.timezone = "Asia/Urumqi"
    db.session.commit()
    clock.forget()
    set_enabled(other_township, "training", True)
    d = member(make_learner, other_township, "丁")
    hours(other_township, d, date(2026, 3, 5), 12)
    hours(other_township, d, date(2026, 3, 6), 8)
    make_session(other_township, date(2026, 3, 12), half_days=4)
    yield other_township
    clock.forget()


def _figures(app, townships) -> dict[int, list]:
    from admin.dashboard import county_plugin_figures

    with time_machine.travel(NOW, tick=False), app.test_request_context():
        return county_plugin_figures(townships)


def test_each_township_shows_its_own_month(app, db, east, west, north):
    figures = _figures(app, [east, west])

    behind, days, chart = figures[east.id]
    assert (behind.label, behind.value, behind.level) == (BEHIND.format(n=3), 2, "danger")
    assert (days.label, days.value, days.level) == (DAYS.format(n=2), "1", "warning")
    assert chart.label == CHART
    assert behind.link == f"/admin/training_compliance/?township={east.id}"
    svg = str(chart.chart)
    assert page_text(svg, "title") == "Compliance by village, 2026-04"
    # 北村: its one learner has every hour, but the village organised no study day
    assert f'data-village="{north.id}" data-behind="1"' in svg
    assert "100% · 0/2 days" in svg

    behind, days, chart = figures[west.id]
    assert (behind.label, behind.value, behind.level) == (BEHIND.format(n=1), 0, "success")
    assert (days.label, days.value, days.level) == (DAYS.format(n=2), "2", "success")
    assert behind.link == f"/admin/training_compliance/?township={west.id}"
    assert page_text(str(chart.chart), "title") == "Compliance by village, 2026-03"
    assert "No villages." in str(chart.chart)


def test_one_township_or_two_cost_the_same_queries(east, west, dashboard_queries):

    with time_machine.travel(NOW, tick=False):
        one = dashboard_queries([east])
        two = dashboard_queries([east, west])
    assert len(one) == len(two), "\n".join(two)
