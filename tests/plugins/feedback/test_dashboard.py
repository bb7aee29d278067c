"""The county administrator's home page: each township's information feedback figures
(its own stages, villages and reports), all townships answered at once."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine

from core.institutions import set_enabled
from plugins.feedback import services
from plugins.feedback.models import FeedbackStage
from tests.plugins.feedback.conftest import WORKING
from tests.plugins.feedback.test_duty_reports import at

#: a Friday of the second quarter of 2025, 10:00 in the townships
TODAY = date(2025, 6, 20)


def activity(township, village, day, by) -> None:
    services.add_stage_report(
        township,
        services.StageReportInput(
            kind="village_activity",
            village_id=village.id,
            title="开展政策宣讲",
            body="村两委干部逐户讲解。",
            reported_on=day,
        ),
        by=by,
    )


@pytest.fixture
def east(db, feedback_township, villages, clerk, on_hotline):
    """The east township works in quarters: 前进村 filed its three activity reports of the
    second quarter, 红星村 one, 光明村 none; last Friday's duty report is missing."""
    first, second, _third = villages
    friday = date(2025, 6, 13)
    on_hotline(clerk, [(4, WORKING)])
    with time_machine.travel(at(friday, 10), tick=False):
        services.report_for(feedback_township.id, friday)
    with time_machine.travel(at(date(2025, 6, 16), 10), tick=False):
        assert services.mark_missing(feedback_township.id, friday.isoformat())
        db.session.commit()
    with time_machine.travel(at(TODAY, 10), tick=False):
        for day in (date(2025, 4, 2), date(2025, 5, 9), date(2025, 6, 20)):
            activity(feedback_township, first, day, clerk)
        activity(feedback_township, second, date(2025, 4, 2), clerk)
    return feedback_township


@pytest.fixture
def west(db, other_township, other_clerk, create_user, create_unit):
    """The west township works in halves: its only village filed three activity reports
    in the first half; a leader sent two reports to the office, not acknowledged."""
    set_enabled(other_township, "feedback", True)
    db.session.add(
        FeedbackStage(
            township_id=other_township.id,
            name="2025年上半年",
            starts_on=date(2025, 1, 1),
            ends_on=date(2025, 6, 30),
        )
    )
    db.session.commit()
    village = create_unit("西村", "west-v1", "village", other_township)
    leader = create_user("wleader", "leader", other_township, name="钱镇长")
    with time_machine.travel(at(TODAY, 10), tick=False):
        for day in (date(2025, 2, 3), date(2025, 3, 4), date(2025, 5, 6)):
            activity(other_township, village, day, other_clerk)
        for title in ("春耕物资缺口", "河道清淤进度"):
            services.submit_report(
                other_township,
                services.ReportInput(
                    reporter_role="leader", category="problem", title=title, body="详见附件。"
                ),
                by=leader,
            )
    return other_township


def test_each_township_sees_its_own_feedback_figures(client, east, west):
    from admin.dashboard import county_plugin_figures

    with (
        time_machine.travel(at(TODAY, 10), tick=False),
        client.application.test_request_context(),
    ):
        boards = county_plugin_figures([east, west])
    figures = {tid: {f.label: f for f in found} for tid, found in boards.items()}
    east_figures, west_figures = figures[east.id], figures[west.id]
    assert east_figures["Duty reports not filed"].value == 1
    assert east_figures["Reports to the office not acknowledged"].value == 0
    villages = east_figures["Villages behind on activity reports in 2025, quarter 2: 2 of 3"]
    assert villages.value == 2
    assert "前进村" in villages.chart and "西村" not in villages.chart
    assert west_figures["Duty reports not filed"].value == 0
    assert west_figures["Reports to the office not acknowledged"].value == 2
    villages = west_figures["Villages behind on activity reports in 2025年上半年: 0 of 1"]
    assert villages.value == 0
    assert "西村" in villages.chart and "前进村" not in villages.chart


def test_the_feedback_figures_of_two_townships_cost_the_queries_of_one(
    east, west, dashboard_queries
):
    with time_machine.travel(at(TODAY, 10), tick=False):
        one = dashboard_queries([east], "feedback")
        two = dashboard_queries([east, west], "feedback")
    assert len(two) == len(one), "\n".join(one)
