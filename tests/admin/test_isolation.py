"""Tenant isolation: staff of one township never see nor change another township's rows."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from core.models import AuditEvent, Case, Person
from tests.admin.conftest import field_has_error, text
from tests.example_plugin.models import ExampleNote


@pytest.fixture
def two_townships(
    township, other_township, clerk, other_clerk, make_case, make_person, make_note, enable
):
    enable(township)
    enable(other_township)
    return {
        "own_case": make_case(township, clerk, title="东镇事项"),
        "foreign_case": make_case(other_township, other_clerk, title="西镇事项"),
        "own_person": make_person(township, "东镇居民"),
        "foreign_person": make_person(other_township, "西镇居民"),
        "own_note": make_note(township, "东镇笔记"),
        "foreign_note": make_note(other_township, "西镇笔记"),
    }


@pytest.mark.parametrize(
    ("endpoint", "row"),
    [
        ("admin_cases", "foreign_case"),
        ("admin_people", "foreign_person"),
        ("example_notes", "foreign_note"),
    ],
)
def test_rows_of_another_township_answer_404(client, staff, clerk, two_townships, endpoint, row):
    staff.login(clerk)
    rid = two_townships[row].id
    assert client.get(f"/admin/{endpoint}/details/?id={rid}").status_code == 404
    assert client.get(f"/admin/{endpoint}/edit/?id={rid}").status_code == 404
    assert (
        client.post(
            f"/admin/{endpoint}/edit/?id={rid}", data={"title": "x", "name": "x"}
        ).status_code
        == 404
    )
    assert client.post(f"/admin/{endpoint}/delete/", data={"id": rid}).status_code == 404


def test_foreign_rows_survive_delete_and_edit_attempts(client, staff, clerk, two_townships, db):
    staff.login(clerk)
    person = two_townships["foreign_person"]
    note = two_townships["foreign_note"]
    client.post("/admin/admin_people/delete/", data={"id": person.id})
    client.post(f"/admin/example_notes/edit/?id={note.id}", data={"title": "hacked"})
    db.session.expire_all()
    assert db.session.get(Person, person.id) is not None
    assert db.session.get(ExampleNote, note.id).title == "西镇笔记"


@pytest.mark.parametrize(
    ("endpoint", "own", "foreign"),
    [
        ("admin_cases", "东镇事项", "西镇事项"),
        ("admin_people", "东镇居民", "西镇居民"),
        ("example_notes", "东镇笔记", "西镇笔记"),
    ],
)
def test_lists_show_own_rows_only(client, staff, clerk, two_townships, endpoint, own, foreign):
    staff.login(clerk)
    page = text(client.get(f"/admin/{endpoint}/"))
    assert own in page
    assert foreign not in page


def test_creating_a_person_in_another_township_is_refused(
    client, staff, clerk, other_township, two_townships, db
):
    staff.login(clerk)
    before = db.session.scalar(select(func.count(Person.id)))
    response = client.post(
        "/admin/admin_people/new/",
        data={"name": "偷渡者", "category": "citizen", "township_id": other_township.id},
    )
    assert response.status_code == 200  # the form again, with its error
    assert field_has_error(response, "township_id")
    assert db.session.scalar(select(func.count(Person.id))) == before
    assert db.session.scalar(select(func.count(AuditEvent.id))) == 0


def test_creating_a_note_in_another_township_is_refused(
    client, staff, clerk, other_township, two_townships, db
):
    staff.login(clerk)
    response = client.post(
        "/admin/example_notes/new/", data={"title": "越界", "township_id": other_township.id}
    )
    assert field_has_error(response, "township_id")
    assert db.session.scalar(select(ExampleNote).where(ExampleNote.title == "越界")) is None


def test_registering_a_case_in_another_township_is_refused(
    client, staff, clerk, other_township, two_townships, db
):
    staff.login(clerk)
    response = client.post(
        "/admin/admin_cases/new/",
        data={
            "township_id": other_township.id,
            "kind": "service",
            "title": "越界",
            "applicant_name": "张三",
        },
    )
    assert response.status_code == 400
    assert field_has_error(response, "township_id")
    assert db.session.scalar(select(Case).where(Case.title == "越界")) is None


def test_transitions_on_another_townships_case_answer_404(client, staff, clerk, two_townships):
    staff.login(clerk)
    case = two_townships["foreign_case"]
    response = client.post(
        f"/admin/admin_cases/transition/{case.id}/resolve/", data={"result": "x"}
    )
    assert response.status_code == 404


def test_creating_a_person_in_own_township_writes_an_audit_row(client, staff, clerk, township, db):
    staff.login(clerk)
    response = client.post(
        "/admin/admin_people/new/",
        data={"name": "新居民", "category": "citizen", "id_number": "110101199003071233"},
    )
    assert response.status_code == 302
    person = db.session.scalar(select(Person).where(Person.name == "新居民"))
    assert person.township_id == township.id
    event = db.session.scalar(select(AuditEvent))
    assert (event.action, event.object_type, event.township_id) == ("create", "Person", township.id)
    assert event.after["name"] == "新居民"
    client.post(
        f"/admin/admin_people/edit/?id={person.id}",
        data={"name": "新居民甲", "category": "citizen"},
    )
    update = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert update.action == "update"
    assert update.before == {"name": "新居民"} and update.after == {"name": "新居民甲"}


@pytest.mark.parametrize(
    "endpoint", ["admin_cases", "admin_people", "admin_users", "admin_audit", "example_notes"]
)
def test_a_malformed_id_answers_404(client, staff, county_admin, two_townships, endpoint):
    staff.login(county_admin)
    assert client.get(f"/admin/{endpoint}/details/?id=abc").status_code == 404


@pytest.mark.parametrize("action", ["submit", "send_back"])
def test_release_bulk_actions_check_write_in_each_rows_township(
    client, staff, db, create_user, township, other_township, action
):
    """An officer of one township who may only read another (a leader there) cannot submit
    or send back that township's products through the list's bulk actions."""
    from core.institutions import set_enabled
    from plugins.releases.models import Product, ProductStatus

    for unit in (township, other_township):
        set_enabled(unit, "releases", True)
    db.session.commit()
    user = create_user(
        "both", roles=[("releases_officer", township), ("clerk", other_township)], name="两镇"
    )
    status = ProductStatus.draft if action == "submit" else ProductStatus.submitted
    own = Product(township_id=township.id, title="东镇产品", audience="农户", status=status)
    foreign = Product(
        township_id=other_township.id, title="西镇产品", audience="农户", status=status
    )
    db.session.add_all([own, foreign])
    db.session.commit()
    staff.login(user)
    rows = {"rowid": [str(own.id), str(foreign.id)]}
    if action == "submit":
        client.post("/admin/releases_products/action/", data={"action": "submit", **rows})
    else:
        client.post(
            "/admin/releases_products/send-back/",
            data={"id": [own.id, foreign.id], "reason": "请修改"},
        )
    db.session.expire_all()
    assert db.session.get(Product, foreign.id).status == status  # untouched
    changed = ProductStatus.submitted if action == "submit" else ProductStatus.draft
    assert db.session.get(Product, own.id).status == changed


def test_the_case_filters_offer_each_user_only_their_own_townships_and_handlers(
    client, staff, clerk, other_clerk, township, other_township, make_case, enable
):
    """A list keeps the filters that are the same for everyone once per language; the
    townships and handlers it offers are read for each user, so the next user is never
    offered the first one's."""
    import json

    enable(township)
    enable(other_township)
    make_case(township, clerk, handler=clerk)
    make_case(other_township, other_clerk, handler=other_clerk)

    def offered() -> set[str]:
        html = client.get("/admin/admin_cases/").get_data(as_text=True)
        data = html.split('id="filter-groups-data" class="d-none">', 1)[1].split("</div>", 1)[0]
        return {
            label
            for group in json.loads(data).values()
            for item in group
            for _value, label in item["options"] or ()
        }

    staff.login(clerk)
    mine = offered()
    assert {township.name, clerk.name} <= mine
    assert not {other_township.name, other_clerk.name} & mine
    staff.logout()
    staff.login(other_clerk)
    theirs = offered()
    assert {other_township.name, other_clerk.name} <= theirs
    assert not {township.name, clerk.name} & theirs
