"""The service guide: limits and fees flow into cases, fees above the standard and village
matters without a reason are refused, the on-time rate per matter and department by hand,
the fee report, exports, the county model catalogue, public pages, isolation and the crawl."""

from __future__ import annotations

import io
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import func, select

from core.calendar import WorkingCalendar
from core.models import Case, LimitUnit
from core.testing.fixtures import page_text, page_texts
from plugins.guide import services
from plugins.guide.models import GuideCaseMatter, GuideFee, Place
from plugins.guide.services import GuideError

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(*args):
    return time_machine.travel(datetime(*args, tzinfo=SHANGHAI), tick=False)


def test_a_matters_limit_department_and_fee_flow_into_the_case(db, make_matter, clerk, station):
    matter = make_matter(kind="approval", fee_fen=1000)
    with at(2026, 3, 2, 9):
        case = services.register_from_matter(matter, clerk=clerk, applicant_name="张三", fee="10")
    assert case.kind == "approval"
    assert (case.limit_amount, case.limit_unit) == (5, LimitUnit.working_days)
    assert case.department_id == station.id
    assert case.title == matter.name
    assert case.accepted_on == date(2026, 3, 2)
    assert case.due_on == WorkingCalendar().due_date(date(2026, 3, 2), 5, "working_days").due
    link = db.session.scalar(select(GuideCaseMatter))
    assert (link.case_id, link.matter_id, link.fee_standard_fen) == (case.id, matter.id, 1000)
    fee = db.session.scalar(select(GuideFee))
    assert (fee.case_id, fee.amount_fen, fee.charged_on) == (case.id, 1000, date(2026, 3, 2))
    assert services.limit_text(case.township_id, "approval").startswith("5 working days")


def test_a_township_limit_changes_what_the_guide_shows_and_what_the_case_gets(
    db, make_matter, clerk, guide_township
):
    from core.models import TimeLimitPolicy

    db.session.add(
        TimeLimitPolicy(
            township_id=guide_township.id, kind="service", amount=1, unit=LimitUnit.working_days
        )
    )
    db.session.commit()
    matter = make_matter()
    assert services.limit_text(guide_township.id, "service").startswith("1 working days")
    case = services.register_from_matter(matter, clerk=clerk, applicant_name="张三")
    assert case.limit_amount == 1


def test_a_fee_above_the_standard_is_refused_and_nothing_is_written(db, make_matter, clerk):
    matter = make_matter(fee_fen=1000)
    with pytest.raises(GuideError, match=r"above the published standard of 10\.00 yuan"):
        services.register_from_matter(matter, clerk=clerk, applicant_name="张三", fee="10.01")
    free = make_matter("免费事项")
    with pytest.raises(GuideError, match="above the published standard"):
        services.register_from_matter(free, clerk=clerk, applicant_name="张三", fee="0.5")
    with pytest.raises(GuideError, match="at most two decimals"):
        services.register_from_matter(matter, clerk=clerk, applicant_name="张三", fee="1.005")
    with pytest.raises(GuideError, match="negative"):
        services.register_from_matter(matter, clerk=clerk, applicant_name="张三", fee="-1")
    assert db.session.scalar(select(func.count(Case.id))) == 0
    assert db.session.scalar(select(func.count(GuideFee.id))) == 0
    # fees on a case add up: a second fee beyond the standard is refused
    case = services.register_from_matter(matter, clerk=clerk, applicant_name="张三", fee="6")
    with pytest.raises(GuideError, match="above the published standard"):
        services.charge_fee(case, by=clerk, amount="4.01")
    services.charge_fee(case, by=clerk, amount="4", bill_no="NO-2")
    assert db.session.scalar(select(func.sum(GuideFee.amount_fen))) == 1000


def test_a_fee_above_the_standard_is_refused_in_the_admin_form(
    client, staff, db, make_matter, clerk
):
    matter = make_matter(fee_fen=500)
    staff.login(clerk)
    response = client.post(
        f"/admin/guide_register/?matter={matter.id}",
        data={"applicant_name": "张三", "fee": "8"},
    )
    assert response.status_code == 400
    assert "above the published standard of 5.00 yuan" in page_text(
        response.get_data(as_text=True), "#register-error"
    )
    assert db.session.scalar(select(func.count(Case.id))) == 0
    response = client.post(
        f"/admin/guide_register/?matter={matter.id}", data={"applicant_name": "张三", "fee": "5"}
    )
    assert response.status_code == 303
    case = db.session.scalar(select(Case))
    assert response.headers["Location"].endswith(f"/admin/admin_cases/details/?id={case.id}")


