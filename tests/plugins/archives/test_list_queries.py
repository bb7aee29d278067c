"""The archives' staff lists run the same few SQL queries however many rows or townships
they show (at most 6): loans with what they lend, the classification scheme and the
settings of every township the user works on (seeded only where something is missing)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from types import SimpleNamespace

from sqlalchemy import insert, select

MAX_QUERIES = 6


def _measure(client, db, query_counter, url):
    assert client.get(url).status_code == 200  # asked for before, as in use
    db.session.remove()
    with query_counter() as statements:
        response = client.get(url)
    assert response.status_code == 200
    return statements, response.get_data(as_text=True)


def test_the_loan_list_loads_what_it_lends_with_the_rows(
    client, db, staff, enabled, archivist, clerk, waiting_item, query_counter
):
    from plugins.archives.models import Item, Loan, LoanStatus

    township_id, clerk_id = enabled.id, clerk.id
    items = {n: [waiting_item(f"借阅档案{n}-{i}").id for i in range(n)] for n in (3, 20)}

    def lend(n):
        db.session.execute(
            insert(Loan),
            [
                {
                    "township_id": township_id,
                    "item_id": item_id,
                    "borrower_id": clerk_id,
                    "purpose": "核对",
                    "wanted_until": date(2026, 12, 20),
                    "status": LoanStatus.requested,
                    "requested_at": datetime(2026, 11, 20, tzinfo=UTC),
                }
                for item_id in items[n]
            ],
        )
        db.session.commit()

    staff.login(archivist)
    url = "/admin/archives_loans/?page_size=100"
    lend(3)
    few, page = _measure(client, db, query_counter, url)
    assert len(re.findall(r"借阅档案3-\d", page)) == 3
    lend(20)
    many, page = _measure(client, db, query_counter, url)
    assert len(re.findall(r"借阅档案20-\d+", page)) == 20
    listing = "\n".join(s.split("\n")[0][:100] for s in many)
    assert len(few) == len(many) <= MAX_QUERIES, listing
    assert db.session.scalar(select(Item.id).limit(1)) is not None


def test_the_scheme_and_settings_lists_do_not_grow_with_the_townships(
    client, db, staff, enabled, other_township, create_user, query_counter
):
    from core.institutions import set_enabled
    from plugins.archives.models import ArchiveClass, Settings

    one = create_user("onearch", "archives_archivist", enabled, name="档案员甲")
    both = create_user(
        "botharch",
        roles=[("archives_archivist", enabled), ("archives_archivist", other_township)],
        name="档案员乙",
    )
    set_enabled(other_township, "archives", True)
    db.session.commit()
    counts = {}
    township_ids = {enabled.id, other_township.id}
    for user in [SimpleNamespace(username=u.username) for u in (one, both)]:
        staff.login(user)
        for endpoint in ("archives_classes", "archives_settings"):
            statements, _ = _measure(client, db, query_counter, f"/admin/{endpoint}/")
            counts[(user.username, endpoint)] = len(statements)
            assert len(statements) <= MAX_QUERIES, statements
    assert counts[("onearch", "archives_classes")] == counts[("botharch", "archives_classes")]
    assert counts[("onearch", "archives_settings")] == counts[("botharch", "archives_settings")]
    # both townships have their scheme and settings
    for model in (ArchiveClass, Settings):
        townships = set(db.session.scalars(select(model.township_id).distinct()))
        assert townships == township_ids
