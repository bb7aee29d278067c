"""The zh_CN crawl: visit every admin page a user can reach and report what reads wrong.

``crawl_admin(client)`` starts at ``/admin/`` (signed in, interface in zh_CN), follows
every link to an admin page, and from each list opens the first rows' details and
edit forms and the create form. On every HTML page it reports:

* a value of an enum, a role, a case kind, a permission or a policy shown raw (the
  visible text of an element is such a code, or a list of them, or contains a code
  with an underscore such as ``township_cadre``);
* ``True`` / ``False`` / ``None`` shown as text;
* English words flask-admin and WTForms print when their catalog is not used, and
  a column heading, field label or detail label in plain English (a column name
  flask-admin prettified because no label was given: "Created At");
* in the data a list page hands its filter menu (hidden JSON), a filter name,
  operation or option label that is one of the above;
* a server error.

User names are what a person typed to sign in: one that happens to equal a code
(the demo county administrator ``county``) is allowed where the page shows user
names (``allow`` is a set of such texts).

Each institution's tests run the same crawl over its pages
(``crawl_admin(client, only="/admin/<key>_")``). Findings are strings
``"<url>: <problem>"``; a test asserts the list is empty.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import parse_qsl, urlsplit

#: English that flask-admin and WTForms show when a string escaped translation
ENGLISH = (
    "Failed to create record",
    "Failed to update record",
    "Record was successfully",
    "Save and Add Another",
    "Save and Continue Editing",
    "Are you sure",
    "Add Filter",
    "With selected",
    "This field is required",
    "Not a valid",
    "Invalid input",
    "Field must be",
    "Select an option",
    "Export",
    "Apply",
    "Reset Filters",
    "Search",
    "Cancel",
    "Delete",
    "Details",
    "Create",
    "Edit",
    "Save",
    "List",
    "Home",
    "Created At",
    "Updated At",
    "Township",
    "User",
    "Body",
    "Channels",
    "Withdrawn At",
)

BOOLEAN_WORDS = {"True", "False", "None"}

#: pages never visited (they sign out, switch language or change something on GET)
SKIP = ("/logout", "/lang/", "/action/", "/delete/", "/static/", "/export/", ".xlsx", ".csv")


def raw_codes(app) -> set[str]:
    """Every code a user must never see raw: enum values of every mapped Enum column,
    role codes, case kinds, permissions and policy keys."""
    from sqlalchemy import Enum

    from core.db import db
    from core.plugins import state

    codes: set[str] = set()
    with app.app_context():
        for table in db.metadata.tables.values():
            for column in table.columns:
                if isinstance(column.type, Enum):
                    codes.update(str(v) for v in column.type.enums)
        township = state(app)
        codes.update(township.roles)
        codes.update(township.case_kinds)
        codes.update(township.permissions)
        codes.update(township.policies)
    return {c for c in codes if c and not c.isdigit()}


#: the hidden JSON flask-admin's list page hands to its filter menu
FILTER_DATA_IDS = ("filter-groups-data", "active-filters-data")


def _filter_texts(soup) -> list[str]:
    """The names, operations and option labels the filter menu will show (not the values)."""
    import json

    texts: list[str] = []
    data = soup.find(id="filter-groups-data")
    if data is not None:
        try:
            groups = json.loads(data.get_text())
        except ValueError:
            return [f"unreadable filter data {data.get_text()[:40]!r}"]
        for name, filters in (groups or {}).items():
            texts.append(str(name))
            for item in filters or ():
                texts.append(str(item.get("operation", "")))
                for option in item.get("options") or ():
                    if isinstance(option, (list, tuple)) and len(option) == 2:
                        texts.append(str(option[1]))
    return [" ".join(t.split()) for t in texts if t and t.strip()]


def _user_names(app, codes: set[str]) -> frozenset[str]:
    """Sign-in names that equal a code (a user called ``county``): shown as typed."""
    from sqlalchemy import select

    from core.db import db
    from core.models import User

    with app.app_context():
        names = set(db.session.scalars(select(User.username).where(User.username.in_(codes))))
    return frozenset(names)


def _visible_texts(html: str) -> list[str]:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(["script", "style", "noscript", "template"]):
        tag.decompose()
    texts = _filter_texts(soup)
    for data_id in FILTER_DATA_IDS:
        found = soup.find(id=data_id)
        if found is not None:
            found.decompose()
    for node in soup.find_all(string=True):
        text = " ".join(str(node).split())
        if text:
            texts.append(text)
    for button in soup.select("input[type=submit], input[type=button]"):
        if button.get("value"):
            texts.append(button["value"].strip())
    return texts


def _links(html: str) -> list[str]:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    return [a["href"] for a in soup.select("a[href]")]


#: headings and labels: English there is a column name nobody labelled
_ENGLISH_LABEL = re.compile(r"^[A-Za-z][A-Za-z ]*[A-Za-z]$")
_KNOWN_LATIN = {"ID", "QR", "API", "CSV", "XLSX", "JSON", "SVG", "PDF", "URL", "UTC", "OK"}


def _english_labels(html: str) -> list[str]:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    found = []
    for node in soup.select("th, label, dt, td > b"):
        text = " ".join(node.get_text(" ").split())
        if _ENGLISH_LABEL.match(text) and text not in _KNOWN_LATIN:
            found.append(text)
    return found


def check_page(
    url: str, html: str, codes: set[str], allow: frozenset[str] = frozenset()
) -> list[str]:
    """The problems of one zh_CN page (see the module docstring)."""
    found: list[str] = []
    underscored = {c for c in codes if "_" in c or "." in c}
    for text in _english_labels(html):
        found.append(f"{url}: English label {text!r}")
    for text in _visible_texts(html):
        if text in allow:
            continue
        parts = [p.strip() for p in re.split(r"[,，、;]", text) if p.strip()]
        if parts and all(p in codes for p in parts):
            found.append(f"{url}: raw code {text!r}")
            continue
        for code in underscored:
            if re.search(rf"(?<![\w/.-]){re.escape(code)}(?![\w/-])", text):
                found.append(f"{url}: raw code {code!r} in {text[:80]!r}")
                break
        if text in BOOLEAN_WORDS:
            found.append(f"{url}: {text!r} shown as text")
        for word in ENGLISH:
            if re.search(rf"(?<![A-Za-z]){re.escape(word)}(?![A-Za-z])", text):
                found.append(f"{url}: English {word!r} in {text[:80]!r}")
                break
    return found


def _shape(url: str) -> tuple:
    """Pages of one shape (same path, same query names) are visited a couple of times only."""
    parts = urlsplit(url)
    names = tuple(sorted({k for k, _ in parse_qsl(parts.query)} - {"page", "sort", "desc"}))
    return parts.path, names


def crawl_admin(
    client,
    *,
    start: Iterable[str] = ("/admin/",),
    only: str | None = None,
    per_shape: int = 2,
    limit: int = 600,
    allow: Iterable[str] = (),
) -> tuple[list[str], int]:
    """Crawl the admin as the signed-in user of ``client``; returns (findings, pages seen).

    ``only`` keeps the crawl to URLs starting with it (one institution's views);
    ``allow`` lists texts that may equal a code (user names), see the module docstring.
    """
    codes = raw_codes(client.application)
    allowed = frozenset(allow) | _user_names(client.application, codes)
    client.post("/lang/zh_CN")
    queue = list(start)
    seen: set[str] = set()
    shapes: dict[tuple, int] = {}
    findings: list[str] = []
    pages = 0
    while queue and pages < limit:
        url = queue.pop(0)
        if url in seen or any(s in url for s in SKIP):
            continue
        seen.add(url)
        shape = _shape(url)
        if shapes.get(shape, 0) >= per_shape:
            continue
        shapes[shape] = shapes.get(shape, 0) + 1
        response = client.get(url)
        pages += 1
        if response.status_code >= 500:
            findings.append(f"{url}: server error {response.status_code}")
            continue
        if response.status_code != 200 or "html" not in (response.content_type or ""):
            continue
        html = response.get_data(as_text=True)
        findings.extend(check_page(url, html, codes, allowed))
        for href in _links(html):
            if not href.startswith("/admin/") or href in seen:
                continue
            if only and not href.startswith(only):
                continue
            queue.append(href)
    return findings, pages
