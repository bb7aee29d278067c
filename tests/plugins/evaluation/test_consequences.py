"""Consequences of a year's citizen satisfaction: warned just below the warning line (and
barred from excellent), not just above; suspension only proposed until a leader decides."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from core import inbox
from core.policies import set_policy
from plugins.evaluation import services
from plugins.evaluation.models import (
    ConsequenceKind,
    ConsequenceStatus,
    EvaluationConsequence,
    Grade,
)

from .conftest import login

YEAR = 2025


@pytest.fixture
def cadres(create_user, evaluation_township):
    return {
        name: create_user(name, "clerk", evaluation_township, name=label)
        for name, label in (("below", "低于线"), ("above", "高于线"), ("poor", "不认可"))
    }


@pytest.fixture
def year_of_ratings(db, evaluation_township, cadres, quick_ratings):
    """Warning threshold 80 %: 15 of 19 = 78.9 % (just below), 16 of 20 = 80 % (on the line,
    not below); non-acceptance 60 %: 5 of 10 = 50 %."""
    day = date(YEAR, 6, 1)
    quick_ratings(evaluation_township, cadres["below"], "satisfied", 10, day)
    quick_ratings(evaluation_township, cadres["below"], "basically_satisfied", 5, day)
    quick_ratings(evaluation_township, cadres["below"], "dissatisfied", 4, day)
    quick_ratings(evaluation_township, cadres["above"], "satisfied", 16, day)
    quick_ratings(evaluation_township, cadres["above"], "dissatisfied", 4, day)
    quick_ratings(evaluation_township, cadres["poor"], "satisfied", 5, day)
    quick_ratings(evaluation_township, cadres["poor"], "dissatisfied", 5, day)
    # the year before does not count for YEAR
    quick_ratings(evaluation_township, cadres["above"], "dissatisfied", 9, date(YEAR - 1, 12, 31))
    return cadres


def _round(township):
    return services.open_round(
        township, f"{YEAR}年度考评", YEAR, date(YEAR, 1, 1), date(YEAR, 12, 31)
    )


def test_just_below_the_warning_line_is_warned_and_barred_from_excellent(
    db, evaluation_township, leader, year_of_ratings
):
    cadres = year_of_ratings
    new = services.apply_rule(evaluation_township, YEAR)
    assert new == {"warnings": 2, "proposals": 1}
    assert services.barred(evaluation_township.id, cadres["below"].id, YEAR)
    assert not services.barred(evaluation_township.id, cadres["above"].id, YEAR)
    assert not services.barred(evaluation_township.id, cadres["below"].id, YEAR + 1)

    round_ = _round(evaluation_township)
    with pytest.raises(services.EvaluationError, match="may not be rated excellent"):
        services.set_grade(round_, cadres["below"].id, Grade.excellent, leader)
    services.set_grade(round_, cadres["below"].id, Grade.competent, leader)
    assert (
        services.set_grade(round_, cadres["above"].id, Grade.excellent, leader).grade
        == Grade.excellent
    )

    # applying the rule again changes nothing
    assert services.apply_rule(evaluation_township, YEAR) == {"warnings": 0, "proposals": 0}


def test_the_threshold_is_the_townships_policy(db, evaluation_township, year_of_ratings):
    set_policy(evaluation_township.id, "evaluation.warning_threshold", "78")
    db.session.commit()
    services.apply_rule(evaluation_township, YEAR)
    assert not services.barred(evaluation_township.id, year_of_ratings["below"].id, YEAR)


def test_too_few_ratings_are_not_judged(db, evaluation_township, cadres, quick_ratings):
    quick_ratings(evaluation_township, cadres["poor"], "dissatisfied", 4, date(YEAR, 3, 1))
    assert services.apply_rule(evaluation_township, YEAR) == {"warnings": 0, "proposals": 0}


def test_suspension_is_only_proposed_until_a_leader_decides(
    client, db, evaluation_township, leader, township_admin, year_of_ratings
):
    poor = year_of_ratings["poor"]
    services.apply_rule(evaluation_township, YEAR)
    proposal = db.session.scalar(
        select(EvaluationConsequence).where(
            EvaluationConsequence.user_id == poor.id,
            EvaluationConsequence.kind == ConsequenceKind.suspension,
        )
    )
    assert proposal.status == ConsequenceStatus.proposed
    assert (proposal.share, proposal.ratings) == (50.0, 10)
    # it waits in the leaders' inboxes; nothing is decided by the platform
    assert ("evaluation.suspension", proposal.id) in [
        (i.source.key, i.object_id) for i in inbox.page(leader)[0]
    ]
    assert [e.action for e in services.trail("consequence", proposal.id)] == ["suspension_proposed"]
    assert services.trail("consequence", proposal.id)[0].actor_id is None  # the platform

    login(client, leader)
    refused = client.post(
        f"/admin/evaluation_consequences/decide?id={proposal.id}", data={"decision": "confirm"}
    )
    assert refused.status_code == 400
    assert "Give the reason for the decision." in refused.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(EvaluationConsequence, proposal.id).status == ConsequenceStatus.proposed

    done = client.post(
        f"/admin/evaluation_consequences/decide?id={proposal.id}",
        data={"decision": "confirm", "note": "群众满意率连续偏低，经党委会研究决定"},
    )
    assert done.status_code == 303
    db.session.expire_all()
    proposal = db.session.get(EvaluationConsequence, proposal.id)
    assert proposal.status == ConsequenceStatus.confirmed and proposal.decided_by_id == leader.id
    steps = services.trail("consequence", proposal.id)
    assert [(e.action, e.actor_id) for e in steps] == [
        ("suspension_proposed", None),
        ("suspension_confirmed", leader.id),
    ]
    with pytest.raises(services.EvaluationError, match="Only a proposed suspension"):
        services.decide_suspension(proposal, township_admin, False, "改变主意")


def test_the_consequences_page_applies_the_rule(
    client, db, evaluation_township, township_admin, year_of_ratings
):
    login(client, township_admin)
    html = client.get(f"/admin/evaluation_consequences/?year={YEAR}").get_data(as_text=True)
    assert "Below the warning threshold" in html and "Below the non-acceptance threshold" in html
    response = client.post(
        f"/admin/evaluation_consequences/?township={evaluation_township.id}&year={YEAR}"
    )
    assert response.status_code == 303
    assert db.session.scalar(select(EvaluationConsequence.id)) is not None


def test_the_year_end_job_applies_the_rule_once_per_township(
    app, db, evaluation_township, year_of_ratings, stub_worker
):
    from sqlalchemy import func

    from core.models import TaskRecord

    assert services.record_year_end(date(YEAR + 1, 1, 10)) == 1
    assert services.record_year_end(date(YEAR + 1, 1, 11)) == 1  # same key: nothing new
    stub_worker.join()
    assert db.session.scalar(select(func.count(TaskRecord.id))) == 1
    db.session.expire_all()
    assert db.session.scalar(select(func.count(EvaluationConsequence.id))) == 3
