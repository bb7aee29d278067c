"""The archives' figures on the county's dashboard: every township its own numbers, and
the same queries for one township as for several."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core import clock


@pytest.fixture
def other_enabled(db, other_township):
    from core.institutions import set_enabled

    set_enabled(other_township, "archives", True)
    return other_township


def _lend_overdue(db, item, borrower):
    """The item is lent out and was due back yesterday (the township's yesterday)."""
    from plugins.archives.models import Loan, LoanStatus

    yesterday = clock.today(item.township_id) - timedelta(days=1)
    db.session.add(
        Loan(
            township_id=item.township_id,
            item_id=item.id,
            borrower_id=borrower.id,
            purpose="核对",
            wanted_until=yesterday,
            due_on=yesterday,
            status=LoanStatus.lent,
        )
    )
    db.session.commit()


def _shown(figures) -> dict:
    return {f.label: (f.value, f.level, str(f.chart or "")) for f in figures}


def test_each_township_sees_its_own_archive(
    app, db, enabled, other_enabled, archivist, produce, waiting_item, filed_item
):
    from admin.dashboard import county_plugin_figures

    waiting_item("东镇待归档一")
    waiting_item("东镇待归档二")
    _lend_overdue(db, filed_item("东镇已归档"), archivist)
    produce("西镇待归档", township=other_enabled)

    with app.test_request_context():
        figures = county_plugin_figures([enabled, other_enabled])
    east, west = _shown(figures[enabled.id]), _shown(figures[other_enabled.id])

    assert east["Items waiting to be filed"][:2] == (2, "warning")
    assert east["Archives lent out (overdue)"][:2] == ("1 (1)", "danger")
    assert "<td>1</td><td>3</td><td>33%</td>" in east["Filing completeness this year"][2]
    assert west["Items waiting to be filed"][:2] == (1, "warning")
    assert west["Archives lent out (overdue)"][:2] == ("0 (0)", "info")
    assert "<td>0</td><td>1</td><td>0%</td>" in west["Filing completeness this year"][2]


def test_one_township_or_two_cost_the_same_queries(
    db, enabled, other_enabled, archivist, produce, waiting_item, filed_item, dashboard_queries
):

    _lend_overdue(db, filed_item("东镇已归档"), archivist)
    produce("西镇待归档", township=other_enabled)
    one = dashboard_queries([enabled])
    two = dashboard_queries([enabled, other_enabled])
    assert len(one) == len(two), "\n".join(two)
