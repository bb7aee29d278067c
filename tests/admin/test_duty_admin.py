"""The duty rota, weekly pattern and staff-away pages: what staff see and do, refusals with
their message and nothing written, tenant isolation, the zh_CN crawl, the printed week."""

from __future__ import annotations

import io
import re
import unicodedata
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import func, select

from core import duty, presence
from core.clock import now_utc
from core.duty import PatternDay
from core.institutions import set_enabled
from core.models import Absence, DutyChange, DutyPattern, DutyPost
from core.testing.crawl import crawl_admin
from core.testing.fixtures import PASSWORD, page_text, page_texts
from tests import example_plugin
from tests.admin.conftest import text

SINCE = date(2025, 1, 1)
WEEK = date(2025, 9, 22)  # Monday; Sunday 28 was worked (调休)
WEEKDAYS = [PatternDay(n, False) for n in range(5)]


@pytest.fixture
def rota(db, township, clerk, leader, create_user):
    """Window staff on working days, the leader on the duty phone at weekends, a second
    clerk on adjusted working Sundays."""
    helper = create_user("helper", "clerk", township, name="张窗口")
    duty.add_to_pattern(township, DutyPost.window, clerk, WEEKDAYS, valid_from=SINCE)
    duty.add_to_pattern(
        township, DutyPost.hotline, leader, [(5, True), (6, True)], valid_from=SINCE
    )
    duty.add_to_pattern(township, DutyPost.window, helper, [(6, False)], valid_from=SINCE)
    duty.add_to_pattern(township, DutyPost.reception_leader, leader, [(0, False)], valid_from=SINCE)
    return helper


def soup(html: str, selector: str) -> list:
    from bs4 import BeautifulSoup

    return BeautifulSoup(html, "html.parser").select(selector)


def cell(html: str, day: str, post: str) -> str:
    return page_text(html, f'#rota-week tr[data-day="{day}"] td[data-post="{post}"]')


def count(db, model) -> int:
    return db.session.scalar(select(func.count(model.id)))


def test_the_week_shows_pattern_rest_days_and_the_adjusted_working_day(
    client, staff, clerk, township, rota
):
    staff.login(clerk)
    html = text(client.get(f"/admin/admin_duty_rota/?start={WEEK.isoformat()}"))
    assert cell(html, "2025-09-22", "window") == "王办事"
    assert cell(html, "2025-09-22", "reception_leader") == "李镇长"
    assert cell(html, "2025-09-27", "window") == "nobody"  # Saturday off: a gap
    assert cell(html, "2025-09-27", "hotline") == "李镇长"
    assert cell(html, "2025-09-28", "window") == "张窗口"  # the worked Sunday
    assert cell(html, "2025-09-28", "hotline") == "nobody"
    rest = page_texts(html, '#rota-week tr[data-rest="yes"] th')
    assert len(rest) == 1 and rest[0].startswith("2025-09-27")
    assert "adjusted working day (调休) · National Day" in page_text(
        html, '#rota-week tr[data-day="2025-09-28"] th'
    )
    client.post("/lang/zh_CN")
    html = text(client.get(f"/admin/admin_duty_rota/?start={WEEK.isoformat()}"))
    assert page_text(html, '#rota-week tr[data-day="2025-09-28"] th') == (
        "2025-09-28 (日) 上班 · 调休上班日 · 国庆节"
    )
    # a day given as text that is not a date shows this week instead of an error
    assert client.get("/admin/admin_duty_rota/?start=2025-13-40").status_code == 200


