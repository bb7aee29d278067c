"""The training institution's API: the roster, self-study hours written with the screens'
rules (all or nothing), and the month's compliance from the same function."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from core import clock
from core.api import create_token
from tests.core.test_api import Api, assert_json_error


@pytest.fixture
def api_as(client):
    return lambda user: Api(client, create_token(user, "training tests")[1])


def logged(db) -> int:
    from plugins.training.models import TrainingStudyLog

    db.session.expire_all()
    return db.session.scalar(select(func.count(TrainingStudyLog.id)))


def entry(learner, **kw) -> dict:
    today = clock.today(learner.township_id)
    return {
        "learner_id": learner.id,
        "studied_on": kw.pop("studied_on", (today - timedelta(days=1)).isoformat()),
        "hours": kw.pop("hours", 2),
        "material": kw.pop("material", "《乡村振兴促进法》"),
        **kw,
    }


def test_the_roster_by_name(api_as, officer, make_learner, training_township, village):
    make_learner(training_township, "王五", village=village)
    make_learner(training_township, "李四", category="township_cadre")
    body = api_as(officer).get("/api/v1/training/east/learners").get_json()
    assert [row["name"] for row in body["items"]] == sorted(["王五", "李四"])
    wang = next(row for row in body["items"] if row["name"] == "王五")
    assert wang["village"]["code"] == village.code and wang["category"] == "village_cadre"
    only = api_as(officer).get("/api/v1/training/east/learners?category=township_cadre")
    assert [row["name"] for row in only.get_json()["items"]] == ["李四"]
    one = api_as(officer).get(f"/api/v1/training/east/learners/{wang['id']}").get_json()
    assert one["name"] == "王五"


def test_a_leader_reads_a_clerk_without_the_right_gets_403(
    api_as, leader, create_user, make_learner, training_township
):
    make_learner(training_township, "王五")
    assert api_as(leader).get("/api/v1/training/east/learners").status_code == 200
    from core.contract import Role
    from core.plugins import state

    # a role with the API but without training reports or the dashboard
    state().roles["api_only"] = Role("api_only", "接口", "API only", frozenset({"api.use"}))
    try:
        user = create_user("apionly", "api_only", training_township)
        assert_json_error(api_as(user).get("/api/v1/training/east/learners"), 403)
    finally:
        del state().roles["api_only"]


def test_a_township_without_training_answers_404(api_as, county_admin, other_township, db):
    for path in ("learners", "hours", f"compliance/{clock.today():%Y-%m}"):
        assert_json_error(api_as(county_admin).get(f"/api/v1/training/west/{path}"), 404)


def test_an_officer_logs_hours_for_several_learners(
    db, api_as, officer, make_learner, training_township
):
    from plugins.training.models import LogStatus, TrainingStudyLog

    a = make_learner(training_township, "王五")
    b = make_learner(training_township, "李四")
    body = {"entries": [entry(a, hours=2.5, note_chars=800), entry(b, hours=1)]}
    response = api_as(officer).post("/api/v1/training/east/hours", body)
    assert response.status_code == 201, response.get_json()
    assert response.get_json() == {"saved": 2}
    rows = db.session.scalars(select(TrainingStudyLog).order_by(TrainingStudyLog.id)).all()
    assert [(r.learner_id, r.half_hours, r.status) for r in rows] == [
        (a.id, 5, LogStatus.confirmed),
        (b.id, 2, LogStatus.confirmed),
    ]
    listed = api_as(officer).get("/api/v1/training/east/hours").get_json()
    assert sorted(row["hours"] for row in listed["items"]) == [1.0, 2.5]


def test_the_screens_rules_refuse_the_whole_batch(
    db, api_as, officer, make_learner, training_township, other_township
):
    from core.institutions import set_enabled

    set_enabled(other_township, "training", True)
    a = make_learner(training_township, "王五", joined_on=date(2024, 3, 1))
    theirs = make_learner(other_township, "西镇学员")
    today = clock.today(training_township)
    body = {
        "entries": [
            entry(a),  # fine on its own
            entry(a, studied_on=(today + timedelta(days=1)).isoformat()),  # the future
            entry(a, studied_on="2024-02-29"),  # before the learner joined
            entry(a, hours=11, material="另一份材料"),  # 2 + 11 > 12 hours that day
            entry(theirs),  # another township's learner
        ]
    }
    response = api_as(officer).post("/api/v1/training/east/hours", body)
    error = assert_json_error(response, 422)
    assert set(error["details"]["fields"]) == {"entries.1", "entries.2", "entries.3", "entries.4"}
    assert len(error["details"]["problems"]) == 4
    assert logged(db) == 0


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"hours": 0.3}, "entries.0.hours"),
        ({"hours": 0}, "entries.0.hours"),
        ({"hours": 12.5}, "entries.0.hours"),
        ({"hours": "2"}, "entries.0.hours"),
        ({"hours": True}, "entries.0.hours"),
        ({"studied_on": "2025-1-5"}, "entries.0.studied_on"),
        ({"material": ""}, "entries.0.material"),
        ({"material": "x" * 201}, "entries.0.material"),
        ({"material_kind": "novel"}, "entries.0.material_kind"),
        ({"note_chars": -1}, "entries.0.note_chars"),
        ({"learner": 1}, "entries.0.learner"),
    ],
)
def test_bad_entries_are_422_field_by_field(
    db, api_as, officer, make_learner, training_township, change, field
):
    learner = make_learner(training_township, "王五")
    body = {"entries": [{**entry(learner), **change}]}
    error = assert_json_error(api_as(officer).post("/api/v1/training/east/hours", body), 422)
    assert field in error["details"]["fields"], error
    assert logged(db) == 0


def test_writing_hours_needs_the_officers_permission(
    db, api_as, leader, make_learner, training_township
):
    learner = make_learner(training_township, "王五")
    body = {"entries": [entry(learner)]}
    assert_json_error(api_as(leader).post("/api/v1/training/east/hours", body), 403)
    assert logged(db) == 0


def test_empty_and_oversized_batches_are_refused(api_as, officer, make_learner, training_township):
    learner = make_learner(training_township, "王五")
    api = api_as(officer)
    assert_json_error(api.post("/api/v1/training/east/hours", {"entries": []}), 422)
    many = {"entries": [entry(learner)] * 501}
    assert_json_error(api.post("/api/v1/training/east/hours", many), 422)


def test_the_months_compliance_is_the_screens(db, api_as, officer, make_learner, training_township):
    from plugins.training.services import monthly_compliance

    learner = make_learner(training_township, "王五")
    api_as(officer).post("/api/v1/training/east/hours", {"entries": [entry(learner, hours=3)]})
    yesterday = clock.today(training_township) - timedelta(days=1)
    month = f"{yesterday:%Y-%m}"
    body = api_as(officer).get(f"/api/v1/training/east/compliance/{month}").get_json()
    expected = monthly_compliance(training_township.id, yesterday.year, yesterday.month).to_dict()
    assert body["month"] == month
    assert body["township"] == expected["township"]
    assert body["learners"]["items"] == expected["learners"]
    assert body["learners"]["items"][0]["hours"] == 3.0
    assert body["learners"]["total"] == 1
    for bad in ("2025-13", "25-01", "2025-1", "%C2%B2025-01"):
        assert_json_error(api_as(officer).get(f"/api/v1/training/east/compliance/{bad}"), 404)
