"""One paginator for the JSON API and the public pages: Flask-SQLAlchemy's ``paginate``.

:func:`paginate` runs two queries per page whatever the page size (the rows, and a
count), and never lets a page number reach the database as an offset it cannot
hold: the API refuses a page above :data:`MAX_PAGE` with a 422 (its schema says
``maximum``), the public pages answer 404, and a page past the last one is empty.
"""

from __future__ import annotations

import re

from flask import abort, request
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import Select

from core.db import db

#: the highest page number anyone may ask for (offsets stay far below 2**63)
MAX_PAGE = 1_000_000
#: the most rows one page may hold
MAX_PER_PAGE = 100

_DIGITS = re.compile(r"[0-9]{1,7}")


def paginate(query: Select, *, page: int, per_page: int) -> Pagination:
    """A page of ``query`` (a ``select`` of a model): ``.items``, ``.total``, ``.pages``,
    ``.has_next`` ... A page past the last one has no items (never an error)."""
    if not 1 <= page <= MAX_PAGE or not 1 <= per_page <= MAX_PER_PAGE:
        raise ValueError(f"page {page} of {per_page} rows is out of range")
    return db.paginate(query, page=page, per_page=per_page, max_per_page=None, error_out=False)


def page_arg(name: str = "page") -> int:
    """The page number a public page asks for: junk reads as page 1 (a visitor's typing),
    a page beyond :data:`MAX_PAGE` answers 404."""
    raw = (request.args.get(name) or "").strip()
    if not _DIGITS.fullmatch(raw):
        if raw.isascii() and raw.isdigit():  # a long number: no such page
            abort(404)
        return 1
    page = int(raw)
    if page > MAX_PAGE:
        abort(404)
    return max(page, 1)


def paginate_or_404(query: Select, *, page: int, per_page: int) -> Pagination:
    """:func:`paginate` for an HTML page: a page past the last one answers 404."""
    pagination = paginate(query, page=page, per_page=per_page)
    if page > 1 and not pagination.items:
        abort(404)
    return pagination
