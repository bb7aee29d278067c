"""The annual sheets of a township's year as an XLSX workbook (openpyxl).

Text typed by people (names, comments, notes) is written as text, never as a formula:
:func:`safe` makes a cell a plain string and sets Excel's quote prefix, so "=HYPERLINK(...)"
shows as typed instead of running.
"""

from __future__ import annotations

import io

from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

from core.app import current_locale
from core.models import OrgUnit
from plugins.evaluation import services

#: first characters spreadsheet programs read as the start of a formula
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe(cell, value) -> None:
    """Put ``value`` into ``cell``; text is always text (formula injection neutralised)."""
    if isinstance(value, str):
        cell.value = value
        cell.data_type = "s"
        if value.startswith(FORMULA_START):
            cell.quotePrefix = True
    else:
        cell.value = value


def _row(sheet, values) -> None:
    sheet.append([None] * len(values))
    for column, value in enumerate(values, 1):
        safe(sheet.cell(row=sheet.max_row, column=column), value)


def township_year_xlsx(township: OrgUnit, year: int) -> bytes:
    """One row per cadre (satisfaction, consequences, round results, rectifications) and a
    second sheet with every figure other institutions offer per person."""
    book = Workbook()
    main = book.active
    main.title = _("Annual sheets")
    header = [
        _("Cadre"),
        _("Ratings"),
        _("Satisfied"),
        _("Basically satisfied"),
        _("Dissatisfied"),
        _("Satisfaction %"),
        _("Consequences"),
        _("Round results"),
        _("Rectifications"),
    ]
    main.append(header)
    for cell in main[1]:
        cell.font = Font(bold=True)
    figures_sheet = book.create_sheet(_("Other institutions"))
    figures_sheet.append([_("Cadre"), _("Figure"), _("Value"), _("Target"), _("Met"), _("Note")])
    for cell in figures_sheet[1]:
        cell.font = Font(bold=True)
    for user in services.township_staff(township.id):
        sheet = services.annual_sheet(township, user, year)
        sat = sheet.satisfaction
        rounds = "; ".join(
            f"{line.round.name}: {line.result.combined if line.result else '–'}/{line.max_total}"
            + (f" {line.grade.grade.label}" if line.grade else "")
            for line in sheet.rounds
        )
        rectifications = "; ".join(
            f"{r.problem[:40]} ({r.status.label})" for r in sheet.rectifications
        )
        _row(
            main,
            [
                user.name,
                sat.total,
                sat.satisfied,
                sat.basically_satisfied,
                sat.dissatisfied,
                sat.share if sat.share is not None else "",
                "; ".join(f"{c.kind.label}: {c.status.label}" for c in sheet.consequences),
                rounds,
                rectifications,
            ],
        )
        for figure in sheet.figures:
            _row(
                figures_sheet,
                [
                    user.name,
                    figure.label_en if current_locale() == "en" else figure.label,
                    "" if figure.value is None else figure.value,
                    "" if figure.target is None else figure.target,
                    "" if figure.met is None else (_("Yes") if figure.met else _("No")),
                    figure.note or "",
                ],
            )
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
