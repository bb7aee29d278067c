"""Roles and permissions: plugins' defaults, and a township's own changes."""

import re

from core.access import can, clear_cache, users_with
from core.models import AuditEvent


def test_township_permissions(app, db, township, other_township, leader, clerk):
    assert can(leader, "example.review", township.id)
    assert not can(clerk, "example.review", township.id)
    assert [u.username for u in users_with("example.review", township.id)] == ["leader"]


def test_a_township_admin_gives_a_permission_to_clerks_there_only(
    client, staff, db, township, other_township, township_admin, clerk, other_clerk
):
    staff.login(township_admin)
    page = client.get(f"/admin/admin_grants/?township={township.id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'value="clerk|example.review"' in html
    # the grid as it stands (every declared permission), plus clerks for example.review
    checked = re.findall(r'value="([^"|]+\|[^"]+)"[^>]*checked', html)
    others = [g for g in checked if not g.endswith("|example.review")]
    response = client.post(
        f"/admin/admin_grants/?township={township.id}",
        data={
            "grant": [
                *others,
                "leader|example.review",
                "example_officer|example.review",
                "clerk|example.review",
            ]
        },
    )
    assert response.status_code == 303
    clear_cache()
    assert can(clerk, "example.review", township.id)
    assert not can(other_clerk, "example.review", other_township.id)
    assert db.session.query(AuditEvent).filter_by(object_type="RoleGrant").count() == 1
    # taking the leaders' default away
    client.post(
        f"/admin/admin_grants/?township={township.id}",
        data={"grant": [*others, "example_officer|example.review", "clerk|example.review"]},
    )
    clear_cache()
    assert [u.username for u in users_with("example.review", township.id)] == ["clerk"]


def test_only_those_who_manage_users_see_the_grants(client, staff, township, clerk):
    staff.login(clerk)
    assert client.get(f"/admin/admin_grants/?township={township.id}").status_code == 404


def test_a_check_of_an_undeclared_permission_is_a_typo(app, db, township, leader):
    import pytest

    with pytest.raises(KeyError, match="not declared"):
        can(leader, "example.reveiw", township.id)