def test_a_swap_through_the_form_and_one_refused(client, staff, db, clerk, township, rota):
    helper = rota
    staff.login(clerk)
    refused = client.post(
        f"/admin/admin_duty_rota/swap/?township={township.id}",
        data={
            "post": "window",
            "day_a": "2025-09-22",
            "user_a": str(helper.id),  # 张窗口 is not on duty on that Monday
            "day_b": "2025-09-28",
            "user_b": str(clerk.id),
            "reason": "家中有事",
            "start": WEEK.isoformat(),
        },
    )
    assert refused.status_code == 400
    assert "张窗口 is not on duty as Window staff on 2025-09-22." in text(refused)
    assert 'value="家中有事"' in text(refused)  # what was typed stays
    assert count(db, DutyChange) == 0

    done = client.post(
        f"/admin/admin_duty_rota/swap/?township={township.id}",
        data={
            "post": "window",
            "day_a": "2025-09-22",
            "user_a": str(clerk.id),
            "day_b": "2025-09-28",
            "user_b": str(helper.id),
            "start": WEEK.isoformat(),
        },
    )
    assert done.status_code == 303
    html = text(client.get(done.headers["Location"]))
    assert cell(html, "2025-09-22", "window") == "张窗口 (Swap, instead of 王办事)"
    assert cell(html, "2025-09-28", "window") == "王办事 (Swap, instead of 张窗口)"
    assert len(page_texts(html, "#rota-changes tr.rota-change")) == 2


def test_one_off_change_nobody_and_cancel(client, staff, db, clerk, township, rota):
    staff.login(clerk)
    response = client.post(
        f"/admin/admin_duty_rota/change/?township={township.id}",
        data={"day": "2025-09-23", "post": "window", "reason": "停电", "start": WEEK.isoformat()},
    )
    assert response.status_code == 303
    html = text(client.get(f"/admin/admin_duty_rota/?start={WEEK.isoformat()}"))
    assert cell(html, "2025-09-23", "window") == "nobody"
    change = db.session.scalar(select(DutyChange))
    bad = client.post(
        f"/admin/admin_duty_rota/change/?township={township.id}",
        data={"day": "23.09.2025", "post": "window", "user": str(clerk.id)},
    )
    assert bad.status_code == 400 and "Give the day as YYYY-MM-DD." in text(bad)
    cancelled = client.post(
        f"/admin/admin_duty_rota/cancel/?township={township.id}",
        data={"id": change.id, "start": WEEK.isoformat()},
    )
    assert cancelled.status_code == 303 and count(db, DutyChange) == 0


def test_the_pattern_page_adds_and_takes_out(client, staff, db, clerk, leader, township, rota):
    staff.login(clerk)
    html = text(client.get(f"/admin/admin_duty_pattern/?township={township.id}"))
    sunday_work = '#pattern-grid tr[data-post="window"][data-rest="no"] td[data-weekday="6"]'
    assert page_text(html, sunday_work).startswith("张窗口")
    before = count(db, DutyPattern)
    none_chosen = client.post(
        f"/admin/admin_duty_pattern/add/?township={township.id}",
        data={"post": "duty_leader", "user": str(leader.id), "valid_from": "2025-01-01"},
    )
    assert none_chosen.status_code == 400 and "Choose at least one day of the week." in text(
        none_chosen
    )
    added = client.post(
        f"/admin/admin_duty_pattern/add/?township={township.id}",
        data={
            "post": "duty_leader",
            "user": str(leader.id),
            "day": ["w0", "w1", "r5", "x9"],
            "valid_from": "2025-01-01",
        },
    )
    assert added.status_code == 303 and count(db, DutyPattern) == before + 3
    assert [e.user.name for e in duty.on_duty(township, date(2025, 9, 27), "duty_leader")] == [
        "李镇长"
    ]
    entry = db.session.scalar(
        select(DutyPattern).where(
            DutyPattern.post == DutyPost.duty_leader, DutyPattern.weekday == 5
        )
    )
    gone = client.post(
        f"/admin/admin_duty_pattern/end/?township={township.id}",
        data={"id": entry.id, "from_day": "2025-09-01"},
    )
    assert gone.status_code == 303
    assert duty.on_duty(township, date(2025, 9, 27), "duty_leader") == []
    assert [e.user.name for e in duty.on_duty(township, date(2025, 8, 30), "duty_leader")] == [
        "李镇长"
    ]


