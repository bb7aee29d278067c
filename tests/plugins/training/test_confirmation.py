"""A learner's own hours wait in the training officers' inbox; an officer confirms or sends
them back with a reason from the entry's page; leaders read the reports through the
declared permission ``training.read_reports``."""

from __future__ import annotations

from sqlalchemy import func, select

from core import clock
from core.testing.fixtures import page_text, page_texts
from plugins.training.models import LogStatus, TrainingStudyLog


def _log_own_hours(client, staff, user, hours="2", material="乡村振兴读本"):
    staff.login(user)
    response = client.post(
        "/admin/training_my_record/log",
        data={"studied_on": clock.today().isoformat(), "hours": hours, "material": material},
    )
    assert response.status_code == 303
    staff.logout()


def test_own_hours_reach_the_officers_inbox_once_and_are_confirmed_there(
    client, staff, db, create_user, officer, training_township, make_learner
):
    from core.models import Notification

    user = create_user("cadre", "training_learner", training_township, name="村干部老李")
    make_learner(training_township, "村干部老李", user=user)
    _log_own_hours(client, staff, user)
    log = db.session.scalars(select(TrainingStudyLog)).one()
    told = db.session.scalars(select(Notification).where(Notification.user_id == officer.id)).all()
    assert len(told) == 1 and "村干部老李" in told[0].title
    assert told[0].link == f"/admin/training_logs/review/?id={log.id}"

    staff.login(officer)
    inbox = client.get("/admin/admin_inbox/").get_data(as_text=True)
    assert any("村干部老李" in t for t in page_texts(inbox, ".inbox-title"))
    page = client.get(f"/admin/training_logs/review/?id={log.id}").get_data(as_text=True)
    assert page_text(page, "#log-hours") == "2"
    response = client.post(
        f"/admin/training_logs/review/?id={log.id}",
        data={"decision": "confirm", "log": [str(log.id)]},
    )
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(TrainingStudyLog, log.id).status == LogStatus.confirmed
    inbox = client.get("/admin/admin_inbox/").get_data(as_text=True)
    assert not any("村干部老李" in t for t in page_texts(inbox, ".inbox-title"))


def test_sending_back_needs_a_reason_and_the_learner_reads_it(
    client, staff, db, create_user, officer, training_township, make_learner
):
    from core.models import Notification
    from plugins.training.services import monthly_compliance

    user = create_user("cadre", "training_learner", training_township, name="村干部老王")
    learner = make_learner(training_township, "村干部老王", user=user)
    _log_own_hours(client, staff, user, hours="12", material="看电视")
    log = db.session.scalars(select(TrainingStudyLog)).one()
    staff.login(officer)
    refused = client.post(
        f"/admin/training_logs/review/?id={log.id}", data={"decision": "send_back", "reason": ""}
    )
    assert refused.status_code == 400 and page_text(refused.get_data(as_text=True), "#log-error")
    client.post(
        f"/admin/training_logs/review/?id={log.id}",
        data={"decision": "send_back", "reason": "看电视不算自学", "log": [str(log.id)]},
    )
    db.session.expire_all()
    assert db.session.get(TrainingStudyLog, log.id).status == LogStatus.returned
    told = db.session.scalars(select(Notification).where(Notification.user_id == user.id)).all()
    assert len(told) == 1 and "看电视不算自学" in told[0].body
    staff.logout()
    staff.login(user)
    page = client.get("/admin/training_my_record/").get_data(as_text=True)
    assert page_text(page, "#returned .returned-reason") == "看电视不算自学"
    today = clock.today(training_township)
    report = monthly_compliance(training_township.id, today.year, today.month)
    row = next(r for r in report.learners if r.learner_id == learner.id)
    assert row.hours == 0  # a returned entry does not count


def test_leaders_read_reports_through_the_declared_permission(
    client, staff, db, leader, clerk, training_township
):
    from core.models import RoleGrant

    staff.login(leader)
    assert client.get("/admin/training_compliance/").status_code == 200
    staff.logout()
    staff.login(clerk)  # holds dashboard.read, which no longer stands for training reports
    assert client.get("/admin/training_compliance/").status_code == 404
    staff.logout()
    db.session.add(
        RoleGrant(
            township_id=training_township.id,
            role="leader",
            permission="training.read_reports",
            granted=False,
        )
    )
    db.session.commit()
    staff.login(leader)
    assert client.get("/admin/training_compliance/").status_code == 404


def test_the_training_pages_read_in_chinese(
    client, staff, db, create_user, officer, training_township, make_learner, make_session
):
    from core.testing.crawl import crawl_admin

    user = create_user("cadre", "training_learner", training_township, name="村干部")
    make_learner(training_township, "村干部", user=user, category="party_member")
    make_learner(training_township, "镇干部", category="township_cadre", education="college")
    make_session(training_township, clock.today(training_township))
    _log_own_hours(client, staff, user)
    staff.login(officer)
    findings, pages = crawl_admin(client, only="/admin/training_")
    assert pages >= 12
    assert findings == [], "\n".join(findings)
    assert db.session.scalar(select(func.count(TrainingStudyLog.id))) == 1
