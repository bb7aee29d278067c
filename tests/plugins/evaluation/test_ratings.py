"""Citizen satisfaction under the receipt: one rating per closed case; a dissatisfied one
reaches the handler's leader, who reopens the case or answers."""

from __future__ import annotations

from sqlalchemy import func, select

from core import inbox
from core.models import CaseStatus, Notification
from core.testing.fixtures import page_text
from plugins.evaluation.models import EvaluationFollowUp, EvaluationRating, FollowUpStatus

from .conftest import login


def test_the_rating_form_shows_under_a_closed_cases_receipt_only(
    client, db, evaluation_township, clerk, closed_case
):
    from core import cases as svc

    open_case = svc.register_case(
        township=evaluation_township,
        kind="service",
        title="未结事项",
        applicant_name="李四",
        first_responder=clerk,
        accept=True,
    )
    html = client.get(f"/lookup?receipt={open_case.receipt_no}").get_data(as_text=True)
    assert page_text(html, "#rating-not-yet")
    assert 'id="rating-form"' not in html
    case = closed_case()
    html = client.get(f"/lookup?receipt={case.receipt_no}").get_data(as_text=True)
    assert 'id="rating-form"' in html
    assert f"/t/east/evaluation/rate/{case.receipt_no}" in html


def test_dissatisfied_rating_reaches_the_leader_who_reopens_the_case(
    client, db, evaluation_township, clerk, leader, closed_case
):
    case = closed_case()
    response = client.post(
        f"/t/east/evaluation/rate/{case.receipt_no}",
        data={"level": "dissatisfied", "comment": "跑了三趟还没办好"},
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"receipt={case.receipt_no}#evaluation-rating")
    follow_up = db.session.scalar(select(EvaluationFollowUp))
    assert follow_up.case_id == case.id and follow_up.status == FollowUpStatus.open

    # it waits in the leader's inbox (not the handler's) and the leader was told
    items, _total = inbox.page(leader)
    assert [(i.source.key, i.object_id) for i in items] == [("evaluation.follow_up", follow_up.id)]
    assert all(i.source.key != "evaluation.follow_up" for i in inbox.page(clerk)[0])
    assert (
        db.session.scalar(
            select(func.count(Notification.id)).where(Notification.user_id == leader.id)
        )
        == 1
    )

    # the citizen now sees the rating given, not the form
    html = client.get(f"/lookup?receipt={case.receipt_no}").get_data(as_text=True)
    assert "Dissatisfied" in page_text(html, "#rating-given")
    assert "跑了三趟" not in html  # the comment is for staff only

    login(client, leader)
    page = client.get(f"/admin/evaluation_follow_ups/handle/?id={follow_up.id}")
    assert page_text(page.get_data(as_text=True), "#rating-comment") == "跑了三趟还没办好"
    response = client.post(
        f"/admin/evaluation_follow_ups/handle/?id={follow_up.id}",
        data={"decision": "reopen", "reason": "群众不满意，重新办理"},
    )
    assert response.status_code == 303
    db.session.expire_all()
    assert case.status == CaseStatus.reopened
    assert [e.action for e in case.events][-1] == "reopened"
    assert case.events[-1].note == "群众不满意，重新办理"
    follow_up = db.session.get(EvaluationFollowUp, follow_up.id)
    assert follow_up.status == FollowUpStatus.reopened and follow_up.decided_by_id == leader.id
    assert inbox.page(leader)[1] == 0  # nothing waits any more


def test_a_second_rating_for_the_same_case_is_refused(client, db, evaluation_township, closed_case):
    case = closed_case()
    first = client.post(f"/t/east/evaluation/rate/{case.receipt_no}", data={"level": "satisfied"})
    assert first.status_code == 303
    second = client.post(
        f"/t/east/evaluation/rate/{case.receipt_no}", data={"level": "dissatisfied"}
    )
    assert second.status_code == 409
    assert "rated once" in page_text(second.get_data(as_text=True), "#rating-problems")
    assert db.session.scalar(select(func.count(EvaluationRating.id))) == 1
    assert db.session.scalar(select(EvaluationRating.level)).value == "satisfied"
    assert db.session.scalar(select(func.count(EvaluationFollowUp.id))) == 0


def test_bad_ratings_are_refused_with_a_reason(client, db, evaluation_township, closed_case):
    case = closed_case()
    no_level = client.post(f"/t/east/evaluation/rate/{case.receipt_no}", data={"comment": "x"})
    assert no_level.status_code == 400
    assert "Choose satisfied" in no_level.get_data(as_text=True)
    too_long = client.post(
        f"/t/east/evaluation/rate/{case.receipt_no}",
        data={"level": "satisfied", "comment": "长" * 501},
    )
    assert too_long.status_code == 400
    assert "longer than 500 characters" in too_long.get_data(as_text=True)
    assert "长" * 501 in too_long.get_data(as_text=True)  # what was typed is kept
    assert db.session.scalar(select(func.count(EvaluationRating.id))) == 0
    assert (
        client.post("/t/east/evaluation/rate/NOPE-1", data={"level": "satisfied"}).status_code
        == 404
    )


