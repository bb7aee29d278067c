"""A leader decides on an information product from its own page: the content as the public
will see it, approve, or send back with a reason kept in the trail; the product waits in
the leader's inbox and the leader is told once when it arrives."""

from __future__ import annotations

from sqlalchemy import func, select

from core.testing.fixtures import page_text, page_texts
from plugins.releases.models import Product, ProductStatus


def _inbox_titles(client) -> list[str]:
    return page_texts(client.get("/admin/admin_inbox/").get_data(as_text=True), ".inbox-title")


def test_submitting_puts_the_product_in_the_leaders_inbox_once(
    client, staff, db, officer, leader, make_product
):
    from core.models import Notification

    product = make_product(title="草莓种植技术", status=ProductStatus.draft)
    staff.login(officer)
    response = client.post(
        f"/admin/releases_products/decide/?id={product.id}", data={"decision": "submit"}
    )
    assert response.status_code == 303
    db.session.refresh(product)
    assert product.status == ProductStatus.submitted
    notes = db.session.scalars(select(Notification).where(Notification.user_id == leader.id)).all()
    assert len(notes) == 1 and "草莓种植技术" in notes[0].title
    assert notes[0].link == f"/admin/releases_products/details/?id={product.id}"
    assert (
        db.session.scalar(
            select(func.count(Notification.id)).where(Notification.user_id == officer.id)
        )
        == 0
    )  # the submitter is not told about their own product
    staff.logout()

    staff.login(leader)
    assert "草莓种植技术" in _inbox_titles(client)
    inbox = client.get("/admin/admin_inbox/").get_data(as_text=True)
    assert f'href="/admin/releases_products/details/?id={product.id}"' in inbox
    staff.logout()
    staff.login(officer)
    assert "草莓种植技术" not in _inbox_titles(client)  # officers do not approve


def test_the_leader_reads_the_body_as_the_public_will_and_approves(
    client, staff, db, leader, make_product
):
    product = make_product(
        status=ProductStatus.submitted,
        body="<p>第一段</p><script>alert(1)</script><p onclick='x()'>第二段</p>",
    )
    staff.login(leader)
    html = client.get(f"/admin/releases_products/details/?id={product.id}").get_data(as_text=True)
    assert page_text(html, "#product-body") == "第一段 第二段"
    assert "&lt;p&gt;" not in html and "<script>alert" not in html and "onclick" not in html
    assert page_text(html, "#approve-product")
    response = client.post(
        f"/admin/releases_products/decide/?id={product.id}", data={"decision": "approve"}
    )
    assert response.status_code == 303
    db.session.refresh(product)
    assert product.status == ProductStatus.approved and product.approved_by_id == leader.id
    html = client.get(f"/admin/releases_products/details/?id={product.id}").get_data(as_text=True)
    assert page_texts(html, "#product-trail .trail-event td")[1:3] == [leader.name, "Approved"]
    assert page_text(html, "#product-decision") == ""  # decided: no buttons any more


def test_sending_back_needs_a_reason_which_the_trail_keeps(
    client, staff, db, leader, officer, make_product
):
    from core.models import Notification

    product = make_product(status=ProductStatus.submitted)
    staff.login(leader)
    refused = client.post(
        f"/admin/releases_products/decide/?id={product.id}",
        data={"decision": "send_back", "reason": "  "},
    )
    assert refused.status_code == 400
    assert page_text(refused.get_data(as_text=True), "#decision-error")
    db.session.refresh(product)
    assert product.status == ProductStatus.submitted

    client.post(
        f"/admin/releases_products/decide/?id={product.id}",
        data={"decision": "send_back", "reason": "价格数据已过时，请更新"},
    )
    db.session.refresh(product)
    assert product.status == ProductStatus.draft and product.approved_by_id is None
    html = client.get(f"/admin/releases_products/details/?id={product.id}").get_data(as_text=True)
    trail = page_text(html, "#product-trail")
    assert "Sent back" in trail and "价格数据已过时，请更新" in trail
    told = db.session.scalars(select(Notification).where(Notification.user_id == officer.id)).all()
    assert len(told) == 1 and "价格数据已过时" in told[0].body


