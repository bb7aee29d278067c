"""Exports of a month or a year to XLSX and CSV: the figures of :func:`monthly_compliance`."""

from __future__ import annotations

import csv
import io
from typing import Any

from flask_babel import gettext as _

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
    """UTF-8 with a BOM so that spreadsheet programs read the Chinese names."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header())
    for report in reports:
        writer.writerows(month_rows(report))
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(reports: list[MonthlyCompliance]) -> bytes:
    """One worksheet per month."""
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill

    book = Workbook()
    book.remove(book.active)
    red = PatternFill("solid", fgColor="F8D7DA")
    for report in reports:
        sheet = book.create_sheet(f"{report.year:04d}-{report.month:02d}")
        sheet.append(header())
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in month_rows(report):
            sheet.append(row)
            if row[-1]:
                for cell in sheet[sheet.max_row]:
                    cell.fill = red
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
