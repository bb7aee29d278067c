"""Every staff list of every institution, over the demo county: a page of 100 rows runs
the same few SQL queries as a page of 2 rows.

``test_list_queries`` fills the core's and the first two institutions' lists with
rows of their own; this test covers every other list with what the demo county
holds. A formatter that reads a relation the list does not load (a query per row)
makes the bigger page cost more queries: the fix is the view's ``list_also_load``.
"""

from __future__ import annotations

import re

import pytest

MAX_QUERIES = 6


@pytest.fixture
def demo_county(demo_user):
    return demo_user("county")


def _lists(app) -> list[str]:
    from admin.views import TownshipModelView

    admin = app.extensions["admin"][0]
    return sorted(view.endpoint for view in admin._views if isinstance(view, TownshipModelView))


def test_every_list_costs_the_same_queries_for_2_and_100_rows(app, client, db, demo_county):
    from core.db import db as _db
    from core.testing.fixtures import PASSWORD

    client.post("/login", data={"username": "county", "password": PASSWORD})
    costly, measured = [], []

    def cost(url):
        assert client.get(url).status_code == 200, url  # asked for before, as in use
        _db.session.remove()
        from core.testing.fixtures import count_queries

        with count_queries(_db.engine) as statements:
            response = client.get(url)
        assert response.status_code == 200, url
        return statements, response.get_data(as_text=True)

    for endpoint in _lists(app):
        few, _ = cost(f"/admin/{endpoint}/?page_size=2")
        many, page = cost(f"/admin/{endpoint}/?page_size=100")
        rows = len(re.findall(r'name="rowid"|class="list-buttons-column"', page))
        if rows < 3:
            continue  # the demo county has too few rows here to tell
        measured.append(endpoint)
        if len(few) != len(many) or len(many) > MAX_QUERIES:
            listing = "\n    ".join(s.split("\n")[0][:120] for s in many)
            costly.append(f"{endpoint}: {len(few)} → {len(many)} queries\n    {listing}")
    print(f"measured {len(measured)} lists: {', '.join(measured)}")
    assert len(measured) >= 15
    assert costly == [], "\n".join(costly)
