"""What a training officer and a learner met in their first week: "all present", the
attendance menu item, the demo learner's own record, a learner's menus."""

from __future__ import annotations

from datetime import date

from bs4 import BeautifulSoup
from sqlalchemy import select

from core.testing.fixtures import page_texts
from plugins.training.models import AttendanceStatus, TrainingAttendance


def test_all_present_marks_everyone_not_marked_otherwise(
    client, staff, officer, training_township, make_learner, make_session, db
):
    first = make_learner(training_township, "甲")
    second = make_learner(training_township, "乙")
    third = make_learner(training_township, "丙")
    session = make_session(training_township, date(2025, 3, 3))
    staff.login(officer)
    response = client.post(
        f"/admin/training_attendance/?session={session.id}",
        data={
            "learner": [first.id, second.id, third.id],
            f"status-{second.id}": "excused",
            f"reason-{second.id}": "生病",
            "all_present": "1",
        },
    )
    assert response.status_code == 303
    marks = {
        a.learner_id: a.status
        for a in db.session.scalars(
            select(TrainingAttendance).where(TrainingAttendance.session_id == session.id)
        )
    }
    assert marks == {
        first.id: AttendanceStatus.present,
        second.id: AttendanceStatus.excused,
        third.id: AttendanceStatus.present,
    }


def test_the_attendance_menu_item_lists_sessions_to_mark(
    client, staff, officer, training_township, make_session
):
    session = make_session(training_township, date(2025, 3, 3), topic="党史学习")
    staff.login(officer)
    response = client.get("/admin/training_attendance/")
    assert response.status_code == 200  # not a redirect to the session list any more
    html = response.get_data(as_text=True)
    assert "党史学习" in " ".join(page_texts(html, "#attendance-sessions td"))
    assert f"/admin/training_attendance/?session={session.id}" in html


def test_the_demo_learner_has_a_study_record(client, staff, db, app):
    from core.auth import hash_password
    from core.demo import load_demo
    from core.models import User
    from core.testing.fixtures import PASSWORD

    load_demo()
    learner = db.session.scalar(select(User).where(User.username == "dongfeng-training-learner"))
    learner.password_hash = hash_password(PASSWORD)
    db.session.commit()
    staff.login(learner)
    response = client.get("/admin/training_my_record/")
    assert response.status_code == 200
    load_demo()  # idempotent: still one roster entry for the account
    from plugins.training.models import TrainingLearner

    assert (
        len(
            db.session.scalars(
                select(TrainingLearner).where(TrainingLearner.user_id == learner.id)
            ).all()
        )
        == 1
    )


def test_a_learner_sees_only_their_own_menus(
    client, staff, create_user, training_township, make_learner
):
    user = create_user("cadre", "training_learner", training_township, name="村干部")
    make_learner(training_township, "村干部", user=user)
    staff.login(user)
    html = client.get("/admin/training_my_record/").get_data(as_text=True)
    menu = BeautifulSoup(html, "html.parser").select("#admin-navbar-collapse ul.navbar-nav a")
    targets = {a.get("href") for a in menu if a.get("href", "").startswith("/admin/")}
    assert "/admin/training_my_record/" in targets
    # the duty rota and who is away are shown to every staff member (core duty pages)
    targets = {t for t in targets if not t.startswith("/admin/admin_duty_")}
    allowed = {
        "/admin/",
        "/admin/training_my_record/",
        "/admin/admin_inbox/",
        "/admin/admin_notifications/",
    }
    assert targets <= allowed, targets - allowed


def test_the_import_preview_names_the_columns_in_words(
    client, staff, officer, training_township, make_learner
):
    import io

    from openpyxl import Workbook

    make_learner(training_township, "赵三")
    book = Workbook()
    book.active.append(["姓名", "日期", "课时", "学习内容"])
    book.active.append(["赵三", "2025-03-03", "99", "党章"])
    data = io.BytesIO()
    book.save(data)
    staff.login(officer)
    response = client.post(
        f"/admin/training_import/?township={training_township.id}",
        data={"kind": "hours", "file": (io.BytesIO(data.getvalue()), "hours.xlsx")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 303
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    labels = page_texts(html, "#bad-rows .import-values dt")
    assert labels == ["Name", "Date", "Class hours", "Material"]
    assert "hours=" not in " ".join(page_texts(html, "#bad-rows td"))