def test_approval_follows_the_declared_permission_and_the_townships_grants(
    client, staff, db, leader, create_user, enabled, make_product
):
    """releases.approve (leaders by default) replaces "holders of cases.approve_extension";
    a township can take it from leaders and give it to another role."""
    from core.models import RoleGrant

    product = make_product(status=ProductStatus.submitted)
    duty = create_user("duty", "duty_leader", enabled, name="值班领导")
    db.session.add_all(
        [
            RoleGrant(
                township_id=enabled.id, role="leader", permission="releases.approve", granted=False
            ),
            RoleGrant(
                township_id=enabled.id,
                role="duty_leader",
                permission="releases.approve",
                granted=True,
            ),
        ]
    )
    db.session.commit()
    staff.login(leader)
    response = client.post(
        f"/admin/releases_products/decide/?id={product.id}", data={"decision": "approve"}
    )
    assert response.status_code == 403
    staff.logout()
    staff.login(duty)
    client.post(f"/admin/releases_products/decide/?id={product.id}", data={"decision": "approve"})
    db.session.refresh(product)
    assert product.status == ProductStatus.approved and product.approved_by_id == duty.id


def test_bulk_send_back_asks_for_the_reason_first(client, staff, db, leader, make_product):
    first = make_product(title="甲", status=ProductStatus.submitted)
    second = make_product(title="乙", status=ProductStatus.approved)
    staff.login(leader)
    response = client.post(
        "/admin/releases_products/action/",
        data={"action": "send_back", "rowid": [str(first.id), str(second.id)]},
    )
    assert response.status_code == 302 and "/send-back/" in response.headers["Location"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert page_texts(page, "#send-back-products li") == [
        "甲 (Waiting for approval)",
        "乙 (Approved, waiting for the next release)",
    ]
    assert (
        client.post(
            "/admin/releases_products/send-back/", data={"id": [first.id, second.id], "reason": ""}
        ).status_code
        == 400
    )
    client.post(
        "/admin/releases_products/send-back/",
        data={"id": [first.id, second.id], "reason": "本月暂停发布"},
    )
    db.session.expire_all()
    statuses = db.session.scalars(
        select(Product.status).where(Product.id.in_([first.id, second.id]))
    ).all()
    assert statuses == [ProductStatus.draft, ProductStatus.draft]


def test_the_releases_pages_read_in_chinese(client, staff, db, officer, leader, make_product):
    """The zh_CN crawl over the institution's pages, as a leader, with products in every
    state (raw codes, True/False, flask-admin English)."""
    from core.testing.crawl import crawl_admin

    for status in ProductStatus:
        make_product(title=f"产品 {status.value}", status=status)
    staff.login(leader)
    findings, pages = crawl_admin(client, only="/admin/releases_")
    assert pages >= 15
    assert findings == [], "\n".join(findings)


def test_the_one_lookup_finds_a_topic_request_and_prints_its_receipt(client, db, enabled, officer):
    from plugins.releases import services as release_services

    request = release_services.submit_topic_request(enabled, "低保名单公开")
    html = client.get(f"/lookup?receipt={request.receipt_no}").get_data(as_text=True)
    assert request.receipt_no in page_text(html, "#receipt-no")
    assert "低保名单公开" in html and str(request.due_on) in page_text(html, "#case-due-on")
    printed = client.get(f"/receipt/{request.receipt_no}")
    assert printed.status_code == 200
    assert enabled.name in page_text(printed.get_data(as_text=True), ".receipt-township")
    release_services.answer_topic_request(request, officer, decline_reason="涉及个人隐私")
    html = client.get(f"/lookup?receipt={request.receipt_no}").get_data(as_text=True)
    assert "涉及个人隐私" in page_text(html, "#receipt-answer")