def test_staff_without_duty_manage_read_the_rota_but_cannot_change_it(
    client, staff, db, leader, clerk, township, rota
):
    staff.login(leader)
    html = text(client.get(f"/admin/admin_duty_rota/?start={WEEK.isoformat()}"))
    assert cell(html, "2025-09-22", "window") == "王办事"
    assert 'id="swap-form"' not in html and 'id="change-form"' not in html
    response = client.post(
        f"/admin/admin_duty_rota/change/?township={township.id}",
        data={"day": "2025-09-23", "post": "window"},
    )
    assert response.status_code == 404 and count(db, DutyChange) == 0
    assert 'id="pattern-form"' not in text(client.get("/admin/admin_duty_pattern/"))


def test_i_am_back_fires_the_hook_once(client, staff, db, leader, clerk, township):
    set_enabled(township, "example", True)
    example_plugin.EVENTS.clear()
    staff.login(leader)
    now = now_utc()
    absence = presence.record_absence(
        township, leader, now - timedelta(hours=2), now + timedelta(hours=2), "县里开会"
    )
    html = text(client.get("/admin/admin_duty_presence/"))
    assert page_text(html, "#away-now tr.away-row td") == "李镇长"
    assert "I am back" in page_text(html, "#away-now")
    response = client.post(
        f"/admin/admin_duty_presence/back/?township={township.id}", data={"id": absence.id}
    )
    assert response.status_code == 303
    again = client.post(
        f"/admin/admin_duty_presence/back/?township={township.id}", data={"id": absence.id}
    )
    assert again.status_code == 400 and "already recorded as back" in text(again)
    assert [e for e in example_plugin.EVENTS if e[0] == "returned"] == [
        ("returned", (leader.id, township.id))
    ]
    html = text(client.get("/admin/admin_duty_presence/"))
    assert page_text(html, "#away-count") == "0"
    assert page_text(html, "#away-history tr.history-row td") == "李镇长"
    example_plugin.EVENTS.clear()


def test_recording_away_periods_through_the_form(client, staff, db, leader, clerk, township):
    staff.login(clerk)
    form = {
        "user": str(leader.id),
        "starts_at": "2027-03-02T09:00",
        "ends_at": "2027-03-02T08:00",
        "reason": "下村调研",
    }
    url = f"/admin/admin_duty_presence/record/?township={township.id}"
    response = client.post(url, data=form)
    assert response.status_code == 400
    assert "The away period ends before it starts." in text(response)
    assert 'value="下村调研"' in text(response)
    assert client.post(url, data={**form, "ends_at": "not a time"}).status_code == 400
    assert count(db, Absence) == 0

    assert client.post(url, data={**form, "ends_at": "2027-03-02T17:00"}).status_code == 303
    absence = db.session.scalar(select(Absence))
    # typed in the township's time (Beijing): 09:00 is 01:00 UTC
    assert absence.starts_at.hour == 1 and absence.created_by_id == clerk.id
    overlapping = client.post(
        url, data={**form, "starts_at": "2027-03-02T16:00", "ends_at": "2027-03-02T18:00"}
    )
    assert overlapping.status_code == 400
    assert "李镇长 is already recorded as away from 2027-03-02 09:00 to 2027-03-02 17:00." in text(
        overlapping
    )
    assert count(db, Absence) == 1
    html = text(client.get("/admin/admin_duty_presence/"))
    assert page_text(html, "#away-planned tr.planned-row td") == "李镇长"

    # a leader records their own away period, not a clerk's
    staff.logout()
    staff.login(leader)
    mine = {**form, "starts_at": "2027-04-01T09:00", "ends_at": "2027-04-01T12:00"}
    assert client.post(url, data={**mine, "user": str(clerk.id)}).status_code == 403
    assert client.post(url, data={**mine, "user": str(leader.id)}).status_code == 303
    assert count(db, Absence) == 2


