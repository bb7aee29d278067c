"""core.cache: settings and permissions read from the cache until a change, in any app
instance; public pages held for anonymous visitors, with validators, no user and no session."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from core.testing.fixtures import redis_url, require_service


def statements_on(statements, table: str) -> list[str]:
    return [s for s in statements if f"FROM {table}" in s or f"UPDATE {table}" in s]


# ---------------------------------------------------------------------------
# Settings
# ---------------------------------------------------------------------------


def test_a_policy_is_read_once_then_from_the_cache_until_it_changes(db, township, query_counter):
    from core.policies import get_policy, set_policy

    assert get_policy(township.id, "core.due_soon_working_days") == 2
    with query_counter() as statements:
        assert get_policy(township.id, "core.due_soon_working_days") == 2
    assert statements_on(statements, "core_policy_value") == []
    set_policy(township.id, "core.due_soon_working_days", 4)
    db.session.commit()
    assert get_policy(township.id, "core.due_soon_working_days") == 4


def test_a_rolled_back_change_leaves_the_cached_value(db, township):
    from core.policies import get_policy, set_policy

    assert get_policy(township.id, "core.due_soon_working_days") == 2
    set_policy(township.id, "core.due_soon_working_days", 5)
    db.session.rollback()
    assert get_policy(township.id, "core.due_soon_working_days") == 2


def test_a_bulk_update_invalidates_too(db, township):
    from core.models import PolicyValue
    from core.policies import get_policy, set_policy

    set_policy(township.id, "core.due_soon_working_days", 3)
    db.session.commit()
    assert get_policy(township.id, "core.due_soon_working_days") == 3
    db.session.execute(update(PolicyValue).values(value={"value": 6}))
    db.session.commit()
    assert get_policy(township.id, "core.due_soon_working_days") == 6


def test_calendar_days_and_switches_follow_their_changes(db, township):
    from datetime import date

    from core.calendar import WorkingCalendar
    from core.institutions import is_enabled, set_enabled
    from core.models import CalendarDay

    day = date(2026, 12, 2)  # a Wednesday
    assert WorkingCalendar.for_township(township.id).is_workday(day)
    db.session.add(CalendarDay(township_id=township.id, day=day, is_workday=False, note="庙会"))
    db.session.commit()
    assert not WorkingCalendar.for_township(township.id).is_workday(day)

    assert not is_enabled(township.id, "releases")
    set_enabled(township, "releases", True)
    assert is_enabled(township.id, "releases")


def test_a_new_role_counts_at_once(db, township, create_user, query_counter):
    from core.access import can, clear_cache
    from core.models import Membership

    user = create_user("helper")
    assert not can(user, "cases.read", township.id)
    clear_cache()
    with query_counter() as statements:
        assert not can(user, "cases.read", township.id)
    assert statements_on(statements, "core_membership") == []  # from the cache
    db.session.add(Membership(user_id=user.id, org_unit_id=township.id, role="clerk"))
    db.session.commit()
    clear_cache()
    assert can(user, "cases.read", township.id)


@pytest.fixture
def two_apps(app, db, database_url, tmp_path):
    """Two more app instances on the same database and the same Redis: two web processes."""
    import os

    from core import create_app
    from core.cache import cache

    url = require_service(redis_url(), "Redis")
    os.environ.setdefault("TOWNSHIP_INSTANCE_PATH", str(tmp_path))
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "DATABASE_URL": database_url,
        "CACHE_URL": url,
        "EMBEDDED_SCHEDULER": False,
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "DEFAULT_LOCALE": "en",
        **{k: v for k, v in app.config.items() if k == "EXTRA_PLUGINS"},
    }
    first, second = create_app(config), create_app(config)
    with first.app_context():
        cache.clear()
    yield first, second
    with first.app_context():
        cache.clear()


def test_a_change_in_one_app_instance_is_seen_by_another(two_apps, township, create_user):
    from core.access import can
    from core.db import db
    from core.institutions import is_enabled, set_enabled
    from core.models import Membership, OrgUnit, User
    from core.policies import get_policy, set_policy

    first, second = two_apps
    user = create_user("shared")
    with second.app_context():
        assert get_policy(township.id, "core.due_soon_working_days") == 2
        assert not is_enabled(township.id, "releases")
        assert not can(db.session.get(User, user.id), "cases.read", township.id)
    with first.app_context():
        set_policy(township.id, "core.due_soon_working_days", 7)
        set_enabled(db.session.get(OrgUnit, township.id), "releases", True)
        db.session.add(Membership(user_id=user.id, org_unit_id=township.id, role="clerk"))
        db.session.commit()
    with second.app_context():
        assert get_policy(township.id, "core.due_soon_working_days") == 7
        assert is_enabled(township.id, "releases")
        assert can(db.session.get(User, user.id), "cases.read", township.id)


# ---------------------------------------------------------------------------
# Public pages
# ---------------------------------------------------------------------------


@pytest.fixture
def releases_township(db, township):
    from core.institutions import set_enabled

    set_enabled(township, "releases", True)
    return township


def _publish(township, title):
    from datetime import UTC, datetime

    from core.db import db
    from plugins.releases.models import Product, ProductStatus

    product = Product(
        township_id=township.id,
        title=title,
        audience="农户",
        body="<p>内容</p>",
        status=ProductStatus.published,
        published_at=datetime.now(UTC),
    )
    db.session.add(product)
    db.session.commit()
    return product


PUBLIC_PATHS = ["/", "/t/east/", "/lookup", "/t/east/releases/", "/t/east/releases/board"]


@pytest.mark.parametrize("path", PUBLIC_PATHS)
def test_an_anonymous_page_sets_no_cookie_and_loads_no_user(
    client, releases_township, clerk, path, query_counter
):
    client.get(path)
    with query_counter() as statements:
        response = client.get(path)
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers
    assert statements_on(statements, "core_user") == []
    assert statements == []  # served from the cache: no query at all
    assert response.headers["Cache-Control"].startswith("public, max-age=")
    assert response.headers["ETag"]


def test_a_receipt_lookup_is_held_until_its_case_changes_and_loads_no_user(
    client, db, township, clerk, query_counter
):
    from core import cases

    case = cases.register_case(
        township=township,
        kind="service",
        title="开具证明",
        applicant_name="张三",
        first_responder=clerk,
        accept=True,
    )
    with query_counter() as statements:
        response = client.get(f"/lookup?receipt={case.receipt_no}")
    assert response.status_code == 200 and "Set-Cookie" not in response.headers
    assert statements and statements_on(statements, "core_user") == []
    with query_counter() as statements:
        assert client.get(f"/lookup?receipt={case.receipt_no}").status_code == 200
    assert statements == []  # the second look-up comes from the cache
    again = client.get(
        f"/lookup?receipt={case.receipt_no}", headers={"If-None-Match": response.headers["ETag"]}
    )
    assert again.status_code == 304
    cases.resolve_case(case, clerk, "已办结")  # the status changes: a new page, a new ETag
    changed = client.get(
        f"/lookup?receipt={case.receipt_no}", headers={"If-None-Match": response.headers["ETag"]}
    )
    assert changed.status_code == 200 and changed.headers["ETag"] != response.headers["ETag"]


def test_a_conditional_request_gets_304_without_a_body(client, releases_township):
    first = client.get("/t/east/releases/")
    etag = first.headers["ETag"]
    second = client.get("/t/east/releases/", headers={"If-None-Match": etag})
    assert second.status_code == 304 and second.data == b""


def test_publishing_and_withdrawing_change_the_cached_pages(client, db, releases_township):
    from plugins.releases.models import ProductStatus

    before = client.get("/t/east/releases/")
    assert "新品种推广" not in before.get_data(as_text=True)
    product = _publish(releases_township, "新品种推广")
    after = client.get("/t/east/releases/", headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200 and "新品种推广" in after.get_data(as_text=True)
    page = client.get(f"/t/east/releases/p/{product.id}")
    assert page.status_code == 200
    product.status = ProductStatus.withdrawn
    product.withdrawn_reason = "信息有误"
    db.session.commit()
    assert client.get(f"/t/east/releases/p/{product.id}").status_code == 410


def test_touch_invalidates_a_townships_pages_only(
    client, db, releases_township, other_township, query_counter
):
    from core import cache
    from core.institutions import set_enabled

    set_enabled(other_township, "releases", True)
    product = _publish(releases_township, "旧标题")
    assert "旧标题" in client.get("/t/east/releases/").get_data(as_text=True)
    west = client.get("/t/west/releases/").headers["ETag"]
    # a change no watch sees (plain SQL): the page stays as it was until touch()
    with db.engine.begin() as conn:
        conn.exec_driver_sql(
            f"UPDATE releases_product SET title = '新标题' WHERE id = {int(product.id)}"
        )
    db.session.expire_all()
    assert "旧标题" in client.get("/t/east/releases/").get_data(as_text=True)
    cache.touch(releases_township.id, "releases")
    assert "新标题" in client.get("/t/east/releases/").get_data(as_text=True)
    with query_counter() as statements:
        west_after = client.get("/t/west/releases/", headers={"If-None-Match": west})
    assert west_after.status_code == 304 and statements == []  # still the cached page


def test_a_signed_in_staff_member_gets_a_private_page(client, staff, clerk, township):
    staff.login(clerk)
    response = client.get("/t/east/")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, no-cache"
    assert 'action="/logout"' in response.get_data(as_text=True)


def test_the_language_link_keeps_anonymous_pages_apart(client, township):
    english = client.get("/t/east/").get_data(as_text=True)  # the tests' default language
    assert 'href="/lang/zh_CN?next=/t/east/' in english
    switch = client.get("/lang/zh_CN?next=/t/east/")
    assert switch.status_code == 302 and switch.headers["Location"].endswith("/t/east/")
    chinese = client.get("/t/east/").get_data(as_text=True)
    assert 'lang="zh-CN"' in chinese and 'lang="en"' in english


# ---------------------------------------------------------------------------
# A signed-in user's pages: the user and the navbar's badges
# ---------------------------------------------------------------------------


def test_a_signed_in_page_reads_no_user_row_and_a_deactivated_user_is_out_at_once(
    client, db, staff, township, clerk, query_counter
):
    from core.models import User

    staff.login(clerk)
    assert client.get("/admin/").status_code == 200
    db.session.remove()
    with query_counter() as statements:
        assert client.get("/admin/").status_code == 200
    assert statements_on(statements, "core_user") == []  # the user from the cache

    db.session.execute(update(User).where(User.id == clerk.id).values(active=False))
    db.session.commit()
    db.session.remove()
    response = client.get("/admin/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_unread_badge_counts_a_new_notification_at_once(
    client, db, staff, township, clerk, query_counter
):
    from bs4 import BeautifulSoup

    from core.models import Notification
    from core.notifications import notify

    def badge() -> str:
        html = client.get("/admin/").get_data(as_text=True)
        return BeautifulSoup(html, "html.parser").select_one("#unread-count").get_text()

    staff.login(clerk)
    assert badge() == "0"
    db.session.remove()
    with query_counter() as statements:
        assert badge() == "0"
    assert statements_on(statements, "core_notification") == []  # counted once, then cached

    notify([db.session.get(type(clerk), clerk.id)], "新的待办", email=False)
    db.session.commit()
    assert badge() == "1"
    db.session.execute(update(Notification).values(read_at=Notification.created_at))
    db.session.commit()
    db.session.remove()  # the bulk change counts when its connection goes back to the pool
    assert badge() == "0"
