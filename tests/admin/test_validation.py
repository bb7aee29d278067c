"""Input a clerk can trust: dates in range, resident ID numbers with their check digit,
phones, text that fits its column (refused, never cut) — in the services and the admin."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import time_machine
from sqlalchemy import func, select

from core.testing.fixtures import page_text, page_texts
from core.validation import (
    InvalidInput,
    check_date,
    check_phone,
    check_range,
    check_resident_id,
    fits,
)

VALID_ID = "110101199003071233"  # GB 11643 check digit 3


def test_dates_before_the_earliest_year_or_in_the_future_are_refused(app, db, township):
    with pytest.raises(InvalidInput, match="1800-01-01"):
        check_date(date(1800, 1, 1))
    assert check_date(date(2001, 5, 1)) == date(2001, 5, 1)
    # 00:30 in Shanghai on 1 December is still 30 November in UTC: the township's today
    with time_machine.travel(datetime(2026, 11, 30, 16, 30, tzinfo=UTC), tick=False):
        assert check_date(date(2026, 12, 1), township=township, past=True) == date(2026, 12, 1)
        with pytest.raises(InvalidInput, match="future"):
            check_date(date(2026, 12, 2), township=township, past=True)
    with pytest.raises(InvalidInput):
        check_range(date(2026, 5, 2), date(2026, 5, 1))
    check_range(date(2026, 5, 1), date(2026, 5, 1))


def test_earliest_year_is_a_setting(app, db, monkeypatch):
    monkeypatch.setitem(app.config, "EARLIEST_YEAR", 2020)
    with pytest.raises(InvalidInput):
        check_date(date(2019, 12, 31))


@pytest.mark.parametrize(
    ("raw", "ok"),
    [
        (VALID_ID, VALID_ID),
        ("11010119900307123x", None),  # wrong check digit (X is not 3)
        ("110101199003071234", None),  # wrong check digit
        ("12345", None),
        ("110101199002301233", None),  # 30 February
        ("", None),
    ],
)
def test_resident_id_numbers_by_gb_11643(app, raw, ok):
    if ok is None and raw:
        with pytest.raises(InvalidInput):
            check_resident_id(raw)
    else:
        assert check_resident_id(raw) == (ok or None)


def test_phones_by_libphonenumber(app):
    assert check_phone("138 1234 5678") == "13812345678"
    assert check_phone("+86 10 6512 3456") == "01065123456"
    for bad in ("abc", "12345", "1381234567"):
        with pytest.raises(InvalidInput):
            check_phone(bad)


def test_text_longer_than_its_column_is_refused_never_cut(app):
    from core.models import Case

    assert fits("短标题", Case.title) == "短标题"
    with pytest.raises(InvalidInput, match="100000"):
        fits("字" * 100_000, Case.title)


def test_the_people_form_refuses_a_bad_id_number_and_phone(client, staff, clerk, township, db):
    from core.models import Person

    staff.login(clerk)
    response = client.post(
        "/admin/admin_people/new/",
        data={"township_id": township.id, "name": "张三", "id_number": "12345", "phone": "abc"},
    )
    assert response.status_code == 200  # the form again, with the reasons
    errors = " ".join(page_texts(response.get_data(as_text=True), ".invalid-feedback"))
    assert "18 characters" in errors and "not a phone number" in errors
    assert db.session.scalar(select(func.count(Person.id))) == 0
    client.post(
        "/admin/admin_people/new/",
        data={
            "township_id": township.id,
            "name": "张三",
            "id_number": VALID_ID,
            "phone": "138 1234 5678",
        },
    )
    person = db.session.scalars(select(Person)).one()
    assert (person.id_number, person.phone) == (VALID_ID, "13812345678")


def test_a_case_received_in_1800_or_with_a_huge_name_is_refused(client, staff, clerk, township, db):
    from core.models import Case

    staff.login(clerk)
    base = {"township_id": township.id, "kind": "service", "title": "办证"}
    old = client.post(
        "/admin/admin_cases/new/",
        data={**base, "applicant_name": "张三", "received_on": "1800-01-01"},
    )
    assert old.status_code == 400 and "check the year" in old.get_data(as_text=True)
    huge = client.post("/admin/admin_cases/new/", data={**base, "applicant_name": "张" * 100_000})
    assert huge.status_code == 400
    assert db.session.scalar(select(func.count(Case.id))) == 0


def test_the_applicant_lookup_tells_namesakes_apart(
    client, staff, clerk, township, other_township, village, make_person, db
):
    make_person(
        township, "王芳", id_number="110101199003071233", phone="13812345678", village=village
    )
    make_person(township, "王芳", id_number="110101198501019994", phone="13900001111")
    make_person(other_township, "王芳", id_number="110101197001010008", phone="13700002222")
    staff.login(clerk)

    def lookup(term):
        response = client.get(f"/admin/admin_cases/ajax/lookup/?name=applicant&query={term}")
        assert response.status_code == 200
        return [label for _, label in response.get_json()]

    by_name = lookup("王芳")
    assert len(by_name) == 2  # the other township's namesake is not offered
    assert by_name[0] != by_name[1] and any("东村" in label for label in by_name)
    assert lookup("1233") == [label for label in by_name if "1233" in label]
    assert len(lookup("1111")) == 1  # last digits of the phone
    assert len(lookup("东村")) == 1  # the village
    assert all("13812345678" not in label for label in by_name)  # masked


def test_a_citizen_not_on_the_register_is_added_with_a_phone(
    client, staff, clerk, township, village, db
):
    from core.models import Case, Person

    staff.login(clerk)
    response = client.post(
        "/admin/admin_cases/new/",
        data={
            "township_id": township.id,
            "kind": "service",
            "title": "补办户口本",
            "applicant_name": "赵六",
            "applicant_phone": "139-0000-1111",
            "applicant_village": village.id,
        },
    )
    assert response.status_code == 302
    case = db.session.scalars(select(Case)).one()
    person = db.session.scalars(select(Person)).one()
    assert case.applicant_id == person.id
    assert (person.name, person.phone, person.village_id) == ("赵六", "13900001111", village.id)
    bad = client.post(
        "/admin/admin_cases/new/",
        data={
            "township_id": township.id,
            "kind": "service",
            "title": "x",
            "applicant_name": "钱七",
            "applicant_phone": "abc",
        },
    )
    assert bad.status_code == 400
    assert db.session.scalar(select(func.count(Person.id))) == 1


def test_the_handler_list_offers_only_those_who_may_handle_cases(
    client, staff, clerk, leader, create_user, township, make_case, db
):
    from core.institutions import set_enabled

    set_enabled(township, "training", True)
    db.session.commit()
    create_user("cadre", "training_learner", township, name="参训干部甲")
    case = make_case(township, clerk)
    staff.login(clerk)
    html = client.get(f"/admin/admin_cases/details/?id={case.id}").get_data(as_text=True)
    offered = page_texts(html, 'select[name="handler_id"] option')
    assert clerk.name in offered and leader.name in offered
    assert "参训干部甲" not in offered
    assert page_text(html, "#print-receipt") == "Print receipt"
