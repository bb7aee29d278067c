"""Enabling an institution: its menu and pages appear and vanish without a restart."""

from __future__ import annotations

from sqlalchemy import select

from core.models import AuditEvent, InstitutionSetting
from tests.admin.conftest import text


def _menu_has_example(client) -> bool:
    page = text(client.get("/admin/"))
    return "/admin/example_notes/" in page and "示例" in page


def test_switching_the_example_institution_on_and_off(
    client, staff, township_admin, clerk, other_clerk, township, db
):
    staff.login(clerk)
    assert not _menu_has_example(client)
    assert client.get("/admin/example_notes/").status_code == 404
    staff.logout()

    staff.login(township_admin)
    response = client.post(
        "/admin/admin_institutions/toggle/",
        data={"township": township.id, "plugin": "example", "enabled": "1"},
    )
    assert response.status_code == 303
    assert f'data-state="on" id="switch-{township.id}-example"' in text(
        client.get("/admin/admin_institutions/")
    )
    staff.logout()

    staff.login(clerk)
    assert _menu_has_example(client)
    assert client.get("/admin/example_notes/").status_code == 200
    staff.logout()

    staff.login(other_clerk)  # the other township never sees it
    assert not _menu_has_example(client)
    assert client.get("/admin/example_notes/").status_code == 404
    staff.logout()

    staff.login(township_admin)
    client.post(
        "/admin/admin_institutions/toggle/",
        data={"township": township.id, "plugin": "example", "enabled": "0"},
    )
    staff.logout()
    staff.login(clerk)
    assert not _menu_has_example(client)
    assert client.get("/admin/example_notes/").status_code == 404
    actions = [
        e.action
        for e in db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.object_type == "Institution")
            .order_by(AuditEvent.id)
        )
    ]
    assert actions == ["enable", "disable"]


def test_switchboard_refuses_another_township_and_unknown_plugins(
    client, staff, township_admin, other_township, township, db
):
    staff.login(township_admin)
    assert (
        client.post(
            "/admin/admin_institutions/toggle/",
            data={"township": other_township.id, "plugin": "example", "enabled": "1"},
        ).status_code
        == 404
    )
    assert (
        client.post(
            "/admin/admin_institutions/toggle/",
            data={"township": township.id, "plugin": "nope", "enabled": "1"},
        ).status_code
        == 404
    )
    assert db.session.scalar(select(InstitutionSetting)) is None


def test_switchboard_is_for_administrators(client, staff, clerk):
    staff.login(clerk)
    assert client.get("/admin/admin_institutions/").status_code == 404
