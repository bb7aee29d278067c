"""Leader appointments in the staff site and on the public site: filling in a card,
masking, another township's cards, switching the institution off and on, the public
request, lists in a fixed number of queries, and the zh_CN crawl over the demo."""

from __future__ import annotations

from sqlalchemy import func, select

from core import inbox, presence
from core.models import Case, Notification, RoleGrant
from core.testing.fixtures import PASSWORD, page_text, page_texts
from plugins.appointments import services
from plugins.appointments.models import AppointmentCard, CardChannel, CardStatus
from tests.plugins.appointments.conftest import login


def test_a_clerk_fills_in_a_card_in_the_admin(client, db, appointments_township, clerk, leader):
    login(client, clerk)
    page = client.get("/admin/appointments_new/").get_data(as_text=True)
    assert page_texts(page, "#leader_id option")[1:] == ["李镇长"]
    form = {
        "leader_id": str(leader.id),
        "citizen_name": "刘桂兰",
        "phone": "139 0471 1234",
        "address": "东村三组18号",
        "matter": "申请危房改造补助",
        "channel": "visit",
    }
    refused = client.post("/admin/appointments_new/", data={**form, "leader_id": str(clerk.id)})
    assert refused.status_code == 400
    assert "王办事 is not a leader of this township" in page_text(
        refused.get_data(as_text=True), "#card-problems"
    )
    refused = client.post("/admin/appointments_new/", data={**form, "taken_on": "2026-02-30"})
    assert refused.status_code == 400
    assert "YYYY-MM-DD" in page_text(refused.get_data(as_text=True), "#card-problems")
    assert page_text(refused.get_data(as_text=True), "#matter") == "申请危房改造补助"  # kept
    assert db.session.scalar(select(func.count(Case.id))) == 0
    response = client.post("/admin/appointments_new/", data=form)
    assert response.status_code == 303
    card = db.session.scalar(select(AppointmentCard))
    assert card.phone == "13904711234" and card.channel == CardChannel.visit
    assert card.status == CardStatus.queued  # the leader is present
    assert response.headers["Location"].endswith(f"/admin/appointments_cards/details/?id={card.id}")


def test_phone_and_address_are_masked_unless_the_role_needs_them(
    client, db, appointments_township, clerk, leader, away_card
):
    card = away_card
    login(client, clerk)
    details = client.get(f"/admin/appointments_cards/details/?id={card.id}").get_data(as_text=True)
    assert page_text(details, "#card-phone") == "139****1234"
    assert page_text(details, "#card-address").startswith("东村三**")
    assert "13904711234" not in details and "东村三组18号" not in details
    printed = client.get(f"/admin/appointments_cards/{card.id}/print").get_data(as_text=True)
    assert "13904711234" not in printed and "139****1234" in printed
    client.post("/logout")
    login(client, leader)
    details = client.get(f"/admin/appointments_cards/details/?id={card.id}").get_data(as_text=True)
    assert page_text(details, "#card-phone") == "13904711234"
    assert page_text(details, "#card-address") == "东村三组18号"
    client.post("/logout")
    # the township grants it to its clerks
    db.session.add(
        RoleGrant(
            township_id=appointments_township.id,
            role="clerk",
            permission="appointments.read_personal",
            granted=True,
        )
    )
    db.session.commit()
    login(client, clerk)
    details = client.get(f"/admin/appointments_cards/details/?id={card.id}").get_data(as_text=True)
    assert page_text(details, "#card-phone") == "13904711234"


def test_another_townships_cards_are_404_and_invisible(
    client, db, appointments_township, other_township, other_clerk, create_user, away_card
):
    from core.institutions import set_enabled

    set_enabled(other_township, "appointments", True)
    other_leader = create_user("wleader", "leader", other_township, name="西镇镇长")
    login(client, other_clerk)
    card = away_card
    for url in (
        f"/admin/appointments_cards/details/?id={card.id}",
        f"/admin/appointments_cards/{card.id}/print",
    ):
        assert client.get(url).status_code == 404, url
    response = client.post(
        f"/admin/appointments_cards/{card.id}/visit",
        data={"findings": "f", "outcome": "resolved", "result": "r"},
    )
    assert response.status_code == 404
    listing = client.get("/admin/appointments_cards/").get_data(as_text=True)
    assert card.case.receipt_no not in listing
    # the other township's form offers its own leaders only, and refuses a choice of ours
    page = client.get("/admin/appointments_new/").get_data(as_text=True)
    assert page_texts(page, "#leader_id option")[1:] == ["西镇镇长"]
    assert client.get(f"/admin/appointments_new/?township={card.township_id}").status_code == 404
    response = client.post(
        "/admin/appointments_new/",
        data={
            "leader_id": str(card.leader_id),
            "citizen_name": "张三",
            "phone": "13904711234",
            "address": "西村",
            "matter": "问事",
            "channel": "visit",
        },
    )
    assert response.status_code == 400
    assert "李镇长 is not a leader of this township" in page_text(
        response.get_data(as_text=True), "#card-problems"
    )
    assert [i for i in inbox.page(other_leader)[0] if i.source.key.startswith("appointments")] == []


