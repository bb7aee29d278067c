"""The public site: township list, township pages, case lookup by receipt number."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from core import clock
from core.cases import (
    STATUS_LABELS,
    accept_case,
    assign_case,
    register_case,
    resolve_case,
    start_case,
)
from core.institutions import set_enabled
from core.models import CaseStatus, Person
from core.testing.fixtures import built_app, page_text

APPLICANT = "张三丰"
PHONE = "13812345678"
ID_NUMBER = "110101199003071234"
TITLE = "低保申请（家庭私事）"
DESCRIPTION = "家中老人卧病，收入微薄"
RESULT = "批准每月补助八百元"


def status_label(app, status: CaseStatus) -> str:
    """The label the page shows for a status, in the app's default language."""
    with app.test_request_context("/"):
        return str(STATUS_LABELS[status])


@pytest.fixture
def resolved_case(db, township, clerk, station):
    """A case with every personal detail filled in, accepted, handled and resolved."""
    person = Person(township_id=township.id, name=APPLICANT, phone=PHONE, id_number=ID_NUMBER)
    db.session.add(person)
    db.session.commit()
    case = register_case(
        township=township,
        kind="service",
        title=TITLE,
        applicant_name=APPLICANT,
        applicant=person,
        description=DESCRIPTION,
        first_responder=clerk,
        received_on=clock.today() - timedelta(days=1),
    )
    accept_case(case, clerk)
    assign_case(case, clerk, clerk, station)
    if case.status != CaseStatus.in_progress:
        start_case(case, clerk)
    resolve_case(case, clerk, RESULT)
    return case


def assert_no_external_assets(html: str) -> None:
    for url in re.findall(r'(?:src|href)="([^"]+)"', html):
        assert not url.startswith(("http:", "https:", "//")), url


def test_index_lists_the_townships_for_anonymous_visitors(client, township, other_township):
    response = client.get("/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert township.name in html and other_township.name in html
    assert 'href="/t/east/"' in html and 'href="/t/west/"' in html
    assert 'name="viewport"' in html
    assert 'href="/login"' in html and 'action="/logout"' not in html
    assert html.count('"/lang/') == 1  # a switch to the other language only (a link: cached)
    assert_no_external_assets(html)


def test_the_township_list_is_paged(client, create_unit, county):
    for i in range(51):
        create_unit(f"镇{i:02d}", f"town{i:02d}", "township", county)
    first = client.get("/").get_data(as_text=True)
    second = client.get("/?page=2").get_data(as_text=True)
    assert first.count('href="/t/town') == 50
    assert second.count('href="/t/town') == 1
    assert 'href="/?page=2"' in first
    assert client.get("/?page=x").status_code == 200


def test_the_base_template_serves_signed_in_staff(client, staff, clerk, township):
    staff.login(clerk)
    html = client.get("/").get_data(as_text=True)
    assert 'action="/logout"' in html and 'href="/admin/"' in html
    assert 'href="/login"' not in html
    html = client.get("/lookup").get_data(as_text=True)
    assert 'action="/logout"' in html


def test_a_township_page_lists_the_institutions_it_enabled(client, township, other_township):
    set_enabled(township, "example", True)
    east = client.get("/t/east/").get_data(as_text=True)
    west = client.get("/t/west/").get_data(as_text=True)
    assert 'href="/t/east/example/"' in east
    assert "/example/" not in west
    assert client.get("/t/east/example/").status_code == 200
    assert client.get("/t/west/example/").status_code == 404
    assert client.get("/t/nowhere/").status_code == 404


def test_a_citizen_sees_status_and_dates_and_nothing_personal(app, client, resolved_case):
    response = client.get(f"/lookup?receipt={resolved_case.receipt_no}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert resolved_case.receipt_no in html
    assert status_label(app, CaseStatus.resolved) in html
    assert resolved_case.due_on.isoformat() in html
    assert resolved_case.received_on.isoformat() in html
    assert "民政办" in html  # the department
    # who answers for the matter is on the receipt (staff serve under their names)
    assert "王办事" in page_text(html, "#receipt-responsible")
    for private in (
        APPLICANT,
        PHONE,
        "138****5678",
        ID_NUMBER,
        TITLE,
        DESCRIPTION,
        RESULT,
        "clerk",  # the staff's user names
    ):
        assert private not in html, private


def test_lookup_ignores_case_and_spaces(client, resolved_case):
    response = client.get(f"/lookup?receipt=%20{resolved_case.receipt_no.lower()}%20")
    assert response.status_code == 200
    assert 'id="case-status"' in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("receipt", "status"),
    [("EAST-250101-ZZZZZZZZ", 404), ("<script>", 400), ("x" * 200, 400), ("中文", 400)],
)
def test_an_unknown_or_malformed_receipt_gets_a_friendly_message(client, township, receipt, status):
    response = client.get("/lookup", query_string={"receipt": receipt})
    assert response.status_code == status
    html = response.get_data(as_text=True)
    assert 'id="lookup-error"' in html and 'id="case-status"' not in html
    assert "<script>" not in html


def test_the_empty_lookup_form(client):
    response = client.get("/lookup")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'name="receipt"' in html and 'id="lookup-error"' not in html


def test_lookups_are_rate_limited_with_a_friendly_page(app, db):
    with built_app(app, RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="memory://") as other:
        client = other.test_client()
        for _ in range(3):
            assert client.get("/lookup").status_code == 200  # the form does not count
        lookup = "/lookup?receipt=EAST-250101-AAAAAAAA"
        answers = [client.get(lookup).status_code for _ in range(31)]
        assert answers[:30] == [404] * 30
        assert answers[30] == 429
        html = client.get(lookup).get_data(as_text=True)
        assert 'id="lookup-error"' in html and 'name="receipt"' in html


@pytest.mark.slow
def test_the_lookup_page_fits_a_phone_screen(browser_page, resolved_case):
    page = browser_page
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(f"/lookup?receipt={resolved_case.receipt_no}")
    assert page.locator("#case-status").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.goto("/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
