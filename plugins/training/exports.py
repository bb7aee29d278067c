"""Exports of a month or a year to XLSX and CSV: the figures of :func:`monthly_compliance`."""

from __future__ import annotations

import csv
import io
from typing import Any

from flask_babel import gettext as _

from core.spreadsheets import safe_row
from plugins.training.services import MonthlyCompliance, monthly_compliance


def category_label(code: str) -> str:
    from plugins.training.models import LearnerCategory

    return LearnerCategory(code).label if code in LearnerCategory.__members__ else code


def measure_label(code: str) -> str:
    return {
        "hours": _("self-study class hours"),
        "participation": _("participation %"),
        "techniques": _("practical techniques"),
        "notes": _("note characters"),
        "study_days": _("concentrated study days"),
    }.get(code, code)


def header() -> list[str]:
    return [
        _("Month"),
        _("Name"),
        _("Category"),
        _("Village"),
        _("Class hours"),
        _("Required class hours"),
        _("Note characters"),
        _("Required note characters"),
        _("Present"),
        _("Absent"),
        _("Excused"),
        _("Participation %"),
        _("Techniques"),
        _("Behind"),
    ]


def shortfall_text(shortfalls, not_set) -> str:
    parts = [f"{measure_label(s.measure)} -{s.missing:g}" for s in shortfalls]
    parts += [_("notes threshold not set") for _key in not_set]
    return "; ".join(parts)


def month_rows(report: MonthlyCompliance) -> list[list[Any]]:
    """One row per learner, plus one per village and one for the township."""
    month = f"{report.year:04d}-{report.month:02d}"
    rows: list[list[Any]] = []
    for r in report.learners:
        rows.append(
            [
                month,
                r.name,
                category_label(r.category),
                r.village_name,
                r.hours,
                r.required_hours,
                r.note_chars,
                r.required_note_chars if r.required_note_chars is not None else "",
                r.present,
                r.absent,
                r.excused,
                r.participation if r.participation is not None else "",
                r.techniques,
                shortfall_text(r.shortfalls, r.not_set),
            ]
        )
    for unit in [*report.villages, report.township]:
        rows.append(
            [
                month,
                unit.name,
                _("Village") if unit is not report.township else _("Township"),
                _(
                    "%(d)s of %(r)s study days",
                    d=f"{unit.study_days:g}",
                    r=f"{unit.required_days:g}",
                ),
                unit.average_hours,
                "",
                "",
                "",
                "",
                "",
                "",
                unit.compliant_pct if unit.compliant_pct is not None else "",
                "",
                shortfall_text(unit.shortfalls, []),
            ]
        )
    return rows


def reports_for(township_id: int, year: int, month: int | None) -> list[MonthlyCompliance]:
    """The month, or every month of the year (up to ``month`` when given for the year)."""
    months = [month] if month else range(1, 13)
    return [monthly_compliance(township_id, year, m) for m in months]


def to_csv(reports: list[MonthlyCompliance]) -> bytes:
    """UTF-8 with a BOM so that spreadsheet programs read the Chinese names; no cell is
    read as a formula (core.spreadsheets)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(safe_row(header()))
    for report in reports:
        writer.writerows(safe_row(row) for row in month_rows(report))
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def village_header() -> list[str]:
    return [
        _("Month"),
        _("Village"),
        _("Study days"),
        _("Required study days"),
        _("Average class hours"),
        _("Learners meeting every rule %"),
        _("Behind"),
    ]


def village_rows(reports: list[MonthlyCompliance]) -> list[list[Any]]:
    """Per month, one row per village and one for the township (the summary sheet)."""
    rows = []
    for report in reports:
        month = f"{report.year:04d}-{report.month:02d}"
        for unit in [*report.villages, report.township]:
            rows.append(
                [
                    month,
                    unit.name,
                    unit.study_days,
                    unit.required_days,
                    unit.average_hours,
                    unit.compliant_pct if unit.compliant_pct is not None else "",
                    shortfall_text(unit.shortfalls, []),
                ]
            )
    return rows


def _fit_columns(sheet) -> None:
    """Each column as wide as its longest text (a CJK character counts twice), header frozen."""
    from openpyxl.utils import get_column_letter

    widths: dict[int, int] = {}
    for row in sheet.iter_rows():
        for cell in row:
            text = "" if cell.value is None else str(cell.value)
            width = sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)
            widths[cell.column] = max(widths.get(cell.column, 0), width)
    for column, width in widths.items():
        sheet.column_dimensions[get_column_letter(column)].width = min(max(width + 2, 8), 60)
    sheet.freeze_panes = "A2"


def to_xlsx(reports: list[MonthlyCompliance]) -> bytes:
    """A summary sheet of the villages, then one worksheet per month: bold frozen header,
    columns as wide as their text, rows behind in red, no cell read as a formula."""
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill

    book = Workbook()
    book.remove(book.active)
    red = PatternFill("solid", fgColor="F8D7DA")
    summary = book.create_sheet(_("Villages"))
    summary.append(safe_row(village_header()))
    for row in village_rows(reports):
        summary.append(safe_row(row))
        if row[-1]:
            for cell in summary[summary.max_row]:
                cell.fill = red
    for report in reports:
        sheet = book.create_sheet(f"{report.year:04d}-{report.month:02d}")
        sheet.append(safe_row(header()))
        for row in month_rows(report):
            sheet.append(safe_row(row))
            if row[-1]:
                for cell in sheet[sheet.max_row]:
                    cell.fill = red
    for sheet in book.worksheets:
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        _fit_columns(sheet)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
