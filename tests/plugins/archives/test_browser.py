"""In real Chromium: the archivist files an item from the inbox, a clerk asks to borrow
it, a leader approves, the archivist hands it out and takes it back; the printed
catalogue and box labels carry the codes (read back from ``page.pdf()``)."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from core.testing.fixtures import PASSWORD
from plugins.archives.models import Box, Item, Loan, LoanStatus, ReturnCondition


def _login(page, user):
    page.context.clear_cookies()
    page.goto("/login")
    page.fill("#username", user.username)
    page.fill("#password", PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_url("**/admin/**")
    page.request.post("/lang/zh_CN")  # the product's default language (tests default to English)


def _pdf_text(page) -> str:
    from pypdf import PdfReader

    data = page.pdf(format="A4", print_background=False)
    import unicodedata

    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)
    return unicodedata.normalize("NFKC", text)  # CJK radicals the font maps back to 文, 页 ...


@pytest.mark.slow
def test_file_borrow_and_take_back_in_the_browser(
    browser_page, db, enabled, archivist, clerk, leader, waiting_item
):
    item = waiting_item("宅基地审批申请（王五）")
    page = browser_page

    # the archivist files it from the inbox
    _login(page, archivist)
    page.goto("/admin/archives_inbox/")
    page.check(f"input.action-checkbox[value='{item.id}']")
    page.once("dialog", lambda dialog: dialog.accept())
    action = page.locator("a.dropdown-item[onclick*=\"execute('file')\"]")
    action.locator("xpath=../preceding-sibling::a[contains(@class,'dropdown-toggle')]").click()
    action.click()
    page.wait_for_selector(".alert-success")
    db.session.expire_all()
    code = db.session.get(Item, item.id).reference_code
    assert code and code in page.locator(".alert-success").inner_text()

    # a clerk finds it in the catalogue and asks to borrow it
    _login(page, clerk)
    page.goto("/admin/archives_catalogue/")
    page.fill("#q", "宅基地")
    page.click("#catalogue-search button[type=submit]")
    page.click("#catalogue a:has-text('宅基地审批申请（王五）')")
    assert page.locator("#item-code").inner_text() == code
    page.fill("#purpose", "核对建房面积")
    page.click("#borrow-submit")
    page.wait_for_url("**/archives_loans/details/**")

    # a leader approves it
    _login(page, leader)
    page.goto("/admin/archives_loans/")
    page.click("a.loan-step[href*='/decide/']")
    page.select_option("#decision", "approve")
    page.click("#step-submit")
    page.wait_for_url("**/archives_loans/details/**")

    # the archivist hands it out and takes it back
    _login(page, archivist)
    page.goto("/admin/archives_loans/")
    page.click("a.loan-step[href*='/lend/']")
    page.click("#step-submit")
    page.wait_for_url("**/archives_loans/details/**")
    page.goto("/admin/archives_loans/")
    page.click("a.loan-step[href*='/return/']")
    page.select_option("#condition", "complete")
    page.click("#step-submit")
    page.wait_for_url("**/archives_loans/details/**")
    db.session.expire_all()
    loan = db.session.scalar(select(Loan))
    assert loan.status == LoanStatus.returned
    assert loan.return_condition == ReturnCondition.complete

    # the printed catalogue carries the code and the national columns
    page.goto("/admin/archives_catalogue/print/?q=宅基地")
    text = _pdf_text(page)
    assert "归档文件目录" in text and "件号" in text and "责任者" in text
    assert code in text and "宅基地审批申请" in text

    # box labels
    box = Box(township_id=enabled.id, box_no="2026-07", room="一号库房", shelf="A-03")
    db.session.add(box)
    db.session.commit()
    from plugins.archives import services

    services.place_item(db.session.get(Item, item.id), box, None, archivist)
    page.goto("/admin/archives_boxes/")
    page.click("a.box-labels")
    text = _pdf_text(page)
    assert "2026-07" in text and "一号库房" in text and code in text
