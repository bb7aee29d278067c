"""The public site: releases, feed, search, leaflet, board, topic requests; 404 where off."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from plugins.releases import services
from plugins.releases.models import (
    Disclosure,
    DisclosureCategory,
    ProductStatus,
    TopicRequest,
    TopicStatus,
)

ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def published(db, make_product, make_batch):
    """Two published products (one with hostile markup) in one batch."""
    first = make_product("春季葡萄管理", body="<p>剪枝<script>alert(1)</script></p>")
    second = make_product(
        "Prices & <offers>",
        audience="商户",
        body='<p onclick="x()">价格 <a href="javascript:alert(1)">链接</a></p>',
    )
    for product in (first, second):
        product.body = services.sanitize_html(product.body)
    db.session.commit()
    batch = make_batch()
    services.publish_batch(batch.id)
    db.session.commit()
    return first, second, batch


def test_disabled_township_pages_answer_404(client, enabled, other_township):
    assert client.get("/t/east/releases/").status_code == 200
    for path in ("/", "/feed.atom", "/board", "/ask", "/search?q=x", "/answer"):
        assert client.get(f"/t/west/releases{path}").status_code == 404, path


def test_disabled_township_admin_views_answer_404(
    client, staff, create_user, enabled, other_township
):
    outsider = create_user("wofficer", "releases_officer", other_township)
    staff.login(outsider)
    for endpoint in ("releases_items", "releases_products", "releases_topics", "releases_plan"):
        assert client.get(f"/admin/{endpoint}/").status_code == 404, endpoint


def test_the_release_list_shows_published_products_only(client, published, make_product):
    make_product("尚未发布", status=ProductStatus.approved)
    html = client.get("/t/east/releases/").get_data(as_text=True)
    assert "春季葡萄管理" in html and "Prices &amp; &lt;offers&gt;" in html
    assert "尚未发布" not in html


def test_rich_text_is_sanitised_on_public_pages(client, published):
    first, second, _batch = published
    for product in (first, second):
        html = client.get(f"/t/east/releases/p/{product.id}").get_data(as_text=True)
        assert "<script" not in html.split("</nav>", 1)[1]
        assert "onclick" not in html and "javascript:" not in html
    assert "剪枝" in client.get(f"/t/east/releases/p/{first.id}").get_data(as_text=True)


def test_the_release_list_runs_a_fixed_number_of_queries(
    client, enabled, make_product, make_batch, query_counter
):
    make_product("一")
    batch = make_batch()
    services.publish_batch(batch.id)
    services.db.session.commit()
    client.get("/t/east/")  # the township comes from core.cache after its first page
    with query_counter() as few:
        assert client.get("/t/east/releases/").status_code == 200
    for i in range(30):
        make_product(f"产品{i}")
    batch = make_batch(scheduled_for=datetime.now(UTC) + timedelta(seconds=1))
    services.publish_batch(batch.id)
    services.db.session.commit()
    with query_counter() as many:
        assert client.get("/t/east/releases/").status_code == 200
    with query_counter() as second_page:
        html = client.get("/t/east/releases/?page=2").get_data(as_text=True)
    assert len(few) == len(many) == len(second_page)
    assert "2 / 2" in html


def test_the_atom_feed_is_well_formed_and_escaped(client, published):
    _first, _second, _batch = published
    response = client.get("/t/east/releases/feed.atom")
    assert response.status_code == 200
    assert response.mimetype == "application/atom+xml"
    root = ET.fromstring(response.data)
    titles = [e.findtext(f"{ATOM}title") for e in root.findall(f"{ATOM}entry")]
    assert set(titles) == {"春季葡萄管理", "Prices & <offers>"}
    content = root.find(f"{ATOM}entry/{ATOM}content")
    assert content.get("type") == "html" and "<script" not in content.text


def test_search_finds_published_products(client, published):
    html = client.get("/t/east/releases/search?q=葡萄").get_data(as_text=True)
    assert "春季葡萄管理" in html and "offers" not in html
    html = client.get("/t/east/releases/search?q=%25").get_data(as_text=True)
    assert 'id="search-count"' in html and "春季葡萄管理" not in html


def test_the_leaflet_is_a_print_view_of_the_batch(client, published):
    _first, _second, batch = published
    html = client.get(f"/t/east/releases/leaflet/{batch.id}").get_data(as_text=True)
    assert "@media print" in html and "春季葡萄管理" in html


def test_a_withdrawn_release_leaves_the_public_pages_with_a_note(client, published, officer):
    first, _second, _batch = published
    services.withdraw_product(first, "数据有误", officer)
    response = client.get(f"/t/east/releases/p/{first.id}")
    assert response.status_code == 410
    assert "数据有误" in response.get_data(as_text=True)
    listing = client.get("/t/east/releases/").get_data(as_text=True)
    assert 'id="withdrawn-notes"' in listing
    assert f"/p/{first.id}" not in listing
    assert "春季葡萄管理" not in client.get("/t/east/releases/feed.atom").get_data(as_text=True)


def test_unpublished_or_foreign_products_are_404(client, enabled, make_product):
    draft = make_product(status=ProductStatus.draft)
    assert client.get(f"/t/east/releases/p/{draft.id}").status_code == 404
    assert client.get("/t/east/releases/p/999999").status_code == 404


def test_a_disclosed_case_shows_its_course_and_nothing_personal(client, db, enabled, clerk):
    from core.cases import register_case

    case = register_case(
        township=enabled,
        kind="service",
        title="宅基地申请",
        applicant_name="张三丰",
        first_responder=clerk,
        description="身份证 110101199003071234",
    )
    category = db.session.scalar(
        select(DisclosureCategory).where(DisclosureCategory.builtin == "homestead")
    )
    row = Disclosure(
        township_id=enabled.id,
        category_id=category.id,
        title="宅基地审批公开",
        policy="政策",
        conditions="条件",
        procedure="程序",
        time_limit="七个工作日",
        result="结果",
        fee="不收费",
        person_in_charge="王主任",
        liability="追究责任",
        case_id=case.id,
    )
    db.session.add(row)
    db.session.commit()
    html = client.get(f"/t/east/releases/board/{row.id}").get_data(as_text=True)
    assert case.receipt_no in html and "七个工作日" in html
    assert "张三丰" not in html and "110101" not in html
    board = client.get("/t/east/releases/board").get_data(as_text=True)
    assert "宅基地审批公开" in board and "婚姻登记" in board


def test_a_citizen_asks_and_reads_the_answer_under_the_receipt(client, db, enabled, officer):
    with time_machine.travel(datetime(2026, 9, 25, 2, 0, tzinfo=UTC), tick=False):
        response = client.post("/t/east/releases/ask", data={"topic": "低保名单", "contact": "138"})
    assert response.status_code == 303
    req = db.session.scalar(select(TopicRequest))
    assert response.headers["Location"].endswith(f"/ask/{req.receipt_no}")
    # Friday 25 September 2026 + 15 working days, across the National Day holiday
    assert req.submitted_on == date(2026, 9, 25)
    assert req.due_on == services.topic_due_date(enabled.id, date(2026, 9, 25))
    assert req.due_on >= date(2026, 10, 22)
    html = client.get(f"/t/east/releases/ask/{req.receipt_no}").get_data(as_text=True)
    assert "低保名单" in html and str(req.due_on) in html and "138" not in html
    services.answer_topic_request(req, officer, decline_reason="涉及个人隐私")
    html = client.get(
        f"/t/east/releases/answer?receipt={req.receipt_no.lower()}", follow_redirects=True
    )
    assert "涉及个人隐私" in html.get_data(as_text=True)
    assert req.status == TopicStatus.declined


def test_a_topic_request_needs_a_topic(client, db, enabled):
    response = client.post("/t/east/releases/ask", data={"topic": "   "})
    assert response.status_code == 400
    assert db.session.scalar(select(TopicRequest)) is None
    assert client.get("/t/east/releases/ask/EAST-T260101-XXXXXXXX").status_code == 404


def test_topic_requests_are_rate_limited_with_a_friendly_page(app, db, enabled):
    from core.testing.fixtures import built_app

    with built_app(
        app, RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="memory://", WTF_CSRF_ENABLED=False
    ) as other:
        client = other.test_client()
        assert client.get("/t/east/releases/ask").status_code == 200  # the form does not count
        answers = [
            client.post("/t/east/releases/ask", data={"topic": f"话题{i}"}).status_code
            for i in range(6)
        ]
        assert answers == [303] * 5 + [429]
        html = client.post("/t/east/releases/ask", data={"topic": "再来"}).get_data(as_text=True)
        assert 'id="topic-form"' in html
    assert db.session.scalar(select(func.count(TopicRequest.id))) == 5


def test_a_page_number_in_other_digits_reads_as_the_first_page(client, published):
    """ "²".isdigit() is true but int("²") fails: the list answers, it does not crash."""
    response = client.get("/t/east/releases/", query_string={"page": "²"})
    assert response.status_code == 200
    assert "春季葡萄管理" in response.get_data(as_text=True)  # page 1, with its products