def test_switched_off_everything_is_404_and_the_return_is_not_heard(
    client, db, appointments_township, clerk, leader, away_card
):
    from core.institutions import set_enabled
    from core.receipts import find
    from plugins.appointments.tasks import overdue_sweep

    card = away_card
    receipt_no = card.case.receipt_no
    set_enabled(appointments_township, "appointments", False)
    login(client, clerk)
    for url in (
        "/admin/appointments_cards/",
        f"/admin/appointments_cards/details/?id={card.id}",
        f"/admin/appointments_cards/{card.id}/print",
        "/admin/appointments_new/",
        "/t/east/appointments/",
    ):
        assert client.get(url).status_code == 404, url
    assert find(receipt_no) is None
    assert client.get(f"/lookup?receipt={receipt_no}").status_code == 404
    # the leader comes back while the institution is off: the card keeps waiting
    presence.mark_back(presence.current_absence(leader), by=leader)
    db.session.expire_all()
    assert db.session.get(AppointmentCard, card.id).status == CardStatus.waiting_return
    assert (
        db.session.scalar(
            select(func.count(Notification.id)).where(Notification.key.like("appointments.%"))
        )
        == 0
    )
    overdue_sweep.fn()  # the sweep skips townships that switched it off
    assert db.session.get(AppointmentCard, card.id).status == CardStatus.waiting_return
    # switched on again: the card goes into the queue, with one notification (the daily
    # sweep would do the same, once)
    set_enabled(appointments_township, "appointments", True)
    db.session.expire_all()
    assert db.session.get(AppointmentCard, card.id).status == CardStatus.queued
    overdue_sweep.fn()
    overdue_sweep.fn()
    db.session.expire_all()
    assert db.session.get(AppointmentCard, card.id).status == CardStatus.queued
    assert [
        i.object_id for i in inbox.page(leader)[0] if i.source.key == services.INBOX_TO_VISIT
    ] == [card.id]
    assert (
        db.session.scalar(
            select(func.count(Notification.id)).where(
                Notification.key.like("appointments.returned:%")
            )
        )
        == 1
    )
    assert client.get(f"/lookup?receipt={receipt_no}").status_code == 200


def test_a_citizen_asks_for_an_appointment_online(
    client, db, appointments_township, clerk, leader, away
):
    away(leader)
    page = client.get("/t/east/appointments/").get_data(as_text=True)
    assert page_texts(page, "#leader_id option")[1:] == ["李镇长 （away now）"]
    form = {
        "leader_id": str(leader.id),
        "citizen_name": "赵大妈",
        "phone": "12345",
        "address": "东村二组",
        "matter": "低保复核",
    }
    response = client.post("/t/east/appointments/", data=form)
    assert response.status_code == 400
    assert "12345 is not a valid phone number" in page_text(
        response.get_data(as_text=True), "#problems"
    )
    response = client.post("/t/east/appointments/", data={**form, "leader_id": str(clerk.id)})
    assert response.status_code == 400
    assert db.session.scalar(select(func.count(AppointmentCard.id))) == 0
    response = client.post("/t/east/appointments/", data={**form, "phone": "13904719876"})
    assert response.status_code == 201
    html = response.get_data(as_text=True)
    card = db.session.scalar(select(AppointmentCard))
    assert page_text(html, "#receipt-no") == card.case.receipt_no
    assert card.channel == CardChannel.online and card.taken_by_id is None
    assert card.case.first_responder_id == leader.id
    assert card.status == CardStatus.waiting_return
    lookup = client.get(f"/lookup?receipt={card.case.receipt_no}").get_data(as_text=True)
    assert "waits for the leader's return" in page_text(lookup, "#appointments-status")
    assert "13904719876" not in lookup and "东村二组" not in lookup
    township_page = client.get("/t/east/").get_data(as_text=True)
    assert "/t/east/appointments/" in township_page


