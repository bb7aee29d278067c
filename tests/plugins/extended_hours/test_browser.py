"""In Debian's Chromium (zh_CN), on a 360 px phone: a citizen reads who is at the service
windows at the weekend and who has the duty phone after hours, without sideways
scrolling and without anything personal."""

from __future__ import annotations

from datetime import timedelta

import pytest


@pytest.mark.slow
def test_a_citizen_reads_the_weekend_duty_on_a_phone(
    browser_page, db, hours_township, clerk, leader
):
    from core import clock, duty
    from core.calendar import WorkingCalendar
    from core.models import DutyPost
    from tests.plugins.extended_hours.conftest import REST, WORKING

    clerk.phone = "0471-5551235"
    leader.phone = "0471-5551234"
    clerk.email = "wang.private@example.test"
    db.session.commit()
    today = clock.today(hours_township)
    since = today - timedelta(days=7)
    duty.add_to_pattern(
        hours_township, DutyPost.window, clerk, [(d, REST) for d in range(7)], valid_from=since
    )
    duty.add_to_pattern(
        hours_township, DutyPost.window, leader, [(d, WORKING) for d in range(7)], valid_from=since
    )
    duty.add_to_pattern(
        hours_township,
        DutyPost.hotline,
        leader,
        [(d, WORKING) for d in range(7)] + [(d, REST) for d in range(7)],
        valid_from=since,
    )
    calendar = WorkingCalendar.for_township(hours_township.id)
    start = duty.duty_day(hours_township)
    rest = next(
        start + timedelta(days=n)
        for n in range(14)
        if not calendar.is_workday(start + timedelta(days=n))
    )

    page = browser_page
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(f"/t/{hours_township.code}/")
    page.request.post("/lang/zh_CN")  # the product's default language (tests default to English)
    page.reload()
    page.click("#extended-hours-link")
    page.locator("#eh-days").wait_for()
    assert "周末及下班后值班" in page.locator("h1").inner_text()
    day = page.locator(f".eh-day[data-day='{rest.isoformat()}']")
    assert day.get_attribute("data-rest") == "yes"
    windows = day.locator(".eh-windows").inner_text()
    assert "王办事" in windows and "0471-5551235" in windows
    assert "李镇长" in day.locator(".eh-phone").inner_text()
    working = page.locator(".eh-day[data-rest='no']").first
    assert working.locator(".eh-windows").count() == 0
    assert "17:30 以后" in working.locator(".eh-phone").inner_text()
    assert (
        page.locator(f".eh-day[data-day='{rest.isoformat()}'] a[href='tel:0471-5551235']").count()
        == 1
    )
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"the page is {width}px wide on a 360px phone"
    assert "wang.private@example.test" not in page.content()
