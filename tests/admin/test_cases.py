"""Cases in the admin: registration, transitions, due-date explanation, fixed query counts."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from core import clock
from core.cases import EVENT_LABELS
from core.models import Case, CaseEvent, CaseStatus, ExtensionRequest
from tests.admin.conftest import field_has_error, text


def _count(db, model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_register_and_accept_a_case_as_first_responder(client, staff, clerk, township, db):
    staff.login(clerk)
    response = client.post(
        "/admin/admin_cases/new/",
        data={"kind": "service", "title": "办理居住证明", "applicant_name": "张三", "accept": "y"},
    )
    assert response.status_code == 302
    case = db.session.scalar(select(Case))
    assert (case.first_responder_id, case.township_id) == (clerk.id, township.id)
    assert case.status == CaseStatus.accepted and case.due_on is not None
    page = text(client.get(response.headers["Location"]))
    assert "办理居住证明" in page
    assert "How the due date was computed" in page
    assert page.count('class="case-event"') == 2  # registered, accepted


def test_missing_title_is_refused_and_nothing_is_written(client, staff, clerk, township, db):
    staff.login(clerk)
    response = client.post(
        "/admin/admin_cases/new/", data={"kind": "service", "title": "", "applicant_name": "张三"}
    )
    assert response.status_code == 400
    assert field_has_error(response, "title")
    assert _count(db, Case) == 0 and _count(db, CaseEvent) == 0


def test_future_received_date_is_refused_and_nothing_is_written(client, staff, clerk, township, db):
    staff.login(clerk)
    tomorrow = clock.today() + timedelta(days=1)
    response = client.post(
        "/admin/admin_cases/new/",
        data={
            "kind": "service",
            "title": "预约",
            "applicant_name": "张三",
            "received_on": tomorrow.isoformat(),
        },
    )
    assert response.status_code == 400
    assert "is in the future" in text(response)
    assert _count(db, Case) == 0 and _count(db, CaseEvent) == 0


def test_illegal_transition_is_flashed_and_changes_nothing(
    client, staff, clerk, township, make_case, db
):
    case = make_case(township, clerk, status=CaseStatus.received)
    staff.login(clerk)
    response = client.post(
        f"/admin/admin_cases/transition/{case.id}/resolve/",
        data={"result": "已答复"},
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert 'class="alert alert-danger' in text(response)
    db.session.expire_all()
    case = db.session.get(Case, case.id)
    assert case.status == CaseStatus.received and case.result is None
    assert _count(db, CaseEvent) == 0


def test_unknown_action_answers_404(client, staff, clerk, township, make_case):
    case = make_case(township, clerk)
    staff.login(clerk)
    assert client.post(f"/admin/admin_cases/transition/{case.id}/explode/").status_code == 404


def test_a_case_walks_through_its_life(client, staff, clerk, leader, township, station, db):
    staff.login(clerk)
    client.post(
        "/admin/admin_cases/new/",
        data={"kind": "inquiry", "title": "咨询政策", "applicant_name": "王五", "accept": "y"},
    )
    case = db.session.scalar(select(Case))
    url = f"/admin/admin_cases/transition/{case.id}"

    def act(name, **data):
        response = client.post(f"{url}/{name}/", data=data)
        assert response.status_code == 303, (name, response.status_code)
        db.session.expire_all()
        return db.session.get(Case, case.id)

    case = act("assign", handler_id=clerk.id, department_id=station.id)
    assert case.status == CaseStatus.in_progress and case.department_id == station.id
    case = act("wait", note="补交户口本")
    assert case.status == CaseStatus.waiting
    case = act("start")
    assert case.status == CaseStatus.in_progress
    case = act("extend", amount="20", reason="需调研")
    assert db.session.scalar(select(ExtensionRequest)).approved is None
    # a clerk may not decide; the leader may
    assert client.post(f"{url}/decide/", data={"decision": "approve"}).status_code == 403
    staff.logout()
    staff.login(leader)
    old_due = case.due_on
    case = act("decide", decision="approve")
    assert case.limit_amount == 20 and case.due_on > old_due
    case = act("forward", department_id=station.id, note="转民政办")
    assert case.status == CaseStatus.forwarded
    case = act("resolve", result="已答复")
    case = act("deliver", delivery_note="电话告知")
    case = act("close")
    assert case.status == CaseStatus.closed
    case = act("reopen", reason="群众不满意")
    assert case.status == CaseStatus.reopened
    page = text(client.get(f"/admin/admin_cases/details/?id={case.id}"))
    for action in (
        "registered",
        "accepted",
        "assigned",
        "paused",
        "extended",
        "forwarded",
        "resolved",
        "delivered",
        "closed",
        "reopened",
    ):
        assert f"<td>{EVENT_LABELS[action]}</td>" in page  # in words, in English


def test_bad_extension_amount_changes_nothing(client, staff, clerk, township, db):
    staff.login(clerk)
    client.post(
        "/admin/admin_cases/new/",
        data={"kind": "inquiry", "title": "咨询", "applicant_name": "王五", "accept": "y"},
    )
    case = db.session.scalar(select(Case))
    for amount in ("abc", "99", "10"):
        response = client.post(
            f"/admin/admin_cases/transition/{case.id}/extend/",
            data={"amount": amount, "reason": "x"},
            follow_redirects=True,
        )
        assert "alert alert-danger" in text(response), amount
    assert _count(db, ExtensionRequest) == 0


def test_generic_edit_and_delete_of_a_case_are_not_offered(
    client, staff, clerk, township, make_case, db
):
    case = make_case(township, clerk)
    staff.login(clerk)
    response = client.post(f"/admin/admin_cases/edit/?id={case.id}", data={"title": "改"})
    assert response.status_code == 302
    assert client.post("/admin/admin_cases/delete/", data={"id": case.id}).status_code == 405
    db.session.expire_all()
    assert db.session.get(Case, case.id).title.startswith("查询低保政策")


def test_due_date_explanation_names_holidays_and_adjusted_working_days(
    client, staff, clerk, township, make_case, db
):
    from core.models import LimitUnit

    case = make_case(township, clerk)
    case.accepted_on = date(2025, 1, 24)
    case.limit_amount, case.limit_unit = 3, LimitUnit.working_days
    case.due_on = date(2025, 2, 5)
    db.session.commit()
    staff.login(clerk)
    page = text(client.get(f"/admin/admin_cases/details/?id={case.id}"))
    assert "The day of acceptance is not counted" in page or "2025-01-24" in page
    assert "2025-01-26" in page and "adjusted working day" in page  # Sunday worked
    assert "public holiday" in page  # Spring Festival
    assert "2025-02-05" in page


def test_list_shows_timeliness_badges(client, staff, clerk, township, make_case):
    make_case(township, clerk, title="已逾期", due_on=clock.today() - timedelta(days=3))
    staff.login(clerk)
    page = text(client.get("/admin/admin_cases/"))
    assert "badge-danger" in page


@pytest.mark.parametrize("endpoint", ["admin_cases", "admin_people"])
def test_list_runs_the_same_number_of_queries_for_5_and_50_rows(
    client, staff, clerk, township, village, make_case, make_person, query_counter, endpoint, db
):
    staff.login(clerk)

    def fill(n):
        for i in range(n):
            if endpoint == "admin_cases":
                make_case(
                    township,
                    clerk,
                    handler=clerk,
                    commit=False,
                    due_on=clock.today() + timedelta(days=i % 7 - 3),
                )
            else:
                make_person(township, f"居民{i}", village=village, commit=False)
        db.session.commit()

    def count() -> int:
        client.get(f"/admin/{endpoint}/?page_size=50")  # settings come from core.cache after
        with query_counter() as statements:
            response = client.get(f"/admin/{endpoint}/?page_size=50")
            assert response.status_code == 200
        return statements

    fill(5)
    few_sql = count()
    few = len(few_sql)
    fill(45)
    many_sql = count()
    many = len(many_sql)
    page = text(client.get(f"/admin/{endpoint}/?page_size=50"))
    assert len(re.findall(r'class="col-(?:receipt_no|name)">\s*(?:EAST-T-\d+|居民\d+)', page)) == 50
    assert few == many, "\n".join(s[:90] for s in [*few_sql, "----", *many_sql])
