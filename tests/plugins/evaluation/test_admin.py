"""The evaluation institution's staff pages: rounds and marks, rectification checks,
township isolation, enabling, and the zh_CN crawl over the demo county."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from core import clock, inbox
from core.institutions import set_enabled
from core.testing.crawl import crawl_admin
from plugins.evaluation import services
from plugins.evaluation.models import (
    EvaluationCriterion,
    EvaluationMark,
    EvaluationRectification,
    EvaluationRound,
    RectificationStatus,
)

from .conftest import login


def test_a_round_copies_the_townships_form_and_keeps_every_raters_marks(
    client, db, evaluation_township, clerk, leader, township_admin
):
    login(client, township_admin)
    response = client.post(
        "/admin/evaluation_rounds/new/",
        data={
            "name": "2026年度考评",
            "year": "2026",
            "starts_on": "2026-01-01",
            "ends_on": "2026-12-31",
        },
    )
    assert response.status_code == 302
    round_ = db.session.scalar(select(EvaluationRound))
    assert [c.name for c in services.criteria(round_.id)] == [
        "服务态度",
        "工作效率",
        "办事质量",
        "廉洁自律",
    ]
    bad = client.post(
        "/admin/evaluation_rounds/new/",
        data={"name": "x", "year": "2026", "starts_on": "2026-12-31", "ends_on": "2026-01-01"},
    )
    assert "must not be before the first" in bad.get_data(as_text=True)
    assert db.session.scalar(select(func.count(EvaluationRound.id))) == 1

    form = services.criteria(round_.id)
    client.post("/logout")
    login(client, leader)
    url = f"/admin/evaluation_marking/subject?round={round_.id}&subject=user:{clerk.id}"
    refused = client.post(url, data={f"score-{form[0].id}": "30", f"score-{form[1].id}": "x"})
    assert refused.status_code == 400
    text = refused.get_data(as_text=True)
    assert "marks go from 0 to 25" in text and "is not a whole number" in text
    assert db.session.scalar(select(func.count(EvaluationMark.id))) == 0  # all or nothing
    ok = client.post(url, data={f"score-{c.id}": "20" for c in form})
    assert ok.status_code == 303
    again = client.post(url, data={f"score-{c.id}": "22" for c in form})  # a rater changes
    assert again.status_code == 303
    assert (
        client.post(
            f"/admin/evaluation_marking/subject?round={round_.id}&subject=user:{leader.id}",
            data={f"score-{c.id}": "25" for c in form},
        ).status_code
        == 400
    )  # nobody marks themselves
    services.save_marks(
        round_,
        clerk,
        services.subject_of(evaluation_township.id, f"user:{leader.id}"),
        {c.id: "18" for c in form},
    )
    results = services.round_results(round_)
    assert results[f"user:{clerk.id}"].leader_average == 88.0
    assert results[f"user:{leader.id}"].peer_average == 72.0
    assert db.session.scalar(select(func.count(EvaluationMark.id))) == 8

    # the form cannot change once marking began
    client.post("/logout")
    login(client, township_admin)
    edit = client.post(
        f"/admin/evaluation_criteria/edit/?id={form[0].id}",
        data={"round_id": round_.id, "position": "1", "name": "服务态度", "max_score": "50"},
    )
    assert "cannot change once marking began" in edit.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(EvaluationCriterion, form[0].id).max_score == 25


def test_a_rectification_is_reported_done_by_its_owner_and_checked_by_a_leader(
    client, db, evaluation_township, clerk, leader
):
    login(client, clerk)
    deadline = clock.today(evaluation_township) + timedelta(days=7)
    past = client.post(
        "/admin/evaluation_rectifications/new/",
        data={
            "problem": "窗口态度",
            "plan": "培训",
            "owner_id": clerk.id,
            "deadline": "2020-01-01",
        },
    )
    assert past.status_code == 400 and "cannot be in the past" in past.get_data(as_text=True)
    client.post(
        "/admin/evaluation_rectifications/new/",
        data={
            "problem": "窗口态度",
            "plan": "培训",
            "owner_id": clerk.id,
            "deadline": deadline.isoformat(),
        },
    )
    item = db.session.scalar(select(EvaluationRectification))
    assert [i.source.key for i in inbox.page(clerk)[0]] == ["evaluation.rectification"]
    client.post(
        f"/admin/evaluation_rectifications/handle/?id={item.id}",
        data={"step": "done", "note": "已培训"},
    )
    assert ("evaluation.rectification_check", item.id) in [
        (i.source.key, i.object_id) for i in inbox.page(leader)[0]
    ]
    # the owner cannot check their own work
    own = client.post(
        f"/admin/evaluation_rectifications/handle/?id={item.id}", data={"step": "accept"}
    )
    assert own.status_code == 400
    client.post("/logout")
    login(client, leader)
    client.post(
        f"/admin/evaluation_rectifications/handle/?id={item.id}",
        data={"step": "send_back", "note": "培训记录不全"},
    )
    db.session.expire_all()
    assert db.session.get(EvaluationRectification, item.id).status == RectificationStatus.open
    item = db.session.get(EvaluationRectification, item.id)
    services.mark_done(item, clerk, "补齐记录")
    client.post(f"/admin/evaluation_rectifications/handle/?id={item.id}", data={"step": "accept"})
    db.session.expire_all()
    item = db.session.get(EvaluationRectification, item.id)
    assert item.status == RectificationStatus.verified and item.checked_by_id == leader.id
    assert [e.action for e in services.trail("rectification", item.id)] == [
        "rectification_planned",
        "rectification_done",
        "rectification_sent_back",
        "rectification_done",
        "rectification_verified",
    ]
    from core.models import ProducedRecord

    assert (
        db.session.scalar(
            select(ProducedRecord.reference).where(ProducedRecord.source == "evaluation")
        )
        == f"rectification:{item.id}"
    )


def test_another_townships_evaluation_rows_are_invisible(
    client, db, evaluation_township, other_township, create_user, closed_case
):
    case = closed_case()
    services.rate_case(case, "dissatisfied", "太慢")
    set_enabled(other_township, "evaluation", True)
    west_leader = create_user("wl", "leader", other_township, name="西镇领导")
    login(client, west_leader)
    assert "太慢" not in client.get("/admin/evaluation_ratings/").get_data(as_text=True)
    from plugins.evaluation.models import EvaluationFollowUp

    follow_up = db.session.scalar(select(EvaluationFollowUp))
    assert client.get(f"/admin/evaluation_follow_ups/handle/?id={follow_up.id}").status_code == 404
    assert (
        client.post(
            f"/admin/evaluation_follow_ups/handle/?id={follow_up.id}",
            data={"decision": "reopen", "reason": "x"},
        ).status_code
        == 404
    )
    assert inbox.page(west_leader)[1] == 0


def test_disabled_evaluation_answers_404_and_hears_no_events(
    client, db, township, clerk, leader, closed_case
):
    case = closed_case()
    services.rate_case(case, "dissatisfied")
    set_enabled(township, "evaluation", False)
    assert (
        client.post(
            f"/t/east/evaluation/rate/{case.receipt_no}", data={"level": "satisfied"}
        ).status_code
        == 404
    )
    html = client.get(f"/lookup?receipt={case.receipt_no}").get_data(as_text=True)
    assert "evaluation-rating" not in html  # no section from a disabled institution
    login(client, leader)
    assert client.get("/admin/evaluation_ratings/").status_code == 404
    assert all(i.source.key.split(".")[0] != "evaluation" for i in inbox.page(leader)[0])
    # reopening the case by the core does not reach the disabled institution
    from core import cases as svc
    from plugins.evaluation.models import EvaluationFollowUp, FollowUpStatus

    svc.reopen_case(case, leader, "群众来电")
    assert db.session.scalar(select(EvaluationFollowUp.status)) == FollowUpStatus.open
    set_enabled(township, "evaluation", True)
    assert client.get("/admin/evaluation_ratings/").status_code == 200


def test_the_core_reopening_a_case_settles_its_open_follow_up(
    db, evaluation_township, leader, closed_case
):
    from core import cases as svc
    from plugins.evaluation.models import EvaluationFollowUp, FollowUpStatus

    case = closed_case()
    services.rate_case(case, "dissatisfied")
    svc.reopen_case(case, leader, "群众来电")
    assert db.session.scalar(select(EvaluationFollowUp.status)) == FollowUpStatus.reopened


@pytest.fixture
def demo_admin(demo_user):
    return demo_user("dongfeng-township-admin")


def test_every_evaluation_admin_page_reads_in_chinese(client, db, demo_admin):
    from plugins.evaluation.models import EvaluationFollowUp, EvaluationRating

    assert db.session.scalar(select(func.count(EvaluationRating.id))) == 3  # the demo's
    assert db.session.scalar(select(EvaluationFollowUp.id)) is not None
    login(client, demo_admin)
    findings, pages = crawl_admin(client, only="/admin/evaluation_")
    assert pages >= 15
    assert findings == [], "\n".join(findings)
    # pages the crawl reaches only through the sheet list and the inbox
    year = clock.today(demo_admin.memberships[0].org_unit).year
    for url in (
        f"/admin/evaluation_sheet/cadre?user={demo_admin.id}&year={year}",
        f"/admin/evaluation_consequences/?year={year}",
    ):
        from core.testing.crawl import check_page, raw_codes

        response = client.get(url)
        assert response.status_code == 200
        assert check_page(url, response.get_data(as_text=True), raw_codes(client.application)) == []
