"""XLSX import (preview lists every bad row, all or nothing), the CLI, month-end reminders,
the demo data and the roster/session forms."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from core import clock
from plugins.training.models import TrainingImport, TrainingLearner, TrainingStudyLog
from tests.plugins.training.conftest import text


def sheet(rows: list[list]) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def count(model) -> int:
    from core.db import db

    return db.session.scalar(select(func.count(model.id)))


@pytest.fixture
def learners(training_township, village, make_learner):
    return {
        "wang": make_learner(
            training_township, "王一", village=village, id_number="150102199001010011"
        ),
        "li": make_learner(
            training_township, "李二", village=village, joined_on=clock.today() - timedelta(days=10)
        ),
    }


HEADER = ["姓名", "身份证号", "日期", "课时", "学习内容", "笔记字数"]


def bad_hours_sheet() -> bytes:
    day = (clock.today() - timedelta(days=1)).isoformat()
    return sheet(
        [
            HEADER,
            [None, "150102199001010011", day, 2, "党章", 300],  # fine
            ["张无名", None, day, 2, "党章", 0],  # unknown person
            ["王一", None, day, 13, "另一篇", 0],  # hours out of range
            ["王一", None, (clock.today() + timedelta(days=2)).isoformat(), 1, "x", 0],  # future
            ["王一", None, day, 1, "党章", 0],  # duplicate of row 2
            [
                "李二",
                None,
                (clock.today() - timedelta(days=30)).isoformat(),
                1,
                "x",
                0,
            ],  # before joined
            ["李二", None, day, 0.25, "x", 0],  # not a half-hour step
        ]
    )


def test_preview_lists_every_bad_row_and_confirm_writes_nothing(
    client, staff, officer, training_township, learners, db
):
    staff.login(officer)
    response = client.post(
        f"/admin/training_import/?township={training_township.id}",
        data={"kind": "hours", "file": (io.BytesIO(bad_hours_sheet()), "hours.xlsx")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 303
    preview = client.get(response.headers["Location"])
    body = text(preview)
    record = db.session.scalars(select(TrainingImport)).one()
    why = {p["row"]: " ".join(p["errors"]) for p in record.problems}
    assert set(why) == {3, 4, 5, 6, 7, 8}
    assert "Unknown person" in why[3]
    assert "more than 12" in why[4]
    assert "future" in why[5]
    assert "Duplicate" in why[6]
    assert "before the learner joined" in why[7]
    assert "half-hour" in why[8]
    for row in why:
        assert f'data-row="{row}"' in body
    assert "confirm-import" not in body
    response = client.post(f"/admin/training_import/{record.id}/confirm")
    assert response.status_code == 400
    assert count(TrainingStudyLog) == 0


def test_a_clean_sheet_imports_every_row(client, staff, officer, training_township, learners, db):
    day = (clock.today() - timedelta(days=1)).isoformat()
    data = sheet(
        [HEADER]
        + [["王一", None, day, 1.5, f"第{n}篇", 100] for n in range(5)]
        + [["李二", None, day, 2, "党章", 0]]
    )
    staff.login(officer)
    response = client.post(
        f"/admin/training_import/?township={training_township.id}",
        data={"kind": "hours", "file": (io.BytesIO(data), "hours.xlsx")},
        content_type="multipart/form-data",
    )
    record = db.session.scalars(select(TrainingImport)).one()
    assert record.problems == [] and len(record.rows) == 6
    assert count(TrainingStudyLog) == 0  # nothing before the confirmation
    assert "confirm-import" in text(client.get(response.headers["Location"]))
    assert client.post(f"/admin/training_import/{record.id}/confirm").status_code == 303
    assert count(TrainingStudyLog) == 6
    # a second confirmation writes nothing more
    assert client.post(f"/admin/training_import/{record.id}/confirm").status_code == 400
    assert count(TrainingStudyLog) == 6


def test_a_roster_sheet_and_a_file_that_is_not_xlsx(
    client, staff, officer, training_township, village, db
):
    from core.models import Person

    db.session.add_all(
        [
            Person(township_id=training_township.id, name="赵三", id_number="150102198001010033"),
            Person(township_id=training_township.id, name="钱四"),
        ]
    )
    db.session.commit()
    staff.login(officer)
    response = client.post(
        f"/admin/training_import/?township={training_township.id}",
        data={"kind": "roster", "file": (io.BytesIO(b"not a workbook"), "x.xlsx")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400 and "XLSX" in text(response)
    rows = [
        ["姓名", "身份证号", "类别", "村", "文化程度", "加入日期"],
        [None, "150102198001010033", "村干部", village.name, "高中", "2024-01-01"],
        ["钱四", None, "农村党员", None, "初中", "2024-02-01"],
    ]
    response = client.post(
        f"/admin/training_import/?township={training_township.id}",
        data={"kind": "roster", "file": (io.BytesIO(sheet(rows)), "roster.xlsx")},
        content_type="multipart/form-data",
    )
    record = db.session.scalars(select(TrainingImport)).one()
    assert record.problems == []
    client.post(f"/admin/training_import/{record.id}/confirm")
    names = {le.person.name: le for le in db.session.scalars(select(TrainingLearner))}
    assert set(names) == {"赵三", "钱四"}
    assert names["赵三"].village_id == village.id


def test_another_townships_import_is_404(client, staff, officer, other_township, db):
    record = TrainingImport(township_id=other_township.id, kind="hours", rows=[], problems=[])
    db.session.add(record)
    db.session.commit()
    staff.login(officer)
    assert client.get(f"/admin/training_import/{record.id}/").status_code == 404
    assert client.post(f"/admin/training_import/{record.id}/confirm").status_code == 404


def test_cli_import_with_progress_bar(app, training_township, learners, tmp_path, db):
    from core.cli import main, register_commands

    register_commands(app)
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(bad_hours_sheet())
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["training", "import", str(bad), "--township", training_township.code]
    )
    assert result.exit_code == 1
    assert "row 3" in result.output and "nothing was written" in result.output
    assert count(TrainingStudyLog) == 0
    day = (clock.today() - timedelta(days=1)).isoformat()
    good = tmp_path / "good.xlsx"
    good.write_bytes(
        sheet([HEADER, ["王一", None, day, 2, "党章", 10], ["李二", None, day, 1, "党章", 0]])
    )
    result = runner.invoke(
        args=["training", "import", str(good), "--township", training_township.code]
    )
    assert result.exit_code == 0, result.output
    assert "Checking 2 rows" in result.output and "2 rows imported" in result.output
    assert count(TrainingStudyLog) == 2
    assert main  # the console script is the same group


# -- reminders ------------------------------------------------------------------------


def test_reminders_go_only_to_learners_below_the_threshold_once_a_month(
    training_township, village, make_learner, create_user, officer, stub_worker, db
):
    from core.models import Notification, TaskRecord
    from plugins.training.services import StudyEntry, log_study, record_reminders

    behind_user = create_user("behind", "training_learner", training_township)
    done_user = create_user("done", "training_learner", training_township)
    behind = make_learner(training_township, "落后", village=village, user=behind_user)
    done = make_learner(training_township, "达标", village=village, user=done_user)
    today = date(2026, 3, 25)
    log_study(
        training_township.id,
        [StudyEntry(done.id, date(2026, 3, d), 10, "党章") for d in (2, 3, 4, 5)]
        + [StudyEntry(behind.id, date(2026, 3, 2), 5, "党章")],
        today=today,
    )
    assert record_reminders(today) == 1
    assert record_reminders(today) == 0  # the job ran twice: nothing new
    stub_worker.join()
    notes = db.session.scalars(select(Notification)).all()
    by_user = {}
    for note in notes:
        by_user.setdefault(note.user_id, []).append(note.title)
    assert set(by_user) == {behind_user.id, officer.id}
    assert len(by_user[behind_user.id]) == 1 and "17.5" in by_user[behind_user.id][0]
    assert len(by_user[officer.id]) == 1
    keys = db.session.scalars(select(TaskRecord.key).where(TaskRecord.key.like("training-%"))).all()
    assert f"training-remind:{training_township.id}:2026-03:{behind.id}" in keys
    # next month is another month
    assert record_reminders(date(2026, 4, 25)) == 2


def test_the_job_only_enqueues_the_nudge(app):
    from core.plugins import state

    jobs = {job.id: job for group in state(app).hook.township_jobs() for job in group or ()}
    job = jobs["training.month_end"]
    assert job.trigger == "0 9 25 * *" and job.actor_name == "training.month_end"
    assert not state(app).actors["training.month_end"].durable


# -- demo data and forms -----------------------------------------------------------------


def test_demo_data_is_idempotent(training_township, create_unit, db):
    from plugins.training.demo import seed

    create_unit("一村", "east-d1", "village", training_township)
    seed(training_township, db.session)
    db.session.commit()
    seed(training_township, db.session)
    db.session.commit()
    assert count(TrainingLearner) == 20
    assert count(TrainingStudyLog) > 0


def test_roster_and_session_forms_offer_only_this_township(
    client, staff, officer, training_township, other_township, village, db
):
    from core.models import Person

    db.session.add_all(
        [
            Person(township_id=training_township.id, name="本镇人"),
            Person(township_id=other_township.id, name="外镇人"),
        ]
    )
    db.session.commit()
    staff.login(officer)
    body = text(client.get("/admin/training_learners/new/"))
    assert "本镇人" in body and "外镇人" not in body
    assert village.name in text(client.get("/admin/training_sessions/new/"))
    mine = db.session.scalar(select(Person.id).where(Person.name == "本镇人"))
    response = client.post(
        "/admin/training_learners/new/",
        data={
            "township_id": training_township.id,
            "person_id": mine,
            "category": "village_cadre",
            "village_id": village.id,
            "education": "college",
            "joined_on": "2024-05-01",
            "user_id": "",
            "active": "y",
        },
    )
    assert response.status_code == 302, text(response)
    learner = db.session.scalars(select(TrainingLearner)).one()
    assert (learner.person_id, learner.village_id) == (mine, village.id)
    theirs = db.session.scalar(select(Person.id).where(Person.name == "外镇人"))
    client.post(
        "/admin/training_learners/new/",
        data={
            "township_id": training_township.id,
            "person_id": theirs,
            "category": "party_member",
            "education": "college",
            "joined_on": "2024-05-01",
        },
    )
    assert count(TrainingLearner) == 1


def test_the_blueprint_json_needs_a_reader(client, staff, officer, training_township, other_clerk):
    url = f"/t/{training_township.code}/training/compliance.json?month=2026-03"
    assert client.get(url).status_code == 302
    staff.login(other_clerk)
    assert client.get(url).status_code == 404
    staff.logout()
    staff.login(officer)
    data = client.get(url).get_json()
    assert data["month"] == "2026-03" and data["learners"] == []
    assert client.get(url.replace("2026-03", "2026-3x")).status_code == 400
