"""In real Chromium: a clerk opens a proxy record, records the materials and delivers with
a signature image; the material receipt prints on A5."""

from __future__ import annotations

import io
import unicodedata

import pytest

from core.testing.fixtures import PASSWORD
from plugins.proxy.models import ProxyStatus
from tests.plugins.proxy.conftest import PNG


def flat(text: str) -> str:
    """PDF text without line breaks, Kangxi radicals folded to the usual characters."""
    return "".join(unicodedata.normalize("NFKC", text).split())


@pytest.mark.slow
def test_a_clerk_opens_a_proxy_record_and_delivers(browser_page, db, record, clerk):
    from pypdf import PdfReader

    page = browser_page
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto("/login")
    page.locator("input[name=username]").fill(clerk.username)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(lambda url: "/login" not in url)
    page.goto("/admin/proxy_records/")
    page.click(f"a:has-text('{record.case.receipt_no}')")
    page.wait_for_selector("#materials")

    # the material receipt the citizen took home
    page.click("#material-receipt-link")
    page.wait_for_selector("#receipt-materials")
    reader = PdfReader(io.BytesIO(page.pdf(format="A5")))
    text = flat("".join(p.extract_text() for p in reader.pages))
    assert len(reader.pages) == 1
    assert record.case.receipt_no in text and "宅基地申请书" in text and "口簿复印件" in text
    page.go_back()

    for n in range(2):
        form = page.locator("#materials tbody tr").nth(n).locator("form")
        form.locator("select[name=fate]").select_option("returned")
        form.locator("button[type=submit]").click()
        page.wait_for_selector("#materials")
    page.fill("#what", "宅基地批准书")
    page.select_option("#ack_kind", "signature")
    page.set_input_files("#ack", {"name": "sign.png", "mimeType": "image/png", "buffer": PNG})
    page.click("#deliver-submit")
    page.wait_for_selector("#delivery")
    assert "宅基地批准书" in page.locator("#delivery").inner_text()
    db.session.expire_all()
    db.session.refresh(record)
    assert record.status == ProxyStatus.delivered
    assert "Delivered to your home" in page.locator("#public-steps").inner_text() or (
        "已送达您家中" in page.locator("#public-steps").inner_text()
    )
