"""Extended hours in the staff site: the zh_CN crawl over the demo, another township's
rows, switching the institution off and on, recording a service, lists in fixed queries."""

from __future__ import annotations

from sqlalchemy import func, select

from core.testing.fixtures import PASSWORD
from plugins.extended_hours.models import ExtendedHoursService
from tests.plugins.extended_hours.conftest import login


def test_every_extended_hours_admin_page_reads_in_chinese_with_demo_data(app, client, db):
    from core.auth import hash_password
    from core.demo import load_demo
    from core.models import User
    from core.testing.crawl import crawl_admin

    load_demo()
    admin = db.session.scalar(select(User).where(User.username == "dongfeng-township-admin"))
    admin.password_hash = hash_password(PASSWORD)
    db.session.commit()
    assert db.session.scalar(select(func.count(ExtendedHoursService.id))) == 2
    login(client, admin)
    findings, pages = crawl_admin(client, only="/admin/extended_hours_")
    extra = ["/admin/extended_hours_services/new/"]
    for entry in db.session.scalars(select(ExtendedHoursService)):
        extra.append(f"/admin/extended_hours_services/details/?id={entry.id}")
    found, more = crawl_admin(client, start=extra, only="/admin/extended_hours_")
    findings += found
    pages += more
    assert pages >= 6
    assert findings == [], "\n".join(findings)
    load_demo()
    assert db.session.scalar(select(func.count(ExtendedHoursService.id))) == 2


def _entry(township, clerk):
    from datetime import date

    import time_machine

    from plugins.extended_hours import services
    from tests.plugins.extended_hours.conftest import at

    with time_machine.travel(at(date(2025, 11, 24), 9), tick=False):
        return services.record_service(
            township,
            services.ServiceInput(
                citizen_name="赵桂芳",
                matter="户口证明",
                served_on=date(2025, 11, 22),
                starts="10:00",
                ends="10:30",
                staff_id=clerk.id,
                result="办结",
            ),
            by=clerk,
        )


def test_a_clerk_records_a_service_in_the_admin_with_messages(client, db, hours_township, clerk):
    from core.testing.fixtures import page_text

    login(client, clerk)
    form = {
        "citizen_name": "赵桂芳",
        "citizen_phone": "139 0471 5678",
        "matter": "户口证明",
        "served_on": "2025-11-18",
        "starts": "10:00",
        "ends": "10:30",
        "staff_id": str(clerk.id),
        "result": "办结",
    }
    refused = client.post("/admin/extended_hours_services/new/", data=form)
    assert refused.status_code == 400
    html = refused.get_data(as_text=True)
    assert "lies within the office hours" in page_text(html, "#service-problems")
    assert page_text(html, "#matter") == "户口证明"  # what was typed is kept
    refused = client.post(
        "/admin/extended_hours_services/new/", data={**form, "served_on": "2025-02-30"}
    )
    assert "YYYY-MM-DD" in page_text(refused.get_data(as_text=True), "#service-problems")
    assert db.session.scalar(select(func.count(ExtendedHoursService.id))) == 0
    response = client.post(
        "/admin/extended_hours_services/new/", data={**form, "starts": "18:00", "ends": "18:30"}
    )
    assert response.status_code == 303
    entry = db.session.scalar(select(ExtendedHoursService))
    assert entry.citizen_phone == "13904715678" and not entry.urgent


