"""What information feedback does when the core calls it: the inbox (duty reports to file,
missing duty reports for the office, reports to acknowledge) and the dashboard."""

from __future__ import annotations

from flask import url_for
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import Date, String, cast, exists, literal, null, select

from core import clock
from core.access import township_ids_with
from core.contract import DashboardFigure, InboxSource
from core.models import OrgUnit, User
from plugins.feedback import services
from plugins.feedback.models import (
    OPEN_STATUSES,
    DutyReportStatus,
    FeedbackDutyPerson,
    FeedbackDutyReport,
    FeedbackOfficeReport,
)


def _duty_title():
    return (
        cast(FeedbackDutyReport.duty_date, String(10)) + literal(" · ") + FeedbackDutyReport.on_duty
    )


def inbox_sources(user: User, township_ids: set[int]) -> list[InboxSource]:
    """The duty reports the user owes (due at the hand-over time; red once missing); for
    the office, missing duty reports of others and reports to acknowledge."""
    mine = exists().where(
        FeedbackDutyPerson.report_id == FeedbackDutyReport.id, FeedbackDutyPerson.user_id == user.id
    )
    sources = [
        InboxSource(
            services.INBOX_TO_FILE,
            "值班报告待报送",
            "Duty report to file",
            select(
                FeedbackDutyReport.id.label("object_id"),
                _duty_title().label("title"),
                FeedbackDutyReport.township_id.label("township_id"),
                FeedbackDutyReport.created_at.label("since"),
                FeedbackDutyReport.due_on.label("due_on"),
            ).where(
                FeedbackDutyReport.township_id.in_(township_ids),
                FeedbackDutyReport.status.in_(OPEN_STATUSES),
                mine,
            ),
            services.DUTY_ENDPOINT,
        )
    ]
    office = township_ids_with(user, services.OFFICE) & set(township_ids)
    if office:
        sources.append(
            InboxSource(
                services.INBOX_MISSING,
                "值班报告未按时报送",
                "Duty report not filed on time",
                select(
                    FeedbackDutyReport.id.label("object_id"),
                    _duty_title().label("title"),
                    FeedbackDutyReport.township_id.label("township_id"),
                    FeedbackDutyReport.missed_at.label("since"),
                    FeedbackDutyReport.due_on.label("due_on"),
                ).where(
                    FeedbackDutyReport.township_id.in_(office),
                    FeedbackDutyReport.status == DutyReportStatus.missing,
                    ~mine,
                ),
                services.DUTY_ENDPOINT,
            )
        )
        sources.append(
            InboxSource(
                services.INBOX_TO_ACKNOWLEDGE,
                "情况报告待签收",
                "Report to the office to acknowledge",
                select(
                    FeedbackOfficeReport.id.label("object_id"),
                    FeedbackOfficeReport.title.label("title"),
                    FeedbackOfficeReport.township_id.label("township_id"),
                    FeedbackOfficeReport.reported_at.label("since"),
                    cast(null(), Date).label("due_on"),
                ).where(
                    FeedbackOfficeReport.township_id.in_(office),
                    FeedbackOfficeReport.acknowledged_at.is_(None),
                    FeedbackOfficeReport.reporter_id != user.id,
                ),
                services.REPORT_ENDPOINT,
            )
        )
    return sources


def county_dashboard_figures(townships: list[OrgUnit]) -> dict[int, list[DashboardFigure]]:
    """Per township, by id: duty reports not filed, reports waiting for the office, and
    the villages behind on activity reports in the stage of its today (a small table, red
    where behind). Four queries for them all."""
    ids = [t.id for t in townships]
    missing = services.missing_counts(ids)
    unacknowledged = services.unacknowledged_counts(ids)
    stages = services.stages_on({t.id: clock.today(t) for t in townships})
    compliance = services.village_compliance_by_township(
        {tid: stage for tid, stage in stages.items() if stage is not None}
    )
    missing_link = url_for(
        "feedback_duty_reports.index_view", flt0_0=DutyReportStatus.missing.value
    )
    reports_link = url_for("feedback_reports.index_view")
    out = {}
    for tid in ids:
        figures = [
            DashboardFigure(
                label=_("Duty reports not filed"),
                value=missing[tid],
                link=missing_link,
                level="danger" if missing[tid] else "success",
            ),
            DashboardFigure(
                label=_("Reports to the office not acknowledged"),
                value=unacknowledged[tid],
                link=reports_link,
                level="warning" if unacknowledged[tid] else "info",
            ),
        ]
        stage = stages[tid]
        if stage is not None:
            figures.append(_compliance_figure(tid, stage, compliance[tid]))
        out[tid] = figures
    return out


def _compliance_figure(
    township_id: int, stage: services.StagePeriod, rows: list[services.VillageCompliance]
) -> DashboardFigure:
    behind = [r for r in rows if r.behind]
    cells = Markup("").join(
        Markup('<tr class="{}" data-village="{}"><td>{}</td><td>{} / {}</td></tr>').format(
            "table-danger" if r.behind else "", r.village_id, r.name, r.reports, r.required
        )
        for r in rows
    )
    return DashboardFigure(
        label=_(
            "Villages behind on activity reports in %(stage)s: %(n)s of %(total)s",
            stage=stage.name,
            n=len(behind),
            total=len(rows),
        ),
        chart=Markup(
            '<table class="table table-sm mb-0" id="feedback-villages"><tbody>{}</tbody></table>'
        ).format(cells)
        if rows
        else None,
        value=len(behind),
        link=url_for("feedback_compliance.index", township=township_id, stage=stage.key),
        level="danger" if behind else "success",
    )
