"""The hearings institution's staff pages: calling a hearing through the admin with its
checks, township isolation, enabling and disabling, lists with a fixed number of queries,
and the zh_CN crawl over the demo county."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from core import inbox
from core.institutions import set_enabled
from core.testing.crawl import crawl_admin
from core.testing.fixtures import page_text
from plugins.hearings import services
from plugins.hearings.models import Hearing, HearingQuestion, HearingStatus, QuestionStatus

from .conftest import at, hearing_input, login

FORM = {
    "kind": "inquiry",
    "topic": "低保评审公开质询会",
    "background": "群众反映低保评审不够公开。",
    "decided_by": "镇党委",
    "decided_on": "2026-03-01",
    "held_on": "2026-03-12",
    "start_time": "14:30",
    "place": "便民服务中心",
    "public_seats": "30",
}


def test_the_secretary_calls_announces_and_runs_a_hearing_in_the_admin(
    client, db, hearings_township, secretary, retired, clerk
):
    with at(2026, 3, 2, 9):
        login(client, secretary)
        bad = client.post("/admin/hearings_hearings/new/", data={**FORM, "held_on": "2026-02-20"})
        assert bad.status_code == 400
        assert "cannot come before the decision" in page_text(
            bad.get_data(as_text=True), "#problems"
        )
        junk = client.post("/admin/hearings_hearings/new/", data={**FORM, "public_seats": "many"})
        assert junk.status_code == 400
        assert db.session.scalar(select(func.count(Hearing.id))) == 0
        made = client.post("/admin/hearings_hearings/new/", data=FORM)
        assert made.status_code == 303
        hearing = db.session.scalar(select(Hearing))
        assert hearing.status == HearingStatus.draft and hearing.public_seats == 30
        url = f"/admin/hearings_hearings/details/?id={hearing.id}"
        assert client.post(url, data={"step": "announce"}).status_code == 303
        client.post(
            url, data={"step": "invite", "category": "retired_cadre", "who": f"person:{retired.id}"}
        )
        refused = client.post(url, data={"step": "invite", "category": "", "who": ""})
        assert refused.status_code == 400
        page = client.get(url).get_data(as_text=True)
        assert page_text(page, "#hearing-status") == "Announced"
        assert "王桂兰" in page_text(page, "#participants")
        # the edit form keeps an announced hearing out of the past
        moved = client.post(
            f"/admin/hearings_hearings/edit/?id={hearing.id}",
            data={**FORM, "held_on": "2026-03-01"},
        )
        assert moved.status_code == 400
    with at(2026, 3, 12, 14, 30):
        assert client.post(url, data={"step": "open"}).status_code == 303
        participant = services.participants(hearing.id)[0]
        client.post(url, data={"step": "attendance", "present": [str(participant.id)]})
        refused = client.post(
            url,
            data={
                "step": "question",
                "question": "评分标准是什么？",
                "participant_id": str(participant.id),
                "reason": "需查阅档案",
                "responsible_id": str(clerk.id),
                "deadline": "2026-13-40",
            },
        )
        assert refused.status_code == 400
        assert db.session.scalar(select(func.count(HearingQuestion.id))) == 0
        recorded = client.post(
            url,
            data={
                "step": "question",
                "question": "评分标准是什么？",
                "participant_id": str(participant.id),
                "reason": "需查阅档案",
                "responsible_id": str(clerk.id),
                "deadline": "2026-03-20",
            },
        )
        assert recorded.status_code == 303
        question = db.session.scalar(select(HearingQuestion))
        assert question.status == QuestionStatus.pending
        assert client.post(url, data={"step": "conclude", "result": ""}).status_code == 400
        assert (
            client.post(url, data={"step": "conclude", "result": "公开评分细则。"}).status_code
            == 303
        )
        db.session.expire_all()
        assert db.session.get(Hearing, hearing.id).status == HearingStatus.concluded
        letters = client.get(f"/admin/hearings_hearings/letters/?id={hearing.id}")
        assert "王桂兰" in letters.get_data(as_text=True)
        minutes = client.get(f"/admin/hearings_hearings/minutes/?id={hearing.id}")
        assert "评分标准是什么？" in minutes.get_data(as_text=True)

    # the person responsible answers on the question's page, found in their inbox
    staff_client = client.application.test_client()
    with at(2026, 3, 13, 9):
        login(staff_client, clerk)
        item = next(i for i in inbox.page(clerk)[0] if i.source.key == "hearings.question")
        page = staff_client.get(item.link)
        assert page.status_code == 200 and "评分标准是什么？" in page.get_data(as_text=True)
        assert staff_client.post(item.link, data={"answer": ""}).status_code == 400
        assert staff_client.post(item.link, data={"answer": "细则已公示。"}).status_code == 303
    db.session.expire_all()
    assert db.session.get(HearingQuestion, question.id).status == QuestionStatus.answered_later


def test_another_townships_hearings_are_invisible(
    client, db, hearings_township, other_township, create_user, secretary, clerk, announced
):
    with at(2026, 3, 10, 9):
        services.open_hearing(announced, secretary)
        question = services.record_question(
            announced,
            secretary,
            services.QuestionInput(
                question="补偿？",
                asker_name="村民",
                reason="需请示",
                responsible_id=clerk.id,
                deadline=date(2026, 3, 20),
            ),
        )
    set_enabled(other_township, "hearings", True)
    west = create_user("westsec", "hearings_secretary", other_township, name="西镇秘书")
    login(client, west)
    listing = client.get("/admin/hearings_hearings/").get_data(as_text=True)
    assert "垃圾中转站选址听证会" not in listing
    assert client.get(f"/admin/hearings_hearings/details/?id={announced.id}").status_code == 404
    assert (
        client.post(
            f"/admin/hearings_hearings/details/?id={announced.id}",
            data={"step": "conclude", "result": "x"},
        ).status_code
        == 404
    )
    assert client.get(f"/admin/hearings_hearings/minutes/?id={announced.id}").status_code == 404
    assert client.get(f"/admin/hearings_questions/answer/?id={question.id}").status_code == 404
    assert (
        client.post(
            f"/admin/hearings_questions/answer/?id={question.id}", data={"answer": "x"}
        ).status_code
        == 404
    )
    assert "补偿？" not in client.get("/admin/hearings_questions/").get_data(as_text=True)
    # the public page of the east hearing is not under the west township
    assert client.get(f"/t/{other_township.code}/hearings/{announced.id}").status_code == 404
    assert inbox.page(west)[1] == 0
    # a person of the west register cannot be invited to an east hearing
    with pytest.raises(services.HearingError, match="another township"):
        services.invite(
            announced, secretary, "concerned", person_id=_west_person(db, other_township).id
        )
    db.session.expire_all()
    assert db.session.get(HearingQuestion, question.id).status == QuestionStatus.pending


def _west_person(db, township):
    from core.models import Person

    person = Person(township_id=township.id, name="西镇村民")
    db.session.add(person)
    db.session.commit()
    return person


def test_a_disabled_institution_answers_404_and_hears_nothing(
    client, db, hearings_township, secretary, leader, clerk, announced
):
    from core.cases import close_case, resolve_case

    with at(2026, 3, 2, 11):
        participant = services.register(announced, "张三", "13800001111")
    with at(2026, 3, 10, 9):
        services.open_hearing(announced, secretary)
        question = services.record_question(
            announced,
            secretary,
            services.QuestionInput(
                question="补偿？",
                asker_name="村民",
                reason="需请示",
                responsible_id=clerk.id,
                deadline=date(2026, 3, 20),
            ),
        )
    east = hearings_township.code
    assert client.get(f"/lookup?receipt={participant.receipt_no}").status_code == 200
    panel = client.get(f"/t/{east}/").get_data(as_text=True)
    assert "垃圾中转站" in page_text(panel, "#hearings-panel")
    login(client, leader)
    board = client.get("/admin/").get_data(as_text=True)
    assert "Hearings to conclude" in board and "Hearing questions awaiting an answer" in board
    client.post("/logout")
    set_enabled(hearings_township, "hearings", False)
    assert client.get(f"/t/{east}/hearings/").status_code == 404
    assert client.get(f"/t/{east}/hearings/{announced.id}").status_code == 404
    assert client.get(f"/lookup?receipt={participant.receipt_no}").status_code == 404
    assert "垃圾中转站" not in client.get(f"/t/{east}/").get_data(as_text=True)
    login(client, leader)
    assert client.get("/admin/hearings_hearings/").status_code == 404
    assert client.get(f"/admin/hearings_hearings/details/?id={announced.id}").status_code == 404
    assert all(i.source.key.split(".")[0] != "hearings" for i in inbox.page(clerk)[0])
    board = client.get("/admin/").get_data(as_text=True)
    assert "Hearings to conclude" not in board
    # the case event is not delivered: the question is not marked answered
    with at(2026, 3, 12, 9):
        resolve_case(question.case, clerk, "已答复")
        close_case(question.case, clerk)
    db.session.expire_all()
    assert db.session.get(HearingQuestion, question.id).status == QuestionStatus.pending
    set_enabled(hearings_township, "hearings", True)
    assert client.get(f"/t/{east}/hearings/").status_code == 200


def test_lists_cost_the_same_queries_for_5_and_50_hearings(
    client, db, hearings_township, secretary, query_counter
):
    from datetime import timedelta

    from core import clock

    today = clock.today(hearings_township)

    def seed(n):
        for i in range(n):
            hearing = services.create_hearing(
                hearings_township,
                hearing_input(
                    topic=f"听证会{i}", decided_on=today, held_on=today + timedelta(days=i % 9)
                ),
                secretary,
            )
            services.announce_hearing(hearing, secretary)

    def measure():
        counts = {}
        for url in (
            f"/t/{hearings_township.code}/hearings/",
            "/admin/hearings_hearings/?page_size=50",
        ):
            client.get(url)  # warm caches
            with query_counter() as statements:
                assert client.get(url).status_code == 200
            counts[url] = len(statements)
        return counts

    login(client, secretary)
    seed(5)
    few = measure()
    seed(45)
    many = measure()
    assert few == many, (few, many)


@pytest.fixture
def demo_admin(demo_user):
    return demo_user("dongfeng-township-admin")


def test_every_hearings_admin_page_reads_in_chinese(client, db, demo_admin):
    assert db.session.scalar(select(func.count(Hearing.id))) == 2  # the demo's
    assert db.session.scalar(select(func.count(HearingQuestion.id))) == 2
    login(client, demo_admin)
    findings, pages = crawl_admin(client, only="/admin/hearings_")
    assert pages >= 6
    assert findings == [], "\n".join(findings)
    # the print pages too
    hearing = db.session.scalar(select(Hearing).where(Hearing.status == HearingStatus.concluded))
    from core.testing.crawl import check_page, raw_codes

    codes = raw_codes(client.application)
    for url in (
        f"/admin/hearings_hearings/minutes/?id={hearing.id}",
        f"/admin/hearings_hearings/letters/?id={hearing.id}",
    ):
        response = client.get(url)
        assert response.status_code == 200
        assert check_page(url, response.get_data(as_text=True), codes) == []


def test_registrations_are_rate_limited_per_address(app, db, hearings_township, secretary):
    from datetime import timedelta

    from core import clock
    from core.testing.fixtures import built_app
    from plugins.hearings.models import HearingParticipant

    today = clock.today(hearings_township)
    hearing = services.create_hearing(
        hearings_township,
        hearing_input(decided_on=today, held_on=today + timedelta(days=5)),
        secretary,
    )
    services.announce_hearing(hearing, secretary)
    url = f"/t/{hearings_township.code}/hearings/{hearing.id}/register"
    with built_app(app, RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="memory://") as other:
        client = other.test_client()
        answers = [
            client.post(url, data={"name": f"村民{i}", "phone": f"1380000{i:04d}"}).status_code
            for i in range(6)
        ]
        assert client.get(url).status_code == 200  # reading the form is not counted
    assert answers == [201] * 5 + [429]
    assert db.session.scalar(select(func.count(HearingParticipant.id))) == 5