def test_a_village_matter_needs_a_reason_at_the_township(db, make_matter, clerk):
    matter = make_matter("高龄津贴申领", place=Place.village)
    with pytest.raises(GuideError, match="why it is accepted at the township"):
        services.register_from_matter(matter, clerk=clerk, applicant_name="张三")
    assert db.session.scalar(select(func.count(Case.id))) == 0
    services.register_from_matter(
        matter, clerk=clerk, applicant_name="张三", village_reason="村代办员外出学习"
    )
    link = db.session.scalar(select(GuideCaseMatter))
    assert link.village_reason == "村代办员外出学习"


def _case(matter, clerk, accepted, resolved):
    from core.cases import resolve_case

    with at(*accepted):
        case = services.register_from_matter(matter, clerk=clerk, applicant_name="群众")
    with at(*resolved):
        resolve_case(case, clerk, "办结")
    return case


def test_the_on_time_rate_per_matter_and_department_by_hand(
    db, make_matter, clerk, station, station2
):
    certificate = make_matter("开具证明", kind="service")  # 3 working days
    homestead = make_matter("宅基地审批", kind="approval", department=station2)  # 5 working days
    # March 2026: 2 March (Mon) + 3 working days = 5 March
    _case(certificate, clerk, (2026, 3, 2, 9), (2026, 3, 4, 10))  # on time
    _case(certificate, clerk, (2026, 3, 2, 9), (2026, 3, 10, 10))  # late
    # 9 March + 5 working days = 16 March; resolved at 23:30 Beijing time (15:30 UTC): on time
    _case(homestead, clerk, (2026, 3, 9, 9), (2026, 3, 16, 23, 30))
    # resolved in April: not in March's figures
    _case(homestead, clerk, (2026, 3, 30, 9), (2026, 4, 1, 9))
    # resolved in March at 00:30 on 1 April Beijing time belongs to April too
    _case(certificate, clerk, (2026, 3, 30, 9), (2026, 4, 1, 0, 30))

    report = services.on_time_report(station.township_id, 2026, 3)
    rows = {r.name: (r.finished, r.on_time, r.rate) for r in report.matters}
    assert rows == {"开具证明": (2, 1, 50.0), "宅基地审批": (1, 1, 100.0)}
    depts = {r.name: (r.finished, r.on_time) for r in report.departments}
    assert depts == {"民政办": (2, 1), "农业服务中心": (1, 1)}
    assert (report.total.finished, report.total.on_time, report.total.rate) == (3, 2, 66.7)
    april = services.on_time_report(station.township_id, 2026, 4)
    assert (april.total.finished, april.total.on_time) == (2, 2)
    year = services.on_time_report(station.township_id, 2026)
    assert year.total.finished == 5


def test_the_on_time_screen_and_its_export(client, staff, db, make_matter, clerk, leader):
    from openpyxl import load_workbook

    matter = make_matter('=HYPERLINK("http://x")')
    _case(matter, clerk, (2026, 3, 2, 9), (2026, 3, 4, 10))
    staff.login(leader)
    html = client.get("/admin/guide_ontime/?month=2026-03").get_data(as_text=True)
    assert page_texts(html, "#by-matter tbody td")[:2] == ['=HYPERLINK("http://x")', "1"]
    assert client.get("/admin/guide_ontime/?month=2026-13").status_code == 400
    response = client.get("/admin/guide_ontime/export?month=2026-03")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.data))
    sheet = book.worksheets[0]
    assert sheet.cell(2, 2).value == '\'=HYPERLINK("http://x")'
    assert [sheet.cell(2, c).value for c in (3, 4, 5, 6)] == [1, 1, 0, 100]


