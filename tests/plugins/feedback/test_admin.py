"""Information feedback in the staff site: the zh_CN crawl over the demo, another
township's rows, switching the institution off and on, stage reports and compliance,
reports to the office with attachments, the monthly digest, lists in fixed queries."""

from __future__ import annotations

from sqlalchemy import func, select

from core.testing.fixtures import PASSWORD
from plugins.feedback.models import FeedbackDutyReport, FeedbackOfficeReport, FeedbackStageReport
from tests.plugins.feedback.conftest import login


def test_every_feedback_admin_page_reads_in_chinese_with_demo_data(app, client, db):
    from core.auth import hash_password
    from core.demo import load_demo
    from core.models import User
    from core.testing.crawl import crawl_admin

    load_demo()
    admin = db.session.scalar(select(User).where(User.username == "dongfeng-township-admin"))
    admin.password_hash = hash_password(PASSWORD)
    db.session.commit()
    assert db.session.scalar(select(func.count(FeedbackStageReport.id))) >= 4
    assert db.session.scalar(select(func.count(FeedbackOfficeReport.id))) == 2
    assert db.session.scalar(select(func.count(FeedbackDutyReport.id))) >= 1
    login(client, admin)
    findings, pages = crawl_admin(client, only="/admin/feedback_")
    extra = []
    for report in db.session.scalars(select(FeedbackDutyReport)):
        extra.append(f"/admin/feedback_duty_reports/details/?id={report.id}")
    for report in db.session.scalars(select(FeedbackOfficeReport)):
        extra.append(f"/admin/feedback_reports/details/?id={report.id}")
    extra += ["/admin/feedback_stage_reports/new/", "/admin/feedback_reports/new/"]
    found, more = crawl_admin(client, start=extra, only="/admin/feedback_")
    findings += found
    pages += more
    assert pages >= 10
    assert findings == [], "\n".join(findings)
    load_demo()  # again: nothing more
    assert db.session.scalar(select(func.count(FeedbackOfficeReport.id))) == 2


def _seed_reports(township, clerk, leader, on_hotline):
    """A duty report (past its time, missing), a report to the office, a stage report."""
    from datetime import date

    import time_machine

    from plugins.feedback import services
    from tests.plugins.feedback.conftest import WORKING
    from tests.plugins.feedback.test_duty_reports import at

    with time_machine.travel(at(date(2025, 11, 14), 10), tick=False):
        on_hotline(clerk, [(4, WORKING)])
        duty_report = services.report_for(township.id, date(2025, 11, 14))
        office = services.submit_report(
            township,
            services.ReportInput(
                reporter_role="leader", category="service", title="服务情况", body="正常"
            ),
            by=leader,
        )
        stage = services.add_stage_report(
            township,
            services.StageReportInput(
                kind="team_progress", team="第一服务队", title="进展", body="顺利"
            ),
            by=clerk,
        )
    return duty_report, office, stage


def test_another_townships_reports_are_404_and_invisible(
    client, db, feedback_township, other_township, other_clerk, clerk, leader, on_hotline
):
    from core import inbox
    from core.institutions import set_enabled

    set_enabled(other_township, "feedback", True)
    duty_report, office, stage = _seed_reports(feedback_township, clerk, leader, on_hotline)
    login(client, other_clerk)
    for url in (
        f"/admin/feedback_duty_reports/details/?id={duty_report.id}",
        f"/admin/feedback_reports/details/?id={office.id}",
        f"/admin/feedback_stage_reports/details/?id={stage.id}",
        f"/admin/feedback_compliance/?township={feedback_township.id}",
        f"/admin/feedback_stage_reports/new/?township={feedback_township.id}",
    ):
        assert client.get(url).status_code == 404, url
    for url in (
        f"/admin/feedback_duty_reports/{duty_report.id}/file",
        f"/admin/feedback_reports/{office.id}/acknowledge",
    ):
        assert (
            client.post(url, data={"letters": "0", "visits": "0", "calls": "0"}).status_code == 404
        )
    for url, text in (
        ("/admin/feedback_duty_reports/", "2025-11-14"),
        ("/admin/feedback_reports/", "服务情况"),
        ("/admin/feedback_stage_reports/", "第一服务队"),
    ):
        assert text not in client.get(url).get_data(as_text=True), url
    assert [i for i in inbox.page(other_clerk)[0] if i.source.key.startswith("feedback")] == []
    db.session.expire_all()
    assert db.session.get(FeedbackOfficeReport, office.id).acknowledged_at is None


