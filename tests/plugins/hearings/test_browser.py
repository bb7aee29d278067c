"""In Debian's Chromium (zh_CN): the secretary records a question during the hearing and
concludes it; the public page shows the result on a phone; the minutes print on A4."""

from __future__ import annotations

import io
import unicodedata
from datetime import time, timedelta

import pytest
from sqlalchemy import select

from core import clock
from core.testing.fixtures import PASSWORD
from plugins.hearings import services
from plugins.hearings.models import Hearing, HearingQuestion, HearingStatus, QuestionStatus

from .conftest import hearing_input


def flat(text: str) -> str:
    """PDF text without line breaks, Kangxi radicals folded to the usual characters."""
    return "".join(unicodedata.normalize("NFKC", text).split())


@pytest.mark.slow
def test_the_secretary_runs_the_hearing_and_the_result_reaches_a_phone(
    browser_page, live_server, db, hearings_township, secretary, clerk, retired
):
    from pypdf import PdfReader

    today = clock.today(hearings_township)
    hearing = services.create_hearing(
        hearings_township,
        hearing_input(decided_on=today - timedelta(days=7), held_on=today, start_time=time(9, 30)),
        secretary,
    )
    services.announce_hearing(hearing, secretary)
    services.register(hearing, "张建国", "13800001111", "担心噪声")
    services.invite(hearing, secretary, "retired_cadre", person_id=retired.id)
    services.open_hearing(hearing, secretary)
    cadre = next(p for p in services.participants(hearing.id) if p.person_id == retired.id)

    page = browser_page
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto("/login")
    page.fill("#username", secretary.username)
    page.fill("#password", PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_url("**/admin/**")
    page.request.post(f"{live_server}/lang/zh_CN")

    page.goto(f"/admin/hearings_hearings/details/?id={hearing.id}")
    page.select_option("#participant_id", str(cadre.id))
    page.fill("#question", "运输车辆能否避开上学时段？")
    page.fill("#reason", "需与县环卫公司协商运输时刻表")
    page.select_option("#responsible_id", str(clerk.id))
    page.fill("#deadline", (today + timedelta(days=7)).isoformat())
    page.click("#question-submit")
    page.wait_for_selector("#questions li.question[data-status='pending']")
    question = db.session.scalar(select(HearingQuestion))
    assert question.case is not None and question.case.handler_id == clerk.id

    page.fill("#result", "按原选址建设，加装除臭设备，运输避开上学时段。")
    page.click("#conclude-submit")
    page.wait_for_selector("#letters-link")
    assert page.locator("#hearing-status").inner_text() == "已结束，结果已公布"
    db.session.expire_all()
    assert db.session.get(Hearing, hearing.id).status == HearingStatus.concluded

    # the minutes on A4, read back from the PDF
    page.goto(f"/admin/hearings_hearings/minutes/?id={hearing.id}")
    page.wait_for_selector("#minutes-title")
    reader = PdfReader(io.BytesIO(page.pdf(format="A4", print_background=False)))
    text = flat("".join(p.extract_text() for p in reader.pages))
    box = reader.pages[0].mediabox
    assert (
        round(float(box.width) / 72 * 25.4) == 210 and round(float(box.height) / 72 * 25.4) == 297
    )
    for expected in (
        "会议纪要",
        "垃圾中转站选址听证会",
        "老干部",
        "王桂兰",
        "能否避开上学时段",  # 车 may come out as a CJK radical
        "按原选址建设",
    ):
        assert flat(expected) in text, expected
    assert "打印" not in text  # the print button stays on screen

    # the letters for participants without an account: one A4 page each
    page.goto(f"/admin/hearings_hearings/letters/?id={hearing.id}")
    page.wait_for_selector("section.letter")
    reader = PdfReader(io.BytesIO(page.pdf(format="A4")))
    pages = [flat(p.extract_text()) for p in reader.pages]
    assert len(pages) == 2
    assert "王桂兰同志" in pages[0] + pages[1] and "张建国同志" in pages[0] + pages[1]
    assert all("加装除臭设备" in text for text in pages)

    # a citizen on a phone reads the result and the open question
    page.context.clear_cookies()
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(f"/t/{hearings_township.code}/hearings/{hearing.id}")
    result = page.locator("#hearing-result")
    assert result.is_visible() and "加装除臭设备" in result.inner_text()
    assert page.locator("#questions .question[data-status='pending']").count() == 1
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"the page is {width}px wide on a 360px phone"
    assert db.session.get(HearingQuestion, question.id).status == QuestionStatus.pending
