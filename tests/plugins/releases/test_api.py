"""The release institution's API: published products, the board, topic requests and
their answers, scoped to townships that enabled the institution."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from core.api import create_token
from core.models import AuditEvent
from tests.core.test_api import Api, assert_json_error


@pytest.fixture
def api_as(client):
    return lambda user: Api(client, create_token(user, "releases tests")[1])


@pytest.fixture
def published(make_product):
    from plugins.releases.models import ProductStatus

    def _make(title: str, **kwargs):
        kwargs.setdefault("published_at", datetime.now(UTC))
        return make_product(title, status=ProductStatus.published, **kwargs)

    return _make


@pytest.fixture
def topic(enabled):
    from plugins.releases import services

    return services.submit_topic_request(enabled, "村道修缮资金", "想了解今年的安排", "13800001111")


@pytest.fixture
def disclosure(db, enabled):
    from plugins.releases.models import Disclosure, DisclosureCategory

    category = db.session.scalar(
        select(DisclosureCategory).where(DisclosureCategory.township_id == enabled.id)
    )
    row = Disclosure(
        township_id=enabled.id,
        category_id=category.id,
        title="村道修缮资金使用情况",
        policy="p",
        conditions="c",
        procedure="p",
        time_limit="t",
        result="r",
        fee="无",
        person_in_charge="张主任",
        liability="l",
    )
    db.session.add(row)
    db.session.commit()
    return row


def test_published_products_newest_first_and_nothing_else(
    api_as, clerk, published, make_product, enabled
):
    from plugins.releases.models import ProductStatus

    older = published("葡萄种植信息", published_at=datetime(2025, 1, 1, tzinfo=UTC))
    newer = published("春耕备耕信息")
    make_product("草稿", status=ProductStatus.draft)
    make_product("待审", status=ProductStatus.submitted)
    body = api_as(clerk).get("/api/v1/releases/east/products").get_json()
    assert [p["title"] for p in body["items"]] == [newer.title, older.title]
    assert body["total"] == 2
    first = body["items"][0]
    assert first["status"] == "published" and first["township"]["code"] == "east"
    assert first["public_url"] == f"/t/east/releases/p/{newer.id}"


def test_one_product_and_a_draft_is_404(api_as, clerk, published, make_product):
    from plugins.releases.models import ProductStatus

    api = api_as(clerk)
    product = published("葡萄种植信息")
    draft = make_product("草稿", status=ProductStatus.draft)
    assert api.get(f"/api/v1/releases/east/products/{product.id}").get_json()["id"] == product.id
    assert_json_error(api.get(f"/api/v1/releases/east/products/{draft.id}"), 404)
    assert_json_error(api.get("/api/v1/releases/east/products/99999999999"), 404)


def test_a_township_that_did_not_enable_releases_answers_404(
    db, api_as, county_admin, published, other_township
):
    published("葡萄种植信息")
    api = api_as(county_admin)
    assert api.get("/api/v1/releases/east/products").status_code == 200
    for path in ("products", "disclosures", "topic-requests"):
        error = assert_json_error(api.get(f"/api/v1/releases/west/{path}"), 404)
        assert "west" in error["message"]


def test_another_townships_staff_get_404(api_as, other_clerk, published):
    published("葡萄种植信息")
    assert_json_error(api_as(other_clerk).get("/api/v1/releases/east/products"), 404)


def test_topic_requests_need_the_officers_permission(api_as, clerk, officer, topic):
    assert_json_error(api_as(clerk).get("/api/v1/releases/east/topic-requests"), 403)
    body = api_as(officer).get("/api/v1/releases/east/topic-requests").get_json()
    assert [t["receipt_no"] for t in body["items"]] == [topic.receipt_no]
    assert body["items"][0]["contact"] == "13800001111"
    assert body["items"][0]["status"] == "open" and body["items"][0]["overdue"] is False
    one = api_as(officer).get(f"/api/v1/releases/east/topic-requests/{topic.receipt_no}")
    assert one.get_json()["topic"] == "村道修缮资金"


def test_an_officer_answers_by_disclosing(db, api_as, officer, topic, disclosure):
    path = f"/api/v1/releases/east/topic-requests/{topic.receipt_no}/answer"
    response = api_as(officer).post(path, {"disclosure_id": disclosure.id, "answer": "见公开栏"})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["status"] == "disclosed" and body["disclosure_id"] == disclosure.id
    again = api_as(officer).post(path, {"decline_reason": "重复"})
    assert "already" in assert_json_error(again, 409)["message"]
    audit = db.session.scalars(select(AuditEvent).where(AuditEvent.object_type == "TopicRequest"))
    assert [a.user_id for a in audit] == [officer.id]


def test_an_officer_declines_with_a_reason(db, api_as, officer, topic):
    path = f"/api/v1/releases/east/topic-requests/{topic.receipt_no}/answer"
    body = api_as(officer).post(path, {"decline_reason": "涉及个人隐私"}).get_json()
    assert body["status"] == "declined" and body["answer"] == "涉及个人隐私"


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, {"disclosure_id", "decline_reason"}),
        ({"disclosure_id": 1, "decline_reason": "x"}, {"disclosure_id", "decline_reason"}),
        ({"decline_reason": "  "}, {"decline_reason"}),
        ({"decline_reason": "a\u0000b"}, {"decline_reason"}),
        ({"disclosure_id": "1"}, {"disclosure_id"}),
        ({"decline_reason": "x", "reason": "typo"}, {"reason"}),
    ],
)
def test_a_bad_answer_is_422_and_the_request_stays_open(db, api_as, officer, topic, body, fields):
    path = f"/api/v1/releases/east/topic-requests/{topic.receipt_no}/answer"
    error = assert_json_error(api_as(officer).post(path, body), 422)
    assert set(error["details"]["fields"]) == fields
    db.session.refresh(topic)
    assert topic.status.value == "open"


def test_a_disclosure_of_another_township_cannot_answer(db, api_as, officer, topic, other_township):
    from core.institutions import set_enabled
    from plugins.releases.models import Disclosure, DisclosureCategory

    set_enabled(other_township, "releases", True)
    category = db.session.scalar(
        select(DisclosureCategory).where(DisclosureCategory.township_id == other_township.id)
    )
    theirs = Disclosure(
        township_id=other_township.id,
        category_id=category.id,
        title="西镇的公开",
        policy="p",
        conditions="c",
        procedure="p",
        time_limit="t",
        result="r",
        fee="无",
        person_in_charge="李",
        liability="l",
    )
    db.session.add(theirs)
    db.session.commit()
    path = f"/api/v1/releases/east/topic-requests/{topic.receipt_no}/answer"
    error = assert_json_error(api_as(officer).post(path, {"disclosure_id": theirs.id}), 422)
    assert set(error["details"]["fields"]) == {"disclosure_id"}


def test_the_board_lists_disclosures(api_as, clerk, disclosure):
    body = api_as(clerk).get("/api/v1/releases/east/disclosures").get_json()
    assert [d["title"] for d in body["items"]] == [disclosure.title]
    assert body["items"][0]["category"]


def test_a_page_of_products_costs_the_same_queries_for_5_and_50(
    api_as, clerk, published, query_counter
):
    api = api_as(clerk)
    for i in range(5):
        published(f"信息{i}")
    api.get("/api/v1/releases/east/products")
    with query_counter() as q5:
        assert len(api.get("/api/v1/releases/east/products?per_page=100").get_json()["items"]) == 5
    for i in range(45):
        published(f"更多信息{i}")
    with query_counter() as q50:
        assert len(api.get("/api/v1/releases/east/products?per_page=100").get_json()["items"]) == 50
    assert len(q5) == len(q50)
