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


def dashboard_figures(township: OrgUnit) -> list[DashboardFigure]:
    """Duty reports not filed, reports waiting for the office, and the villages behind on
    activity reports in the current stage (a small table, red where behind)."""
    tid = township.id
    figures = [
        DashboardFigure(
            label=_("Duty reports not filed"),
            value=services.missing_count(tid),
            link=url_for(
                "feedback_duty_reports.index_view",
                flt0_0=DutyReportStatus.missing.value,
            ),
            level="danger" if services.missing_count(tid) else "success",
        ),
        DashboardFigure(
            label=_("Reports to the office not acknowledged"),
            value=services.unacknowledged_count(tid),
            link=url_for("feedback_reports.index_view"),
            level="warning" if services.unacknowledged_count(tid) else "info",
        ),
    ]
    stage = services.stage_on(tid, clock.today(tid))
    if stage is not None:
        rows = services.village_compliance(tid, stage)
        behind = [r for r in rows if r.behind]
        cells = Markup("").join(
            Markup('<tr class="{}" data-village="{}"><td>{}</td><td>{} / {}</td></tr>').format(
                "table-danger" if r.behind else "", r.village_id, r.name, r.reports, r.required
            )
            for r in rows
        )
        figures.append(
            DashboardFigure(
                label=_(
                    "Villages behind on activity reports in %(stage)s: %(n)s of %(total)s",
                    stage=stage.name,
                    n=len(behind),
                    total=len(rows),
                ),
                chart=Markup(
                    '<table class="table table-sm mb-0" id="feedback-villages"><tbody>{}'
                    "</tbody></table>"
                ).format(cells)
                if rows
                else None,
                value=len(behind),
                link=url_for("feedback_compliance.index", township=tid, stage=stage.key),
                level="danger" if behind else "success",
            )
        )
    return figures
