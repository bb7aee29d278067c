"""The archivist's pages: the zh_CN crawl over the demo data, filing from the inbox,
paper registration, boxes that move their items, the dashboard figures."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from core.testing.crawl import crawl_admin
from plugins.archives import services
from plugins.archives.models import Box, Item, ItemEvent, ItemStatus, Loan, LoanStatus


@pytest.fixture
def demo(app, db):
    from core.auth import hash_password
    from core.demo import load_demo
    from core.models import User
    from core.testing.fixtures import PASSWORD

    load_demo()
    for user in db.session.scalars(select(User)):
        user.password_hash = hash_password(PASSWORD)
    db.session.commit()
    return db.session.scalar(select(User).where(User.username == "county"))


def test_every_archives_page_reads_in_chinese_with_the_demo_data(client, db, demo):
    from core.testing.fixtures import PASSWORD

    client.post("/login", data={"username": "county", "password": PASSWORD})
    findings, pages = crawl_admin(client, only="/admin/archives_")
    assert pages > 15
    assert findings == [], "\n".join(findings)


def test_the_demo_has_a_closed_year_a_loan_and_items_waiting(db, demo):
    from core.models import OrgUnit

    dongfeng = db.session.scalar(select(OrgUnit).where(OrgUnit.code == "dongfeng"))
    overview = services.year_overview(dongfeng.id)
    assert any(y["closed"] for y in overview)
    assert db.session.scalar(select(func.count(Loan.id)).where(Loan.status == LoanStatus.lent)) == 1
    waiting = db.session.scalars(
        select(Item.title).where(Item.township_id == dongfeng.id, Item.status == ItemStatus.waiting)
    ).all()
    assert "关于宅基地审批公示情况的报告" in waiting
    assert db.session.scalars(services.due_for_appraisal([dongfeng.id])).all()


def test_the_archivist_files_from_the_inbox_and_registers_paper(
    client, staff, db, enabled, archivist, waiting_item
):
    item = waiting_item()
    staff.login(archivist)
    response = client.post(
        "/admin/archives_paper/",
        data={
            "title": "镇党委会议纪要",
            "doc_date": "2021-04-01",
            "responsible": "党政办",
            "pages": "4",
            "class_id": "",
            "retention": "permanent",
            "description": "原件",
        },
    )
    assert response.status_code == 303
    paper = db.session.scalar(select(Item).where(Item.source == "paper"))
    bad = client.post("/admin/archives_paper/", data={"title": "坏日期", "doc_date": "2021-13-01"})
    assert bad.status_code == 400 and "YYYY-MM-DD" in bad.get_data(as_text=True)
    response = client.post(
        "/admin/archives_inbox/action/",
        data={"action": "file", "rowid": [item.id, paper.id]},
        follow_redirects=True,
    )
    assert "needs a class and a retention period" in response.get_data(as_text=True)
    ws = next(c for c in db.session.scalars(select(services.ArchiveClass)) if c.code == "WS")
    client.post(
        f"/admin/archives_inbox/edit/?id={paper.id}",
        data={
            "title": "镇党委会议纪要",
            "responsible": "党政办",
            "doc_number": "",
            "doc_date": "2021-04-01",
            "year": "2021",
            "pages": "4",
            "class_id": str(ws.id),
            "retention": "permanent",
            "note": "",
        },
    )
    response = client.post(
        "/admin/archives_inbox/action/",
        data={"action": "file", "rowid": [item.id, paper.id]},
        follow_redirects=True,
    )
    assert "2 item(s) filed" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Item, paper.id).reference_code == "EAST-2021-Y-WS-0001"


def test_moving_a_box_moves_its_items(client, staff, db, enabled, archivist, filed_item):
    item = filed_item()
    box = Box(township_id=enabled.id, box_no="2026-01", room="档案室", shelf="A-01")
    db.session.add(box)
    db.session.commit()
    services.place_item(item, box, None, archivist)
    staff.login(archivist)
    response = client.post(
        f"/admin/archives_boxes/edit/?id={box.id}",
        data={
            "box_no": "2026-01",
            "room": "新档案室",
            "shelf": "B-02",
            "year": "",
            "class_id": "",
            "retention": "",
            "note": "",
        },
    )
    assert response.status_code == 302
    moved = db.session.scalar(select(ItemEvent).where(ItemEvent.action == "moved"))
    assert moved.before == {"room": "档案室", "shelf": "A-01"}
    assert moved.after == {"room": "新档案室", "shelf": "B-02"}
    page = client.get(f"/admin/archives_catalogue/item/?id={item.id}").get_data(as_text=True)
    assert "新档案室 B-02" in page


def test_dashboard_figures(db, enabled, archivist, waiting_item, filed_item):
    from admin.dashboard import plugin_figures

    waiting_item("等待")
    filed_item("已归档")
    figures = {f.label: f.value for f in plugin_figures(enabled)}
    assert figures["Items waiting to be filed"] == 1
    assert figures["Archives lent out (overdue)"] == "0 (0)"
    assert "Filing completeness this year" in figures
