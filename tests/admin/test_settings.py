"""Policies, time limits, the working-day calendar, the audit trail and scheduled jobs."""

from __future__ import annotations

import re

from sqlalchemy import select

from core.models import AuditEvent, CalendarDay, JobSchedule, PolicyValue, TimeLimitPolicy
from core.policies import get_policy
from tests.admin.conftest import text


# -- policies --------------------------------------------------------------------
def test_policy_page_shows_defaults_and_saves_a_valid_value(
    client, staff, township_admin, township, db
):
    staff.login(township_admin)
    page = text(client.get("/admin/admin_policies/"))
    assert "core.due_soon_working_days" in page and "example.threshold" in page
    response = client.post(
        "/admin/admin_policies/set/",
        data={"township": township.id, "key": "example.threshold", "value": "42"},
    )
    assert response.status_code == 303
    assert get_policy(township.id, "example.threshold") == 42
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.object_type == "Policy"))


def test_bad_policy_value_is_refused_and_nothing_saved(client, staff, township_admin, township, db):
    staff.login(township_admin)
    for value in ("abc", "1000", ""):
        response = client.post(
            "/admin/admin_policies/set/",
            data={"township": township.id, "key": "example.threshold", "value": value},
            follow_redirects=True,
        )
        assert response.status_code == 400
        assert "was not saved" in text(response)
    assert db.session.scalar(select(PolicyValue)) is None


def test_policies_of_another_township_answer_404(client, staff, township_admin, other_township):
    staff.login(township_admin)
    assert client.get(f"/admin/admin_policies/?township={other_township.id}").status_code == 404
    assert (
        client.post(
            "/admin/admin_policies/set/",
            data={"township": other_township.id, "key": "example.threshold", "value": "1"},
        ).status_code
        == 404
    )


def test_time_limits_are_validated(client, staff, township_admin, township, db):
    staff.login(township_admin)

    def post(**data):
        data.setdefault("township", township.id)
        return client.post("/admin/admin_policies/time-limit/", data=data, follow_redirects=True)

    cases = [
        dict(kind="service", amount="0", unit="working_days"),
        dict(kind="service", amount="x", unit="working_days"),
        dict(kind="inquiry", amount="15", unit="calendar_days", max_amount="10"),
        dict(kind="commitment", amount="10", unit="calendar_days", max_amount="31"),
        dict(kind="commitment", amount="31", unit="calendar_days"),
        dict(kind="service", amount="3", unit="weeks"),
    ]
    for data in cases:
        response = post(**data)
        assert response.status_code == 400, data
        assert "The time limit was not saved" in text(response)
    assert db.session.scalar(select(TimeLimitPolicy)) is None
    assert (
        post(kind="commitment", amount="7", unit="calendar_days", max_amount="30").status_code
        == 200
    )
    row = db.session.scalar(select(TimeLimitPolicy))
    assert (row.kind, row.amount, row.max_amount) == ("commitment", 7, 30)
    post(kind="commitment", reset="1")
    assert db.session.scalar(select(TimeLimitPolicy)) is None


# -- calendar ----------------------------------------------------------------------
def test_calendar_month_view_explains_each_day(client, staff, clerk, township):
    staff.login(clerk)
    page = text(client.get(f"/admin/admin_calendar/?township={township.id}&month=2025-01"))
    assert re.search(
        r'data-day="2025-01-26" data-workday="yes" data-reason="adjusted_workday"', page
    )
    assert re.search(r'data-day="2025-01-29" data-workday="no" data-reason="holiday"', page)
    assert re.search(r'data-day="2025-01-25" data-workday="no" data-reason="weekend"', page)


def test_township_days_are_added_and_removed(client, staff, township_admin, clerk, township, db):
    staff.login(township_admin)
    response = client.post(
        "/admin/admin_calendar/day/",
        data={"township": township.id, "day": "2025-03-03", "kind": "holiday", "note": "镇庆"},
    )
    assert response.status_code == 303
    page = text(client.get(f"/admin/admin_calendar/?township={township.id}&month=2025-03"))
    assert 'data-day="2025-03-03" data-workday="no" data-reason="township"' in page
    assert "镇庆" in page
    row = db.session.scalar(select(CalendarDay))
    assert (
        client.post(
            "/admin/admin_calendar/day/remove/", data={"township": township.id, "id": row.id}
        ).status_code
        == 303
    )
    assert db.session.scalar(select(CalendarDay)) is None
    assert (
        client.post(
            "/admin/admin_calendar/day/",
            data={"township": township.id, "day": "03/03/2025", "kind": "holiday"},
        ).status_code
        == 400
    )
    staff.logout()
    staff.login(clerk)  # may look, may not change
    assert client.get("/admin/admin_calendar/").status_code == 200
    assert (
        client.post(
            "/admin/admin_calendar/day/",
            data={"township": township.id, "day": "2025-03-04", "kind": "holiday"},
        ).status_code
        == 404
    )
    assert db.session.scalar(select(CalendarDay)) is None


def test_calendar_warns_about_uncovered_years(client, staff, clerk, township, monkeypatch):
    import admin.calendar

    monkeypatch.setattr(admin.calendar, "uncovered_years", lambda: [2027])
    staff.login(clerk)
    assert "2027 is not yet known" in text(client.get("/admin/admin_calendar/"))


