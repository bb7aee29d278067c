"""Supervision on the county's dashboard: every township its own open findings and
overdue remedies (by its own today), in the same queries for one township as for two."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import time_machine

from core import clock

LABEL = "Open supervision findings (remedies overdue)"


@pytest.fixture
def west(db, other_township):
    """The other township, enabled, keeping the time of Los Angeles."""
    from core.institutions import set_enabled

    other_township.timezone = "America/Los_Angeles"
    db.session.commit()
    clock.forget(other_township.id)
    set_enabled(other_township, "supervision", True)
    return other_township


def _findings(db, township, *rows):
    """Findings of ``township``: (status, remedy deadline) each."""
    from plugins.supervision.models import (
        FindingKind,
        FindingSource,
        FindingStatus,
        SupervisionFinding,
    )

    for status, deadline in rows:
        db.session.add(
            SupervisionFinding(
                township_id=township.id,
                kind=FindingKind.attitude,
                source=FindingSource.supervisor,
                status=FindingStatus(status),
                observed_on=date(2025, 9, 1),
                evidence="接待群众语气生硬",
                remedy_deadline=deadline,
            )
        )
    db.session.commit()


def _shown(figures) -> dict:
    return {f.label: (f.value, f.level) for f in figures}


def test_each_township_counts_its_own_findings_by_its_own_today(
    app, db, supervision_township, west
):
    from admin.dashboard import county_plugin_figures

    deadline = date(2025, 9, 22)
    _findings(
        db,
        supervision_township,
        ("raised", None),
        ("remedying", deadline),
        ("remedied", None),
        ("verified", None),
    )
    _findings(db, west, ("remedying", deadline))
    # 17:00 UTC: the 23rd in Shanghai (the deadline has passed), the 22nd in Los Angeles
    with (
        time_machine.travel(datetime(2025, 9, 22, 17, 0, tzinfo=UTC)),
        app.test_request_context(),
    ):
        figures = county_plugin_figures([supervision_township, west])
    assert _shown(figures[supervision_township.id])[LABEL] == ("3 (1)", "danger")
    assert _shown(figures[west.id])[LABEL] == ("1 (0)", "warning")


def test_a_township_without_findings_is_all_clear(app, db, supervision_township, west):
    from admin.dashboard import county_plugin_figures

    _findings(db, west, ("raised", None))
    with app.test_request_context():
        figures = county_plugin_figures([supervision_township, west])
    assert _shown(figures[supervision_township.id])[LABEL] == ("0 (0)", "success")
    assert _shown(figures[west.id])[LABEL] == ("1 (0)", "warning")


def test_one_township_or_two_cost_the_same_queries(
    db, supervision_township, west, dashboard_queries
):

    _findings(db, supervision_township, ("remedying", date(2025, 9, 1)))
    _findings(db, west, ("raised", None))
    one = dashboard_queries([supervision_township])
    two = dashboard_queries([supervision_township, west])
    assert len(one) == len(two), "\n".join(two)
