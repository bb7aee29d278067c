"""In Debian's Chromium (zh_CN): a clerk fills in a card for a leader who is away, the
leader comes back ("I am back"), finds the card in the inbox, records the home visit,
and prints the card (A5), read back from the PDF."""

from __future__ import annotations

import io
import unicodedata

import pytest
from sqlalchemy import select

from core.models import CaseStatus
from core.testing.fixtures import PASSWORD
from plugins.appointments.models import AppointmentCard, CardStatus

#: CJK radicals-supplement forms some fonts' glyphs map to (NFKC leaves them as they are)
RADICALS = str.maketrans({"⻓": "长", "⻔": "门", "⺠": "民", "⻚": "页", "⻅": "见", "⻢": "马"})


def flat(text: str) -> str:
    """PDF text without line breaks, Kangxi radicals folded to the usual characters."""
    text = unicodedata.normalize("NFKC", text).translate(RADICALS)
    return "".join(text.split())


def _sign_in(page, user):
    page.context.clear_cookies()
    page.goto("/login")
    page.fill("#username", user.username)
    page.fill("#password", PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_url("**/admin/**")
    page.request.post("/lang/zh_CN")  # the product's default language (tests default to English)


@pytest.mark.slow
def test_a_clerk_takes_a_card_the_leader_returns_visits_and_prints_it(
    browser_page, db, appointments_township, clerk, leader, away
):
    from pypdf import PdfReader

    away(leader, reason="到县里参加培训")
    page = browser_page
    page.set_viewport_size({"width": 1280, "height": 900})

    _sign_in(page, clerk)
    page.goto("/admin/appointments_new/")
    assert "外出至" in page.locator(f"#leader_id option[value='{leader.id}']").inner_text()
    page.select_option("#leader_id", str(leader.id))
    page.select_option("#channel", "phone")
    page.fill("#citizen_name", "刘桂兰")
    page.fill("#phone", "139 0471 1234")
    page.fill("#address", "东村三组18号")
    page.fill("#matter", "老房屋顶漏雨，申请危房改造补助")
    page.click("#card-submit")
    page.locator("#card-status").wait_for()
    assert page.locator("#card-status").inner_text().strip() == "待领导返回"
    assert page.locator("#card-phone").inner_text().strip() == "139****1234"  # a clerk's view
    card = db.session.scalar(select(AppointmentCard))
    receipt_no = card.case.receipt_no

    _sign_in(page, leader)
    page.goto("/admin/admin_duty_presence/")
    page.click("button.mark-back")
    page.wait_for_load_state()
    page.goto("/admin/admin_notifications/")
    # written in the platform's default language (English in the tests)
    assert "Welcome back: 1 appointment card waited for you" in page.content()
    page.click("#inbox-link")
    page.click("tr.inbox-item[data-source='appointments.to_visit'] a")
    page.locator("#visit-form").wait_for()
    assert page.locator("#card-phone").inner_text().strip() == "13904711234"  # the leader's
    page.fill("#companions", "民政办 王干事")
    page.fill("#findings", "屋顶两处漏雨，老人独居")
    page.select_option("#outcome", "resolved")
    page.fill("#result", "已协助申报危房改造补助")
    page.click("#visit-submit")
    page.locator("#card-result").wait_for()
    assert page.locator("#card-status").inner_text().strip() == "已办结"
    db.session.expire_all()
    card = db.session.get(AppointmentCard, card.id)
    assert card.status == CardStatus.closed and card.case.status == CaseStatus.closed

    page.click("#card-print-link")
    page.locator("#print-card").wait_for()
    reader = PdfReader(io.BytesIO(page.pdf(format="A5", print_background=True)))
    text = flat("".join(p.extract_text() for p in reader.pages))
    assert len(reader.pages) == 1
    for expected in (
        receipt_no,
        "群众预约领导办公卡",
        "刘桂兰",
        "13904711234",
        "东村三组18号",
        "老房屋顶漏雨",
        leader.name,
        clerk.name,
        "已协助申报危房改造补助",
        "领导签字",
    ):
        assert flat(expected) in text, expected
