"""What staff read in zh_CN: flask-admin's own messages, schedules and times in words,
policies without codes, the favicon and the date picker's language on admin pages."""

from __future__ import annotations

from datetime import UTC, datetime

import time_machine

from core.testing.fixtures import page_text, page_texts
from tests.admin.conftest import text


def _chinese(client) -> None:
    assert client.post("/lang/zh_CN").status_code == 302


def test_failed_create_message_reads_in_chinese(client, staff, clerk, township, enable):
    """flask-admin 2.2.1's shipped .mo lacks this string; the admin's own catalog has it."""
    enable(township, "example")
    staff.login(clerk)
    _chinese(client)
    response = client.post("/admin/example_notes/new/", data={"title": ""})
    html = text(response)
    assert "创建记录失败。" in html
    assert "Failed to create record" not in html


def test_jobs_page_says_schedules_in_words_and_times_in_the_jobs_zone(
    client, staff, county_admin, township, db
):
    from core.models import JobRun

    db.session.add(
        JobRun(
            job_id="core.deadline_sweep",
            holder="h1",
            outcome="ok",
            fired_at=datetime(2026, 11, 30, 16, 30, tzinfo=UTC),
        )
    )
    db.session.commit()
    with time_machine.travel(datetime(2026, 11, 30, 16, 31, tzinfo=UTC), tick=False):
        staff.login(county_admin)
        _chinese(client)
        html = text(client.get("/admin/admin_jobs/"))
    resend = page_text(html, 'tr[data-job="core.resend_sweep"] .schedule-words')
    assert resend == "每 2 分钟"  # "every 120 seconds"
    sweep = 'tr[data-job="core.deadline_sweep"]'
    assert page_text(html, f"{sweep} .schedule-words") == "每 15 分钟"
    # 16:30 UTC is 00:30 the next day in Shanghai; to the minute, no seconds, no offset
    assert page_text(html, f"{sweep} .last-run") == "2026-12-01 00:30"
    assert page_text(html, f"{sweep} .next-run") == "2026-12-01 00:45"
    assert page_text(html, f"{sweep} .outcome") == "已完成"
    assert "core.deadline_sweep" not in " ".join(page_texts(html, "td"))


def test_a_bad_crontab_is_explained_in_chinese(client, staff, county_admin, township):
    staff.login(county_admin)
    _chinese(client)
    response = client.post(
        "/admin/admin_jobs/edit/?id=example.tick",
        data={"trigger": "61 9 * * *", "timezone": "Asia/Shanghai", "preview": "1"},
    )
    assert response.status_code == 400
    message = page_text(text(response), "#trigger-error")
    assert "“61”不是有效的分钟" in message
    assert "Error" not in message and "valid" not in message


def test_job_time_zone_is_a_select(client, staff, county_admin, township):
    staff.login(county_admin)
    html = text(client.get("/admin/admin_jobs/edit/?id=example.tick"))
    options = page_texts(html, "select#timezone option")
    assert options[:2] == ["Asia/Shanghai", "Asia/Urumqi"] and "Europe/Berlin" in options


def test_policies_show_names_not_keys_and_unset_in_words(
    client, staff, township_admin, township, enable
):
    enable(township, "training")
    staff.login(township_admin)
    _chinese(client)
    html = text(client.get(f"/admin/admin_policies/?township={township.id}"))
    row = 'tr[data-key="training.party_member_note_chars"]'
    assert page_text(html, f"{row} .policy-value") == "未设置"
    assert "None" not in page_text(html, row)
    assert "training.party_member_note_chars" not in page_text(html, "#policy-values")


def test_admin_pages_link_the_favicon_and_the_date_picker_locale(client, staff, clerk):
    staff.login(clerk)
    _chinese(client)
    html = text(client.get("/admin/admin_cases/"))
    assert 'rel="icon" href="/static/favicon.svg"' in html
    assert 'id="datepicker-locale"' in html and 'data-lang="zh_CN"' in html
    assert 'data-apply="确定"' in html
    assert client.get("/static/datepicker-locale.js").status_code == 200


def test_the_audit_trail_reads_in_words_and_shortens_long_values(
    client, staff, township_admin, township, db
):
    from core.models import AuditEvent

    long_text = "很长的备注" * 100
    db.session.add(
        AuditEvent(
            township_id=township.id,
            action="update",
            object_type="Case",
            object_id="1",
            before={"status": "accepted"},
            after={"status": "closed", "note": long_text},
        )
    )
    db.session.commit()
    staff.login(township_admin)
    _chinese(client)
    html = text(client.get("/admin/admin_audit/"))
    cells = " ".join(page_texts(html, "td"))
    assert "修改" in cells and "事项" in cells  # action and object in words
    assert "已受理" in cells and "accepted" not in cells  # the status by its label
    summary = page_text(html, "details.audit-long summary")
    assert summary.endswith("…") and len(summary) <= 80
    assert page_text(html, "details.audit-long div") == long_text  # the whole, one click away


def test_the_audit_trail_names_the_duty_rota_and_absences_in_words(
    client, staff, township_admin, township, db
):
    """Changes to the duty rota and absence records (the core writes them to the trail)
    name their object in words, not by the model's class name."""
    from core.models import AuditEvent

    for object_type in ("DutyPattern", "DutyChange", "Absence"):
        db.session.add(
            AuditEvent(
                township_id=township.id,
                action="create",
                object_type=object_type,
                object_id="1",
                after={"note": "示例"},
            )
        )
    db.session.commit()
    staff.login(township_admin)
    _chinese(client)
    cells = " ".join(page_texts(text(client.get("/admin/admin_audit/")), "td"))
    assert "值班安排" in cells and "值班调整" in cells and "外出登记" in cells
    assert "DutyPattern" not in cells and "DutyChange" not in cells and "Absence" not in cells
