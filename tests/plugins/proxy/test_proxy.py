"""Proxy handling: a record's whole course with each step under the receipt, refusals that
write nothing, the inbox, overdue reminders once, the monthly report, isolation, the crawl."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import func, select

from core.cases import resolve_case
from core.models import CaseStatus, Notification, ProducedRecord
from core.testing.fixtures import page_text, page_texts
from plugins.proxy import services
from plugins.proxy.models import MaterialFate, ProxyDelivery, ProxyRecord, ProxyStatus
from plugins.proxy.services import ProxyError
from tests.plugins.proxy.conftest import JPEG, PNG

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(*args):
    return time_machine.travel(datetime(*args, tzinfo=SHANGHAI), tick=False)


def lookup_steps(client, receipt_no) -> list[str]:
    html = client.get(f"/lookup?receipt={receipt_no}").get_data(as_text=True)
    return page_texts(html, "#proxy-steps li")


def test_a_proxy_records_whole_course_shows_under_the_receipt(client, db, make_case, clerk, leader):
    with at(2026, 3, 2, 9):
        case = make_case()
        record = services.take_over(
            case,
            staff=clerk,
            leader=leader,
            reason="county",
            materials=services.parse_materials("宅基地申请书 原件\n户口簿复印件 2"),
        )
    assert [(m.name, m.copies, m.original) for m in record.materials] == [
        ("宅基地申请书", 1, True),
        ("户口簿复印件", 2, False),
    ]
    assert record.promised_on == case.due_on
    assert lookup_steps(client, case.receipt_no) == [
        "2026-03-02 Taken over for you (2 materials received)"
    ]
    with at(2026, 3, 3, 9):
        transfer = services.send_on(
            record, office="县自然资源局", by=clerk, expected_on=date(2026, 3, 6)
        )
        services.set_material_fate(record.materials[0], MaterialFate.passed_on, clerk)
        services.add_note(record, text="已报县自然资源局审核", by=clerk)
    with at(2026, 3, 5, 16):
        services.came_back(transfer, by=clerk, result="批准")
        services.set_material_fate(record.materials[1], "returned", clerk)
        resolve_case(case, clerk, "县自然资源局已批准")
    with at(2026, 3, 6, 10):
        services.deliver(
            record, by=clerk, what="宅基地批准书", ack_kind="signature", data=PNG, mime="image/png"
        )
    assert record.status == ProxyStatus.delivered
    assert case.status == CaseStatus.delivered  # the core's delivery, same transaction
    with at(2026, 3, 6, 15):
        services.sign_off(record, leader=leader, note="同意")
    steps = lookup_steps(client, case.receipt_no)
    assert steps == [
        "2026-03-02 Taken over for you (2 materials received)",
        "2026-03-03 Sent to 县自然资源局",
        "2026-03-03 宅基地申请书: Passed on to the office that decides",
        "2026-03-03 Progress note：已报县自然资源局审核",
        "2026-03-05 Back from 县自然资源局",
        "2026-03-05 户口簿复印件: Returned to the citizen",
        "2026-03-06 Delivered to your home",
        "2026-03-06 Signed off by the supervising leader",
    ]
    produced = db.session.scalar(select(ProducedRecord).where(ProducedRecord.source == "proxy"))
    assert produced.reference == f"proxy-record:{record.id}"


@pytest.mark.parametrize(
    ("data", "mime", "message"),
    [
        (None, "image/png", "Attach the citizen's acknowledgement"),
        (b"GIF89a....", "image/gif", "must be a JPEG or PNG"),
        (PNG, "image/jpeg", "must be a JPEG or PNG"),  # declared type and content disagree
        (JPEG + b"\x00" * (2 * 1024 * 1024), "image/jpeg", "larger than 2 MB"),
    ],
)
def test_a_bad_acknowledgement_is_refused_and_nothing_is_written(
    db, record, clerk, data, mime, message
):
    for m in record.materials:
        services.set_material_fate(m, "returned", clerk)
    with pytest.raises(ProxyError, match=message):
        services.deliver(record, by=clerk, what="批准书", ack_kind="photo", data=data, mime=mime)
    db.session.expire_all()
    assert db.session.get(ProxyRecord, record.id).status == ProxyStatus.open
    assert db.session.scalar(select(func.count(ProxyDelivery.id))) == 0


def test_delivery_waits_for_every_material_and_office_step(db, record, clerk, leader):
    with pytest.raises(ProxyError, match="returned or passed on: 宅基地申请书、户口簿复印件"):
        services.deliver(record, by=clerk, what="x", ack_kind="photo", data=JPEG, mime="image/jpeg")
    for m in record.materials:
        services.set_material_fate(m, "passed_on", clerk)
    services.send_on(
        record, office="县民政局", by=clerk, expected_on=date.today() + timedelta(days=3)
    )
    with pytest.raises(ProxyError, match="still at another office"):
        services.deliver(record, by=clerk, what="x", ack_kind="photo", data=JPEG, mime="image/jpeg")
    with pytest.raises(ProxyError, match="Only a delivered proxy record"):
        services.sign_off(record, leader=leader)
    with pytest.raises(ProxyError, match="leader"):
        services.sign_off(record, leader=clerk)


def test_taking_over_refuses_bad_input(db, make_case, clerk, leader):
    case = make_case()
    with pytest.raises(ProxyError, match="at least one material"):
        services.take_over(case, staff=clerk, leader=leader, reason="county", materials=[])
    with pytest.raises(ProxyError, match="supervising leader"):
        services.take_over(
            case, staff=clerk, leader=clerk, reason="county", materials=[("a", 1, False)]
        )
    with pytest.raises(ProxyError, match="longer than 200"):
        services.take_over(
            case, staff=clerk, leader=leader, reason="county", materials=[("长" * 201, 1, False)]
        )
    with pytest.raises(ProxyError, match="in the future"):
        services.take_over(
            case,
            staff=clerk,
            leader=leader,
            reason="county",
            materials=[("a", 1, False)],
            taken_on=date.today() + timedelta(days=5),
        )
    assert db.session.scalar(select(func.count(ProxyRecord.id))) == 0


def test_staff_find_proxy_records_in_their_inbox_and_leaders_the_sign_off(
    db, record, clerk, leader
):
    from core import inbox

    items, _total = inbox.page(clerk)
    assert [
        (i.source.key, i.object_id, i.due_on) for i in items if i.source.key.startswith("proxy")
    ] == [("proxy.in_hand", record.id, record.promised_on)]
    assert (
        db.session.scalar(
            select(func.count(Notification.id)).where(
                Notification.user_id == clerk.id, Notification.key.like("inbox:proxy.in_hand:%")
            )
        )
        == 1
    )
    for m in record.materials:
        services.set_material_fate(m, "returned", clerk)
    services.deliver(
        record, by=clerk, what="批准书", ack_kind="photo", data=JPEG, mime="image/jpeg"
    )
    assert not [i for i in inbox.page(clerk)[0] if i.source.key.startswith("proxy")]
    assert [i.source.key for i in inbox.page(leader)[0] if i.source.key.startswith("proxy")] == [
        "proxy.sign_off"
    ]


def test_an_overdue_step_reminds_once(app, db, record, clerk, leader, stub_worker):
    from plugins.proxy.tasks import overdue_sweep

    with at(2026, 3, 2, 9):
        pass
    transfer = services.send_on(
        record, office="县民政局", by=clerk, expected_on=date.today() + timedelta(days=1)
    )
    overdue_sweep.fn()
    stub_worker.join()
    assert (
        db.session.scalar(
            select(func.count(Notification.id)).where(Notification.key.like("proxy.remind:%"))
        )
        == 0
    )
    with time_machine.travel(datetime.now(SHANGHAI) + timedelta(days=3), tick=False):
        overdue_sweep.fn()
        overdue_sweep.fn()
        stub_worker.join()
        overdue_sweep.fn()
        stub_worker.join()
    keys = sorted(
        db.session.scalars(select(Notification.key).where(Notification.key.like("proxy.remind:%")))
    )
    assert keys == [f"proxy.remind:transfer:{transfer.id}:{clerk.id}"]


def test_the_monthly_report_per_staff_member(
    db, make_case, clerk, leader, create_user, proxy_township
):
    other = create_user("clerk2", "clerk", proxy_township, name="李办事")

    def course(staff, taken, delivered, promised):
        with at(*taken):
            record = services.take_over(
                make_case(responder=staff),
                staff=staff,
                leader=leader,
                reason="staff_away",
                materials=[("申请书", 1, False)],
                promised_on=date(*promised),
            )
            services.set_material_fate(record.materials[0], "returned", staff)
        if delivered:
            with at(*delivered):
                services.deliver(
                    record, by=staff, what="证明", ack_kind="photo", data=JPEG, mime="image/jpeg"
                )
        return record

    course(clerk, (2026, 4, 1, 9), (2026, 4, 3, 9), (2026, 4, 3))  # on time
    course(clerk, (2026, 4, 1, 9), (2026, 4, 9, 9), (2026, 4, 3))  # late
    course(other, (2026, 4, 2, 9), None, (2026, 4, 6))  # still in hand, past the day
    course(other, (2026, 3, 30, 9), (2026, 4, 1, 9), (2026, 4, 2))  # taken in March
    with at(2026, 4, 20, 9):
        rows = services.staff_month_report(proxy_township.id, 2026, 4)
    got = {r.name: (r.taken, r.delivered, r.on_time, r.late, r.open_overdue) for r in rows}
    assert got == {"王办事": (2, 2, 1, 1, 0), "李办事": (1, 1, 1, 0, 1)}


def test_the_admin_course_and_the_material_receipt(client, staff, db, record, clerk, leader):
    staff.login(clerk)
    html = client.get(f"/admin/proxy_records/details/?id={record.id}").get_data(as_text=True)
    assert "宅基地申请书" in page_text(html, "#materials")
    receipt = client.get(f"/admin/proxy_records/{record.id}/receipt").get_data(as_text=True)
    assert page_texts(receipt, "#receipt-materials tbody td")[:4] == [
        "1",
        "宅基地申请书",
        "1",
        "Yes",
    ]
    response = client.post(
        f"/admin/proxy_records/{record.id}/send",
        data={"office": "县局", "expected_on": "2000-13-01"},
    )
    assert response.status_code == 400
    assert "YYYY-MM-DD" in page_text(response.get_data(as_text=True), "#proxy-error")
    for m in record.materials:
        assert (
            client.post(
                f"/admin/proxy_records/{record.id}/material/{m.id}", data={"fate": "returned"}
            ).status_code
            == 303
        )
    from io import BytesIO

    response = client.post(
        f"/admin/proxy_records/{record.id}/deliver",
        data={
            "what": "批准书",
            "ack_kind": "photo",
            "ack": (BytesIO(JPEG), "ack.jpg", "image/jpeg"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 303
    ack = client.get(f"/admin/proxy_records/{record.id}/ack")
    assert ack.data == JPEG and ack.mimetype == "image/jpeg"
    staff.logout()
    staff.login(leader)
    assert client.post(f"/admin/proxy_records/{record.id}/sign-off", data={}).status_code == 303
    db.session.expire_all()
    assert db.session.get(ProxyRecord, record.id).status == ProxyStatus.signed_off


def test_another_townships_records_are_404_and_disabled_proxy_adds_nothing(
    client, staff, db, record, other_township, other_clerk, township, clerk
):
    from core.institutions import set_enabled
    from core.receipts import find, sections

    set_enabled(other_township, "proxy", True)
    staff.login(other_clerk)
    assert client.get(f"/admin/proxy_records/details/?id={record.id}").status_code == 404
    assert client.get(f"/admin/proxy_records/{record.id}/receipt").status_code == 404
    response = client.get(f"/admin/proxy_take/?receipt={record.case.receipt_no}")
    assert response.status_code == 400
    assert "No case of this township" in page_text(response.get_data(as_text=True), "#take-error")
    staff.logout()
    set_enabled(township, "proxy", False)
    assert sections(find(record.case.receipt_no)) == []
    staff.login(clerk)
    for url in (
        "/admin/proxy_records/",
        f"/admin/proxy_records/details/?id={record.id}",
        "/admin/proxy_report/",
    ):
        assert client.get(url).status_code == 404, url
    from core import inbox

    assert not [i for i in inbox.page(clerk)[0] if i.source.key.startswith("proxy")]


def test_every_proxy_admin_page_reads_in_chinese_with_demo_data(app, client, db):
    from core.auth import hash_password
    from core.demo import load_demo
    from core.models import User
    from core.testing.crawl import crawl_admin
    from core.testing.fixtures import PASSWORD

    load_demo()
    user = db.session.scalar(select(User).where(User.username == "county"))
    user.password_hash = hash_password(PASSWORD)
    db.session.commit()
    assert db.session.scalar(select(func.count(ProxyRecord.id))) == 1
    client.post("/login", data={"username": "county", "password": PASSWORD})
    findings = []
    for start in ("/admin/proxy_records/", "/admin/proxy_take/", "/admin/proxy_report/"):
        found, _pages = crawl_admin(client, start=(start,), only="/admin/proxy_")
        findings += found
    record = db.session.scalar(select(ProxyRecord))
    for url in (
        f"/admin/proxy_records/details/?id={record.id}",
        f"/admin/proxy_records/{record.id}/receipt",
        f"/admin/proxy_take/?receipt={record.case.receipt_no}",
    ):
        found, _pages = crawl_admin(client, start=(url,), only="/admin/proxy_")
        findings += found
    assert findings == [], "\n".join(findings)
