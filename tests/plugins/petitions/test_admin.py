"""The staff pages: the zh_CN crawl over the demo, masking by role, the printed record, the
pages' forms, lists at a fixed number of queries."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from core.testing.crawl import crawl_admin
from core.testing.fixtures import page_text, page_texts
from plugins.petitions import services
from plugins.petitions.models import Petition, ReceptionSession, SessionStatus
from tests.plugins.petitions.conftest import ID_LI, login


@pytest.fixture
def demo_admin(demo_user):
    return demo_user("dongfeng-township-admin")


def test_every_petitions_admin_page_reads_in_chinese(client, db, demo_admin):
    assert db.session.scalar(select(func.count(Petition.id))) == 4  # the demo's
    assert db.session.scalar(select(func.count(ReceptionSession.id))) == 2
    login(client, demo_admin)
    findings, pages = crawl_admin(client, only="/admin/petitions_")
    assert pages >= 15
    assert findings == [], "\n".join(findings)


def test_petitioners_personal_data_are_masked_unless_the_role_may_see_them(
    client, db, make_petition, officer, clerk, create_user, township
):
    petition = make_petition()
    url = f"/admin/petitions_petitions/details/?id={petition.id}"
    login(client, officer)
    html = client.get(url).get_data(as_text=True)
    assert ID_LI in page_text(html, "#petitioners") and "13947110001" in html
    assert "东村三组12号" in html
    client.post("/logout")
    # a clerk (a department's staff) reads the petition, masked
    login(client, clerk)
    html = client.get(url).get_data(as_text=True)
    row = page_text(html, "#petitioners")
    assert ID_LI not in html and "13947110001" not in html and "东村三组12号" not in html
    assert "1501**********4520" in row and "139****0001" in row and "东村三****" in row
    assert page_text(html, "#masked-note")
    # a township grants the permission to clerks: full again
    from core.models import RoleGrant

    db.session.add(
        RoleGrant(
            township_id=township.id,
            role="clerk",
            permission="petitions.read_personal",
            granted=True,
        )
    )
    db.session.commit()
    from core import cache

    cache.bump([(None, cache.ACCESS)])
    html = client.get(url).get_data(as_text=True)
    assert ID_LI in page_text(html, "#petitioners")


def test_the_printed_session_record_holds_no_personal_data_of_petitioners(
    client, db, session, make_petition, officer, observers, leader
):
    petition = make_petition(session_id=session.id)
    services.record_attendance(session, {i.id: "present" for i in session.invitations}, by=officer)
    services.add_opinion(
        session,
        observer_id=observers[1].id,
        said="希望尽快拿出修路方案",
        suggestion="公示施工计划",
        by=officer,
    )
    login(client, leader)  # the receiving leader may read the record too
    html = client.get(f"/admin/petitions_sessions/{session.id}/record").get_data(as_text=True)
    record = page_text(html, "#session-record")
    assert petition.case.receipt_no in record and "要求硬化通村道路" in record
    assert "李镇长" in record and "吴副书记" in record
    assert "赵德明" in page_text(html, "#record-observers")
    assert "希望尽快拿出修路方案" in page_text(html, "#record-opinions")
    for personal in ("李玉山", ID_LI, "1501", "13947110001", "139****0001", "东村三组"):
        assert personal not in record


def test_pages_of_a_session_plan_invite_attend_and_close(
    client, db, petitions_township, officer, leader, deputy, observers
):
    from core import clock
    from core.models import Notification, ProducedRecord

    login(client, officer)
    today = clock.today(petitions_township)
    bad = client.post(
        "/admin/petitions_plan/",
        data={"held_on": today.isoformat(), "place": "接待室", "convener_id": deputy.id},
    )
    assert bad.status_code == 400
    assert "A session needs a receiving leader." in page_text(
        bad.get_data(as_text=True), "#petitions-problems"
    )
    not_leader = client.post(
        "/admin/petitions_plan/",
        data={
            "held_on": today.isoformat(),
            "place": "接待室",
            "leader_id": observers[0].user_id,
            "convener_id": deputy.id,
        },
    )
    assert not_leader.status_code == 400
    assert "is not a leader of this township" in not_leader.get_data(as_text=True)
    assert db.session.scalar(select(func.count(ReceptionSession.id))) == 0
    done = client.post(
        "/admin/petitions_plan/",
        data={
            "held_on": today.isoformat(),
            "starts_at": "09:00",
            "place": "镇政府信访接待室",
            "leader_id": leader.id,
            "convener_id": deputy.id,
            "published": "1",
        },
    )
    assert done.status_code == 303
    session = db.session.scalar(select(ReceptionSession))
    page = f"/admin/petitions_sessions/details/?id={session.id}"
    client.post(
        f"/admin/petitions_sessions/{session.id}/invite",
        data={"observer": [str(o.id) for o in observers]},
    )
    # the staff member got a notification; the others are on the printed list
    assert db.session.scalar(
        select(Notification.title).where(Notification.user_id == observers[0].user_id)
    ).startswith("Invitation to observe a petition reception")
    listing = client.get(f"/admin/petitions_sessions/{session.id}/invitations")
    rows = page_texts(listing.get_data(as_text=True), "#invitation-list tbody tr")
    assert len(rows) == 3 and any("13904711234" in r and "Phone call" in r for r in rows)
    # closing needs everyone's attendance
    refused = client.post(f"/admin/petitions_sessions/{session.id}/close", data={})
    assert refused.status_code == 400 and "Record whether these observers came" in (
        refused.get_data(as_text=True)
    )
    invitations = session.invitations
    client.post(
        f"/admin/petitions_sessions/{session.id}/attendance",
        data={f"attendance-{i.id}": "present" for i in invitations[:2]}
        | {f"attendance-{invitations[2].id}": "excused"},
    )
    client.post(
        f"/admin/petitions_sessions/{session.id}/opinion",
        data={"observer_id": observers[1].id, "said": "程序规范", "suggestion": "提前公告"},
    )
    absent = client.post(
        f"/admin/petitions_sessions/{session.id}/opinion",
        data={"observer_id": observers[2].id, "said": "x"},
    )
    assert absent.status_code == 400 and "present" in absent.get_data(as_text=True)
    assert (
        client.post(
            f"/admin/petitions_sessions/{session.id}/close", data={"summary": "接访1批"}
        ).status_code
        == 303
    )
    db.session.expire_all()
    assert db.session.get(ReceptionSession, session.id).status == SessionStatus.closed
    record = db.session.scalar(select(ProducedRecord).where(ProducedRecord.source == "petitions"))
    assert record.kind == "petitions_session_record" and "程序规范" in record.data["content"]
    assert "吴副书记" in client.get(page).get_data(as_text=True)


def test_registering_through_the_page_says_what_is_wrong_and_keeps_nothing(
    client, db, petitions_township, officer, village
):
    login(client, officer)
    form = {
        "township": petitions_township.id,
        "channel": "letter",
        "category": "land",
        "matter": "反映承包地被占",
        "village_id": village.id,
        "head_count": "3",
        "name-0": "李玉山",
        "id_number-0": "150102198809234521",
    }
    bad = client.post("/admin/petitions_register/", data=form)
    problems = page_text(bad.get_data(as_text=True), "#petitions-problems")
    assert bad.status_code == 400
    assert "check digit" in problems and "tick 'group petition'" in problems
    assert db.session.scalar(select(func.count(Petition.id))) == 0
    form.update({"head_count": "1", "id_number-0": ID_LI})
    good = client.post("/admin/petitions_register/", data=form)
    assert good.status_code == 303
    petition = db.session.scalar(select(Petition))
    assert good.headers["Location"].endswith(
        f"/admin/petitions_petitions/details/?id={petition.id}"
    )


def test_lists_cost_the_same_queries_for_5_or_50_rows(
    client, db, make_petition, officer, query_counter
):
    from plugins.petitions.services import PetitionerInput

    def add(n, start):
        for i in range(n):
            petition = make_petition(petitioners=[PetitionerInput(f"群众{start + i}", "", "", "")])
            services.flag_risk(
                petition.township_id,
                petition=petition,
                kind="other",
                description="情绪激动",
                measures="专人稳控",
                by=officer,
            )

    add(5, 0)
    login(client, officer)
    urls = [
        f"/admin/petitions_{name}/?page_size=50"
        for name in ("petitions", "risks", "sessions", "followups", "observers")
    ]
    counts = []
    for n in (None, 45):
        if n:
            add(n, 5)
        for url in urls:  # warm: what the pages cache (permissions, the inbox badge)
            client.get(url)
        db.session.expire_all()
        with query_counter() as statements:
            for url in urls:
                assert client.get(url).status_code == 200
        counts.append(list(statements))
    assert len(counts[0]) == len(counts[1]), "\n".join(s[:150] for s in counts[1])
