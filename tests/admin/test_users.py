"""Users and memberships: who manages whom, and which roles they may grant."""

from __future__ import annotations

from sqlalchemy import func, select

from core.auth import check_password
from core.models import AuditEvent, Membership, User
from tests.admin.conftest import text


def _new_user(client, **extra):
    data = {
        "username": "newbie",
        "name": "新人",
        "password": "long enough pw",
        "active": "y",
        "role": "clerk",
    }
    data.update(extra)
    return client.post("/admin/admin_users/new/", data=data)


def test_township_admin_creates_a_clerk_with_a_hashed_password(
    client, staff, township_admin, township, db
):
    staff.login(township_admin)
    response = _new_user(client, org_unit_id=township.id)
    assert response.status_code == 302
    user = db.session.scalar(select(User).where(User.username == "newbie"))
    assert user.password_hash.startswith("$argon2") and check_password(user, "long enough pw")
    assert [(m.role, m.org_unit_id) for m in user.memberships] == [("clerk", township.id)]
    audit = db.session.scalar(select(AuditEvent).where(AuditEvent.object_type == "User"))
    assert audit.township_id == township.id and "password_hash" not in audit.after


def test_short_password_is_refused(client, staff, township_admin, township, db):
    staff.login(township_admin)
    response = _new_user(client, org_unit_id=township.id, password="short")
    assert "at least 8 characters" in text(response)
    assert db.session.scalar(select(User).where(User.username == "newbie")) is None


def test_township_admin_cannot_grant_county_roles(client, staff, township_admin, county, db):
    staff.login(township_admin)
    response = _new_user(client, org_unit_id=county.id, role="county_admin")
    assert db.session.scalar(select(User).where(User.username == "newbie")) is None
    assert response.status_code == 200


def test_township_admin_cannot_grant_a_role_in_another_township(
    client, staff, township_admin, township, other_township, other_clerk, clerk, db
):
    staff.login(township_admin)
    response = _new_user(client, org_unit_id=other_township.id)
    assert db.session.scalar(select(User).where(User.username == "newbie")) is None
    assert response.status_code == 200
    # nor add one to an existing user of their own township
    before = db.session.scalar(select(func.count(Membership.id)))
    response = client.post(
        f"/admin/admin_users/memberships/{clerk.id}/",
        data={"role": "clerk", "org_unit_id": other_township.id},
    )
    assert response.status_code == 400
    response = client.post(
        f"/admin/admin_users/memberships/{clerk.id}/",
        data={"role": "county_admin", "org_unit_id": township.id},
    )
    assert response.status_code == 400
    assert db.session.scalar(select(func.count(Membership.id))) == before


def test_township_admin_sees_only_users_of_their_township(
    client, staff, township_admin, clerk, other_clerk
):
    staff.login(township_admin)
    page = text(client.get("/admin/admin_users/"))
    assert "王办事" in page and "西镇办事员" not in page
    assert client.get(f"/admin/admin_users/details/?id={other_clerk.id}").status_code == 404
    assert client.get(f"/admin/admin_users/edit/?id={other_clerk.id}").status_code == 404


def test_county_admin_manages_every_township_and_grants_county_roles(
    client, staff, county_admin, county, other_township, other_clerk, db
):
    staff.login(county_admin)
    assert "西镇办事员" in text(client.get("/admin/admin_users/"))
    response = _new_user(client, org_unit_id=county.id, role="county_admin")
    assert response.status_code == 302
    response = client.post(
        f"/admin/admin_users/memberships/{other_clerk.id}/",
        data={"role": "leader", "org_unit_id": other_township.id},
    )
    assert response.status_code == 303
    roles = {
        m.role
        for m in db.session.scalars(select(Membership).where(Membership.user_id == other_clerk.id))
    }
    assert roles == {"clerk", "leader"}


def test_removing_a_role(client, staff, township_admin, clerk, db):
    staff.login(township_admin)
    membership = db.session.scalar(select(Membership).where(Membership.user_id == clerk.id))
    response = client.post(
        f"/admin/admin_users/memberships/{clerk.id}/", data={"remove": membership.id}
    )
    assert response.status_code == 303
    assert db.session.scalar(select(Membership).where(Membership.user_id == clerk.id)) is None


def test_clerk_has_no_user_admin(client, staff, clerk):
    staff.login(clerk)
    assert client.get("/admin/admin_users/").status_code == 404
