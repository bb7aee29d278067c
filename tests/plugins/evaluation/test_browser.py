"""In Debian's Chromium on a phone-sized screen: a citizen looks up a closed case's receipt
and rates it; the page fits the screen."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from plugins.evaluation.models import EvaluationFollowUp, EvaluationRating


@pytest.mark.slow
def test_rate_a_closed_case_on_a_phone(browser_page, db, evaluation_township, leader, closed_case):
    case = closed_case()
    page = browser_page
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto("/lookup")
    page.fill("#receipt", case.receipt_no.lower())
    page.click("main form button[type=submit]")
    page.locator("#rating-form").wait_for()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.check("#level-dissatisfied")
    page.fill("#rating-comment", "等了很久")
    page.click("#rating-submit")
    page.locator("#rating-given").wait_for()
    assert case.receipt_no in page.url
    assert page.locator("#rating-form").count() == 0
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    db.session.expire_all()
    rating = db.session.scalar(select(EvaluationRating))
    assert (rating.level.value, rating.comment) == ("dissatisfied", "等了很久")
    assert db.session.scalar(select(EvaluationFollowUp.case_id)) == case.id
