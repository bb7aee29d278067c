"""In real Chromium: a citizen asks, staff answer in the admin, the citizen reads the
answer; the release page and the feed show the published product."""

from __future__ import annotations

import pytest

from core.testing.fixtures import PASSWORD
from plugins.releases import services
from plugins.releases.models import Disclosure, DisclosureCategory


@pytest.mark.slow
def test_topic_request_answer_and_release_in_the_browser(
    browser_page, db, enabled, officer, make_product, make_batch
):
    from sqlalchemy import select

    make_product("本月葡萄种植户致富信息", body="<p>防霜冻：覆膜、熏烟、灌水。</p>")
    batch = make_batch()
    services.publish_batch(batch.id)
    category = db.session.scalar(
        select(DisclosureCategory).where(DisclosureCategory.builtin == "relief")
    )
    db.session.add(
        Disclosure(
            township_id=enabled.id,
            category_id=category.id,
            title="救灾物资发放明细",
            policy="政策",
            conditions="条件",
            procedure="程序",
            time_limit="五个工作日",
            result="已发放",
            fee="不收费",
            person_in_charge="李主任",
            liability="追责",
        )
    )
    db.session.commit()
    page = browser_page
    page.set_viewport_size({"width": 360, "height": 740})

    # a citizen asks for a topic to be disclosed and gets a receipt number
    page.goto("/t/east/releases/ask")
    page.fill("#topic", "救灾物资发给了谁")
    page.fill("#contact", "13812345678")
    page.click("#topic-form button[type=submit]")
    receipt = page.locator("#receipt-no").inner_text().strip()
    assert receipt.startswith("EAST-T")
    assert page.locator("#due-on").inner_text().strip()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360

    # the officer signs in and answers it by linking the disclosure
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto("/login")
    page.fill("#username", officer.username)
    page.fill("#password", PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_url("**/admin/**")
    page.goto("/admin/releases_topics/")
    page.click(f"a.answer-link:has-text('{receipt}')")
    page.check("#mode-disclose")
    page.select_option("#disclosure_id", label="救灾物资发放明细 (救灾救济款物)")
    page.fill("#answer", "已在公开栏公开")
    page.click("#answer-submit")
    page.wait_for_url("**/admin/releases_topics/")

    # the citizen sees the answer under the receipt number
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto("/t/east/releases/answer")
    page.fill("#receipt", receipt)
    page.click("main form button[type=submit]")
    answer = page.locator("#topic-answer")
    assert "已在公开栏公开" in answer.inner_text()
    answer.locator("a").click()
    assert "五个工作日" in page.locator("main").inner_text()

    # the release list, the product page and the feed show the published product
    page.goto("/t/east/releases/")
    page.click("text=本月葡萄种植户致富信息")
    assert page.locator("#product-title").inner_text() == "本月葡萄种植户致富信息"
    assert "覆膜" in page.locator(".release-body").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    feed = page.request.get("/t/east/releases/feed.atom")
    assert feed.ok and "本月葡萄种植户致富信息" in feed.text()
