"""In Debian's Chromium: a supervisor records a finding, the leader assigns a remedy, the
owner reports it done and the supervisor verifies it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from core import clock
from core.testing.fixtures import PASSWORD
from plugins.supervision.models import FindingStatus, SupervisionFinding


def _sign_in(page, user):
    page.context.clear_cookies()
    page.goto("/login")
    page.fill("#username", user.username)
    page.fill("#password", PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_url("**/admin/**")


@pytest.mark.slow
def test_record_and_verify_a_finding(
    browser_page, db, supervision_township, supervisor, group, clerk, leader
):
    page = browser_page
    _sign_in(page, supervisor)
    page.goto("/admin/supervision_findings/new/")
    page.check("#kind-procedure")
    page.select_option("#area_id", label="民政窗口")
    page.select_option("#staff_user_id", label=clerk.name)
    page.fill("#evidence", "未按规定一次性告知所需材料")
    page.click("#finding-submit")
    page.locator("#finding-status").wait_for()
    finding = db.session.scalar(select(SupervisionFinding))
    assert finding is not None

    _sign_in(page, leader)
    page.goto(f"/admin/supervision_findings/handle/?id={finding.id}")
    page.fill("#measure", "制作一次性告知单")
    page.select_option("#owner_id", label=clerk.name)
    page.fill("#deadline", (clock.today(supervision_township) + timedelta(days=5)).isoformat())
    page.click("#assign-submit")
    page.locator("#remedied-form").wait_for()  # the leading group may also report it

    _sign_in(page, clerk)
    page.goto("/admin/")
    page.click("#inbox-link")
    page.click("tr.inbox-item[data-source='supervision.remedy'] a")
    page.fill("#note", "告知单已上墙")
    page.click("#remedied-submit")
    page.locator("#finding-status").wait_for()

    _sign_in(page, supervisor)
    page.goto(f"/admin/supervision_findings/handle/?id={finding.id}")
    page.fill("#verify-note", "现场核实")
    page.click("#verify-submit")
    page.locator("#finding-status").wait_for()
    db.session.expire_all()
    finding = db.session.get(SupervisionFinding, finding.id)
    assert finding.status == FindingStatus.verified
    assert page.locator("#trail li").count() == 4