def test_another_townships_rows_answer_404(
    client, staff, db, clerk, township, other_township, other_clerk, rota
):
    duty.add_to_pattern(other_township, "window", other_clerk, WEEKDAYS, valid_from=SINCE)
    (their_change,) = duty.change(other_township, date(2025, 9, 23), "window", replaces=other_clerk)
    their_entry = db.session.scalar(
        select(DutyPattern).where(DutyPattern.township_id == other_township.id)
    )
    now = now_utc()
    their_absence = presence.record_absence(
        other_township, other_clerk, now - timedelta(hours=1), now + timedelta(hours=1), "下村"
    )
    staff.login(clerk)
    mine = f"?township={township.id}"
    theirs = f"?township={other_township.id}"
    for url in ("admin_duty_rota/", "admin_duty_pattern/", "admin_duty_presence/"):
        assert client.get(f"/admin/{url}{theirs}").status_code == 404
    posts = [
        ("admin_duty_rota/cancel/", their_change.id),
        ("admin_duty_pattern/end/", their_entry.id),
        ("admin_duty_presence/back/", their_absence.id),
        ("admin_duty_presence/cancel/", their_absence.id),
    ]
    for url, row_id in posts:
        assert client.post(f"/admin/{url}{mine}", data={"id": row_id}).status_code == 404
        assert client.post(f"/admin/{url}{theirs}", data={"id": row_id}).status_code == 404
    # nothing of theirs changed, and their staff are no choice here
    assert count(db, DutyChange) == 1
    assert db.session.get(Absence, their_absence.id).returned_at is None
    refused = client.post(
        f"/admin/admin_duty_rota/change/{mine}",
        data={"day": "2025-09-23", "post": "window", "user": str(other_clerk.id)},
    )
    assert refused.status_code == 400 and "does not work for this township" in text(refused)
    html = text(client.get(f"/admin/admin_duty_rota/{mine}"))
    assert "西镇办事员" not in html


def test_history_pages_cost_the_same_queries(
    client, staff, db, clerk, township, create_user, query_counter
):
    staff.login(clerk)
    start = now_utc() - timedelta(days=400)

    def add(n):
        for i in range(n):
            person = create_user(f"p{count(db, Absence)}", "clerk", township, name=f"人{i}")
            at = start + timedelta(days=count(db, Absence))
            presence.record_absence(township, person, at, at + timedelta(hours=3), "下村")

    add(5)
    client.get("/admin/admin_duty_presence/")
    with query_counter() as few:
        assert client.get("/admin/admin_duty_presence/").status_code == 200
    add(45)
    client.get("/admin/admin_duty_presence/")  # the same warm start as above
    with query_counter() as many:
        html = text(client.get("/admin/admin_duty_presence/"))
    assert len(page_texts(html, "#away-history tr.history-row")) == 20
    assert len(few) == len(many)


def test_zh_crawl_of_the_duty_pages(client, staff, db, clerk, leader, township, rota):
    duty.swap(township, "window", date(2025, 9, 22), clerk, date(2025, 9, 28), rota)
    duty.change(township, date(2025, 9, 23), "window", replaces=clerk, reason="停电")
    now = now_utc()
    presence.record_absence(
        township, leader, now - timedelta(hours=1), now + timedelta(hours=1), "开会"
    )
    presence.record_absence(
        township, clerk, now + timedelta(days=1), now + timedelta(days=2), "学习"
    )
    staff.login(clerk)
    findings, pages = crawl_admin(
        client,
        start=["/admin/admin_duty_rota/?start=2025-09-22", "/admin/"],
        only="/admin/admin_duty",
    )
    assert pages >= 5
    assert findings == [], "\n".join(findings)


