"""Signing in: argon2 hashes, throttled failures, cookie flags, CSRF, sign-out."""

from sqlalchemy import select

from core.models import User
from core.testing.fixtures import PASSWORD, built_app


def test_passwords_are_stored_as_argon2_hashes(db, clerk):
    stored = db.session.scalar(select(User.password_hash).where(User.id == clerk.id))
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


def test_wrong_password_is_refused_with_a_message(client, clerk):
    response = client.post("/login", data={"username": clerk.username, "password": "nope"})
    assert response.status_code == 401
    assert "Wrong user name or password" in response.get_data(as_text=True)
    assert client.get("/admin/").status_code == 302  # still signed out


def test_failed_sign_ins_are_throttled_per_address_and_user(app, db, clerk, leader):
    with built_app(
        app,
        RATELIMIT_ENABLED=True,
        RATELIMIT_STORAGE_URI="memory://",
        LOGIN_RATE_LIMIT="3 per minute",
    ) as other:
        client = other.test_client()

        def attempt(user, password="wrong"):
            return client.post(
                "/login", data={"username": user.username, "password": password}
            ).status_code

        assert [attempt(clerk) for _ in range(3)] == [401, 401, 401]
        assert attempt(clerk) == 429
        assert attempt(clerk, PASSWORD) == 429  # even the right password waits
        assert attempt(leader, PASSWORD) == 302  # another account is not locked out


def test_session_cookie_is_httponly_and_samesite(client, clerk):
    response = client.post("/login", data={"username": clerk.username, "password": PASSWORD})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_sign_in_form_needs_its_csrf_token(app, db, clerk):
    with built_app(app, WTF_CSRF_ENABLED=True) as other:
        client = other.test_client()
        without = client.post("/login", data={"username": clerk.username, "password": PASSWORD})
        assert without.status_code in (200, 400, 401)
        assert client.get("/admin/").status_code == 302


def test_sign_out_is_a_post(staff, clerk):
    staff.login(clerk)
    assert staff.client.get("/logout").status_code == 405
    assert staff.client.get("/admin/").status_code == 200
    assert staff.logout().status_code == 302
    assert staff.client.get("/admin/").status_code == 302


def test_an_open_redirect_after_sign_in_is_refused(client, clerk):
    response = client.post(
        "/login?next=//evil.example/", data={"username": clerk.username, "password": PASSWORD}
    )
    assert response.headers["Location"].endswith("/admin/")


def test_a_deactivated_user_cannot_sign_in(db, client, clerk):
    clerk.active = False
    db.session.commit()
    response = client.post("/login", data={"username": clerk.username, "password": PASSWORD})
    assert response.status_code == 401
