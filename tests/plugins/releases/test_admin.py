"""Staff views: plan editing with a preview, the board's required fields, approvals,
topic answers, the off-line checklist with photo checks, dashboard figures."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

import pytest
import time_machine
from sqlalchemy import func, select

from core.testing.fixtures import PASSWORD  # noqa: F401  (documents the users' password)
from plugins.releases import services
from plugins.releases.models import (
    ChecklistEntry,
    Disclosure,
    DisclosureCategory,
    Product,
    ProductStatus,
    ReleasePlan,
    TopicRequest,
    TopicStatus,
)

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def tadmin(create_user, enabled):
    return create_user("tadmin", "township_admin", enabled, name="赵管理")


def test_the_plan_preview_shows_five_times_and_saving_reschedules(client, staff, db, tadmin):
    with time_machine.travel(datetime(2026, 11, 23, 8, 0, tzinfo=UTC), tick=False):
        staff.login(tadmin)  # a session signed "later" than the travelled clock is refused
        form = {"cron": "0 10 15 * *", "timezone": "Asia/Shanghai", "channels": ["web", "leaflet"]}
        response = client.post(
            "/admin/releases_plan/", data={**form, "preview": "1", "active": "1"}
        )
        html = response.get_data(as_text=True)
        assert response.status_code == 200
        assert html.count('class="fire-time"') == 5 and "2026-12-15 10:00" in html
        plan = db.session.scalar(select(ReleasePlan))
        assert plan.cron == "0 9 1 * *"  # a preview saves nothing
        response = client.post("/admin/releases_plan/", data={**form, "save": "1", "active": "1"})
        assert response.status_code == 303
    db.session.expire_all()
    plan = db.session.scalar(select(ReleasePlan))
    assert plan.cron == "0 10 15 * *" and plan.channels == ["web", "leaflet"]


def test_a_bad_plan_is_refused_with_a_message_and_nothing_saved(client, staff, db, tadmin):
    staff.login(tadmin)
    response = client.post(
        "/admin/releases_plan/",
        data={"cron": "* * * * *", "timezone": "Asia/Shanghai", "channels": ["web"], "save": "1"},
    )
    assert response.status_code == 400
    assert "more often than once an hour" in response.get_data(as_text=True)
    assert db.session.scalar(select(ReleasePlan.cron)) == "0 9 1 * *"


def test_an_officer_sees_the_plan_but_cannot_change_it(client, staff, officer):
    staff.login(officer)
    assert client.get("/admin/releases_plan/").status_code == 200
    response = client.post(
        "/admin/releases_plan/",
        data={"cron": "0 9 2 * *", "timezone": "Asia/Shanghai", "channels": ["web"], "save": "1"},
    )
    assert response.status_code == 403


def _disclosure_form(db, township, **changes):
    category = db.session.scalar(
        select(DisclosureCategory).where(
            DisclosureCategory.township_id == township.id, DisclosureCategory.builtin == "relief"
        )
    )
    form = {
        "township_id": str(township.id),
        "category_id": str(category.id),
        "title": "救灾物资发放",
        "stage": "after",
        "policy": "救灾救济政策",
        "conditions": "受灾农户",
        "procedure": "申报、审核、公示",
        "time_limit": "五个工作日",
        "result": "已发放 30 户",
        "fee": "不收费",
        "person_in_charge": "民政办 李主任",
        "liability": "违诺追责",
    }
    form.update(changes)
    return form


@pytest.mark.parametrize(
    "missing",
    [
        "policy",
        "conditions",
        "procedure",
        "time_limit",
        "result",
        "fee",
        "person_in_charge",
        "liability",
    ],
)
def test_every_required_disclosure_field_is_enforced(client, staff, db, officer, missing):
    staff.login(officer)
    client.get("/admin/releases_disclosures/new/")  # creates the rule book's categories
    response = client.post(
        "/admin/releases_disclosures/new/",
        data=_disclosure_form(db, officer_township(db), **{missing: "  "}),
    )
    assert response.status_code == 200
    assert "This field is required." in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Disclosure.id))) == 0


def officer_township(db):
    from core.models import OrgUnit

    return db.session.scalar(select(OrgUnit).where(OrgUnit.code == "east"))


def test_a_complete_disclosure_is_saved_and_can_link_a_case(client, staff, db, officer, clerk):
    from core.cases import register_case

    township = officer_township(db)
    case = register_case(
        township=township,
        kind="service",
        title="救灾",
        applicant_name="某人",
        first_responder=clerk,
    )
    staff.login(officer)
    client.get("/admin/releases_disclosures/new/")
    bad = client.post(
        "/admin/releases_disclosures/new/",
        data=_disclosure_form(db, township, case_receipt="EAST-000000-NOPE"),
    )
    assert "No case of this township has that receipt number." in bad.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Disclosure.id))) == 0
    response = client.post(
        "/admin/releases_disclosures/new/",
        data=_disclosure_form(db, township, case_receipt=case.receipt_no.lower()),
    )
    assert response.status_code == 302
    row = db.session.scalar(select(Disclosure))
    assert row.case_id == case.id and row.liability == "违诺追责"


def test_a_product_body_is_sanitised_when_saved(client, staff, db, officer):
    staff.login(officer)
    response = client.post(
        "/admin/releases_products/new/",
        data={
            "township_id": str(officer_township(db).id),
            "title": "标题",
            "audience": "农户",
            "body": '<p>好<script>alert("x")</script><img src=x onerror=alert(1)></p>',
        },
    )
    assert response.status_code == 302
    product = db.session.scalar(select(Product))
    assert product.status == ProductStatus.draft
    assert "script" not in product.body and "onerror" not in product.body and "好" in product.body


def test_officers_submit_and_leaders_approve_in_the_list(
    client, staff, db, officer, leader, make_product
):
    product = make_product(status=ProductStatus.draft)
    staff.login(officer)
    client.post(
        "/admin/releases_products/action/", data={"action": "submit", "rowid": [str(product.id)]}
    )
    db.session.refresh(product)
    assert product.status == ProductStatus.submitted
    response = client.post(
        "/admin/releases_products/action/",
        data={"action": "approve", "rowid": [str(product.id)]},
        follow_redirects=True,
    )
    assert "you may not do this in its township" in response.get_data(as_text=True)
    db.session.refresh(product)
    assert product.status == ProductStatus.submitted
    staff.logout()
    staff.login(leader)
    client.post(
        "/admin/releases_products/action/", data={"action": "approve", "rowid": [str(product.id)]}
    )
    db.session.refresh(product)
    assert product.status == ProductStatus.approved and product.approved_by_id == leader.id


def test_staff_answer_a_topic_request_by_disclosing(client, staff, db, officer):
    township = officer_township(db)
    req = services.submit_topic_request(township, "救灾款去向")
    staff.login(officer)
    client.get("/admin/releases_disclosures/new/")
    client.post("/admin/releases_disclosures/new/", data=_disclosure_form(db, township))
    disclosure = db.session.scalar(select(Disclosure))
    url = f"/admin/releases_topics/answer/?id={req.id}"
    empty = client.post(url, data={"mode": "decline", "reason": ""})
    assert empty.status_code == 400
    response = client.post(
        url, data={"mode": "disclose", "disclosure_id": str(disclosure.id), "answer": "见公开栏"}
    )
    assert response.status_code == 303
    db.session.refresh(req)
    assert req.status == TopicStatus.disclosed and req.disclosure_id == disclosure.id
    assert client.post(url, data={"mode": "decline", "reason": "x"}).status_code == 400


def test_the_checklist_records_a_channel_with_a_checked_photo(
    client, staff, db, officer, make_batch
):
    batch = make_batch(channels=("web", "blackboard"))
    services.publish_batch(batch.id)
    db.session.commit()
    staff.login(officer)
    url = f"/admin/releases_checklist/?batch={batch.id}"
    page = client.get(url).get_data(as_text=True)
    assert "Blackboard" in page or "黑板报" in page
    fake = client.post(
        url,
        data={
            "channel": "blackboard",
            "done_on": "2026-11-02",
            "photo": (io.BytesIO(b"<svg onload=alert(1)>"), "a.png", "image/png"),
        },
        content_type="multipart/form-data",
    )
    assert fake.status_code == 400 and "JPEG or PNG" in fake.get_data(as_text=True)
    big = client.post(
        url,
        data={
            "channel": "blackboard",
            "done_on": "2026-11-02",
            "photo": (io.BytesIO(PNG + b"\x00" * services.PHOTO_MAX_BYTES), "a.png", "image/png"),
        },
        content_type="multipart/form-data",
    )
    assert big.status_code == 400 and "2 MB" in big.get_data(as_text=True)
    web = client.post(url, data={"channel": "web", "done_on": "2026-11-02"})
    assert web.status_code == 400
    assert db.session.scalar(select(func.count(ChecklistEntry.id))) == 0
    ok = client.post(
        url,
        data={
            "channel": "blackboard",
            "done_on": "2026-11-02",
            "note": "镇政府门口",
            "photo": (io.BytesIO(PNG), "a.png", "image/png"),
        },
        content_type="multipart/form-data",
    )
    assert ok.status_code == 303
    entry = db.session.scalar(select(ChecklistEntry))
    assert entry.done_on == date(2026, 11, 2) and entry.photo_type == "image/png"
    photo = client.get(f"/admin/releases_checklist/photo/{entry.id}")
    assert photo.data == PNG and photo.mimetype == "image/png"


def test_batches_and_archive_are_read_only_in_the_admin(client, staff, db, officer, make_batch):
    batch = make_batch()
    services.publish_batch(batch.id)
    db.session.commit()
    staff.login(officer)
    html = client.get("/admin/releases_batches/").get_data(as_text=True)
    assert "Checklist" in html
    assert client.get(f"/admin/releases_batches/edit/?id={batch.id}").status_code in (302, 403, 404)
    assert client.get("/admin/releases_archive/new/").status_code in (302, 403, 404)


def test_dashboard_figures_show_this_months_release_and_open_requests(db, enabled, make_batch):
    from admin.dashboard import plugin_figures

    figures = plugin_figures(enabled)
    assert [f.value for f in figures] == [0, 0]
    assert figures[0].level == "warning"
    batch = make_batch()
    services.publish_batch(batch.id)
    db.session.commit()
    services.submit_topic_request(enabled, "话题")
    figures = plugin_figures(enabled)
    assert figures[0].value == 0  # an empty release does not meet the monthly release
    req = db.session.scalar(select(TopicRequest))
    assert str(req.due_on) in str(figures[1].value)


def test_every_admin_page_renders_for_an_officer(client, staff, db, officer, make_product):
    product = make_product(status=ProductStatus.draft)
    services.submit_topic_request(officer_township(db), "话题")
    staff.login(officer)
    for endpoint in (
        "releases_items",
        "releases_products",
        "releases_batches",
        "releases_archive",
        "releases_disclosures",
        "releases_categories",
        "releases_topics",
        "releases_plan",
    ):
        assert client.get(f"/admin/{endpoint}/").status_code == 200, endpoint
    for endpoint in ("releases_items", "releases_products", "releases_disclosures"):
        assert client.get(f"/admin/{endpoint}/new/").status_code == 200, endpoint
    assert client.get(f"/admin/releases_products/edit/?id={product.id}").status_code == 200
    assert client.get("/admin/").status_code == 200  # the dashboard with the plugin's figures


def test_an_officer_withdraws_a_release_with_a_reason(
    client, staff, db, officer, make_product, make_batch
):
    product = make_product()
    batch = make_batch()
    services.publish_batch(batch.id)
    db.session.commit()
    staff.login(officer)
    assert "Withdraw" in client.get("/admin/releases_products/").get_data(as_text=True)
    url = f"/admin/releases_products/withdraw/?id={product.id}"
    assert client.post(url, data={"reason": " "}).status_code == 400
    db.session.refresh(product)
    assert product.status == ProductStatus.published
    assert client.post(url, data={"reason": "价格有误"}).status_code == 303
    db.session.refresh(product)
    assert product.status == ProductStatus.withdrawn and product.withdrawn_reason == "价格有误"
    assert client.get("/admin/releases_products/withdraw/?id=999999").status_code == 404


def test_the_admin_sees_that_a_release_was_late_and_by_how_much(
    client, staff, db, officer, make_batch
):
    with time_machine.travel(datetime(2026, 11, 1, 1, 0, tzinfo=UTC), tick=False):
        batch = make_batch()
    with time_machine.travel(datetime(2026, 11, 1, 3, 25, tzinfo=UTC), tick=False):
        services.publish_batch(batch.id)
        db.session.commit()
    staff.login(officer)
    html = client.get("/admin/releases_batches/").get_data(as_text=True)
    assert "2 h 25 min late" in html


def test_demo_data_is_idempotent_and_public(client, db, enabled):
    from plugins.releases.demo import seed

    seed(enabled)
    db.session.commit()
    seed(enabled)
    db.session.commit()
    assert db.session.scalar(select(func.count(Product.id))) == 1
    assert "本月葡萄种植户致富信息" in client.get("/t/east/releases/").get_data(as_text=True)
    product = db.session.scalar(select(Product))
    page = client.get(f"/t/east/releases/p/{product.id}").get_data(as_text=True)
    assert 'id="sources"' in page and "农业频道《致富经》" in page
    assert "耕地地力保护补贴发放" in client.get("/t/east/releases/board").get_data(as_text=True)
