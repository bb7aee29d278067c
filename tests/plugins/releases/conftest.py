"""Fixtures for the release institution's tests: an enabled township and its staff."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest


@pytest.fixture
def enabled(db, township):
    """The township with the release institution enabled (default plan and categories)."""
    from core.institutions import set_enabled

    set_enabled(township, "releases", True)
    return township


@pytest.fixture
def officer(create_user, enabled):
    return create_user(
        "officer", "releases_officer", enabled, name="信息员小周", email="officer@example.test"
    )


@pytest.fixture
def make_product(db, enabled) -> Callable:
    """A product in the given status (approved ones carry an approval time)."""
    from plugins.releases.models import Product, ProductStatus

    def _make(title="葡萄种植信息", status=ProductStatus.approved, township=None, **kwargs):
        product = Product(
            township_id=(township or enabled).id,
            title=title,
            audience=kwargs.pop("audience", "葡萄种植户"),
            body=kwargs.pop("body", "<p>内容</p>"),
            status=status,
            approved_at=datetime.now(UTC) if status == ProductStatus.approved else None,
            **kwargs,
        )
        db.session.add(product)
        db.session.commit()
        return product

    return _make


@pytest.fixture
def make_batch(db, enabled) -> Callable:
    """A pending batch (as the due sweep creates it) with its publish task recorded."""
    from core.tasks import enqueue
    from plugins.releases.models import ReleaseBatch

    def _make(scheduled_for=None, channels=("web", "blackboard", "leaflet"), send=False):
        batch = ReleaseBatch(
            township_id=enabled.id,
            scheduled_for=scheduled_for or datetime.now(UTC),
            channels=list(channels),
        )
        db.session.add(batch)
        db.session.flush()
        enqueue("releases.publish", f"releases-publish:{batch.id}", send=send, batch_id=batch.id)
        db.session.commit()
        return batch

    return _make