def test_another_townships_rows_are_404_and_invisible(
    client, db, hours_township, other_township, other_clerk, clerk, create_user
):
    from core import inbox
    from core.institutions import set_enabled

    set_enabled(other_township, "extended_hours", True)
    entry = _entry(hours_township, clerk)
    login(client, other_clerk)
    for url in (
        f"/admin/extended_hours_services/details/?id={entry.id}",
        f"/admin/extended_hours_coverage/?township={hours_township.id}",
        f"/admin/extended_hours_pledges/?township={hours_township.id}",
        f"/admin/extended_hours_report/?township={hours_township.id}",
        f"/admin/extended_hours_report/xlsx?township={hours_township.id}",
        f"/admin/extended_hours_services/new/?township={hours_township.id}",
    ):
        assert client.get(url).status_code == 404, url
    assert (
        client.post(
            f"/admin/extended_hours_coverage/check?township={hours_township.id}"
        ).status_code
        == 404
    )
    assert (
        client.post(
            f"/admin/extended_hours_pledges/acknowledge?township={hours_township.id}"
        ).status_code
        == 404
    )
    assert "赵桂芳" not in client.get("/admin/extended_hours_services/").get_data(as_text=True)
    # the other township's staff list offers its own people only
    page = client.get("/admin/extended_hours_services/new/").get_data(as_text=True)
    assert clerk.name not in page and other_clerk.name in page
    other_admin = create_user("wadmin", "township_admin", other_township, name="西镇管理员")
    from plugins.extended_hours import services

    services.sync_gaps(hours_township.id)
    db.session.commit()
    assert [i for i in inbox.page(other_admin)[0] if i.source.key == services.INBOX_GAP] == []


def test_switched_off_everything_is_404_and_nothing_is_heard(
    client, db, hours_township, clerk, township_admin
):
    from core import inbox
    from core.cases import register_case
    from core.institutions import set_enabled
    from core.people import year_figures
    from plugins.extended_hours import services
    from plugins.extended_hours.tasks import coverage_sweep

    case = register_case(
        township=hours_township,
        kind="service",
        title="证明",
        applicant_name="孙志刚",
        first_responder=clerk,
        accept=True,
    )
    entry = _entry(hours_township, clerk)
    entry.case_id = case.id
    db.session.commit()
    assert "extended-hours-services" in client.get(f"/lookup?receipt={case.receipt_no}").get_data(
        as_text=True
    )
    set_enabled(hours_township, "extended_hours", False)
    login(client, township_admin)
    for url in (
        "/admin/extended_hours_services/",
        f"/admin/extended_hours_services/details/?id={entry.id}",
        "/admin/extended_hours_services/new/",
        "/admin/extended_hours_coverage/",
        "/admin/extended_hours_pledges/",
        "/admin/extended_hours_report/",
        "/t/east/extended_hours/",
    ):
        assert client.get(url).status_code == 404, url
    assert "extended-hours-services" not in client.get(
        f"/lookup?receipt={case.receipt_no}"
    ).get_data(as_text=True)
    assert "/t/east/extended_hours/" not in client.get("/t/east/").get_data(as_text=True)
    coverage_sweep.fn()
    from plugins.extended_hours.models import ExtendedHoursGap

    assert db.session.scalar(select(func.count(ExtendedHoursGap.id))) == 0
    assert [
        i for i in inbox.page(township_admin)[0] if i.source.key.startswith("extended_hours")
    ] == []
    assert year_figures(hours_township, 2025) == {}
    set_enabled(hours_township, "extended_hours", True)
    assert year_figures(hours_township, 2025)[clerk.id][0].value == 1
    coverage_sweep.fn()
    assert db.session.scalar(select(func.count(ExtendedHoursGap.id))) == 7 * 4  # nobody at all
    items = [i for i in inbox.page(township_admin)[0] if i.source.key == services.INBOX_GAP]
    assert len(items) == inbox.PAGE_SIZE  # the first page of the 28 empty days


def test_the_service_list_costs_the_same_queries_for_5_and_50_rows(
    client, db, hours_township, clerk, township_admin, query_counter
):
    login(client, township_admin)

    def queries_for(total: int) -> int:
        while db.session.scalar(select(func.count(ExtendedHoursService.id))) < total:
            _entry(hours_township, clerk)
        client.get("/admin/extended_hours_services/?page_size=50")
        with query_counter() as statements:
            response = client.get("/admin/extended_hours_services/?page_size=50")
        assert response.status_code == 200
        return len(statements)

    assert queries_for(5) == queries_for(50)
