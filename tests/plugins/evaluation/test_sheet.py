"""The annual sheet per cadre: satisfaction, round marks, rectifications, and figures other
institutions offer through the core hook; printable and exportable."""

from __future__ import annotations

import io
from datetime import date

import pytest
from openpyxl import load_workbook

from core.institutions import set_enabled
from core.testing.fixtures import page_text, page_texts
from plugins.evaluation import services

from .conftest import login


@pytest.fixture
def reader(create_user, evaluation_township):
    return create_user("reader", "evaluation_officer", evaluation_township, name="考评专干")


def _sheet_html(client, township, user, year):
    response = client.get(
        f"/admin/evaluation_sheet/cadre?township={township.id}&user={user.id}&year={year}"
    )
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_the_sheet_shows_another_institutions_figure_and_no_error_when_it_is_off(
    client, db, evaluation_township, clerk, township_admin
):
    # the township administrator: the example plugin's inbox source (a NULL due date typed
    # as text) would not union with dated sources on PostgreSQL for a leader
    login(client, township_admin)
    html = _sheet_html(client, evaluation_township, clerk, 2026)
    assert "example.notes" not in html
    set_enabled(evaluation_township, "example", True)
    html = _sheet_html(client, evaluation_township, clerk, 2026)
    assert page_texts(html, '#sheet-figures tr[data-key="example.notes"] td')[:2] == [
        "Example notes",
        "1",
    ]
    set_enabled(evaluation_township, "example", False)
    html = _sheet_html(client, evaluation_township, clerk, 2026)
    assert "example.notes" not in html
    assert "No other institution offers figures" in page_text(html, "#sheet-figures")


def test_the_sheet_shows_training_compliance_through_the_hook(
    client, db, evaluation_township, clerk, leader
):
    from core.models import Person
    from plugins.training.models import LearnerCategory, TrainingLearner

    set_enabled(evaluation_township, "training", True)
    person = Person(township_id=evaluation_township.id, name=clerk.name)
    db.session.add(person)
    db.session.flush()
    db.session.add(
        TrainingLearner(
            township_id=evaluation_township.id,
            person_id=person.id,
            category=LearnerCategory.township_cadre,
            joined_on=date(2024, 1, 1),
            user_id=clerk.id,
        )
    )
    db.session.commit()
    login(client, leader)
    html = _sheet_html(client, evaluation_township, clerk, 2025)
    cells = page_texts(html, '#sheet-figures tr[data-key="training.compliance"] td')
    assert cells[1:4] == ["0", "12", "No"]  # no study logged: behind every month of 2025


def test_the_sheet_shows_satisfaction_rounds_and_rectifications(
    client, db, evaluation_township, clerk, leader, township_admin, quick_ratings
):
    from datetime import timedelta

    from core import clock

    quick_ratings(evaluation_township, clerk, "satisfied", 3, date(2026, 3, 1))
    quick_ratings(evaluation_township, clerk, "dissatisfied", 1, date(2026, 3, 2))
    round_ = services.open_round(
        evaluation_township, "2026年度考评", 2026, date(2026, 1, 1), date(2026, 12, 31)
    )
    form = services.criteria(round_.id)
    subject = services.subject_of(evaluation_township.id, f"user:{clerk.id}")
    services.save_marks(round_, leader, subject, {c.id: "20" for c in form})
    services.save_marks(round_, township_admin, subject, {c.id: "15" for c in form})
    services.create_rectification(
        evaluation_township,
        services.RectificationInput(
            problem="窗口态度",
            plan="培训",
            owner_id=clerk.id,
            deadline=clock.today(evaluation_township) + timedelta(days=5),
            subject_user_id=clerk.id,
        ),
        leader,
    )
    login(client, leader)
    html = _sheet_html(client, evaluation_township, clerk, 2026)
    assert page_text(html, "#sheet-share") == "75%"
    rounds = page_text(html, "#sheet-rounds")
    assert "80.0 / 100 (1)" in rounds and "60.0 / 100 (1)" in rounds  # leader 80, peer 60
    assert "70.0" in rounds  # 50 % each
    assert "窗口态度" in page_text(html, "#sheet-rectifications")
    printable = client.get(
        f"/admin/evaluation_sheet/print?township={evaluation_township.id}&user={clerk.id}&year=2026"
    ).get_data(as_text=True)
    assert page_text(printable, "#sheet-name") == clerk.name and "@page" in printable


def test_the_export_is_xlsx_with_formulas_neutralised(
    client, db, evaluation_township, create_user, leader, quick_ratings
):
    evil = create_user("evil", "clerk", evaluation_township, name='=HYPERLINK("http://x","y")')
    quick_ratings(evaluation_township, evil, "satisfied", 2, date(2026, 4, 1))
    set_enabled(evaluation_township, "example", True)
    login(client, leader)
    response = client.get(
        f"/admin/evaluation_sheet/export.xlsx?township={evaluation_township.id}&year=2026"
    )
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.data))
    rows = list(book.worksheets[0].iter_rows(values_only=False))
    evil_row = next(r for r in rows if str(r[0].value).startswith("=HYPERLINK"))
    assert evil_row[0].data_type == "s"  # text, not a formula
    assert evil_row[1].value == 2 and evil_row[5].value == 100
    figures = list(book.worksheets[1].iter_rows(values_only=True))
    assert ('=HYPERLINK("http://x","y")', "Example notes", 1, 1, "Yes", None) in figures or any(
        r[0] == '=HYPERLINK("http://x","y")' and r[2] == 1 for r in figures
    )


def test_another_townships_cadre_has_no_sheet_here(
    client, db, evaluation_township, other_township, other_clerk, leader
):
    login(client, leader)
    assert (
        client.get(
            f"/admin/evaluation_sheet/cadre?township={evaluation_township.id}&user={other_clerk.id}&year=2026"
        ).status_code
        == 404
    )
    assert (
        client.get(
            f"/admin/evaluation_sheet/cadre?township={other_township.id}&user={other_clerk.id}&year=2026"
        ).status_code
        == 404
    )
