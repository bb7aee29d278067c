"""Receipts: one lookup for every institution's numbers, and a printable A5 receipt."""

from __future__ import annotations

import pytest

from core import cases as svc
from core.institutions import set_enabled
from core.testing.fixtures import page_text
from tests.example_plugin.models import ExampleNote


@pytest.fixture
def case(db, township, clerk, station):
    case = svc.register_case(
        township=township,
        kind="service",
        title="低保申请",
        applicant_name="张三",
        first_responder=clerk,
        accept=True,
    )
    svc.assign_case(case, clerk, clerk, station)
    return case


def test_township_find_receipt(client, db, township):
    note = ExampleNote(township_id=township.id, title="n")
    db.session.add(note)
    db.session.commit()
    # an institution the township has not enabled does not answer for its numbers
    assert client.get(f"/lookup?receipt=EX-{note.id}").status_code == 404
    set_enabled(township, "example", True)
    html = client.get(f"/lookup?receipt=ex-{note.id}").get_data(as_text=True)
    assert page_text(html, "#receipt-no") == f"EX-{note.id}"
    assert page_text(html, "#case-status-label") == "已收到"


def test_township_receipt_sections(client, db, township, case):
    set_enabled(township, "example", True)
    html = client.get(f"/lookup?receipt={case.receipt_no}").get_data(as_text=True)
    assert page_text(html, "#example-section") == case.receipt_no


def test_a_case_receipt_says_how_the_due_date_was_counted_and_who_answers(app, client, case):
    html = client.get(f"/lookup?receipt={case.receipt_no}").get_data(as_text=True)
    assert page_text(html, "#case-due-on").startswith(case.due_on.isoformat())
    assert "3 working days, counted from the day after acceptance" in page_text(
        html, "#due-explained"
    )
    assert page_text(html, "#receipt-responsible") == "王办事"
    assert "低保申请" not in html and "张三" not in html  # nothing personal in public


def test_printed_receipt_has_a_qr_code_and_staff_see_the_matter(app, client, staff, clerk, case):
    app.config["PUBLIC_BASE_URL"] = "https://zwfw.example.gov.cn"
    try:
        public = client.get(f"/receipt/{case.receipt_no}").get_data(as_text=True)
        assert "<svg" in public and 'class="qr' in public
        assert "https://zwfw.example.gov.cn/lookup" in public
        assert "低保申请" not in public
        staff.login(clerk)
        printed = client.get(f"/receipt/{case.receipt_no}").get_data(as_text=True)
        assert "低保申请" in printed and "张三" in printed
    finally:
        app.config["PUBLIC_BASE_URL"] = None
    assert client.get("/receipt/NOPE-000000-XXXXXXXX").status_code == 404