def test_switched_off_everything_is_404_and_nothing_is_heard(
    client, db, feedback_township, clerk, leader, township_admin, on_hotline
):
    from datetime import date

    import time_machine

    from core import inbox
    from core.institutions import set_enabled
    from core.people import year_figures
    from plugins.feedback.tasks import duty_report_sweep
    from tests.plugins.feedback.test_duty_reports import at

    duty_report, office, _stage = _seed_reports(feedback_township, clerk, leader, on_hotline)
    assert [i.object_id for i in inbox.page(clerk)[0] if i.source.key.startswith("feedback")]
    set_enabled(feedback_township, "feedback", False)
    login(client, township_admin)
    for url in (
        "/admin/feedback_duty_reports/",
        f"/admin/feedback_duty_reports/details/?id={duty_report.id}",
        "/admin/feedback_reports/",
        f"/admin/feedback_reports/details/?id={office.id}",
        "/admin/feedback_reports/new/",
        "/admin/feedback_stage_reports/",
        "/admin/feedback_stages/",
        "/admin/feedback_compliance/",
        "/admin/feedback_digest/",
    ):
        assert client.get(url).status_code == 404, url
    assert "Duty reports not filed" not in client.get("/admin/").get_data(as_text=True)
    for user in (clerk, township_admin):
        assert [i for i in inbox.page(user)[0] if i.source.key.startswith("feedback")] == []
    with time_machine.travel(at(date(2025, 11, 17), 9), tick=False):
        duty_report_sweep.fn()  # the sweep skips a township that switched it off
    db.session.expire_all()
    assert db.session.get(FeedbackDutyReport, duty_report.id).status.value == "pending"
    with time_machine.travel(at(date(2025, 11, 17), 9), tick=False):
        assert year_figures(feedback_township, 2025) == {}
        set_enabled(feedback_township, "feedback", True)
        duty_report_sweep.fn()
    db.session.expire_all()
    assert (
        db.session.get(FeedbackDutyReport, duty_report.id).status.value == "pending"
    )  # task queued


def test_lists_cost_the_same_queries_for_5_and_50_rows(
    client, db, feedback_township, clerk, leader, township_admin, query_counter
):
    from plugins.feedback import services

    login(client, township_admin)

    def queries_for(total: int, url: str, add) -> int:
        add(total)
        client.get(url)
        with query_counter() as statements:
            response = client.get(url)
        assert response.status_code == 200
        return len(statements)

    def office_reports(total):
        while db.session.scalar(select(func.count(FeedbackOfficeReport.id))) < total:
            services.submit_report(
                feedback_township,
                services.ReportInput(reporter_role="cadre", category="other", title="t", body="b"),
                by=leader,
            )

    def stage_reports(total):
        while db.session.scalar(select(func.count(FeedbackStageReport.id))) < total:
            services.add_stage_report(
                feedback_township,
                services.StageReportInput(kind="team_progress", team="一队", title="t", body="b"),
                by=clerk,
            )

    def duty_reports(total):
        from datetime import date, timedelta

        from plugins.feedback.models import FeedbackDutyPerson

        n = db.session.scalar(select(func.count(FeedbackDutyReport.id)))
        while n < total:
            report = FeedbackDutyReport(
                township_id=feedback_township.id,
                duty_date=date(2025, 1, 1) + timedelta(days=n),
                due_at=services.due_time(feedback_township.id, date(2025, 1, 1))[0],
                due_on=date(2025, 1, 2),
                on_duty=clerk.name,
            )
            db.session.add(report)
            db.session.flush()
            db.session.add(
                FeedbackDutyPerson(
                    township_id=feedback_township.id, report_id=report.id, user_id=clerk.id
                )
            )
            n += 1
        db.session.commit()

    for url, add in (
        ("/admin/feedback_reports/?page_size=50", office_reports),
        ("/admin/feedback_stage_reports/?page_size=50", stage_reports),
        ("/admin/feedback_duty_reports/?page_size=50", duty_reports),
    ):
        assert queries_for(5, url, add) == queries_for(50, url, add), url