# -- audit trail ---------------------------------------------------------------------
def test_audit_trail_is_read_only_and_scoped(
    client, staff, township_admin, clerk, township, other_township, db
):
    db.session.add_all(
        [
            AuditEvent(
                township_id=township.id,
                action="update",
                object_type="Person",
                object_id="1",
                after={"name": "东"},
            ),
            AuditEvent(
                township_id=other_township.id,
                action="update",
                object_type="Person",
                object_id="2",
                after={"name": "西西"},
            ),
        ]
    )
    db.session.commit()
    staff.login(township_admin)
    page = text(client.get("/admin/admin_audit/"))
    # the field by its label in the people view ("Name"), the action and object in words
    assert "Name</span>: 东" in page and "西西" not in page
    assert ">Changed<" in page or "Changed" in page
    foreign = db.session.scalar(
        select(AuditEvent).where(AuditEvent.township_id == other_township.id)
    )
    assert client.get(f"/admin/admin_audit/details/?id={foreign.id}").status_code == 404
    assert client.get("/admin/admin_audit/new/").status_code == 302  # no create form
    staff.logout()
    staff.login(clerk)
    assert client.get("/admin/admin_audit/").status_code == 404


# -- scheduled jobs ----------------------------------------------------------------------
def test_jobs_page_for_county_admins_only(
    client, staff, county_admin, township_admin, township, db
):
    from core.models import JobRun

    db.session.add(JobRun(job_id="example.tick", holder="h1", outcome="ok"))
    db.session.add(JobRun(job_id="example.tick", holder="h1", outcome="failed", message="boom"))
    db.session.commit()
    staff.login(township_admin)
    assert client.get("/admin/admin_jobs/").status_code == 404
    staff.logout()
    staff.login(county_admin)
    page = text(client.get("/admin/admin_jobs/"))
    for job_id in ("core.deadline_sweep", "core.resend_sweep", "example.tick"):
        assert f'data-job="{job_id}"' in page
    row = page[page.index('data-job="example.tick"') :]
    assert "failed: boom" in row[: row.index("</tr>")]


def test_jobs_page_runs_a_fixed_number_of_queries(
    client, staff, county_admin, township, query_counter, db
):
    from core.models import JobRun

    staff.login(county_admin)

    def count():
        with query_counter() as statements:
            assert client.get("/admin/admin_jobs/").status_code == 200
        return len(statements)

    count()  # the first page after signing in also fills per-process caches
    db.session.commit()  # the test's commit below expires the shared session's user too
    before = count()
    for job_id in ("core.deadline_sweep", "core.resend_sweep", "example.tick"):
        for _ in range(3):
            db.session.add(JobRun(job_id=job_id, holder="h", outcome="ok"))
    db.session.commit()
    assert count() == before


def test_trigger_preview_shows_five_times_before_saving(client, staff, county_admin, township, db):
    staff.login(county_admin)
    response = client.post(
        "/admin/admin_jobs/edit/?id=core.deadline_sweep",
        data={"trigger": "0 9 * * 1", "timezone": "Asia/Shanghai", "enabled": "1", "preview": "1"},
    )
    page = text(response)
    times = re.findall(r'<li class="fire-time">([^<]+)</li>', page)
    assert len(times) == 5 and all(
        "09:00" in t and ":00:00" not in t and "(Mon)" in t for t in times
    )
    assert db.session.get(JobSchedule, "core.deadline_sweep") is None  # not saved yet
    response = client.post(
        "/admin/admin_jobs/edit/?id=core.deadline_sweep",
        data={"trigger": "0 9 * * 1", "timezone": "Asia/Shanghai", "enabled": "1", "save": "1"},
    )
    assert response.status_code == 303
    row = db.session.get(JobSchedule, "core.deadline_sweep")
    assert (row.trigger, row.enabled, row.updated_by_id) == ("0 9 * * 1", True, county_admin.id)
    assert "changed by an admin" in text(client.get("/admin/admin_jobs/"))
    assert (
        client.post("/admin/admin_jobs/reset/", data={"id": "core.deadline_sweep"}).status_code
        == 303
    )
    db.session.expire_all()
    assert db.session.get(JobSchedule, "core.deadline_sweep") is None


def test_bad_trigger_is_refused_with_its_message(client, staff, county_admin, township, db):
    staff.login(county_admin)
    for trigger, timezone in (
        ("0 9 * *", "Asia/Shanghai"),
        ("0 9 * * 9", "Asia/Shanghai"),
        ("every 5 minutes", "Mars/Olympus"),
    ):
        response = client.post(
            "/admin/admin_jobs/edit/?id=example.tick",
            data={"trigger": trigger, "timezone": timezone, "save": "1"},
        )
        assert response.status_code == 400
        assert 'id="trigger-error"' in text(response)
    assert "five fields" in text(
        client.post(
            "/admin/admin_jobs/edit/?id=example.tick", data={"trigger": "0 9 * *", "preview": "1"}
        )
    )
    assert db.session.get(JobSchedule, "example.tick") is None
    assert client.get("/admin/admin_jobs/edit/?id=nope").status_code == 404
