"""In Debian's Chromium: a sheet of badges prints card size, ten to an A4 page, and a
citizen reads a staff member's page on a phone."""

from __future__ import annotations

import io
import unicodedata

import pytest

from core.testing.fixtures import PASSWORD


@pytest.mark.slow
def test_print_a_badge_sheet_and_read_it_back(
    browser_page, db, badges_township, badge_officer, create_user, station, make_card
):
    from pypdf import PdfReader

    users = [
        create_user(f"staff{n:02d}", "clerk", badges_township, name=f"干部{n:02d}")
        for n in range(12)
    ]
    cards = [
        make_card(badges_township, u, post="窗口办事员", department=station, photo=n % 2 == 0)
        for n, u in enumerate(users)
    ]
    page = browser_page
    page.goto("/login")
    page.fill("#username", badge_officer.username)
    page.fill("#password", PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_url("**/admin/**")
    page.goto(f"/admin/badges_print/sheet?township={badges_township.id}")
    assert page.locator("article.badge-card").count() == 12
    assert page.locator("article.badge-card svg").count() == 12  # a QR code on every badge
    # card size on screen: 85.6 mm × 54 mm at 96 px per inch
    box = page.locator("article.badge-card").first.bounding_box()
    assert abs(box["width"] - 85.6 / 25.4 * 96) < 2 and abs(box["height"] - 54 / 25.4 * 96) < 2
    pdf = page.pdf(prefer_css_page_size=True, print_background=True)
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 2  # ten badges to an A4 sheet
    width_mm = float(reader.pages[0].mediabox.width) / 72 * 25.4
    height_mm = float(reader.pages[0].mediabox.height) / 72 * 25.4
    assert (round(width_mm), round(height_mm)) == (210, 297)
    # NFKC: the PDF's CJK font maps some characters to Kangxi radicals (⼲ for 干)
    first = unicodedata.normalize("NFKC", reader.pages[0].extract_text())
    second = unicodedata.normalize("NFKC", reader.pages[1].extract_text())
    for card in cards[:10]:
        assert card.staff_number in first and card.name in first
    for card in cards[10:]:
        assert card.staff_number in second and card.staff_number not in first
    assert "窗口办事员" in first and "Number" in first


@pytest.mark.slow
def test_who_serves_you_on_a_phone(browser_page, db, badges_township, clerk, make_card):
    make_card(badges_township, clerk, post="民政助理员", photo=True, consent=True)
    page = browser_page
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto("/t/east/")
    page.click("#badges-public-link")
    page.click("text=王办事")
    assert page.locator("#staff .staff-number").inner_text() == "EA-001"
    assert page.locator("#staff img.staff-photo").evaluate("img => img.naturalWidth") == 60
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
