"""Two archivists filing at the same moment on PostgreSQL: reference codes stay unique
and gap-free per township, year, class and retention."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from plugins.archives.models import Item


@pytest.mark.services
def test_two_concurrent_filers_get_unique_gap_free_codes(app, db, enabled, archivist, waiting_item):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("row locks are what this test is about: PostgreSQL only")
    from core.models import User
    from plugins.archives import services

    ids = [waiting_item(f"并发归档 {n}").id for n in range(40)]
    halves = [ids[0::2], ids[1::2]]
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def filer(mine: list[int]) -> None:
        with app.app_context():
            try:
                user = db.session.get(User, archivist.id)
                for item_id in mine:
                    barrier.wait(timeout=30)
                    services.file_items(enabled.id, [item_id], user)
            except BaseException as exc:  # reported by the main thread
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=filer, args=(half,)) for half in halves]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    db.session.expire_all()
    rows = db.session.execute(select(Item.item_no, Item.reference_code)).all()
    numbers = sorted(no for no, _code in rows)
    assert numbers == list(range(1, 41))
    assert len({code for _no, code in rows}) == 40
