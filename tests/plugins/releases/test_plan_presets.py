"""The release plan in words: monthly or weekly presets (the crontab as the advanced
option), the time zone from a list, and an urgent release now through the same
once-only publication."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from core.testing.fixtures import page_text, page_texts
from plugins.releases import services
from plugins.releases.models import Product, ProductStatus, ReleaseBatch, ReleasePlan


@pytest.fixture
def tadmin(create_user, enabled):
    return create_user("tadmin", "township_admin", enabled, name="赵管理")


def _plan(db, township):
    db.session.expire_all()
    return db.session.scalar(select(ReleasePlan).where(ReleasePlan.township_id == township.id))


@pytest.mark.parametrize(
    ("form", "cron"),
    [
        ({"mode": "monthly", "day": "15", "monthly_time": "08:30"}, "30 8 15 * *"),
        ({"mode": "weekly", "weekday": "1", "weekly_time": "09:00"}, "0 9 * * 1"),
        ({"mode": "cron", "cron": "0 10 1,15 * *"}, "0 10 1,15 * *"),
    ],
)
def test_presets_become_the_plans_crontab(client, staff, db, tadmin, enabled, form, cron):
    staff.login(tadmin)
    response = client.post(
        f"/admin/releases_plan/?township={enabled.id}",
        data={**form, "timezone": "Asia/Urumqi", "channels": ["web"], "active": "1", "save": "1"},
    )
    assert response.status_code == 303
    plan = _plan(db, enabled)
    assert (plan.cron, plan.timezone) == (cron, "Asia/Urumqi")
    html = client.get(f"/admin/releases_plan/?township={enabled.id}").get_data(as_text=True)
    mode = form["mode"]
    assert f'id="mode-{mode}" value="{mode}" checked' in html
    assert "Asia/Urumqi" in page_text(html, "select#timezone option[selected]")


def test_a_bad_preset_is_refused_and_nothing_saved(client, staff, db, tadmin, enabled):
    staff.login(tadmin)
    before = _plan(db, enabled) or services.ensure_plan(enabled.id)
    db.session.commit()
    old = before.cron
    response = client.post(
        f"/admin/releases_plan/?township={enabled.id}",
        data={
            "mode": "monthly",
            "day": "31",
            "monthly_time": "09:00",
            "channels": ["web"],
            "save": "1",
        },
    )
    assert response.status_code == 400
    assert page_text(response.get_data(as_text=True), "#cron-error")
    assert _plan(db, enabled).cron == old


def test_the_preview_shows_times_in_the_plans_zone_to_the_minute(client, staff, tadmin, enabled):
    staff.login(tadmin)
    response = client.post(
        f"/admin/releases_plan/?township={enabled.id}",
        data={
            "mode": "weekly",
            "weekday": "3",
            "weekly_time": "18:45",
            "timezone": "Asia/Shanghai",
            "channels": ["web"],
            "preview": "1",
        },
    )
    times = page_texts(response.get_data(as_text=True), "#preview .fire-time")
    assert len(times) == 5 and all(t.split(" ")[1] == "18:45" for t in times)
    assert all("Wed" in t for t in times)


def test_an_urgent_release_publishes_the_approved_products_once(
    client, staff, db, tadmin, enabled, make_product, stub_worker
):
    first = make_product("紧急通知", status=ProductStatus.approved)
    draft = make_product("草稿", status=ProductStatus.draft)
    staff.login(tadmin)
    response = client.post(f"/admin/releases_plan/release-now?township={enabled.id}")
    assert response.status_code == 303
    stub_worker.join()
    db.session.expire_all()
    assert db.session.get(Product, first.id).status == ProductStatus.published
    assert db.session.get(Product, draft.id).status == ProductStatus.draft
    assert db.session.scalar(select(func.count(ReleaseBatch.id))) == 1
    # nothing approved any more: refused, no second batch
    client.post(f"/admin/releases_plan/release-now?township={enabled.id}")
    stub_worker.join()
    assert db.session.scalar(select(func.count(ReleaseBatch.id))) == 1


def test_only_plan_editors_may_release_now(client, staff, db, officer, enabled, make_product):
    make_product("紧急通知", status=ProductStatus.approved)
    staff.login(officer)
    assert client.post(f"/admin/releases_plan/release-now?township={enabled.id}").status_code == 404
    assert db.session.scalar(select(func.count(ReleaseBatch.id))) == 0
