"""The JSON API: tokens, township scoping, input checks, transitions, paging, OpenAPI."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from core import clock
from core.api import create_token, revoke_token
from core.cases import accept_case, register_case
from core.models import ApiToken, Case, CaseEvent, CaseStatus, Person

# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------


class Api:
    """The test client with a bearer token on every request."""

    def __init__(self, client, token: str | None):
        self.client = client
        self.token = token

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def get(self, path: str, **kw):
        return self.client.get(path, headers=self._headers(), **kw)

    def post(self, path: str, body=None, **kw):
        if body is not None:
            kw["json"] = body
        return self.client.post(path, headers=self._headers(), **kw)


@pytest.fixture
def api_as(client):
    """``api_as(user)``: an API client authenticated with a fresh token of ``user``."""

    def make(user) -> Api:
        return Api(client, create_token(user, "tests")[1])

    return make


@pytest.fixture
def api(api_as, clerk) -> Api:
    return api_as(clerk)


@pytest.fixture
def make_case(db):
    def make(township, user, **kw) -> Case:
        kw.setdefault("kind", "service")
        kw.setdefault("title", "低保申请")
        kw.setdefault("applicant_name", "张三")
        return register_case(township=township, first_responder=user, **kw)

    return make


def counts(db) -> tuple[int, int]:
    """How many cases and case events exist (to show that nothing was written)."""
    db.session.expire_all()
    return (
        db.session.scalar(select(func.count(Case.id))),
        db.session.scalar(select(func.count(CaseEvent.id))),
    )


def assert_json_error(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    error = response.get_json()["error"]
    assert error["status"] == status
    assert isinstance(error["message"], str) and error["message"].strip()
    return error


VALID = {
    "township": "east",
    "kind": "service",
    "title": "办理低保",
    "applicant_name": "张三",
}


# ---------------------------------------------------------------------------
# Tokens
# ---------------------------------------------------------------------------


def test_a_token_is_stored_only_as_its_sha256(db, clerk):
    token, plaintext = create_token(clerk, "office PC")
    assert plaintext.startswith("tsk_") and len(plaintext) > 40
    row = db.session.get(ApiToken, token.id)
    assert row.token_hash == hashlib.sha256(plaintext.encode()).hexdigest()
    assert plaintext not in (row.token_hash, row.name)
    assert row.user_id == clerk.id and not row.revoked


def test_a_token_needs_a_name(db, clerk):
    with pytest.raises(ValueError):
        create_token(clerk, "  ")


@pytest.mark.parametrize(
    "header",
    [None, "Bearer", "Bearer ", "Basic dXNlcjpwdw==", "Bearer tsk_not-a-real-token", "tsk_x"],
)
def test_missing_or_bad_token_answers_401_json(client, clerk, header):
    headers = {"Authorization": header} if header is not None else {}
    response = client.get("/api/v1/cases", headers=headers)
    assert_json_error(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_revoked_token_answers_401(db, client, clerk):
    token, plaintext = create_token(clerk, "laptop")
    api = Api(client, plaintext)
    assert api.get("/api/v1/me").status_code == 200
    revoke_token(token)
    assert_json_error(api.get("/api/v1/me"), 401)


def test_token_of_a_disabled_user_answers_401(db, api, clerk):
    assert api.get("/api/v1/me").status_code == 200
    clerk.active = False
    db.session.commit()
    assert_json_error(api.get("/api/v1/me"), 401)


def test_using_a_token_records_when(db, client, clerk):
    token, plaintext = create_token(clerk, "laptop")
    assert token.last_used_at is None
    Api(client, plaintext).get("/api/v1/me")
    db.session.expire_all()
    assert db.session.get(ApiToken, token.id).last_used_at is not None


def test_me_names_the_user_and_their_townships(api, clerk):
    body = api.get("/api/v1/me").get_json()
    assert body["username"] == "clerk"
    assert body["token"]["name"] == "tests"
    assert [t["code"] for t in body["townships"]] == ["east"]
    assert {"api.use", "cases.read", "cases.write"} <= set(body["townships"][0]["permissions"])


def test_townships_lists_only_visible_ones(api_as, clerk, county_admin, other_township):
    codes = [t["code"] for t in api_as(clerk).get("/api/v1/townships").get_json()["items"]]
    assert codes == ["east"]
    body = api_as(county_admin).get("/api/v1/townships").get_json()
    assert [t["code"] for t in body["items"]] == ["east", "west"]
    assert body["total"] == 2


# ---------------------------------------------------------------------------
# Tenant isolation
# ---------------------------------------------------------------------------


def test_another_townships_case_is_404_by_id_receipt_events_and_transition(
    db, api, make_case, other_township, other_clerk
):
    theirs = make_case(other_township, other_clerk)
    before = counts(db)
    for path in (
        f"/api/v1/cases/{theirs.id}",
        f"/api/v1/cases/{theirs.receipt_no}",
        f"/api/v1/cases/{theirs.receipt_no.lower()}",
        f"/api/v1/cases/{theirs.id}/events",
    ):
        assert_json_error(api.get(path), 404)
    response = api.post(f"/api/v1/cases/{theirs.id}/transitions", {"action": "accept"})
    assert_json_error(response, 404)
    assert counts(db) == before
    db.session.refresh(theirs)
    assert theirs.status == CaseStatus.received


def test_the_list_never_includes_another_townships_cases(
    api, make_case, township, clerk, other_township, other_clerk
):
    mine = make_case(township, clerk)
    make_case(other_township, other_clerk)
    body = api.get("/api/v1/cases").get_json()
    assert [c["id"] for c in body["items"]] == [mine.id]
    assert body["total"] == 1
    assert_json_error(api.get("/api/v1/cases?township=west"), 404)


def test_cannot_create_a_case_in_another_township(db, api, other_township):
    before = counts(db)
    response = api.post("/api/v1/cases", {**VALID, "township": "west"})
    error = assert_json_error(response, 404)
    assert "township" in error["details"]["fields"]
    assert counts(db) == before


def test_a_user_without_api_use_sees_nothing(db, api_as, create_user, township, make_case, clerk):
    case = make_case(township, clerk)
    duty = create_user("duty", "duty_leader", township)  # reads cases, but no api.use
    api = api_as(duty)
    assert api.get("/api/v1/me").get_json()["townships"] == []
    assert api.get("/api/v1/townships").get_json()["items"] == []
    assert api.get("/api/v1/cases").get_json()["total"] == 0
    assert_json_error(api.get(f"/api/v1/cases/{case.id}"), 404)
    before = counts(db)
    assert_json_error(api.post("/api/v1/cases", VALID), 404)
    assert counts(db) == before


@pytest.fixture
def reader(app, create_user, township, monkeypatch):
    """A user whose role may read cases through the API but not change them."""
    from core.contract import Role
    from core.plugins import state

    role = Role("api_reader", "只读", "Reader", frozenset({"api.use", "cases.read"}))
    monkeypatch.setitem(state(app).roles, "api_reader", role)
    return create_user("reader", "api_reader", township)


def test_a_reader_may_read_but_not_write(db, api_as, reader, make_case, township, clerk):
    case = make_case(township, clerk)
    api = api_as(reader)
    assert api.get(f"/api/v1/cases/{case.id}").status_code == 200
    before = counts(db)
    assert_json_error(api.post("/api/v1/cases", VALID), 403)
    assert_json_error(api.post(f"/api/v1/cases/{case.id}/transitions", {"action": "accept"}), 403)
    assert counts(db) == before


def test_a_county_admin_reaches_every_township(
    api_as, county_admin, make_case, township, clerk, other_township, other_clerk
):
    make_case(township, clerk)
    make_case(other_township, other_clerk)
    api = api_as(county_admin)
    assert api.get("/api/v1/cases").get_json()["total"] == 2
    assert api.get("/api/v1/cases?township=west").get_json()["total"] == 1
    assert api.post("/api/v1/cases", {**VALID, "township": "west"}).status_code == 201


# ---------------------------------------------------------------------------
# Registering a case
# ---------------------------------------------------------------------------


def test_register_a_case(db, api, clerk, station):
    response = api.post(
        "/api/v1/cases",
        {
            **VALID,
            "description": "材料齐全",
            "handler": "clerk",
            "department": "east-civil",
            "received_on": (clock.today() - timedelta(days=1)).isoformat(),
            "accept": True,
        },
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert response.headers["Location"].endswith(f"/api/v1/cases/{body['id']}")
    assert body["first_responder"]["username"] == "clerk"
    assert body["handler"]["username"] == "clerk"
    assert body["department"]["code"] == "east-civil"
    assert body["status"] == "accepted" and body["due_on"] is not None
    assert body["timeliness"] in ("on_time", "due_soon")
    case = db.session.get(Case, body["id"])
    assert case.receipt_no == body["receipt_no"] and case.title == "办理低保"
    events = api.get(f"/api/v1/cases/{case.id}/events").get_json()["items"]
    assert [e["action"] for e in events] == ["registered", "accepted"]
    assert events[0]["actor"]["username"] == "clerk"


def test_a_case_is_found_by_id_and_by_receipt_number(api, make_case, township, clerk):
    case = make_case(township, clerk)
    for ref in (str(case.id), case.receipt_no, case.receipt_no.lower()):
        body = api.get(f"/api/v1/cases/{ref}").get_json()
        assert body["id"] == case.id
    assert_json_error(api.get("/api/v1/cases/99999999999999999999"), 404)


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, {"township", "kind", "title", "applicant_name"}),
        ({**VALID, "title": "  "}, {"title"}),
        ({**VALID, "title": 5}, {"title"}),
        ({**VALID, "title": "x" * 201}, {"title"}),
        ({**VALID, "applicant_id": "7"}, {"applicant_id"}),
        ({**VALID, "applicant_id": True}, {"applicant_id"}),
        ({**VALID, "applicant_id": 999999}, {"applicant_id"}),
        ({**VALID, "accept": "yes"}, {"accept"}),
        ({**VALID, "township": {"code": "east"}}, {"township"}),
        ({**VALID, "kind": "marriage"}, {"kind"}),
        ({**VALID, "received_on": "2999-01-01"}, {"received_on"}),
        ({**VALID, "received_on": "1999-12-31"}, {"received_on"}),
        ({**VALID, "received_on": "24/01/2025"}, {"received_on"}),
        ({**VALID, "received_on": 20250124}, {"received_on"}),
        ({**VALID, "handler": "wclerk"}, {"handler"}),
        ({**VALID, "department": "west-civil"}, {"department"}),
        ({**VALID, "aplicant_name": "typo"}, {"aplicant_name"}),
    ],
)
def test_bad_input_is_refused_field_by_field_and_nothing_is_written(
    db, api, other_clerk, create_unit, other_township, body, fields
):
    create_unit("西镇民政办", "west-civil", "station", other_township)
    before = counts(db)
    error = assert_json_error(api.post("/api/v1/cases", body), 422)
    assert set(error["details"]["fields"]) == fields
    assert all(isinstance(m, str) and m for m in error["details"]["fields"].values())
    assert counts(db) == before


@pytest.mark.parametrize(
    ("kwargs", "status"),
    [
        ({"data": "{not json", "content_type": "application/json"}, 400),
        ({"json": [VALID]}, 400),
        ({"json": "a string"}, 400),
        ({"data": "title=x", "content_type": "application/x-www-form-urlencoded"}, 415),
        ({}, 415),
    ],
)
def test_a_body_that_is_not_a_json_object_is_refused(db, api, kwargs, status):
    before = counts(db)
    assert_json_error(api.post("/api/v1/cases", **kwargs), status)
    assert counts(db) == before


def test_an_applicant_of_the_township_is_linked(db, api, township):
    person = Person(township_id=township.id, name="李四", phone="13812345678")
    db.session.add(person)
    db.session.commit()
    body = api.post("/api/v1/cases", {**VALID, "applicant_id": person.id}).get_json()
    assert body["applicant_id"] == person.id


def test_a_plugin_case_kind_exists_only_where_the_plugin_is_enabled(db, api, township):
    from core.institutions import set_enabled

    before = counts(db)
    error = assert_json_error(api.post("/api/v1/cases", {**VALID, "kind": "example.visit"}), 422)
    assert set(error["details"]["fields"]) == {"kind"}
    assert counts(db) == before
    set_enabled(township, "example", True)
    response = api.post("/api/v1/cases", {**VALID, "kind": "example.visit"})
    assert response.status_code == 201
    assert response.get_json()["kind_label"] in ("示例走访", "Example visit")


# ---------------------------------------------------------------------------
# Transitions
# ---------------------------------------------------------------------------


def test_a_case_goes_through_its_life(db, api, make_case, township, clerk, station):
    case = make_case(township, clerk, kind="inquiry")
    path = f"/api/v1/cases/{case.id}/transitions"
    steps = [
        ({"action": "accept"}, "accepted"),
        ({"action": "request_extension", "amount": 30, "reason": "需调研"}, "accepted"),
        ({"action": "assign", "handler": "clerk", "department": "east-civil"}, "in_progress"),
        ({"action": "wait", "note": "请补户口本"}, "waiting"),
        ({"action": "start"}, "in_progress"),
        ({"action": "forward", "department": "east-civil", "note": "转民政办"}, "forwarded"),
        ({"action": "resolve", "result": "已办结"}, "resolved"),
        ({"action": "deliver", "delivery_note": "电话告知"}, "delivered"),
        ({"action": "close"}, "closed"),
        ({"action": "reopen", "reason": "群众不满意"}, "reopened"),
    ]
    for body, status in steps:
        response = api.post(path, body)
        assert response.status_code == 200, (body, response.get_json())
        assert response.get_json()["status"] == status, body
    db.session.expire_all()
    assert db.session.get(Case, case.id).status == CaseStatus.reopened
    trail = api.get(f"/api/v1/cases/{case.id}/events?per_page=100").get_json()
    actions = [e["action"] for e in trail["items"]]
    assert actions[0] == "registered" and actions[-1] == "reopened"
    assert "extension_requested" in actions and "paused" in actions


def test_an_illegal_transition_is_409_and_changes_nothing(db, api, make_case, township, clerk):
    case = make_case(township, clerk)
    before = counts(db)
    response = api.post(
        f"/api/v1/cases/{case.id}/transitions", {"action": "resolve", "result": "x"}
    )
    assert_json_error(response, 409)
    assert counts(db) == before
    db.session.refresh(case)
    assert case.status == CaseStatus.received and case.result is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "action"),
        ({"action": "fly"}, "action"),
        ({"action": ["accept"]}, "action"),
        ({"action": "wait"}, "note"),
        ({"action": "wait", "note": 3}, "note"),
        ({"action": "accept", "on": "2999-01-01"}, "on"),
        ({"action": "accept", "when": "today"}, "when"),
        ({"action": "request_extension", "amount": "30", "reason": "x"}, "amount"),
        ({"action": "assign"}, "handler"),
        ({"action": "assign", "handler": "wclerk"}, "handler"),
        ({"action": "forward", "department": "nowhere", "note": "x"}, "department"),
    ],
)
def test_bad_transition_input_is_422_and_changes_nothing(
    db, api, make_case, township, clerk, other_clerk, body, field
):
    case = make_case(township, clerk)
    before = counts(db)
    error = assert_json_error(api.post(f"/api/v1/cases/{case.id}/transitions", body), 422)
    assert field in error["details"]["fields"]
    assert counts(db) == before
    db.session.refresh(case)
    assert case.status == CaseStatus.received


def test_a_service_refusal_after_acceptance_is_409(db, api, make_case, township, clerk):
    case = make_case(township, clerk, kind="service")  # service limits cannot be extended
    accept_case(case, clerk)
    before = counts(db)
    body = {"action": "request_extension", "amount": 10, "reason": "忙"}
    assert_json_error(api.post(f"/api/v1/cases/{case.id}/transitions", body), 409)
    assert counts(db) == before


# ---------------------------------------------------------------------------
# Lists: paging, filters, queries
# ---------------------------------------------------------------------------


def test_pages_have_links_and_limits(api, make_case, township, clerk):
    for i in range(5):
        make_case(township, clerk, title=f"事项{i}")
    first = api.get("/api/v1/cases?per_page=2").get_json()
    assert (first["page"], first["per_page"], first["total"], first["pages"]) == (1, 2, 5, 3)
    assert first["prev"] is None
    second = api.get(first["next"]).get_json()
    assert second["page"] == 2 and second["prev"] and second["next"]
    last = api.get(second["next"]).get_json()
    assert last["next"] is None and len(last["items"]) == 1
    seen = [c["id"] for page in (first, second, last) for c in page["items"]]
    assert len(set(seen)) == 5 and seen == sorted(seen, reverse=True)
    for query in ("per_page=101", "per_page=0", "page=0", "page=x", "per_page=-1"):
        error = assert_json_error(api.get(f"/api/v1/cases?{query}"), 422)
        assert set(error["details"]["fields"]) <= {"page", "per_page"}


def test_a_page_costs_the_same_queries_for_5_and_50_cases(
    api, make_case, township, clerk, station, query_counter
):
    def make(n: int) -> None:
        for i in range(n):
            case = make_case(township, clerk, title=f"事项{i}", handler=clerk, department=station)
            if i % 2:
                accept_case(case, clerk)

    make(5)
    api.get("/api/v1/cases?per_page=100")  # the first use records last_used_at
    with query_counter() as q5:
        body = api.get("/api/v1/cases?per_page=100").get_json()
    assert len(body["items"]) == 5
    make(45)
    with query_counter() as q50:
        body = api.get("/api/v1/cases?per_page=100").get_json()
    assert len(body["items"]) == 50
    assert len(q5) == len(q50), (q5, q50)


def test_filters(api, make_case, township, clerk, other_township):
    received = make_case(township, clerk)
    long_ago = clock.today() - timedelta(days=90)
    late = make_case(township, clerk, kind="inquiry", received_on=long_ago, accept=True)
    assert late.due_on < clock.today()

    def ids(query: str) -> list[int]:
        return [c["id"] for c in api.get(f"/api/v1/cases?{query}").get_json()["items"]]

    assert ids("status=received") == [received.id]
    assert ids("status=accepted") == [late.id]
    assert ids("kind=inquiry") == [late.id]
    assert ids("overdue=true") == [late.id]
    assert ids("overdue=false") == [received.id]
    assert ids("township=east&status=received") == [received.id]
    error = assert_json_error(api.get("/api/v1/cases?status=lost&kind=nope&overdue=maybe"), 422)
    assert set(error["details"]["fields"]) == {"status", "kind", "overdue"}
    assert_json_error(api.get("/api/v1/cases?township=nowhere"), 404)


# ---------------------------------------------------------------------------
# Errors are JSON
# ---------------------------------------------------------------------------


def test_unknown_route_method_and_crash_answer_json(
    api, app, make_case, township, clerk, monkeypatch
):
    assert_json_error(api.get("/api/v1/nothing-here"), 404)
    assert_json_error(api.get("/api/nothing"), 404)
    response = api.client.delete("/api/v1/cases", headers=api._headers())
    assert_json_error(response, 405)
    case = make_case(township, clerk)

    def crash(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("core.api.resources.case_json", crash)
    response = api.get(f"/api/v1/cases/{case.id}")
    error = assert_json_error(response, 500)
    assert "boom" not in error["message"]
    assert b"<html" not in response.data.lower()


# ---------------------------------------------------------------------------
# OpenAPI
# ---------------------------------------------------------------------------


def test_openapi_document_validates_and_covers_every_route(app, client):
    from openapi_spec_validator import validate

    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    document = response.get_json()
    validate(document)
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    routes = [r for r in app.url_map.iter_rules() if r.rule.startswith("/api/")]
    assert any(r.rule.startswith("/api/v1/") for r in routes)
    for rule in routes:
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        assert path in document["paths"], path
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert method.lower() in document["paths"][path], (method, path)


def test_the_transition_bodies_in_the_document_come_from_the_one_table(app, client):
    """Each action of core.cases.TRANSITIONS_BY_ACTION has its body in the document, with
    its fields, required ones required, and nothing else."""
    from core.cases import TRANSITIONS_BY_ACTION

    document = client.get("/api/openapi.json").get_json()
    body = document["paths"]["/api/v1/cases/{ref}/transitions"]["post"]["requestBody"]
    mapping = body["content"]["application/json"]["schema"]["discriminator"]["mapping"]
    assert set(mapping) == set(TRANSITIONS_BY_ACTION)
    for name, action in TRANSITIONS_BY_ACTION.items():
        schema = document["components"]["schemas"][mapping[name].rsplit("/", 1)[1]]
        assert set(schema["properties"]) == {"action", *(field.name for field in action.fields)}
        required = {"action", *(field.name for field in action.fields if field.required)}
        assert set(schema["required"]) == required, name
        assert schema["additionalProperties"] is False


def test_openapi_needs_no_token(client):
    assert json.loads(client.get("/api/openapi.json").data)["openapi"].startswith("3.")


def test_token_requests_need_no_csrf_token_when_csrf_is_on(app, db, clerk, township):
    from core.testing.fixtures import built_app

    with built_app(app, WTF_CSRF_ENABLED=True) as other:
        response = Api(other.test_client(), create_token(clerk, "csrf")[1]).post(
            "/api/v1/cases", VALID
        )
    assert response.status_code == 201, response.get_data(as_text=True)


def test_a_leader_decides_an_extension_through_the_api(
    api_as, make_case, township, clerk, leader, db
):
    case = make_case(township, clerk, kind="inquiry", accept=True)
    path = f"/api/v1/cases/{case.id}/transitions"
    nothing = api_as(leader).post(path, {"action": "decide_extension", "approve": True})
    assert "no extension request" in assert_json_error(nothing, 409)["message"]
    asked = api_as(clerk).post(
        path, {"action": "request_extension", "amount": 30, "reason": "需请示上级"}
    )
    assert asked.status_code == 200, asked.get_data(as_text=True)
    # the permission comes from the one table of transitions (core.cases), checked first
    by_clerk = api_as(clerk).post(path, {"action": "decide_extension", "approve": True})
    assert "leader" in assert_json_error(by_clerk, 403)["message"]
    missing = api_as(leader).post(path, {"action": "decide_extension"})
    assert "approve" in assert_json_error(missing, 422)["details"]["fields"]
    approved = api_as(leader).post(
        path, {"action": "decide_extension", "approve": True, "note": "同意"}
    )
    assert approved.status_code == 200, approved.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Case, case.id).limit_amount == 30
