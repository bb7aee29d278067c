"""Helpers for the admin's tests: cases, people and notes in a given township."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import dramatiq
import pytest


@pytest.fixture
def make_case(db) -> Callable:
    """Insert a case row directly (no services), e.g. ``make_case(township, due_on=...)``."""
    import itertools

    from core.models import Case, CaseStatus

    counter = itertools.count(1)

    def _make(
        township,
        first_responder,
        *,
        title="查询低保政策",
        status=CaseStatus.accepted,
        due_on=None,
        handler=None,
        kind="service",
        commit=True,
    ):
        n = next(counter)
        case = Case(
            township_id=township.id,
            kind=kind,
            receipt_no=f"{township.code.upper()}-T-{n:06d}",
            title=f"{title} {n}",
            applicant_name="张三",
            first_responder_id=first_responder.id,
            handler_id=handler.id if handler else None,
            status=status,
            received_on=date(2025, 1, 2),
            accepted_on=date(2025, 1, 2) if status != CaseStatus.received else None,
            due_on=due_on,
        )
        db.session.add(case)
        if commit:
            db.session.commit()
        return case

    return _make


@pytest.fixture
def make_person(db) -> Callable:
    from core.models import Person

    def _make(
        township,
        name="李四",
        *,
        id_number="110101199003071234",
        phone="13812345678",
        village=None,
        commit=True,
    ):
        person = Person(
            township_id=township.id,
            name=name,
            id_number=id_number,
            phone=phone,
            village_id=village.id if village else None,
        )
        db.session.add(person)
        if commit:
            db.session.commit()
        return person

    return _make


@pytest.fixture
def enable(db) -> Callable:
    """Enable a plugin for a township directly in the database."""
    from core.models import InstitutionSetting

    def _enable(township, key="example"):
        db.session.add(InstitutionSetting(township_id=township.id, plugin_key=key, enabled=True))
        db.session.commit()

    return _enable


@pytest.fixture
def make_note(db) -> Callable:
    from tests.example_plugin.models import ExampleNote

    def _make(township, title="笔记"):
        note = ExampleNote(township_id=township.id, title=title)
        db.session.add(note)
        db.session.commit()
        return note

    return _make


@pytest.fixture
def build_app(app, tmp_path):
    """Build a second app on a fresh SQLite file; the session app's broker is restored."""
    from core import create_app

    def _build(plugin=None, **config):
        settings = {
            "TESTING": True,
            "SECRET_KEY": "x",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'second.db'}",
            "EMBEDDED_SCHEDULER": False,
            "RATELIMIT_ENABLED": False,
            "EXTRA_PLUGINS": [plugin] if plugin else [],
        }
        settings.update(config)
        return create_app(settings)

    yield _build
    broker = app.extensions["township_broker"]
    dramatiq.set_broker(broker)
    for lazy in app.extensions["township"].actors.values():
        if broker not in lazy._by_broker:
            lazy.bind(broker)
        lazy._actor = lazy._by_broker[broker]


def text(response) -> str:
    return response.get_data(as_text=True)


def field_has_error(response, field: str) -> bool:
    """Whether the form on the page marks ``field`` invalid (in any interface language)."""
    import re

    return re.search(rf'class="[^"]*is-invalid[^"]*"[^>]*id="{field}"', text(response)) is not None
