"""In Debian's Chromium (zh_CN): the person on duty finds the duty report in the inbox and
files it; a leader prints the month's digest (A4), read back from the PDF."""

from __future__ import annotations

import io
import unicodedata

import pytest

from core.testing.fixtures import PASSWORD
from plugins.feedback.models import DutyReportStatus, FeedbackDutyReport


def flat(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split())


def _sign_in(page, user):
    page.context.clear_cookies()
    page.goto("/login")
    page.fill("#username", user.username)
    page.fill("#password", PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_url("**/admin/**")
    page.request.post("/lang/zh_CN")


@pytest.mark.slow
def test_the_person_on_duty_files_the_report_from_the_inbox(
    browser_page, db, feedback_township, clerk, leader, on_hotline
):
    from datetime import timedelta

    from pypdf import PdfReader

    from core import clock, duty
    from plugins.feedback import services
    from tests.plugins.feedback.conftest import REST, WORKING

    today = clock.today(feedback_township)
    on_hotline(
        clerk,
        [(d, WORKING) for d in range(7)] + [(d, REST) for d in range(7)],
        since=today - timedelta(days=7),
    )
    day = duty.duty_day(feedback_township)
    report = services.report_for(feedback_township.id, day)
    assert report is not None and report.status == DutyReportStatus.pending

    page = browser_page
    page.set_viewport_size({"width": 1280, "height": 900})
    _sign_in(page, clerk)
    page.goto("/admin/")
    page.click("#inbox-link")
    row = page.locator("tr.inbox-item[data-source='feedback.duty_report']")
    assert day.isoformat() in row.inner_text()
    row.locator("a").first.click()
    page.locator("#duty-form").wait_for()
    assert page.locator("#duty-status").inner_text().strip() == "待报送"
    page.fill("#letters", "2")
    page.fill("#visits", "1")
    page.fill("#calls", "6")
    page.fill("#summary", "来电咨询养老保险补缴，来访反映村道路灯不亮，已登记转办。")
    page.fill("#follow_up", "路灯问题请农业服务中心跟进")
    page.click("#duty-submit")
    page.locator("#duty-filed").wait_for()
    assert page.locator("#duty-status").inner_text().strip() == "按时报送"
    assert page.locator("#duty-calls").inner_text().strip() == "6"
    db.session.expire_all()
    filed = db.session.get(FeedbackDutyReport, report.id)
    assert (filed.letters, filed.visits, filed.calls, filed.filed_by_id) == (2, 1, 6, clerk.id)
    page.goto("/admin/admin_inbox/")
    assert page.locator("tr.inbox-item[data-source='feedback.duty_report']").count() == 0

    _sign_in(page, leader)
    page.goto(
        f"/admin/feedback_digest/?township={feedback_township.id}&month={day.strftime('%Y-%m')}"
    )
    page.locator("#feedback-digest").wait_for()
    reader = PdfReader(io.BytesIO(page.pdf(format="A4", print_background=True)))
    text = flat("".join(p.extract_text() for p in reader.pages))
    assert len(reader.pages) == 1
    for expected in (
        "信息反馈月度汇总",
        "来信",
        "来电",
        "6",
        "未签收的情况报告",
        feedback_township.name,
    ):
        assert flat(expected) in text, expected
    assert "月份" not in text or "显示" not in text  # the month picker is not printed
