"""The staff's first week in real Chromium (zh_CN): a leader approves an information
product from the inbox; a clerk registers a case with the AJAX applicant lookup and
prints the receipt (rendered to PDF and read back)."""

from __future__ import annotations

import io
import os

import pytest

from core.testing.fixtures import PASSWORD

SHOTS = os.environ.get("TOWNSHIP_TEST_SCREENSHOTS")  # a folder: keep screenshots there


def _sign_in(page, user) -> None:
    page.goto("/login")
    page.fill("#username", user.username)
    page.fill("#password", PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_url("**/admin/**")
    assert page.request.post("/lang/zh_CN").ok  # the product's default language
    page.reload()


def _shot(page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


@pytest.mark.slow
def test_a_leader_approves_a_product_from_the_inbox(browser_page, db, township, leader):
    from core.institutions import set_enabled
    from plugins.releases.models import Product, ProductStatus

    set_enabled(township, "releases", True)
    product = Product(
        township_id=township.id,
        title="草莓大棚防冻技术",
        audience="草莓种植户",
        body="<p>夜间气温低于零度时<strong>加盖草帘</strong>。</p>",
        status=ProductStatus.submitted,
    )
    db.session.add(product)
    db.session.commit()
    page = browser_page
    _sign_in(page, leader)
    assert page.locator("#inbox-count").inner_text().strip() == "1"
    page.click("#inbox-link")
    _shot(page, "inbox")
    page.click("text=草莓大棚防冻技术")
    page.wait_for_url("**/releases_products/details/**")
    # the body as the public will see it: bold text, no tags shown
    assert page.locator("#product-body strong").inner_text() == "加盖草帘"
    assert "<p>" not in page.locator("#product-body").inner_text()
    _shot(page, "product")
    page.click("#approve-product")
    page.wait_for_selector(".alert-success")
    assert page.locator("#product-status").inner_text().strip() == "已批准，待下次发布"
    assert page.locator("#inbox-count").inner_text().strip() == "0"
    db.session.expire_all()
    assert db.session.get(Product, product.id).status == ProductStatus.approved


@pytest.mark.slow
def test_a_clerk_registers_a_case_with_the_lookup_and_prints_the_receipt(
    browser_page, db, township, village, clerk, make_person
):
    from pypdf import PdfReader

    make_person(
        township, "王芳", id_number="110101199003071233", phone="13812345678", village=village
    )
    make_person(township, "王芳", id_number="110101198501019994", phone="13900001111")
    page = browser_page
    _sign_in(page, clerk)
    page.goto("/admin/admin_cases/new/")
    page.select_option("#kind", "service")
    page.fill("#title", "开具低保证明")
    # flask-admin's AJAX select (select2): type the last digits of the phone
    page.click("#s2id_applicant_id .select2-choice")
    page.fill(".select2-drop-active .select2-input", "1111")
    option = page.locator(".select2-result-label", has_text="电话尾号 1111")
    option.wait_for()
    assert "王芳" in option.inner_text() and "13900001111" not in option.inner_text()
    option.click()
    _shot(page, "register")
    page.click("#register-case button[type=submit]")
    page.wait_for_url("**/admin_cases/details/**")
    receipt_no = page.locator("h2").inner_text().split("·")[0].strip()

    page.click("#print-receipt")
    page.wait_for_url("**/receipt/**")
    _shot(page, "receipt")
    pdf = page.pdf(format="A5", print_background=True)
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    compact = "".join(text.split())
    assert receipt_no in compact
    assert "开具低保证明" in compact  # the matter, printed for the citizen who brought it
    assert township.name in compact
    assert len(PdfReader(io.BytesIO(pdf)).pages) == 1  # one A5 sheet


@pytest.mark.slow
def test_the_dashboard_reads_on_a_phone(browser_page, db, township, clerk, make_case):
    """360 px wide: each figure's caption on one line, the inbox table scrolls sideways
    instead of breaking words into one character per line."""
    from datetime import timedelta

    from core import clock

    for days in range(3):
        make_case(township, clerk, handler=clerk, due_on=clock.today() - timedelta(days=days))
    page = browser_page
    page.set_viewport_size({"width": 360, "height": 740})
    _sign_in(page, clerk)
    _shot(page, "phone")
    line = page.evaluate(
        "parseFloat(getComputedStyle(document.querySelector('.figure-caption')).lineHeight)"
    )
    heights = page.evaluate(
        "Array.from(document.querySelectorAll('.figure-caption'))"
        ".map(e => e.getBoundingClientRect().height)"
    )
    assert heights and all(h < 1.5 * line for h in heights), heights
    cells = page.evaluate(
        "Array.from(document.querySelectorAll('#inbox-panel td'))"
        ".map(e => e.getBoundingClientRect().height)"
    )
    assert max(cells) < 3 * line, cells
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
