"""Cells that are safe to open in a spreadsheet program.

A cell whose text begins with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage
return before one) is read by Excel and WPS as a formula: a name typed by a citizen
such as ``=HYPERLINK("http://…")`` would run when an officer opens the export
(CSV/formula injection). :func:`safe_cell` prefixes such text with an apostrophe,
which spreadsheet programs show as plain text; numbers stay numbers. Every export
(CSV and XLSX, the core's and the institutions') passes its cells through it.
"""

from __future__ import annotations

from typing import Any

#: first characters a spreadsheet reads as the start of a formula
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """``value`` unchanged unless it is text a spreadsheet would take for a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def safe_row(values) -> list[Any]:
    return [safe_cell(v) for v in values]
