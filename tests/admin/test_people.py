"""The people register: masking by role, village checks."""

from __future__ import annotations

from sqlalchemy import select

from core.models import Person
from tests.admin.conftest import text


def test_clerk_sees_id_numbers_leader_sees_them_masked(
    client, staff, clerk, leader, township, make_person
):
    person = make_person(township, "赵六")
    staff.login(clerk)
    assert "110101199003071234" in text(client.get("/admin/admin_people/"))
    assert "13812345678" in text(client.get(f"/admin/admin_people/details/?id={person.id}"))
    staff.logout()
    staff.login(leader)  # leaders have people.read but not people.read_sensitive
    listing = text(client.get("/admin/admin_people/"))
    details = text(client.get(f"/admin/admin_people/details/?id={person.id}"))
    for page in (listing, details):
        assert "110101199003071234" not in page and "13812345678" not in page
        assert "1101**********1234" in page and "138****5678" in page


def test_leader_edit_form_neither_shows_nor_clears_the_hidden_numbers(
    client, staff, leader, township, make_person, db
):
    person = make_person(township, "赵六")
    staff.login(leader)
    form = text(client.get(f"/admin/admin_people/edit/?id={person.id}"))
    assert "110101199003071234" not in form and 'name="id_number"' not in form
    response = client.post(
        f"/admin/admin_people/edit/?id={person.id}",
        data={"name": "赵六六", "category": "citizen", "id_number": "", "phone": ""},
    )
    assert response.status_code == 302
    db.session.expire_all()
    person = db.session.get(Person, person.id)
    assert person.name == "赵六六" and person.id_number == "110101199003071234"


def test_a_village_of_another_township_is_refused_with_a_clear_message(
    client, staff, county_admin, township, other_township, create_unit, db
):
    west_village = create_unit("西村", "west-v1", "village", other_township)
    staff.login(county_admin)
    response = client.post(
        "/admin/admin_people/new/",
        data={
            "name": "错村",
            "category": "citizen",
            "township_id": township.id,
            "village_id": west_village.id,
        },
    )
    assert response.status_code == 200
    assert "西村" in text(response) and "is not in this person" in text(response)
    assert db.session.scalar(select(Person).where(Person.name == "错村")) is None


def test_a_person_in_own_village(client, staff, clerk, township, village, db):
    staff.login(clerk)
    response = client.post(
        "/admin/admin_people/new/",
        data={"name": "村民", "category": "party_member", "village_id": village.id},
    )
    assert response.status_code == 302
    person = db.session.scalar(select(Person).where(Person.name == "村民"))
    assert person.village_id == village.id and person.township_id == township.id
