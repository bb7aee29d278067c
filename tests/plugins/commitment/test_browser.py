"""In real Chromium: a leader reads the yearly quota report and prints it."""

from __future__ import annotations

import io
import unicodedata

import pytest

from core.testing.fixtures import PASSWORD


def flat(text: str) -> str:
    """PDF text without line breaks, Kangxi radicals folded to the usual characters."""
    return "".join(unicodedata.normalize("NFKC", text).split())


@pytest.mark.slow
def test_a_leader_reads_the_quota_report(
    browser_page, db, commitment_township, leader, clerk, closed_case
):
    from pypdf import PdfReader

    closed_case(clerk, (2025, 3, 2, 9), (2025, 3, 3, 9), (2025, 3, 4, 9))
    page = browser_page
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto("/login")
    page.locator("input[name=username]").fill(leader.username)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(lambda url: "/login" not in url)
    page.goto("/admin/commitment_quota/")
    page.fill("#year", "2025")
    page.locator("form:has(#year) button[type=submit]").click()
    page.wait_for_url("**year=2025**")
    rows = page.locator("#quota .quota-row")
    assert rows.count() == 2
    leader_row = page.locator(f"#quota .quota-row[data-user='{leader.id}']")
    clerk_row = page.locator(f"#quota .quota-row[data-user='{clerk.id}']")
    assert leader_row.locator(".handled").inner_text() == "0"
    assert clerk_row.locator(".handled").inner_text() == "1"
    assert "table-danger" in (clerk_row.get_attribute("class") or "")
    page.check("input[name=behind]")
    page.locator("form:has(#year) button[type=submit]").click()
    page.wait_for_url("**behind=**")  # the filtered report, not the page it left
    page.wait_for_load_state()
    reader = PdfReader(io.BytesIO(page.pdf(format="A4", landscape=True)))
    text = flat("".join(p.extract_text() for p in reader.pages))
    assert "王办事" in text and "Behindby4" in text.replace("落后4件", "Behindby4")
