"""Villages and stations in the admin; townships from the command line."""

from click.testing import CliRunner
from flask.cli import ScriptInfo
from sqlalchemy import func, select

from core.cli import main
from core.models import OrgUnit, Person, UnitKind


def test_township_admin_adds_a_station_to_own_township(db, staff, township, township_admin):
    staff.login(township_admin)
    response = staff.client.post(
        "/admin/admin_units/new/",
        data={
            "kind": "station",
            "name": "司法所",
            "code": "east-justice",
            "township_id": township.id,
        },
    )
    assert response.status_code == 302
    unit = db.session.scalar(select(OrgUnit).where(OrgUnit.code == "east-justice"))
    assert unit.kind == UnitKind.station
    assert (unit.township_id, unit.parent_id) == (township.id, township.id)
    listing = staff.client.get("/admin/admin_units/")
    assert "司法所" in listing.text


def test_bad_or_taken_code_is_refused_and_nothing_written(
    db, staff, township, township_admin, village
):
    staff.login(township_admin)
    before = db.session.scalar(select(func.count(OrgUnit.id)))
    taken = staff.client.post(
        "/admin/admin_units/new/",
        data={
            "kind": "village",
            "name": "重名村",
            "code": village.code,
            "township_id": township.id,
        },
        follow_redirects=True,
    )
    assert f"The code {village.code} is taken" in taken.text
    bad = staff.client.post(
        "/admin/admin_units/new/",
        data={"kind": "village", "name": "x", "code": "Not Valid!", "township_id": township.id},
    )
    assert "lower-case letters" in bad.text
    assert db.session.scalar(select(func.count(OrgUnit.id))) == before


def test_units_of_another_township_answer_404(
    db, staff, township_admin, create_unit, other_township
):
    foreign = create_unit("西村", "west-v1", "village", other_township)
    staff.login(township_admin)
    assert staff.client.get(f"/admin/admin_units/edit/?id={foreign.id}").status_code == 404
    assert (
        staff.client.post("/admin/admin_units/delete/", data={"id": foreign.id}).status_code == 404
    )
    assert "西村" not in staff.client.get("/admin/admin_units/").text
    created = staff.client.post(
        "/admin/admin_units/new/",
        data={
            "kind": "village",
            "name": "偷建村",
            "code": "sneaky",
            "township_id": other_township.id,
        },
    )
    assert created.status_code == 200  # the form again, with the township refused
    assert db.session.scalar(select(OrgUnit).where(OrgUnit.code == "sneaky")) is None


def test_a_village_in_use_cannot_be_deleted(db, staff, township, township_admin, village):
    db.session.add(Person(township_id=township.id, village_id=village.id, name="村民"))
    db.session.commit()
    staff.login(township_admin)
    response = staff.client.post(
        "/admin/admin_units/delete/", data={"id": village.id}, follow_redirects=True
    )
    assert "still used by people" in response.text
    assert db.session.get(OrgUnit, village.id) is not None


def test_clerks_see_the_units_but_cannot_change_them(db, staff, clerk, village):
    staff.login(clerk)
    assert village.name in staff.client.get("/admin/admin_units/").text
    assert staff.client.get("/admin/admin_units/new/").status_code in (302, 403, 404)


def test_operator_creates_a_township_from_the_command_line(app, db, county):
    def run(*args):
        return CliRunner().invoke(main, list(args), obj=ScriptInfo(create_app=lambda: app))

    ok = run("units", "create", "xinhua", "--name", "新华镇", "--parent", county.code)
    assert ok.exit_code == 0, ok.output
    unit = db.session.scalar(select(OrgUnit).where(OrgUnit.code == "xinhua"))
    assert (unit.kind, unit.township_id, unit.parent_id) == ("township", unit.id, county.id)
    assert unit.timezone == "Asia/Shanghai"
    orphan = run("units", "create", "lost", "--name", "x")
    assert orphan.exit_code == 2 and "needs --parent" in orphan.output
    bad_zone = run(
        "units", "create", "z", "--name", "x", "--parent", county.code, "--timezone", "Mars/Base"
    )
    assert bad_zone.exit_code == 2 and "unknown time zone" in bad_zone.output
    assert (
        db.session.scalar(select(func.count(OrgUnit.id)).where(OrgUnit.code.in_(["lost", "z"])))
        == 0
    )
