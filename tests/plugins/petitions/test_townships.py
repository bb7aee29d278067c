"""The leader reception day, the public pages, tenant isolation and enable/disable."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from core import inbox
from core.institutions import set_enabled
from core.models import Case, DutyPost
from core.testing.fixtures import page_text, page_texts
from plugins.petitions import services
from plugins.petitions.models import FollowUp, Petition, RegisteredVia
from plugins.petitions.services import PetitionError
from tests.plugins.petitions.conftest import at, login


@pytest.fixture
def reception_mondays(db, petitions_township, leader):
    """The leader receives petitioners on Mondays (the leader reception day)."""
    from core import duty

    duty.add_to_pattern(
        petitions_township,
        DutyPost.reception_leader,
        leader,
        [(0, False)],
        valid_from=date(2026, 1, 1),
    )


def test_the_leader_on_reception_duty_registers_a_petition_on_that_day(
    client, db, petitions_township, reception_mondays, leader, deputy, village, station
):
    form = {
        "township": petitions_township.id,
        "channel": "visit",
        "category": "labour",
        "matter": "反映工程款拖欠农民工工资",
        "village_id": village.id,
        "head_count": "1",
        "name-0": "王大力",
        "phone-0": "13947110009",
    }
    with at(2026, 3, 3, 10, 0):  # a Tuesday: not the leader's reception day
        assert not services.reception_leader_today(leader, petitions_township.id)
        with pytest.raises(PetitionError, match="leader on reception duty today"):
            services.register_petition(
                petitions_township,
                services.PetitionInput(
                    channel="visit",
                    category="labour",
                    matter="x",
                    petitioners=[services.PetitionerInput("王大力")],
                ),
                by=leader,
            )
        login(client, leader)
        refused = client.post("/admin/petitions_register/", data=form)
        assert refused.status_code == 403
        assert page_text(refused.get_data(as_text=True), "#not-on-duty")
        client.post("/logout")
        # another leader, not on duty, may not either on Monday
    with at(2026, 3, 9, 10, 0):  # a Monday
        login(client, deputy)
        assert client.post("/admin/petitions_register/", data=form).status_code == 403
        client.post("/logout")
        login(client, leader)
        page = client.get("/admin/petitions_register/")
        assert page.status_code == 200 and page_text(page.get_data(as_text=True), "#reception-day")
        stale = client.post("/admin/petitions_register/", data=form | {"received_on": "2026-03-06"})
        assert stale.status_code == 400
        assert "received today" in page_text(stale.get_data(as_text=True), "#petitions-problems")
        done = client.post("/admin/petitions_register/", data=form)
        assert done.status_code == 303
        petition = db.session.scalar(select(Petition))
        assert petition.registered_via == RegisteredVia.reception_day
        assert petition.received_on == date(2026, 3, 9)
        assert petition.case.first_responder_id == leader.id
        # the leader hands it to the department and follows it up (不推、不拖)
        services.decide_acceptance(petition, accept=True, by=leader)
        services.hand_over(petition, department=station, by=leader, due_on=date(2026, 3, 20))
        mine = [i for i in inbox.page(leader)[0] if i.source.key == "petitions.follow_up"]
        assert [(i.object_id, i.due_on) for i in mine] == [(petition.id, date(2026, 3, 20))]


def test_the_public_schedule_and_the_online_form_with_its_receipt(
    client, db, petitions_township, reception_mondays, officer, make_session, village
):
    with at(2026, 3, 4, 10, 0):  # a Wednesday
        make_session(held_on=date(2026, 3, 12))
        html = client.get("/t/east/petitions/").get_data(as_text=True)
        rows = page_texts(html, "#schedule tbody tr")
        assert rows[0].startswith("2026-03-09") and "李镇长" in rows[0]  # reception day
        assert "2026-03-12" in rows[1] and "镇政府信访接待室" in rows[1]  # the open session
        # the township's page carries a panel with the next reception
        panel = client.get("/t/east/").get_data(as_text=True)
        assert "Next: 2026-03-09" in panel and "/t/east/petitions/" in panel
        bad = client.post(
            "/t/east/petitions/online",
            data={"name": "刘三", "phone": "12345", "category": "land", "matter": "占地"},
        )
        assert bad.status_code == 400 and "not a valid phone" in bad.get_data(as_text=True)
        assert db.session.scalar(select(func.count(Case.id))) == 0
        sent = client.post(
            "/t/east/petitions/online",
            data={
                "name": "刘三",
                "phone": "13947110011",
                "category": "land",
                "matter": "承包地被他人占用",
                "village_id": str(village.id),
            },
        )
        assert sent.status_code == 201
        receipt = page_text(sent.get_data(as_text=True), "#receipt-no")
    petition = db.session.scalar(select(Petition))
    assert petition.case.receipt_no == receipt
    assert petition.registered_via == RegisteredVia.public_site
    assert petition.case.first_responder_id == officer.id
    # the citizen looks it up: status and the acceptance deadline, nothing personal
    found = client.get(f"/lookup?receipt={receipt}").get_data(as_text=True)
    assert receipt in found and "2026-03-19" in found
    assert "刘三" not in found and "13947110011" not in found
    # the officer finds it in the inbox, due by the acceptance deadline
    item = [i for i in inbox.page(officer)[0] if i.source.key == "petitions.accept_decision"]
    assert [(i.object_id, i.due_on) for i in item] == [(petition.id, date(2026, 3, 19))]


def test_online_petitions_are_rate_limited(app, db, petitions_township, officer):
    from core.testing.fixtures import built_app

    data = {"name": "刘三", "phone": "13947110011", "category": "land", "matter": "占地"}
    with built_app(app, RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="memory://") as other:
        client = other.test_client()
        answers = [client.post("/t/east/petitions/online", data=data).status_code for _ in range(6)]
        assert client.get("/t/east/petitions/online").status_code == 200
    assert answers == [201] * 5 + [429]
    assert db.session.scalar(select(func.count(Petition.id))) == 5


def test_another_township_sees_nothing_of_ours(
    client, db, make_petition, session, other_township, create_user, officer
):
    set_enabled(other_township, "petitions", True)
    west = create_user("west-officer", "petitions_officer", other_township, name="西镇信访")
    petition = make_petition(session_id=session.id)
    flag = services.flag_risk(
        petition.township_id,
        petition=petition,
        kind="over_the_head",
        description="扬言去县里",
        measures="包联干部稳控",
        by=officer,
    )
    login(client, west)
    for url in (
        f"/admin/petitions_petitions/details/?id={petition.id}",
        f"/admin/petitions_sessions/details/?id={session.id}",
        f"/admin/petitions_sessions/{session.id}/record",
        f"/admin/petitions_risks/details/?id={flag.id}",
    ):
        assert client.get(url).status_code == 404, url
    for url in (
        f"/admin/petitions_petitions/{petition.id}/acceptance",
        f"/admin/petitions_sessions/{session.id}/close",
        f"/admin/petitions_risks/{flag.id}/close",
    ):
        assert client.post(url, data={"decision": "accept", "note": "x"}).status_code == 404
    listing = client.get("/admin/petitions_petitions/").get_data(as_text=True)
    assert petition.case.receipt_no not in listing
    assert (
        client.get(f"/admin/petitions_register/?township={petition.township_id}").status_code == 404
    )
    # the services refuse too
    with pytest.raises(PetitionError, match="may not"):
        services.decide_acceptance(petition, accept=True, by=west)
    with pytest.raises(PetitionError, match="not one of this township"):
        services.register_petition(
            other_township,
            services.PetitionInput(
                channel="visit",
                category="land",
                matter="x",
                session_id=session.id,
                petitioners=[services.PetitionerInput("某人")],
            ),
            by=west,
        )
    # repeat petitioners are recognised within the township only
    assert services.find_repeat(other_township.id, petition.petitioners[0].id_number, None) == []
    db.session.refresh(petition)
    assert petition.acceptance.value == "pending"


def test_disabled_petitions_answer_404_and_hear_no_events(
    client, db, make_petition, officer, station, leader, petitions_township
):
    from admin.dashboard import plugin_figures as dashboard_figures
    from core.cases import close_case

    petition = make_petition()
    services.decide_acceptance(petition, accept=True, by=officer)
    services.hand_over(petition, department=station, by=officer)
    set_enabled(petitions_township, "petitions", False)
    assert client.get("/t/east/petitions/").status_code == 404
    assert client.get("/t/east/petitions/online").status_code == 404
    login(client, officer)
    for url in (
        "/admin/petitions_petitions/",
        f"/admin/petitions_petitions/details/?id={petition.id}",
        "/admin/petitions_sessions/",
        "/admin/petitions_register/",
        "/admin/petitions_plan/",
        "/admin/petitions_risks/",
        "/admin/petitions_observers/",
    ):
        assert client.get(url).status_code == 404, url
    assert not [i for i in inbox.page(officer)[0] if i.source.key.startswith("petitions")]
    labels = [f.label for f in dashboard_figures(petitions_township)]
    assert not [label for label in labels if "信访" in label or "Petition" in label]
    # the case closed through the core while disabled: the hook is not delivered
    from core.cases import resolve_case

    resolved = petition.case
    resolve_case(resolved, officer, "由县信访局统一处理")
    close_case(resolved, officer)
    open_follow_ups = db.session.scalar(
        select(func.count(FollowUp.id)).where(FollowUp.done_on.is_(None))
    )
    assert open_follow_ups == 1
    # enabled again: everything is back, and a close is heard
    set_enabled(petitions_township, "petitions", True)
    assert client.get(f"/admin/petitions_petitions/details/?id={petition.id}").status_code == 200
    other = make_petition(petitioners=[services.PetitionerInput("赵春花")])
    services.decide_acceptance(other, accept=True, by=officer)
    services.hand_over(other, department=station, by=officer)
    resolve_case(other.case, officer, "已答复")
    close_case(other.case, officer)
    assert (
        db.session.scalar(select(FollowUp.done_on).where(FollowUp.petition_id == other.id))
        is not None
    )


def test_the_receiving_leader_registers_at_their_session(
    client, db, session, leader, deputy, village
):
    form = {
        "township": session.township_id,
        "session_id": session.id,
        "channel": "visit",
        "category": "dispute",
        "matter": "邻里宅基地界址纠纷",
        "village_id": village.id,
        "head_count": "1",
        "name-0": "孙大勇",
    }
    login(client, deputy)  # a leader, neither on reception duty nor receiving today
    assert client.get("/admin/petitions_register/").status_code == 403
    client.post("/logout")
    login(client, leader)
    page = client.get(f"/admin/petitions_register/?session={session.id}")
    assert page.status_code == 200
    assert client.post("/admin/petitions_register/", data=form).status_code == 303
    petition = db.session.scalar(select(Petition))
    assert (petition.registered_via, petition.session_id) == (RegisteredVia.session, session.id)


def test_the_dashboard_counts_petitions_risks_and_sessions(
    client, db, session, make_petition, officer
):
    from admin.dashboard import plugin_figures

    services.record_attendance(
        session, {i.id: "present" for i in session.invitations[:2]}, by=officer
    )
    make_petition(session_id=session.id)
    make_petition(
        is_group=True,
        head_count=8,
        petitioners=[services.PetitionerInput("高志刚"), services.PetitionerInput("马秀英")],
    )
    login(client, officer)
    with client.application.test_request_context():
        figures = {f.label: f.value for f in plugin_figures(session.township)}
    assert figures["Petitions open (due within a week: 0, overdue: 0)"] == 2
    assert figures["Open petition risk flags"] == 1  # the group petition
    assert figures["Reception sessions this month (observers present: 2)"] == 1
    html = client.get("/admin/").get_data(as_text=True)
    assert "Open petition risk flags" in html
