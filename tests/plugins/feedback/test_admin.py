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
