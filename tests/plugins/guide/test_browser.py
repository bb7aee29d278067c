"""In real Chromium: a citizen finds a matter on a phone and prints its one-page notice."""

from __future__ import annotations

import io
import unicodedata

import pytest

from plugins.guide.models import Place


def pdf_text(page) -> str:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(page.pdf(format="A4")))
    return flat("".join(p.extract_text() for p in reader.pages)), len(reader.pages)


def flat(text: str) -> str:
    """PDF text without line breaks, Kangxi radicals folded to the usual characters."""
    return "".join(unicodedata.normalize("NFKC", text).split())


@pytest.mark.slow
def test_a_citizen_finds_a_matter_on_a_phone_and_prints_the_notice(
    browser_page, db, make_matter, station2
):
    make_matter("开具户籍关系证明")
    make_matter(
        "农村宅基地申请",
        kind="approval",
        fee_fen=1000,
        place=Place.county,
        department=station2,
        materials="宅基地申请书\n户口簿\n村民会议意见",
        authority="《中华人民共和国土地管理法》",
    )
    page = browser_page
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto("/t/east/")
    page.click("a[href='/t/east/guide/']")
    page.select_option("#place", "county")
    page.fill("#q", "宅基地")
    page.click("#guide-search button[type=submit]")
    assert page.locator(".matter-name").all_inner_texts() == ["农村宅基地申请"]
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.click(".guide-matter")
    assert "5" in page.locator("#matter-limit").inner_text()
    assert "10.00" in page.locator("#matter-fee").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.click("#notice-link")
    page.wait_for_selector("#notice")
    text, pages = pdf_text(page)
    assert pages == 1
    assert "农村宅基地申请" in text and "宅基地申请书" in text and "10.00" in text
