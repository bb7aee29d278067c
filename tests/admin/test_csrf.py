"""With CSRF protection on (as in production), a POST without the token is refused."""

from __future__ import annotations

import re

from sqlalchemy import select


def _token(page: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)


def test_posts_need_the_csrf_token(build_app):
    from core.db import db
    from core.migrate import upgrade
    from core.models import Case, CaseStatus, Membership, OrgUnit, UnitKind, User
    from core.testing.fixtures import PASSWORD, _password_hash

    secured = build_app(WTF_CSRF_ENABLED=True)
    upgrade(secured)
    with secured.app_context():
        town = OrgUnit(kind=UnitKind.township, name="北镇", code="north")
        db.session.add(town)
        db.session.flush()
        town.township_id = town.id
        user = User(username="n-clerk", name="北镇办事员", password_hash=_password_hash())
        db.session.add(user)
        db.session.flush()
        db.session.add(Membership(user_id=user.id, org_unit_id=town.id, role="clerk"))
        db.session.commit()

    client = secured.test_client()
    login_page = client.get("/login").get_data(as_text=True)
    assert (
        client.post("/login", data={"username": "n-clerk", "password": PASSWORD}).status_code == 400
    )
    response = client.post(
        "/login",
        data={"username": "n-clerk", "password": PASSWORD, "csrf_token": _token(login_page)},
    )
    assert response.status_code == 302

    form = {"kind": "service", "title": "带令牌", "applicant_name": "张三"}
    assert client.post("/admin/admin_cases/new/", data=form).status_code == 400
    page = client.get("/admin/admin_cases/new/").get_data(as_text=True)
    response = client.post("/admin/admin_cases/new/", data={**form, "csrf_token": _token(page)})
    assert response.status_code == 302
    with secured.app_context():
        cases = db.session.scalars(select(Case)).all()
        assert [c.title for c in cases] == ["带令牌"]
        assert cases[0].status == CaseStatus.received
        db.session.remove()
