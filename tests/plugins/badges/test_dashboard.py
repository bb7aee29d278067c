"""The county administrator's home page: each township's staff cards on duty and how many
lack a photo, every township answered at once, in the same queries for one as for two."""

from __future__ import annotations

import pytest

from core.institutions import set_enabled

LABEL = "Staff cards on duty (without photo)"


@pytest.fixture
def east(db, badges_township, clerk, leader, township_admin, make_card):
    """Two cards on duty, one of them without a photo, and a card no longer on duty."""
    make_card(badges_township, clerk, photo=True)
    make_card(badges_township, leader)
    gone = make_card(badges_township, township_admin)
    gone.active = False
    db.session.commit()
    return badges_township


@pytest.fixture
def west(db, other_township, other_clerk, make_card):
    """One card on duty, with its photo."""
    set_enabled(other_township, "badges", True)
    make_card(other_township, other_clerk, photo=True)
    return other_township


def _figures(app, townships) -> dict[int, list[tuple]]:
    from admin.dashboard import county_plugin_figures

    with app.test_request_context():
        boards = county_plugin_figures(townships)
    return {tid: [(f.label, f.value, f.level) for f in found] for tid, found in boards.items()}


def test_each_township_counts_its_own_cards(app, db, east, west, create_unit):
    empty = create_unit("北镇", "north", "township", east.parent)
    set_enabled(empty, "badges", True)
    figures = _figures(app, [east, west, empty])
    assert figures[east.id] == [(LABEL, "2 (1)", "warning")]
    assert figures[west.id] == [(LABEL, "1 (0)", "success")]
    assert figures[empty.id] == [(LABEL, "0 (0)", "success")]


def test_one_township_or_two_cost_the_same_queries(east, west, dashboard_queries):

    one = dashboard_queries([east])
    two = dashboard_queries([east, west])
    assert len(one) == len(two), "\n".join(two)
