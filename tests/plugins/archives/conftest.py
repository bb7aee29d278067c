"""Fixtures for the archives institution's tests: an enabled township, its archivist,
records handed over by the core, filed items."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

import pytest


@pytest.fixture
def enabled(db, township):
    """The township with the archives institution enabled (scheme and settings seeded)."""
    from core.institutions import set_enabled

    set_enabled(township, "archives", True)
    return township


@pytest.fixture
def archivist(create_user, enabled):
    return create_user(
        "archivist", "archives_archivist", enabled, name="档案员小陈", email="arch@example.test"
    )


@pytest.fixture
def produce(db, enabled) -> Callable:
    """Hand a record over as an institution would (``core.records.produce``) and commit."""
    from core.contract import ArchivalRecord
    from core.records import produce as core_produce

    counter = iter(range(1, 100000))

    def _produce(title="宅基地审批申请", township=None, **fields):
        n = next(counter)
        record = ArchivalRecord(
            source=fields.pop("source", "releases"),
            reference=fields.pop("reference", f"test:{n}"),
            kind=fields.pop("kind", "release"),
            title=title,
            produced_at=fields.pop("produced_at", datetime.now(UTC)),
            content=fields.pop("content", f"<p>{title}的内容</p>"),
            responsible=fields.pop("responsible", "东镇"),
            **fields,
        )
        core_produce(township or enabled, record)
        db.session.commit()
        return record

    return _produce


@pytest.fixture
def waiting_item(db, produce) -> Callable:
    """A record handed over and waiting in the filing inbox; returns the Item."""
    from sqlalchemy import select

    from plugins.archives.models import Item

    def _make(title="宅基地审批申请", **fields):
        record = produce(title, **fields)
        return db.session.scalar(select(Item).where(Item.reference == record.reference))

    return _make


@pytest.fixture
def filed_item(db, waiting_item, archivist, enabled) -> Callable:
    """A filed item (class YW.releases, 30 years unless said otherwise)."""
    from plugins.archives import services

    def _make(title="宅基地审批申请", **fields):
        item = waiting_item(title, **fields)
        return services.file_items(enabled.id, [item.id], archivist)[0]

    return _make


@pytest.fixture
def paper(db, enabled, archivist) -> Callable:
    """A paper document registered by hand (waiting), dated as given."""
    from plugins.archives import services

    def _make(title="会议纪要", doc_date=None, **fields):
        return services.register_paper(
            enabled.id,
            title=title,
            responsible=fields.pop("responsible", "党政办"),
            doc_date=doc_date or date(2020, 5, 1),
            by=archivist,
            **fields,
        )

    return _make