def test_online_requests_are_rate_limited(app, db, appointments_township, leader):
    from core.testing.fixtures import built_app

    with built_app(app, RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="memory://") as other:
        client = other.test_client()
        answers = [
            client.post(
                "/t/east/appointments/",
                data={
                    "leader_id": str(leader.id),
                    "citizen_name": f"群众{i}",
                    "phone": "13904719876",
                    "address": "东村",
                    "matter": "问事",
                },
            ).status_code
            for i in range(6)
        ]
    assert answers == [201] * 5 + [429]
    assert db.session.scalar(select(func.count(AppointmentCard.id))) == 5


def test_the_card_list_costs_the_same_queries_for_5_and_50_cards(
    client, db, appointments_township, clerk, leader, card_input, query_counter
):
    login(client, leader)

    def queries_for(total: int) -> int:
        while db.session.scalar(select(func.count(AppointmentCard.id))) < total:
            services.take_card(appointments_township, card_input(leader), taken_by=clerk)
        client.get("/admin/appointments_cards/?page_size=50")  # warm caches
        with query_counter() as statements:
            response = client.get("/admin/appointments_cards/?page_size=50")
        assert response.status_code == 200
        assert len(page_texts(response.get_data(as_text=True), "td.col-citizen_name")) == total
        return len(statements)

    assert queries_for(5) == queries_for(50)
    with query_counter() as statements:
        items, total = inbox.page(leader)
    assert total == 50 and len(items) == 20 and len(statements) <= 3


def test_every_appointments_admin_page_reads_in_chinese_with_demo_data(app, client, db):
    from core.auth import hash_password
    from core.demo import load_demo
    from core.models import User
    from core.testing.crawl import crawl_admin

    load_demo()
    admin = db.session.scalar(select(User).where(User.username == "dongfeng-township-admin"))
    admin.password_hash = hash_password(PASSWORD)
    db.session.commit()
    cards = list(db.session.scalars(select(AppointmentCard).order_by(AppointmentCard.id)))
    assert [c.status for c in cards] == [CardStatus.closed, CardStatus.waiting_return]
    assert cards[0].visits and cards[0].case.status.value == "closed"
    login(client, admin)
    findings, pages = crawl_admin(client, only="/admin/appointments_")
    for card in cards:
        for url in (
            f"/admin/appointments_cards/details/?id={card.id}",
            f"/admin/appointments_cards/{card.id}/print",
        ):
            found, more = crawl_admin(client, start=(url,), only="/admin/appointments_")
            findings += found
            pages += more
    assert pages >= 6
    assert findings == [], "\n".join(findings)
    # loading the demo again adds nothing
    load_demo()
    assert db.session.scalar(select(func.count(AppointmentCard.id))) == 2


def test_each_leaders_dashboard_figure_opens_that_leaders_cards(
    client, db, appointments_township, clerk, leader, create_user, card_input, township_admin
):
    from plugins.appointments.hooks import dashboard_figures

    deputy = create_user("deputy", "leader", appointments_township, name="周副镇长")
    for who, name in ((leader, "甲"), (leader, "乙"), (deputy, "丙")):
        services.take_card(
            appointments_township, card_input(who, citizen_name=name), taken_by=clerk
        )
    login(client, township_admin)
    dashboard = client.get("/admin/").get_data(as_text=True)
    assert "Appointments for 李镇长: to visit 2, waiting for the return 0" in dashboard
    with client.application.test_request_context():
        links = {f.label: f.link for f in dashboard_figures(appointments_township)}
    listed = {}
    for label, url in links.items():
        if label.startswith("Appointments for"):
            html = client.get(url).get_data(as_text=True)
            listed[label.split(":")[0]] = sorted(page_texts(html, "td.col-citizen_name"))
    assert listed == {
        "Appointments for 周副镇长": ["丙"],
        "Appointments for 李镇长": sorted(["甲", "乙"]),
    }


def test_the_visit_deadline_policy_says_the_rule_book_only_asks_for_promptly(
    client, db, appointments_township, township_admin
):
    login(client, township_admin)
    client.post("/lang/zh_CN")
    html = client.get(f"/admin/admin_policies/?township={appointments_township.id}").get_data(
        as_text=True
    )
    assert "领导返回后上门走访期限（工作日）" in html
    assert "制度原文为领导返回后“及时”上门走访，未规定天数" in html