def test_printed_week_reads_back_from_the_pdf(browser_page, db, clerk, leader, township, rota):
    from pypdf import PdfReader

    duty.swap(township, "window", date(2025, 9, 22), clerk, date(2025, 9, 28), rota)
    leader.phone = "13812345678"
    db.session.commit()
    page = browser_page
    page.goto("/login")
    page.fill("#username", clerk.username)
    page.fill("#password", PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_url("**/admin/**")
    page.goto(f"/admin/admin_duty_rota/?township={township.id}&start=2025-09-22")
    page.click("#print-week")
    page.wait_for_selector("#duty-print")
    page.emulate_media(media="print")
    assert not page.locator(".no-print").is_visible()
    pdf = page.pdf(prefer_css_page_size=True)
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    width = float(reader.pages[0].mediabox.width) / 72 * 25.4
    height = float(reader.pages[0].mediabox.height) / 72 * 25.4
    assert (round(width), round(height)) == (210, 297)  # A4
    # NFKC, and the CJK font's radical for 长 (U+2ED3) back to the character
    words = unicodedata.normalize("NFKC", reader.pages[0].extract_text()).replace("\u2ed3", "长")
    flat = " ".join(words.split())
    # a font may place two Chinese characters as two runs, which read back with a space
    flat = re.sub(r"(?<=[\u4e00-\u9fff]) (?=[\u4e00-\u9fff])", "", flat)
    assert flat.startswith("东镇 Duty rota, 2025-09-22 to 2025-09-28")
    assert "2025-09-22 (Mon)" in flat and "2025-09-28 (Sun)" in flat
    assert "李镇长" in flat  # the Monday reception leader
    assert "张窗口 (Swap, instead of 王办事)" in flat
    assert "王办事 (Swap, instead of 张窗口)" in flat
    assert "李镇长 13812345678" in flat  # the weekend duty phone with its number
    assert flat.count("王办事") == 6  # Tuesday to Friday, Sunday, and "instead of" on Monday
    assert "Print" not in flat.split("Printed")[0] and "打印" not in flat


def test_the_dashboard_shows_who_is_on_duty_today_and_who_is_away(
    client, staff, db, clerk, leader, township, rota
):
    with time_machine.travel(datetime(2025, 9, 22, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))):
        presence.record_absence(
            township,
            leader,
            now_utc() - timedelta(hours=1),
            now_utc() + timedelta(hours=3),
            "县里开会",
        )
        staff.login(clerk)
        html = text(client.get("/admin/"))
    today = ".duty-today tr[data-post='{}'] td"
    assert page_text(html, today.format("window")) == "王办事"
    assert page_text(html, today.format("reception_leader")) == "李镇长 away"
    assert page_text(html, today.format("hotline")) == "nobody"
    assert "On duty today (2025-09-22)" in html
    figures = {
        " ".join(value.parent.get_text(" ").split()) for value in soup(html, "[data-figure=plugin]")
    }
    assert "1 Staff away now" in figures


def test_no_duty_panel_for_a_township_without_a_rota(client, staff, clerk, township):
    staff.login(clerk)
    html = text(client.get("/admin/"))
    assert "duty-today" not in html and "Staff away now" not in html


def test_the_demo_county_keeps_a_rota_and_has_a_leader_away(client, db):
    from core.demo import load_demo
    from core.models import OrgUnit

    load_demo()
    load_demo()  # idempotent
    dongfeng = db.session.scalar(select(OrgUnit).where(OrgUnit.code == "dongfeng"))
    assert [a.user.username for a in presence.away_now(dongfeng)] == ["dongfeng-leader"]
    assert count(db, Absence) == 1
    patterns = count(db, DutyPattern)
    assert patterns > 0 and all(
        duty.has_rota(t)
        for t in db.session.scalars(select(OrgUnit).where(OrgUnit.code.in_(["dongfeng", "hongqi"])))
    )
    week = duty.rota(dongfeng, duty.week_start(date(2025, 9, 22)) + timedelta(days=371), 7)
    assert all(d.on("window") and d.on("hotline") and d.on("duty_leader") for d in week)
    html = client.get("/t/dongfeng/").get_data(as_text=True)
    (now,) = duty.on_duty_now(dongfeng, "hotline")  # the clerk on working days, else on call
    assert now.user.phone.startswith("0471-")
    assert page_text(html, "#duty-public-phone") == f"{now.user.name} {now.user.phone}"
