"""Extended hours on the county's dashboard: every township its own days without window
staff, after-hours services this month and acknowledgements of the conduct rule, in the
same queries for one township as for two."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import time_machine

from core import duty
from core.models import DutyPost
from plugins.extended_hours import services
from tests.plugins.extended_hours.conftest import REST, WORKING, at

# Monday 17 November 2025: an ordinary week, no holiday in the four weeks after it
MONDAY = date(2025, 11, 17)
EVERY_DAY = [(d, WORKING) for d in range(7)] + [(d, REST) for d in range(7)]


def _served(db, township, staff, day: date) -> None:
    from plugins.extended_hours.models import ExtendedHoursService

    db.session.add(
        ExtendedHoursService(
            township_id=township.id,
            citizen_name="赵桂芳",
            matter="办理户口登记证明",
            served_on=day,
            starts_at=at(day, 18),
            ends_at=at(day, 19),
            staff_id=staff.id,
            result="当场办结",
            recorded_by_id=staff.id,
        )
    )
    db.session.commit()


@pytest.fixture
def two_townships(
    db, hours_township, other_township, clerk, leader, other_clerk, create_unit, create_user
):
    """East: the clerk at the windows on working days and Sundays (every Saturday empty),
    two services this month and one last month, the clerk's acknowledgement only. West
    (enabled too): its clerk at the windows every day, a village clerk, both acknowledged,
    no service."""
    from core.institutions import set_enabled

    set_enabled(other_township, "extended_hours", True)
    village = create_unit("西村", "west-v1", "village", other_township)
    village_clerk = create_user("vclerk", "clerk", village, name="西村办事员")
    with time_machine.travel(at(MONDAY, 9), tick=False):
        duty.add_to_pattern(
            hours_township, DutyPost.window, clerk, [(d, WORKING) for d in range(5)] + [(6, REST)]
        )
        duty.add_to_pattern(other_township, DutyPost.window, other_clerk, EVERY_DAY)
        services.acknowledge_rule(hours_township, clerk)
        services.acknowledge_rule(other_township, other_clerk)
        services.acknowledge_rule(other_township, village_clerk)
    _served(db, hours_township, clerk, date(2025, 11, 3))
    _served(db, hours_township, clerk, date(2025, 11, 15))
    _served(db, hours_township, clerk, date(2025, 10, 31))
    return hours_township, other_township


def _shown(figures) -> list:
    """The institution's figures (not the core's): label, number, colour."""
    return [(f.label, f.value, f.level) for f in figures if "/extended_hours" in (f.link or "")]


def test_each_township_sees_its_own_coverage_services_and_acknowledgements(app, two_townships):
    from admin.dashboard import county_plugin_figures

    east, west = two_townships
    with time_machine.travel(at(MONDAY, 9), tick=False), app.test_request_context():
        figures = county_plugin_figures([east, west])
    assert _shown(figures[east.id]) == [
        ("Days without window staff from 2025-11-17 to 2025-12-14", 4, "danger"),
        ("After-hours services this month", 2, "info"),
        ("Staff who acknowledged the conduct rule for 2025: 1 of 2", 1, "warning"),
    ]
    assert _shown(figures[west.id]) == [
        ("Days without window staff from 2025-11-17 to 2025-12-14", 0, "success"),
        ("After-hours services this month", 0, "info"),
        ("Staff who acknowledged the conduct rule for 2025: 2 of 2", 2, "success"),
    ]
    coverage = {
        t.id: next(f.link for f in figures[t.id] if f.label.startswith("Days without"))
        for t in two_townships
    }
    assert f"township={east.id}" in coverage[east.id]
    assert f"township={west.id}" in coverage[west.id]


def test_one_township_or_two_cost_the_same_queries(two_townships, dashboard_queries):

    east, west = two_townships
    with time_machine.travel(at(MONDAY, 9), tick=False):
        one = dashboard_queries([east])
        two = dashboard_queries([east, west])
    assert len(one) == len(two), "\n".join(two)


def test_the_month_and_year_are_each_townships_own(app, db, two_townships, other_clerk):
    """At 20:00 UTC on 31 December it is already the new year in Shanghai, not yet in
    Los Angeles: the services of December and the acknowledgements of 2025 still count
    there."""
    from admin.dashboard import county_plugin_figures
    from core import clock

    east, west = two_townships
    west.timezone = "America/Los_Angeles"
    db.session.commit()
    clock.forget(west.id)
    _served(db, west, other_clerk, date(2025, 12, 30))
    with (
        time_machine.travel(datetime(2025, 12, 31, 20, 0, tzinfo=UTC), tick=False),
        app.test_request_context(),
    ):
        figures = county_plugin_figures([east, west])
    east_shown = {label: value for label, value, _ in _shown(figures[east.id])}
    west_shown = {label: value for label, value, _ in _shown(figures[west.id])}
    assert east_shown["After-hours services this month"] == 0
    assert east_shown["Staff who acknowledged the conduct rule for 2026: 0 of 2"] == 0
    assert west_shown["After-hours services this month"] == 1
    assert west_shown["Staff who acknowledged the conduct rule for 2025: 2 of 2"] == 2
