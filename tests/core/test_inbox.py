"""The inbox (待办): what waits for a user, from the core and the institutions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from core import cases as svc
from core import clock, inbox
from core.institutions import set_enabled
from core.models import Notification
from core.testing.fixtures import page_text, page_texts
from tests.example_plugin.models import ExampleNote


@pytest.fixture
def inquiry(db, township, clerk):
    return svc.register_case(
        township=township,
        kind="inquiry",
        title="宅基地审批咨询",
        applicant_name="张三",
        first_responder=clerk,
        handler=clerk,
        accept=True,
    )


def test_township_inbox_sources(db, township, leader, other_township):
    set_enabled(township, "example", True)
    db.session.add_all(
        [
            ExampleNote(township_id=township.id, title="东镇笔记"),
            ExampleNote(township_id=other_township.id, title="西镇笔记"),
        ]
    )
    db.session.commit()
    items, total = inbox.page(leader)
    assert total == 1
    assert [(i.source.key, i.title) for i in items] == [("example.note_review", "东镇笔记")]
    # disabled again: the institution's items leave the inbox
    set_enabled(township, "example", False)
    assert inbox.count(leader) == 0


def test_an_extension_request_reaches_the_leader_once_and_leaves_when_decided(
    app, db, inquiry, clerk, leader
):
    req = svc.request_extension(inquiry, clerk, 30, "需请示县民政局")
    items, total = inbox.page(leader)
    assert total == 1 and items[0].source.key == "core.extension_decision"
    assert items[0].link == f"/admin/admin_cases/details/?id={inquiry.id}"
    # the clerk who asked does not see their own request to decide
    assert "core.extension_decision" not in {i.source.key for i in inbox.page(clerk)[0]}
    notes = db.session.scalars(select(Notification).where(Notification.user_id == leader.id)).all()
    assert len(notes) == 1 and inquiry.receipt_no in notes[0].title
    inbox.count(leader)
    inbox.page(leader)  # looking at the inbox sends nothing more
    assert db.session.scalar(select(func.count(Notification.id))) == 1
    svc.decide_extension(req, leader, True)
    assert inbox.count(leader) == 0


def test_overdue_case_waits_for_its_handler_sorted_by_due_date(db, township, clerk, inquiry):
    other = svc.register_case(
        township=township,
        kind="service",
        title="开具证明",
        applicant_name="李四",
        first_responder=clerk,
        handler=clerk,
        accept=True,
    )
    today = clock.today(township)
    inquiry.due_on = today - timedelta(days=2)
    other.due_on = today - timedelta(days=5)
    db.session.commit()
    items, _ = inbox.page(clerk)
    overdue = [i for i in items if i.source.key == "core.overdue_case"]
    assert [i.title for i in overdue] == ["开具证明", "宅基地审批咨询"]
    assert all(i.timeliness() == "overdue" for i in overdue)


def test_inbox_page_navbar_count_and_dashboard_panel(client, staff, db, inquiry, clerk, leader):
    svc.request_extension(inquiry, clerk, 30, "需调研")
    staff.login(leader)
    html = client.get("/admin/admin_inbox/").get_data(as_text=True)
    assert page_text(html, "#inbox-count") == "1"
    rows = page_texts(html, "tr.inbox-item")
    assert len(rows) == 1 and "宅基地审批咨询" in rows[0] and "东镇" in rows[0]
    dashboard = client.get("/admin/").get_data(as_text=True)
    assert "宅基地审批咨询" in page_text(dashboard, "#inbox-panel")


def test_inbox_pages_cost_the_same_queries_with_5_and_50_items(db, township, leader, query_counter):
    set_enabled(township, "example", True)

    def queries_for(n):
        db.session.query(ExampleNote).delete()
        db.session.add_all(ExampleNote(township_id=township.id, title=f"笔记{i}") for i in range(n))
        db.session.commit()
        from flask import g

        for key in [k for k in vars(g) if k.startswith("_township")]:
            delattr(g, key)
        inbox.page(leader, 1, per_page=20)  # settings and permissions come from core.cache after
        with query_counter() as statements:
            _, total = inbox.page(leader, 1, per_page=20)
        assert total == n
        return len(statements)

    assert queries_for(5) == queries_for(50)