def test_the_leader_may_answer_and_plan_a_rectification_instead(
    client, db, evaluation_township, clerk, leader, closed_case
):
    from datetime import timedelta

    from core import clock
    from plugins.evaluation.models import EvaluationRectification

    case = closed_case()
    client.post(f"/t/east/evaluation/rate/{case.receipt_no}", data={"level": "dissatisfied"})
    follow_up = db.session.scalar(select(EvaluationFollowUp))
    login(client, leader)
    deadline = clock.today(evaluation_township) + timedelta(days=10)
    refused = client.post(
        f"/admin/evaluation_follow_ups/handle/?id={follow_up.id}",
        data={"decision": "answer", "answer": "已批评教育", "rectify": "1", "plan": ""},
    )
    assert refused.status_code == 400
    assert "Write the rectification plan." in refused.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(EvaluationFollowUp, follow_up.id).status == FollowUpStatus.open
    done = client.post(
        f"/admin/evaluation_follow_ups/handle/?id={follow_up.id}",
        data={
            "decision": "answer",
            "answer": "已批评教育",
            "rectify": "1",
            "plan": "窗口服务培训",
            "owner_id": clerk.id,
            "deadline": deadline.isoformat(),
        },
    )
    assert done.status_code == 303
    item = db.session.scalar(select(EvaluationRectification))
    assert (item.owner_id, item.subject_user_id, item.deadline) == (clerk.id, clerk.id, deadline)
    assert [i.source.key for i in inbox.page(clerk)[0]] == ["evaluation.rectification"]
    assert db.session.get(EvaluationFollowUp, follow_up.id).status == FollowUpStatus.answered
    assert case.status == CaseStatus.closed


def test_the_handler_cannot_settle_their_own_rating(
    db, evaluation_township, leader, create_user, township, closed_case
):
    import pytest

    from plugins.evaluation import services

    case = closed_case(handler=leader)
    services.rate_case(case, "dissatisfied")
    follow_up = db.session.scalar(select(EvaluationFollowUp))
    with pytest.raises(services.EvaluationError, match="own case"):
        services.reopen_from_follow_up(follow_up, leader, "我自己重办")
    assert case.status == CaseStatus.closed


def test_staff_record_a_phone_follow_up(client, db, evaluation_township, clerk, closed_case):
    case = closed_case()
    login(client, clerk)
    response = client.post(
        "/admin/evaluation_ratings/new/",
        data={
            "receipt_no": case.receipt_no.lower(),
            "level": "basically_satisfied",
            "comment": "还行",
        },
    )
    assert response.status_code == 303
    rating = db.session.scalar(select(EvaluationRating))
    assert (rating.channel.value, rating.recorded_by_id) == ("phone", clerk.id)
    again = client.post(
        "/admin/evaluation_ratings/new/",
        data={"receipt_no": case.receipt_no, "level": "satisfied"},
    )
    assert again.status_code == 400 and "rated once" in again.get_data(as_text=True)


def test_ratings_from_the_public_site_are_rate_limited(app, db, evaluation_township, closed_case):
    from core.testing.fixtures import built_app

    cases = [closed_case(title=f"事项{i}") for i in range(11)]
    with built_app(app, RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="memory://") as other:
        client = other.test_client()
        answers = [
            client.post(
                f"/t/east/evaluation/rate/{c.receipt_no}", data={"level": "satisfied"}
            ).status_code
            for c in cases
        ]
    assert answers == [303] * 10 + [429]
    assert db.session.scalar(select(func.count(EvaluationRating.id))) == 10


def test_a_receipt_of_another_township_is_not_rated_here(
    client, db, evaluation_township, other_township, create_user, closed_case
):
    from core.institutions import set_enabled

    set_enabled(other_township, "evaluation", True)
    west_clerk = create_user("wc", "clerk", other_township, name="西镇办事员")
    case = closed_case(township=other_township, first_responder=west_clerk)
    assert (
        client.post(
            f"/t/east/evaluation/rate/{case.receipt_no}", data={"level": "satisfied"}
        ).status_code
        == 404
    )
    assert (
        client.post(
            f"/t/west/evaluation/rate/{case.receipt_no}", data={"level": "satisfied"}
        ).status_code
        == 303
    )


def test_the_ratings_list_costs_the_same_queries_for_5_or_50_rows(
    client, db, evaluation_township, clerk, leader, quick_ratings, query_counter
):
    from datetime import date

    quick_ratings(evaluation_township, clerk, "satisfied", 5, date(2026, 1, 5))
    login(client, leader)
    url = "/admin/evaluation_ratings/?page_size=50"
    client.get(url)
    db.session.expire_all()
    with query_counter() as few:
        assert client.get(url).status_code == 200
    quick_ratings(evaluation_township, clerk, "dissatisfied", 45, date(2026, 1, 6))
    client.get(url)  # caches (the navbar's inbox count) warm again after the change
    db.session.expire_all()
    with query_counter() as many:
        html = client.get(url).get_data(as_text=True)
    assert len(few) == len(many)
    assert html.count("Q0000") == 50  # every row of the page shown
