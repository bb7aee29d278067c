"""XLSX exports of the on-time report and the fee report (openpyxl).

Text cells that begin with ``=``, ``+``, ``-`` or ``@`` are written with a leading
apostrophe so that a spreadsheet never runs them as formulas (CSV/formula injection).
"""

from __future__ import annotations

import io
from typing import Any

from flask_babel import gettext as _

from plugins.guide.services import FeeRow, OnTimeReport

FORMULA_STARTS = ("=", "+", "-", "@")
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def safe(value: Any) -> Any:
    """A cell value that a spreadsheet shows as written."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _sheet(book, title: str, header: list[str], rows: list[list[Any]]):
    from openpyxl.styles import Font

    sheet = book.create_sheet(title[:31])
    sheet.append([safe(h) for h in header])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append([safe(v) for v in row])
    return sheet


def on_time_xlsx(report: OnTimeReport) -> bytes:
    from openpyxl import Workbook

    def header(first):
        return [
            _("Period"),
            first,
            _("Finished"),
            _("Finished on time"),
            _("Late"),
            _("On-time rate %"),
        ]

    def rows(items):
        return [
            [
                report.period,
                r.name,
                r.finished,
                r.on_time,
                r.late,
                r.rate if r.rate is not None else "",
            ]
            for r in items
        ]

    book = Workbook()
    book.remove(book.active)
    _sheet(book, _("By matter"), header(_("Matter")), rows(report.matters))
    _sheet(
        book,
        _("By department"),
        header(_("Department")),
        rows([*report.departments, report.total]),
    )
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def fees_xlsx(period: str, rows: list[FeeRow], total) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.active)
    data = [[period, r.name, float(r.standard), r.count, float(r.total)] for r in rows]
    data.append([period, _("Total"), "", sum(r.count for r in rows), float(total)])
    _sheet(
        book,
        _("Fees"),
        [_("Month"), _("Matter"), _("Fee standard (yuan)"), _("Fees charged"), _("Total (yuan)")],
        data,
    )
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
