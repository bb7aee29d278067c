"""Helpers for the training plugin's tests: an enabled township, learners, sessions."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import date

import pytest


@pytest.fixture
def training_township(db, township):
    """The test township with the training institution enabled."""
    from core.institutions import set_enabled

    set_enabled(township, "training", True)
    return township


@pytest.fixture
def make_learner(db) -> Callable:
    """A person of the township register put on the training roster."""
    from core.models import Person
    from plugins.training.models import Education, LearnerCategory, TrainingLearner

    counter = itertools.count(1)

    def _make(
        township,
        name: str | None = None,
        *,
        category: str = "village_cadre",
        village=None,
        education: str = "junior_middle",
        joined_on: date = date(2020, 1, 1),
        user=None,
        id_number: str | None = None,
        commit: bool = True,
    ):
        n = next(counter)
        person = Person(
            township_id=township.id,
            name=name or f"学员{n:03d}",
            id_number=id_number or f"1501021990{n:08d}",
            village_id=village.id if village else None,
        )
        db.session.add(person)
        db.session.flush()
        learner = TrainingLearner(
            township_id=township.id,
            person_id=person.id,
            category=LearnerCategory(category),
            village_id=village.id if village else None,
            education=Education(education),
            joined_on=joined_on,
            user_id=user.id if user else None,
        )
        db.session.add(learner)
        if commit:
            db.session.commit()
        return learner

    return _make


@pytest.fixture
def make_session(db) -> Callable:
    from plugins.training.models import TrainingSession

    def _make(township, held_on: date, *, organiser=None, half_days: int = 2, topic="理论学习"):
        session = TrainingSession(
            township_id=township.id,
            organiser_id=(organiser or township).id,
            held_on=held_on,
            half_days=half_days,
            topic=topic,
        )
        db.session.add(session)
        db.session.commit()
        return session

    return _make


@pytest.fixture
def officer(create_user, training_township):
    return create_user("trainer", "training_officer", training_township, name="培训专干")


def text(response) -> str:
    return response.get_data(as_text=True)
