"""In real Chromium (zh_CN): the petition officer registers a petition at a reception
session, records attendance and prints the session record on A4, read back from
``page.pdf()``: the petition is there, the petitioner's personal data are not."""

from __future__ import annotations

import io
import unicodedata

import pytest
from sqlalchemy import select

from core.testing.fixtures import PASSWORD
from plugins.petitions.models import Attendance, Petition, RegisteredVia
from tests.plugins.petitions.conftest import ID_LI

#: CJK radicals-supplement forms some fonts' glyphs extract as (NFKC leaves them)
RADICALS = str.maketrans({"⻓": "长", "⺠": "民", "⻅": "见", "⻔": "门", "⻋": "车"})


def flat(text: str) -> str:
    """PDF text without line breaks, radicals folded to the usual characters."""
    return "".join(unicodedata.normalize("NFKC", text).translate(RADICALS).split())


@pytest.mark.slow
def test_the_officer_registers_a_petition_at_a_session_and_prints_the_record(
    browser_page, db, session, officer, village
):
    from pypdf import PdfReader

    page = browser_page
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto("/login")
    page.locator("input[name=username]").fill(officer.username)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(lambda url: "/login" not in url)
    page.request.post("/lang/zh_CN")  # the product's default language (tests default to English)

    page.goto(f"/admin/petitions_sessions/details/?id={session.id}")
    page.click("#register-at-session")
    page.wait_for_selector("#register-form")
    assert page.locator("#session_id").input_value() == str(session.id)
    page.select_option("#category", "construction")
    page.fill("#matter", "要求硬化通村道路")
    page.select_option("#village_id", str(village.id))
    page.fill("#name-0", "李玉山")
    page.fill("#id_number-0", ID_LI)
    page.fill("#phone-0", "13947110001")
    page.fill("#address-0", "东村三组12号")
    page.click("#register-submit")
    page.wait_for_selector("#petition-facts")
    petition = db.session.scalar(select(Petition))
    assert petition.registered_via == RegisteredVia.session
    assert petition.session_id == session.id
    # the officer may see the petitioner's data on the petition's page
    assert ID_LI in page.locator("#petitioners").inner_text()

    page.goto(f"/admin/petitions_sessions/details/?id={session.id}")
    assert petition.case.receipt_no in page.locator("#session-petitions").inner_text()
    for select_ in page.locator("#invitations select").all():
        select_.select_option("present")
    page.click("#attendance-submit")
    page.wait_for_selector("#invitations")
    db.session.expire_all()
    assert {i.attendance for i in session.invitations} == {Attendance.present}
    page.fill("#said", "希望尽快公示施工计划")
    page.click("#opinion-submit")
    page.wait_for_selector("#opinions")

    page.click("#record-link")
    page.wait_for_selector("#session-record")
    reader = PdfReader(io.BytesIO(page.pdf(format="A4")))
    text = flat("".join(p.extract_text() for p in reader.pages))
    assert len(reader.pages) == 1
    assert "信访接待记录" in text and petition.case.receipt_no in text
    assert "要求硬化通村道路" in text and "李镇长" in text and "吴副书记" in text
    assert "赵德明" in text and "希望尽快公示施工计划" in text
    for personal in ("李玉山", ID_LI, "13947110001", "东村三组"):
        assert personal not in text
