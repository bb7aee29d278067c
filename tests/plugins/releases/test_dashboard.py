"""Information release on the county's dashboard: every township its own releases this
month and open topic requests, in the same queries for one township as for two."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from core.policies import set_policy


@pytest.fixture
def other_enabled(db, other_township):
    from core.institutions import set_enabled

    set_enabled(other_township, "releases", True)
    return other_township


def _published(db, township, *, empty=False):
    from plugins.releases.models import BatchStatus, ReleaseBatch

    now = datetime.now(UTC)
    db.session.add(
        ReleaseBatch(
            township_id=township.id,
            scheduled_for=now,
            status=BatchStatus.published,
            published_at=now,
            empty=empty,
        )
    )
    db.session.commit()


def _shown(figures) -> dict:
    return {f.label: (str(f.value), f.level) for f in figures}


def test_each_township_sees_its_own_releases_and_topic_requests(app, db, enabled, other_enabled):
    from admin.dashboard import county_plugin_figures
    from plugins.releases import services

    _published(db, enabled)
    _published(db, enabled, empty=True)
    set_policy(other_enabled.id, "releases.releases_per_month", 2)
    db.session.commit()
    _published(db, other_enabled)
    request = services.submit_topic_request(other_enabled, "村道硬化资金")
    services.submit_topic_request(other_enabled, "低保名单")

    with app.test_request_context():
        figures = county_plugin_figures([enabled, other_enabled])
    east, west = _shown(figures[enabled.id]), _shown(figures[other_enabled.id])

    assert east["Releases this month (required 1)"] == ("1", "success")
    assert east["Open topic requests"] == ("0", "info")
    assert west["Releases this month (required 2)"] == ("1", "warning")
    assert west["Open topic requests"] == (f"2, first due {request.due_on}", "warning")


def test_one_township_or_two_cost_the_same_queries(db, enabled, other_enabled, dashboard_queries):
    from plugins.releases import services

    _published(db, enabled)
    services.submit_topic_request(other_enabled, "村道硬化资金")
    one = dashboard_queries([enabled])
    two = dashboard_queries([enabled, other_enabled])
    assert len(one) == len(two), "\n".join(two)