def test_the_monthly_fee_report(client, staff, db, make_matter, clerk, leader):
    matter = make_matter(fee_fen=1500)
    with at(2026, 5, 6, 9):
        services.register_from_matter(matter, clerk=clerk, applicant_name="甲", fee="15")
        services.register_from_matter(matter, clerk=clerk, applicant_name="乙", fee="7.5")
    with at(2026, 6, 1, 9):
        services.register_from_matter(matter, clerk=clerk, applicant_name="丙", fee="15")
    rows, total = services.fee_report(matter.township_id, 2026, 5)
    assert [(r.name, r.count, str(r.total)) for r in rows] == [(matter.name, 2, "22.50")]
    assert str(total) == "22.50"
    staff.login(leader)
    html = client.get("/admin/guide_fee_report/?month=2026-05").get_data(as_text=True)
    assert "22.50" in page_text(html, "#fee-total")


def test_the_county_model_catalogue_is_adopted_and_adjusted(
    client, staff, db, guide_township, station, county, county_admin, township_admin
):
    from plugins.guide.models import GuideMatter, GuideModelMatter

    staff.login(county_admin)
    response = client.post(
        "/admin/guide_models/new/",
        data={
            "county_id": str(county.id),
            "name": "最低生活保障申请",
            "department_name": "民政办",
            "place": "village",
            "case_kind": "approval",
            "fee_standard": "0",
            "authority": "《社会救助暂行办法》",
            "materials": "申请书",
            "steps": "受理",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    model = db.session.scalar(select(GuideModelMatter))
    assert model.county_id == county.id
    staff.logout()
    staff.login(township_admin)
    html = client.get("/admin/guide_adopt/").get_data(as_text=True)
    assert "最低生活保障申请" in page_text(html, "#models")
    response = client.post("/admin/guide_adopt/", data={"model": str(model.id)})
    assert response.status_code == 303
    matter = db.session.scalar(select(GuideMatter))
    assert (matter.model_id, matter.department_id, matter.place) == (
        model.id,
        station.id,
        Place.village,
    )
    assert services.models_to_adopt(guide_township) == []
    # adjusted by the township: the model stays as it was
    response = client.post(
        f"/admin/guide_matters/edit/?id={matter.id}",
        data={
            "township_id": str(guide_township.id),
            "name": "最低生活保障申请（本镇）",
            "department_id": str(station.id),
            "place": "township",
            "case_kind": "approval",
            "fee_standard": "0",
            "published": "y",
        },
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(GuideMatter, matter.id).name == "最低生活保障申请（本镇）"
    assert db.session.get(GuideModelMatter, model.id).name == "最低生活保障申请"


def test_the_matter_form_refuses_bad_input(client, staff, db, guide_township, township_admin):
    from plugins.guide.models import GuideMatter

    staff.login(township_admin)
    data = {
        "township_id": str(guide_township.id),
        "name": "事项",
        "place": "township",
        "case_kind": "service",
        "fee_standard": "-3",
    }
    html = client.post("/admin/guide_matters/new/", data=data).get_data(as_text=True)
    assert db.session.scalar(select(func.count(GuideMatter.id))) == 0
    assert "-3" in html
    data.update(fee_standard="2", name="长" * 201)
    client.post("/admin/guide_matters/new/", data=data)
    assert db.session.scalar(select(func.count(GuideMatter.id))) == 0


# -- public pages -----------------------------------------------------------------------


def test_the_public_guide_is_searchable_by_place_and_department(
    client, db, make_matter, station, station2
):
    make_matter("开具户籍关系证明")
    make_matter("高龄津贴申领", place=Place.household)
    make_matter("宅基地审批", department=station2, kind="approval", fee_fen=1000)
    names = lambda html: page_texts(html, ".matter-name")  # noqa: E731
    assert names(client.get("/t/east/guide/").get_data(as_text=True)) == [
        "宅基地审批",
        "开具户籍关系证明",
        "高龄津贴申领",
    ]
    assert names(client.get("/t/east/guide/?q=津贴").get_data(as_text=True)) == ["高龄津贴申领"]
    assert names(client.get("/t/east/guide/?place=household").get_data(as_text=True)) == [
        "高龄津贴申领"
    ]
    assert names(client.get(f"/t/east/guide/?department={station2.id}").get_data(as_text=True)) == [
        "宅基地审批"
    ]
    assert client.get("/t/east/guide/?place=moon").status_code == 400


def test_a_matter_page_and_its_notice_show_limit_fee_and_materials(client, db, make_matter):
    matter = make_matter("宅基地审批", kind="approval", fee_fen=1050, fee_basis="物价局核定")
    html = client.get(f"/t/east/guide/m/{matter.id}").get_data(as_text=True)
    assert page_text(html, "#matter-limit").startswith("5 working days")
    assert page_text(html, "#matter-fee") == "10.50 yuan (物价局核定)"
    notice = client.get(f"/t/east/guide/m/{matter.id}/notice").get_data(as_text=True)
    assert page_text(notice, "#notice-matter") == "宅基地审批"
    assert "居民身份证" in page_text(notice, "#notice")


def test_the_public_guide_pages_run_a_fixed_number_of_queries(
    client, db, make_matter, query_counter
):
    make_matter("事项0")
    client.get("/t/east/guide/")
    with query_counter() as few:
        client.get("/t/east/guide/")
    for n in range(1, 30):
        make_matter(f"事项{n}")
    client.get("/t/east/guide/")
    with query_counter() as many:
        client.get("/t/east/guide/")
    assert len(few) == len(many)


def test_the_township_page_shows_the_service_hall(client, db, guide_township):
    from plugins.guide.models import GuideServiceHall

    db.session.add(
        GuideServiceHall(
            township_id=guide_township.id,
            address="镇政府一楼",
            hours="8:30-17:30",
            phone="0471-6612345",
        )
    )
    db.session.commit()
    html = client.get("/t/east/").get_data(as_text=True)
    assert "镇政府一楼" in page_text(html, "#service-hall")


def test_the_township_page_shows_todays_duty_staff_from_the_rota(
    client, db, guide_township, clerk, leader
):
    from core import clock, duty
    from core.models import DutyPost

    today = clock.today(guide_township)
    day = (today.weekday(), not duty.rota(guide_township, today, 1)[0].info.workday)
    duty.add_to_pattern(guide_township, DutyPost.window, clerk, [day], valid_from=today)
    duty.add_to_pattern(guide_township, DutyPost.duty_leader, leader, [day], valid_from=today)
    html = client.get("/t/east/").get_data(as_text=True)
    assert (
        page_text(html, "#hall-duty")
        == "On duty today: Leader on duty：李镇长；Window staff：王办事"
    )


def test_the_receipt_shows_the_matter_and_the_fees(client, db, make_matter, clerk):
    matter = make_matter(fee_fen=800)
    case = services.register_from_matter(matter, clerk=clerk, applicant_name="张三", fee="8")
    html = client.get(f"/lookup?receipt={case.receipt_no}").get_data(as_text=True)
    assert page_text(html, "#guide-fee-charged") == "8.00 yuan"


# -- isolation, enable/disable, crawl -------------------------------------------------


def test_another_townships_matters_are_404(
    client, staff, db, make_matter, other_township, clerk, leader
):
    from core.institutions import set_enabled

    set_enabled(other_township, "guide", True)
    theirs = make_matter("西镇事项", township=other_township)
    assert client.get(f"/t/east/guide/m/{theirs.id}").status_code == 404
    staff.login(leader)
    assert client.get(f"/admin/guide_matters/details/?id={theirs.id}").status_code == 404
    assert client.get(f"/admin/guide_register/?matter={theirs.id}").status_code == 404
    assert "西镇事项" not in client.get("/admin/guide_matters/").get_data(as_text=True)
    with pytest.raises(GuideError):
        services.adopt_models(other_township, [12345])


def test_disabled_guide_answers_404_and_adds_nothing(
    client, staff, db, make_matter, clerk, township
):
    from core.institutions import set_enabled
    from core.receipts import find, sections

    matter = make_matter()
    case = services.register_from_matter(matter, clerk=clerk, applicant_name="张三")
    set_enabled(township, "guide", False)
    assert client.get("/t/east/guide/").status_code == 404
    assert client.get(f"/t/east/guide/m/{matter.id}/notice").status_code == 404
    staff.login(clerk)
    for endpoint in (
        "guide_matters",
        "guide_register",
        "guide_ontime",
        "guide_fees",
        "guide_rooms",
    ):
        assert client.get(f"/admin/{endpoint}/").status_code == 404, endpoint
    assert sections(find(case.receipt_no)) == []
    assert "service-hall" not in client.get("/t/east/").get_data(as_text=True)
    set_enabled(township, "guide", True)
    assert client.get("/admin/guide_matters/").status_code == 200


def test_every_guide_admin_page_reads_in_chinese_with_demo_data(app, client, db):
    from core.auth import hash_password
    from core.demo import load_demo
    from core.models import User
    from core.testing.crawl import crawl_admin
    from core.testing.fixtures import PASSWORD

    load_demo()
    user = db.session.scalar(select(User).where(User.username == "county"))
    user.password_hash = hash_password(PASSWORD)
    db.session.commit()
    client.post("/login", data={"username": "county", "password": PASSWORD})
    findings, pages = crawl_admin(client, start=("/admin/guide_matters/",), only="/admin/guide_")
    assert pages >= 8
    assert findings == [], "\n".join(findings)
    for endpoint in (
        "guide_ontime",
        "guide_fee_report",
        "guide_adopt",
        "guide_register",
        "guide_register/fee",
    ):
        findings, _pages = crawl_admin(client, start=(f"/admin/{endpoint}/",), only="/admin/guide_")
        assert findings == [], "\n".join(findings)


def test_a_zone_with_daylight_saving_is_counted_case_by_case(
    forget_zones, db, make_matter, clerk, guide_township
):
    from core import clock

    guide_township.timezone = "Europe/Berlin"
    db.session.commit()
    clock.forget()
    berlin = ZoneInfo("Europe/Berlin")
    start, end = services.period_bounds(guide_township.id, 2026, 3)
    assert clock.constant_offset(berlin, start, end) is None  # summer time from 29 March
    assert clock.constant_offset(SHANGHAI, start, end) == 480
    matter = make_matter(kind="service")

    def case(accepted, resolved):
        from core.cases import resolve_case

        with time_machine.travel(datetime(*accepted, tzinfo=berlin), tick=False):
            c = services.register_from_matter(matter, clerk=clerk, applicant_name="群众")
        with time_machine.travel(datetime(*resolved, tzinfo=berlin), tick=False):
            resolve_case(c, clerk, "办结")
        return c

    # accepted Monday 30 March (summer time), due Thursday 2 April
    case((2026, 3, 30, 9), (2026, 3, 31, 23, 30))  # 21:30 UTC, still 31 March in Berlin
    # accepted 23 March, due 26 March; resolved 23:30 on the due day: on time
    case((2026, 3, 23, 9), (2026, 3, 26, 23, 30))
    case((2026, 3, 23, 9), (2026, 3, 27, 0, 30))  # half an hour late
    report = services.on_time_report(guide_township.id, 2026, 3)
    assert (report.total.finished, report.total.on_time) == (3, 2)
    clock.forget()


def test_the_county_list_of_matters_reads_each_townships_limits_without_a_query_each(
    client, db, staff, county_admin, make_matter, create_unit, create_user, county, query_counter
):
    """The catalogue as the county administrator sees it (matters of many townships): the
    time limit of each row comes from the core's cached limits, so four townships run the
    same queries as one, at most six."""
    from flask import g

    from core.institutions import set_enabled

    make_matter("事项0")
    staff.login(county_admin)
    client.get("/admin/guide_matters/")
    g.pop("_guide_limits", None)  # a request's own memo (tests share one app context)
    with query_counter() as one:
        html = client.get("/admin/guide_matters/").get_data(as_text=True)
    assert "事项0" in html
    for n in range(1, 4):
        other = create_unit(f"第{n}镇", f"town-{n}", "township", county)
        set_enabled(other, "guide", True)
        department = create_unit(f"第{n}镇民政办", f"town-{n}-civil", "station", other)
        head = create_user(f"head{n}", roles=[("clerk", other)], name=f"负责人{n}")
        matter = make_matter(f"事项{n}", township=other, responsible=head)
        matter.department_id = department.id
        db.session.commit()
    client.get("/admin/guide_matters/")
    g.pop("_guide_limits", None)
    with query_counter() as four:
        html = client.get("/admin/guide_matters/").get_data(as_text=True)
    assert all(f"事项{n}" in html for n in range(4))
    assert len(four) == len(one) <= 6
