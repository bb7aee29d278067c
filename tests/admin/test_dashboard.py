"""The dashboard, the navbar and the notifications page."""

from __future__ import annotations

import re
from datetime import timedelta

from bs4 import BeautifulSoup
from sqlalchemy import select

from core import clock
from core.models import Notification
from tests.admin.conftest import text


def _figure(page: str, name: str) -> int:
    return int(re.search(rf'data-figure="{name}">(\d+)<', page).group(1))


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get("/admin/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert client.get("/admin/admin_cases/").status_code == 302


def test_dashboard_counts_due_soon_overdue_and_per_handler(
    client,
    staff,
    clerk,
    leader,
    township,
    other_township,
    other_clerk,
    make_case,
    make_note,
    enable,
):
    today = clock.today()
    make_case(township, clerk, handler=clerk, due_on=today - timedelta(days=2))
    make_case(township, clerk, handler=clerk, due_on=today - timedelta(days=1))
    make_case(township, clerk, handler=leader, due_on=today)  # due today: due soon
    make_case(township, clerk, handler=leader, due_on=today)  # the same day: counted too
    make_case(township, clerk, handler=leader, due_on=today + timedelta(days=60))
    make_case(other_township, other_clerk, due_on=today - timedelta(days=5))
    enable(township)
    make_note(township)
    make_note(township)
    staff.login(clerk)
    page = text(client.get("/admin/"))
    assert _figure(page, "open") == 5
    assert _figure(page, "overdue") == 2
    assert _figure(page, "due_soon") == 2
    assert "示例笔记" in page and _figure(page, "plugin") == 2
    rows = [
        tuple(cell.get_text(strip=True) for cell in row.find_all("td"))
        for row in BeautifulSoup(page, "html.parser").select("tr.handler-row")
    ]
    assert sorted(rows) == sorted([("王办事", "2", "2"), ("李镇长", "3", "0")])
    assert "西镇" not in page


def test_every_dashboard_figure_links_to_the_list_it_counts(
    client, staff, clerk, leader, township, other_township, other_clerk, make_case
):
    today = clock.today()
    make_case(township, clerk, handler=clerk, due_on=today - timedelta(days=2))
    make_case(township, clerk, handler=leader, due_on=today)
    make_case(township, clerk, handler=leader, due_on=today + timedelta(days=60))
    make_case(township, clerk, due_on=today + timedelta(days=60))
    make_case(other_township, other_clerk, due_on=today - timedelta(days=5))
    staff.login(clerk)
    soup = BeautifulSoup(text(client.get("/admin/")), "html.parser")

    def listed(href: str) -> int:
        html = text(client.get(href))
        return len(BeautifulSoup(html, "html.parser").select("td.col-receipt_no"))

    for kind in ("open", "due_soon", "overdue"):
        link = soup.select_one(f'a[data-figure-link="{kind}"]')
        assert link is not None, kind
        assert listed(link["href"]) == _figure(str(soup), kind), kind
    for row in soup.select("tr.handler-row"):
        name = row.find("td").get_text(strip=True)
        for cell in row.select("a"):
            assert listed(cell["href"]) == int(cell.get_text(strip=True)), name


def test_case_list_filters_mine_and_waiting_for_my_decision(
    client, staff, clerk, leader, township, make_case, db
):
    from core import cases as services

    mine = make_case(township, clerk, handler=clerk, due_on=clock.today())
    make_case(township, leader, handler=leader, due_on=clock.today())
    asked = make_case(township, leader, handler=leader)
    asked.limit_amount, asked.limit_max_amount = 15, 30
    asked.limit_unit = "calendar_days"
    db.session.commit()
    services.request_extension(asked, clerk, 30, "需要上级答复")
    view = next(
        v
        for v in client.application.extensions["township_admin"]._views
        if v.endpoint == "admin_cases"
    )
    with client.application.test_request_context():
        mine_url = view.filter_url(show="mine")
        decide_url = view.filter_url(show="decide")
    staff.login(clerk)
    html = text(client.get(mine_url))
    assert [
        t.get_text(strip=True)
        for t in BeautifulSoup(html, "html.parser").select("td.col-receipt_no")
    ] == [mine.receipt_no]
    staff.logout()
    staff.login(leader)
    html = text(client.get(decide_url))
    assert [
        t.get_text(strip=True)
        for t in BeautifulSoup(html, "html.parser").select("td.col-receipt_no")
    ] == [asked.receipt_no]


def test_plugin_figures_only_from_enabled_plugins(client, staff, clerk, township, make_note):
    make_note(township)
    staff.login(clerk)
    assert "示例笔记" not in text(client.get("/admin/"))


def test_uncovered_year_banner(client, staff, clerk, township, monkeypatch):
    import admin.dashboard

    staff.login(clerk)
    monkeypatch.setattr(admin.dashboard, "uncovered_years", lambda: [2027])
    page = text(client.get("/admin/"))
    assert (
        "the official holiday schedule for 2027 is not yet known; due dates use estimated holidays"
    ) in page.lower()
    monkeypatch.setattr(admin.dashboard, "uncovered_years", lambda: [])
    assert 'id="uncovered-years"' not in text(client.get("/admin/"))


def test_navbar_bell_and_notifications_page(client, staff, clerk, leader, db):
    for i in range(3):
        db.session.add(Notification(user_id=clerk.id, title=f"提醒{i}", link="/admin/"))
    db.session.add(Notification(user_id=leader.id, title="别人的"))
    db.session.commit()
    staff.login(clerk)
    page = text(client.get("/admin/"))
    assert re.search(r'id="unread-count">3<', page)
    assert "王办事" in page  # the signed-in user
    assert 'action="/logout"' in page and 'action="/lang/' in page
    listing = text(client.get("/admin/admin_notifications/"))
    assert "提醒0" in listing and "别人的" not in listing
    first = db.session.scalar(select(Notification).where(Notification.title == "提醒0"))
    response = client.post("/admin/admin_notifications/read/", data={"id": first.id, "follow": "1"})
    assert response.headers["Location"].endswith("/admin/")
    assert re.search(r'id="unread-count">2<', text(client.get("/admin/")))
    other = db.session.scalar(select(Notification).where(Notification.title == "别人的"))
    assert client.post("/admin/admin_notifications/read/", data={"id": other.id}).status_code == 404
    client.post("/admin/admin_notifications/read/")
    assert re.search(r'id="unread-count">0<', text(client.get("/admin/")))
    db.session.expire_all()
    assert db.session.get(Notification, other.id).read_at is None


def test_notifications_are_paginated(client, staff, clerk, db):
    for i in range(25):
        db.session.add(Notification(user_id=clerk.id, title=f"第{i}条"))
    db.session.commit()
    staff.login(clerk)
    first = text(client.get("/admin/admin_notifications/"))
    second = text(client.get("/admin/admin_notifications/?page=1"))
    assert first.count('class="list-group-item') == 20
    assert second.count('class="list-group-item') == 5


def test_every_core_page_renders_in_the_default_language(
    client, county_admin, township, clerk, make_case, make_person, enable
):
    from core.testing.fixtures import StaffActions

    case = make_case(township, clerk)
    person = make_person(township)
    enable(township)
    StaffActions(client).login(county_admin)  # no language switch: zh_CN
    for url in (
        "/admin/",
        "/admin/admin_cases/",
        f"/admin/admin_cases/details/?id={case.id}",
        "/admin/admin_cases/new/",
        "/admin/admin_people/",
        f"/admin/admin_people/details/?id={person.id}",
        "/admin/admin_people/new/",
        f"/admin/admin_people/edit/?id={person.id}",
        "/admin/admin_users/",
        "/admin/admin_users/new/",
        f"/admin/admin_users/details/?id={clerk.id}",
        f"/admin/admin_users/edit/?id={clerk.id}",
        "/admin/admin_institutions/",
        "/admin/admin_policies/",
        "/admin/admin_calendar/",
        "/admin/admin_audit/",
        "/admin/admin_jobs/",
        "/admin/admin_jobs/edit/?id=core.deadline_sweep",
        "/admin/admin_notifications/",
        "/admin/example_notes/",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
